import * as vscode from 'vscode';
import type { ModelReport } from '../../core/analysis/report';
import { type TrainerEvent, type TrainingConfig, trainingDefaults } from '../../core/protocol/trainer';
import { type RunResult, TrainingRun } from '../../core/training/trainingRun';
import { Disposable } from '../disposable';
import type { Log } from '../log';
import type { PythonEnvironmentService } from '../pythonEnvironmentService';

type Choices = Pick<TrainingConfig, 'dataset' | 'epochs'> & Partial<TrainingConfig>;

const datasets: (vscode.QuickPickItem & { id: TrainingConfig['dataset'] })[] = [
  { id: 'synthetic', label: 'Synthetic strokes', description: '28×28 grey, 10 classes', detail: 'Made on the spot: works offline, learns in a minute' },
  { id: 'mnist', label: 'MNIST', description: '28×28 grey digits', detail: 'Original IDX files in the data folder (cnnLab.dataDirectory)/mnist' },
  { id: 'fashion-mnist', label: 'Fashion-MNIST', description: '28×28 grey clothes', detail: 'Original IDX files in the data folder/fashion-mnist, or /usr/share/datasets/fashion-mnist' },
  { id: 'cifar10', label: 'CIFAR-10', description: '32×32 colour', detail: 'The binary version in the data folder/cifar-10' },
];

const lastChoices = 'cnnLab.lastTraining';

/**
 * "CNN Lab: Train Model…": one run at a time, with a cancellable progress notification, a
 * status-bar item and the trainer's log in the CNN Lab channel. Runs only in a trusted workspace.
 */
export class Trainer extends Disposable {
  private active: TrainingRun | undefined;
  private readonly status = this._register(vscode.window.createStatusBarItem('cnnLab.training', vscode.StatusBarAlignment.Left, 40));

  constructor(
    private readonly state: vscode.Memento,
    private readonly environment: PythonEnvironmentService,
    private readonly reports: (document: vscode.TextDocument) => Promise<ModelReport[]>,
    private readonly script: string,
    private readonly log: Log,
  ) {
    super();
    this.status.name = 'CNN Lab Training';
    this._register({ dispose: () => void this.active?.stop() });
  }

