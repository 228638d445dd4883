import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { type Checkpoint, CheckpointError, checkpointName, runCheckpointFiles, runCheckpointRole } from '../core/checkpoints/checkpoint';
import { changeBetween } from '../core/checkpoints/weightChange';
import { RunModel } from '../core/dashboard/runModel';
import { describeExit, JsonLinesProcess } from '../core/process/jsonLinesProcess';
import { type ActivationsAnswer, activationsAnswer, type ActivationsRequest, type InspectorToHost, inspectorToHost, type InspectorToWebview } from '../core/protocol/inspector';
import { readRunConfig } from '../core/training/settings';
import { activationsCommand } from '../core/training/trainingRun';
import { Disposable } from './disposable';
import type { Log } from './log';
import { pickImage } from './pickImage';
import type { PythonEnvironmentService } from './pythonEnvironmentService';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, stateField, webviewOptions } from './webviewHtml';

/** A helper that has not finished in this time is stopped: top patches over a large sample on a CPU take a while. */
const activationsTimeoutMs = 600_000;

interface Target {
  checkpoint: string;
  layer: string;
  /** The checkpoint compared with, when one is. */
  baseline?: string;
}

interface Shown {
  panel: vscode.WebviewPanel;
  show(target: Target): void;
  refresh(): void;
}

/** The run folder a checkpoint belongs to: best.pt's folder, or best/model.json's parent's. */
function runFolderOf(checkpoint: string): string | null {
  const candidates = [dirname(checkpoint), dirname(dirname(checkpoint))];
  return candidates.find((dir) => existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'run.json'))) ?? null;
}

/** A checkpoint's name, with what it holds when it is a run's: init.pt (before training). */
function checkpointLabel(path: string): string {
  const name = checkpointName(path);
  const role = runCheckpointRole(path);
  return role ? `${name} (${role})` : name;
}

/** A conv layer's kernels in PyTorch's out × in × height × width, whatever the checkpoint's layout. */
function convKernels(checkpoint: Checkpoint, name: string): { shape: number[]; values: Float64Array } | undefined {
  const weight = checkpoint.layers.find((l) => l.name === name)?.parameters.find((p) => p.shape.length === 4);
  if (!weight) return undefined;
  const values = weight.values();
  if (checkpoint.kernelLayout === 'oihw') return { shape: weight.shape, values: Float64Array.from(values) };
  // TF.js keeps kernels as height × width × in × out.
  const [kh = 0, kw = 0, cin = 0, cout = 0] = weight.shape;
  const oihw = new Float64Array(values.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o] ?? 0;
  return { shape: [cout, cin, kh, kw], values: oihw };
}

const base64Floats = (values: Float64Array) => Buffer.from(Float32Array.from(values).buffer).toString('base64');

/**
 * The layer inspector: a conv layer's filters as tiles, and its feature maps for an input image
 * (conv, then ReLU, then the pooling after it), computed by the torch engine with the trained weights.
 */
