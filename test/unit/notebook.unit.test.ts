// Notebooks read as the course writes them: code cells joined in order, magics blanked, every range
// mapped back to its cell; malformed notebooks answered, never thrown on; an edit re-analysed fast.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { analyzeNotebook, NotebookAnalysis, type NotebookCell, NotebookError, type NotebookModelReport, pythonOfCell, readNotebook } from '../../src/core/analysis/notebook';
import { random } from '../../src/core/random';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { analyzePythonSource, wasmDir } from './support/analysis';
import { code, lessonCells, markdown } from './support/notebooks';

const repo = resolve(__dirname, '../..');
const fixture = (name: string) => readFileSync(join(repo, 'test/fixtures/notebooks', name), 'utf8');
const options = { defaultInput: [3, 32, 32] };
let parser: Parser;

function analyze(json: string): NotebookModelReport[] {
  const result = analyzeNotebook(json, parser, options);
  if (result instanceof NotebookError) throw result;
  return result.reports;
}

function cellsOf(json: string): NotebookCell[] {
  const notebook = readNotebook(json);
  if (notebook instanceof NotebookError) throw notebook;
  return notebook.cells;
}

/** A report without its positions, to compare a notebook's numbers with a file's. */
function numbers(report: NotebookModelReport | undefined | Awaited<ReturnType<typeof analyzePythonSource>>[number]) {
  assert.ok(report);
  return { input: report.input, output: report.output, totalParams: report.totalParams, totalMacs: report.totalMacs, layers: report.layers.map((l) => [l.name, l.type, l.in, l.out, l.params, l.note]) };
}


before(async () => {
  parser = (await loadGrammars(wasmDir)).parser('python');
});

describe('notebooks: the course’s notebooks give the numbers of the same code in a file', () => {
  it('the MLP on MNIST: 669,706 parameters, its class in cell 7 and its layers at their lines in that cell', async () => {
    const json = fixture('mnist_mlp.ipynb');
    const [model, ...rest] = analyze(json);
    assert.equal(rest.length, 0);
    assert.ok(model);
    const [file] = await analyzePythonSource(readFileSync(join(repo, 'examples/mnist_mlp.py'), 'utf8'));
    assert.deepEqual(numbers(model), numbers(file));
    assert.equal(model.totalParams, 669_706);
    const cellLines = (cellsOf(json)[7]?.source ?? '').split('\n');
    assert.deepEqual(model.range, { cell: 7, start: { line: 0, character: 6 }, end: { line: 0, character: 9 } });
    for (const layer of model.layers) {
      assert.equal(layer.range.cell, 7);
      assert.match(cellLines[layer.range.start.line] ?? '', new RegExp(`self\\.${layer.name} = nn\\.`));
    }
    assert.deepEqual(model.diagnostics, []);
  });

  it('the CIFAR-10 CNN: 541,094 parameters and [1, 10], past `?nn.Conv2d`, `nn.MaxPool2d?` and a raw cell holding a class', async () => {
    const [model, ...rest] = analyze(fixture('cifar_cnn.ipynb'));
    assert.equal(rest.length, 0, 'the raw cell is not code');
    const [file] = await analyzePythonSource(readFileSync(join(repo, 'examples/cifar_cnn.py'), 'utf8'));
    assert.deepEqual(numbers(model), numbers(file));
    assert.deepEqual([model?.totalParams, model?.output, model?.range.cell], [541_094, [1, 10], 6]);
  });

  it('an exercise with TODO stubs and an unfinished class: partial hints, no errors', () => {
    const reports = analyze(fixture('exercise.ipynb'));
    assert.deepEqual(
      reports.map((r) => [r.name, r.range.cell, r.output, r.totalParams]),
      [
        ['Net', 3, [1, 16, 32, 32], 448],
        ['Classifier', 4, null, 200_960],
        ['Ready', 5, [1, 10], 7_850],
      ],
    );
    assert.deepEqual(
      reports.flatMap((r) => r.diagnostics.filter((d) => d.severity === 'error')),
      [],
    );
    assert.match(reports[1]?.outputNote ?? '', /forward/);
  });

  it('the filter visualization: Net(weight) built from numpy filters of earlier cells, as PyTorch builds it; its input annotation is read in the cell', async () => {
    const json = fixture('visualization.ipynb');
    const [model] = analyze(json);
    const program = cellsOf(json)
      .filter((c) => c.kind === 'code')
      .map((c) => pythonOfCell(c.source))
      .join('\n');
    const [file] = await analyzePythonSource(program);
    assert.deepEqual(numbers(model), numbers(file));
    assert.deepEqual([model?.build, model?.input, model?.inputSource, model?.range.cell], ['Net(weight)', [1, 1, 213, 320], 'annotation', 5]);
    // PyTorch's numbers (notebookModule.unit.test runs it): the 4×4 kernels from the numpy filters'
    // shape, and the conv's own weight replaced by nn.Parameter(weight), so 64 parameters, not 128.
    assert.deepEqual(model?.layers.map((l) => [l.name, l.out, l.params, l.macs, l.range.cell, l.range.start.line]), [['conv', [1, 4, 210, 317], 64, 4_260_480, 5, 13]]);
    assert.deepEqual([model?.output, model?.totalParams], [[1, 4, 210, 317], 64]);
  });

  it('a module-level instance in a later cell gives the class its arguments, and a helper block of an earlier cell is followed', () => {
    const reports = analyze(
      JSON.stringify({
        cells: [
          { cell_type: 'code', source: ['import torch.nn as nn\n', 'HIDDEN = 64'] },
          { cell_type: 'markdown', source: 'A block' },
          { cell_type: 'code', source: 'class Block(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.fc = nn.Linear(n, n)\n\n    def forward(self, x):\n        return self.fc(x)\n' },
          { cell_type: 'code', source: 'class Net(nn.Module):\n    def __init__(self, width):\n        super().__init__()\n        self.inp = nn.Linear(784, width)\n        self.block = Block(width)\n\n    def forward(self, x):\n        return self.block(self.inp(x))' },
          { cell_type: 'code', source: 'model = Net(HIDDEN)' },
        ],
      }),
    );
    const net = reports.find((r) => r.name === 'Net');
    assert.deepEqual([net?.build, net?.output, net?.range.cell], ['Net(HIDDEN)', [1, 64], 3]);
    assert.deepEqual(
      net?.layers.map((l) => [l.name, l.range.cell, l.range.start.line]),
      [
        ['inp', 3, 3],
        ['block.fc', 2, 3],
      ],
    );
  });
});

