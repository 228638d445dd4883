// The dashboard's data shaping (core, no vscode) and its run model, live and read back from a real run folder.
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareRuns, RunModel } from '../../src/core/dashboard/runModel';
import { compareToWebview } from '../../src/core/protocol/compare';
import { confusionCells, decimate, smooth } from '../../src/core/dashboard/series';
import { dashboardToWebview, maxChartPoints } from '../../src/core/protocol/dashboard';
import { type TrainerEvent, trainingDefaults } from '../../src/core/protocol/trainer';
import { safeParse } from '../../src/core/schema';
import { readRunConfig } from '../../src/core/training/settings';
import { presetSettings } from '../../src/core/training/presets';
import { TrainingRun } from '../../src/core/training/trainingRun';

const repo = resolve(__dirname, '../..');

describe('dashboard data', () => {
  it('smooths as TensorBoard does: an exponential average, debiased at the start', () => {
    assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
    // 0.5·0 + 0.5·1 = 0.5 → /0.5 = 1; 0.25 + 1 = 1.25 → /0.75; 0.625 + 1.5 = 2.125 → /0.875
    const smoothed = smooth([1, 2, 3], 0.5);
    [1, 1.25 / 0.75, 2.125 / 0.875].forEach((expected, i) => assert.ok(Math.abs((smoothed[i] ?? 0) - expected) < 1e-12));
    assert.ok(smooth(Array<number>(50).fill(4), 0.9).every((v) => Math.abs(v - 4) < 1e-9), 'a constant stays put');
    assert.deepEqual(smooth([1, Number.NaN, 1], 0.6).map(Number.isNaN), [false, true, false]);
  });

  it('decimates 100,000 points to the limit, keeping the ends, every spike and the order', () => {
    const xs = Array.from({ length: 100_000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x / 5000));
    ys[31_337] = 50;
    ys[77_777] = -50;
    const flat = decimate(xs, ys, maxChartPoints);
    const points = flat.length / 2;
    assert.ok(points <= maxChartPoints && points > maxChartPoints * 0.9, `${points} points`);
    const px = flat.filter((_, i) => i % 2 === 0);
    const py = flat.filter((_, i) => i % 2 === 1);
    assert.deepEqual([px[0], px.at(-1)], [0, 99_999]);
    assert.ok(px.every((x, i) => i === 0 || x > (px[i - 1] ?? 0)), 'x increases');
    assert.ok(py.includes(50) && py.includes(-50), 'both spikes survive');
    assert.deepEqual(decimate([1, 2, 3], [4, 5, 6], 10), [1, 4, 2, 5, 3, 6]);
  });

  it('lays out the confusion matrix with each cell\'s share of its true class', () => {
    assert.deepEqual(confusionCells([[3, 1], [0, 0]]), [[{ count: 3, share: 0.75 }, { count: 1, share: 0.25 }], [{ count: 0, share: 0 }, { count: 0, share: 0 }]]);
  });

  it('says which preset a run took, its augmentation and epochs, beside the optimizer it chose', () => {
    const config = { ...trainingDefaults, modelFile: '/w/model.py', dataset: 'cifar10', ...presetSettings('fast', { dataset: 'cifar10', device: 'cpu' }), preset: 'fast' as const };
    const facts = new RunModel('/w/runs/2026-12-01T01-00-00-Net-cifar10', config).view(0.6, { canStop: false, canResume: false }).facts;
    assert.deepEqual(facts.filter((f) => f.label === 'Optimizer' || f.label === 'Preset'), [
      { label: 'Optimizer', value: 'sgd · lr 0.05 · onecycle · weight decay 0.0005' },
      { label: 'Preset', value: 'fast · flips · 7 epochs' },
    ]);
    const plain = new RunModel('/w/runs/2026-12-01T01-00-00-Net-mnist', { ...trainingDefaults, modelFile: '/w/model.py' }).view(0.6, { canStop: false, canResume: false }).facts;
    assert.equal(plain.find((f) => f.label === 'Preset'), undefined);
  });

  it('shows start-up as its own figure, and what the first steps measured, with the precision it leaves', () => {
    const model = new RunModel('/w/runs/2026-12-01T01-00-00-Net-cifar10', { ...trainingDefaults, modelFile: '/w/model.py' });
    const events: TrainerEvent[] = [
      { type: 'model', className: 'Net', totalParams: 10, trainableParams: 10, loss: 'cross_entropy', precision: 'float32', channelsLast: true, compiled: false },
      { type: 'startUp', seconds: 2.46, phases: [{ name: 'Python and PyTorch imports', seconds: 1.3 }, { name: 'device', seconds: 0.01 }, { name: 'dataset read', seconds: 0.86 }, { name: 'first step', seconds: 0.3 }] },
      { type: 'tuned', chosen: 'bfloat16', tried: [{ label: 'float32', imagesPerSecond: 8372.4 }, { label: 'bfloat16', imagesPerSecond: 10_250 }], precision: 'bfloat16', compiled: false },
    ];
    events.forEach((event) => model.ingest(event));
    const facts = model.view(0.6, { canStop: false, canResume: false }).facts;
    assert.deepEqual(facts.filter((f) => ['Precision', 'Measured', 'Start-up'].includes(f.label)), [
      { label: 'Precision', value: 'bfloat16' },
      { label: 'Measured', value: 'bfloat16 · 10,250 images/s in the first steps, against 8,372 for float32' },
      { label: 'Start-up', value: '2.5 s to the first step (Python and PyTorch imports 1.3 · dataset read 0.9 · first step 0.3 s)' },
    ]);
  });

  it('compares runs setting by setting, marking the ones that differ', () => {
    const base = { ...trainingDefaults, modelFile: '/w/model.py' };
    const first = new RunModel('/w/runs/2026-11-25T01-00-00-Net-mnist', { ...base, epochs: 2 });
    const second = new RunModel('/w/runs/2026-11-25T02-00-00-Net-mnist', { ...base, epochs: 5, lr: 0.01 });
    for (const model of [first, second]) model.ingest({ type: 'epoch', epoch: 1, trainLoss: 1, validLoss: 0.8, validAccuracy: 0.7, seconds: 3 });
    const comparison = compareRuns([first, second]);
    assert.ok(safeParse(compareToWebview, comparison).ok);
    assert.deepEqual(comparison.runs.map((r) => r.label), ['2026-11-25T01-00-00-Net-mnist', '2026-11-25T02-00-00-Net-mnist']);
    assert.deepEqual(comparison.settings.filter((s) => s.differs).map((s) => [s.key, ...s.values]), [['epochs', '2', '5'], ['lr', '0.001', '0.01']]);
    assert.equal(comparison.settings.length, Object.keys(base).length);
    assert.deepEqual(comparison.runs[0]?.validAccuracy, [1, 70]);
  });

  it('shows a run the same whether it follows the events live or reads the run folder back', async function () {
    this.timeout(120_000);
    // Set once the run folder exists; the engine speaks only after that.
    const watching: { live?: RunModel } = {};
    const run = TrainingRun.start({
      python: process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3',
      trainerDir: join(repo, 'dist/trainer'),
      config: { ...trainingDefaults, modelFile: join(repo, 'examples/mnist_mlp.py'), epochs: 2, device: 'cpu' },
      runsDir: mkdtempSync(join(tmpdir(), 'cnnlab-runs-')),
      onEvent: (event: TrainerEvent) => watching.live?.ingest(event),
      onLog: () => undefined,
    });
    const live = new RunModel(run.runDir, readRunConfig(run.runDir));
    watching.live = live;
    const result = await run.result;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const options = { canStop: false, canResume: false };
    const fromLive = live.view(0.6, options);
    const fromFolder = RunModel.fromFolder(run.runDir).view(0.6, options);
    assert.ok(safeParse(dashboardToWebview, fromFolder).ok, 'the view passes the webview\'s own check');
    assert.equal(fromFolder.status, 'completed');
    assert.ok(fromLive.loss.length > 0 && fromLive.epochs.length === 2 && fromLive.test && fromLive.samples);
    // metrics.csv keeps six significant digits of each logged value; the rest is the same.
    const rounded = (flat: number[]) => flat.map((v) => Number(v.toPrecision(6)));
    assert.deepEqual(rounded(fromFolder.loss), rounded(fromLive.loss));
    assert.deepEqual({ ...fromFolder, loss: [], smoothedLoss: [], lr: [], imagesPerSecond: [] }, { ...fromLive, loss: [], smoothedLoss: [], lr: [], imagesPerSecond: [] });
  });
});
