// Exact mode with the real helper (src/trainer/shapes.py) and the real PyTorch of /usr/bin/python3.
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExactShapes, withExactShapes } from '../../src/core/analysis/exactShapes';
import { analyzePythonSource } from './support/analysis';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');

function modelFile(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cnnlab-exact-')), 'model.py');
  writeFileSync(file, source);
  return file;
}

const tiny = (body: string) => `import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n${body}`;

describe('exact shapes (PyTorch runs the model)', function () {
  this.timeout(120_000);
  const log: string[] = [];
  let exact: ExactShapes;

  before(() => {
    exact = new ExactShapes({ python, script: resolve(repo, 'src/trainer/shapes.py'), onLog: (line) => log.push(line) });
  });

  after(() => exact.dispose());

  it('gives PyTorch\'s shapes and counts for the CIFAR example, and they agree with the static analysis', async () => {
    const file = resolve(repo, 'examples/cifar_cnn.py');
    const [model] = await exact.shapes(file, [{ name: 'Net', input: [1, 3, 32, 32] }]);
    assert.ok(model);
    assert.equal(model.error, null);
    assert.deepEqual(model.output, [1, 10]);
    assert.equal(model.totalParams, 541_094);
    assert.equal(model.trainableParams, 541_094);
    assert.deepEqual(model.layers?.find((l) => l.name === 'conv1'), { name: 'conv1', type: 'Conv2d', out: [1, 16, 32, 32], params: 448 });
    const [report] = await analyzePythonSource((await import('node:fs')).readFileSync(file, 'utf8'));
    assert.ok(report);
    const merged = withExactShapes(report, model);
    assert.equal(merged.exact, true);
    assert.deepEqual(merged.layers.map((l) => [l.name, l.out, l.params]), report.layers.map((l) => [l.name, l.out, l.params]));
  });

  it('counts frozen parameters as not trainable', async () => {
    const file = modelFile(tiny('        self.fc.weight.requires_grad_(False)\n\n    def forward(self, x):\n        return self.fc(x)\n'));
    const [model] = await exact.shapes(file, [{ name: 'Tiny', input: [1, 4] }]);
    assert.equal(model?.totalParams, 10);
    assert.equal(model?.trainableParams, 2);
  });

  it('reports the error PyTorch raises in forward, per model, and keeps serving', async () => {
    const file = modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x.view(-1, 3))\n'));
    const [model] = await exact.shapes(file, [{ name: 'Tiny', input: [1, 6] }]);
    assert.match(model?.error ?? '', /^RuntimeError: .*mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)/);
    const [report] = await analyzePythonSource((await import('node:fs')).readFileSync(file, 'utf8'));
    assert.ok(report && model);
    const merged = withExactShapes(report, model);
    assert.equal(merged.exact, undefined);
    assert.match(merged.diagnostics.at(-1)?.message ?? '', /^PyTorch could not run Tiny on 1×4: RuntimeError/);
  });

  it('reports a file that fails to import, and one that prints, without losing the protocol', async () => {
    await assert.rejects(exact.shapes(modelFile('import torch\nraise ValueError("half-written")\n'), [{ name: 'Net', input: [1, 4] }]), /ValueError: half-written/);
    const printing = modelFile(`print("hello from the user's file")\n${tiny('\n    def forward(self, x):\n        print("in forward")\n        return self.fc(x)\n')}`);
    const [model] = await exact.shapes(printing, [{ name: 'Tiny', input: [1, 4] }]);
    assert.deepEqual(model?.output, [1, 2]);
  });

  it('gives up on a model that hangs, kills the helper, and answers the next request with a fresh one', async () => {
    const hanging = modelFile(tiny('        import time\n        time.sleep(600)\n\n    def forward(self, x):\n        return self.fc(x)\n'));
    await assert.rejects(exact.shapes(hanging, [{ name: 'Tiny', input: [1, 4] }], 3000), /did not finish building the models within 3 s/);
    const [model] = await exact.shapes(modelFile(tiny('\n    def forward(self, x):\n        return self.fc(x)\n')), [{ name: 'Tiny', input: [1, 4] }]);
    assert.deepEqual(model?.output, [1, 2]);
    assert.ok(log.some((line) => line === 'exact shapes: helper killed by SIGKILL'), log.join('\n'));
  });

  it('stops by closing stdin, and records that it was stopped', async () => {
    const own = new ExactShapes({ python, script: resolve(repo, 'src/trainer/shapes.py'), onLog: (line) => log.push(line) });
    await own.shapes(resolve(repo, 'examples/mnist_mlp.py'), [{ name: 'Net', input: [1, 784] }]);
    await own.dispose();
    assert.equal(log.at(-1), 'exact shapes: helper stopped');
  });

  it('says so when the interpreter cannot start', async () => {
    const missing = new ExactShapes({ python: '/nonexistent/python3', script: resolve(repo, 'src/trainer/shapes.py'), onLog: () => undefined });
    await assert.rejects(missing.shapes('/tmp/x.py', []), /the PyTorch helper failed to start: spawn \/nonexistent\/python3 ENOENT/);
  });
});
