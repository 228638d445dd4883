import { join } from 'node:path';
import * as vscode from 'vscode';
import { type DatasetId, datasetIds, type PresetId, presetIds } from '../core/protocol/trainer';
import type { EnvironmentView } from '../core/protocol/welcome';
import { registerCommands } from './commands';
import { runDirOf, RunsView } from './runsView';
import { ComparePanel } from './comparePanel';
import { Dashboards } from './dashboardPanel';
import { DatasetBrowser } from './datasetPanel';
import { createExampleProject } from './exampleProject';
import { ExactMode } from './hints/exactMode';
import { ModelAnalysis } from './hints/modelAnalysis';
import { ModelHints } from './hints/modelHints';
import { ModelView } from './hints/modelView';
import { describeError, Log } from './log';
import { Trainer } from './training/trainer';
import { checkpointPath, CheckpointsView } from './checkpointsView';
import { TensorPanel } from './tensorPanel';
import { InspectorPanel } from './inspectorPanel';
import { PlaygroundPanel } from './playgroundPanel';
import { PythonEnvironmentService } from './pythonEnvironmentService';
import { Walkthrough } from './walkthrough';
import { WelcomePanel } from './welcomePanel';

export function activate(context: vscode.ExtensionContext): void {
  const log = new Log();
  context.subscriptions.push(log);
  try {
    const version = String((context.extension.packageJSON as { version?: unknown }).version);
    const trainerDir = vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainer').fsPath;
    const trainerProgram = (program: string) => join(trainerDir, program);
    const environment = new PythonEnvironmentService(trainerProgram('probe.py'), log);
    const welcome = new WelcomePanel(context.extensionUri, version, environment, log);
    const analysis = new ModelAnalysis(vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath, log, async () => (await environment.current()).found?.modelPackages ?? {});
    const exact = new ExactMode(analysis, environment, trainerProgram('shapes.py'), log);
    const hints = new ModelHints(analysis, exact, log);
    const modelView = new ModelView((document) => hints.reports(document), (document) => hints.notebookOf(document), hints.onDidChangeReports);
    const dashboards = new Dashboards(context.extensionUri, log);
    const datasets = new DatasetBrowser(context.extensionUri, log);
    const comparison = new ComparePanel(context.extensionUri, log);
    const playground = new PlaygroundPanel(context.extensionUri, log);
    const trainer = new Trainer(environment, (document) => hints.reports(document), analysis, trainerDir, dashboards, comparison, log);
    const runsView = new RunsView(() => trainer.runs());
    const checkpointsView = new CheckpointsView(() => trainer.runs());
    const tensors = new TensorPanel(context.extensionUri, trainerDir, log);
    const inspector = new InspectorPanel(context.extensionUri, (path) => checkpointsView.read(path), (title, except) => checkpointsView.pick(title, except), environment, trainerDir, log, (file, model, checkpoint) => hints.loadRefusal(file, model, checkpoint));
    const walkthrough = new Walkthrough(context.globalState, { hints, runFinished: trainer.onDidFinishRun, activationsShown: inspector.onDidShowActivations, presetApplied: playground.onDidApplyPreset }, log);
    context.subscriptions.push(
      environment,
      welcome,
      analysis,
      exact,
      hints,
      modelView,
      dashboards,
      datasets,
      comparison,
      playground,
      trainer,
      runsView,
      checkpointsView,
      inspector,
      walkthrough,
      // Its welcome content shows while the tree is empty; later issues fill the sidebar.
      vscode.window.registerTreeDataProvider('cnnLab.start', { getChildren: () => [], getTreeItem: (item: vscode.TreeItem) => item }),
      registerCommands({
        'cnnLab.trainModel': (uri?: unknown, className?: unknown, choices?: unknown) =>
          trainer.train(uri instanceof vscode.Uri ? uri : undefined, typeof className === 'string' ? className : undefined, isChoices(choices) ? choices : undefined),
        'cnnLab.stopTraining': () => trainer.stop(),
        'cnnLab.resumeTraining': (run?: unknown) => trainer.resume(runDirOf(run)),
        'cnnLab.openTrainingSettings': () => trainer.openSettings(),
        'cnnLab.compareRuns': (runDirs?: unknown) => trainer.compareRuns(Array.isArray(runDirs) && runDirs.every((d) => typeof d === 'string') ? (runDirs as string[]) : undefined),
        'cnnLab.browseDataset': (dataset?: unknown) => datasets.show(typeof dataset === 'string' ? dataset : undefined),
        'cnnLab.openFilterPlayground': (image?: unknown) => playground.show(image instanceof vscode.Uri ? image : undefined),
        'cnnLab.inspectLayer': (checkpoint?: unknown, layer?: unknown, baseline?: unknown) => {
          const node = checkpoint as { path?: unknown; layer?: { name?: unknown } } | undefined;
          // From the palette with arguments (and a checkpoint to compare with), or the view's inline button with its node.
          const [path, name] = typeof checkpoint === 'string' ? [checkpoint, layer] : [node?.path, node?.layer?.name];
          if (typeof path === 'string' && typeof name === 'string') inspector.show(path, name, typeof baseline === 'string' ? baseline : undefined);
        },
        'cnnLab.showDashboard': (run?: unknown) => trainer.showDashboard(runDirOf(run)),
        'cnnLab.revealRun': (run?: unknown) => {
          const runDir = runDirOf(run);
          return runDir && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(runDir));
        },
        'cnnLab.deleteRun': (run?: unknown) => {
          const runDir = runDirOf(run);
          return runDir && runsView.delete(runDir);
        },
        'cnnLab.createExampleProject': (target?: unknown) => createExampleProject(context.extensionUri, log, target instanceof vscode.Uri ? target : undefined),
        'cnnLab.showWelcome': () => welcome.show(),
        'cnnLab.checkEnvironment': () => checkEnvironment(environment, log),
        'cnnLab.showModelSummary': (uri?: unknown, name?: unknown) => hints.showSummary(uri instanceof vscode.Uri ? uri : undefined, typeof name === 'string' ? name : undefined),
        'cnnLab.compareModels': (leftUri?: unknown, leftName?: unknown, rightUri?: unknown, rightName?: unknown) =>
          hints.compareModels(leftUri instanceof vscode.Uri ? leftUri : undefined, typeof leftName === 'string' ? leftName : undefined, rightUri instanceof vscode.Uri ? rightUri : undefined, typeof rightName === 'string' ? rightName : undefined),
        'cnnLab.compareCheckpoints': (first?: unknown, second?: unknown) => checkpointsView.compare(checkpointPath(first), checkpointPath(second)),
        'cnnLab.checkCheckpoint': async (checkpoint?: unknown, modelUri?: unknown, modelName?: unknown) => {
          const path = checkpointPath(checkpoint) ?? (await checkpointsView.pick('Check which checkpoint against a model?'));
          return path && hints.checkCheckpoint(path, modelUri instanceof vscode.Uri ? modelUri : undefined, typeof modelName === 'string' ? modelName : undefined);
        },
        'cnnLab.viewTensor': (target?: unknown) => tensors.view(target),
        'cnnLab.showLog': () => log.show(),
      }),
    );
    log.info(`CNN Lab ${version} activated`);
  } catch (error) {
    void vscode.window.showErrorMessage(`CNN Lab could not start: ${describeError(error)}`);
    throw error;
  }
}

