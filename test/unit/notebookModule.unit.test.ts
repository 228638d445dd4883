// A notebook's model as a module: the statements it needs and nothing else, checked by importing
// the module with real PyTorch (this machine has neither cv2 nor matplotlib, which the course's
// notebooks import); and a run trained from a notebook, as `cnn-lab train lesson.ipynb` runs it.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { ExactShapes, exactRequests, withExactShapes } from '../../src/core/analysis/exactShapes';
import { NotebookAnalysis, type NotebookCell, NotebookError, readNotebook } from '../../src/core/analysis/notebook';
import { exactModule, type NotebookModule, notebookModule, trainingModule } from '../../src/core/analysis/notebookModule';
import { cellPlacer } from '../../src/core/analysis/notebookView';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
let parser: Parser;

before(async () => {
  parser = (await loadGrammars(wasmDir)).parser('python');
});

function cellsOf(name: string): NotebookCell[] {
  const notebook = readNotebook(readFileSync(join(repo, 'test/fixtures/notebooks', name), 'utf8'));
  if (notebook instanceof NotebookError) throw notebook;
  return notebook.cells;
}

function moduleOf(cells: readonly NotebookCell[], ...targets: string[]): NotebookModule {
  const module = notebookModule(cells, targets, parser);
  if (module instanceof NotebookError) throw module;
  return module;
}

