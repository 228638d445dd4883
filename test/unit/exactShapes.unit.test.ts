// Exact mode with the real helper (src/trainer/shapes.py) and the real PyTorch of /usr/bin/python3.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type ExactModel, ExactShapes, exactRequests, withExactShapes } from '../../src/core/analysis/exactShapes';
import type { ModelReport } from '../../src/core/analysis/report';
import { analyzePythonSource } from './support/analysis';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
const zooFile = resolve(repo, 'test/fixtures/exact/zoo.py');
const zoo = readFileSync(zooFile, 'utf8');

function modelFile(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cnnlab-exact-')), 'model.py');
  writeFileSync(file, source);
  return file;
}

/** The 1-based line of zoo.py holding `text`: its only one, or with `after`, the first below the line holding that. */
function lineOf(text: string, after?: string): number {
  const lines = zoo.split('\n');
  const start = after === undefined ? 0 : lines.findIndex((line) => line.includes(after));
  const found = lines.flatMap((line, index) => (index >= start && line.includes(text) ? [index + 1] : []));
  assert.ok(after === undefined ? found.length === 1 : found.length > 0, `"${text}" is in zoo.py once`);
  return found[0] as number;
}

const tiny = (body: string) => `import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n${body}`;
const tinyModel = { name: 'Tiny', build: 'Tiny()' };

interface Row {
  name: string;
  type: string;
  /** Only where it is not 1. */
  calls?: number;
  in: number[];
  out: number[];
  params: number;
  macs: number | null;
  line: number | null;
}

/**
 * torchvision's BasicBlock ResNet-18 on 3×32×32 as zoo.py writes it, layer by layer in call order,
 * from the architecture alone: conv params K·K·C_in·C_out (no bias), BatchNorm 2·C; MACs of a conv
 * output elements × C_in × K·K, of a BatchNorm one per output element, of the Linear 10 × 512.
 */
function resnet18Rows(): Row[] {
  const conv = (name: string, cin: number, cout: number, k: number, inSide: number, side: number, line: number): Row => ({
    name, type: 'Conv2d', in: [1, cin, inSide, inSide], out: [1, cout, side, side], params: k * k * cin * cout, macs: cout * side * side * cin * k * k, line,
  });
  const other = (name: string, type: string, c: number, side: number, params: number, line: number, calls = 1): Row => ({
    name, type, ...(calls === 1 ? {} : { calls }), in: [1, c, side, side], out: [1, c, side, side], params, macs: type === 'BatchNorm2d' ? c * side * side : 0, line,
  });
  const rows: Row[] = [
    conv('conv1', 3, 64, 3, 32, 32, lineOf('self.conv1 = nn.Conv2d(3, 64')),
    other('bn1', 'BatchNorm2d', 64, 32, 128, lineOf('self.bn1 = nn.BatchNorm2d(64)')),
    other('relu', 'ReLU', 64, 32, 0, lineOf('self.relu', 'class ResNet(')),
  ];
  let inplanes = 64;
  for (let stage = 1; stage <= 4; stage++) {
    const planes = 64 * 2 ** (stage - 1);
    const side = 32 / 2 ** (stage - 1);
    for (const block of [0, 1]) {
      const prefix = `layer${stage}.${block}`;
      const down = block === 0 && stage > 1;
      const inSide = down ? side * 2 : side;
      rows.push(
        conv(`${prefix}.conv1`, inplanes, planes, 3, inSide, side, lineOf('self.conv1 = nn.Conv2d(inplanes')),
        other(`${prefix}.bn1`, 'BatchNorm2d', planes, side, 2 * planes, lineOf('self.bn1 = nn.BatchNorm2d(planes)')),
        other(`${prefix}.relu`, 'ReLU', planes, side, 0, lineOf('self.relu', 'class BasicBlock'), 2),
        conv(`${prefix}.conv2`, planes, planes, 3, side, side, lineOf('self.conv2 = nn.Conv2d(planes')),
        other(`${prefix}.bn2`, 'BatchNorm2d', planes, side, 2 * planes, lineOf('self.bn2 = nn.BatchNorm2d(planes)')),
      );
      if (down) {
        rows.push(
          conv(`${prefix}.downsample.0`, inplanes, planes, 1, inSide, side, lineOf('nn.Conv2d(self.inplanes, planes * block.expansion, 1')),
          other(`${prefix}.downsample.1`, 'BatchNorm2d', planes, side, 2 * planes, lineOf('nn.BatchNorm2d(planes * block.expansion)')),
        );
      }
      inplanes = planes;
    }
  }
  rows.push(
    { name: 'avgpool', type: 'AdaptiveAvgPool2d', in: [1, 512, 4, 4], out: [1, 512, 1, 1], params: 0, macs: 0, line: lineOf('self.avgpool =') },
    { name: 'fc', type: 'Linear', in: [1, 512], out: [1, 10], params: 512 * 10 + 10, macs: 512 * 10, line: lineOf('self.fc = nn.Linear') },
  );
  return rows;
}

