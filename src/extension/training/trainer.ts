import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { type ModelReport, trainableByName } from '../../core/analysis/report';
import { downloadable } from '../../core/datasets/catalog';
import { DatasetError, locateDataset, prepareDataset } from '../../core/datasets/datasets';
import { type DatasetId, isDatasetId, type PresetId, type TrainerEvent, type TrainingConfig, trainingDefaults, type TrainingSettings } from '../../core/protocol/trainer';
import { presetLayer, presetSettings, trainingDevice, withoutKeysOf } from '../../core/training/presets';
import { readRunConfig, readSettings, SettingsError, settingsFileFor, settingsFileName, writeSettings } from '../../core/training/settings';
import { type EngineOptions, engineFor, listRuns, type RunInfo, type RunResult, TrainingRun } from '../../core/training/trainingRun';
import { maxComparedRuns } from '../../core/protocol/compare';
import type { ComparePanel } from '../comparePanel';
import { type Dashboards, type RunWatcher } from '../dashboardPanel';
import { Disposable } from '../disposable';
import type { ModelAnalysis } from '../hints/modelAnalysis';
import type { Log } from '../log';
import type { PythonEnvironmentService } from '../pythonEnvironmentService';

type Choices = Pick<TrainingConfig, 'dataset' | 'epochs'> & { preset?: PresetId | null };

const presetItems: (vscode.QuickPickItem & { preset: PresetId | null })[] = [
  { preset: 'fast', label: 'Fast', description: 'reach the course’s accuracy soonest', detail: 'SGD with momentum on a one-cycle schedule, the batch your device keeps busy, flips and crops for photos' },
  { preset: 'course', label: 'Course', description: 'the lesson’s own recipe', detail: 'SGD 0.01 on batches of 20, the lesson’s augmentation and epochs: to reproduce its results' },
  { preset: null, label: 'My settings', description: 'cnn-lab.json as it is', detail: 'The defaults, under what cnn-lab.json gives' },
];

const datasets: (vscode.QuickPickItem & { id: DatasetId })[] = [
  { id: 'synthetic', label: 'Synthetic strokes', description: '28×28 grey, 10 classes', detail: 'Made on the spot: works offline, learns in a minute' },
  { id: 'mnist', label: 'MNIST', description: '28×28 grey digits', detail: 'From the data folder (cnnLab.dataDirectory), else downloaded there (11 MB)' },
  { id: 'fashion-mnist', label: 'Fashion-MNIST', description: '28×28 grey clothes', detail: 'From the data folder or /usr/share/datasets, else downloaded (30 MB)' },
  { id: 'cifar10', label: 'CIFAR-10', description: '32×32 colour', detail: 'From the data folder, else downloaded (162 MB)' },
];
const imageFolderItem: vscode.QuickPickItem = { label: '$(folder) Image Folder…', detail: 'One sub-folder of PNG or JPEG images per class (train/ and test/ sub-folders when you have them)' };

/**
 * "CNN Lab: Train Model…": one run at a time, with a cancellable progress notification, a
 * status-bar item and the trainer's log in the CNN Lab channel. Runs only in a trusted workspace.
 * The settings live in the workspace's cnn-lab.json, which the questions fill in and remember.
 */
/** A run as the pickers list it: what it trained, how it ended, where it is. */
const runPickItem = (r: RunInfo) => ({ label: `${r.className} on ${r.dataset}`, description: `${r.status}${r.testAccuracy === null ? '' : ` · ${(r.testAccuracy * 100).toFixed(2)} %`}`, detail: r.runDir, runDir: r.runDir });

export class Trainer extends Disposable {
  private active: TrainingRun | undefined;
  /** Advice from the engines (such as why training will be slow), each said once a session. */
  private readonly advised = new Set<string>();
  private readonly status = this._register(vscode.window.createStatusBarItem('cnnLab.training', vscode.StatusBarAlignment.Left, 40));

  private readonly finished = this._register(new vscode.EventEmitter<RunResult>());
  /** Fires as each run ends, however it ended. */
  readonly onDidFinishRun = this.finished.event;

  constructor(
    private readonly environment: PythonEnvironmentService,
    private readonly reports: (document: vscode.TextDocument) => Promise<ModelReport[]>,
    private readonly models: Pick<ModelAnalysis, 'notebookOfCell' | 'trainingModule'>,
    private readonly trainerDir: string,
    private readonly dashboards: Dashboards,
    private readonly comparison: ComparePanel,
    private readonly log: Log,
  ) {
    super();
    this.status.name = 'CNN Lab Training';
    this._register({ dispose: () => void this.active?.stop() });
  }

