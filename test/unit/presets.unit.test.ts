// Presets: the rules that choose a run's settings, and a real run that records them; and the
// learning rate scaled (with a warm-up) when the engine chooses the batch size.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainingDefaults } from '../../src/core/protocol/trainer';
import { presetLayer, presetSettings, trainingDevice } from '../../src/core/training/presets';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');

describe('presets: the rules', () => {
  it('course: the lesson’s recipe, SGD 0.01 on batches of 20 in float32; the MLP on raw pixels for 50 epochs, the CIFAR CNN augmented for 30', () => {
    const mlp = presetSettings('course', { dataset: 'mnist', device: 'cuda' });
    assert.deepEqual([mlp.optimizer, mlp.lr, mlp.momentum, mlp.batchSize, mlp.schedule, mlp.mixedPrecision, mlp.normalize, mlp.augment, mlp.epochs], ['sgd', 0.01, 0, 20, 'none', false, 'none', null, 50]);
    const cnn = presetSettings('course', { dataset: 'cifar10', device: 'cpu' });
    assert.deepEqual([cnn.batchSize, cnn.normalize, cnn.augment, cnn.epochs], [20, 0.5, { flip: true, rotation: 10 }, 30]);
    assert.deepEqual(presetSettings('course', { dataset: '/photos/cats-and-dogs', device: 'cpu' }).augment, { flip: true, rotation: 10 }, 'an image folder is read as colour photos');
  });

  it('fast: the batch the device keeps busy, one-cycle peaking at 0.05 per 128 images, flips for photos only, the epochs that reach the course’s accuracy', () => {
    const fast = (dataset: string, device: 'cpu' | 'cuda') => presetSettings('fast', { dataset, device });
    assert.deepEqual(['cifar10', 'mnist'].flatMap((dataset) => (['cpu', 'cuda'] as const).map((device) => [fast(dataset, device).batchSize, fast(dataset, device).epochs])), [[128, 7], [512, 20], [256, 4], [512, 4]]);
    const gpu = fast('cifar10', 'cuda');
    assert.deepEqual([fast('cifar10', 'cpu').lr, fast('mnist', 'cpu').lr, gpu.lr], [0.05, 0.1, 0.2]);
    assert.deepEqual([gpu.optimizer, gpu.momentum, gpu.weightDecay, gpu.schedule, gpu.augment], ['sgd', 0.9, 5e-4, 'onecycle', { flip: true }]);
    assert.equal(fast('mnist', 'cpu').augment, null, 'digits are not flipped');
  });

  it('trains where the settings say, else on the GPU or MPS PyTorch sees, else the CPU', () => {
    assert.deepEqual([trainingDevice('cpu', { cudaDevices: ['H200'], mps: false }), trainingDevice('auto', { cudaDevices: ['H200'], mps: false }), trainingDevice(undefined, { cudaDevices: [], mps: true }), trainingDevice('auto', null)], ['cpu', 'cuda', 'mps', 'cpu']);
  });

  it('goes under what the settings file and the options give explicitly', () => {
    assert.deepEqual(presetLayer([{ dataset: 'mnist' }], 'cpu', trainingDefaults.dataset), {}, 'no preset, nothing');
    const layer = presetLayer([{ preset: 'fast', dataset: 'cifar10' }, { lr: 0.02 }], 'cpu', trainingDefaults.dataset);
    const run = { ...trainingDefaults, ...layer, ...{ preset: 'fast' as const, dataset: 'cifar10' }, ...{ lr: 0.02 } };
    assert.deepEqual([run.preset, run.lr, run.batchSize, run.schedule], ['fast', 0.02, 128, 'onecycle']);
    assert.deepEqual(presetLayer([{ preset: 'course' }, { preset: null }], 'cpu', 'mnist'), {}, 'an option can turn a preset off');
  });
});

describe('presets and learning rates in a run (cnn-lab train)', function () {
  this.timeout(180_000);
  const train = (...args: string[]) => {
    const runsDir = mkdtempSync(join(tmpdir(), 'cnnlab-runs-'));
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', join(repo, 'examples/mnist_mlp.py'), '--dataset', 'synthetic', '--epochs', '1', '--device', 'cpu', '--python', python, '--runs-dir', runsDir, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const [name] = readdirSync(runsDir);
    const runDir = join(runsDir, name ?? '');
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const steps = readFileSync(join(runDir, 'metrics.csv'), 'utf8').split('\n').filter((row) => row.startsWith('step,')).map((row) => Number(row.split(',')[6]));
    return { config, steps, log: run.stderr };
  };

  it('records the fast preset’s choices in config.json, with an option given beside it winning', () => {
    const { config } = train('--preset', 'fast', '--weight-decay', '0');
    assert.deepEqual([config['preset'], config['optimizer'], config['batchSize'], config['lr'], config['schedule'], config['weightDecay'], config['epochs']], ['fast', 'sgd', 256, 0.1, 'onecycle', 0, 1]);
  });

  it('scales SGD’s rate with a batch the engine chooses, warming up over the first epoch, and says so', () => {
    const { steps, log } = train('--optimizer', 'sgd', '--lr', '0.01', '--momentum', '0');
    assert.match(log, /batch 128 chosen by CNN Lab \(none was given\): SGD's learning rate 0\.01, set for the course's batches of 20, is scaled to 0\.064 and warmed up over the first epoch/);
    assert.ok(steps.length > 10 && steps.every((lr, i) => i === 0 || lr >= (steps[i - 1] ?? 0)), 'the rate only rises during the warm-up');
    assert.ok(Math.abs((steps.at(-1) ?? 0) - 0.064) < 1e-9, `the last step of the epoch is at the scaled rate (${steps.at(-1)})`);
    const given = train('--optimizer', 'sgd', '--lr', '0.01', '--momentum', '0', '--batch-size', '128');
    assert.ok(given.steps.every((lr) => lr === 0.01), 'a batch size given keeps the rate given');
    assert.doesNotMatch(given.log, /chosen by CNN Lab/);
  });
});
