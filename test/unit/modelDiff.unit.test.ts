// cnn-lab diff on real files: the course's MLP against its CIFAR CNN, and torchvision's installed
// resnet.py at two depths, whose parameter counts PyTorch itself gives.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const resnet = execFileSync(python, ['-c', 'import torchvision.models.resnet as r; print(r.__file__)'], { encoding: 'utf8' }).trim();

interface Side { name: string; type: string; output: number[] | null; params: number }
interface Diff { left: { model: string; totalParams: number }; right: { model: string; totalParams: number }; rows: { status: string; differences: string[]; left: Side | null; right: Side | null }[] }

const diff = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'diff', ...args], { encoding: 'utf8' });
const json = (...args: string[]) => {
  const run = diff(...args, '--json');
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Diff;
};

/** Each model's layers appear once, in order, on their side. */
function assertBothSidesWhole(result: Diff, left: string[], right: string[]): void {
  assert.deepEqual(result.rows.flatMap((r) => (r.left ? [r.left.name] : [])), left);
  assert.deepEqual(result.rows.flatMap((r) => (r.right ? [r.right.name] : [])), right);
}

describe('cnn-lab diff', () => {
  it('lines up the course\'s MLP and CIFAR CNN by name, marking what changed, was removed and was added', () => {
    const result = json(join(repo, 'examples/mnist_mlp.py'), join(repo, 'examples/cifar_cnn.py:Net'));
    assert.deepEqual([result.left.totalParams, result.right.totalParams], [669_706, 541_094]);
    assert.deepEqual(result.rows.map((r) => `${r.status} ${r.left?.name ?? ''}/${r.right?.name ?? ''}`), [
      'added /conv1', 'added /conv2', 'added /conv3', 'added /pool',
      'changed fc1/fc1', 'added /dropout', 'changed fc2/fc2', 'removed dropout/', 'removed fc3/',
    ]);
    // Listed as last called, the CNN's dropout comes before its fc2 and the MLP's after: paired, one side would be out of order.
    assertBothSidesWhole(result, ['fc1', 'fc2', 'dropout', 'fc3'], ['conv1', 'conv2', 'conv3', 'pool', 'fc1', 'dropout', 'fc2']);
    assert.deepEqual(result.rows[4]?.differences, ['output', 'params', 'macs']);
    const text = diff(join(repo, 'examples/mnist_mlp.py'), join(repo, 'examples/cifar_cnn.py')).stdout;
    assert.match(text, /^~ fc1 \(Linear\) +\[1, 512\] +401,920 {2}│ {2}fc1 \(Linear\) +\[1, 500\] +512,500$/m);
    assert.match(text, /^Total params: 669,706 → 541,094 \(−128,612\)$/m);
  });

  it('shows what ResNet-34 adds to ResNet-18 in torchvision\'s own file: whole blocks, with PyTorch\'s totals', () => {
    const result = json(`${resnet}:resnet18`, `${resnet}:resnet34`);
    const counts = execFileSync(python, ['-c', 'import torchvision.models as m\nfor f in (m.resnet18, m.resnet34): print(sum(p.numel() for p in f().parameters()))'], { encoding: 'utf8' }).trim().split('\n').map(Number);
    assert.deepEqual([result.left.totalParams, result.right.totalParams], counts);
    const added = result.rows.filter((r) => r.status === 'added');
    assert.equal(added.length, 40);
    assert.ok(added.every((r) => /^layer(1\.2|2\.[23]|3\.[2-5]|4\.2)\./.test(r.right?.name ?? '')), 'only the blocks ResNet-34 has more of');
    assert.ok(result.rows.filter((r) => r.status !== 'added').every((r) => r.status === 'same'), 'every other layer the same');
  });

  it('lines up the TF.js examples (MLP and CNN) in order: a layer that moved is removed and added; the totals are TF.js\'s own', () => {
    const [mlp, cnn] = ['examples/tfjs_mnist_mlp.ts', 'examples/tfjs_mnist_cnn.js'].map((file) => join(repo, file));
    const result = json(mlp as string, cnn as string);
    // Dropout follows dense_1 in the MLP and precedes it in the CNN: paired, one side would be out of order.
    assert.deepEqual(result.rows.map((r) => `${r.status} ${r.left?.name ?? ''}/${r.right?.name ?? ''}`), [
      'added /conv2d_1', 'added /maxPooling2d_1', 'added /conv2d_2', 'added /maxPooling2d_2',
      'changed flatten_1/flatten_1', 'added /dropout_1', 'changed dense_1/dense_1', 'removed dropout_1/', 'same dense_2/dense_2',
    ]);
    assertBothSidesWhole(result, ['flatten_1', 'dense_1', 'dropout_1', 'dense_2'], ['conv2d_1', 'maxPooling2d_1', 'conv2d_2', 'maxPooling2d_2', 'flatten_1', 'dropout_1', 'dense_1', 'dense_2']);
    const load = createRequire(__filename); // the example modules themselves, through tsx, as TF.js builds them
    const own = [mlp, cnn].map((file) => (load(file as string) as { buildModel: () => { countParams: () => number } }).buildModel().countParams());
    assert.deepEqual([result.left.totalParams, result.right.totalParams], own);
  });

  it('pairs a renamed layer by order and kind, naming what differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-diff-'));
    const model = (conv: string, width: number) => `import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.${conv} = nn.Conv2d(3, ${width}, 3)\n        self.head = nn.Linear(${width} * 30 * 30, 10)\n\n    def forward(self, x):\n        return self.head(self.${conv}(x).flatten(1))\n`;
    writeFileSync(join(dir, 'a.py'), model('conv', 8));
    writeFileSync(join(dir, 'b.py'), model('features', 16));
    const result = json(join(dir, 'a.py'), join(dir, 'b.py'));
    assertBothSidesWhole(result, ['conv', 'head'], ['features', 'head']);
    assert.deepEqual(result.rows.map((r) => [r.status, r.differences]), [['changed', ['name', 'output', 'params', 'macs']], ['changed', ['params', 'macs']]]);
  });

  it('asks which model when a file has several, and names the models a wrong name misses', () => {
    const several = diff(`${resnet}`, join(repo, 'examples/mnist_mlp.py'));
    assert.equal(several.status, 2);
    assert.match(several.stderr, /^cnn-lab diff: .*resnet\.py has \d+ models \(.*resnet18.*\): name one, as .*resnet\.py:\w+\n$/);
    const wrong = diff(join(repo, 'examples/mnist_mlp.py:Missing'), join(repo, 'examples/cifar_cnn.py'));
    assert.equal(wrong.status, 2);
    assert.equal(wrong.stderr, `cnn-lab diff: ${join(repo, 'examples/mnist_mlp.py')} has no model Missing (it has Net)\n`);
  });
});
