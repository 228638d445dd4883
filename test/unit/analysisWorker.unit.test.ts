// The analysis in its worker thread, as the extension host drives it: the worker is built by esbuild
// as the extension's is, and its answers are compared with the analysis run in this thread.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { NotebookAnalysis } from '../../src/core/analysis/notebook';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { AnalysisWorkerClient, type OpenFile } from '../../src/core/analysis/workerClient';
import { buildAnalysisWorker } from '../support/analysisWorker';
import { analyzePythonSource, wasmDir } from './support/analysis';

const repo = resolve(__dirname, '../..');
const settings = { defaultInput: [3, 32, 32], modelPackages: {} };

/** The numbers a lens, hover and diagnostic show of each model. */
function shown(reports: readonly ModelReport[]): unknown {
  return reports.map((r) => ({ name: r.name, output: r.output, total: r.totalParams, complete: r.complete, layers: r.layers.map((l) => [l.name, l.out, l.params]), diagnostics: r.diagnostics.map((d) => d.message) }));
}

describe('the analysis worker', function () {
  this.timeout(120_000);
  let dir: string;
  let script: string;
  let client: AnalysisWorkerClient;
  let open: OpenFile[];
  let failures: Error[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cnnlab-worker-'));
    script = await buildAnalysisWorker(dir);
  });
  beforeEach(() => {
    open = [];
    failures = [];
    client = new AnalysisWorkerClient(script, wasmDir, () => open, (error) => failures.push(error));
  });
  afterEach(() => client.dispose());
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers as the analysis in this thread does, edit after edit', async () => {
    const path = join(repo, 'examples/cifar_cnn.py');
    let text = readFileSync(path, 'utf8');
    let version = 1;
    const first = await client.analyseFile(path, { path, language: 'python', version, text, changes: undefined }, settings);
    assert.deepEqual(shown(first.reports), shown(await analyzePythonSource(text, [3, 32, 32], path)));
    // Typing, then deleting, in the first Linear's in_features: incremental changes, each answer as a fresh analysis gives.
    const at = text.indexOf('nn.Linear(') + 'nn.Linear('.length;
    for (const change of [
      { rangeOffset: at, rangeLength: 0, text: '9' },
      { rangeOffset: at, rangeLength: 1, text: '' },
    ]) {
      text = text.slice(0, change.rangeOffset) + change.text + text.slice(change.rangeOffset + change.rangeLength);
      const answer = await client.analyseFile(path, { path, language: 'python', version: ++version, text, changes: [change] }, settings);
      assert.deepEqual(shown(answer.reports), shown(await analyzePythonSource(text, [3, 32, 32], path)));
    }
    assert.ok(first.reports[0]?.diagnostics.length === 0);
  });

  it('answers a file opened cold with the models on screen first, then all of them, those reused', async () => {
    const text = readFileSync(join(repo, 'test/fixtures/models/layer_zoo.py'), 'utf8');
    const everything = await analyzePythonSource(text);
    assert.ok(everything.length >= 4);
    // The screen shows the third model's class, and a line of the fourth.
    const third = everything[2] as ModelReport;
    const fourth = everything[3] as ModelReport;
    const visible = [{ start: third.extent.start.line, end: fourth.extent.start.line }];
    const firsts: ModelReport[][] = [];
    const answer = await client.analyseFile('untitled:zoo', { language: 'python', version: 1, text, changes: undefined }, settings, { visible, first: (reports) => firsts.push(reports) });
    assert.equal(firsts.length, 1);
    assert.deepEqual(firsts[0]?.map((r) => r.name), [third.name, fourth.name]);
    assert.deepEqual(shown(answer.reports), shown(everything));
    // The whole answer hands back the models on screen as they were sent first.
    for (const report of firsts[0] ?? []) assert.ok(answer.reports.includes(report), `${report.name} crossed the thread twice`);
    // Open already: an edit is answered once, whatever is on screen.
    const edited = `${text}# done\n`;
    const again = await client.analyseFile('untitled:zoo', { language: 'python', version: 2, text: edited, changes: [{ rangeOffset: text.length, rangeLength: 0, text: '# done\n' }] }, settings, { visible, first: (reports) => firsts.push(reports) });
    assert.equal(firsts.length, 1);
    assert.deepEqual(shown(again.reports), shown(everything));
  });

  it('sends an unchanged model once: the next answer hands back the same report', async () => {
    const text = readFileSync(join(repo, 'test/fixtures/models/layer_zoo.py'), 'utf8');
    const first = await client.analyseFile('untitled:zoo', { language: 'python', version: 1, text, changes: undefined }, settings);
    assert.ok(first.reports.length >= 4);
    // A digit typed in the last model's first layer: the others are not analysed again, nor sent again.
    const at = text.indexOf('nn.', text.indexOf('class TokenClassifier'));
    const at2 = text.indexOf('(', at) + 1;
    const edited = `${text.slice(0, at2)}1${text.slice(at2)}`;
    const second = await client.analyseFile('untitled:zoo', { language: 'python', version: 2, text: edited, changes: [{ rangeOffset: at2, rangeLength: 0, text: '1' }] }, settings);
    assert.deepEqual(shown(second.reports), shown(await analyzePythonSource(edited)));
    second.reports.forEach((report, i) => {
      if (report.name === 'TokenClassifier') assert.notEqual(report, first.reports[i]);
      else assert.equal(report, first.reports[i], `${report.name} crossed the thread again`);
    });
    // A comment at the end of the file changes no model either.
    const third = await client.analyseFile('untitled:zoo', { language: 'python', version: 3, text: `${edited}# done\n`, changes: [{ rangeOffset: edited.length, rangeLength: 0, text: '# done\n' }] }, settings);
    third.reports.forEach((report, i) => assert.equal(report, second.reports[i], `${report.name} analysed again for a comment`));
  });

  it('reads an imported file as the editor has it, unsaved, and as saved once it is closed', async () => {
    const project = join(dir, 'project');
    mkdirSync(project, { recursive: true });
    const blocks = join(project, 'blocks.py');
    const main = join(project, 'net.py');
    writeFileSync(blocks, 'WIDTH = 8\n');
    const source = 'import torch.nn as nn\nfrom blocks import WIDTH\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, WIDTH, 3)\n\n    def forward(self, x):\n        return self.conv(x)\n';
    writeFileSync(main, source);
    const width = async (version: number) => {
      const { reports, reads } = await client.analyseFile(main, { path: main, language: 'python', version, text: source, changes: [] }, settings);
      assert.deepEqual(reads, [blocks]);
      return reports[0]?.output?.[1];
    };
    assert.equal(await width(1), 8);
    open = [{ path: blocks, version: 2, text: () => 'WIDTH = 16\n' }];
    assert.equal(await width(1), 16, 'the unsaved text');
    open = [];
    assert.equal(await width(1), 8, 'the saved text, once closed');
  });

  it('starts another worker when one dies, refusing what it was asked and parsing afresh', async () => {
    const text = readFileSync(join(repo, 'examples/mnist_mlp.py'), 'utf8');
    await client.analyseFile('untitled:mlp', { language: 'python', version: 1, text, changes: undefined }, settings);
    // A file of 400 models keeps the worker busy past the moment it is stopped.
    const many = Array.from({ length: 400 }, (_, i) => text.replaceAll('class Net(', `class Net${i}(`).replace(/^import.*$/gm, '')).join('\n');
    const asked = client.analyseFile('untitled:many', { language: 'python', version: 1, text: `import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n${many}`, changes: undefined }, settings);
    await (client as unknown as { worker: Worker }).worker.terminate();
    await assert.rejects(asked, /analysis worker exited/);
    assert.equal(failures.length, 1);
    // Changes sent after a restart would apply to a tree the new worker does not have: it takes the whole text.
    const edited = text.replace('nn.Linear(784', 'nn.Linear(785');
    const again = await client.analyseFile('untitled:mlp', { language: 'python', version: 3, text: edited, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'garbage' }] }, settings);
    assert.deepEqual(shown(again.reports), shown(await analyzePythonSource(edited)));
  });

  it("analyses a notebook's cells as one program, as in this thread", async () => {
    const cells = [
      { kind: 'markdown', source: '# A CNN' },
      { kind: 'code', source: 'import torch.nn as nn\nimport torch.nn.functional as F' },
      { kind: 'code', source: 'class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(1, 4, 3)\n        self.fc = nn.Linear(4 * 26 * 26, 10)\n\n    def forward(self, x):\n        return self.fc(F.relu(self.conv(x)).flatten(1))' },
    ];
    const { reports } = await client.analyseNotebook('untitled:nb', undefined, cells, settings);
    const local = new NotebookAnalysis((await loadGrammars(wasmDir)).parser('python'));
    try {
      assert.deepEqual(shown(reports), shown(local.update(cells, { defaultInput: [3, 32, 32] })));
      assert.equal(reports[0]?.range.cell, 2);
      assert.equal(reports[0]?.totalParams, 40 + 27_050);
    } finally {
      local.dispose();
    }
  });
});
