// The README's pictures, composed as a user would see each view: one view at a time, notifications
// cleared, on the synthetic set and generated images; the test report's is of a run on the real
// CIFAR-10, framed to its per-class accuracy and confusion matrix: no dataset image is committed.
// Saved as .test-output/screenshots/readme-*.png; `npm run screenshots` copies the ones the README
// shows into docs/screenshots/. Runs last: it leaves a completed run's dashboard open beside its
// model, as the reload check after the suites expects.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/training/trainingRun';
import { lensTitles, realCifar10, until, workbench } from './workbench';

const theme = (name: 'Default Dark Modern' | 'Default Light Modern') => vscode.workspace.getConfiguration('workbench').update('colorTheme', name, vscode.ConfigurationTarget.Global);
const settle = () => new Promise((r) => setTimeout(r, 600));

/** The picture, once the view has drawn: no notifications over it. */
async function picture(name: string): Promise<void> {
  await vscode.commands.executeCommand('notifications.clearAll');
  await settle();
  await workbench.screenshot(`readme-${name}`);
}

describe('Pictures for the README', function () {
  this.timeout(240_000);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const model = vscode.Uri.file(join(folder, 'fixed_filters.py'));
  let run: RunResult;
  let other: RunResult;
  /** The course's CIFAR CNN, two epochs of the fast preset on the real CIFAR-10: the test report's picture. */
  let cifar: RunResult | undefined;

  before(async () => {
    await theme('Default Dark Modern');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The course's four hand-made edge filters under a classifier, and a second run to compare it with.
    run = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', model, 'FixedFilterNet', { dataset: 'synthetic', epochs: 4 });
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    other = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', model, 'FixedFilterNet', { dataset: 'synthetic', epochs: 4, lr: 0.0003 });
    assert.equal(other.status, 'completed', JSON.stringify(other.error));
    const real = realCifar10();
    if ('dataDir' in real) {
      const [cnn] = await vscode.workspace.findFiles('cifar_cnn.py');
      cifar = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', cnn, 'Net', { dataset: 'cifar10', dataDir: real.dataDir, preset: 'fast', epochs: 2 });
      assert.equal(cifar.status, 'completed', JSON.stringify(cifar.error));
    }
  });

  after(async () => {
    await theme('Default Dark Modern');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(model);
    await vscode.commands.executeCommand('workbench.action.newGroupRight');
    await vscode.commands.executeCommand('cnnLab.showDashboard', run.runDir);
    await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
  });

  beforeEach(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('shape hints, with the Model view in the sidebar', async () => {
    const [uri] = await vscode.workspace.findFiles('cifar_cnn.py');
    assert.ok(uri);
    const editor = await vscode.window.showTextDocument(uri);
    await lensTitles(uri, '541,094', 20_000);
    await vscode.commands.executeCommand('cnnLab.model.focus');
    await vscode.window.showTextDocument(editor.document, { selection: new vscode.Selection(10, 8, 10, 8) });
    await until(() => workbench.workbenchText('.codelens-decoration').then((texts) => texts.some((t) => t.includes('541,094'))), 'the lenses drawn in the editor', 20_000);
    await picture('hints');
  });

  it('the model summary beside the model', async () => {
    const [uri] = await vscode.workspace.findFiles('cifar_cnn.py');
    assert.ok(uri);
    await vscode.window.showTextDocument(uri);
    await vscode.commands.executeCommand('cnnLab.showModelSummary', uri, 'Net');
    const summary = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'cnnlab-summary'), 'the summary', 20_000);
    assert.match(summary.document.getText(), /Total params: 541,094/);
    await picture('summary');
  });

  it('a wrong flatten size, flagged with both numbers', async () => {
    const [uri] = await vscode.workspace.findFiles('cifar_cnn.py');
    assert.ok(uri);
    const editor = await vscode.window.showTextDocument(uri);
    const at = editor.document.getText().indexOf('64 * 4 * 4, 500');
    assert.ok(at > 0, 'cifar_cnn.py is as the repository has it');
    await editor.edit((edit) => edit.replace(new vscode.Range(editor.document.positionAt(at), editor.document.positionAt(at + 10)), '64 * 8 * 8'));
    const diagnostic = await until(() => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic', 20_000);
    editor.selection = new vscode.Selection(diagnostic.range.start, diagnostic.range.start);
    await vscode.commands.executeCommand('editor.action.showHover');
    await picture('diagnostic');
    await vscode.commands.executeCommand('editor.action.hideHover');
    // Put back as it was, and saved: the workbench may have saved the edit already.
    await editor.edit((edit) => edit.replace(new vscode.Range(editor.document.positionAt(at), editor.document.positionAt(at + 10)), '64 * 4 * 4'));
    await editor.document.save();
    // Waited for, then asserted: a failure lists the diagnostics that stayed.
    await until(() => vscode.languages.getDiagnostics(uri).length === 0, 'putting it back to clear the diagnostics', 20_000).catch(() => undefined);
    assert.deepEqual(vscode.languages.getDiagnostics(uri).map((d) => d.message), [], 'putting it back clears the diagnostics');
  });

  it('the training dashboard, dark and light', async () => {
    await vscode.commands.executeCommand('cnnLab.showDashboard', run.runDir);
    await workbench.waitFor('dashboard', `document.querySelector('[data-field=status]')?.textContent === 'completed'`);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await picture('dashboard');
    await theme('Default Light Modern');
    await workbench.waitFor('dashboard', `document.body.classList.contains('vscode-light')`);
    await picture('dashboard-light');
    await theme('Default Dark Modern');
    if (cifar) {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('cnnLab.showDashboard', cifar.runDir);
      await workbench.waitFor('dashboard', `document.querySelector('[data-field=status]')?.textContent === 'completed' && document.title.includes('cifar10')`);
    }
    // The report's bottom edge at the window's: the test images below it stay out of the picture.
    await workbench.evaluate('dashboard', `(document.querySelector('[data-field=confusion]').scrollIntoView({ block: 'end' }), true)`);
    await picture('test-report');
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
  });

  it('runs compared, with the Runs and Checkpoints views', async () => {
    await vscode.commands.executeCommand('cnnLab.compareRuns', [run.runDir, other.runDir]);
    await workbench.waitFor('compare', `document.querySelector('[data-chart=validLoss]')?.dataset.points === '4,4'`);
    await vscode.commands.executeCommand('cnnLab.runs.focus');
    await picture('compare');
  });

  it('the layer inspector: the course\'s edge filters and their feature maps', async () => {
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(run.runDir, 'best.pt'), 'conv');
    await workbench.waitFor('inspector', `document.querySelector('[data-field=filters]')?.querySelectorAll('canvas').length === 4`);
    await workbench.click('inspector', '[data-field=run]');
    await workbench.waitFor('inspector', `document.querySelectorAll('.stage').length >= 3`, 60_000);
    await vscode.commands.executeCommand('cnnLab.checkpoints.focus');
    await picture('inspector');
  });

  it('the filter playground: Sobel on the test pattern', async () => {
    await vscode.commands.executeCommand('cnnLab.openFilterPlayground');
    await workbench.waitFor('playground', `document.querySelector('[data-field=preset]') !== null`);
    await workbench.click('playground', '[data-field=pattern]');
    await workbench.evaluate('playground', `(() => { const s = document.querySelector('[data-field=preset]'); s.value = 'Sobel x'; s.dispatchEvent(new Event('change')); return true; })()`);
    await workbench.waitFor('playground', `document.querySelector('[data-field=image-name]')?.textContent.startsWith('test pattern')`);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await picture('playground');
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
  });

  it('the dataset browser on the synthetic set', async () => {
    await vscode.commands.executeCommand('cnnLab.browseDataset', 'synthetic');
    await workbench.waitFor('dataset', `document.querySelectorAll('[data-field=grid] figure').length === 64`);
    await picture('dataset');
  });

  it('the welcome page', async () => {
    await vscode.commands.executeCommand('cnnLab.showWelcome');
    await workbench.waitFor('welcome', `document.querySelector('#root[aria-busy="false"] [data-field=python]') !== null`);
    await picture('welcome');
  });
});
