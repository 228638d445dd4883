// The built CLI (dist/cli.js), run as a user or a CI script would.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'dist/cli.js'), ...args], { cwd: repo, encoding: 'utf8' });

describe('cnn-lab shapes', function () {
  this.timeout(120_000);

  it('prints the documented JSON for a model file, with 1-based lines', () => {
    const run = cli('shapes', 'examples/cifar_cnn.py', '--json');
    assert.equal(run.status, 0, run.stderr);
    const document = JSON.parse(run.stdout) as { file: string; models: { name: string; line: number; input: number[]; output: number[]; totalParams: number; trainableParams: number; exact: boolean; totalMacs: number; activationBytes: number; layers: { name: string; line: number; in: number[]; out: number[]; params: number; macs: number }[]; diagnostics: unknown[] }[] };
    assert.equal(document.file, 'examples/cifar_cnn.py');
    const [model] = document.models;
    assert.ok(model);
    const lines = readFileSync(join(repo, 'examples/cifar_cnn.py'), 'utf8').split('\n');
    assert.equal(lines[model.line - 1], 'class Net(nn.Module):');
    assert.deepEqual([model.name, model.input, model.output, model.totalParams, model.trainableParams, model.exact], ['Net', [1, 3, 32, 32], [1, 10], 541_094, 541_094, false]);
    const conv1 = model.layers.find((l) => l.name === 'conv1');
    assert.deepEqual(conv1 && { ...conv1, source: lines[conv1.line - 1]?.trim().slice(0, 26) }, {
      name: 'conv1',
      type: 'Conv2d',
      line: 9,
      in: [1, 3, 32, 32],
      out: [1, 16, 32, 32],
      params: 448,
      macs: 16 * 32 * 32 * 3 * 3 * 3,
      outputBytes: 16 * 32 * 32 * 4,
      receptiveField: { size: [3, 3], jump: [1, 1] },
      source: 'self.conv1 = nn.Conv2d(3, ',
    });
    assert.deepEqual([model.totalMacs, model.activationBytes], [3_318_664, 122_824]);
    assert.deepEqual(model.diagnostics, []);
  });

  it('takes --input, and exits 1 with the diagnostics when a model is wrong for it', () => {
    const run = cli('shapes', 'examples/cifar_cnn.py', '--input', '1,3,64,64', '--json');
    assert.equal(run.status, 1);
    const [model] = (JSON.parse(run.stdout) as { models: { input: number[]; diagnostics: { line: number; message: string; severity: string }[] }[] }).models;
    assert.deepEqual(model?.input, [1, 3, 64, 64]);
    assert.deepEqual(model?.diagnostics.map((d) => [d.line, d.severity]), [[21, 'error'], [13, 'error']]);
    assert.match(model?.diagnostics[0]?.message ?? '', /^view\(-1, 1024\) expects 1024 values per sample but each sample has 4096/);
  });

  it('prints one JSON document per file and line, with --timing in ms, and picks a class with --class', () => {
    const run = cli('shapes', 'examples/mnist_mlp.py', 'test/fixtures/models/layer_zoo.py', '--class', 'Conv1dNet', '--json', '--timing');
    const documents = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; ms: number; models: { name: string }[] });
    assert.deepEqual(documents.map((d) => [d.file, d.models.map((m) => m.name)]), [['examples/mnist_mlp.py', []], ['test/fixtures/models/layer_zoo.py', ['Conv1dNet']]]);
    assert.ok(documents.every((d) => typeof d.ms === 'number' && d.ms > 0));
  });

  it('with --exact, reports what PyTorch ran, marked exact', () => {
    const run = cli('shapes', 'examples/mnist_mlp.py', '--exact', '--json');
    assert.equal(run.status, 0, run.stderr);
    const [model] = (JSON.parse(run.stdout) as { models: { exact: boolean; output: number[]; totalParams: number }[] }).models;
    assert.deepEqual([model?.exact, model?.output, model?.totalParams], [true, [1, 10], 669_706]);
  });

  it('answers bad usage and unreadable files with exit code 2 and a message', () => {
    assert.equal(cli('shapes').status, 2);
    assert.match(cli('shapes', 'x.py', '--frob').stderr, /unknown option --frob/);
    assert.match(cli('shapes', 'x.py', '--input', '1,a').stderr, /--input takes sizes like 1,3,32,32/);
    const missing = cli('shapes', '/nonexistent/model.py');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read \/nonexistent\/model.py/);
  });

  it('reads a half-written file without failing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cnnlab-cli-')), 'half.py');
    writeFileSync(file, 'import torch.nn as nn\nclass Half(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(4,\n');
    const run = cli('shapes', file, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { models: { name: string }[] }).models[0]?.name, 'Half');
  });
});