/** The fields a Row names, from PyTorch's answer. */
function rowsOf(model: ExactModel | undefined, withCalls = false): Row[] {
  return (model?.layers ?? []).map((l) => ({ name: l.name, type: l.type, ...(withCalls && l.calls !== 1 ? { calls: l.calls } : {}), in: l.in ?? [], out: l.out ?? [], params: l.params, macs: l.macs, line: l.line }));
}

describe('exact shapes (PyTorch runs the model)', function () {
  this.timeout(120_000);
  const log: string[] = [];
  let exact: ExactShapes;

  before(() => {
    exact = new ExactShapes({ python, script: resolve(repo, 'src/trainer/shapes.py'), onLog: (line) => log.push(line) });
  });

  after(() => exact.dispose());

  it("gives PyTorch's shapes and counts for the CIFAR example, and they agree with the static analysis", async () => {
    const file = resolve(repo, 'examples/cifar_cnn.py');
    const [model] = await exact.shapes(file, [{ name: 'Net', build: 'Net()', input: [1, 3, 32, 32] }]);
    assert.ok(model);
    assert.equal(model.error, null);
    assert.deepEqual(model.output, [1, 10]);
    assert.equal(model.totalParams, 541_094);
    assert.equal(model.trainableParams, 541_094);
    // MACs: 16·32·32 outputs × 3·3·3
    assert.deepEqual(model.layers?.find((l) => l.name === 'conv1'), { name: 'conv1', type: 'Conv2d', calls: 1, in: [1, 3, 32, 32], out: [1, 16, 32, 32], params: 448, macs: 442_368, line: 9 });
    // called three times: its last call's shapes
    assert.deepEqual(model.layers?.find((l) => l.name === 'pool'), { name: 'pool', type: 'MaxPool2d', calls: 3, in: [1, 64, 8, 8], out: [1, 64, 4, 4], params: 0, macs: 0, line: 12 });
    assert.deepEqual(model.layers?.map((l) => l.name), ['conv1', 'pool', 'conv2', 'conv3', 'fc1', 'dropout', 'fc2']);
    const [report] = await analyzePythonSource(readFileSync(file, 'utf8'));
    assert.ok(report);
    const merged = withExactShapes(report, model);
    assert.equal(merged.exact, true);
    const byName = (layers: ModelReport['layers']) => Object.fromEntries(layers.map((l) => [l.name, [l.range, l.spec, l.out, l.params]]));
    assert.deepEqual(byName(merged.layers), byName(report.layers));
  });

  it('builds each kind of model by its expression and lists every leaf module with its shapes, parameters, MACs and line', async () => {
    const models = await exact.shapes(zooFile, [
      { name: 'ResNet18', build: 'ResNet18()', input: [1, 3, 32, 32] },
      { name: 'small_cnn', build: 'small_cnn()', input: [1, 3, 32, 32] },
      { name: 'model', build: 'model', input: [1, 1, 28, 28] },
      { name: 'Tagger', build: 'Tagger()', input: [1, 12] },
      { name: 'TiedLM', build: 'TiedLM()', input: [1, 12] },
    ]);
    const [resnet, factory, instance, tagger, tied] = models;
    assert.deepEqual(models.map((m) => m.error), [null, null, null, null, null]);

    // a subclass passing its block and layer counts up: all 51 leaves, in call order
    assert.deepEqual(rowsOf(resnet, true), resnet18Rows());
    assert.equal(resnet?.totalParams, 11_173_962); // kuangliu/pytorch-cifar's ResNet18, the same architecture
    // by hand: convolutions and fc 555,422,720, BatchNorms 614,400 (their output elements)
    assert.equal(resnet?.totalMacs, 556_037_120);

    // a factory: the Stem's layers are built in blocks.py, so they have no line in zoo.py
    assert.deepEqual(rowsOf(factory), [
      { name: '0.conv', type: 'Conv2d', in: [1, 3, 32, 32], out: [1, 8, 32, 32], params: 3 * 8 * 9 + 8, macs: 8 * 32 * 32 * 3 * 9, line: null },
      { name: '0.act', type: 'ReLU', in: [1, 8, 32, 32], out: [1, 8, 32, 32], params: 0, macs: 0, line: null },
      { name: '1', type: 'MaxPool2d', in: [1, 8, 32, 32], out: [1, 8, 16, 16], params: 0, macs: 0, line: lineOf('nn.MaxPool2d(2),') },
      // transposed: input elements × C_out × K·K
      { name: '2', type: 'ConvTranspose2d', in: [1, 8, 16, 16], out: [1, 4, 32, 32], params: 8 * 4 * 4 + 4, macs: 8 * 16 * 16 * 4 * 4, line: lineOf('nn.ConvTranspose2d(8, 4, 2') },
      { name: '3', type: 'Flatten', in: [1, 4, 32, 32], out: [1, 4096], params: 0, macs: 0, line: lineOf('nn.Flatten(),') },
      { name: '4', type: 'Linear', in: [1, 4096], out: [1, 10], params: 4096 * 10 + 10, macs: 4096 * 10, line: lineOf('nn.Linear(4 * 32 * 32, classes)') },
    ]);

    // a module-level instance with arguments, built while the file was imported; the layer forward never calls comes last
    assert.deepEqual(rowsOf(instance, true), [
      { name: 'fc1', type: 'Linear', in: [1, 784], out: [1, 32], params: 784 * 32 + 32, macs: 784 * 32, line: lineOf('self.fc1 = nn.Linear(28 * 28, hidden)') },
      { name: 'fc2', type: 'Linear', in: [1, 32], out: [1, 10], params: 32 * 10 + 10, macs: 32 * 10, line: lineOf('self.fc2 = nn.Linear(hidden, classes)') },
      { name: 'spare', type: 'Linear', calls: 0, in: [], out: [], params: 32 * 32 + 32, macs: 0, line: lineOf('self.spare') },
    ]);

    // an LSTM's (output, (h, c)), and a model returning a tuple; MACs have no rule for an LSTM, as in the static analysis
    assert.deepEqual(tagger?.layers?.find((l) => l.name === 'lstm'), {
      name: 'lstm', type: 'LSTM', calls: 1, in: [1, 12, 32], out: [1, 12, 48], outputs: [[1, 12, 48], [[1, 1, 48], [1, 1, 48]]],
      params: 4 * 48 * (32 + 48) + 2 * 4 * 48, macs: null, line: lineOf('nn.LSTM('),
    });
    assert.deepEqual([tagger?.output, tagger?.outputs, tagger?.totalMacs], [[1, 12, 5], [[1, 12, 5], [1, 1, 48]], null]);

    // tied weights: the embedding holds the shared matrix, the decoder only its bias
    assert.deepEqual(rowsOf(tied), [
      { name: 'embed', type: 'Embedding', in: [1, 12], out: [1, 12, 32], params: 1000 * 32, macs: 0, line: lineOf('self.embed', 'class TiedLM') },
      { name: 'decoder', type: 'Linear', in: [1, 12, 32], out: [1, 12, 1000], params: 1000, macs: 12 * 32 * 1000, line: lineOf('self.decoder = nn.Linear') },
    ]);
    assert.equal(tied?.totalParams, 1000 * 32 + 1000);
    assert.equal(tied?.layers?.reduce((sum, l) => sum + l.params, 0), tied?.totalParams);
  });

  it('lays PyTorch\'s layers onto the static report: static ranges by name, else the constructing line, else the model; its diagnostics stay', async () => {
    const statics = await analyzePythonSource(zoo);
    const resnetReport = statics.find((r) => r.name === 'ResNet18');
    const classifier = statics.find((r) => r.name === 'Classifier');
    const tiedReport = statics.find((r) => r.name === 'TiedLM');
    assert.ok(resnetReport && classifier && tiedReport);
    // what the static analysis gives a factory or an instance it cannot follow: the model, no layers
    const factoryReport: ModelReport = { ...classifier, name: 'small_cnn', kind: 'factory', build: 'small_cnn()', input: [1, 3, 32, 32], layers: [], diagnostics: [{ range: classifier.range, message: 'a static warning', severity: 'warning' }] };
    const instanceReport: ModelReport = { ...classifier, name: 'model', kind: 'instance', build: 'model', input: [1, 1, 28, 28] };
    const [resnet, factory, instance, tied] = await exact.shapes(zooFile, exactRequests([resnetReport, factoryReport, instanceReport, tiedReport]));
    assert.ok(resnet && factory && instance && tied);

    const mergedResnet = withExactShapes(resnetReport, resnet, zoo);
    const staticRanges = new Map(resnetReport.layers.map((l) => [l.name, l.range]));
    assert.equal(mergedResnet.layers.length, 51);
    assert.deepEqual(mergedResnet.layers.map((l) => l.name), resnet18Rows().map((r) => r.name));
    for (const layer of mergedResnet.layers) assert.deepEqual(layer.range, staticRanges.get(layer.name), layer.name);
    assert.deepEqual([mergedResnet.totalMacs, mergedResnet.layers.find((l) => l.name === 'fc')?.macs], [556_037_120, 5120]);
    // float32 outputs, each layer's last call, as the static analysis counts them
    assert.equal(mergedResnet.activationBytes, 4 * resnet18Rows().reduce((sum, r) => sum + r.out.reduce((a, b) => a * b, 1), 0));
    assert.ok(mergedResnet.layers.every((l) => l.note === undefined));

    const mergedFactory = withExactShapes(factoryReport, factory, zoo);
    const maxPool = lineOf('nn.MaxPool2d(2),') - 1;
    assert.deepEqual(mergedFactory.layers.map((l) => [l.name, l.range]), [
      ['0.conv', factoryReport.range],
      ['0.act', factoryReport.range],
      ['1', { start: { line: maxPool, character: 8 }, end: { line: maxPool, character: 24 } }],
      ...['2', '3', '4'].map((name, i) => [name, { start: { line: maxPool + 1 + i, character: 8 }, end: { line: maxPool + 1 + i, character: (zoo.split('\n')[maxPool + 1 + i] ?? '').length } }]),
    ]);
    assert.deepEqual(mergedFactory.diagnostics, factoryReport.diagnostics);
    assert.equal(mergedFactory.totalMacs, 8 * 32 * 32 * 27 + 8 * 16 * 16 * 16 + 40_960);

    const mergedInstance = withExactShapes(instanceReport, instance, zoo);
    assert.deepEqual(mergedInstance.layers.map((l) => [l.name, l.note, l.range === classifier.layers.find((s) => s.name === l.name)?.range]), [
      ['fc1', undefined, true],
      ['fc2', undefined, true], // the static "its arguments are not constants" no longer applies
      ['spare', 'not called in forward', true],
    ]);
    assert.equal(mergedInstance.layers[1]?.spec?.kind, 'linear');

    const mergedTied = withExactShapes(tiedReport, tied, zoo);
    // The tied weight counts once, statically too.
    assert.deepEqual([tiedReport.totalParams, mergedTied.totalParams, mergedTied.layers.map((l) => l.params)], [33_000, 33_000, [32_000, 1000]]);
  });

  it('notes tuple outputs in Python\'s words, on the layer and the model', async () => {
    const [tagger] = await exact.shapes(zooFile, [{ name: 'Tagger', build: 'Tagger()', input: [1, 12] }]);
    const report = (await analyzePythonSource(zoo)).find((r) => r.name === 'Tagger');
    assert.ok(tagger && report);
    const merged = withExactShapes(report, tagger, zoo);
    assert.deepEqual(merged.layers.map((l) => [l.name, l.out, l.note]), [
      ['embed', [1, 12, 32], undefined],
      ['lstm', [1, 12, 48], 'returns ([1, 12, 48], ([1, 1, 48], [1, 1, 48]))'],
      ['out', [1, 12, 5], undefined],
    ]);
    assert.deepEqual([merged.output, merged.outputNote], [[1, 12, 5], 'returns ([1, 12, 5], [1, 1, 48])']);
  });

  it('gives None to the arguments forward requires after the input, an RNN\'s hidden state, and says so', async () => {
    const file = resolve(repo, 'test/fixtures/semantics/sequences.py');
    const source = readFileSync(file, 'utf8');
    const [rnn] = await exact.shapes(file, [{ name: 'SimpleRNN', build: 'SimpleRNN()', input: [1, 1, 1] }]);
    const report = (await analyzePythonSource(source)).find((r) => r.name === 'SimpleRNN');
    assert.ok(rnn && report);
    assert.deepEqual([rnn.error, rnn.givenNone], [null, ['hidden']]);
    const merged = withExactShapes(report, rnn, source);
    assert.deepEqual([merged.output, merged.outputNote], [[1, 1], 'returns ([1, 1], [1, 1, 32]); run with hidden=None']);
  });

  it('runs a model with TorchScript parts, whose calls no hook sees: their outputs from their parents, the layers inside as unseen', async () => {
    const file = modelFile(`import torch
import torch.nn as nn

class Block(torch.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    @torch.jit.script_method
    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))) + x

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.jit.script(nn.Conv2d(3, 4, 3, stride=2))
        self.block = Block()
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        x = self.block(self.stem(x))
        return self.fc(x.mean((2, 3)))
`);
    const [net] = await exact.shapes(file, [{ name: 'Net', build: 'Net()', input: [1, 3, 32, 32] }]);
    assert.equal(net?.error, null);
    assert.deepEqual([net?.output, net?.totalParams], [[1, 10], 112 + 148 + 8 + 50]);
    assert.deepEqual(
      net?.layers?.map((l) => [l.name, l.type, l.out, l.params, l.unseen ?? false]),
      [
        ['stem', 'Conv2d', [1, 4, 15, 15], 112, false],
        ['fc', 'Linear', [1, 10], 50, false],
        ['block.conv', 'Conv2d', null, 148, true],
        ['block.bn', 'BatchNorm2d', null, 8, true],
      ],
    );
    const report = (await analyzePythonSource(readFileSync(file, 'utf8'))).find((r) => r.name === 'Net');
    assert.ok(report && net);
    const merged = withExactShapes(report, net, readFileSync(file, 'utf8'));
    assert.match(merged.layers.find((l) => l.name === 'block.conv')?.note ?? '', /inside a TorchScript module/);
  });

  it('asks for every PyTorch model the analysis can build, by its build expression, and not for a block that needs arguments', async () => {
    const reports = await analyzePythonSource(readFileSync(resolve(repo, 'test/fixtures/models/resnet.py'), 'utf8'));
    const block = reports.find((r) => r.name === 'BasicBlock');
    assert.ok(block);
    assert.equal(block.build, undefined);
    assert.match(block.outputNote ?? '', /^BasicBlock needs arguments the file does not give/);
    assert.deepEqual(
      exactRequests(reports).map((r) => r.build),
      reports.filter((r) => r.name !== 'BasicBlock').map((r) => r.build),
    );
    assert.deepEqual(exactRequests([{ ...block, kind: 'factory', build: 'resnet(num_classes=10)' }]), [{ name: 'BasicBlock', build: 'resnet(num_classes=10)', input: block.input }]);
  });

  it('evaluates only an expression, and says when it does not give a module', async () => {
    const file = modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x)\n\n\nfactory = Tiny\n'));
    const [statement, notModule, ok] = await exact.shapes(file, [
      { name: 'a', build: 'import os', input: [1, 4] },
      { name: 'b', build: 'factory', input: [1, 4] },
      { name: 'c', build: 'factory()', input: [1, 4] },
    ]);
    assert.match(statement?.error ?? '', /^SyntaxError: invalid syntax \(<cnn-lab build>, line 1\)/);
    assert.equal(notModule?.error, 'TypeError: factory gives a type, not an nn.Module');
    assert.deepEqual(ok?.output, [1, 2]);
  });

  it('puts nn.Module.__init__ back after a build that raises', () => {
    const file = modelFile(tiny('        raise RuntimeError("half-built")\n'));
    const check = [
      'import sys; sys.path.insert(0, sys.argv[1])',
      'import torch, shapes',
      'original = torch.nn.Module.__init__',
      `reply = shapes.shapes({"id": 1, "file": sys.argv[2], "models": [{"name": "Tiny", "build": "Tiny()", "input": [1, 4]}]})`,
      'print(reply["models"][0]["error"], torch.nn.Module.__init__ is original)',
    ].join('\n');
    const run = spawnSync(python, ['-c', check, resolve(repo, 'src/trainer'), file], { encoding: 'utf8' });
    assert.equal(run.stdout.trim(), 'RuntimeError: half-built True', run.stderr);
  });

  it('counts frozen parameters as not trainable', async () => {
    const file = modelFile(tiny('        self.fc.weight.requires_grad_(False)\n\n    def forward(self, x):\n        return self.fc(x)\n'));
    const [model] = await exact.shapes(file, [{ ...tinyModel, input: [1, 4] }]);
    assert.equal(model?.totalParams, 10);
    assert.equal(model?.trainableParams, 2);
  });

  it('reports the error PyTorch raises in forward, per model, and keeps serving', async () => {
    const file = modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x.view(-1, 3))\n'));
    const [model] = await exact.shapes(file, [{ ...tinyModel, input: [1, 6] }]);
    assert.match(model?.error ?? '', /^RuntimeError: .*mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)/);
    const [report] = await analyzePythonSource(readFileSync(file, 'utf8'));
    assert.ok(report && model);
    const merged = withExactShapes(report, model);
    assert.equal(merged.exact, undefined);
    assert.match(merged.diagnostics.at(-1)?.message ?? '', /^PyTorch could not run Tiny on 1×4: RuntimeError/);
  });

  it('reports a file that fails to import, and one that prints, without losing the protocol', async () => {
    const failing = 'import torch.nn as nn\n\ndef width():\n    raise ValueError("half-written")\n\nWIDTH = width()\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(WIDTH, 2)\n';
    // The model's own error, on the model: not something exact shapes lacks.
    const [net] = await exact.shapes(modelFile(failing), [{ name: 'Net', build: 'Net()', input: [1, 4] }]);
    assert.deepEqual([net?.error, net?.cause, net?.layers], ['ValueError: half-written', undefined, undefined]);
    const printing = modelFile(`print("hello from the user's file")\n${tiny('\n    def forward(self, x):\n        print("in forward")\n        return self.fc(x)\n')}`);
    const [model] = await exact.shapes(printing, [{ ...tinyModel, input: [1, 4] }]);
    assert.deepEqual(model?.output, [1, 2]);
  });

  it('runs only what builds the model: a course script\'s training, writes, socket, process and hour-long sleep never run', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-script-'));
    const file = join(folder, 'course_script.py');
    copyFileSync(resolve(repo, 'test/fixtures/scripts/course_script.py'), file);
    const [net, model] = await exact.shapes(file, [{ name: 'Net', build: 'Net()', input: [1, 1, 28, 28] }, { name: 'model', build: 'model', input: [1, 1, 28, 28] }]);
    assert.deepEqual([net?.error, net?.output, net?.totalParams], [null, [1, 10], 40 + 173_120 + 650]);
    // The module-level model as the file changes it after building it: a new last layer, conv frozen.
    assert.deepEqual([model?.error, model?.output, model?.totalParams, model?.trainableParams], [null, [1, 10], 40 + 173_120 + 650, 173_120 + 650]);
    assert.deepEqual(readdirSync(folder), ['course_script.py']);
    // Each model says what of the top level was not run; the report keeps it for the lens.
    assert.deepEqual(model?.leftOut?.map((l) => l.line), [16, 41, 42, 46, 47, 48, 49, 50, 52]);
    assert.deepEqual(net?.leftOut, model?.leftOut, 'one module serves the request\'s models');
    const [staticModel] = (await analyzePythonSource(readFileSync(file, 'utf8'))).filter((r) => r.name === 'model');
    assert.ok(staticModel && model);
    assert.deepEqual(withExactShapes(staticModel, model).exactLeftOut?.[1], { line: 41, text: 'open(os.path.join(HERE, "written"), "w").write("a top-level write ran")' });
    // The helper's log says what it left out (stderr, which may arrive after the answer).
    const said = /course_script\.py: ran only what builds the model; left out 9 top-level statements \(line 16: HERE = .*; line 41: open\(os\.path\.join\(HERE, "written"\).*; line 47: model = train\(model\);/;
    for (const end = Date.now() + 5_000; Date.now() < end && !log.some((line) => said.test(line)); ) await new Promise((r) => setTimeout(r, 50));
    assert.ok(log.some((line) => said.test(line)), log.join('\n'));
  });

  it('builds the models of a half-written file, leaving out the statements that do not parse', async () => {
    const file = modelFile(`${tiny('\n    def forward(self, x):\n        return self.fc(x)\n')}\n\nmodel = \ncriterion = nn.CrossEntropyLoss(\n`);
    const [model] = await exact.shapes(file, [{ ...tinyModel, input: [1, 4] }]);
    assert.deepEqual([model?.error, model?.output], [null, [1, 2]]);
    assert.deepEqual(model?.leftOut?.map((l) => l.text.replace(/ — does not parse: .*/, ' — does not parse')), ['model = — does not parse', 'criterion = nn.CrossEntropyLoss( — does not parse']);
  });

  it('says what a model needs that is not here (a data file, a package), and builds the models that need neither', async () => {
    const file = modelFile(
      [
        'import torch.nn as nn',
        '',
        'VOCAB = len(open("data/text8").read().split())',
        '',
        '',
        'class Words(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.embed = nn.Embedding(VOCAB, 8)',
        '',
        '    def forward(self, x):',
        '        return self.embed(x)',
        '',
        '',
        'class Plots(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        import cnnlab_absent_plotting.pyplot',
        '        self.fc = nn.Linear(4, 2)',
        '',
        '    def forward(self, x):',
        '        return self.fc(x)',
        '',
        '',
        tiny('\n    def forward(self, x):\n        return self.fc(x)\n'),
      ].join('\n'),
    );
    const [words, plots, model] = await exact.shapes(file, [
      { name: 'Words', build: 'Words()', input: [1, 5] },
      { name: 'Plots', build: 'Plots()', input: [1, 4] },
      { ...tinyModel, input: [1, 4] },
    ]);
    // Loading what all three need fails on the data file: each is then loaded on its own.
    assert.deepEqual([model?.error, model?.output], [null, [1, 2]]);
    assert.deepEqual(words?.cause, { kind: 'missing-file', what: 'data/text8', line: 3, code: 'VOCAB = len(open("data/text8").read().split())' });
    assert.deepEqual(plots?.cause, { kind: 'missing-package', what: 'cnnlab_absent_plotting', line: 18, code: 'import cnnlab_absent_plotting.pyplot' });
    const reports = await analyzePythonSource(readFileSync(file, 'utf8'));
    const shown = (name: string, exactModel: ExactModel | undefined) => {
      const report = reports.find((r) => r.name === name);
      assert.ok(report && exactModel);
      return withExactShapes(report, exactModel).diagnostics.at(-1);
    };
    assert.deepEqual(shown('Words', words), {
      range: reports.find((r) => r.name === 'Words')?.range,
      severity: 'information',
      message: 'Words: exact shapes could not build it: `VOCAB = len(open("data/text8").read().split())` reads data/text8, which is not here. The static shapes stay.',
    });
    assert.equal(shown('Plots', plots)?.message, 'Plots: exact shapes could not build it: `import cnnlab_absent_plotting.pyplot` needs the package cnnlab_absent_plotting, which the selected Python does not have (install it there, or select an interpreter that has it). The static shapes stay.');
    // With the data beside the file, its relative path is read from there, as `python model.py` run in that folder reads it.
    mkdirSync(join(dirname(file), 'data'));
    writeFileSync(join(dirname(file), 'data', 'text8'), 'the quick brown fox');
    const [built] = await exact.shapes(file, [{ name: 'Words', build: 'Words()', input: [1, 5] }]);
    assert.deepEqual([built?.error, built?.totalParams], [null, 4 * 8]);
  });

  it('guards what a model\'s own code does: no weights downloaded, no network, process or write outside the temporary folder', async () => {
    // Outside the temporary folder, where the guard lets a model write.
    mkdirSync(join(repo, '.cache'), { recursive: true });
    const folder = mkdtempSync(join(repo, '.cache', 'guard-'));
    const effect = (name: string, line: string) => `class ${name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        ${line}\n        self.fc = nn.Linear(4, 2)\n\n    def forward(self, x):\n        return self.fc(x)\n\n\n`;
    const file = join(folder, 'effects.py');
    writeFileSync(file, [
      'import os, socket, subprocess, tempfile',
      'import torch.nn as nn',
      'from torchvision import models',
      '',
      '',
      effect('Writes', `open(${JSON.stringify(join(folder, 'written'))}, "w").write("x")`),
      effect('Connects', 'socket.create_connection(("192.0.2.1", 80))'),
      effect('Starts', `subprocess.run(["touch", ${JSON.stringify(join(folder, 'started'))}])`),
      effect('Scratch', 'open(os.path.join(tempfile.mkdtemp(), "scratch.txt"), "w").write("allowed")'),
      'model = models.vgg16(pretrained=True)',
      '',
    ].join('\n'));
    const at = (text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
    const small = (name: string) => ({ name, build: `${name}()`, input: [1, 4] });
    const [writes, connects, starts, scratch, vgg] = await exact.shapes(file, [small('Writes'), small('Connects'), small('Starts'), small('Scratch'), { name: 'model', build: 'model', input: [1, 3, 224, 224] }]);
    assert.equal(writes?.error, `Refused: exact shapes does not let a model's code write written (effects.py line ${at('written"')}): it runs only to build the model`);
    assert.equal(connects?.error, `Refused: exact shapes does not let a model's code connect to 192.0.2.1 (effects.py line ${at('socket.create_connection')}): it runs only to build the model`);
    assert.equal(starts?.error, `Refused: exact shapes does not let a model's code start a process (effects.py line ${at('subprocess.run')}): it runs only to build the model`);
    assert.deepEqual(scratch?.output, [1, 2]);
    assert.deepEqual(connects?.cause, { kind: 'refused', what: connects?.error?.slice('Refused: '.length), line: at('socket.create_connection'), code: 'socket.create_connection(("192.0.2.1", 80))' });
    // In the editor: a notice on the model, not a warning about it; the static shapes stay.
    const staticConnects = (await analyzePythonSource(readFileSync(file, 'utf8'))).find((r) => r.name === 'Connects');
    assert.ok(staticConnects && connects);
    const shown = withExactShapes(staticConnects, connects);
    assert.deepEqual([shown.output, shown.diagnostics.at(-1)?.severity, shown.diagnostics.at(-1)?.message], [[1, 2], 'information', `Connects: ${connects.error?.slice('Refused: '.length)}. The static shapes stay.`]);
    // torchvision's VGG16 with its random initialization: PyTorch's 138,357,544 parameters, nothing downloaded.
    assert.deepEqual([vgg?.error, vgg?.output, vgg?.totalParams], [null, [1, 1000], 138_357_544]);
    assert.deepEqual(readdirSync(folder), ['effects.py']);
    for (const end = Date.now() + 5_000; Date.now() < end && !log.some((l) => l.includes('pretrained weights not downloaded')); ) await new Promise((r) => setTimeout(r, 50));
    assert.ok(log.some((l) => /exact shapes: pretrained weights not downloaded \(https:\/\/download\.pytorch\.org\/models\/vgg16-397923af\.pth\)/.test(l)), log.join('\n'));
    rmSync(folder, { recursive: true });
  });

  it('gives up on a model that hangs, kills the helper, and answers the next request with a fresh one', async () => {
    const hanging = modelFile(tiny('        import time\n        time.sleep(600)\n\n    def forward(self, x):\n        return self.fc(x)\n'));
    await assert.rejects(exact.shapes(hanging, [{ ...tinyModel, input: [1, 4] }], 3000), /did not finish building the models within 3 s/);
    const [model] = await exact.shapes(modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x)\n')), [{ ...tinyModel, input: [1, 4] }]);
    assert.deepEqual(model?.output, [1, 2]);
    assert.ok(log.some((line) => line === 'exact shapes: helper killed by SIGKILL'), log.join('\n'));
  });

  it('stops a model that holds more memory than the helper may, says so, and answers the next request with a fresh helper', async () => {
    const limited = new ExactShapes({ python, script: resolve(repo, 'src/trainer/shapes.py'), onLog: (line) => log.push(line) });
    process.env['CNN_LAB_HELPER_MEMORY_MB'] = '1200';
    try {
      // 2·10⁹ parameters, 8 GB of float32: the initialization fills them page by page.
      const huge = modelFile('import torch.nn as nn\n\nclass Huge(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(50_000, 40_000)\n\n    def forward(self, x):\n        return self.fc(x)\n');
      const [model] = await limited.shapes(huge, [{ name: 'Huge', build: 'Huge()', input: [1, 50_000] }], 60_000);
      assert.equal(model?.cause?.kind, 'memory', JSON.stringify(model));
      assert.match(model?.cause?.what ?? '', /^exact shapes stopped while building Huge: the helper held 1\.\d GB, past its limit of 1\.2 GB$/);
      const [small] = await limited.shapes(modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x)\n')), [{ ...tinyModel, input: [1, 4] }]);
      assert.deepEqual(small?.output, [1, 2]);
    } finally {
      delete process.env['CNN_LAB_HELPER_MEMORY_MB'];
      await limited.dispose();
    }
  });

  it('stops by closing stdin, and records that it was stopped', async () => {
    const own = new ExactShapes({ python, script: resolve(repo, 'src/trainer/shapes.py'), onLog: (line) => log.push(line) });
    await own.shapes(resolve(repo, 'examples/mnist_mlp.py'), [{ name: 'Net', build: 'Net()', input: [1, 784] }]);
    await own.dispose();
    assert.equal(log.at(-1), 'exact shapes: helper stopped');
  });

  it('says so when the interpreter cannot start', async () => {
    const missing = new ExactShapes({ python: '/nonexistent/python3', script: resolve(repo, 'src/trainer/shapes.py'), onLog: () => undefined });
    await assert.rejects(missing.shapes('/tmp/x.py', []), /the PyTorch helper failed to start: spawn \/nonexistent\/python3 ENOENT/);
  });
});
