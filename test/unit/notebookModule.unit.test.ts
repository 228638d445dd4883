// A notebook as a module, and what CNN Lab's loader runs of it for a model: the statements the
// model needs and nothing else, checked by loading the module with real PyTorch through the loader
// training and exact mode use (this machine has neither cv2 nor matplotlib, which the course's
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

/**
 * Loads the module in a fresh Python as the trainer does, running only what `targets` need, and runs
 * `code` with it as `m`; prints what the code prints, after the loader's line on what it left out.
 */
function withModule(module: NotebookModule, targets: string[], code: string): { printed: string; leftOut: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cnnlab-nbmodule-'));
  const path = join(dir, 'lesson_model.py');
  writeFileSync(path, module.text);
  const load = [
    'import sys, json',
    `sys.path.insert(0, ${JSON.stringify(join(repo, 'src/trainer'))})`,
    'import torch',
    'from cnn_lab_engine import user_model',
    `loaded = user_model.load(${JSON.stringify(path)}, set(${JSON.stringify(targets)}))`,
    'm = loaded.module',
    'print(user_model.describe_left_out("lesson.ipynb", loaded.left_out, loaded.places))',
  ].join('\n');
  const run = spawnSync(python, ['-c', `${load}\n${code}`], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stderr}\n--- module:\n${module.text}`);
  const [leftOut = '', ...printed] = run.stdout.trim().split('\n');
  return { printed: printed.join('\n'), leftOut };
}

const count = 'print(sum(p.numel() for p in model.parameters()), list(model(torch.zeros(1, *shape)).shape) if shape else "")';
const code = (source: string): NotebookCell => ({ kind: 'code', source });

describe('notebooks as modules: what a model needs of the cells, and nothing else', () => {
  it('the MLP notebook: its imports of nn and F and its class, not the pip line, the data loading or the training loop', () => {
    const cells = cellsOf('mnist_mlp.ipynb');
    const module = moduleOf(cells, 'Net');
    assert.deepEqual(module.cells, cells.flatMap((c, i) => (c.kind === 'code' ? [i] : [])));
    assert.doesNotMatch(module.text, /^!pip/m, 'shell lines are blanked');
    const { printed, leftOut } = withModule(module, ['Net'], `model = m.Net(); shape = (1, 28, 28); ${count}`);
    assert.equal(printed, '669706 [1, 10]');
    assert.equal(
      leftOut,
      "lesson.ipynb: ran only what builds the model; left out 10 top-level statements (cell 5, line 2: batch_size = 20; cell 5, line 3: num_workers = 0; cell 5, line 4: n_epochs = 30; cell 6, line 1: transform = transforms.ToTensor(); cell 6, line 2: train_data = datasets.MNIST(root='data', train=True, downloa; cell 6, line 3: train_loader = torch.utils.data.DataLoader(train_data, batch and 4 more)",
    );
  });

  it('the CIFAR notebook: 541,094 parameters and [1, 10], without the cell that checks for CUDA or the raw cell', () => {
    const module = moduleOf(cellsOf('cifar_cnn.ipynb'), 'Net');
    assert.doesNotMatch(module.text, /NotCode|nn\.Conv2d\?/, 'the raw cell and the help line are not code');
    const { printed, leftOut } = withModule(module, ['Net'], `model = m.Net(); shape = (3, 32, 32); ${count}\nprint(hasattr(m, 'train_on_gpu'))`);
    assert.equal(printed, '541094 [1, 10]\nFalse');
    assert.match(leftOut, /cell \d+, line \d+: train_on_gpu = torch\.cuda\.is_available\(\)/);
  });

  it('the visualization notebook: the filters built with numpy in earlier cells, not the image read with cv2', () => {
    const module = moduleOf(cellsOf('visualization.ipynb'), 'model');
    // The four filters are the conv's weights: the second is the first negated, the third its transpose.
    const { printed, leftOut } = withModule(module, ['model'], 'w = m.model.conv.weight.detach()\nprint(list(w.shape), bool((w[1] == -w[0]).all()), bool((w[2][0] == w[0][0].T).all()), w[0][0][0].tolist())');
    assert.equal(printed, '[4, 1, 4, 4] True True [-1.0, -1.0, 1.0, 1.0]');
    assert.match(leftOut, /gray_img/, 'the image read with cv2 (which this machine lacks) is left out');
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
    assert.deepEqual(module.cells, [0, 1, 2, 3]);
    assert.match(module.text, /^from __future__ import annotations\n# CNN Lab: cell 0\n\nimport torch\n/, 'the __future__ import comes first, as Python requires');
    const { printed, leftOut } = withModule(module, ['model'], 'model = m.model; shape = (3, 64, 64)\n' + count + '\nprint(float(model.fc.bias.abs().sum()), sum(p.numel() for p in model.parameters() if p.requires_grad))');
    // The freezing loop and the init are part of the model; the checkpoint, the GPU, the plot and the loop are not.
    assert.equal(printed, '11181642 [1, 10]\n0.0 11033674');
    assert.equal(leftOut, 'lesson.ipynb: ran only what builds the model; left out 5 top-level statements (cell 2, line 3: hidden = 256; cell 4, line 1: model.load_state_dict(torch.load("model_cifar.pt")); cell 4, line 2: model.cuda(); cell 4, line 3: plt.plot([1, 2]); cell 4, line 4: for epoch in range(3):)');
  });

  it('reads a declaration without a value (`D: nn.Module`), which once recursed without end', () => {
    const module = moduleOf([code('import torch.nn as nn\nD: nn.Module\nsize: int\nD = nn.Linear(4, 2)')], 'D');
    assert.equal(withModule(module, ['D'], 'print(m.D)').printed, 'Linear(in_features=4, out_features=2, bias=True)');
  });

  it('maps each line it copies to its cell and line, and says which statement it needs is unfinished', () => {
    const cells = [code('import torch.nn as nn\n'), { kind: 'markdown', source: '# Net' }, code('# a model\nnet = nn.Sequential(\n    nn.Linear(4, 2),\n)\n'), code('other = nn.Linear(256,')];
    const module = moduleOf(cells, 'net');
    const lines = module.text.split('\n');
    lines.forEach((line, index) => {
      const origin = module.origins[index];
      if (origin) assert.equal(cells[origin.cell]?.source.split('\n')[origin.line], line);
    });
    assert.deepEqual(
      module.origins.map((o, i) => [o, lines[i]]).slice(0, 5),
      [[null, '# CNN Lab: cell 0'], [{ cell: 0, line: 0 }, 'import torch.nn as nn'], [{ cell: 0, line: 1 }, ''], [null, '# CNN Lab: cell 2'], [{ cell: 2, line: 0 }, '# a model']],
    );
    assert.equal(withModule(module, ['net'], 'print(m.net[0].out_features)').printed, '2', 'the unfinished cell is left out, and the model built');
    const unfinished = notebookModule(cells, ['other'], parser);
    assert.ok(unfinished instanceof NotebookError);
    assert.equal(unfinished.message, 'no code cell defines other (cell 4, line 1 is unfinished)');
    const typing = notebookModule([...cells.slice(0, 3), code('class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4,')], ['Net'], parser);
    assert.ok(typing instanceof NotebookError);
    assert.equal(typing.message, 'cell 4, line 1 is unfinished: finish it (or comment it out) and try again');
    const missing = notebookModule(cells.slice(0, 3), ['Net'], parser);
    assert.ok(missing instanceof NotebookError);
    assert.equal(missing.message, 'no code cell defines Net');
  });

  it('heads a training module with the cells and the notebook version it came from', () => {
    const cells = cellsOf('mnist_mlp.ipynb');
    const module = trainingModule('/lessons/mnist_mlp.ipynb', cells, 'Net', parser);
    assert.ok(!(module instanceof NotebookError));
    const codeCells = cells.flatMap((c, i) => (c.kind === 'code' ? [i] : []));
    assert.deepEqual(module.source.cells, codeCells);
    assert.match(module.source.sha256, /^[0-9a-f]{64}$/);
    assert.match(module.text, new RegExp(`^# Written by CNN Lab to train Net from mnist_mlp\\.ipynb: its code cells ${codeCells.join(', ')}\n`));
    const edited = trainingModule('/lessons/mnist_mlp.ipynb', cells.map((c, i) => (i === 4 ? { ...c, source: `${c.source}\n` } : c)), 'Net', parser);
    assert.ok(!(edited instanceof NotebookError));
    assert.notEqual(edited.source.sha256, module.source.sha256, 'another version of the notebook, though the module is the same');
    assert.notEqual(edited.text, module.text, 'the module is the cells as they are');
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
    const module = exactModule(cells, parser, folder);
    assert.ok(!(module instanceof NotebookError));
    // Jupyter's view: the notebook's folder first on sys.path, and the folder relative paths are read from.
    assert.ok(module.text.startsWith(`import os as _cnnlab_os\nimport sys as _cnnlab_sys\n_cnnlab_sys.path.insert(0, ${JSON.stringify(folder)})\n_cnnlab_os.chdir(${JSON.stringify(folder)})\n`), module.text.slice(0, 300));
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

  it('names the cell and line of a download the guard refused, not the module CNN Lab wrote', async () => {
    const cells = [code('import urllib.request\nimport torch.nn as nn'), code('WIDTH = len(urllib.request.urlopen("http://example.com/width").read())'), code('class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, WIDTH)\n\n    def forward(self, x):\n        return self.fc(x)')];
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-nbexact-'));
    const module = exactModule(cells, parser, folder);
    assert.ok(!(module instanceof NotebookError));
    writeFileSync(join(folder, 'notebook_model.py'), module.text);
    const helper = new ExactShapes({ python, script: join(repo, 'src/trainer/shapes.py'), onLog: () => undefined });
    try {
      const [exact] = await helper.shapes(join(folder, 'notebook_model.py'), [{ name: 'M', build: 'M()', input: [1, 4] }]);
      assert.equal(exact?.cause?.kind, 'refused');
      assert.match(exact?.cause?.what ?? '', /connect to example\.com \(cell 2, line 1\)/);
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
    const module = exactModule(cells, parser, folder);
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
    const codeCells = cellsOf('mnist_mlp.ipynb').flatMap((c, i) => (c.kind === 'code' ? [i] : []));
    assert.deepEqual([config.notebook.path, config.notebook.cells], [join(repo, 'test/fixtures/notebooks/mnist_mlp.ipynb'), codeCells]);
    assert.match(run.stderr, /mnist_mlp\.ipynb: ran only what builds the model; left out 10 top-level statements \(cell 5, line 2: batch_size = 20;/);
    assert.match(readFileSync(config.modelFile, 'utf8'), /^# Written by CNN Lab to train Net from mnist_mlp\.ipynb/);
    assert.ok((events.find((e) => e.type === 'test')?.accuracy ?? 0) > 0.5, 'it learned');
  });

  it('says which model a notebook lacks, and names the ones it has', () => {
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', join(repo, 'test/fixtures/notebooks/exercise.ipynb'), '--class', 'Missing', '--dataset', 'synthetic', '--python', python], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /exercise\.ipynb: no code cell defines Missing \(its models: .*Ready/);
  });
});
