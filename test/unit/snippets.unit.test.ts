// Every snippet, expanded with its default placeholders as VS Code inserts it, must run under its
// framework, and the hints must give that framework's output shape and parameter counts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzePythonSource } from './support/analysis';
import { analysisOf, analyzeTypescriptSource, tfjsTruth } from './support/tfjs';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
type Snippets = Record<string, { prefix: string[]; body: string[] }>;
const pythonSnippets = JSON.parse(readFileSync(join(repo, 'snippets/python.json'), 'utf8')) as Snippets;
const tfjsSnippets = JSON.parse(readFileSync(join(repo, 'snippets/tfjs.json'), 'utf8')) as Snippets;

/** What VS Code inserts when the user accepts every default: `${1:x}` → x, `$1`/`$0` → nothing. */
function expand(body: string[]): string {
  return body.join('\n').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
}

function runPython(source: string): string {
  return execFileSync(python, ['-c', source], { encoding: 'utf8' }).trim();
}

const imports = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';

/** Each model snippet as a user would use it: around it, the input PyTorch gets, and the model the hints should report. */
const pythonCases: { snippet: string; around: (code: string) => string; input: string; model: string; report: string }[] = [
  { snippet: 'CNN for small images', around: (code) => code, input: '2, 3, 32, 32', model: 'Net()', report: 'Net' },
  { snippet: 'MLP for MNIST', around: (code) => code, input: '2, 1, 28, 28', model: 'Net()', report: 'Net' },
  { snippet: 'Conv block', around: (code) => `${imports}in_channels, out_channels = 3, 8\nblock = ${code}`, input: '2, 3, 32, 32', model: 'block', report: 'block' },
  { snippet: 'AlexNet stem', around: (code) => `${imports}# cnnlab: input 3x224x224\nstem = ${code}`, input: '2, 3, 224, 224', model: 'stem', report: 'stem' },
  {
    snippet: 'VGG block',
    around: (code) => `${imports}${code}\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.features = nn.Sequential(vgg_block(3, 16), vgg_block(16, 32, 3))\n        self.head = nn.Linear(32 * 8 * 8, 10)\n\n    def forward(self, x):\n        return self.head(self.features(x).flatten(1))\n`,
    input: '2, 3, 32, 32',
    model: 'Net()',
    report: 'Net',
  },
  {
    snippet: 'ResNet basic block',
    around: (code) => `${imports}${code}\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.blocks = nn.Sequential(BasicBlock(3, 16, 2), BasicBlock(16, 16))\n        self.head = nn.Linear(16, 10)\n\n    def forward(self, x):\n        x = F.adaptive_avg_pool2d(self.blocks(x), 1)\n        return self.head(x.flatten(1))\n`,
    input: '2, 3, 32, 32',
    model: 'Net()',
    report: 'Net',
  },
];

describe('snippets', function () {
  this.timeout(60_000);

  it('expands placeholders the way VS Code does', () => {
    assert.equal(expand(['class ${1:Net}(nn.Module):', '    x = ${2:3} + ${2:3}$0']), 'class Net(nn.Module):\n    x = 3 + 3');
  });

  for (const { snippet, around, input, model, report } of pythonCases) {
    it(`"${snippet}" runs under PyTorch, and the hints give PyTorch's output shape and parameter count`, async () => {
      const source = `${around(expand(pythonSnippets[snippet]?.body ?? []))}\n`;
      const truth = JSON.parse(runPython(`import json, torch\n${source}\nm = ${model}\nprint(json.dumps([list(m(torch.zeros(${input})).shape)[1:], sum(p.numel() for p in m.parameters())]))`)) as [number[], number];
      const found = (await analyzePythonSource(source)).find((r) => r.name === report);
      assert.ok(found, `the hints find ${report}`);
      assert.deepEqual(found.output?.slice(1), truth[0]);
      assert.equal(found.totalParams, truth[1]);
      assert.deepEqual(found.diagnostics, []);
    });
  }

  it('"Training loop" trains a model for an epoch and returns the loss averaged over samples', () => {
    const loop = expand(pythonSnippets['Training loop']?.body ?? []);
    const result = runPython(`${imports}${loop}
torch.manual_seed(0)
data = torch.utils.data.TensorDataset(torch.randn(50, 4), torch.randint(0, 3, (50,)))
loader = torch.utils.data.DataLoader(data, batch_size=20)
model = nn.Linear(4, 3)
criterion = nn.CrossEntropyLoss()
before = sum(criterion(model(x), y).item() * len(x) for x, y in loader) / 50
loss = train_one_epoch(model, loader, torch.optim.SGD(model.parameters(), lr=0.0), criterion)
print(abs(loss - before) < 1e-6, isinstance(loss, float))`);
    assert.equal(result, 'True True', 'with lr=0 the epoch loss equals the sample-averaged loss of the untrained model');
  });

  for (const snippet of Object.keys(tfjsSnippets)) {
    it(`"${snippet}" builds in TF.js, and the hints give TF.js's shapes and parameter counts`, async () => {
      const source = `import * as tf from '@tensorflow/tfjs';\n\n${expand(tfjsSnippets[snippet]?.body ?? [])}\n`;
      const file = `.test-output/snippets/${snippet.replace(/\W+/g, '_')}.ts`;
      mkdirSync(join(repo, '.test-output/snippets'), { recursive: true });
      writeFileSync(join(repo, file), source);
      const [model] = await analyzeTypescriptSource(source);
      assert.ok(model);
      assert.deepEqual(analysisOf(model), tfjsTruth(file));
      assert.deepEqual(model.diagnostics, []);
    });
  }

  it('has a test for every snippet and a cnnlab- prefix on each', () => {
    assert.deepEqual(Object.keys(pythonSnippets).sort(), [...pythonCases.map((c) => c.snippet), 'Training loop'].sort());
    for (const { prefix } of [...Object.values(pythonSnippets), ...Object.values(tfjsSnippets)]) assert.ok(prefix.some((p) => p.startsWith('cnnlab-')));
  });
});
