// The activations helper (src/trainer/activations.py) in a real Python with PyTorch, checked against
// the core's own convolution: the feature maps of a layer, and each filter's strongest patches.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { RunModel } from '../../src/core/dashboard/runModel';
import { prepareDataset } from '../../src/core/datasets/datasets';
import { convolve, type Plane, pool, presetKernels, relu } from '../../src/core/filters/convolve';
import { activationsAnswer, type ActivationsAnswer, type ActivationsRequest } from '../../src/core/protocol/inspector';
import { trainingDefaults } from '../../src/core/protocol/trainer';
import { safeParse } from '../../src/core/schema';
import { activationsCommand, TrainingRun } from '../../src/core/training/trainingRun';
import { writeEvilCheckpoint } from './support/evilCheckpoint';
import { png } from '../support/png';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const helper = resolve(__dirname, '../../src/trainer/activations.py');
const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-activations-'));
const sobelX = presetKernels['Sobel x'] ?? [];
const [mean, std] = [0.25, 0.5];

/** Two fixed filters (Sobel x and its negation), F.relu, a max pool, then a second conv of ones. */
writeFileSync(
  join(dir, 'fixed.py'),
  `import torch
import torch.nn as nn
import torch.nn.functional as F


class Fixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(2, 1, 3, bias=False)
        self.fc = nn.Linear(144, 10)
        with torch.no_grad():
            sobel = torch.tensor(${JSON.stringify(sobelX)}, dtype=torch.float32)
            self.conv1.weight.copy_(torch.stack([sobel, -sobel])[:, None])
            self.conv2.weight.fill_(1.0)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        return self.fc(self.conv2(x).flatten(1))
`,
);
spawnSync(python, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); import torch; from fixed import Fixed; torch.save(Fixed().state_dict(), ${JSON.stringify(join(dir, 'best.pt'))})`]);

const trainerDir = resolve(__dirname, '../../dist/trainer');

/** The helper of the engine that owns the checkpoint, as the inspector runs it. */
function ask(request: ActivationsRequest): ActivationsAnswer[] {
  const { command, args, env } = request.checkpoint.endsWith('.json') ? activationsCommand({ python: null, trainerDir }, request.checkpoint) : { command: python, args: [helper], env: process.env };
  const result = spawnSync(command, args, { input: `${JSON.stringify(request)}\n`, encoding: 'utf8', cwd: dir, env });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('\n').map((line) => {
    const parsed = safeParse(activationsAnswer, JSON.parse(line));
    assert.ok(parsed.ok, line.slice(0, 200));
    return parsed.value;
  });
}

const common = { config: { ...trainingDefaults, modelFile: join(dir, 'fixed.py'), className: 'Fixed', dataset: 'synthetic' as const }, checkpoint: join(dir, 'best.pt'), mean: [mean], std: [std] };
const floats = (base64: string) => Array.from(new Float32Array(Uint8Array.from(Buffer.from(base64, 'base64')).buffer));
const bytes = (base64: string) => Uint8Array.from(Buffer.from(base64, 'base64'));

describe('activations helper (the torch engine\'s view of a trained layer)', () => {
  it('answers conv, ReLU (F.relu in forward) and the pool after it, as the core computes them on the same image', () => {
    const [answer] = ask({ ...common, kind: 'featureMaps', layer: 'conv1', image: { path: null, index: 17 } });
    assert.equal(answer?.type, 'activations');
    if (answer?.type !== 'activations') return;
    assert.match(answer.image.name, /^test #17 \(\d+°\)$/);
    assert.deepEqual(answer.stages.map((s) => [s.name, s.shape]), [['conv1 (Conv2d)', [2, 28, 28]], ['ReLU (F.relu in forward)', [2, 28, 28]], ['pool (MaxPool2d)', [2, 14, 14]]]);
    const image: Plane = { width: 28, height: 28, data: Float32Array.from(bytes(answer.image.pixels), (v) => (v / 255 - mean) / std) };
    const conv = convolve(image, sobelX, 'zero');
    const expected = [conv.data, relu(conv).data, pool(relu(conv), 2, 2, 'max').data];
    answer.stages.forEach((stage, s) => {
      const first = floats(stage.data).slice(0, expected[s]?.length); // filter 0: Sobel x
      first.forEach((v, i) => assert.ok(Math.abs(v - (expected[s]?.[i] ?? NaN)) < 1e-4, `${stage.name} at ${i}: ${v} vs ${expected[s]?.[i]}`));
    });
  });

  it('takes an image file, resized to the model\'s input and made grey as the dataset is', () => {
    // 56×56 colour quadrants: each 2×2 block averages to one grey value.
    const colour = (x: number, y: number) => (x < 28 ? (y < 28 ? [200, 200, 200] : [0, 0, 0]) : [90, 90, 90]) as [number, number, number];
    writeFileSync(join(dir, 'quadrants.png'), png(56, 56, colour));
    const [answer] = ask({ ...common, kind: 'featureMaps', layer: 'conv1', image: { path: join(dir, 'quadrants.png'), index: null } });
    assert.equal(answer?.type === 'activations' && `${answer.image.name} ${answer.image.shape.join('×')}`, 'quadrants.png 1×28×28');
    const pixels = answer?.type === 'activations' ? bytes(answer.image.pixels) : new Uint8Array();
    assert.deepEqual([pixels[0], pixels[27 * 28], pixels[27]], [200, 0, 90]);
  });

  it('finds each filter\'s strongest patches with progress, each one the window that gives its value', () => {
    const answers = ask({ ...common, kind: 'topPatches', layer: 'conv1', sample: 300 });
    const progress = answers.filter((a) => a.type === 'progress');
    assert.deepEqual(progress.map((p) => (p.type === 'progress' ? [p.done, p.total] : [])), [[256, 300], [300, 300]]);
    const last = answers[answers.length - 1];
    assert.equal(last?.type, 'topPatches');
    if (last?.type !== 'topPatches') return;
    assert.deepEqual([last.shape, last.sample, last.filters.length, last.filters[0]?.length], [[1, 3, 3], 300, 2, 9]);
    last.filters.forEach((patches, f) => {
      const values = patches.map((p) => p.value);
      assert.deepEqual(values, [...values].sort((a, b) => b - a), 'strongest first');
      for (const patch of patches) {
        // A window wholly inside the image gives the filter's response exactly (at the border, black fills what padding was).
        const pixels = Array.from(bytes(patch.pixels), (v) => (v / 255 - mean) / std);
        const response = (f === 0 ? 1 : -1) * sobelX.flat().reduce((sum, w, i) => sum + w * (pixels[i] ?? 0), 0);
        if (!bytes(patch.pixels).includes(0)) assert.ok(Math.abs(response - patch.value) < 1e-3, `filter ${f}: ${response} vs ${patch.value}`);
      }
    });
  });

  it('grows the window through the pool for a deeper layer: 3 + 1 + 2 × 2 = 8 pixels for conv2', () => {
    const answers = ask({ ...common, kind: 'topPatches', layer: 'conv2', sample: 50 });
    const last = answers[answers.length - 1];
    assert.equal(last?.type === 'topPatches' && last.shape.join('×'), '1×8×8');
  });

  it('refuses a checkpoint whose pickle would run a command, naming what it imports; nothing runs', () => {
    const [evil, marker] = [join(dir, 'evil.pt'), join(dir, 'ran')];
    writeEvilCheckpoint(evil, marker);
    const [refused] = ask({ ...common, checkpoint: evil, kind: 'featureMaps', layer: 'conv1', image: { path: null, index: 0 } });
    assert.equal(refused?.type, 'error');
    assert.match(refused?.type === 'error' ? refused.message : '', /^evil\.pt was not loaded: its pickle asks to import posix\.system, which could run code when it loads\. A checkpoint of weights needs none of these/);
    assert.equal(existsSync(marker), false, 'the command ran');
  });

  it('says so when the model never calls the layer, or the checkpoint does not fit', () => {
    const [missing] = ask({ ...common, kind: 'featureMaps', layer: 'conv9', image: { path: null, index: 0 } });
    assert.deepEqual(missing, { type: 'error', message: 'Fixed never calls conv9 in forward()' });
    writeFileSync(join(dir, 'other.py'), 'import torch.nn as nn\n\n\nclass Fixed(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv1 = nn.Conv2d(1, 5, 3)\n');
    const [misfit] = ask({ ...common, config: { ...common.config, modelFile: join(dir, 'other.py') }, kind: 'featureMaps', layer: 'conv1', image: { path: null, index: 0 } });
    assert.equal(misfit?.type, 'error');
    assert.match(misfit?.type === 'error' ? misfit.message : '', /^the checkpoint does not fit Fixed as the file defines it now: Error\(s\) in loading state_dict for Fixed:/);
  });
});

describe('activations of a TF.js checkpoint (the tfjs engine, plain TF.js)', function () {
  this.timeout(180_000);
  let request: Omit<ActivationsRequest, 'kind' | 'image' | 'sample'>;
  let kernel: Float64Array;
  let bias: Float64Array;

  before(async () => {
    writeFileSync(
      join(dir, 'small_cnn.js'),
      `import * as tf from '@tensorflow/tfjs';

