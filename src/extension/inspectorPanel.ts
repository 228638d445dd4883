import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { type Checkpoint, CheckpointError } from '../core/checkpoints/checkpoint';
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
    private readonly environment: PythonEnvironmentService,
    private readonly trainerDir: string,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(InspectorPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const [checkpoint, layer] = [stateField(state, 'checkpoint'), stateField(state, 'layer')];
          if (typeof checkpoint === 'string' && typeof layer === 'string' && existsSync(checkpoint)) this.attach(panel).show({ checkpoint, layer });
          else panel.dispose();
        },
      }),
    );
    this._register({ dispose: () => this.current?.panel.dispose() });
    // Trusting the workspace lifts the problem: the open layer is sent again with its buttons on.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.current?.refresh()));
  }

  show(checkpoint: string, layer: string): void {
    if (!this.current) this.attach(vscode.window.createWebviewPanel(InspectorPanel.viewType, 'Layer Inspector', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
    this.current?.panel.reveal();
    this.current?.show({ checkpoint, layer });
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

  private layerView({ checkpoint: path, layer: name }: Target): InspectorToWebview {
    const checkpoint = this.readCheckpoint(path);
    const runDir = runFolderOf(path);
    const layer = checkpoint.layers.find((l) => l.name === name);
    const weight = layer?.parameters.find((p) => p.shape.length === 4);
    if (!layer || !weight) throw new CheckpointError(`${basename(path)} has no conv layer ${name}`);
    let values = weight.values();
    let shape = weight.shape;
    if (checkpoint.kernelLayout === 'hwio') {
      // TF.js keeps kernels as height × width × in × out; the view takes PyTorch's out × in × height × width.
      const [kh = 0, kw = 0, cin = 0, cout = 0] = shape;
      const oihw = new Float64Array(values.length);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o] ?? 0;
      values = oihw;
      shape = [cout, cin, kh, kw];
    }
    return {
      type: 'layer',
      checkpoint: path,
      format: checkpoint.format,
      layer: name,
      notes: checkpoint.notes,
      shape,
      weights: Buffer.from(Float32Array.from(values).buffer).toString('base64'),
      activationsProblem: this.activationsProblem(runDir),
      trustNeeded: runDir !== null && !vscode.workspace.isTrusted,
      runDir,
    };
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
