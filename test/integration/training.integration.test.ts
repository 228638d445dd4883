import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/training/trainingRun';
import { workbench } from './workbench';

describe('Training from VS Code', () => {
  it('offers "Train…" on each PyTorch model, trains the MLP on the synthetic set, and leaves the run folder', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    assert.ok(uri);
    await vscode.window.showTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const train = lenses.find((l) => l.command?.command === 'cnnLab.trainModel');
    assert.equal(train?.command?.title, '$(play) Train…');
    assert.deepEqual(train?.command?.arguments?.slice(1), ['Net']);

    const running = vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 2 });
    const deadline = Date.now() + 60_000;
    let statusText = '';
    while (Date.now() < deadline && !/Net: epoch \d\/2/.test(statusText)) {
      statusText = (await workbench.workbenchText('.statusbar-item')).join(' | ');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(statusText, /Net: epoch \d\/2 · loss \d+\.\d{4} · \d+ img\/s · ETA \d+:\d\d/);
    await workbench.screenshot('training-progress');
    const result = await running;
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    assert.ok(folder && result.runDir.startsWith(join(folder.uri.fsPath, 'runs')));
    for (const file of ['best.pt', 'last.pt', 'metrics.csv', 'run.json', 'config.json']) assert.ok(existsSync(join(result.runDir, file)), file);
    const run = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { status: string; summary: { testAccuracy: number } };
    assert.equal(run.status, 'completed');
    assert.ok(run.summary.testAccuracy >= 0.9);
    // The status bar is drawn by the workbench a moment after the extension host sets it.
    let finished: string[] = [];
    for (const end = Date.now() + 10_000; Date.now() < end && !finished.some((t) => t.includes('completed')); ) {
      finished = await workbench.workbenchText('.statusbar-item');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(finished.some((t) => /Net: completed, test accuracy \d+\.\d\d %/.test(t)), finished.join(' | '));
  });
});
