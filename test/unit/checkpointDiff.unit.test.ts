// cnn-lab diff on two checkpoints, read without Python, against what PyTorch computes of the same
// tensors: ‖B − A‖, the relative change and the cosine similarity, parameter by parameter.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';

// A: a state_dict. B: CNN Lab's last.pt layout (model, optimizer state with momentum buffers, epoch),
// whose pickle holds POP opcodes; conv.weight trained a little, fc.weight widened, old gone, extra new.
const make = `
import json, sys, torch
import torch.nn.functional as F
torch.manual_seed(0)
folder = sys.argv[1]
a = {"conv.weight": torch.randn(8, 1, 3, 3), "conv.bias": torch.randn(8), "fc.weight": torch.randn(10, 20), "old.weight": torch.randn(4)}
b = {"conv.weight": a["conv.weight"] + 0.1 * torch.randn(8, 1, 3, 3), "conv.bias": a["conv.bias"].clone(), "fc.weight": torch.randn(10, 30), "extra.weight": torch.randn(2)}
parameters = [torch.nn.Parameter(t.clone()) for t in b.values()]
optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.9)
sum(p.sum() for p in parameters).backward()
optimizer.step()
torch.save(a, f"{folder}/a.pt")
torch.save({"model": b, "optimizer": optimizer.state_dict(), "epoch": 3, "bestLoss": 0.5, "bestEpoch": 2, "scheduler": None}, f"{folder}/b.pt")
x, y = a["conv.weight"].double().flatten(), b["conv.weight"].double().flatten()
print(json.dumps({"l2": (y - x).norm().item(), "relative": ((y - x).norm() / x.norm()).item(), "cosine": F.cosine_similarity(x, y, dim=0).item()}))
`;

describe('cnn-lab diff on two checkpoints', () => {
  it('gives each parameter\'s change as PyTorch computes it, and mismatches and missing ones as rows', () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-checkpoint-diff-'));
    const truth = JSON.parse(execFileSync(python, ['-c', make, folder], { encoding: 'utf8' })) as { l2: number; relative: number; cosine: number };
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'diff', join(folder, 'a.pt'), join(folder, 'b.pt'), '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { parameters } = JSON.parse(run.stdout) as { parameters: { name: string; status: string; shapes: [number[] | null, number[] | null]; l2: number | null; relative: number | null; cosine: number | null }[] };
    assert.deepEqual(parameters.map((p) => [p.name, p.status]), [['conv.weight', 'changed'], ['conv.bias', 'unchanged'], ['fc.weight', 'shape mismatch'], ['old.weight', 'only in A'], ['extra.weight', 'only in B']]);
    const [conv] = parameters;
    for (const key of ['l2', 'relative', 'cosine'] as const) assert.ok(Math.abs((conv?.[key] ?? 0) - truth[key]) < 1e-6 * Math.max(1, truth[key]), `${key}: ${conv?.[key]} against PyTorch's ${truth[key]}`);
    assert.deepEqual(parameters[2]?.shapes, [[10, 20], [10, 30]]);
    const text = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'diff', join(folder, 'a.pt'), join(folder, 'b.pt')], { encoding: 'utf8' }).stdout;
    assert.match(text, /^fc\.weight +10×20 → 10×30 +shape mismatch$/m);
    assert.match(text, new RegExp(`^conv\\.weight +8×1×3×3 +${truth.l2.toFixed(4)} +${(100 * truth.relative).toFixed(1)} % +${truth.cosine.toFixed(4)}$`, 'm'));
  });

  it('says which file it cannot read', () => {
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'diff', join(repo, 'package.json'), join(repo, 'README.md.pt')], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `cnn-lab diff: ${join(repo, 'package.json')} has no weightsManifest: it is not a TF.js model.json\ncnn-lab diff: ENOENT: no such file or directory, open '${join(repo, 'README.md.pt')}'\n`);
  });
});
