// CNN Lab's tfjs engine: trains a TF.js model and reports as the torch engine does (the trainer
// protocol, src/core/protocol/trainer.ts), writing the same run folder.
//
//   node tfjs.js RUN_DIR [--resume]
//   node tfjs.js --activations        (one request on stdin, as activations.py takes it)
//
// The model file (.ts or .js) exports a function that builds a tf.LayersModel (named by the config's
// className, else the only function exported), or the model itself. It is bundled with esbuild's
// WebAssembly build, shipped beside this file, with every TF.js import pointed at one backend:
// @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node, else plain @tensorflow/tfjs, looked up
// from the model's folder first. Checkpoints are in TF.js's own format: best/ and last/ each hold
// model.json and weights.bin; last/ adds training.json and the optimizer's weights to resume from;
// init/ and epoch-1/ keep the weights before training and after its first epoch, to compare with.
// It imports the user's code: the extension runs it only in a trusted workspace.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { runInThisContext } from 'node:vm';
import type * as TF from '@tensorflow/tfjs';
import { DatasetError } from '../core/datasets/datasets';
import { channelStatistics, type ImageSplit, readImageDataset, shuffled } from '../core/datasets/images';
import { random } from '../core/random';
import { type Augmentation, sourcePixels } from '../core/training/augmentation';
import { writeFileAtomically } from '../core/files';
import type { ActivationsAnswer, ActivationsRequest } from '../core/protocol/inspector';
import { isDatasetId, TRAINER_PROTOCOL, type TrainerEvent } from '../core/protocol/trainer';
import { readRunConfig } from '../core/training/settings';

type Tf = typeof TF;

/** A problem to report to the user as it is, without a stack trace. */
class TrainingError extends Error {}

