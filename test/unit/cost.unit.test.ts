// Each layer's cost: multiply-accumulates, activation memory and receptive fields. The expected
// numbers are written as the formulas a student would multiply out by hand (bias left out), and
// checked against PyTorch's own tensors (test/fixtures/models/macs.json, made by macs_truth.py
// with forward hooks).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { layerMacs, receptiveFields, addCosts } from '../../src/core/analysis/cost';
import { formatCompact, formatSummaryTable, toJsonDocument } from '../../src/core/analysis/format';
import type { LayerSpec } from '../../src/core/analysis/layers';
import type { LayerReport, ModelReport } from '../../src/core/analysis/report';
import { analyzePythonSource } from './support/analysis';
import { analyzeTypescriptSource } from './support/tfjs';

const repo = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(repo, file), 'utf8');

function layerOf(model: ModelReport | undefined, name: string): LayerReport {
  const layer = model?.layers.find((l) => l.name === name);
  assert.ok(layer, name);
  return layer;
}

const macsOf = (model: ModelReport | undefined) => Object.fromEntries((model?.layers ?? []).map((l) => [l.name, l.macs]));
const fieldOf = (model: ModelReport | undefined, name: string) => layerOf(model, name).receptiveField;
const square = (size: number, jump: number) => ({ size: [size, size], jump: [jump, jump] });

