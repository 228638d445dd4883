// The load test: a real torch run logging every step's loss at about 1,000 steps a second (a linear
// model, batch 1) for a minute, with its dashboard open. Measured in the extension host itself (this
// test runs there): its CPU time and heap while the run goes; in the dashboard page: the gaps between
// animation frames, the updates it drew and its heap. Reported as figures; asserted: the host's heap
// and the page's curves stay bounded while the steps grow, and the page keeps drawing updates. The
// page's heap is reported only: performance.memory counts the renderer the other webviews share.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/training/trainingRun';
import { workbench } from './workbench';

const seconds = 60;

describe('Load: a run logging ~1,000 steps a second for a minute, its dashboard open', () => {
  it('keeps the extension host\'s heap and the page\'s curves bounded, and the page drawing', async function () {
    this.timeout(240_000);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const model = join(folder, 'linear_fast.py');
    writeFileSync(model, 'import torch.nn as nn\n\n\nclass Linear(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(784, 10)\n\n    def forward(self, x):\n        return self.fc(x.flatten(1))\n');
    await vscode.window.showTextDocument(vscode.Uri.file(model));
    const training = vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(model), 'Linear', { dataset: 'synthetic', epochs: 100, batchSize: 1 });
    await workbench.waitFor('dashboard', `document.querySelector('[data-field=status]')?.dataset.status === 'running' && Number(document.querySelector('[data-chart=loss]')?.dataset.points?.split(',')[0]) > 0`, 60_000);
    // The page counts its frames and its redraws of the loss curve from here on.
    await workbench.evaluate('dashboard', `(() => {
      window.load_ = { gaps: [], draws: 0, last: performance.now(), heap: [] };
      const tick = (now) => { window.load_.gaps.push(now - window.load_.last); window.load_.last = now; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      setInterval(() => window.load_.heap.push(performance.memory ? performance.memory.usedJSHeapSize : 0), 1000);
      new MutationObserver(() => window.load_.draws++).observe(document.querySelector('[data-chart=loss]'), { attributes: true, attributeFilter: ['data-points'] });
      return true;
    })()`);

    const heap: number[] = [];
    const cpuStart = process.cpuUsage();
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      heap.push(process.memoryUsage().heapUsed);
    }
    const cpu = process.cpuUsage(cpuStart);
    const elapsed = (Date.now() - started) / 1000;
    const page = await workbench.evaluate<{ gaps: number[]; draws: number; points: string; heap: number[] }>('dashboard', `({ gaps: window.load_.gaps.slice(1), draws: window.load_.draws, points: document.querySelector('[data-chart=loss]').dataset.points, heap: window.load_.heap })`);
    await workbench.screenshot('readme-training'); // the progress notification in view: a run as it trains
    await vscode.commands.executeCommand('cnnLab.stopTraining');
    const run = await training;
    assert.equal(run.status, 'cancelled', JSON.stringify(run.error));

    const steps = readFileSync(join(run.runDir, 'metrics.csv'), 'utf8').split('\n').filter((row) => row.startsWith('step,')).length;
    const sorted = [...page.gaps].sort((a, b) => a - b);
    const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    // The heap's low-water mark approximates what is kept, garbage collected: over the first ten
    // seconds, and over the last twenty, which a major collection falls in (over ten, one CI run
    // caught none: 50.2 MB of growth, where the next runs on the same machine measured 9.7 and 22.8).
    const [early, late] = [Math.min(...heap.slice(0, 10)), Math.min(...heap.slice(-20))];
    const [pageEarly, pageLate] = [Math.min(...page.heap.slice(0, 10)), Math.min(...page.heap.slice(-10))];
    const peakHeap = Math.max(...heap);
    await workbench.figure('load: steps logged', `${steps.toLocaleString('en-US')} in ${elapsed.toFixed(0)} s (${Math.round(steps / elapsed).toLocaleString('en-US')}/s, every one in metrics.csv and in the host's model)`);
    await workbench.figure('load: extension host CPU', `${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(1)} % of a core`);
    await workbench.figure('load: extension host heap', `low-water ${mb(early)} MB in the first 10 s, ${mb(late)} MB in the last 20 s; peak ${mb(peakHeap)} MB (garbage included)`);
    await workbench.figure('load: dashboard', `${page.draws} loss-curve updates (${(page.draws / elapsed).toFixed(1)}/s), frame gaps median ${quantile(0.5).toFixed(0)} ms, p99 ${quantile(0.99).toFixed(0)} ms, max ${quantile(1).toFixed(0)} ms; ${page.points} points drawn; page heap low-water ${mb(pageEarly)} MB in the first 10 s, ${mb(pageLate)} MB in the last 10 s, peak ${mb(Math.max(...page.heap))} MB`);

    assert.ok(steps >= 10_000, `the run logged ${steps} steps: too few to load the host`);
    // Bounded: the curves hold at most 2,000 points however many steps came, and what the host's
    // heap keeps grows by far less than the steps' messages would take if they were kept.
    const [raw = 0, smoothed = 0] = page.points.split(',').map(Number);
    assert.ok(raw <= 2000 && smoothed <= 2000, page.points);
    assert.ok(late - early < 50e6, `the host's heap low-water mark grew from ${mb(early)} to ${mb(late)} MB`);
    // Drawing: the page redrew the curve through the minute (the host posts at most 10 views a second).
    assert.ok(page.draws >= elapsed, `${page.draws} updates in ${elapsed} s`);
  });
});
