// Installed model packages read as source, never run: the course's transfer-learning lesson (a
// pretrained torchvision VGG16, its features frozen, its last layer replaced) in a file and in a
// notebook, against what PyTorch itself counts; and a project's own package, reached through
// `import pkg.sub as m` and `from .x import *`.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports, type ModelPackages } from '../../src/core/analysis/imports';
import { analyzeNotebook, NotebookError } from '../../src/core/analysis/notebook';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');

const lessonCells = [
  'import torch\nimport torch.nn as nn\nfrom torchvision import datasets, models, transforms',
  '# Load the pretrained model from pytorch\nmodel = models.vgg16(pretrained=True)',
  '# Freeze training for all "features" layers\nfor param in model.features.parameters():\n    param.requires_grad = False',
  'n_inputs = model.classifier[6].in_features\nlast_layer = nn.Linear(n_inputs, 5)\nmodel.classifier[6] = last_layer',
  'criterion = nn.CrossEntropyLoss()\noptimizer = torch.optim.SGD(model.classifier.parameters(), lr=0.001)\nfor epoch in range(2):\n    for data, target in train_loader:\n        optimizer.zero_grad()\n        loss = criterion(model(data), target)',
];

/** What PyTorch counts for the lesson's model, built with weights=None: the analysis never downloads weights either. */
function pytorchCounts(): { total: number; trainable: number } {
  const run = spawnSync(python, ['-c', [
    'import torch.nn as nn, json',
    'from torchvision import models',
    'model = models.vgg16(weights=None)',
    'for p in model.features.parameters(): p.requires_grad = False',
    'model.classifier[6] = nn.Linear(model.classifier[6].in_features, 5)',
    'print(json.dumps({"total": sum(p.numel() for p in model.parameters()), "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}))',
  ].join('\n')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { total: number; trainable: number };
}

/** Where the interpreter's torchvision is, as the extension's probe reports it. */
function probedPackages(): ReturnType<ModelPackages> {
  const run = spawnSync(python, [join(repo, 'src/trainer/probe.py'), '--quick'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const packages = (JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { modelPackages?: Record<string, string | null> }).modelPackages;
  assert.ok(packages?.['torchvision'], 'the probe finds torchvision');
  return packages;
}

describe('installed model packages and a project\'s packages, read as source', function () {
  this.timeout(120_000);
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cnnlab-packages-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const analyseFile = async (path: string, text: string, packages: ReturnType<ModelPackages>): Promise<ModelReport[]> => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const tree = parser.parse(text);
    assert.ok(tree);
    const imports = new FileImports(parser, path, undefined, undefined, () => packages);
    try {
      return analyzeTree(tree, { defaultInput: [3, 224, 224], imports });
    } finally {
      imports.dispose();
      tree.delete();
    }
  };

  it('counts the transfer-learning lesson\'s VGG16 as PyTorch does, frozen features apart, in a file, offline', async () => {
    const truth = pytorchCounts();
    const path = join(root, 'transfer.py');
    const text = lessonCells.join('\n\n\n');
    writeFileSync(path, text);
    const model = (await analyseFile(path, text, probedPackages())).find((m) => m.name === 'model');
    assert.ok(model, 'the model built from torchvision is a model of the file');
    assert.deepEqual([model.totalParams, model.trainableParams], [truth.total, truth.trainable]);
    assert.deepEqual([model.totalParams, model.trainableParams], [134_281_029, 119_566_341]);
    assert.deepEqual(model.output, [1, 5]);
    assert.equal(model.complete, true, JSON.stringify(model.incomplete));
    assert.equal(model.layers.find((l) => l.name === 'classifier.6')?.params, 20_485);
  });

  it('does the same in a notebook, where the cells that train are never part of the model', async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const path = join(root, 'Transfer_Learning.ipynb');
    const json = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: lessonCells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })) });
    writeFileSync(path, json);
    const packages = probedPackages();
    const imports = new FileImports(parser, path, undefined, undefined, () => packages);
    try {
      const result = analyzeNotebook(json, parser, { defaultInput: [3, 224, 224], imports });
      assert.ok(!(result instanceof NotebookError));
      const model = result.reports.find((m) => m.name === 'model');
      assert.ok(model);
      assert.deepEqual([model.totalParams, model.trainableParams, model.complete], [134_281_029, 119_566_341, true]);
      assert.equal(model.range.cell, 1, 'the model is placed in the cell that builds it');
      // Neither the loss, the optimizer nor the loop's variables are models.
      assert.deepEqual(result.reports.map((m) => m.name), ['model']);
    } finally {
      imports.dispose();
    }
  });

  it('reads no installed package the probe did not name: the model is then shown not read, saying what to install', async () => {
    const path = join(root, 'transfer.py');
    const text = lessonCells.join('\n\n\n');
    writeFileSync(path, text);
    const reports = await analyseFile(path, text, {});
    assert.deepEqual(reports.map((m) => [m.name, m.complete, m.output, m.layers.length]), [['model', false, null, 0]]);
    assert.match(reports[0]?.outputNote ?? '', /^torchvision\.models\.vgg16\(\) is not read: torchvision's source was not found \(install torchvision in the selected Python environment, or select the one that has it\)$/);
  });

  it('gives no lens to an instance of a package class it cannot read: a Counter or a scaler is not known to be a model', async () => {
    const text = [
      'from collections import Counter',
      'from sklearn.preprocessing import StandardScaler',
      'import torch.nn as nn',
      '',
      'review_lens = Counter([len(x) for x in [[1, 2], [3]]])',
      'scaler = StandardScaler()',
      'head = nn.Sequential(nn.Linear(4, 2))',
      '',
    ].join('\n');
    const path = join(root, 'not_models.py');
    writeFileSync(path, text);
    assert.deepEqual((await analyseFile(path, text, {})).map((m) => m.name), ['head']);
  });

  it('gives no second lens to a model a function hands back: `trained_rnn = train(rnn)` is rnn', async () => {
    const text = readFileSync(resolve(__dirname, '../fixtures/semantics/sequences.py'), 'utf8');
    const path = join(root, 'sequences.py');
    writeFileSync(path, text);
    const reports = await analyseFile(path, text, {});
    assert.deepEqual(reports.map((m) => [m.name, m.input, m.inputSource]), [
      ['SimpleRNN', [1, 1, 1], 'first layer'],
      ['Sentiment', [1, 1], 'first layer'],
      ['StepsFirst', [1, 1, 8], 'first layer'],
      ['Mirrored', [1, 3, 32, 32], 'first layer'],
      ['rnn', [1, 1, 1], 'first layer'],
    ]);
  });

  it('gives no lens to an instance of a package class that is no nn.Module, read from torchvision: a transforms pipeline', async () => {
    const text = [
      'import torch.nn as nn',
      'from torchvision import transforms',
      '',
      'custom_image_transform = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])',
      '',
      '',
      'def pipeline():',
      '    return transforms.Compose([transforms.Normalize((0.5,), (0.5,))])',
      '',
      '',
      'def head():',
      '    return nn.Sequential(nn.Linear(4, 2))',
      '',
    ].join('\n');
    const path = join(root, 'transforms_not_models.py');
    writeFileSync(path, text);
    assert.deepEqual((await analyseFile(path, text, probedPackages())).map((m) => m.name), ['head']);
  });

  it('follows `import pkg.sub as m`, `from pkg import sub` and `from .x import *` in the project\'s own package', async () => {
    const write = (relative: string, text: string) => {
      mkdirSync(dirname(join(root, relative)), { recursive: true });
      writeFileSync(join(root, relative), text);
    };
    write('zoo/__init__.py', 'from .nets import *\n');
    write('zoo/nets.py', 'import torch.nn as nn\n\n__all__ = ["tiny"]\n\n\ndef tiny(width=8):\n    return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))\n');
    const text = 'import zoo.nets as nets\nimport zoo\nfrom zoo import nets as again\n\nfirst = nets.tiny(4)\nsecond = zoo.tiny(16)\nthird = again.tiny()\n';
    const path = join(root, 'main.py');
    writeFileSync(path, text);
    const models = await analyseFile(path, text, {});
    const params = Object.fromEntries(models.map((m) => [m.name, [m.totalParams, m.complete]]));
    // Conv2d(3, w, 3) then a LazyLinear over w·30·30 features, as PyTorch materializes it at the 3×32×32 a Conv2d(3, …) first layer reads.
    const expected = (w: number) => 3 * 9 * w + w + (w * 30 * 30 * 10 + 10);
    assert.deepEqual(params, { first: [expected(4), true], second: [expected(16), true], third: [expected(8), true] });
  });
});