export class InspectorPanel extends Disposable {
  static readonly viewType = 'cnnLab.inspector';
  private current: Shown | undefined;
  private readonly activationsShown = this._register(new vscode.EventEmitter<void>());
  /** Fires when feature maps have been shown. */
  readonly onDidShowActivations = this.activationsShown.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly readCheckpoint: (path: string) => Checkpoint,
    /** One of the workspace's checkpoints but `except`, picked by the user (the Checkpoints view's list). */
    private readonly pickCheckpoint: (title: string, except: string) => Promise<string | undefined>,
    private readonly environment: PythonEnvironmentService,
    private readonly trainerDir: string,
    private readonly log: Log,
    /** Why the model as its file is now cannot load the checkpoint, from the static check (its report shown beside); undefined when it can or the analysis cannot tell. */
    private readonly loadRefusal: (modelFile: string, className: string, checkpoint: string) => Promise<string | undefined> = async () => undefined,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(InspectorPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const [checkpoint, layer, baseline] = [stateField(state, 'checkpoint'), stateField(state, 'layer'), stateField(state, 'baseline')];
          if (typeof checkpoint === 'string' && typeof layer === 'string' && existsSync(checkpoint)) this.attach(panel).show({ checkpoint, layer, ...(typeof baseline === 'string' && existsSync(baseline) ? { baseline } : {}) });
          else panel.dispose();
        },
      }),
    );
    this._register({ dispose: () => this.current?.panel.dispose() });
    // Trusting the workspace lifts the problem: the open layer is sent again with its buttons on.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.current?.refresh()));
  }

  /** Shows a conv layer of `checkpoint`, compared with the same layer of `baseline` when one is given. */
  show(checkpoint: string, layer: string, baseline?: string): void {
    if (!this.current) this.attach(vscode.window.createWebviewPanel(InspectorPanel.viewType, 'Layer Inspector', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
    this.current?.panel.reveal();
    this.current?.show({ checkpoint, layer, ...(baseline ? { baseline } : {}) });
  }

  private attach(panel: vscode.WebviewPanel): Shown {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'inspector', 'Layer Inspector');
    let target: Target | undefined;
    let loads = 0;
    let running: JsonLinesProcess<ActivationsAnswer, ActivationsRequest> | undefined;
    const channel: WebviewChannel<InspectorToHost, InspectorToWebview> = new WebviewChannel(
      panel.webview,
      'inspector',
      inspectorToHost,
      async (message) => {
        // A page shown again after being hidden starts afresh: it gets the layer again.
        if (message.type === 'ready' && loads++ > 0 && target) current.show(target);
        const runDir = target && runFolderOf(target.checkpoint);
        if (message.type === 'showDashboard' && runDir) await vscode.commands.executeCommand('cnnLab.showDashboard', runDir);
        if (message.type === 'manageTrust') await vscode.commands.executeCommand('workbench.trust.manage');
        if (message.type === 'compareWith' && target) {
          // Only a checkpoint the page was offered: a page never names a file the host did not. Refused, the page gets the view it had.
          const offered = message.checkpoint === null || this.comparable(target.checkpoint).includes(message.checkpoint);
          if (!offered) this.log.warn(`inspector: refused to compare with ${message.checkpoint}, which it did not offer`);
          const { checkpoint, layer } = target;
          current.show(offered ? { checkpoint, layer, ...(message.checkpoint ? { baseline: message.checkpoint } : {}) } : target);
        }
        if (message.type === 'pickComparison' && target) {
          const shown = target;
          const picked = await this.pickCheckpoint(`Compare ${shown.layer} of ${checkpointLabel(shown.checkpoint)} with which checkpoint?`, shown.checkpoint);
          // Picked or not, the page is told where things stand (its menu shows the choice again).
          current.show(picked ? { ...shown, baseline: picked } : shown);
        }
        if ((message.type === 'featureMaps' || message.type === 'topPatches') && target && !running) {
          try {
            await this.activations(target, message, channel, (process) => (running = process));
          } catch (error) {
            channel.post({ type: 'problem', message: (error as Error).message });
          } finally {
            running = undefined;
          }
        }
      },
      this.log,
    );
    const current: Shown = {
      panel,
      show: (next: Target) => {
        target = next;
        panel.title = `Layer · ${next.layer}`;
        try {
          channel.post(this.layerView(next));
        } catch (error) {
          channel.post({ type: 'problem', message: (error as Error).message });
        }
      },
      refresh: () => target && current.show(target),
    };
    panel.onDidDispose(() => {
      channel.dispose();
      void running?.stop();
      if (this.current === current) this.current = undefined;
    });
    this.current = current;
    return current;
  }

  /** The run's other checkpoints, to compare with. */
  private comparable(path: string): string[] {
    const runDir = runFolderOf(path);
    return runDir ? runCheckpointFiles.map((name) => join(runDir, name)).filter((p) => p !== path && existsSync(p)) : [];
  }

  private layerView({ checkpoint: path, layer: name, baseline }: Target): InspectorToWebview {
    const checkpoint = this.readCheckpoint(path);
    const runDir = runFolderOf(path);
    const kernels = convKernels(checkpoint, name);
    if (!kernels) throw new CheckpointError(`${basename(path)} has no conv layer ${name}`);
    return {
      type: 'layer',
      checkpoint: path,
      format: checkpoint.format,
      layer: name,
      notes: checkpoint.notes,
      shape: kernels.shape,
      weights: base64Floats(kernels.values),
      activationsProblem: this.activationsProblem(runDir),
      trustNeeded: runDir !== null && !vscode.workspace.isTrusted,
      runDir,
      comparable: this.comparable(path).map((p) => ({ path: p, label: checkpointLabel(p) })),
      ...(baseline ? this.comparison(baseline, name, kernels) : { comparison: null, comparisonProblem: null }),
    };
  }

  /** The same layer of `baseline` beside `kernels`, or why it cannot be compared tile by tile (said, not thrown: the layer still shows). */
  private comparison(baseline: string, name: string, kernels: { shape: number[]; values: Float64Array }): Pick<Extract<InspectorToWebview, { type: 'layer' }>, 'comparison' | 'comparisonProblem'> {
    const label = checkpointLabel(baseline);
    let other: { shape: number[]; values: Float64Array } | undefined;
    try {
      other = convKernels(this.readCheckpoint(baseline), name);
    } catch (error) {
      return { comparison: null, comparisonProblem: `${label} could not be read: ${(error as Error).message}` };
    }
    if (!other) return { comparison: null, comparisonProblem: `${label} has no conv layer ${name}: nothing to compare it with.` };
    if (other.shape.join('×') !== kernels.shape.join('×')) {
      return { comparison: null, comparisonProblem: `${name}'s filters are ${other.shape.join('×')} in ${label} and ${kernels.shape.join('×')} here: a different architecture, so no tile-by-tile comparison (CNN Lab: Compare Checkpoints… lists every parameter's shapes).` };
    }
    return { comparison: { checkpoint: baseline, label, weights: base64Floats(other.values), change: changeBetween(other.values, kernels.values) }, comparisonProblem: null };
  }

  /** Why feature maps cannot be shown for a checkpoint in `runDir` (null: in no run folder), or null when they can. */
  private activationsProblem(runDir: string | null): string | null {
    if (!runDir) return 'Feature maps need the model\'s code and data: this checkpoint is not in a CNN Lab run folder. Train the model with CNN Lab: Train Model… to inspect its runs.';
    if (!vscode.workspace.isTrusted) return 'Feature maps run your model\'s code: trust this workspace to see them.';
    return null;
  }

  /** Answers a page's request for activations through activations.py, with the run's model, data and normalization. */
  private async activations(target: Target, message: Extract<InspectorToHost, { type: 'featureMaps' | 'topPatches' }>, channel: WebviewChannel<InspectorToHost, InspectorToWebview>, started: (process: JsonLinesProcess<ActivationsAnswer, ActivationsRequest>) => void): Promise<void> {
    const runDir = runFolderOf(target.checkpoint);
    if (!runDir || !vscode.workspace.isTrusted) return;
    const config = readRunConfig(runDir);
    // A model edited since the run would fail in load_state_dict: said before Python starts, key by key.
    const refusal = await this.loadRefusal(config.modelFile, config.className, target.checkpoint);
    if (refusal) throw new Error(refusal);
    const dataset = RunModel.fromFolder(runDir).datasetEvent;
    if (!dataset) throw new Error('This run never reported its dataset (it failed before training): there is no normalization to feed the model with.');
    const { found, interpreter } = await this.environment.current();
    const helper = activationsCommand({ python: found?.torch ? interpreter : null, trainerDir: this.trainerDir }, target.checkpoint);
    const common = { config, checkpoint: target.checkpoint, layer: target.layer, mean: dataset.mean, std: dataset.std };
    let request: ActivationsRequest;
    if (message.type === 'topPatches') {
      request = { ...common, kind: 'topPatches', sample: message.sample };
      channel.post({ type: 'busy', message: `Finding each filter's strongest patches in ${Math.min(message.sample, dataset.test).toLocaleString('en-US')} test images…` });
    } else {
      const path = message.from === 'workspace' ? ((await pickImage('Feature maps of which image? (resized to the model\'s input)')) ?? null) : null;
      if (message.from === 'workspace' && !path) return channel.post({ type: 'busy', message: '' });
      request = { ...common, kind: 'featureMaps', image: { path, index: null } };
      channel.post({ type: 'busy', message: `Running ${config.className} on ${path ? basename(path) : `a test image of ${config.dataset}`}…` });
    }
    const answer = await new Promise<ActivationsAnswer>((resolve, reject) => {
      let result: ActivationsAnswer | undefined;
      const errors: string[] = [];
      const process = new JsonLinesProcess<ActivationsAnswer, ActivationsRequest>({
        ...helper,
        cwd: dirname(config.modelFile),
        schema: activationsAnswer,
        onMessage: (line) => {
          if (line.type === 'progress') channel.post(line);
          else result = line;
        },
        onProtocolError: (line, problem) => this.log.warn(`activations helper: ${problem}: ${line}`),
        onStderr: (line) => {
          errors.push(line);
          this.log.info(`activations: ${line}`);
        },
      });
      started(process);
      const timer = setTimeout(() => void process.stop(), activationsTimeoutMs);
      process.send(request);
      void process.exited.then((reason) => {
        clearTimeout(timer);
        if (result && result.type !== 'error') resolve(result);
        else reject(new Error(result?.type === 'error' ? result.message : `The activations helper ${describeExit(reason)}${errors.length ? `: ${errors.slice(-3).join(' ')}` : ''}.`));
      });
    });
    if (answer.type === 'activations') {
      channel.post({ ...answer, type: 'featureMaps' });
      this.activationsShown.fire();
    }
    else if (answer.type === 'topPatches') channel.post(answer);
  }

}