export function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
`,
    );
    const config = await prepareDataset({ ...trainingDefaults, modelFile: join(dir, 'small_cnn.js'), className: 'buildModel', dataset: 'synthetic', epochs: 1 }, { download: false });
    const run = TrainingRun.start({ python: null, trainerDir, config, runsDir: mkdtempSync(join(tmpdir(), 'cnn-lab-runs-')), onEvent: () => undefined, onLog: () => undefined });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const checkpoint = join(result.runDir, 'best', 'model.json');
    const conv = readCheckpoint(checkpoint).layers.find((layer) => layer.kind === 'Conv2d');
    const dataset = RunModel.fromFolder(result.runDir).datasetEvent;
    assert.ok(conv && dataset);
    [kernel = new Float64Array(), bias = new Float64Array()] = conv.parameters.map((p) => p.values());
    request = { config, checkpoint, layer: conv.name, mean: dataset.mean, std: dataset.std };
  });

  it('answers the convolution before the layer\'s ReLU, after it, and the pool, as the core computes them', () => {
    const [answer] = ask({ ...request, kind: 'featureMaps', image: { path: null, index: 3 } });
    assert.equal(answer?.type, 'activations', JSON.stringify(answer).slice(0, 300));
    if (answer?.type !== 'activations') return;
    assert.deepEqual(answer.stages.map((s) => [s.name, s.shape]), [[`${request.layer} (Conv2D, before its activation)`, [4, 28, 28]], ['relu (the layer\'s activation)', [4, 28, 28]], [answer.stages[2]?.name, [4, 14, 14]]]);
    assert.match(answer.stages[2]?.name ?? '', /\(MaxPooling2D\)$/);
    // Filter 1: its 3×3 kernel (height × width × in × out in the checkpoint) plus its bias, over the normalized image with zero padding.
    const filter = 1;
    const weights = Array.from({ length: 3 }, (_, y) => Array.from({ length: 3 }, (_, x) => kernel[(y * 3 + x) * 4 + filter] ?? 0));
    const image: Plane = { width: 28, height: 28, data: Float32Array.from(bytes(answer.image.pixels), (v) => (v / 255 - (request.mean[0] ?? 0)) / (request.std[0] ?? 1)) };
    const expected = convolve(image, weights, 'zero').data.map((v) => v + (bias[filter] ?? 0));
    const before = floats(answer.stages[0]?.data ?? '').slice(filter * 784, (filter + 1) * 784);
    before.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] ?? NaN)) < 1e-4, `at ${i}: ${v} vs ${expected[i]}`));
    const after = floats(answer.stages[1]?.data ?? '').slice(filter * 784, (filter + 1) * 784);
    after.forEach((v, i) => assert.ok(Math.abs(v - Math.max(0, expected[i] ?? NaN)) < 1e-4));
  });

  it('finds each filter\'s strongest 3×3 patches in the test images, with progress', () => {
    const answers = ask({ ...request, kind: 'topPatches', sample: 300 });
    assert.deepEqual(answers.filter((a) => a.type === 'progress').length, 2);
    const last = answers[answers.length - 1];
    assert.equal(last?.type, 'topPatches', JSON.stringify(last).slice(0, 300));
    if (last?.type !== 'topPatches') return;
    assert.deepEqual([last.shape, last.filters.length, last.filters.map((f) => f.length)], [[1, 3, 3], 4, [9, 9, 9, 9]]);
    last.filters.forEach((patches) => assert.deepEqual(patches.map((p) => p.value), [...patches.map((p) => p.value)].sort((a, b) => b - a)));
  });
});
