// A classifier that cannot take the torchvision dataset its file loads is a warning in the editor,
// with both numbers and the change; the warnings and their quick fixes are checked against PyTorch.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { analyzeNotebook, NotebookError } from '../../src/core/analysis/notebook';
import type { AnalysisDiagnostic, ModelReport } from '../../src/core/analysis/report';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { analyzePythonSource, wasmDir } from './support/analysis';
import { code } from './support/notebooks';

const header = `import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import datasets, transforms
`;

function script(data: string, layers: { conv: string; fc: string }, tail = 'criterion = nn.CrossEntropyLoss()\nmodel = Net()\n'): string {
  return `${header}
${data}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ${layers.conv}
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = ${layers.fc}

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        return self.fc(torch.flatten(x, 1))

${tail}`;
}

const mnist = `transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
trainset = datasets.MNIST('data', train=True, download=True, transform=transform)`;

async function warnings(source: string, name = 'Net'): Promise<AnalysisDiagnostic[]> {
  const model = (await analyzePythonSource(source)).find((m) => m.name === name);
  assert.ok(model, `${name} is analysed`);
  return model.diagnostics.filter((d) => d.severity === 'warning');
}

function applyFixes(source: string, diagnostics: AnalysisDiagnostic[]): string {
  const lines = source.split('\n');
  // From the last edit back, so earlier ranges stay where they were.
  const fixes = diagnostics.map((d) => d.fix).filter((f) => f !== undefined).sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  for (const { range, newText } of fixes) {
    const line = lines[range.start.line] ?? '';
    lines[range.start.line] = line.slice(0, range.start.character) + newText + line.slice(range.end.character);
  }
  return lines.join('\n');
}