  /** Trains a model of `uri` (default: the active editor's); `choices` skip the questions. */
  async train(uri?: vscode.Uri, className?: string, choices?: Choices): Promise<RunResult | undefined> {
    if (!(await this.canStart())) return undefined;
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document || !['python', 'typescript', 'javascript'].includes(document.languageId)) {
      void vscode.window.showInformationMessage('CNN Lab: open the file of the model to train (PyTorch in Python or a notebook, or TF.js in TypeScript or JavaScript).');
      return undefined;
    }
    // A notebook's cell: the notebook's models, trained from a module of the cells they need.
    const notebook = await this.models.notebookOfCell(document);
    if (notebook?.notebook.isUntitled) {
      void vscode.window.showInformationMessage('CNN Lab: save the notebook first: its runs go in the runs folder beside it.');
      return undefined;
    }
    const source = notebook?.notebook.uri ?? document.uri;
    const engine = engineFor(source.fsPath);
    const models = (notebook ? notebook.reports : await this.reports(document)).filter((m) => trainableByName(m) && (m.kind === 'tfjs') === (engine === 'tfjs'));
    const model = className ?? (models.length === 1 ? models[0]?.name : (await vscode.window.showQuickPick(models.map((m) => m.name), { title: 'Train which model?' })));
    if (!model) {
      if (models.length === 0) void vscode.window.showInformationMessage(`CNN Lab: no ${engine === 'torch' ? 'nn.Module class' : 'TF.js model'} in ${vscode.workspace.asRelativePath(source)}.`);
      return undefined;
    }
    const module = notebook ? await this.models.trainingModule(notebook.notebook, model) : undefined;
    if (module instanceof Error) {
      void vscode.window.showErrorMessage(`CNN Lab cannot train ${model} from ${vscode.workspace.asRelativePath(source)}: ${module.message}`);
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(source)?.uri ?? vscode.Uri.joinPath(source, '..');
    const settingsUri = vscode.Uri.file(settingsFileFor(source.fsPath, folder.fsPath));
    const settings = await this.readSettings(settingsUri);
    if (!settings) return undefined;
    const picked = choices ?? (await this.ask(settings, folder));
    if (!picked) return undefined;
    const python = engine === 'torch' ? await this.python() : null;
    if (python === undefined) return undefined;
    if (!notebook && document.isDirty) await document.save(); // the trainer imports the file from disk
    // A preset's settings go under the file's own and the choices just made, which win.
    const { found } = await this.environment.current();
    const device = trainingDevice(settings.device, found?.torch);
    const { epochs, ...answers } = picked;
    const preset = presetLayer([settings, answers], device, trainingDefaults.dataset);
    // A preset picked now wins over the values an earlier run left in cnn-lab.json; the epochs answered win over both.
    const kept = answers.preset ? withoutKeysOf(settings, preset) : settings;
    const chosen: TrainingConfig = { ...trainingDefaults, ...preset, ...kept, modelFile: source.fsPath, className: model, ...answers, epochs };
    writeSettings(settingsUri.fsPath, chosen);
    this.log.info(`training settings saved in ${settingsUri.fsPath}`);
    const setting = vscode.workspace.getConfiguration('cnnLab');
    const config = await this.prepare({ ...chosen, dataDir: chosen.dataDir ?? vscode.Uri.joinPath(folder, setting.get<string>('dataDirectory', 'data')).fsPath });
    if (!config) return undefined;
    const runsDir = vscode.Uri.joinPath(folder, setting.get<string>('runsDirectory', 'runs')).fsPath;
    return this.run(config, python, (options) => TrainingRun.start({ ...options, config, runsDir, ...(module ? { module } : {}) }));
  }

  /** The workspace's runs, newest first. */
  runs(): RunInfo[] {
    return (vscode.workspace.workspaceFolders ?? []).flatMap((folder) => listRuns(vscode.Uri.joinPath(folder.uri, vscode.workspace.getConfiguration('cnnLab', folder).get<string>('runsDirectory', 'runs')).fsPath));
  }

