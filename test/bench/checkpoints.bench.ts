// npm run bench:checkpoints: the core's checkpoint reader on an 84 MB state_dict (eight 3×3 convs of
// 64 channels, two large linear layers: 21 M parameters), written by PyTorch in both torch.save
// formats. Reports the time to list the layers (what the Checkpoints view does when a file opens)
// and to compute every parameter's statistics (what opening every layer does), median of 5.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, weightStats } from '../../src/core/checkpoints/checkpoint';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-bench-checkpoints-'));
const made = spawnSync(python, ['-c', `
import torch
from torch import nn
m = nn.Sequential(*[nn.Conv2d(64 if i else 3, 64, 3) for i in range(8)], nn.Flatten(), nn.Linear(4096, 4096), nn.Linear(4096, 1000))
torch.save(m.state_dict(), ${JSON.stringify(join(dir, 'zip.pt'))})
torch.save(m.state_dict(), ${JSON.stringify(join(dir, 'legacy.pt'))}, _use_new_zipfile_serialization=False)
`], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(made.stderr);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
for (const format of ['zip', 'legacy']) {
  const layers: number[] = [];
  const stats: number[] = [];
  let parameters = 0;
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const checkpoint = readCheckpoint(join(dir, `${format}.pt`));
    layers.push(performance.now() - started);
    const opened = performance.now();
    parameters = 0;
    for (const parameter of checkpoint.layers.flatMap((l) => l.parameters)) {
      weightStats(parameter.values());
      parameters += parameter.count;
    }
    stats.push(performance.now() - opened);
  }
  process.stdout.write(`${format.padEnd(6)} ${(parameters / 1e6).toFixed(1)} M parameters: layers listed in ${median(layers).toFixed(0)} ms, every statistic in ${median(stats).toFixed(0)} ms\n`);
}