/** Imports the module in a fresh Python and runs `code` with it as `m`; prints what the code prints. */
function withModule(module: NotebookModule, code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnnlab-nbmodule-'));
  writeFileSync(join(dir, 'lesson_model.py'), module.text);
  const run = spawnSync(python, ['-c', `import sys; sys.path.insert(0, sys.argv[1]); import torch; import lesson_model as m\n${code}`, dir], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stderr}\n--- module:\n${module.text}`);
  return run.stdout.trim();
}

const count = 'print(sum(p.numel() for p in model.parameters()), list(model(torch.zeros(1, *shape)).shape) if shape else "")';
const code = (source: string): NotebookCell => ({ kind: 'code', source });

describe('notebooks as modules: what a model needs of the cells, and nothing else', () => {
  it('the MLP notebook: its imports of nn and F and its class, not the pip line, the data loading or the training loop', () => {
    const module = moduleOf(cellsOf('mnist_mlp.ipynb'), 'Net');
    assert.deepEqual(module.cells, [2, 7]);
    assert.doesNotMatch(module.text, /pip|matplotlib|DataLoader|optimizer|train_loader|print\(/);
    assert.equal(withModule(module, `model = m.Net(); shape = (1, 28, 28); ${count}`), '669706 [1, 10]');
  });

  it('the CIFAR notebook: 541,094 parameters and [1, 10], without the cell that checks for CUDA or the raw cell', () => {
    const module = moduleOf(cellsOf('cifar_cnn.ipynb'), 'Net');
    assert.deepEqual(module.cells, [1, 6]);
    assert.doesNotMatch(module.text, /train_on_gpu|NotCode|nn\.Conv2d\?/);
    assert.equal(withModule(module, `model = m.Net(); shape = (3, 32, 32); ${count}`), '541094 [1, 10]');
  });

  it('the visualization notebook: the filters built with numpy in earlier cells, not the image read with cv2', () => {
    const module = moduleOf(cellsOf('visualization.ipynb'), 'model');
    assert.deepEqual(module.cells, [2, 3, 5, 6]);
    assert.doesNotMatch(module.text, /cv2|plt|gray_img/);
    // The four filters are the conv's weights: the second is the first negated, the third its transpose.
    const weights = withModule(module, 'w = m.model.conv.weight.detach()\nprint(list(w.shape), bool((w[1] == -w[0]).all()), bool((w[2][0] == w[0][0].T).all()), w[0][0][0].tolist())');
    assert.equal(weights, '[4, 1, 4, 4] True True [-1.0, -1.0, 1.0, 1.0]');
  });

  it('keeps what changes the model after it is built, and leaves out what uses it', () => {
    const module = moduleOf(
      [
        code('from __future__ import annotations\nimport torch\nimport torch.nn as nn\nfrom torchvision.models import resnet18'),
        code('%matplotlib inline\nimport matplotlib.pyplot as plt\nclasses = 10; hidden = 256'),
        code('model = resnet18(weights=None)\nmodel.fc = nn.Linear(512, classes)\nnn.init.zeros_(model.fc.bias)\nfor p in model.layer1.parameters():\n    p.requires_grad = False'),
        code('model.load_state_dict(torch.load("model_cifar.pt"))\nmodel.cuda()\nplt.plot([1, 2])\nfor epoch in range(3):\n    loss = model(torch.zeros(1))'),
      ],
      'model',
    );
    assert.deepEqual(module.cells, [0, 1, 2]);
    assert.match(module.text, /^# cell 0\nfrom __future__ import annotations\n/, 'the __future__ import comes first, as Python requires');
    assert.match(module.text, /for p in model\.layer1\.parameters\(\):\n {4}p\.requires_grad = False/, 'freezing layers is part of the model');
    assert.doesNotMatch(module.text, /load_state_dict|cuda|plt|epoch/);
    // `classes = 10; hidden = 256` is one line holding two statements: written once.
    assert.equal(module.text.split('\n').filter((l) => l.includes('classes = 10')).length, 1);
    assert.equal(withModule(module, 'model = m.model; shape = (3, 64, 64)\n' + count + '\nprint(float(model.fc.bias.abs().sum()), sum(p.numel() for p in model.parameters() if p.requires_grad))'), '11181642 [1, 10]\n0.0 11033674');
  });

  it('reads a declaration without a value (`D: nn.Module`), which once recursed without end', () => {
    const module = moduleOf([code('import torch.nn as nn\nD: nn.Module\nsize: int\nD = nn.Linear(4, 2)')], 'D');
    assert.deepEqual(module.cells, [0]);
    assert.match(module.text, /D = nn\.Linear\(4, 2\)/);
  });

  it('maps each line it copies to its cell and line, and says which statement it needs is unfinished', () => {
    const cells = [code('import torch.nn as nn\n'), { kind: 'markdown', source: '# Net' }, code('# a model\nnet = nn.Sequential(\n    nn.Linear(4, 2),\n)\n'), code('other = nn.Linear(256,')];
    const module = moduleOf(cells, 'net');
    const lines = module.text.split('\n');
    lines.forEach((line, index) => {
      const origin = module.origins[index];
      if (origin) assert.equal(cells[origin.cell]?.source.split('\n')[origin.line], line);
    });
    assert.deepEqual(module.origins.filter(Boolean), [{ cell: 0, line: 0 }, { cell: 2, line: 1 }, { cell: 2, line: 2 }, { cell: 2, line: 3 }]);
    const unfinished = notebookModule(cells, ['other'], parser);
    assert.ok(unfinished instanceof NotebookError);
    assert.equal(unfinished.message, 'no code cell defines other (cell 3 line 1 is unfinished)');
    const missing = notebookModule(cells.slice(0, 3), ['Net'], parser);
    assert.ok(missing instanceof NotebookError);
    assert.equal(missing.message, 'no code cell defines Net');
  });

  it('heads a training module with the cells and the notebook version it came from', () => {
    const cells = cellsOf('mnist_mlp.ipynb');
    const module = trainingModule('/lessons/mnist_mlp.ipynb', cells, 'Net', parser);
    assert.ok(!(module instanceof NotebookError));
    assert.deepEqual(module.source.cells, [2, 7]);
    assert.match(module.source.sha256, /^[0-9a-f]{64}$/);
    assert.match(module.text, /^# Written by CNN Lab to train Net from mnist_mlp\.ipynb: what it needs of cells 2, 7\n/);
    const edited = trainingModule('/lessons/mnist_mlp.ipynb', cells.map((c, i) => (i === 4 ? { ...c, source: `${c.source}\n` } : c)), 'Net', parser);
    assert.ok(!(edited instanceof NotebookError));
    assert.notEqual(edited.source.sha256, module.source.sha256, 'another version of the notebook, though the module is the same');
    assert.equal(edited.text.split('\n').slice(3).join('\n'), module.text.split('\n').slice(3).join('\n'));
  });
});

describe('exact mode for a notebook: its definitions run in PyTorch, its layers placed in their cells', function () {
  this.timeout(120_000);

  it('builds the visualization notebook’s Net(weight) from the numpy filters, without the cv2 cell, and places the conv in cell 5', async () => {
    const cells = cellsOf('visualization.ipynb');
    const analysis = new NotebookAnalysis(parser);
    const reports = analysis.update(cells, { defaultInput: [3, 32, 32] });
    analysis.dispose();
    const requests = exactRequests(reports);
    assert.deepEqual(requests.map((r) => [r.name, r.build, r.input]), [['Net', 'Net(weight)', [1, 1, 213, 320]]]);
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-nbexact-'));
    const module = exactModule(cells, requests.map((r) => r.build), parser, folder);
    assert.ok(!(module instanceof NotebookError));
    // Jupyter's view: the notebook's folder first on sys.path, and the folder relative paths are read from.
    assert.ok(module.text.startsWith(`import os as _cnnlab_os\nimport sys as _cnnlab_sys\n_cnnlab_sys.path.insert(0, ${JSON.stringify(folder)})\n_cnnlab_os.chdir(${JSON.stringify(folder)})\n`), module.text.slice(0, 300));
    assert.doesNotMatch(module.text, /cv2/);
    const path = join(folder, 'visualization_model.py');
    writeFileSync(path, module.text);
    const helper = new ExactShapes({ python, script: join(repo, 'src/trainer/shapes.py'), onLog: () => undefined });
    try {
      const [exact] = await helper.shapes(path, requests);
      assert.ok(exact && reports[0]);
      const merged = withExactShapes(reports[0], exact, cellPlacer(module, cells));
      assert.equal(merged.exact, true);
      assert.deepEqual(merged.layers.map((l) => [l.name, l.type, l.out, l.params]), [['conv', 'Conv2d', [1, 4, 210, 317], 64]]);
      const conv = merged.layers[0]?.range;
      assert.ok(conv && 'cell' in conv);
      assert.deepEqual([conv.cell, cells[5]?.source.split('\n')[conv.start.line]?.trim()], [5, 'self.conv = nn.Conv2d(1, 4, kernel_size=(k_height, k_width), bias=False)']);
    } finally {
      await helper.dispose();
    }
  });

  it('places a layer only PyTorch knows at the cell line that builds it', async () => {
    const cells = [code('import torch.nn as nn'), { kind: 'markdown', source: '# A layer built by eval' }, code('# cnnlab: input 4\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = eval("nn.Linear")(4, 2)\n\n    def forward(self, x):\n        return self.fc(x)')];
    const analysis = new NotebookAnalysis(parser);
    const [report] = analysis.update(cells, { defaultInput: [3, 32, 32] });
    analysis.dispose();
    assert.ok(report);
    assert.deepEqual(report.layers.map((l) => l.name), [''], 'the static analysis cannot read eval');
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-nbexact-'));
    const module = exactModule(cells, ['M()'], parser, folder);
    assert.ok(!(module instanceof NotebookError));
    writeFileSync(join(folder, 'm.py'), module.text);
    const helper = new ExactShapes({ python, script: join(repo, 'src/trainer/shapes.py'), onLog: () => undefined });
    try {
      const [exact] = await helper.shapes(join(folder, 'm.py'), exactRequests([report]));
      assert.ok(exact);
      const merged = withExactShapes(report, exact, cellPlacer(module, cells));
      // The whole of `self.fc = eval("nn.Linear")(4, 2)`, line 5 of cell 2, as a layer's range spans its line's code.
      assert.deepEqual(merged.layers.map((l) => [l.name, l.out, l.params, l.range]), [['fc', [1, 2], 10, { cell: 2, start: { line: 4, character: 8 }, end: { line: 4, character: 41 } }]]);
    } finally {
      await helper.dispose();
    }
  });
});

describe('training a notebook’s model (cnn-lab train lesson.ipynb)', function () {
  this.timeout(180_000);

  it('trains the MLP notebook on the synthetic set, its run folder holding the module and where it came from', () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'cnnlab-runs-'));
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', join(repo, 'test/fixtures/notebooks/mnist_mlp.ipynb'), '--dataset', 'synthetic', '--epochs', '1', '--device', 'cpu', '--python', python, '--runs-dir', runsDir, '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const events = run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; totalParams?: number; className?: string; runDir?: string; accuracy?: number });
    assert.deepEqual(events.filter((e) => e.type === 'model').map((e) => [e.className, e.totalParams]), [['Net', 669_706]]);
    const runDir = events.at(-1)?.runDir ?? '';
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { modelFile: string; notebook: { path: string; cells: number[]; sha256: string } };
    assert.equal(config.modelFile, join(runDir, 'cnnlab_notebook_model.py'));
    assert.deepEqual([config.notebook.path, config.notebook.cells], [join(repo, 'test/fixtures/notebooks/mnist_mlp.ipynb'), [2, 7]]);
    assert.match(readFileSync(config.modelFile, 'utf8'), /^# Written by CNN Lab to train Net from mnist_mlp\.ipynb/);
    assert.ok((events.find((e) => e.type === 'test')?.accuracy ?? 0) > 0.5, 'it learned');
  });

  it('says which model a notebook lacks, and names the ones it has', () => {
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', join(repo, 'test/fixtures/notebooks/exercise.ipynb'), '--class', 'Missing', '--dataset', 'synthetic', '--python', python], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /exercise\.ipynb: no code cell defines Missing \(its models: .*Ready/);
  });
});