describe('notebooks: cells as Python', () => {
  it('blanks magics, shell and help lines to spaces of the same length, and a cell magic’s whole cell', () => {
    const source = ['%matplotlib inline', '!pip install torch', 'files = !ls data', '?nn.Conv2d', 'nn.MaxPool2d??', '  %time x = 1', 'x = 10 % 3', 'print("why?")', '"""Help?', '!"""'].join('\n');
    const python = pythonOfCell(source);
    assert.equal(python.length, source.length);
    assert.deepEqual(
      python.split('\n').map((l) => l.trim()),
      ['', '', '', '', '', '', 'x = 10 % 3', 'print("why?")', '"""Help?', '!"""'],
    );
    const timed = '%%time\nfor i in range(3):\n    model(x)';
    assert.equal(pythonOfCell(timed), timed.replace(/[^\n]/g, ' '));
  });

  it('a cell left open (a bracket or a docstring being typed) does not swallow the cells after it', () => {
    const cells = [code('import torch.nn as nn'), code('class Half(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(256,'), code('class Doc(nn.Module):\n    """Unfinished'), code('class Whole(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(784, 10)\n\n    def forward(self, x):\n        return self.fc(x)')];
    const analysis = new NotebookAnalysis(parser);
    const whole = analysis.update(cells, options).find((r) => r.name === 'Whole');
    analysis.dispose();
    assert.deepEqual([whole?.output, whole?.range.cell, whole?.layers[0]?.range.start.line], [[1, 10], 3, 3]);
  });

  it('gives one cell its models with ranges relative to the cell, and the layers another cell holds to that cell', () => {
    const analysis = new NotebookAnalysis(parser);
    analysis.update([code('import torch.nn as nn'), markdown('# Blocks'), code('class Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n\n    def forward(self, x):\n        return self.fc(x)'), code('\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.block = Block()\n        self.out = nn.Linear(8, 2)\n\n    def forward(self, x):\n        return self.out(self.block(x))')], options);
    const inNet = analysis.modelsInCell(3);
    assert.deepEqual(
      inNet.map((m) => [m.name, m.range.start.line, m.layers.map((l) => [l.name, l.range.start.line])]),
      [['Net', 2, [['out', 6]]]],
    );
    assert.ok(!('cell' in (inNet[0]?.range ?? {})));
    assert.deepEqual(
      analysis.modelsInCell(2).map((m) => [m.name, m.layers.map((l) => [l.name, l.range.start.line])]),
      [
        ['Block', [['fc', 3]]],
        ['Net', [['block.fc', 3]]],
      ],
    );
    assert.deepEqual(analysis.modelsInCell(1), []);
    analysis.dispose();
  });
});

