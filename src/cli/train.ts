// `cnn-lab train`: a training run from a terminal or a script.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { analyzeTree } from '../core/analysis/analyze';
import { NotebookAnalysis, NotebookError, readNotebook } from '../core/analysis/notebook';
import { isNotebookPath } from '../core/analysis/paths';
import { trainingModule } from '../core/analysis/notebookModule';
import { trainableByName } from '../core/analysis/report';
import { loadGrammars } from '../core/analysis/syntax';
import { DatasetError, prepareDataset } from '../core/datasets/datasets';
import { isDatasetId, settingsProblem, type TrainerEvent, type TrainingConfig, trainingDefaults, trainingSettings, type TrainingSettings } from '../core/protocol/trainer';
import { safeParse } from '../core/schema';
import { readRunConfig, readSettings, SettingsError } from '../core/training/settings';
import { type PresetContext, presetLayer, trainingDevice } from '../core/training/presets';
import { engineFor, type ModelModule, TrainingRun } from '../core/training/trainingRun';
import { downloadReporter } from './data';
import { searchPython } from './python';

export const trainUsage = `  train [FILE] [--preset course|fast] [--class NAME] [--dataset mnist|fashion-mnist|cifar10|synthetic|DIR] [--epochs N]
        [--batch-size B|auto] [--lr X] [--optimizer sgd|adam|adamw] [--momentum M] [--weight-decay W]
        [--schedule none|step|cosine|onecycle] [--mixed-precision auto|on|off] [--fast-path on|off]
        [--compile on|off] [--devices N] [--nnodes N --rdzv-endpoint HOST:PORT]
        [--augment flip,rotate=DEG,crop=PAD] [--normalize dataset|none|VALUE] [--valid-split F] [--seed N]
        [--config cnn-lab.json] [--runs-dir DIR] [--data-dir DIR] [--mirror URL] [--device auto|cpu|cuda]
        [--python PATH] [--json]
                                    Train a PyTorch (.py, or a notebook's .ipynb: its model and what
                                    it needs, not its training cells) or TF.js (.ts, .js) model;
                                    prints the run folder at the end. Options
                                    override the --config file's settings; missing datasets are
                                    downloaded to the data directory (default: data). With
                                    --devices or --nnodes above 1 the run goes under torchrun
                                    (DistributedDataParallel; --batch-size is per device)
  train --resume RUN_DIR [--epochs N] [--python PATH] [--json]
                                    Continue a cancelled or crashed run from its last.pt`;


/**
 * Each option's text read as the value cnn-lab.json would hold; trainingSettings then checks it as
 * it checks the file, so the options, the file and the host accept the same values.
 */
type Flag = { key: keyof TrainingSettings; read?: (text: string) => unknown };
const numeric = (text: string) => (text.trim() === '' ? undefined : Number(text));
const onOff = (text: string) => (text === 'on' ? true : text === 'off' ? false : undefined);

const flags: Record<string, Flag> = {
  '--preset': { key: 'preset', read: (v) => (v === 'none' ? null : v) },
  '--class': { key: 'className', read: (v) => (/^[A-Za-z_]\w*$/.test(v) ? v : undefined) },
  '--dataset': { key: 'dataset', read: (v) => (isDatasetId(v) ? v : resolve(v)) },
  '--epochs': { key: 'epochs', read: numeric },
  '--batch-size': { key: 'batchSize', read: (v) => (v === 'auto' ? null : numeric(v)) },
  '--lr': { key: 'lr', read: numeric },
  '--optimizer': { key: 'optimizer' },
  '--momentum': { key: 'momentum', read: numeric },
  '--weight-decay': { key: 'weightDecay', read: numeric },
  '--mixed-precision': { key: 'mixedPrecision', read: (v) => (v === 'auto' ? null : onOff(v)) },
  '--fast-path': { key: 'fastPath', read: onOff },
  '--compile': { key: 'compile', read: onOff },
  '--devices': { key: 'devices', read: numeric },
  '--nnodes': { key: 'nodes', read: numeric },
  '--rdzv-endpoint': { key: 'rendezvous' },
  '--valid-split': { key: 'validSplit', read: numeric },
  '--seed': { key: 'seed', read: numeric },
  '--data-dir': { key: 'dataDir', read: (v) => resolve(v) },
  '--device': { key: 'device' },
  '--schedule': { key: 'schedule' },
  '--normalize': { key: 'normalize', read: (v) => (v === 'dataset' || v === 'none' ? v : numeric(v)) },
  '--augment': { key: 'augment', read: parseAugment },
};

/** "flip,rotate=15,crop=4": the course's augmentations, by name. */
function parseAugment(value: string): TrainingConfig['augment'] | undefined {
  const augment: NonNullable<TrainingConfig['augment']> = {};
  for (const part of value.split(',')) {
    const [name, amount] = part.split('=');
    const n = Number(amount);
    if (name === 'flip' && amount === undefined) augment.flip = true;
    else if (name === 'rotate' && n > 0 && n <= 180) augment.rotation = n;
    else if (name === 'crop' && Number.isInteger(n) && n > 0) augment.cropPadding = n;
    else return undefined;
  }
  return augment;
}

