// npm run bench:checkpoints: the core's checkpoint reader on an 84 MB state_dict (eight 3×3 convs of
// 64 channels, two large linear layers: 21 M parameters), written by PyTorch in both torch.save
// formats. Reports the time to list the layers (what the Checkpoints view does when a file opens)
// and to compute every parameter's statistics (what opening every layer does), median of 5. Then a
// 2 GB state_dict: the time and memory to read its keys and shapes, as the editor's load_state_dict
// check reads them (its tensors' data is never read).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, weightStats } from '../../src/core/checkpoints/checkpoint';
import { checkpointTensors } from '../../src/core/checkpoints/stateDictCheck';

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

// 2 GB: a 23,170 × 23,170 linear layer and a small head, left uninitialised (its values do not matter here).
const big = join(dir, 'big.pt');
const bigMade = spawnSync(python, ['-c', `
import torch
from torch import nn
sd = {'fc1.weight': torch.empty(23170, 23170), 'fc1.bias': torch.empty(23170), 'fc2.weight': torch.empty(10, 23170), 'fc2.bias': torch.empty(10)}
torch.save(sd, ${JSON.stringify(big)})
`], { encoding: 'utf8' });
if (bigMade.status !== 0) throw new Error(bigMade.stderr);
const times: number[] = [];
let grown = 0;
let keys = 0;
for (let run = 0; run < 5; run++) {
  const before = process.memoryUsage();
  const started = performance.now();
  keys = checkpointTensors(readCheckpoint(big)).size;
  times.push(performance.now() - started);
  const after = process.memoryUsage();
  grown = Math.max(grown, after.rss - before.rss, after.arrayBuffers - before.arrayBuffers);
}
process.stdout.write(`2 GB   ${(statSync(big).size / 2 ** 30).toFixed(2)} GiB state_dict: ${keys} keys and shapes in ${median(times).toFixed(1)} ms (median of 5), memory grown at most ${(grown / 2 ** 20).toFixed(1)} MiB\n`);
rmSync(dir, { recursive: true, force: true });