  /** Trains a model of `uri` (default: the active editor's); `choices` skip the questions. */
  async train(uri?: vscode.Uri, className?: string, choices?: Choices): Promise<RunResult | undefined> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage('CNN Lab trains by running your model code, which needs a trusted workspace.', 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    if (this.active) {
      const choice = await vscode.window.showWarningMessage('CNN Lab is already training a model.', 'Stop It');
      if (choice) await this.stop();
      return undefined;
    }
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== 'python') {
      void vscode.window.showInformationMessage('CNN Lab: open the Python file of the model to train.');
      return undefined;
    }
    const models = (await this.reports(document)).filter((m) => m.kind === 'class');
    const model = className ?? (models.length === 1 ? models[0]?.name : (await vscode.window.showQuickPick(models.map((m) => m.name), { title: 'Train which model?' })));
    if (!model) {
      if (models.length === 0) void vscode.window.showInformationMessage(`CNN Lab: no nn.Module class in ${vscode.workspace.asRelativePath(document.uri)}.`);
      return undefined;
    }
    const picked = choices ?? (await this.ask());
    if (!picked) return undefined;
    const { found, interpreter } = await this.environment.current();
    if (!found?.torch || interpreter === null) {
      const choice = await vscode.window.showWarningMessage(
        `CNN Lab needs PyTorch to train: ${found ? `${interpreter} cannot import torch` : 'no Python was found'}. Install it (pip install torch torchvision) or choose another Python.`,
        'Choose Python…',
      );
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'cnnLab.pythonPath');
      return undefined;
    }
    if (document.isDirty) await document.save(); // the trainer imports the file from disk
    const folder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri ?? vscode.Uri.joinPath(document.uri, '..');
    const setting = vscode.workspace.getConfiguration('cnnLab');
    const config: TrainingConfig = {
      ...trainingDefaults,
      modelFile: document.uri.fsPath,
      className: model,
      dataDir: vscode.Uri.joinPath(folder, setting.get<string>('dataDirectory', 'data')).fsPath,
      ...picked,
    };
    return this.run(config, vscode.Uri.joinPath(folder, setting.get<string>('runsDirectory', 'runs')).fsPath, interpreter);
  }

  async stop(): Promise<void> {
    await this.active?.stop();
  }

  private async ask(): Promise<Choices | undefined> {
    const last = this.state.get<Choices>(lastChoices);
    // Last time's dataset first, so Enter repeats it.
    const items = [...datasets].sort((a, b) => Number(b.id === last?.dataset) - Number(a.id === last?.dataset));
    const dataset = await vscode.window.showQuickPick(items, { title: 'Train on which dataset?' });
    if (!dataset) return undefined;
    const epochs = await vscode.window.showInputBox({
      title: 'How many epochs?',
      value: String(last?.epochs ?? 2),
      validateInput: (value) => (/^[1-9]\d{0,3}$/.test(value.trim()) ? undefined : 'A whole number from 1 to 9999'),
    });
    if (!epochs) return undefined;
    const choices: Choices = { dataset: dataset.id, epochs: Number(epochs) };
    await this.state.update(lastChoices, choices);
    return choices;
  }

  private async run(config: TrainingConfig, runsDir: string, python: string): Promise<RunResult> {
    let test: Extract<TrainerEvent, { type: 'test' }> | undefined;
    let report: ((event: TrainerEvent) => void) | undefined;
    const run = TrainingRun.start({
      python,
      script: this.script,
      config,
      runsDir,
      onEvent: (event) => {
        if (event.type === 'test') test = event;
        if (event.type === 'error') this.log.error(`training ${config.className}: ${event.message}${event.detail ? `\n${event.detail}` : ''}`);
        if (event.type === 'epoch') this.log.info(`training ${config.className}: epoch ${event.epoch}, train loss ${event.trainLoss.toFixed(4)}, validation loss ${event.validLoss?.toFixed(4) ?? '-'}`);
        if (event.type === 'checkpoint' && event.message) this.log.info(`training ${config.className}: ${event.message}`);
        report?.(event);
      },
      onLog: (line) => this.log.info(line),
    });
    this.active = run;
    this.log.info(`training ${config.className} on ${config.dataset}: ${run.runDir}`);
    this.status.text = `$(sync~spin) ${config.className}: starting`;
    this.status.tooltip = run.runDir;
    this.status.command = 'cnnLab.stopTraining';
    this.status.show();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${config.className} on ${config.dataset}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => void run.stop());
        let done = 0;
        report = (event) => {
          if (event.type !== 'progress') return;
          const fraction = ((event.epoch - 1) * event.steps + event.step) / (event.epochs * event.steps);
          const eta = `${Math.floor(event.etaSeconds / 60)}:${String(Math.round(event.etaSeconds % 60)).padStart(2, '0')}`;
          const message = `epoch ${event.epoch}/${event.epochs} · loss ${event.loss.toFixed(4)} · ${Math.round(event.imagesPerSecond)} img/s · ETA ${eta}`;
          progress.report({ message, increment: Math.max(0, fraction * 100 - done) });
          done = fraction * 100;
          this.status.text = `$(sync~spin) ${config.className}: ${message}`;
        };
        return run.result;
      },
    );
    this.active = undefined;
    const accuracy = test ? `, test accuracy ${(test.accuracy * 100).toFixed(2)} %` : '';
    this.status.text = `${result.status === 'completed' ? '$(check)' : result.status === 'cancelled' ? '$(circle-slash)' : '$(error)'} ${config.className}: ${result.status}${accuracy}`;
    this.status.command = { title: 'Reveal the run folder', command: 'revealFileInOS', arguments: [vscode.Uri.file(result.runDir)] };
    this.log.info(`training ${config.className}: ${result.status}${accuracy}`);
    if (result.status === 'failed') {
      void vscode.window.showErrorMessage(`Training ${config.className} failed: ${result.error?.message ?? 'unknown error'}`, 'Show Log').then((choice) => choice && this.log.show());
    } else {
      void vscode.window.showInformationMessage(`Training ${config.className} ${result.status}${accuracy}.`, 'Reveal Run Folder').then((choice) => choice && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.runDir)));
    }
    return result;
  }
}