describe('notebooks: malformed files', () => {
  const errors: [string, string, RegExp][] = [
    ['bad JSON', '{"cells": [', /^not valid JSON/],
    ['not an object', '[1, 2]', /not an object/],
    ['no cells', '{"nbformat": 4}', /no "cells" list/],
    ['nbformat 3', '{"worksheets": [{"cells": []}]}', /nbformat 3/],
    ['cells not a list', '{"cells": {"0": {}}}', /"cells" is an object, not a list/],
  ];
  for (const [title, json, message] of errors) {
    it(`${title}: a NotebookError saying so`, () => {
      const result = readNotebook(json);
      assert.ok(result instanceof NotebookError);
      assert.match(result.message, message);
    });
  }

  it('reads past cells without a type, non-objects and sources that are not text, keeping every cell’s index', () => {
    const result = readNotebook(JSON.stringify({ cells: [{ source: 'x = 1' }, 7, { cell_type: 'code', source: 5 }, { cell_type: 'code', source: null }, { cell_type: 'code', source: ['a = 1\n', 'b = 2'] }, { cell_type: 'code', source: 'c = 3' }, { cell_type: 'code', source: ['d', 4] }] }));
    assert.ok(!(result instanceof NotebookError));
    assert.deepEqual(
      result.cells.map((c) => c.source),
      ['', '', '', '', 'a = 1\nb = 2', 'c = 3', ''],
    );
    assert.deepEqual(result.problems, ['cell 0 has no cell_type (skipped)', 'cell 1 is a number, not a cell (skipped)', "cell 2's source is a number, not text (read as empty)", "cell 3's source is null, not text (read as empty)", "cell 6's source is a list, not text (read as empty)"]);
  });

  it('never throws on truncated or damaged notebooks, 1,000 cells or huge outputs (seeded fuzz)', () => {
    const next = random(16);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const sources = ['mnist_mlp.ipynb', 'cifar_cnn.ipynb', 'exercise.ipynb', 'visualization.ipynb'].map(fixture);
    const odd: unknown[] = [null, 5, 'text', [], {}, [1, 'a'], { cell_type: 7 }, true];
    const damaged: string[] = [];
    for (let i = 0; i < 400; i++) {
      const text = pick(sources);
      damaged.push(text.slice(0, Math.floor(next() * text.length)));
    }
    for (let i = 0; i < 400; i++) {
      let text = pick(sources);
      for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
        const at = Math.floor(next() * text.length);
        text = text.slice(0, at) + pick(['', '"', '{', ']', ',', '\\n', '(', '"""', '%%time\\n', '!ls\\n', 'é']) + text.slice(at + Math.floor(next() * 8));
      }
      damaged.push(text);
    }
    for (let i = 0; i < 300; i++) {
      const document = JSON.parse(pick(sources)) as { cells: Record<string, unknown>[] };
      const cell = pick(document.cells);
      cell[pick(['cell_type', 'source', 'outputs'])] = pick(odd);
      if (next() < 0.1) document.cells.push(pick(odd) as Record<string, unknown>);
      damaged.push(JSON.stringify(next() < 0.05 ? { ...document, cells: pick(odd) } : document));
    }
    const manyCells = JSON.parse(sources[1] as string) as { cells: unknown[] };
    manyCells.cells = Array.from({ length: 1_000 }, (_, i) => (manyCells.cells as unknown[])[i % manyCells.cells.length]);
    damaged.push(JSON.stringify(manyCells));
    const hugeOutput = JSON.parse(sources[0] as string) as { cells: { outputs?: unknown[] }[] };
    for (const cell of hugeOutput.cells) if (cell.outputs) cell.outputs.push({ output_type: 'stream', name: 'stdout', text: 'loss 0.1\n'.repeat(1_000_000) });
    damaged.push(JSON.stringify(hugeOutput));

    const figures = { notebooks: damaged.length, errors: 0, read: 0, problems: 0, models: 0, throws: 0 };
    const started = performance.now();
    for (const text of damaged) {
      try {
        const result = analyzeNotebook(text, parser, options);
        if (result instanceof NotebookError) figures.errors++;
        else {
          figures.read++;
          figures.problems += result.problems.length;
          figures.models += result.reports.length;
        }
      } catch {
        figures.throws++;
      }
    }
    process.stdout.write(`      fuzz: ${JSON.stringify(figures)} in ${(performance.now() - started).toFixed(0)} ms\n`);
    assert.equal(figures.throws, 0);
    assert.ok(figures.errors > 0 && figures.read > 0);
  });
});