function send(event: TrainerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---------------------------------------------------------------- backend and model

interface Backend {
  tf: Tf;
  /** The package it came from. */
  name: string;
  /** What the hello event names: 'tensorflow' (native, CPU or GPU) or 'cpu' (plain JavaScript). */
  kind: string;
  version: string;
  /** Faster packages that were installed but did not load, and why. */
  passedOver: string[];
}

const packages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs'];

/** The fastest TF.js that loads, from the model's project first, then from beside the engine. */
async function loadBackend(modelFile: string): Promise<Backend> {
  const places = [createRequire(modelFile), createRequire(__filename)];
  const problems: string[] = [];
  for (const name of packages) {
    for (const place of places) {
      let path: string;
      try {
        path = place.resolve(name);
      } catch {
        continue;
      }
      try {
        const tf = place(path) as Tf;
        // Production mode: faster, and without the console banner that the hello event's advice replaces.
        tf.enableProdMode();
        await tf.ready();
        const version = (place(`${name}/package.json`) as { version: string }).version;
        return { tf, name, kind: tf.getBackend(), version, passedOver: problems };
      } catch (error) {
        problems.push(`${name} did not load: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  throw new TrainingError(`no TF.js found for ${basename(modelFile)}: npm install @tensorflow/tfjs-node (fast, native) or @tensorflow/tfjs in its project${problems.length ? ` (${problems.join('; ')})` : ''}`);
}

/** The model file bundled as CommonJS, its TF.js imports answered with the backend's module. */
async function importModel(backend: Backend, modelFile: string): Promise<Record<string, unknown>> {
  // Loaded from beside this file at run time: the bundle does not hold esbuild.
  const esbuild = createRequire(__filename)(join(__dirname, 'esbuild-wasm', 'lib', 'main.js')) as typeof import('esbuild');
  let code: string;
  try {
    const result = await esbuild.build({ entryPoints: [modelFile], bundle: true, write: false, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'silent', sourcemap: 'inline' });
    code = result.outputFiles[0]?.text ?? '';
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number } | null }[] }).errors?.[0];
    throw new TrainingError(first ? `${basename(modelFile)}${first.location ? ` line ${first.location.line}` : ''}: ${first.text}` : `${basename(modelFile)} could not be compiled: ${(error as Error).message}`);
  } finally {
    esbuild.stop();
  }
  const own = createRequire(modelFile);
  const tfModules = new Set([...packages, '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
  const module = { exports: {} as Record<string, unknown> };
  const load = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: modelFile }) as (...args: unknown[]) => void;
  try {
    load(module.exports, (id: string) => (tfModules.has(id) ? backend.tf : own(id)), module, modelFile, dirname(modelFile));
  } catch (error) {
    throw new TrainingError(`importing ${basename(modelFile)} failed: ${(error as Error).name}: ${(error as Error).message}`);
  }
  return module.exports;
}

/** The export named, or the only function exported: called (awaited) when it is a function. */
async function buildModel(tf: Tf, exports: Record<string, unknown>, name: string, file: string): Promise<TF.LayersModel> {
  const functions = Object.keys(exports).filter((key) => typeof exports[key] === 'function' || exports[key] instanceof tf.LayersModel);
  const chosen = name in exports ? name : functions.length === 1 ? functions[0] : undefined;
  if (chosen === undefined) throw new TrainingError(`${basename(file)} exports no ${name}${functions.length ? `; it exports ${functions.join(', ')}: name one as the class to train` : ' and no function that builds a model'}`);
  const value = exports[chosen];
  let model: unknown;
  try {
    model = typeof value === 'function' && !(value instanceof tf.LayersModel) ? await (value as () => unknown)() : value;
  } catch (error) {
    throw new TrainingError(`${chosen}() failed: ${(error as Error).name}: ${(error as Error).message}`);
  }
  if (!(model instanceof tf.LayersModel)) throw new TrainingError(`${chosen} ${typeof value === 'function' ? 'returned' : 'is'} ${model === null ? 'null' : typeof model}, not a tf.LayersModel (tf.sequential() or tf.model())`);
  return model;
}

// ---------------------------------------------------------------- data

interface Split extends ImageSplit {
  /** Indices into the dataset's split this one takes. */
  index: Int32Array;
}

function subset(split: ImageSplit, index: Int32Array): Split {
  return { ...split, index, count: index.length };
}

/** A batch as NHWC floats, normalized (TF.js models take channels last), augmented when asked. */
function batchOf(tf: Tf, split: Split, positions: Int32Array, mean: number[], std: number[], augmentation?: { settings: Augmentation; next: () => number }): { x: TF.Tensor4D; y: TF.Tensor1D } {
  const [channels, height, width] = split.shape;
  const plane = height * width;
  const size = channels * plane;
  const values = new Float32Array(positions.length * size);
  const labels = new Int32Array(positions.length);
  positions.forEach((position, n) => {
    const image = split.index[position] ?? 0;
    labels[n] = split.labels[image] ?? 0;
    const source = augmentation ? sourcePixels(height, width, augmentation.settings, augmentation.next) : undefined;
    for (let c = 0; c < channels; c++) {
      const scale = 1 / (255 * (std[c] ?? 1));
      const shift = (mean[c] ?? 0) / (std[c] ?? 1);
      const start = image * size + c * plane;
      for (let p = 0; p < plane; p++) {
        const from = source ? (source[p] ?? -1) : p;
        values[n * size + p * channels + c] = (from < 0 ? 0 : (split.pixels[start + from] ?? 0)) * scale - shift;
      }
    }
  });
  return { x: tf.tensor4d(values, [positions.length, height, width, channels]), y: tf.tensor1d(labels, 'int32') };
}


// ---------------------------------------------------------------- checkpoints

/** Saves the model as TF.js does (model.json + weights.bin), each file written atomically, weights first. */
async function saveModel(tf: Tf, model: TF.LayersModel, folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData instanceof ArrayBuffer ? new Uint8Array(artifacts.weightData) : Buffer.concat((artifacts.weightData ?? []).map((b) => new Uint8Array(b)));
      writeFileAtomically(join(folder, 'weights.bin'), weights);
      const manifest = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, convertedBy: null, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      writeFileAtomically(join(folder, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/**
 * Writes a checkpoint folder whole or not at all: into NAME.partial/, then swapped in by renames.
 * A kill between the two renames leaves only NAME.old/, which `resumableCheckpoint` falls back to.
 */
async function saveFolderAtomically(folder: string, write: (into: string) => Promise<void>): Promise<void> {
  const [next, old] = [`${folder}.partial`, `${folder}.old`];
  rmSync(next, { recursive: true, force: true });
  await write(next);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(folder)) renameSync(folder, old);
  renameSync(next, folder);
  rmSync(old, { recursive: true, force: true });
}

/** The whole last/ checkpoint to resume from: last/, or last.old/ when a kill came between the renames. */
const resumableCheckpoint = (last: string) => [last, `${last}.old`].find((folder) => existsSync(join(folder, 'training.json')));

/** A file's bytes as the ArrayBuffer TF.js decodes (a Buffer may be a view into a larger pool). */
const arrayBufferOf = (data: Buffer<ArrayBuffer>) => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);

/** Loads weights saved by saveModel into a model of the same architecture. */
function loadWeights(tf: Tf, model: TF.LayersModel, folder: string): void {
  const manifest = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { weightsManifest: { weights: TF.io.WeightsManifestEntry[] }[] };
  const data = readFileSync(join(folder, 'weights.bin'));
  const named = tf.io.decodeWeights(arrayBufferOf(data), manifest.weightsManifest[0]?.weights ?? []);
  model.setWeights(model.weights.map((w) => {
    const value = named[w.originalName];
    if (!value) throw new TrainingError(`${folder} has no weights for ${w.originalName}: the model changed since it was saved`);
    return value;
  }));
}

interface TrainingState {
  epoch: number;
  bestLoss: number | null;
  bestEpoch: number | null;
  optimizer: TF.io.WeightsManifestEntry[];
}

// ---------------------------------------------------------------- training

class Commands {
  stop = false;
  private paused: { promise: Promise<void>; release: () => void } | undefined;

  private readonly lines = createInterface({ input: process.stdin });

  constructor() {
    const lines = this.lines;
    lines.on('line', (line) => {
      let type: unknown;
      try {
        type = (JSON.parse(line) as { type?: unknown }).type;
      } catch {
        return;
      }
      if (type === 'stop') this.halt();
      else if (type === 'pause' && !this.paused) {
        let release: () => void = () => undefined;
        const promise = new Promise<void>((resolve) => (release = resolve));
        this.paused = { promise, release };
      } else if (type === 'resume') this.release();
    });
    // stdin closing means stop.
    lines.on('close', () => this.halt());
  }

  /** Stops listening, so that nothing keeps the process alive once training is over. */
  close(): void {
    this.lines.removeAllListeners('close');
    this.lines.close();
    process.stdin.destroy();
  }

  /** Waits while paused. Yields to the event loop every step: TF.js's CPU backend never does, and stdin must be heard. */
  async running(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.paused?.promise;
  }

  private halt(): void {
    this.stop = true;
    this.release();
  }

  private release(): void {
    this.paused?.release();
    this.paused = undefined;
  }
}

const saveJson = (path: string, value: unknown) => writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`);

/** What happens before the first step, phase by phase, from the process's start (performance.timeOrigin). */
class StartUp {
  private readonly phases: { name: string; seconds: number }[] = [];
  private last = 0;

  lap(name: string): void {
    const now = performance.now();
    this.phases.push({ name, seconds: (now - this.last) / 1000 });
    this.last = now;
  }

  report(): void {
    send({ type: 'startUp', seconds: this.last / 1000, phases: this.phases });
  }
}

async function train(runDir: string, commands: Commands, resume: boolean): Promise<void> {
  const started = Date.now() / 1000;
  let startUp: StartUp | undefined = new StartUp();
  const config = readRunConfig(runDir);
  const last = join(runDir, 'last');
  const resumeFrom = resume ? resumableCheckpoint(last) : undefined;
  if (resume && !resumeFrom) throw new TrainingError(`nothing to resume: ${runDir} has no last/training.json (the run ended before its first epoch did)`);
  const backend = await loadBackend(config.modelFile);
  const { tf } = backend;
  startUp.lap(backend.name);
  const versions = { python: null, torch: null, torchvision: null, node: process.versions.node, tfjs: backend.version };
  const slow = backend.name === '@tensorflow/tfjs'
    ? `Training with plain TF.js, which computes in JavaScript on one core: expect it to be tens to hundreds of times slower than native. ${backend.passedOver.length ? `${backend.passedOver.join('; ')}.` : 'npm install @tensorflow/tfjs-node (or tfjs-node-gpu with CUDA) in the project to train with TensorFlow itself.'}`
    : null;
  send({ type: 'hello', protocol: TRAINER_PROTOCOL, engine: 'tfjs', backend: `${backend.name} (${backend.kind})`, versions, device: { type: backend.name.endsWith('-gpu') ? 'cuda' : 'cpu', name: backend.kind === 'tensorflow' ? 'TensorFlow' : 'JavaScript' }, worldSize: 1, advice: slow });
  if (config.devices > 1 || config.nodes > 1) log('the tfjs engine trains in one process: devices and nodes apply to PyTorch models');
  let state: Record<string, unknown> = { config, versions, device: backend.name, status: 'running', startedAt: started, summary: null };
  if (resume) {
    try {
      state = { ...(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as object), status: 'running', resumedAt: started, config };
    } catch {
      // a run.json lost or torn: begin a new one
    }
  }
  saveJson(join(runDir, 'run.json'), state);

  if (!isDatasetId(config.dataset)) throw new TrainingError(`${config.dataset}: the tfjs engine reads mnist, fashion-mnist, cifar10 and synthetic; image folders train with a PyTorch model`);
  let dataset;
  try {
    dataset = readImageDataset(config.dataset, config.dataDir, config.seed);
  } catch (error) {
    if (error instanceof DatasetError) throw new TrainingError(error.message);
    throw error;
  }
  startUp.lap('dataset read');
  const order = shuffled(dataset.train.count, config.seed);
  const validationCount = Math.floor(dataset.train.count * config.validSplit);
  const trainSplit = subset(dataset.train, order.slice(validationCount));
  const validSplit = subset(dataset.train, order.slice(0, validationCount));
  const testSplit = subset(dataset.test, Int32Array.from({ length: dataset.test.count }, (_, i) => i));
  const channels = dataset.train.shape[0];
  const { mean, std } = config.normalize === 'none'
    ? { mean: Array<number>(channels).fill(0), std: Array<number>(channels).fill(1) }
    : config.normalize === 'dataset'
      ? channelStatistics(trainSplit, trainSplit.index)
      : { mean: Array<number>(channels).fill(config.normalize), std: Array<number>(channels).fill(config.normalize) };
  const batch = config.batchSize ?? 64;
  const [, height, width] = dataset.train.shape;
  send({ type: 'dataset', name: config.dataset, train: trainSplit.count, validation: validSplit.count, test: testSplit.count, classes: dataset.classes, shape: [...dataset.train.shape], mean, std, batchSize: batch, fastPath: false });

  const model = await buildModel(tf, await importModel(backend, config.modelFile), config.className, config.modelFile);
  const probe = batchOf(tf, trainSplit, Int32Array.from([0, 1]), mean, std);
  let probabilities: boolean;
  try {
    const output = model.predict(probe.x) as TF.Tensor2D;
    const values = await output.array();
    // A model that ends in softmax gives probabilities; one without, raw scores.
    probabilities = values.every((row) => row.every((v) => v >= 0) && Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    output.dispose();
  } catch (error) {
    throw new TrainingError(`${config.className} failed on a batch of shape [2, ${height}, ${width}, ${channels}] (NHWC): ${(error as Error).message}`);
  }
  tf.dispose([probe.x, probe.y]);
  startUp.lap('model');
  const classes = dataset.classes.length;
  const lossOf = (output: TF.Tensor, labels: TF.Tensor1D): TF.Scalar => {
    const target = tf.oneHot(labels, classes);
    // Cross-entropy either way: of the probabilities a softmax gave, or of raw scores.
    return (probabilities ? target.mul(output.clipByValue(1e-7, 1).log()).sum(1).neg().mean() : tf.losses.softmaxCrossEntropy(target, output)) as TF.Scalar;
  };
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  send({ type: 'model', className: config.className, totalParams: total, trainableParams: trainable, loss: 'cross_entropy', precision: 'float32', channelsLast: true, compiled: false });

  if (config.optimizer === 'adamw') throw new TrainingError('TF.js has no AdamW: choose adam (weightDecay then adds an L2 penalty) or sgd');
  const optimizer: TF.Optimizer = config.optimizer === 'adam' ? tf.train.adam(config.lr) : config.momentum > 0 ? tf.train.momentum(config.lr, config.momentum) : tf.train.sgd(config.lr);
  const setRate = (rate: number) => ('setLearningRate' in optimizer ? (optimizer as TF.SGDOptimizer).setLearningRate(rate) : Object.assign(optimizer, { learningRate: rate }));
  const kernels = model.trainableWeights.filter((w) => w.shape.length > 1).map((w) => w.read());
  const epochs = config.epochs;
  const steps = Math.ceil(trainSplit.count / batch);
  const rateAt = (epoch: number, step: number): number => {
    const progress = ((epoch - 1) * steps + step - 1) / (epochs * steps);
    switch (config.schedule) {
      case 'none':
        return config.lr;
      case 'step':
        return config.lr * 0.1 ** Math.floor((epoch - 1) / Math.max(1, Math.floor(epochs / 3)));
      case 'cosine':
        return (config.lr * (1 + Math.cos(Math.PI * progress))) / 2;
      case 'onecycle': {
        // Up for the first 30 %, then down on a cosine, as PyTorch's OneCycleLR does by default.
        const low = config.lr / 25;
        return progress < 0.3 ? low + ((config.lr - low) * (1 - Math.cos((Math.PI * progress) / 0.3))) / 2 : (config.lr * (1 + Math.cos((Math.PI * (progress - 0.3)) / 0.7))) / 2;
      }
    }
  };

  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch: number | null = null;
  let firstEpoch = 1;
  if (resumeFrom) {
    const saved = JSON.parse(readFileSync(join(resumeFrom, 'training.json'), 'utf8')) as TrainingState;
    loadWeights(tf, model, resumeFrom);
    const data = readFileSync(join(resumeFrom, 'optimizer.bin'));
    const named = tf.io.decodeWeights(arrayBufferOf(data), saved.optimizer);
    await optimizer.setWeights(saved.optimizer.map((spec) => ({ name: spec.name, tensor: named[spec.name] as TF.Tensor })));
    [firstEpoch, bestLoss, bestEpoch] = [saved.epoch + 1, saved.bestLoss ?? Number.POSITIVE_INFINITY, saved.bestEpoch];
  } else {
    // What training starts from, for "what did it change?": filters before and after.
    await saveFolderAtomically(join(runDir, 'init'), (into) => saveModel(tf, model, into));
  }
  const metricsPath = join(runDir, 'metrics.csv');
  const metricsHeader = 'kind,epoch,step,train_loss,valid_loss,valid_accuracy,lr,images_per_second,seconds\n';
  if (!existsSync(metricsPath)) writeFileSync(metricsPath, metricsHeader);
  else if (resume) {
    // A resumed run repeats the epochs after last/'s: what an interrupted run logged of them goes.
    const kept = readFileSync(metricsPath, 'utf8').split(/(?<=\n)/).slice(1).filter((line) => {
      const epoch = line.split(',')[1] ?? '';
      return line.endsWith('\n') && /^\d+$/.test(epoch) && Number(epoch) < firstEpoch;
    });
    writeFileAtomically(metricsPath, metricsHeader + kept.join(''));
  }
  // One append per report, of whole lines: a kill between appends leaves no torn line.
  const rows = (values: (string | number | null)[][]) => writeFileSync(metricsPath, values.map((line) => `${line.map((v) => (v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(6) : String(v))).join(',')}\n`).join(''), { flag: 'a' });
  const row = (...values: (string | number | null)[]) => rows([values]);
  const next = random(config.seed + 7);

  const evaluate = async (split: Split, confusion?: number[][]) => {
    let loss = 0;
    let correct = 0;
    for (let start = 0; start < split.count; start += Math.max(batch, 256)) {
      const positions = Int32Array.from({ length: Math.min(Math.max(batch, 256), split.count - start) }, (_, i) => start + i);
      const { x, y } = batchOf(tf, split, positions, mean, std);
      const output = model.predict(x) as TF.Tensor2D;
      const batchLoss = lossOf(output, y);
      const [predicted, truth] = [await output.argMax(1).data(), await y.data()];
      loss += ((await batchLoss.data())[0] ?? 0) * positions.length;
      predicted.forEach((p, i) => {
        const t = truth[i] ?? 0;
        if (p === t) correct++;
        const cell = confusion?.[t];
        if (cell) cell[p] = (cell[p] ?? 0) + 1;
      });
      tf.dispose([x, y, output, batchLoss]);
    }
    return { loss: loss / Math.max(split.count, 1), accuracy: correct / Math.max(split.count, 1) };
  };

  const estimate = backend.name === '@tensorflow/tfjs' ? new RunEstimate({ epochs, steps, firstEpoch, batch, validation: validSplit.count, test: testSplit.count, projectDir: dirname(config.modelFile), passedOver: backend.passedOver }) : undefined;
  let cancelled = false;
  for (let epoch = firstEpoch; epoch <= epochs && !cancelled; epoch++) {
    const epochStarted = Date.now();
    let seen = 0;
    let runningLoss = 0;
    let lastReport = 0;
    const unreported: number[] = [];
    const permutation = shuffled(trainSplit.count, config.seed * 1000 + epoch);
    for (let step = 1; step <= steps; step++) {
      await commands.running();
      if (commands.stop) {
        cancelled = true;
        break;
      }
      const rate = rateAt(epoch, step);
      setRate(rate);
      const { x, y } = batchOf(tf, trainSplit, permutation.subarray((step - 1) * batch, step * batch), mean, std, config.augment ? { settings: config.augment, next } : undefined);
      const loss = optimizer.minimize(() => {
        const data = lossOf(model.apply(x, { training: true }) as TF.Tensor, y);
        return config.weightDecay > 0 ? data.add(tf.addN(kernels.map((k) => k.square().sum())).mul(config.weightDecay / 2)) : data;
      }, true) as TF.Scalar;
      const value = (await loss.data())[0] ?? Number.NaN;
      tf.dispose([x, y, loss]);
      if (startUp) {
        startUp.lap('first step');
        startUp.report();
        startUp = undefined;
      }
      estimate?.stepped(epoch, step);
      if (!Number.isFinite(value)) throw new TrainingError(`the loss became ${value} at epoch ${epoch}, step ${step}: lower the learning rate (${config.lr})`);
      runningLoss += value * (Math.min(step * batch, trainSplit.count) - (step - 1) * batch);
      seen = Math.min(step * batch, trainSplit.count);
      unreported.push(value);
      const now = Date.now();
      if (now - lastReport >= 500 || step === steps) {
        lastReport = now;
        const imagesPerSecond = seen / Math.max((now - epochStarted) / 1000, 1e-9);
        const remaining = (steps - step) * batch + (epochs - epoch) * trainSplit.count;
        const losses = unreported.splice(0);
        send({ type: 'progress', epoch, epochs, step, steps, loss: value, losses, imagesPerSecond, lr: rate, etaSeconds: remaining / Math.max(imagesPerSecond, 1e-9) });
        rows(losses.map((loss, i) => ['step', epoch, step - losses.length + 1 + i, loss, null, null, rate, imagesPerSecond, now / 1000 - started]));
      }
    }
    if (cancelled) break;
    const trainLoss = runningLoss / Math.max(seen, 1);
    const valid = validSplit.count ? await evaluate(validSplit) : null;
    const seconds = (Date.now() - epochStarted) / 1000;
    send({ type: 'epoch', epoch, trainLoss, validLoss: valid?.loss ?? null, validAccuracy: valid?.accuracy ?? null, seconds });
    row('epoch', epoch, steps, trainLoss, valid?.loss ?? null, valid?.accuracy ?? null, rateAt(epoch, steps), seen / Math.max(seconds, 1e-9), Date.now() / 1000 - started);
    // The course's rule: keep the model whose validation loss is the lowest so far.
    const score = valid?.loss ?? trainLoss;
    if (score < bestLoss) {
      const message = Number.isFinite(bestLoss) ? `validation loss decreased (${bestLoss.toFixed(6)} → ${score.toFixed(6)})` : null;
      [bestLoss, bestEpoch] = [score, epoch];
      await saveModel(tf, model, join(runDir, 'best'));
      send({ type: 'checkpoint', path: join(runDir, 'best', 'model.json'), best: true, message });
    }
    await saveFolderAtomically(last, async (into) => {
      await saveModel(tf, model, into);
      const optimizerWeights = await tf.io.encodeWeights(await optimizer.getWeights());
      writeFileSync(join(into, 'optimizer.bin'), new Uint8Array(optimizerWeights.data as ArrayBuffer));
      saveJson(join(into, 'training.json'), { epoch, bestLoss: Number.isFinite(bestLoss) ? bestLoss : null, bestEpoch, optimizer: optimizerWeights.specs } satisfies TrainingState);
    });
    send({ type: 'checkpoint', path: join(last, 'model.json'), best: false, message: null });
    if (epoch === 1) await saveFolderAtomically(join(runDir, 'epoch-1'), (into) => saveModel(tf, model, into));
  }

  const summary: Record<string, unknown> = { bestEpoch, bestValidLoss: Number.isFinite(bestLoss) ? bestLoss : null };
  if (!cancelled && bestEpoch !== null) {
    loadWeights(tf, model, join(runDir, 'best'));
    const confusion = dataset.classes.map(() => Array<number>(classes).fill(0));
    const test = await evaluate(testSplit, confusion);
    send({ type: 'test', loss: test.loss, accuracy: test.accuracy, perClass: dataset.classes.map((name, i) => ({ name, correct: confusion[i]?.[i] ?? 0, total: (confusion[i] ?? []).reduce((a, b) => a + b, 0) })), confusion });
    const count = Math.min(32, testSplit.count);
    const { x, y } = batchOf(tf, testSplit, Int32Array.from({ length: count }, (_, i) => i), mean, std);
    const predicted = Array.from(await (model.predict(x) as TF.Tensor2D).argMax(1).data());
    const size = channels * height * width;
    send({ type: 'samples', shape: [count, channels, height, width], pixels: Buffer.from(dataset.test.pixels.subarray(0, count * size)).toString('base64'), labels: Array.from(await y.data()), predicted });
    Object.assign(summary, { testLoss: test.loss, testAccuracy: test.accuracy });
  }
  state = { ...state, status: cancelled ? 'cancelled' : 'completed', finishedAt: Date.now() / 1000, summary };
  saveJson(join(runDir, 'run.json'), state);
  send({ type: 'done', status: cancelled ? 'cancelled' : 'completed', runDir, seconds: Date.now() / 1000 - started });
}

/**
 * How long a run on plain TF.js will take, said once its first steps are measured: the first step
 * compiles, so the second is the measure, unless the first alone took long enough to tell. A
 * validation or test image costs about a third of a training image (a forward pass alone).
 */
class RunEstimate {
  private readonly began = Date.now();
  private stepStarted = Date.now();
  private said = false;

  constructor(private readonly run: { epochs: number; steps: number; firstEpoch: number; batch: number; validation: number; test: number; projectDir: string; passedOver: string[] }) {}

  stepped(epoch: number, step: number): void {
    const now = Date.now();
    const seconds = (now - this.stepStarted) / 1000;
    this.stepStarted = now;
    const done = (epoch - this.run.firstEpoch) * this.run.steps + step;
    if (this.said || (done < 2 && seconds < 20)) return;
    this.said = true;
    const total = (this.run.epochs - this.run.firstEpoch + 1) * this.run.steps;
    const perImage = seconds / this.run.batch;
    const evaluation = (((this.run.epochs - this.run.firstEpoch + 1) * this.run.validation + this.run.test) * perImage) / 3;
    const remaining = (total - done) * seconds + evaluation;
    const length = (now - this.began) / 1000 + remaining;
    const faster = this.run.passedOver.length ? `${this.run.passedOver.join('; ')}.` : `npm install @tensorflow/tfjs-node (tfjs-node-gpu with CUDA) in ${this.run.projectDir} to train with TensorFlow itself, often tens to hundreds of times faster;`;
    const advice = `Plain TF.js computes in JavaScript: ${formatSeconds(seconds)} a step here, so this run of ${total.toLocaleString('en-US')} steps will take about ${formatSeconds(length)}. ${faster} or train the same architecture in PyTorch with the torch engine. Stop the run to change it.`;
    send({ type: 'estimate', seconds: length, secondsPerStep: seconds, steps: total, advice });
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
}

// ---------------------------------------------------------------- activations

const answer = (message: ActivationsAnswer): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
const floatsOf = (values: Float32Array | Int32Array | Uint8Array) => Buffer.from(Float32Array.from(values).buffer).toString('base64');
/** N×H×W×C → C×H×W of the first image, as the views draw maps. */
const channelsFirst = (tf: Tf, tensor: TF.Tensor) => tf.tidy(() => tf.transpose(tensor.slice([0, 0, 0, 0], [1, -1, -1, -1]).squeeze([0]) as TF.Tensor3D, [2, 0, 1]));
const poolClasses = ['MaxPooling2D', 'AveragePooling2D'];

interface LayerConfig {
  kernelSize?: number | number[];
  poolSize?: number | number[];
  strides?: number | number[];
  padding?: string;
  dilationRate?: number | number[];
  activation?: string;
}
const first = (value: number | number[] | undefined, otherwise: number) => (Array.isArray(value) ? (value[0] ?? otherwise) : (value ?? otherwise));

/**
 * The layer inspector's questions about a TF.js checkpoint, answered as activations.py answers them
 * for PyTorch: the model is rebuilt from model.json alone (no user code runs), images come from the
 * run's dataset, normalized as it trained.
 */
async function activations(request: ActivationsRequest): Promise<void> {
  const { tf } = await loadBackend(request.config.modelFile);
  const folder = dirname(request.checkpoint);
  const manifest = JSON.parse(readFileSync(request.checkpoint, 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[] };
  const weightData = arrayBufferOf(Buffer.concat(manifest.weightsManifest.flatMap((group) => group.paths.map((path) => readFileSync(join(folder, path))))));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights), weightData }));
  const at = model.layers.findIndex((layer) => layer.name === request.layer);
  const layer = model.layers[at];
  if (!layer) throw new TrainingError(`the model has no layer ${request.layer}`);
  if (!isDatasetId(request.config.dataset)) throw new TrainingError(`${request.config.dataset}: the tfjs engine reads the named datasets only`);
  const { test, classes } = readImageDataset(request.config.dataset, request.config.dataDir, request.config.seed);
  const className = (label: number) => classes[label] ?? String(label);
  const split: Split = { ...test, index: Int32Array.from({ length: test.count }, (_, i) => i) };
  const config = layer.getConfig() as LayerConfig;
  const after = model.layers.slice(at + 1);
  const activationLayer = config.activation === 'linear' && (after[0]?.getClassName() === 'Activation' || after[0]?.getClassName() === 'ReLU') ? after[0] : undefined;
  // The pool that follows: the first pooling layer before the next conv, dense or flatten layer.
  const nextStage = after.findIndex((l) => ['Conv2D', 'Dense', 'Flatten'].includes(l.getClassName()));
  const poolLayer = after.slice(0, nextStage < 0 ? after.length : nextStage).find((l) => poolClasses.includes(l.getClassName()));
  const outputs = [layer.input as TF.SymbolicTensor, layer.output as TF.SymbolicTensor, ...(activationLayer ? [activationLayer.output as TF.SymbolicTensor] : []), ...(poolLayer ? [poolLayer.output as TF.SymbolicTensor] : [])];
  const probe = tf.model({ inputs: model.inputs, outputs });

  if (request.kind === 'featureMaps') {
    if (request.image.path) throw new TrainingError('TF.js models take images of their dataset here: decoding image files needs @tensorflow/tfjs-node.');
    const index = request.image.index ?? Math.floor(Math.random() * test.count);
    const { x } = batchOf(tf, split, Int32Array.of(index), request.mean, request.std);
    const [input, output, ...rest] = probe.predict(x) as TF.Tensor[];
    if (!input || !output) throw new TrainingError(`${request.layer} gave no output`);
    // The layer's output is after its own activation; before it is the convolution alone.
    const [kernel, bias] = layer.getWeights();
    const conv = tf.tidy(() => {
      const linear = tf.conv2d(input as TF.Tensor4D, kernel as TF.Tensor4D, first(config.strides, 1), config.padding === 'same' ? 'same' : 'valid', 'NHWC', first(config.dilationRate, 1));
      return bias ? tf.add(linear, bias) : linear;
    });
    const activated = activationLayer ? rest.shift() : config.activation && config.activation !== 'linear' ? output : tf.relu(output);
    const activationName = activationLayer ? `${activationLayer.name} (${activationLayer.getClassName()})` : config.activation && config.activation !== 'linear' ? `${config.activation} (the layer's activation)` : 'ReLU (applied here)';
    const stage = async (name: string, tensor: TF.Tensor) => {
      const maps = channelsFirst(tf, tensor);
      return { name, shape: maps.shape, data: floatsOf(await maps.data()) };
    };
    const [channels, height, width] = test.shape;
    const pixels = Buffer.from(test.pixels.subarray(index * channels * height * width, (index + 1) * channels * height * width)).toString('base64');
    const stages = [await stage(`${request.layer} (Conv2D, before its activation)`, conv), ...(activated ? [await stage(activationName, activated)] : []), ...(poolLayer && rest[0] ? [await stage(`${poolLayer.name} (${poolLayer.getClassName()})`, rest[0])] : [])];
    answer({ type: 'activations', image: { name: `test #${index} (${className(test.labels[index] ?? 0)})`, pixels, shape: [channels, height, width] }, stages });
    return;
  }

  // Top patches: each image's strongest response per filter, the best nine kept per filter.
  const total = Math.min(test.count, request.sample);
  const best: { value: number; image: number; position: number }[][] = [];
  let outWidth = 0;
  for (let begin = 0; begin < total; begin += 256) {
    const count = Math.min(256, total - begin);
    const { x } = batchOf(tf, split, Int32Array.from({ length: count }, (_, i) => begin + i), request.mean, request.std);
    const out = (probe.predict(x) as TF.Tensor[])[1] as TF.Tensor4D;
    const [, h = 0, w = 0, filters = 0] = out.shape;
    outWidth = w;
    const values = await out.data();
    tf.dispose([x, out]);
    for (let n = 0; n < count; n++) {
      for (let f = 0; f < filters; f++) {
        let [top, where] = [-Infinity, 0];
        for (let p = 0; p < h * w; p++) {
          const v = values[(n * h * w + p) * filters + f] ?? -Infinity;
          if (v > top) [top, where] = [v, p];
        }
        const list = (best[f] ??= []);
        list.push({ value: top, image: begin + n, position: where });
        list.sort((a, b) => b.value - a.value);
        list.length = Math.min(list.length, 9);
      }
    }
    answer({ type: 'progress', done: begin + count, total });
  }
  // The receptive field through the convs and pools up to the layer (the standard recurrence).
  let [size, jump, start] = [1, 1, 0];
  for (const l of model.layers.slice(0, at + 1)) {
    const c = l.getConfig() as LayerConfig;
    if (l.getClassName() !== 'Conv2D' && !poolClasses.includes(l.getClassName())) continue;
    const k = (first(c.dilationRate, 1) * (first(c.kernelSize ?? c.poolSize, 1) - 1)) + 1;
    const padding = c.padding === 'same' ? Math.floor((k - 1) / 2) : 0;
    start += ((k - 1) / 2 - padding) * jump;
    size += (k - 1) * jump;
    jump *= first(c.strides ?? c.poolSize, 1);
  }
  const [channels, height, width] = test.shape;
  const filters = best.map((list) =>
    list.map(({ value, image, position }) => {
      const [y, x] = [Math.floor(position / outWidth), position % outWidth];
      const [top, left] = [Math.round(start + y * jump - (size - 1) / 2), Math.round(start + x * jump - (size - 1) / 2)];
      const patch = new Uint8Array(channels * size * size);
      for (let c = 0; c < channels; c++) {
        for (let dy = 0; dy < size; dy++) {
          for (let dx = 0; dx < size; dx++) {
            const [sy, sx] = [top + dy, left + dx];
            if (sy >= 0 && sy < height && sx >= 0 && sx < width) patch[(c * size + dy) * size + dx] = test.pixels[((image * channels + c) * height + sy) * width + sx] ?? 0;
          }
        }
      }
      return { pixels: Buffer.from(patch).toString('base64'), value, index: image, label: className(test.labels[image] ?? 0) };
    }),
  );
  answer({ type: 'topPatches', shape: [channels, size, size], sample: total, filters });
}

async function answerActivations(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolve) => lines.once('line', resolve));
  lines.close();
  try {
    await activations(JSON.parse(line) as ActivationsRequest);
  } catch (error) {
    answer({ type: 'error', message: error instanceof TrainingError || error instanceof DatasetError ? error.message : `${(error as Error).name}: ${(error as Error).message}` });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--activations')) return answerActivations();
  const runDir = process.argv[2] ?? '';
  const commands = new Commands();
  try {
    await train(runDir, commands, process.argv.includes('--resume'));
  } catch (error) {
    const known = error instanceof TrainingError;
    const message = known ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
    try {
      const path = join(runDir, 'run.json');
      const state = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as object) : {};
      saveJson(path, { ...state, status: 'failed', finishedAt: Date.now() / 1000, error: message });
    } catch {
      // the folder itself is gone or unwritable: the error event still says what happened
    }
    send({ type: 'error', message, detail: known ? null : ((error as Error).stack ?? null) });
    process.exitCode = 1;
  } finally {
    commands.close();
  }
}

void main();