/** What PyTorch says when the class is built and given one image of the dataset's shape: its output, or its error's last line. */
function pytorchOn(source: string, image: number[]): string {
  const program = `${source.replace(/^(trainset|testset) = .*$/gm, '')}
try:
    print(list(Net()(torch.zeros(1, ${image.join(', ')})).shape))
except Exception as error:
    print(type(error).__name__)
`;
  const run = spawnSync('/usr/bin/python3', ['-c', program], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

describe('model against the dataset its file loads', () => {
  it('warns where a CIFAR-10 network meets MNIST, and its quick fixes make a model PyTorch runs on MNIST', async () => {
    const source = script(mnist, { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 100)' });
    const found = await warnings(source);
    assert.deepEqual(
      found.map((d) => [d.range.start.line, d.message]),
      [
        [12, "conv1, the first convolution, takes 3 channels but MNIST's images have 1: make it nn.Conv2d(1, 8, 3), or load a 3-channel dataset"],
        [14, 'Net gives 100 scores per image but MNIST has 10 classes, so 90 of its outputs stand for no label: make fc nn.Linear(128, 10)'],
      ],
    );
    assert.equal(pytorchOn(source, [1, 28, 28]), 'RuntimeError', 'PyTorch refuses MNIST as written');
    assert.deepEqual(found.map((d) => d.fix?.title), ['Change in_channels to 1', 'Change out_features to 10']);
    assert.deepEqual(found.map((d) => d.related?.map((r) => [r.range.start.line, r.message])), [[[7, 'MNIST: 1×28×28 images, 10 classes']], [[7, 'MNIST: 1×28×28 images, 10 classes']]]);
    const fixed = applyFixes(source, found);
    assert.deepEqual(await warnings(fixed), []);
    assert.equal(pytorchOn(fixed, [1, 28, 28]), '[1, 10]');
  });

  it("warns about an MLP whose first layer takes CIFAR-10's 3,072 values on MNIST, and fixes it", async () => {
    const source = `${header}
${mnist}

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3072, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.view(x.size(0), -1))))

mlp = MLP()
loss = F.cross_entropy(mlp(torch.zeros(1, 1, 28, 28)), torch.zeros(1, dtype=torch.long))
`;
    const found = await warnings(source, 'MLP');
    assert.deepEqual(
      found.map((d) => [d.range.start.line, d.message, d.fix?.newText]),
      [[12, "fc1, the first layer, takes 3,072 values but MNIST's images are 1×28×28 = 784 once flattened: make it nn.Linear(784, 256)", '784']],
    );
    assert.deepEqual(await warnings(applyFixes(source, found), 'MLP'), []);
  });

  it('warns about too few outputs on CIFAR-100, found through `import torchvision` and a positional transform-free call', async () => {
    const source = script("trainset = torchvision.datasets.CIFAR100(root='./data', train=True, download=True)", { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 10)' });
    const found = await warnings(source);
    assert.deepEqual(
      found.map((d) => d.message),
      ['Net gives 10 scores per image but CIFAR-100 has 100 classes, so labels 10 to 99 have no score and the loss fails on them: make fc nn.Linear(128, 100)'],
    );
  });

  it('says nothing where the file does not tell what the model reads or what it is for', async () => {
    const wrong = { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 100)' };
    const quiet: [string, string][] = [
      ['a CIFAR-10 network on CIFAR-10', script("trainset = datasets.CIFAR10('data', transform=transforms.ToTensor())", { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 10)' })],
      ['no classification loss (an autoencoder, a GAN)', script(mnist, wrong, 'criterion = nn.MSELoss()\nmodel = Net()\n')],
      ['a class the file never builds', script(mnist, wrong, 'criterion = nn.CrossEntropyLoss()\n')],
      ['two kinds of dataset', script(`${mnist}\nextra = datasets.CIFAR10('data')`, wrong)],
      ['a folder of images', script(`${mnist}\nextra = datasets.ImageFolder('photos')`, wrong)],
      ['a model the analysis cannot finish', script(mnist, { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, int(open("n").read()))' })],
    ];
    for (const [what, source] of quiet) assert.deepEqual(await warnings(source), [], what);
  });

  it('believes a transform only when it is known to keep the channels, and the size for a first Linear', async () => {
    const conv = { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 10)' };
    const transformed = (transform: string) => script(`trainset = datasets.MNIST('data', transform=${transform})`, conv);
    const messages = async (transform: string) => (await warnings(transformed(transform))).map((d) => d.message.split(':')[0]);
    const channels = "conv1, the first convolution, takes 3 channels but MNIST's images have 1";
    assert.deepEqual(await messages('transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor()])'), [channels]);
    assert.deepEqual(await messages('transforms.Compose([transforms.Grayscale(3), transforms.ToTensor()])'), [], 'Grayscale(3) makes three channels');
    assert.deepEqual(await messages('transforms.Lambda(lambda x: x.repeat(3, 1, 1))'), [], 'a Lambda may do anything');
    assert.deepEqual(await messages('steps'), [], 'a transform the file builds elsewhere is not followed');
    const mlp = (transform: string) => `${header}
trainset = datasets.MNIST('data', transform=${transform})

model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 10))
criterion = nn.CrossEntropyLoss()
`;
    const first = async (transform: string) => ((await analyzePythonSource(mlp(transform))).find((m) => m.name === 'model')?.diagnostics ?? []).map((d) => d.message.split(':')[0]);
    assert.deepEqual(await first('transforms.ToTensor()'), ["1, the first layer, takes 3,072 values but MNIST's images are 1×28×28 = 784 once flattened"]);
    assert.deepEqual(await first('transforms.Compose([transforms.Resize(32), transforms.ToTensor()])'), [], 'Resize(32) changes the size');
    assert.deepEqual(await first('transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.ToTensor()])'), ["1, the first layer, takes 3,072 values but MNIST's images are 1×28×28 = 784 once flattened"]);
  });

  it('warns in the notebook cell that builds the layer, with the dataset of another cell', async () => {
    const parser: Parser = (await loadGrammars(wasmDir)).parser('python');
    const source = script(mnist, { conv: 'nn.Conv2d(3, 8, 3, padding=1)', fc: 'nn.Linear(8 * 4 * 4, 10)' });
    const [imports = '', rest = ''] = source.split(mnist);
    const [model = '', training = ''] = rest.split('criterion');
    const cells = [code(imports), code(mnist), code(model), code(`criterion${training}`)];
    const result = analyzeNotebook(JSON.stringify({ cells: cells.map((c) => ({ cell_type: 'code', source: c.source, metadata: {}, outputs: [], execution_count: null })), metadata: {}, nbformat: 4, nbformat_minor: 5 }), parser, { defaultInput: [3, 32, 32] });
    if (result instanceof NotebookError) throw result;
    const net = result.reports.find((r: ModelReport & { range: { cell: number } }) => r.name === 'Net');
    const warning = net?.diagnostics.find((d) => d.severity === 'warning');
    assert.deepEqual([warning?.range.cell, warning?.range.start.line, warning?.message.split(':')[0]], [2, 5, "conv1, the first convolution, takes 3 channels but MNIST's images have 1"]);
    assert.deepEqual(warning?.related?.map((r) => [(r.range as { cell?: number }).cell, r.range.start.line]), [[1, 1]], 'the dataset, in its own cell');
  });
});
