import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/training/trainingRun';
import { workbench } from './workbench';

const field = (name: string) => `document.querySelector('[data-field=${name}]')`;
const points = (chart: string) => workbench.evaluate<string>('dashboard', `document.querySelector('[data-chart=${chart}]').dataset.points`);

function dashboardTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('cnnLab.dashboard'));
}

describe('Training dashboard', () => {
  let run: RunResult;

  it('opens beside the editor when a run starts, and shows its curves, header and test report', async () => {
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    for (const tab of dashboardTabs()) await vscode.window.tabGroups.close(tab); // the earlier suites' runs
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    assert.ok(uri);
    await vscode.window.showTextDocument(uri);
    run = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 3 });
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(dashboardTabs().filter((tab) => tab.label === 'Net · synthetic').length, 1);
    await workbench.waitFor('dashboard', `${field('status')}?.textContent === 'completed'`);

    // The curves hold what the run logged: every step row of metrics.csv (under the decimation limit), every epoch.
    const rows = readFileSync(join(run.runDir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
    const steps = rows.filter((r) => r.startsWith('step,')).length;
    assert.equal(await points('loss'), `${steps},${steps}`);
    assert.equal(await points('epochs'), '3,3,1');
    assert.equal(await points('accuracy'), '3');
    const facts = await workbench.evaluate<string>('dashboard', `${field('facts')}.innerText`);
    assert.match(facts, /Model\s+Net · 669,706 parameters/);
    assert.match(facts, /Dataset\s+synthetic · 4,800 training, 1,200 validation, 1,000 test images of 1×28×28/);
    assert.match(facts, /Engine\s+PyTorch/);

    // The report: the run's own figures, the confusion matrix over the whole test set, the samples coloured by correctness.
    const state = JSON.parse(readFileSync(join(run.runDir, 'run.json'), 'utf8')) as { summary: { testAccuracy: number } };
    assert.match(await workbench.evaluate<string>('dashboard', `${field('test')}.textContent`), new RegExp(`^Test accuracy ${(100 * state.summary.testAccuracy).toFixed(2).replace('.', '\\.')} % \\(\\d+/1000\\)`));
    assert.equal(await workbench.evaluate<number>('dashboard', `[...document.querySelectorAll('[data-field=confusion] td')].reduce((sum, td) => sum + Number(td.dataset.count), 0)`), 1000);
    const samples = JSON.parse(readFileSync(join(run.runDir, 'samples.json'), 'utf8')) as { labels: number[]; predicted: number[] };
    const wrong = samples.labels.filter((label, i) => label !== samples.predicted[i]).length;
    assert.deepEqual(await workbench.evaluate<number[]>('dashboard', `[${field('samples')}.querySelectorAll('figure').length, ${field('samples')}.querySelectorAll('figure.wrong').length]`), [samples.labels.length, wrong]);

    // A cell of the matrix shows the images in it: the first class taken for itself.
    await workbench.click('dashboard', '[data-field=confusion] tr:nth-of-type(2) td:nth-of-type(1)');
    const inCell = samples.labels.filter((label, i) => label === 0 && samples.predicted[i] === 0).length;
    assert.equal(await workbench.waitFor<number>('dashboard', `${field('cell-samples')}.querySelectorAll('figure').length === ${inCell} && ${inCell} + 1`), inCell + 1);
    await workbench.screenshot('dashboard-dark');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
    await workbench.waitFor('dashboard', `document.body.classList.contains('vscode-light')`);
    await workbench.screenshot('dashboard-light');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default High Contrast', vscode.ConfigurationTarget.Global);
    await workbench.waitFor('dashboard', `document.body.classList.contains('vscode-high-contrast')`);
    await workbench.screenshot('dashboard-high-contrast');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
  });

  it('shows a finished run again from its folder (Show Training Dashboard…), smoothing as asked', async () => {
    for (const tab of dashboardTabs()) await vscode.window.tabGroups.close(tab);
    await vscode.commands.executeCommand('cnnLab.showDashboard', run.runDir);
    await workbench.waitFor('dashboard', `${field('status')}?.textContent === 'completed'`);
    const steps = readFileSync(join(run.runDir, 'metrics.csv'), 'utf8').split('\n').filter((r) => r.startsWith('step,')).length;
    assert.equal(await points('loss'), `${steps},${steps}`);
    assert.equal(await points('epochs'), '3,3,1');
    assert.match(await workbench.evaluate<string>('dashboard', `${field('test')}.textContent`), /^Test accuracy /);
    assert.equal(await workbench.evaluate<number>('dashboard', `${field('samples')}.querySelectorAll('figure').length`), 32);
    const smoothing = await workbench.evaluate<string>('dashboard', `${field('smoothing')}.value`);
    assert.equal(smoothing, '0.6');
    // Ctrl + wheel zooms into the steps; a double click shows them all again.
    const zoomIn = `(() => { const c = document.querySelector('[data-chart=loss]'); const r = c.getBoundingClientRect();
      for (let i = 0; i < 5; i++) c.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, ctrlKey: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
      return true; })()`;
    await workbench.evaluate('dashboard', zoomIn);
    const hint = await workbench.waitFor<string>('dashboard', `!document.querySelector('[data-zoom=loss]').hidden && document.querySelector('[data-zoom=loss]').textContent`);
    const [from, to] = (/^Showing ([\d,]+)–([\d,]+):/.exec(hint) ?? []).slice(1).map((n) => Number(n.replace(/,/g, '')));
    const rows = readFileSync(join(run.runDir, 'metrics.csv'), 'utf8').trim().split('\n').map((r) => r.split(','));
    const perEpoch = Number(rows.find((r) => r[0] === 'epoch')?.[2]);
    const xs = rows.filter((r) => r[0] === 'step').map((r) => (Number(r[1]) - 1) * perEpoch + Number(r[2]));
    const span = Math.max(...xs) - Math.min(...xs);
    assert.ok(from !== undefined && to !== undefined && to - from < span * 0.9, `${hint} (all: ${span} steps)`);
    await workbench.evaluate('dashboard', `document.querySelector('[data-chart=loss]').dispatchEvent(new MouseEvent('dblclick', { bubbles: true })) && true`);
    await workbench.waitFor('dashboard', `document.querySelector('[data-zoom=loss]').hidden`);
  });

  it('compares two runs: curves overlaid, the settings that differ marked', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    const other = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 1 });
    assert.equal(other.status, 'completed', JSON.stringify(other.error));
    await vscode.commands.executeCommand('cnnLab.compareRuns', [run.runDir, other.runDir]);
    await workbench.waitFor('compare', `document.querySelector('[data-chart=validLoss]')?.dataset.points === '3,1'`);
    assert.equal(await workbench.evaluate<string>('compare', `document.querySelector('[data-chart=validAccuracy]').dataset.points`), '3,1');
    const differs = await workbench.evaluate<string[]>('compare', `[...document.querySelectorAll('[data-field=settings] tr.differs')].map((tr) => tr.dataset.key)`);
    assert.deepEqual(differs, ['epochs']);
    assert.match(await workbench.evaluate<string>('compare', `document.querySelector('[data-field=runs]').innerText`), /completed · test accuracy \d+\.\d\d %/);
    await workbench.screenshot('compare-runs');
  });

  it('lists the workspace\'s runs in the sidebar with their status and test accuracy, newest first', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
    await vscode.commands.executeCommand('cnnLab.runs.focus');
    const state = JSON.parse(readFileSync(join(run.runDir, 'run.json'), 'utf8')) as { summary: { testAccuracy: number } };
    const expected = `completed · ${(100 * state.summary.testAccuracy).toFixed(2)} %`;
    let rows: string[] = [];
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
      rows = await workbench.workbenchText('.monaco-list-row');
      if (rows.some((row) => row.includes('Net on synthetic') && row.includes(expected))) break;
    }
    assert.ok(rows.some((row) => row.includes('Net on synthetic') && row.includes(expected)), rows.join(' | '));
    assert.ok(rows.some((row) => row.includes('buildModel on synthetic')), 'the TF.js run is listed too');
    assert.ok(rows.some((row) => row.includes('cancelled')), 'a stopped run says so');
    await workbench.screenshot('runs-view');
  });

  it('deletes a run from the sidebar only once the user confirms', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    const doomed = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 1 });
    assert.equal(doomed.status, 'completed', JSON.stringify(doomed.error));
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
    await vscode.commands.executeCommand('cnnLab.runs.focus');
    // A row's text is its label and its description run together: "Net on syntheticcompleted · 99.90 % · <start>".
    // The list draws only the rows in view, so the test follows the newest run's row, which is first.
    const { startedAt } = JSON.parse(readFileSync(join(doomed.runDir, 'run.json'), 'utf8')) as { startedAt: number };
    const started = new Date(startedAt * 1000).toLocaleString();
    const shown = async () => (await workbench.workbenchText('.monaco-list-row')).some((row) => row.startsWith('Net on synthetic') && row.endsWith(started));
    const waitUntilShown = async (wanted: boolean) => {
      for (const end = Date.now() + 10_000; Date.now() < end && (await shown()) !== wanted; ) await new Promise((r) => setTimeout(r, 250));
      return shown();
    };
    assert.ok(await waitUntilShown(true), 'the new run is listed');
    // Cancel first: nothing is deleted.
    const kept = vscode.commands.executeCommand('cnnLab.deleteRun', { runDir: doomed.runDir });
    await workbench.workbenchClick('.monaco-dialog-box .monaco-button', 'Cancel');
    await kept;
    assert.ok(existsSync(doomed.runDir));
    assert.ok(await shown(), 'a cancelled deletion keeps the row');
    const deleted = vscode.commands.executeCommand('cnnLab.deleteRun', { runDir: doomed.runDir });
    await workbench.workbenchClick('.monaco-dialog-box .monaco-button', 'Delete');
    await deleted;
    assert.ok(!existsSync(doomed.runDir));
    assert.equal(await waitUntilShown(false), false, 'the deleted run is no longer listed');
  });
});