describe('layer costs', () => {
  describe("the course's CIFAR CNN (3→16→32→64, 3×3 padding 1, 2×2 pools, 1024→500→10)", () => {
    let net: ModelReport | undefined;
    before(async () => {
      [net] = await analyzePythonSource(read('examples/cifar_cnn.py'));
    });

    it('counts output elements × C_in × F·F for each conv and out × in for each Linear', () => {
      assert.deepEqual(macsOf(net), {
        conv1: 16 * 32 * 32 * 3 * (3 * 3),
        conv2: 32 * 16 * 16 * 16 * (3 * 3),
        conv3: 64 * 8 * 8 * 32 * (3 * 3),
        pool: 0,
        fc1: 500 * (64 * 4 * 4),
        dropout: 0,
        fc2: 10 * 500,
      });
      assert.equal(net?.totalMacs, 16 * 32 * 32 * 3 * 9 + 32 * 16 * 16 * 16 * 9 + 64 * 8 * 8 * 32 * 9 + 500 * 1024 + 10 * 500);
    });

    it('counts each layer output in float32, the shared pool at its last call', () => {
      assert.equal(layerOf(net, 'conv1').outputBytes, 16 * 32 * 32 * 4);
      const outputs = 16 * 32 * 32 + 32 * 16 * 16 + 64 * 8 * 8 + 64 * 4 * 4 + 500 + 500 + 10;
      assert.equal(net?.activationBytes, outputs * 4);
    });

    it('follows the receptive field through the pool after every conv, though the report shows the pool once', () => {
      assert.deepEqual(fieldOf(net, 'conv1'), square(3, 1));
      // conv1 → pool (3 + 1·1 = 4, jump 2) → conv2: 4 + 2·2 = 8
      assert.deepEqual(fieldOf(net, 'conv2'), square(3 + 1 + 2 * 2, 2));
      // → pool (8 + 1·2 = 10, jump 4) → conv3: 10 + 2·4 = 18
      assert.deepEqual(fieldOf(net, 'conv3'), square(8 + 2 + 2 * 4, 4));
      assert.deepEqual(fieldOf(net, 'pool'), square(18 + 1 * 4, 8));
      assert.equal(fieldOf(net, 'fc1'), undefined);
    });

    it('prints torchinfo\'s Mult-Adds column and totals in the summary', () => {
      assert.ok(net);
      const text = formatSummaryTable(net);
      assert.match(text, /Layer \(type\)\s+Output shape\s+Param #\s+Mult-Adds/);
      assert.match(text, /conv1 \(Conv2d\)\s+\[1, 16, 32, 32\]\s+448\s+442,368/);
      assert.match(text, /pool \(MaxPool2d\)\s+\[1, 64, 4, 4\]\s+--\s+--/);
      assert.match(text, /Total mult-adds \(M\): 3\.32/);
      assert.match(text, /Forward pass size \(MB\): 0\.12/);
    });

    it('writes macs on each layer and totalMacs on the model in the JSON', () => {
      assert.ok(net);
      const [model] = (JSON.parse(JSON.stringify(toJsonDocument('cifar_cnn.py', [net]))) as { models: { totalMacs: number; activationBytes: number; layers: { name: string; macs: number; outputBytes: number; receptiveField?: unknown }[] }[] }).models;
      assert.equal(model?.totalMacs, 3_318_664);
      assert.equal(model?.activationBytes, 122_824);
      const conv1 = model?.layers.find((l) => l.name === 'conv1');
      assert.deepEqual(conv1 && [conv1.macs, conv1.outputBytes, conv1.receptiveField], [442_368, 65_536, square(3, 1)]);
    });
  });

  it('counts a transposed conv by its input: in elements × C_out/groups × F·F', async () => {
    const [model] = await analyzePythonSource(`
import torch.nn as nn
# cnnlab: input 16x5x5
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2)
        self.grouped = nn.ConvTranspose2d(8, 4, 2, stride=2, groups=2)
    def forward(self, x):
        return self.grouped(self.up(x))
`);
    // 5 → (5 − 1)·2 + 3 = 11 → (11 − 1)·2 + 2 = 22
    assert.deepEqual(macsOf(model), { up: 16 * 5 * 5 * 8 * (3 * 3), grouped: 8 * 11 * 11 * (4 / 2) * (2 * 2) });
    assert.equal(fieldOf(model, 'up'), undefined, 'a transposed conv ends the chain');
  });

  it('divides by the groups: grouped and depthwise convs', async () => {
    const [model] = await analyzePythonSource(`
import torch.nn as nn
# cnnlab: input 8x16x16
class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(8, 32, 3, padding=1, groups=4)
        self.depthwise = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pointwise = nn.Conv2d(32, 64, 1)
    def forward(self, x):
        return self.pointwise(self.depthwise(self.grouped(x)))
`);
    assert.deepEqual(macsOf(model), { grouped: 32 * 16 * 16 * (8 / 4) * 9, depthwise: 32 * 16 * 16 * (32 / 32) * 9, pointwise: 64 * 16 * 16 * 32 * 1 });
  });

  describe('receptive fields of LeNet-like stacks: r += (d·(k − 1) + 1 − 1)·j, j ·= s', () => {
    it('LeNet-5 with its pools as layers: each unit of the second conv sees a 14×14 patch', async () => {
      const [lenet] = await analyzePythonSource(read('test/fixtures/models/lenet5.py'));
      assert.deepEqual(
        lenet?.layers.map((l) => [l.name, l.receptiveField?.size[0], l.receptiveField?.jump[0]]),
        [
          ['features.0', 5, 1],
          ['features.1', undefined, undefined],
          ['features.2', 5 + 1, 2],
          ['features.3', 6 + 4 * 2, 2],
          ['features.4', undefined, undefined],
          ['features.5', 14 + 1 * 2, 4],
          ['classifier.0', undefined, undefined],
          ['classifier.1', undefined, undefined],
          ['classifier.2', undefined, undefined],
          ['classifier.3', undefined, undefined],
          ['classifier.4', undefined, undefined],
        ],
      );
    });

    it('the same with F.max_pool2d, which is no layer: the shrink implies the pool', async () => {
      const [lenet] = await analyzePythonSource(`
import torch.nn as nn
import torch.nn.functional as F
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc = nn.Linear(16 * 4 * 4, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))
`);
      assert.deepEqual(fieldOf(lenet, 'conv1'), square(5, 1));
      assert.deepEqual(fieldOf(lenet, 'conv2'), square(5 + 1 + 4 * 2, 2));
    });

    it('with strides, dilation and rectangular kernels, per axis', async () => {
      const [model] = await analyzePythonSource(`
import torch.nn as nn
# cnnlab: input 3x64x64
class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.b = nn.Conv2d(8, 8, 3, dilation=2, padding=2)
        self.c = nn.Conv2d(8, 8, (1, 5), padding=(0, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.d = nn.Conv2d(8, 8, 1)
    def forward(self, x):
        return self.d(self.pool(self.c(self.b(self.a(x)))))
`);
      assert.deepEqual(fieldOf(model, 'a'), square(3, 2));
      // k_eff = 2·(3 − 1) + 1 = 5: 3 + 4·2
      assert.deepEqual(fieldOf(model, 'b'), square(3 + 4 * 2, 2));
      assert.deepEqual(fieldOf(model, 'c'), { size: [11, 11 + 4 * 2], jump: [2, 2] });
      assert.equal(fieldOf(model, 'd'), undefined, 'an adaptive pool ends the chain');
    });

    it('a residual block: the shortcut reads the block input, the next conv the larger branch', async () => {
      const models = await analyzePythonSource(read('test/fixtures/models/resnet.py'));
      const resnet = models.find((m) => m.name === 'ResNet');
      // conv1 3, layer1: four 3×3 convs at jump 1 → 11; layer2.0.conv1 stride 2 → 13, jump 2
      assert.deepEqual(fieldOf(resnet, 'layer1.1.conv2'), square(3 + 4 * 2, 1));
      assert.deepEqual(fieldOf(resnet, 'layer2.0.conv1'), square(11 + 2, 2));
      assert.deepEqual(fieldOf(resnet, 'layer2.0.shortcut.0'), square(11, 2));
      assert.deepEqual(fieldOf(resnet, 'layer2.1.conv1'), square(13 + 2 * 2 + 2 * 2, 2));
    });
  });

  it('counts a TF.js model in NHWC: conv2d out elements × C_in × F·F, dense out × in', async () => {
    const [mnist] = await analyzeTypescriptSource(read('examples/tfjs_mnist_cnn.js'));
    assert.deepEqual(macsOf(mnist), {
      conv2d_1: 28 * 28 * 16 * 1 * (3 * 3),
      maxPooling2d_1: 0,
      conv2d_2: 14 * 14 * 32 * 16 * (3 * 3),
      maxPooling2d_2: 0,
      flatten_1: 0,
      dropout_1: 0,
      dense_1: 128 * (7 * 7 * 32),
      dense_2: 10 * 128,
    });
    assert.deepEqual(fieldOf(mnist, 'conv2d_2'), square(3 + 1 + 2 * 2, 2));
    assert.deepEqual(fieldOf(mnist, 'maxPooling2d_2'), square(8 + 1 * 2, 4));
    const [cifar] = await analyzeTypescriptSource(read('test/fixtures/tfjs/cifar_add.ts'));
    // 5×5 stride 2, then 3×3 at dilation 2 (k_eff 5), then a 3×3 pool stride 2
    assert.deepEqual(fieldOf(cifar, 'averagePooling2d_1'), square(5 + 4 * 2 + 2 * 2, 4));
    assert.equal(layerOf(cifar, 'batchNormalization_1').macs, 6 * 6 * 64);
  });

  describe('against PyTorch', () => {
    const truth = JSON.parse(read('test/fixtures/models/macs.json')) as { torch: string; models: Record<string, Record<string, Record<string, number>>> };
    for (const [file, models] of Object.entries(truth.models)) {
      for (const [name, layers] of Object.entries(models)) {
        it(`${file}: ${name}: every conv and Linear as forward hooks count it in PyTorch ${truth.torch}`, async () => {
          const model = (await analyzePythonSource(read(file))).find((m) => m.name === name);
          const actual = Object.fromEntries(Object.keys(layers).map((layer) => [layer, layerOf(model, layer).macs]));
          assert.deepEqual(actual, layers);
        });
      }
    }
  });

  describe('the rules', () => {
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const layer = (spec: LayerSpec, params: number, out: number[] | null = [1, 4, 8, 8]): LayerReport => ({ name: 'x', type: 'X', range, in: [1, 4, 8, 8], out, params, spec });
    const model = (layers: LayerReport[]): ModelReport => ({ name: 'M', kind: 'class', range, extent: range, input: [1, 4, 8, 8], inputSource: 'given', output: null, totalParams: 0, trainableParams: 0, layers, diagnostics: [] });

    it('counts normalisation one per output element, embeddings and weightless layers 0', () => {
      assert.equal(layerMacs(layer({ kind: 'batchNorm', rank: 2, features: 4, affine: true } as LayerSpec, 8)), 4 * 8 * 8);
      assert.equal(layerMacs(layer({ kind: 'embedding', count: 100, dim: 8 }, 800)), 0);
      assert.equal(layerMacs(layer({ kind: 'elementwise' }, 0)), 0);
    });

    it('gives a weighted kind it has no rule for null, a weightless one 0, and an unknown shape null', () => {
      const novel = { kind: 'somethingNew' } as unknown as LayerSpec;
      assert.equal(layerMacs(layer(novel, 12)), null);
      assert.equal(layerMacs(layer(novel, 0)), 0);
      assert.equal(layerMacs(layer({ kind: 'linear', inFeatures: 8, outFeatures: 4, bias: true }, 36, null)), null);
    });

    it('keeps MACs already set (exact mode\'s), and the total is null while one is unknown', () => {
      const exact = { ...layer({ kind: 'linear', inFeatures: 8, outFeatures: 4, bias: true }, 36), macs: 7 };
      assert.equal(addCosts(model([exact])).totalMacs, 7);
      assert.equal(addCosts(model([exact, layer({ kind: 'linear', inFeatures: 8, outFeatures: 4, bias: true }, 36, null)])).totalMacs, null);
      assert.equal(addCosts(model([exact, layer({ kind: 'linear', inFeatures: 8, outFeatures: 4, bias: true }, 36, null)])).activationBytes, null);
    });

    it('counts a layer forward never calls as nothing', () => {
      const idle = { ...layer({ kind: 'linear', inFeatures: 8, outFeatures: 4, bias: true }, 36, null), in: null, note: 'not called in forward' };
      const report = addCosts(model([idle]));
      assert.deepEqual([report.totalMacs, report.activationBytes], [0, 0]);
      assert.deepEqual(receptiveFields(report), [undefined]);
    });
  });

  it('writes big counts as torchinfo would round them', () => {
    assert.deepEqual([999, 1000, 442_368, 999_999, 3_318_664, 12_345_678_901].map(formatCompact), ['999', '1 K', '442 K', '1 M', '3.32 M', '12.3 G']);
  });
});
