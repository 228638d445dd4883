// The hover's arithmetic, with the numbers of real models filled in: shapes, parameters,
// multiply-accumulates and receptive fields.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { explainLayer } from '../../src/core/analysis/explain';
import type { ModelReport } from '../../src/core/analysis/report';
import { analyzePythonSource } from './support/analysis';
import { analyzeTypescriptSource } from './support/tfjs';

const repo = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(repo, file), 'utf8');
const explain = (model: ModelReport | undefined, name: string) => {
  const layer = model?.layers.find((l) => l.name === name);
  assert.ok(layer, name);
  return explainLayer(layer);
};

describe('the arithmetic on hover', () => {
  it('writes a PyTorch conv, pool and linear layer as the course does', async () => {
    const [cifar] = await analyzePythonSource(read('examples/cifar_cnn.py'));
    assert.deepEqual(explain(cifar, 'conv1'), [
      '**conv1** (Conv2d): [1, 3, 32, 32] → [1, 16, 32, 32]',
      'height: (W − F + 2P)/S + 1 = (32 − 3 + 2·1)/1 + 1 = 32',
      'width: (W − F + 2P)/S + 1 = (32 − 3 + 2·1)/1 + 1 = 32',
      'params: K·F·F·D_in + K = 16·3·3·3 + 16 = 448',
      'MACs: out elements · C_in/groups · F·F = 16·32·32 · 3 · 3·3 = 442,368',
      'receptive field: 3×3 input pixels (jump 1)',
    ]);
    assert.deepEqual(explain(cifar, 'pool').slice(1), ['height: ⌊(W − F + 2P)/S⌋ + 1 = ⌊(8 − 2 + 2·0)/2⌋ + 1 = 4', 'width: ⌊(W − F + 2P)/S⌋ + 1 = ⌊(8 − 2 + 2·0)/2⌋ + 1 = 4', 'params: none', 'receptive field: 22×22 input pixels (jump 8)']);
    assert.deepEqual(explain(cifar, 'fc1').slice(1), ['params: in·out + out = 1,024·500 + 500 = 512,500', 'MACs: out elements · in = 500 · 1,024 = 512,000']);
  });

  it('shows dilation, groups and the transposed formula', async () => {
    const models = await analyzePythonSource(read('test/fixtures/models/layer_zoo.py'));
    const conv2d = models.find((m) => m.name === 'Conv2dOptions');
    assert.equal(explain(conv2d, 'dilated')[1], 'height: (W − F + 2P)/S + 1 = (33 − (2·(3 − 1) + 1) + 2·1)/1 + 1 = 31');
    assert.deepEqual(explain(conv2d, 'grouped').slice(-3), [
      'params: K·F·F·D_in + K = 16·3·3·8/4 + 16 = 304',
      'MACs: out elements · C_in/groups · F·F = 16·16·10 · 8/4 · 3·3 = 46,080',
      'receptive field: 11×15 input pixels (jump 2×3)',
    ]);
    const conv1d = models.find((m) => m.name === 'Conv1dNet');
    assert.equal(explain(conv1d, 'up')[1], 'length: (W − 1)·S − 2P + F + output_padding = (12 − 1)·3 − 2·0 + 4 + 1 = 38');
    assert.equal(explain(conv1d, 'up').at(-1), 'MACs: in elements · C_out/groups · F = 6·12 · 2 · 4 = 576');
    assert.equal(explain(conv2d, 'norm').at(-1), 'MACs: one per output element = 640');
  });

  it('writes TF.js layers with TF\'s padding rule and weights', async () => {
    const [mnist] = await analyzeTypescriptSource(read('examples/tfjs_mnist_cnn.js'));
    assert.deepEqual(explain(mnist, 'conv2d_1').slice(1), ["height: padding 'same': ⌈W/S⌉ = ⌈28/1⌉ = 28", "width: padding 'same': ⌈W/S⌉ = ⌈28/1⌉ = 28", 'params: F·F·C_in·K + K = 3·3·1·16 + 16 = 160', 'MACs: out elements · C_in · F·F = 28·28·16 · 1 · 3·3 = 112,896', 'receptive field: 3×3 input pixels (jump 1)']);
    assert.deepEqual(explain(mnist, 'dense_1').slice(1), ['params: in·units + units = 1,568·128 + 128 = 200,832', 'MACs: out elements · in = 128 · 1,568 = 200,704']);
    const [cifar] = await analyzeTypescriptSource(read('test/fixtures/tfjs/cifar_add.ts'));
    assert.equal(explain(cifar, 'conv2d_2')[1], "height: padding 'valid': ⌈(W − F + 1)/S⌉ = ⌈(16 − (2·(3 − 1) + 1) + 1)/1⌉ = 12");
    assert.deepEqual(explain(cifar, 'batchNormalization_1').slice(1), ['params: 3·C = 3·64 = 192 (1·C trainable γ, 2·C moving mean and variance)', 'MACs: one per output element = 2,304']);
  });
});
