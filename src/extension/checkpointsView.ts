import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { type Checkpoint, checkpointName, type CheckpointLayer, type CheckpointTensor, readCheckpoint, runCheckpointFiles, runCheckpointRole, type WeightStats, weightStats } from '../core/checkpoints/checkpoint';
import { diffCheckpoints, formatCheckpointDiff, type ParameterChange } from '../core/checkpoints/checkpointDiff';
import type { RunInfo } from '../core/training/trainingRun';
import { Disposable } from './disposable';
import { TextViews } from './textViews';

export type CheckpointNode =
  | { type: 'file'; path: string; description: string }
  | { type: 'layer'; path: string; layer: CheckpointLayer }
  | { type: 'parameter'; parameter: CheckpointTensor }
  | { type: 'problem'; message: string };


/** The checkpoint a command was given: a path, or the Checkpoints view's row it was run on. */
export function checkpointPath(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const node = value as Partial<CheckpointNode> | undefined;
  return node?.type === 'file' && typeof node.path === 'string' ? node.path : undefined;
}

const number = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4).replace(/\.?0+$/, '') : v.toExponential(2));

/**
 * The sidebar's Checkpoints: each run's best and last checkpoints and the workspace's own .pt, .pth
 * and TF.js model.json files; a checkpoint opens into its layers, a layer into its parameters with
 * their shapes and statistics. Read by the core's reader: no Python, nothing run, trust not needed.
 */
export class CheckpointsView extends Disposable implements vscode.TreeDataProvider<CheckpointNode> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly cache = new Map<string, { mtimeMs: number; checkpoint: Checkpoint }>();
  /** A parameter's statistics, computed once per read of its checkpoint (the tree asks for its rows again on every refresh). */
  private readonly stats = new WeakMap<CheckpointTensor, WeightStats | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private readonly comparisons = this._register(new TextViews('cnnlab-checkpoints'));

  constructor(private readonly runs: () => RunInfo[]) {
    super();
    this._register(vscode.window.registerTreeDataProvider('cnnLab.checkpoints', this));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/{*.pt,*.pth,model.json}'));
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) this._register(event(() => this.refresh()));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), 300);
  }

  /** A checkpoint read once per version of its file. */
  read(path: string): Checkpoint {
    const { mtimeMs } = statSync(path);
    const cached = this.cache.get(path);
    if (cached?.mtimeMs === mtimeMs) return cached.checkpoint;
    const checkpoint = readCheckpoint(path);
    this.cache.set(path, { mtimeMs, checkpoint });
    return checkpoint;
  }

  /**
   * Compare With… on a checkpoint: what changed between it and another of the view's checkpoints
   * (picked), each parameter's ‖B − A‖, relative change and cosine similarity, beside the editor.
   */
  async compare(first?: string, second?: string): Promise<ParameterChange[] | undefined> {
    const a = first ?? (await this.pick('Compare which checkpoint?'));
    const b = a && (second ?? (await this.pick(`Compare ${checkpointName(a)} with which checkpoint?`, a)));
    if (!a || !b) return undefined;
    let changes: ParameterChange[];
    try {
      changes = diffCheckpoints(this.read(a), this.read(b));
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab: ${(error as Error).message}`);
      return undefined;
    }
    await this.comparisons.show(`/${basename(a)} vs ${basename(b)}`, `${a}|${b}`, `${formatCheckpointDiff(changes, vscode.workspace.asRelativePath(a), vscode.workspace.asRelativePath(b))}\n`);
    return changes;
  }

  /** One of the checkpoints the view lists (each run's, then the workspace's own) but `except`, picked by the user. */
  async pick(title: string, except?: string): Promise<string | undefined> {
    const files = (await this.files()).flatMap((node) => (node.type === 'file' && node.path !== except ? [node] : []));
    const picked = await vscode.window.showQuickPick(files.map((f) => ({ label: checkpointName(f.path), description: f.description, path: f.path })), { title, matchOnDescription: true });
    return picked?.path;
  }

  async getChildren(node?: CheckpointNode): Promise<CheckpointNode[]> {
    if (!node) return this.files();
    if (node.type === 'file') {
      try {
        const checkpoint = this.read(node.path);
        return checkpoint.layers.map((layer) => ({ type: 'layer', path: node.path, layer }));
      } catch (error) {
        return [{ type: 'problem', message: (error as Error).message }];
      }
    }
    if (node.type === 'layer') return node.layer.parameters.map((parameter) => ({ type: 'parameter', parameter }));
    return [];
  }

  private async files(): Promise<CheckpointNode[]> {
    const runs = this.runs();
    const fromRuns = runs.flatMap((run) =>
      runCheckpointFiles.filter((name) => existsSync(join(run.runDir, name))).map((name): CheckpointNode => {
        const path = join(run.runDir, name);
        const role = runCheckpointRole(path);
        return { type: 'file', path, description: `${role ? `${role} · ` : ''}${run.className} on ${run.dataset} · ${basename(run.runDir)}` };
      }),
    );
    const seen = new Set(fromRuns.map((node) => (node.type === 'file' ? node.path : '')));
    const runDirs = runs.map((run) => run.runDir);
    const found = await vscode.workspace.findFiles('**/{*.pt,*.pth,model.json}', '**/{node_modules,.git}/**', 500);
    const loose = found
      .map((uri) => uri.fsPath)
      .filter((path) => !seen.has(path) && !runDirs.some((dir) => path.startsWith(dir)))
      .sort()
      .map((path): CheckpointNode => ({ type: 'file', path, description: vscode.workspace.asRelativePath(path) }));
    return [...fromRuns, ...loose];
  }

  getTreeItem(node: CheckpointNode): vscode.TreeItem {
    switch (node.type) {
      case 'file': {
        const name = checkpointName(node.path);
        const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = node.description;
        item.tooltip = node.path;
        item.resourceUri = vscode.Uri.file(node.path);
        item.iconPath = new vscode.ThemeIcon(name.startsWith('best') ? 'star-full' : 'save');
        item.contextValue = 'checkpoint';
        return item;
      }
      case 'layer': {
        const { layer } = node;
        const count = layer.parameters.reduce((sum, p) => sum + p.count, 0);
        const item = new vscode.TreeItem(layer.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${layer.kind} · ${count.toLocaleString('en-US')} parameters`;
        item.iconPath = new vscode.ThemeIcon(layer.kind === 'Conv2d' ? 'symbol-array' : layer.kind === 'Linear' ? 'symbol-numeric' : 'symbol-field');
        item.contextValue = layer.kind === 'Conv2d' ? 'checkpointLayer.conv' : 'checkpointLayer';
        if (layer.kind === 'Conv2d') item.command = { title: 'Inspect Layer', command: 'cnnLab.inspectLayer', arguments: [node.path, layer.name] };
        return item;
      }
      case 'parameter': {
        const { parameter } = node;
        const item = new vscode.TreeItem(`${parameter.name.split(/[./]/).pop() ?? parameter.name} ${parameter.shape.join('×') || 'scalar'}`);
        if (!this.stats.has(parameter)) this.stats.set(parameter, parameter.count ? weightStats(parameter.values()) : undefined);
        const stats = this.stats.get(parameter);
        item.description = stats ? `mean ${number(stats.mean)} · std ${number(stats.std)} · min ${number(stats.min)} · max ${number(stats.max)}` : '';
        item.tooltip = `${parameter.name}: ${parameter.dtype}, ${parameter.count.toLocaleString('en-US')} values`;
        item.iconPath = new vscode.ThemeIcon('symbol-variable');
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.message);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.tooltip = node.message;
        return item;
      }
    }
  }
}
