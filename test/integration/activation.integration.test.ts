import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { until, workbench } from './workbench';

const manifest = JSON.parse(readFileSync(join(process.env['CNN_LAB_REPO'] ?? '', 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[] };
};

describe('Activation', () => {
  it('activates at start-up in a workspace with PyTorch files, and registers every command package.json declares', async () => {
    const extension = vscode.extensions.getExtension('cnn-lab.cnn-lab');
    assert.ok(extension, 'CNN Lab is installed in the host');
    // No model file is open yet: the first one's lenses need not wait for activation.
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.languageId === 'python'));
    await until(() => extension.isActive, 'CNN Lab active', 30_000);
    // VS Code's own figures, from Developer: Startup Performance's table of extension activations.
    await vscode.commands.executeCommand('perfview.show');
    const report = await until(() => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'perf')?.getText().split('\n').find((line) => line.startsWith('| cnn-lab.cnn-lab ')), 'CNN Lab in Startup Performance');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const [, , , loadCode = '', callActivate = '', , event = ''] = report.split('|').map((cell) => cell.trim());
    assert.match(event, /^workspaceContains:.*\*\*\/\*\.py/, report);
    await workbench.figure('activation', `${Number(loadCode) + Number(callActivate)} ms (loading the code ${loadCode} ms, activate ${callActivate} ms)`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, []);
  });

  it('gives a course-sized model its lenses: the first file with the parser loaded on the way, then another', async () => {
    const lensesOf = async (name: string) => {
      const [uri] = await vscode.workspace.findFiles(name);
      assert.ok(uri, name);
      const document = await vscode.workspace.openTextDocument(uri);
      const started = performance.now();
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
      return { titles: lenses.map((l) => l.command?.title ?? ''), ms: performance.now() - started };
    };
    const first = await lensesOf('cifar_cnn.py');
    const second = await lensesOf('mnist_mlp.py');
    assert.ok(first.titles.some((t) => t.includes('541,094 params')), first.titles.join(' | '));
    assert.ok(second.titles.some((t) => t.includes('669,706 params')), second.titles.join(' | '));
    await workbench.figure('lenses of cifar_cnn.py (the parser loaded on the way)', `${first.ms.toFixed(0)} ms`);
    await workbench.figure('lenses of mnist_mlp.py after', `${second.ms.toFixed(0)} ms`);
  });
});

describe('Activity bar', () => {
  it('has a "CNN Lab" container whose view offers the welcome page and the environment check', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
    const deadline = Date.now() + 20_000;
    let texts: string[] = [];
    while (Date.now() < deadline && !texts.some((t) => t.includes('Show Welcome'))) {
      texts = await workbench.workbenchText('.sidebar .welcome-view-content');
      await new Promise((r) => setTimeout(r, 200));
    }
    const content = texts.find((t) => t.includes('Show Welcome')) ?? '';
    assert.match(content, /CNN Lab shows tensor shapes/);
    assert.match(content, /Show Welcome/);
    assert.match(content, /Check Python Environment/);
    const [title = ''] = await workbench.workbenchText('.sidebar .composite.title');
    assert.match(title, /CNN LAB/i);
    await workbench.screenshot('sidebar');
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
});
