// Every snippet, expanded with its default placeholders, must run under real PyTorch.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

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

  const forwardChecks: Record<string, string> = {
    'CNN for small images': 'print(tuple(Net()(torch.zeros(2, 3, 32, 32)).shape))',
    'MLP for MNIST': 'print(tuple(Net()(torch.zeros(2, 1, 28, 28)).shape))',
  };
  for (const [name, check] of Object.entries(forwardChecks)) {
    it(`"${name}" defines a model whose forward pass gives 10 class scores`, () => {
      const source = expand(snippets[name]?.body ?? []);
      assert.equal(runPython(`import torch\n${source}\n${check}`), '(2, 10)');
    });
  }

  it('"Conv block" halves the image and sets the channels', () => {
    const source = expand(snippets['Conv block']?.body ?? []);
    const shape = runPython(`import torch\nimport torch.nn as nn\nin_channels, out_channels = 3, 8\nblock = ${source}\nprint(tuple(block(torch.zeros(2, 3, 32, 32)).shape))`);
    assert.equal(shape, '(2, 8, 16, 16)');
  });

  it('has a test for every snippet and a cnnlab- prefix on each', () => {
    assert.deepEqual(Object.keys(snippets).sort(), [...Object.keys(forwardChecks), 'Conv block'].sort());
    for (const { prefix } of Object.values(snippets)) assert.ok(prefix.some((p) => p.startsWith('cnnlab-')));
  });
});
