import { rmSync } from 'node:fs';
import * as vscode from 'vscode';
import type { RunInfo } from '../core/training/trainingRun';
import { Disposable } from './disposable';

const statusIcons: Record<RunInfo['status'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
};

/** A run folder's path from a command's argument: the Runs view passes its item, others the path. */
export function runDirOf(argument: unknown): string | undefined {
  if (typeof argument === 'string') return argument;
  if (typeof argument === 'object' && argument !== null && typeof (argument as { runDir?: unknown }).runDir === 'string') return (argument as RunInfo).runDir;
  return undefined;
}

/** The sidebar's Runs: every run of the workspace, newest first, kept up to date as runs write their run.json. */
export class RunsView extends Disposable implements vscode.TreeDataProvider<RunInfo> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly runs: () => RunInfo[]) {
    super();
    this._register(vscode.window.registerTreeDataProvider('cnnLab.runs', this));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/run.json'));
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) this._register(event(() => this.refresh()));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  /** Redraws soon: a run writes run.json several times in a row. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), 200);
  }

  getChildren(): RunInfo[] {
    return this.runs();
  }

  getTreeItem(run: RunInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(`${run.className} on ${run.dataset}`);
    const accuracy = run.testAccuracy === null ? '' : ` · ${(100 * run.testAccuracy).toFixed(2)} %`;
    const started = run.startedAt === null ? '' : ` · ${new Date(run.startedAt * 1000).toLocaleString()}`;
    item.description = `${run.status}${accuracy}${started}`;
    item.iconPath = statusIcons[run.status];
    item.tooltip = new vscode.MarkdownString(`**${run.className}** on ${run.dataset}: ${run.status}${accuracy}\n\n${run.runDir}`);
    item.resourceUri = vscode.Uri.file(run.runDir);
    item.contextValue = `run.${run.status}${run.resumable ? '.resumable' : ''}`;
    item.command = { title: 'Show Training Dashboard', command: 'cnnLab.showDashboard', arguments: [run.runDir] };
    return item;
  }

  /** Deletes a run's folder after the user says so; a running run is stopped first by the user, not here. */
  async delete(runDir: string): Promise<void> {
    const run = this.runs().find((r) => r.runDir === runDir);
    if (run?.status === 'running') {
      void vscode.window.showWarningMessage('CNN Lab: this run is training. Stop it before deleting it.');
      return;
    }
    const choice = await vscode.window.showWarningMessage(`Delete the run folder ${vscode.workspace.asRelativePath(runDir)} with its checkpoints and metrics?`, { modal: true }, 'Delete');
    if (choice !== 'Delete') return;
    rmSync(runDir, { recursive: true, force: true });
    this.refresh();
  }
}
