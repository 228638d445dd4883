import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/training/trainingRun';
import { workbench } from './workbench';

/** Polls the status bar until one item matches. */
async function statusMatching(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  let texts: string[] = [];
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    texts = await workbench.workbenchText('.statusbar-item');
    const found = texts.find((t) => pattern.test(t));
    if (found) return found;
  }
  assert.fail(`no status bar item matches ${pattern}: ${texts.join(' | ')}`);
}

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
    assert.match(await statusMatching(/Net: epoch \d\/2/), /Net: epoch \d\/2 · loss \d+\.\d{4} · \d+ img\/s · ETA \d+:\d\d/);
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
    await statusMatching(/Net: completed, test accuracy \d+\.\d\d %/, 10_000);

    // The choices are kept in the workspace's cnn-lab.json, with the rest of the settings, for the next run and for the CLI.
    const settings = JSON.parse(readFileSync(join(folder.uri.fsPath, 'cnn-lab.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([settings['modelFile'], settings['className'], settings['dataset'], settings['epochs'], settings['optimizer'], settings['batchSize']], ['mnist_mlp.py', 'Net', 'synthetic', 2, 'adam', 64]);
  });

  it('stops a run when asked and resumes it from its last checkpoint with "Resume Training…"', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    assert.ok(uri);
    const running = vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 4 });
    await statusMatching(/Net: epoch 2\/4/); // epoch 1 is done and checkpointed
    await vscode.commands.executeCommand('cnnLab.stopTraining');
    const stopped = await running;
    assert.equal(stopped.status, 'cancelled');
    await statusMatching(/Net: cancelled/, 10_000);
    const resumed = await vscode.commands.executeCommand<RunResult>('cnnLab.resumeTraining', stopped.runDir);
    assert.equal(resumed.status, 'completed', JSON.stringify(resumed.error));
    assert.equal(resumed.runDir, stopped.runDir);
    const epochs = readFileSync(join(stopped.runDir, 'metrics.csv'), 'utf8').split('\n').filter((row) => row.startsWith('epoch,')).map((row) => row.split(',')[1]);
    assert.deepEqual(epochs, ['1', '2', '3', '4']);
  });

  it('opens cnn-lab.json with completion and checks from its JSON schema', async () => {
    await vscode.commands.executeCommand('cnnLab.openTrainingSettings');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor && editor.document.uri.fsPath.endsWith('cnn-lab.json'));
    const text = editor.document.getText();
    const at = text.indexOf('"adam"');
    await editor.edit((edit) => edit.replace(new vscode.Range(editor.document.positionAt(at), editor.document.positionAt(at + 6)), '"lion"'));
    let messages: string[] = [];
    for (const end = Date.now() + 20_000; Date.now() < end && messages.length === 0; await new Promise((r) => setTimeout(r, 200))) {
      messages = vscode.languages.getDiagnostics(editor.document.uri).map((d) => d.message);
    }
    assert.ok(messages.some((m) => m.includes('"sgd", "adam", "adamw"')), messages.join(' | '));
    await workbench.screenshot('training-settings');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
