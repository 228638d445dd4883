// Checkpoints made by real PyTorch in each format torch.save writes, read back without PyTorch.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, CheckpointError, readCheckpoint, weightStats } from '../../src/core/checkpoints/checkpoint';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-checkpoints-'));

/** Runs the script with torch and a small seeded model in scope; it prints JSON of what the reader must find. */
function torchScript(body: string): Record<string, { shape: number[]; values: number[] }> {
  const script = `
import json, torch
from torch import nn
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(8, 2)
net = Net()
net.bn.running_mean.uniform_()
def dump(state):
    print(json.dumps({k: {"shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in state.items()}))
${body}
`;
  const result = spawnSync(python, ['-c', script], { cwd: dir, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, { shape: number[]; values: number[] }>;
}

function assertSameWeights(checkpoint: Checkpoint, expected: Record<string, { shape: number[]; values: number[] }>): void {
  const parameters = checkpoint.layers.flatMap((layer) => layer.parameters);
  assert.deepEqual(parameters.map((p) => p.name), Object.keys(expected));
  for (const parameter of parameters) {
    const want = expected[parameter.name];
    assert.deepEqual(parameter.shape, want?.shape, parameter.name);
    assert.deepEqual(Array.from(parameter.values()), want?.values, parameter.name);
  }
}

describe('checkpoints (read without PyTorch)', () => {
  it('reads a state_dict in the ZIP format: layers, their kinds, shapes and exact values', () => {
    const expected = torchScript(`torch.save(net.state_dict(), "zip.pt"); dump(net.state_dict())`);
    const checkpoint = readCheckpoint(join(dir, 'zip.pt'));
    assert.equal(checkpoint.format, 'PyTorch');
    assert.deepEqual(checkpoint.layers.map((l) => [l.name, l.kind]), [['conv1', 'Conv2d'], ['bn', 'BatchNorm'], ['fc', 'Linear']]);
    assertSameWeights(checkpoint, expected);
    assert.equal(checkpoint.layers[1]?.parameters.find((p) => p.name === 'bn.num_batches_tracked')?.dtype, 'int64');
  });

  it('reads a legacy (pre-zip) pickle checkpoint, and finds the state_dict inside a dict such as CNN Lab\'s last.pt', () => {
    const expected = torchScript(`torch.save({"model": net.state_dict(), "epoch": 3, "bestLoss": 0.25}, "legacy.pt", _use_new_zipfile_serialization=False); dump(net.state_dict())`);
    assert.notEqual(readFileSync(join(dir, 'legacy.pt')).subarray(0, 2).toString('latin1'), 'PK');
    const checkpoint = readCheckpoint(join(dir, 'legacy.pt'));
    assert.equal(checkpoint.format, 'PyTorch (legacy)');
    assertSameWeights(checkpoint, expected);
    assert.deepEqual(checkpoint.notes, ['epoch: 3', 'bestLoss: 0.25']);
  });

  it('reads a whole pickled nn.Module without importing its class', () => {
    const expected = torchScript(`torch.save(net, "module.pt"); dump(net.state_dict())`);
    assertSameWeights(readCheckpoint(join(dir, 'module.pt')), expected);
  });

  it('reads float16 and bfloat16 weights, and a non-contiguous view through its strides', () => {
    const expected = torchScript(`
state = {"half.weight": net.fc.weight.detach().half(), "brain.weight": net.fc.weight.detach().bfloat16(), "view.weight": net.fc.weight.detach().t()}
torch.save(state, "dtypes.pt"); dump(state)`);
    const checkpoint = readCheckpoint(join(dir, 'dtypes.pt'));
    assert.deepEqual(checkpoint.layers.map((l) => l.parameters[0]?.dtype), ['float16', 'bfloat16', 'float32']);
    assertSameWeights(checkpoint, expected);
  });

  it('says what is wrong with a truncated or foreign file, naming it', () => {
    const whole = readFileSync(join(dir, 'zip.pt'));
    writeFileSync(join(dir, 'cut.pt'), whole.subarray(0, Math.floor(whole.length / 2)));
    assert.throws(() => readCheckpoint(join(dir, 'cut.pt')), (error: Error) => error instanceof CheckpointError && /cut\.pt cannot be read: the ZIP archive has no central directory/.test(error.message));
    const legacy = readFileSync(join(dir, 'legacy.pt'));
    writeFileSync(join(dir, 'cut-legacy.pt'), legacy.subarray(0, legacy.length - 100));
    assert.throws(() => readCheckpoint(join(dir, 'cut-legacy.pt')), /cut-legacy\.pt cannot be read: storage \d+ ends \d+ bytes past the end of the file: it is truncated/);
    writeFileSync(join(dir, 'notes.pt'), 'not a checkpoint');
    assert.throws(() => readCheckpoint(join(dir, 'notes.pt')), /notes\.pt is neither a PyTorch checkpoint/);
  });

  it('reads a TF.js model.json and its weight file, kernels height × width × in × out', () => {
    const kernel = Float32Array.from({ length: 3 * 3 * 1 * 2 }, (_, i) => i / 10 - 0.5);
    const bias = Float32Array.from([0.25, -0.75]);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(bias.buffer)]));
    const manifest = [{ paths: ['weights.bin'], weights: [{ name: 'conv2d_1/kernel', shape: [3, 3, 1, 2], dtype: 'float32' }, { name: 'conv2d_1/bias', shape: [2], dtype: 'float32' }] }];
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: manifest }));
    const checkpoint = readCheckpoint(join(dir, 'model.json'));
    assert.deepEqual([checkpoint.format, checkpoint.kernelLayout, checkpoint.layers[0]?.name, checkpoint.layers[0]?.kind], ['TF.js', 'hwio', 'conv2d_1', 'Conv2d']);
    assert.deepEqual(Array.from(checkpoint.layers[0]?.parameters[1]?.values() ?? []), Array.from(bias));
    const stats = weightStats(Float64Array.from([1, 2, 3, 6]));
    assert.deepEqual(stats, { mean: 3, std: Math.sqrt(3.5), min: 1, max: 6 });
  });
});