  /** Opens the dashboard of a run (default: one the user picks). */
  async showDashboard(runDir?: string): Promise<void> {
    let chosen = runDir;
    if (!chosen) {
      const runs = this.runs();
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('CNN Lab: no runs yet in this workspace. Train a model first (CNN Lab: Train Model…).');
        return;
      }
      const item = await vscode.window.showQuickPick(
        runs.map(runPickItem),
        { title: 'Show the dashboard of which run?' },
      );
      chosen = item?.runDir;
    }
    if (chosen) this.dashboards.show(chosen);
  }

  /** Puts runs side by side (default: the ones the user picks). */
  async compareRuns(runDirs?: string[]): Promise<void> {
    let chosen = runDirs;
    if (!chosen) {
      const runs = this.runs();
      if (runs.length < 2) {
        void vscode.window.showInformationMessage('CNN Lab: comparing needs two runs or more in this workspace.');
        return;
      }
      const items = await vscode.window.showQuickPick(
        runs.map(runPickItem),
        { title: `Compare which runs? (up to ${maxComparedRuns})`, canPickMany: true },
      );
      chosen = items?.map((item) => item.runDir);
    }
    if (chosen && chosen.length > 0) this.comparison.show(chosen);
  }

  /** Continues a cancelled or crashed run of the workspace from its last.pt. */
  async resume(runDir?: string): Promise<RunResult | undefined> {
    if (!(await this.canStart())) return undefined;
    let chosen = runDir;
    if (!chosen) {
      const runs = this.runs().filter((r) => r.resumable);
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('CNN Lab: no cancelled or crashed run to resume (a run can be resumed once it has finished an epoch).');
        return undefined;
      }
      const item = await vscode.window.showQuickPick(
        runs.map(runPickItem),
        { title: 'Resume which run?' },
      );
      chosen = item?.runDir;
    }
    if (!chosen) return undefined;
    let config: TrainingConfig;
    try {
      config = readRunConfig(chosen);
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab cannot resume ${chosen}: its config.json is unreadable (${(error as Error).message}).`);
      return undefined;
    }
    const python = engineFor(config.modelFile) === 'torch' ? await this.python() : null;
    if (python === undefined) return undefined;
    const resumeDir = chosen;
    return this.run(config, python, (options) => TrainingRun.resume(resumeDir, options));
  }

  /** Opens the workspace's cnn-lab.json, writing the defaults first when there is none. */
  async openSettings(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!folder) {
      void vscode.window.showInformationMessage('CNN Lab: open a folder to keep training settings in it.');
      return;
    }
    const uri = vscode.Uri.joinPath(folder, settingsFileName);
    if (!existsSync(uri.fsPath)) writeSettings(uri.fsPath, trainingDefaults);
    await vscode.window.showTextDocument(uri);
  }

  async stop(): Promise<void> {
    await this.active?.stop();
  }

  private async canStart(): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      // Not awaited: the command ends now, refused, whether or not the user answers.
      void vscode.window.showWarningMessage('CNN Lab trains by running your model code, which needs a trusted workspace.', 'Manage Workspace Trust').then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
      return false;
    }
    if (this.active) {
      const choice = await vscode.window.showWarningMessage('CNN Lab is already training a model.', 'Stop It');
      if (choice) await this.stop();
      return false;
    }
    return true;
  }

  /** The interpreter with torch, or undefined having told the user how to get one. */
  private async python(): Promise<string | undefined> {
    const { found, interpreter } = await this.environment.current();
    if (found?.torch && interpreter !== null) return interpreter;
    const choice = await vscode.window.showWarningMessage(
      `CNN Lab needs PyTorch to train: ${found ? `${interpreter} cannot import torch` : 'no Python was found'}. Install it (pip install torch torchvision) or choose another Python.`,
      'Choose Python…',
    );
    if (choice) await this.environment.choosePython();
    return undefined;
  }

  private async readSettings(uri: vscode.Uri): Promise<TrainingSettings | undefined> {
    try {
      return readSettings(uri.fsPath);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      const choice = await vscode.window.showErrorMessage(`CNN Lab: ${vscode.workspace.asRelativePath(uri)} has a problem: ${error.message.slice(uri.fsPath.length + 2)}`, `Open ${settingsFileName}`);
      if (choice) await vscode.window.showTextDocument(uri);
      return undefined;
    }
  }

  /** Finds the dataset, downloading it with a cancellable progress notification when it is missing. */
  private async prepare(config: TrainingConfig): Promise<TrainingConfig | undefined> {
    const mirror = vscode.workspace.getConfiguration('cnnLab').get<string>('datasetMirror')?.trim() || undefined;
    const dataset = downloadable(config.dataset);
    try {
      if (!dataset || locateDataset(dataset, config.dataDir)) return await prepareDataset(config, { download: false });
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Downloading ${dataset.label}`, cancellable: true }, (progress, token) => {
        const cancel = new AbortController();
        token.onCancellationRequested(() => cancel.abort());
        let done = 0;
        return prepareDataset(config, {
          download: true,
          mirror,
          signal: cancel.signal,
          onProgress: (p) => {
            const fraction = (p.index - 1 + (p.total ? p.received / p.total : 0)) / p.count;
            progress.report({ message: `${p.file} (${p.index}/${p.count}) · ${(p.received / 1e6).toFixed(1)} MB`, increment: Math.max(0, fraction * 100 - done) });
            done = fraction * 100;
          },
        });
      });
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      this.log.error(error.message);
      void vscode.window.showErrorMessage(`CNN Lab: ${error.message}`, 'Show Log').then((choice) => choice && this.log.show());
      return undefined;
    }
  }

  private async ask(settings: TrainingSettings, folder: vscode.Uri): Promise<Choices | undefined> {
    const last = settings.dataset;
    // Last time's dataset first, so Enter repeats it.
    const items: (vscode.QuickPickItem & { id?: string })[] = [...datasets].sort((a, b) => Number(b.id === last) - Number(a.id === last));
    if (last && !isDatasetId(last)) items.unshift({ label: `$(folder) ${vscode.workspace.asRelativePath(last)}`, description: 'image folder', id: last });
    items.push(imageFolderItem);
    const item = await vscode.window.showQuickPick(items, { title: 'Train on which dataset?' });
    if (!item) return undefined;
    let dataset = item.id;
    if (item === imageFolderItem) {
      dataset = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, defaultUri: folder, openLabel: 'Train on These Images' }))?.[0]?.fsPath;
    }
    if (!dataset) return undefined;
    // Last time's preset first; a preset picked now wins over the values the last run left in cnn-lab.json.
    const presetItem = await vscode.window.showQuickPick(
      [...presetItems].sort((a, b) => Number(b.preset === (settings.preset ?? null)) - Number(a.preset === (settings.preset ?? null))),
      { title: 'Train with which settings?' },
    );
    if (!presetItem) return undefined;
    const { found } = await this.environment.current();
    const device = trainingDevice(settings.device, found?.torch);
    const suggested = presetItem.preset ? presetSettings(presetItem.preset, { dataset, device }).epochs : settings.epochs;
    const epochs = await vscode.window.showInputBox({
      title: 'How many epochs?',
      value: String(suggested ?? trainingDefaults.epochs),
      validateInput: (value) => (/^[1-9]\d{0,3}$/.test(value.trim()) ? undefined : 'A whole number from 1 to 9999'),
    });
    if (!epochs) return undefined;
    return { dataset, epochs: Number(epochs), preset: presetItem.preset };
  }

  private async run(config: TrainingConfig, python: string | null, begin: (options: EngineOptions) => TrainingRun): Promise<RunResult> {
    let test: Extract<TrainerEvent, { type: 'test' }> | undefined;
    let report: ((event: TrainerEvent) => void) | undefined;
    // Set once the run (and so its folder) exists; the engine speaks only after that.
    const dashboard: { watcher?: RunWatcher } = {};
    const run = begin({
      python,
      trainerDir: this.trainerDir,
      onEvent: (event) => {
        if (event.type === 'test') test = event;
        if (event.type === 'hello' && event.advice && !this.advised.has(event.advice)) {
          this.advised.add(event.advice);
          void vscode.window.showWarningMessage(`CNN Lab: ${event.advice}`);
        }
        if (event.type === 'estimate') {
          this.log.info(`training ${config.className}: ${event.advice}`);
          void vscode.window.showWarningMessage(`CNN Lab: ${event.advice}`, 'Stop Training').then((choice) => (choice ? run.stop() : undefined));
        }
        if (event.type === 'error') this.log.error(`training ${config.className}: ${event.message}${event.detail ? `\n${event.detail}` : ''}`);
        if (event.type === 'epoch') this.log.info(`training ${config.className}: epoch ${event.epoch}, train loss ${event.trainLoss.toFixed(4)}, validation loss ${event.validLoss?.toFixed(4) ?? '-'}`);
        if (event.type === 'checkpoint' && event.message) this.log.info(`training ${config.className}: ${event.message}`);
        report?.(event);
        dashboard.watcher?.ingest(event);
      },
      onLog: (line) => this.log.info(line),
    });
    this.active = run;
    const watcher = this.dashboards.follow(run.runDir);
    dashboard.watcher = watcher;
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
    watcher.end(result);
    const accuracy = test ? `, test accuracy ${(test.accuracy * 100).toFixed(2)} %` : '';
    this.status.text = `${result.status === 'completed' ? '$(check)' : result.status === 'cancelled' ? '$(circle-slash)' : '$(error)'} ${config.className}: ${result.status}${accuracy}`;
    this.status.command = { title: 'Reveal the run folder', command: 'revealFileInOS', arguments: [vscode.Uri.file(result.runDir)] };
    this.log.info(`training ${config.className}: ${result.status}${accuracy}`);
    this.finished.fire(result);
    if (result.status === 'failed') {
      void vscode.window.showErrorMessage(`Training ${config.className} failed: ${result.error?.message ?? 'unknown error'}`, 'Show Log').then((choice) => choice && this.log.show());
    } else {
      void vscode.window.showInformationMessage(`Training ${config.className} ${result.status}${accuracy}.`, 'Reveal Run Folder').then((choice) => choice && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.runDir)));
    }
    return result;
  }
}