/** Choices passed by a caller (a test, another command) instead of asking: only the known datasets, sane epochs, a preset or none. */
function isChoices(value: unknown): value is { dataset: DatasetId; epochs: number; preset?: PresetId | null } {
  if (typeof value !== 'object' || value === null) return false;
  const { dataset, epochs, preset } = value as Record<string, unknown>;
  const presetOk = preset === undefined || preset === null || (presetIds as readonly unknown[]).includes(preset);
  return (datasetIds as readonly unknown[]).includes(dataset) && typeof epochs === 'number' && Number.isInteger(epochs) && epochs > 0 && epochs < 10_000 && presetOk;
}

/** Searches again, tells the user what was found, and returns it (the integration tests read it). */
async function checkEnvironment(environment: PythonEnvironmentService, log: Log): Promise<EnvironmentView> {
  environment.refresh();
  const view = await environment.view();
  if (view.type === 'found' && view.environment.torch) {
    void vscode.window.showInformationMessage(`CNN Lab: PyTorch ${view.environment.torch.version} with ${view.interpreter}, training on ${view.device}.`);
  } else {
    const problem = view.type === 'found' ? `${view.interpreter} runs, but cannot import torch` : 'no Python interpreter was found';
    // Not awaited: the command answers at once; the buttons act whenever the user clicks.
    void vscode.window.showWarningMessage(`CNN Lab: ${problem}. Install PyTorch (pip install torch torchvision) or choose another Python.`, 'Choose Python…', 'Show Log').then((choice) => {
      if (choice === 'Choose Python…') void environment.choosePython();
      if (choice === 'Show Log') log.show();
    });
  }
  return view;
}