describe('notebooks: editing', () => {
  it('re-analyses a 100-cell notebook after a one-character edit in one cell as a fresh analysis would, and fast', () => {
    const cells = lessonCells(100);
    const analysis = new NotebookAnalysis(parser);
    let started = performance.now();
    const first = analysis.update(cells, options);
    const cold = performance.now() - started;
    assert.equal(first.length, 20);
    const classCell = cells.findIndex((c) => c.source.includes('class Net7('));
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const edited = [...cells];
      // A digit typed in one layer's argument, and taken back.
      edited[classCell] = code((cells[classCell] as NotebookCell).source.replace('padding=1', i % 2 ? 'padding=1' : 'padding=2'));
      started = performance.now();
      analysis.update(edited, options);
      times.push(performance.now() - started);
    }
    const edited = [...cells];
    edited[classCell] = code((cells[classCell] as NotebookCell).source.replace('padding=1', 'padding=2'));
    const incremental = analysis.update(edited, options);
    const fresh = new NotebookAnalysis(parser);
    assert.deepEqual(incremental, fresh.update(edited, options));
    fresh.dispose();
    const net7 = incremental.find((r) => r.name === 'Net7');
    assert.deepEqual([net7?.range.cell, net7?.diagnostics.length], [classCell, 1], 'padding=2 makes fc1 receive another size');
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1] as number;
    const p95 = times[Math.floor(times.length * 0.95)] as number;
    process.stdout.write(`      100 cells, 20 models: cold ${cold.toFixed(1)} ms; after a one-character edit median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms\n`);
    analysis.dispose();
  });
});

describe('cnn-lab shapes NOTEBOOK.ipynb', function () {
  this.timeout(120_000);
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'dist/cli.js'), ...args], { cwd: repo, encoding: 'utf8' });

  it('prints the models of a notebook as of a file, each model, layer and diagnostic with its cell and its 1-based line in the cell', () => {
    const run = cli('shapes', 'test/fixtures/notebooks/cifar_cnn.ipynb', '--json');
    assert.equal(run.status, 0, run.stderr);
    const document = JSON.parse(run.stdout) as { models: { name: string; cell: number; line: number; totalParams: number; output: number[]; layers: { name: string; cell: number; line: number }[] }[] };
    const [model] = document.models;
    const cells = cellsOf(fixture('cifar_cnn.ipynb'));
    assert.deepEqual([model?.name, model?.cell, model?.line, model?.totalParams, model?.output], ['Net', 6, 1, 541_094, [1, 10]]);
    for (const layer of model?.layers ?? []) assert.match(cells[layer.cell]?.source.split('\n')[layer.line - 1] ?? '', new RegExp(`self\\.${layer.name} = `));
    const wrong = cli('shapes', 'test/fixtures/notebooks/cifar_cnn.ipynb', '--input', '1,3,64,64', '--json');
    assert.equal(wrong.status, 1);
    const diagnostics = (JSON.parse(wrong.stdout) as { models: { diagnostics: { cell: number; line: number }[] }[] }).models[0]?.diagnostics ?? [];
    assert.ok(diagnostics.length > 0 && diagnostics.every((d) => d.cell === 6 && d.line > 1));
  });

  it('follows a notebook’s imports of the .py files beside it, takes --class, and says which cell a table starts in', () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-notebook-'));
    writeFileSync(join(folder, 'blocks.py'), 'import torch.nn as nn\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(16, 16)\n\n    def forward(self, x):\n        return self.fc(x)\n');
    writeFileSync(join(folder, 'lesson.ipynb'), JSON.stringify({ cells: [{ cell_type: 'code', source: ['import torch.nn as nn\n', 'from blocks import Block'] }, { cell_type: 'code', source: 'class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.block = Block()\n        self.out = nn.Linear(16, 4)\n\n    def forward(self, x):\n        return self.out(self.block(x))' }], nbformat: 4, nbformat_minor: 5, metadata: {} }));
    const run = cli('shapes', join(folder, 'lesson.ipynb'), '--class', 'Net');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /cell 1, line 1: Net: input \[1, 16\] \(first layer\) → output \[1, 4\]/);
    assert.match(run.stdout, /Total params: 340\b/);
  });

  it('answers a malformed notebook with exit code 2 and a message', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cnnlab-notebook-')), 'broken.ipynb');
    writeFileSync(file, fixture('mnist_mlp.ipynb').slice(0, 500));
    const broken = cli('shapes', file);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /broken\.ipynb: not valid JSON/);
  });

  it('--exact runs what the models need in PyTorch, not the cells that download, plot or train, and places every layer in its cell', () => {
    const run = cli('shapes', 'test/fixtures/notebooks/mnist_mlp.ipynb', '--exact', '--json');
    assert.equal(run.status, 0, run.stderr);
    const [model] = (JSON.parse(run.stdout) as { models: { name: string; exact: boolean; totalParams: number; output: number[]; layers: { name: string; cell: number; line: number }[] }[] }).models;
    assert.deepEqual([model?.name, model?.exact, model?.totalParams, model?.output], ['Net', true, 669_706, [1, 10]]);
    const cells = cellsOf(fixture('mnist_mlp.ipynb'));
    for (const layer of model?.layers ?? []) assert.match(cells[layer.cell]?.source.split('\n')[layer.line - 1] ?? '', new RegExp(`self\\.${layer.name} = nn\\.`));
  });
});
