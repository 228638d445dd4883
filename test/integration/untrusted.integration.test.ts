// Runs in its own host, started by test/host/run.mjs with workspace trust on and the folder not
// trusted: VS Code opens it in Restricted Mode. The workspace holds a model whose import leaves a
// mark on disk: whatever CNN Lab offers here, the mark must never appear.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { lensTitles, until, workbench } from './workbench';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';

/** These tests are the first in a host just started (activation, the grammars loading): they wait up to 20 s. */
const patience = 20_000;
const toasts = () => workbench.workbenchText('.notifications-toasts .notification-list-item');

describe('An untrusted workspace (workspace trust on, the folder not trusted)', () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const mark = join(folder, 'imported.txt');
  const model = join(folder, 'sneaky.py');
  const runDir = join(folder, 'runs', 'sneaky-run');

  before(async function () {
    this.timeout(60_000);
    writeFileSync(
      model,
      `import pathlib
import torch.nn as nn

# Importing this file leaves a mark: the test fails if it ever appears.
pathlib.Path(__file__).with_name("imported.txt").write_text("sneaky.py was imported")


class Sneaky(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(self.conv1(x).flatten(1))
`,
    );
    // A run folder as training leaves one, its best.pt written by torch here (by the test, not CNN Lab).
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'config.json'), JSON.stringify({ modelFile: model, className: 'Sneaky', dataset: 'synthetic' }));
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ status: 'completed' }));
    const saved = spawnSync(python, ['-c', 'import sys, torch; torch.manual_seed(0); torch.save({"conv1.weight": torch.randn(4, 1, 3, 3), "conv1.bias": torch.zeros(4), "fc.weight": torch.zeros(10, 2704), "fc.bias": torch.zeros(10)}, sys.argv[1])', join(runDir, 'best.pt')], { encoding: 'utf8' });
    assert.equal(saved.status, 0, saved.stderr);
  });

  after(() => assert.equal(existsSync(mark), false, 'nothing imported the model file'));

  it('is open in Restricted Mode', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const banner = await until(() => workbench.workbenchText('.monaco-workbench .banner').then((texts) => texts[0]), 'the Restricted Mode banner', patience);
    assert.match(banner, /^Restricted Mode is intended for safe code browsing/);
  });

  it('shows the static shape hints and diagnostics: CNN Lab runs there', async () => {
    const document = await vscode.workspace.openTextDocument(model);
    await vscode.window.showTextDocument(document);
    const titles = await lensTitles(document.uri, 'params', patience);
    assert.ok(titles.includes('conv1 → [1, 4, 26, 26] · 40 params · 24.3 K MACs'), titles.join('\n'));
    assert.equal(vscode.extensions.getExtension('cnn-lab.cnn-lab')?.isActive, true);
    await until(() => workbench.workbenchText('.codelens-decoration').then((texts) => texts.some((t) => t.includes('40 params'))), 'the lenses drawn in the editor', patience);
    const editor = await vscode.window.showTextDocument(document);
    const at = document.getText().indexOf('4 * 26 * 26');
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + '4 * 26 * 26'.length)), '4 * 28 * 28'));
    const diagnostic = await until(() => vscode.languages.getDiagnostics(document.uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic', patience);
    assert.equal(diagnostic.message, 'fc: Linear expects 3136 input features but receives 2704');
  });

  it('does not run exact mode on save, and says once why, with a way to trust', async () => {
    const document = await vscode.workspace.openTextDocument(model);
    await document.save();
    const said = await until(() => toasts().then((texts) => texts.find((t) => t.includes('Exact shapes run your model in PyTorch, which needs a trusted workspace'))), 'the exact-mode notice', patience);
    assert.match(said, /Manage Workspace Trust/);
    await workbench.screenshot('untrusted-exact-mode');
    await new Promise((r) => setTimeout(r, 2000)); // as long as exact mode takes to answer when it runs
    const titles = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)).map((l) => l.command?.title ?? '');
    assert.ok(!titles.some((t) => t.includes('exact')), titles.join('\n'));
    assert.equal(existsSync(mark), false);
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('refuses to train, at once, saying why and offering to trust; no run is made', async () => {
    const result = await vscode.commands.executeCommand('cnnLab.trainModel', vscode.Uri.file(model), 'Sneaky', { dataset: 'synthetic', epochs: 1 });
    assert.equal(result, undefined);
    const said = await until(() => toasts().then((texts) => texts.find((t) => t.includes('CNN Lab trains by running your model code, which needs a trusted workspace.'))), 'the refusal', patience);
    assert.match(said, /Manage Workspace Trust/);
    await workbench.screenshot('untrusted-train');
    assert.equal(existsSync(join(folder, 'runs', 'Sneaky')), false);
    assert.equal(existsSync(mark), false);
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('reads a checkpoint\'s filters without running anything, and refuses feature maps with a way to trust', async () => {
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(runDir, 'best.pt'), 'conv1');
    await workbench.waitFor('inspector', `document.querySelector('[data-field=filters]')?.querySelectorAll('canvas').length === 4`);
    const state = await workbench.evaluate<{ busy: string; buttons: boolean[]; trust: boolean }>(
      'inspector',
      `({ busy: document.querySelector('[data-field=busy]').textContent, buttons: ['run', 'run-file', 'find-patches'].map((f) => document.querySelector('[data-field=' + f + ']').disabled), trust: !document.querySelector('[data-field=manage-trust]').hidden })`,
    );
    assert.deepEqual(state, { busy: 'Feature maps run your model\'s code: trust this workspace to see them.', buttons: [true, true, true], trust: true });
    await workbench.screenshot('readme-restricted-mode');
    assert.equal(existsSync(mark), false);
  });
});
