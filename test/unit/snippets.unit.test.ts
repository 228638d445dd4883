// Every snippet, expanded with its default placeholders, must run under real PyTorch.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzePythonSource } from './support/analysis';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const snippets = JSON.parse(readFileSync(resolve(__dirname, '../../snippets/python.json'), 'utf8')) as Record<string, { prefix: string[]; body: string[] }>;

/** What VS Code inserts when the user accepts every default: `${1:x}` → x, `$1`/`$0` → nothing. */
function expand(body: string[]): string {
  return body.join('\n').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
}

function runPython(source: string): string {
  return execFileSync(python, ['-c', source], { encoding: 'utf8' }).trim();
}

describe('snippets', () => {
  it('expands placeholders the way VS Code does', () => {
    assert.equal(expand(['class ${1:Net}(nn.Module):', '    x = ${2:3} + ${2:3}$0']), 'class Net(nn.Module):\n    x = 3 + 3');
  });

  /** Each snippet as a user would complete it, the input PyTorch gets, and the model the hints should find. */
  const cases: { name: string; prelude: string; input: string; model: string }[] = [
    { name: 'CNN for small images', prelude: '', input: '2, 3, 32, 32', model: 'Net()' },
    { name: 'MLP for MNIST', prelude: '', input: '2, 1, 28, 28', model: 'Net()' },
    { name: 'Conv block', prelude: 'import torch.nn as nn\nin_channels, out_channels = 3, 8\nblock = ', input: '2, 3, 32, 32', model: 'block' },
  ];
  for (const { name, prelude, input, model } of cases) {
    it(`"${name}" runs under PyTorch, and the hints give PyTorch's output shape and parameter count`, async () => {
      const source = `${prelude}${expand(snippets[name]?.body ?? [])}\n`;
      const truth = JSON.parse(runPython(`import json, torch\n${source}\nm = ${model}\nprint(json.dumps([list(m(torch.zeros(${input})).shape)[1:], sum(p.numel() for p in m.parameters())]))`)) as [number[], number];
      const [report] = await analyzePythonSource(source);
      assert.ok(report, 'the hints find the model');
      assert.deepEqual(report.output?.slice(1), truth[0]);
      assert.equal(report.totalParams, truth[1]);
      assert.deepEqual(report.diagnostics, []);
    });
  }

  it('has a test for every snippet and a cnnlab- prefix on each', () => {
    assert.deepEqual(Object.keys(snippets).sort(), cases.map((c) => c.name).sort());
    for (const { prefix } of Object.values(snippets)) assert.ok(prefix.some((p) => p.startsWith('cnnlab-')));
  });
});