/** The TF.js models the static analysis finds in a file, by name. */
async function tfjsModelNames(file: string): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // the engine says what is wrong with the file
  }
  const grammars = await loadGrammars(join(__dirname, 'parsers'));
  const tree = grammars.parser('typescript').parse(text);
  const names = tree ? analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript').filter((m) => m.kind === 'tfjs').map((m) => m.name) : [];
  tree?.delete();
  return names;
}

/** A notebook's model as a module for the run folder, the model chosen as `train FILE.py` chooses it; a string says why there is none. */
async function notebookTraining(file: string, className: string | undefined): Promise<{ module: ModelModule; className: string } | string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as Error).message}`;
  }
  const notebook = readNotebook(text);
  if (notebook instanceof NotebookError) return `${file}: ${notebook.message}`;
  const parser = (await loadGrammars(join(__dirname, 'parsers'))).parser('python');
  const analysis = new NotebookAnalysis(parser);
  const trainable = analysis.update(notebook.cells, { defaultInput: [3, 32, 32] }).filter(trainableByName).map((m) => m.name);
  analysis.dispose();
  const chosen = className ?? (trainable.length === 1 ? trainable[0] : trainingDefaults.className);
  if (!chosen) return `${file} defines no model to train`;
  const module = trainingModule(resolve(file), notebook.cells, chosen, parser);
  if (module instanceof NotebookError) return `${file}: ${module.message}${trainable.length > 0 && !trainable.includes(chosen) ? ` (its models: ${trainable.join(', ')}; name one with --class)` : ''}`;
  return { module, className: chosen };
}

function fail(message: string): number {
  process.stderr.write(`cnn-lab train: ${message}\n`);
  return 2;
}

export async function train(argv: string[]): Promise<number> {
  const resumeAt = argv.indexOf('--resume');
  const resumeDir = resumeAt >= 0 ? argv[resumeAt + 1] : undefined;
  if (resumeAt >= 0 && !resumeDir) return fail('--resume needs the run folder');
  const [file, ...rest] = resumeDir ? [undefined, ...argv.filter((_, i) => i !== resumeAt && i !== resumeAt + 1)] : argv[0]?.startsWith('--') ? [undefined, ...argv] : argv;
  let settings: TrainingSettings = {};
  const given: TrainingSettings = {};
  let runsDir = 'runs';
  let python: string | undefined;
  let mirror: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i] ?? '';
    if (name === '--json') {
      json = true;
      continue;
    }
    const value = rest[++i];
    if (value === undefined) return fail(`${name} needs a value`);
    if (name === '--runs-dir') runsDir = value;
    else if (name === '--python') python = value;
    else if (name === '--mirror') mirror = value;
    else if (name === '--config') {
      try {
        settings = readSettings(resolve(value));
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        return fail(error.message);
      }
    } else {
      const flag = flags[name];
      if (!flag) return fail(`unknown option ${name}`);
      const read = flag.read ? flag.read(value) : value;
      const parsed = read === undefined ? undefined : safeParse(trainingSettings, { [flag.key]: read });
      if (!parsed?.ok) return fail(`${name} ${value} is not a valid value${parsed ? ` (${parsed.error.replace(/^[\w.]+: /, '')})` : ''}`);
      Object.assign(given, parsed.value);
    }
  }
  if (resumeDir && (Object.keys(given).some((key) => key !== 'epochs') || Object.keys(settings).length > 0)) return fail('--resume takes only --epochs (the rest is in the run\'s config.json)');
  const modelFile = file ? resolve(file) : settings.modelFile;
  if (!resumeDir && !modelFile) return fail('name the model file, e.g. cnn-lab train examples/mnist_mlp.py, or give a --config that names one');
  let config: TrainingConfig = { ...trainingDefaults, dataDir: resolve('data'), ...settings, ...given, modelFile: modelFile ?? '' };
  const problem = settingsProblem(config);
  if (problem) return fail(problem);

  const engineKind = engineFor(resumeDir ? readRunConfig(resumeDir).modelFile : config.modelFile);
  // A TF.js file's model is a function, rarely called Net: name the run after the one the file builds.
  if (!resumeDir && engineKind === 'tfjs' && !settings.className && !given.className) {
    const [only, ...others] = await tfjsModelNames(config.modelFile);
    if (only && others.length === 0) config = { ...config, className: only };
  }
  let module: ModelModule | undefined;
  if (!resumeDir && isNotebookPath(config.modelFile)) {
    const chosen = await notebookTraining(config.modelFile, given.className ?? settings.className);
    if (typeof chosen === 'string') return fail(chosen);
    ({ module } = chosen);
    config = { ...config, className: chosen.className };
  }
  let interpreter: string | null = null;
  let device: PresetContext['device'] = 'cpu';
  if (engineKind === 'torch') {
    const search = await searchPython(python, true);
    if (!search.found?.torch || search.interpreter === null) {
      process.stderr.write(`cnn-lab train: no Python with PyTorch was found (tried ${search.tried.map((t) => t.interpreter).join(', ')}).\n  Install it (pip install torch torchvision, or apt-get install python3-torch), or name an interpreter with --python.\n`);
      return 1;
    }
    interpreter = search.interpreter;
    device = trainingDevice(config.device, search.found.torch);
  }
  if (!resumeDir) {
    // A preset's settings go under the file's and the options' own, which win.
    config = { ...trainingDefaults, dataDir: resolve('data'), ...presetLayer([settings, given], device, trainingDefaults.dataset), ...settings, ...given, modelFile: config.modelFile, className: config.className };
  }

  if (!resumeDir) {
    const reporter = downloadReporter();
    try {
      config = await prepareDataset(config, { download: true, mirror, onProgress: reporter.onProgress });
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      process.stderr.write(`cnn-lab train: ${error.message}\n`);
      return 1;
    } finally {
      reporter.done();
    }
  }

  const bar = !json && process.stderr.isTTY ? new SingleBar({ format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | {rate} img/s | ETA {eta_formatted}', hideCursor: true }) : undefined;
  const say = (text: string) => (bar ? bar.stop() : undefined, process.stdout.write(`${text}\n`));
  let errorShown = false;
  const show = (event: TrainerEvent) => {
    if (event.type === 'error') errorShown = true;
    if (json) return process.stdout.write(`${JSON.stringify(event)}\n`);
    switch (event.type) {
      case 'hello': {
        const engine = event.engine === 'tfjs' ? `TF.js ${event.versions.tfjs ?? ''} with ${event.backend}, Node ${event.versions.node ?? ''}` : `torch ${event.versions.torch} on ${event.device.name}`;
        return say(`${engine}${event.worldSize > 1 ? `, ${event.worldSize} processes (DistributedDataParallel)` : ''}${event.advice ? `\n${event.advice}` : ''}`);
      }
      case 'dataset':
        return say(`${event.name}: ${event.train} training, ${event.validation} validation, ${event.test} test images of ${event.shape.join('×')}; batches of ${event.batchSize}${event.fastPath ? ' on the fast path' : ''}`);
      case 'model':
        return say(`${event.className}: ${event.totalParams.toLocaleString('en-US')} parameters, ${event.loss === 'nll' ? 'NLL' : 'cross-entropy'} loss, ${[event.precision, event.channelsLast ? 'channels_last' : '', event.compiled ? 'torch.compile' : ''].filter(Boolean).join(', ')}`);
      case 'startUp':
        return say(`start-up ${event.seconds.toFixed(1)} s (${event.phases.map((p) => `${p.name} ${p.seconds.toFixed(1)} s`).join(', ')})`);
      case 'estimate':
        bar?.stop();
        return say(event.advice);
      case 'tuned':
        return say(`measured in the first steps: ${event.chosen} (${event.tried.map((t) => `${t.label} ${Math.round(t.imagesPerSecond).toLocaleString('en-US')}`).join(', ')} images/s)`);
      case 'progress':
        if (!bar) return;
        if (event.step === 1 || !bar.isActive) bar.start(event.steps, event.step, { epoch: event.epoch, epochs: event.epochs });
        return bar.update(event.step, { epoch: event.epoch, epochs: event.epochs, loss: event.loss.toFixed(4), rate: Math.round(event.imagesPerSecond) });
      case 'epoch':
        return say(`epoch ${event.epoch}: train loss ${event.trainLoss.toFixed(4)}${event.validLoss === null ? '' : `, validation loss ${event.validLoss.toFixed(4)}, accuracy ${((event.validAccuracy ?? 0) * 100).toFixed(2)} %`} (${event.seconds.toFixed(1)} s)`);
      case 'checkpoint':
        return event.message ? say(`${event.message}: saved ${event.path}`) : undefined;
      case 'test':
        return say(`test accuracy ${(event.accuracy * 100).toFixed(2)} % (loss ${event.loss.toFixed(4)})\n${event.perClass.map((c) => `  ${c.name.padEnd(12)} ${((100 * c.correct) / Math.max(c.total, 1)).toFixed(1).padStart(5)} % (${c.correct}/${c.total})`).join('\n')}`);
      case 'error':
        return say(`error: ${event.message}${event.detail ? `\n${event.detail}` : ''}`);
      case 'samples':
      case 'done':
        return undefined;
    }
  };

  const engine = { python: interpreter, trainerDir: join(__dirname, 'trainer'), onEvent: show, onLog: (line: string) => process.stderr.write(`${line}\n`) };
  const run = resumeDir ? TrainingRun.resume(resumeDir, engine, given.epochs) : TrainingRun.start({ ...engine, config, runsDir, ...(module ? { module } : {}) });
  const interrupt = () => void run.stop();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const result = await run.result;
  bar?.stop();
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', interrupt);
  const reason = result.error && !errorShown ? ` (${result.error.message})` : '';
  if (!json) say(`${result.status}${reason}: ${result.runDir}`);
  else process.stdout.write(`${JSON.stringify({ type: 'result', status: result.status, runDir: result.runDir })}\n`);
  return result.status === 'completed' ? 0 : 1;
}
