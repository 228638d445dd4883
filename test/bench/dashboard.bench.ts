// npm run bench:dashboard: the training dashboard's bundle in headless Chromium, fed as the host
// feeds it during a long run: a run model with 100,000 logged steps (and growing), its view posted
// 10 times a second. Reports the frame times while it updates, the time each update takes to
// render, and the page's JS heap at the end. Writes a screenshot of the page under .test-output/.
import { join } from 'node:path';
import { RunModel } from '../../src/core/dashboard/runModel';
import { trainingDefaults } from '../../src/core/protocol/trainer';
import { benchOutput, openWebviewPage, quantiles } from './webviewPage';

const stepsPerEpoch = 2000;
const model = new RunModel('/runs/bench', { ...trainingDefaults, modelFile: 'model.py', className: 'Net', dataset: 'cifar10', epochs: 100 });
let step = 0;
function advance(count: number): void {
  for (let i = 0; i < count; i++, step++) {
    const epoch = Math.floor(step / stepsPerEpoch) + 1;
    const loss = 2.3 * Math.exp(-step / 20_000) + 0.2 + 0.3 * Math.sin(step * 0.7) * Math.random();
    model.ingest({ type: 'progress', epoch, epochs: 100, step: (step % stepsPerEpoch) + 1, steps: stepsPerEpoch, loss, imagesPerSecond: 5000 + 500 * Math.random(), lr: 0.01, etaSeconds: 600 });
    if ((step + 1) % stepsPerEpoch === 0) model.ingest({ type: 'epoch', epoch, trainLoss: loss, validLoss: loss * 1.1, validAccuracy: 0.5 + epoch / 250, seconds: 30 });
  }
}
model.ingest({ type: 'hello', protocol: 1, engine: 'torch', versions: { python: '3.11', torch: '2.11', torchvision: null }, device: { type: 'cuda', name: 'GPU' }, worldSize: 1, backend: 'cuda', advice: null });
model.ingest({ type: 'dataset', name: 'cifar10', train: 40_000, validation: 10_000, test: 10_000, classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'], shape: [3, 32, 32], mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26], batchSize: 20, fastPath: true });
advance(100_000);
// A report from an earlier evaluation, so that the page draws all of itself while the curves move.
const confusion = Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 800 : 22) + ((t * 7 + p) % 5)));
model.ingest({ type: 'test', loss: 0.6, accuracy: 0.8, perClass: confusion.map((row, i) => ({ name: `class ${i}`, correct: row[i] ?? 0, total: row.reduce((a, b) => a + b, 0) })), confusion });

async function main(): Promise<void> {
  const { page, close } = await openWebviewPage('dashboard');
  await page.waitForFunction("document.querySelector('[data-chart=loss]')");
  // Page code as strings: functions would carry the test runner's transpiler helpers into the page.
  await page.evaluate(`(() => {
    window.frames_ = [];
    window.renders_ = [];
    let last = performance.now();
    const tick = (now) => { window.frames_.push(now - last); last = now; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  const updates = 100;
  const started = Date.now();
  for (let i = 0; i < updates; i++) {
    advance(50); // a fast run: 500 steps a second
    const view = model.view(0.6, { canStop: true, canResume: false });
    await page.evaluate(`(() => {
      const before = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify(view)} }));
      window.renders_.push(performance.now() - before);
    })()`);
    await new Promise((r) => setTimeout(r, Math.max(0, started + (i + 1) * 100 - Date.now())));
  }
  const { frames, renders, heap } = await page.evaluate<{ frames: number[]; renders: number[]; heap: number }>(`({ frames: window.frames_.slice(5), renders: window.renders_, heap: performance.memory ? performance.memory.usedJSHeapSize : 0 })`);
  await page.screenshot({ path: join(benchOutput, 'dashboard.png'), fullPage: true });
  await close();
  process.stdout.write(`dashboard, ${step.toLocaleString('en-US')} logged steps, ${updates} updates at 10/s (each ≤ 2,000 points per curve):\n`);
  process.stdout.write(`  frame time   ${quantiles(frames)}  (${frames.length} frames)\n`);
  process.stdout.write(`  update       ${quantiles(renders)}\n`);
  process.stdout.write(`  JS heap      ${(heap / 1e6).toFixed(1)} MB at the end\n  screenshot   ${join(benchOutput, 'dashboard.png')}\n`);
}

void main();
