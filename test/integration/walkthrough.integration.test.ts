import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import type { RunResult } from '../../src/core/training/trainingRun';
import { workbench } from './workbench';

const openWalkthrough = () => vscode.commands.executeCommand('workbench.action.openWalkthrough', 'cnn-lab.cnn-lab#cnnLab.gettingStarted', false);
/** The titles of the steps the walkthrough page shows ticked. */
const ticked = () => workbench.workbenchText('.getting-started-step:has(.complete) .step-title');

// Early in the run, before other suites do these things: each step must be ticked by the user's own action.
describe('Get started walkthrough', () => {
  it('ticks each step as the user does it: shapes, the flatten fix, training, the dashboard, feature maps, Sobel', async function () {
    this.timeout(240_000);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    await openWalkthrough();
    for (const end = Date.now() + 20_000; Date.now() < end && (await workbench.workbenchText('.getting-started-step .step-title')).length < 6; ) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(await ticked(), []);

    // A model with the course's classic mistake: the size after the flatten.
    const path = join(folder, 'walk_cnn.py');
    writeFileSync(path, 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\n# cnnlab: input 1x28x28\nclass WalkCNN(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(1, 4, 3)\n        self.fc = nn.Linear(4 * 28 * 28, 10)\n\n    def forward(self, x):\n        return self.fc(F.relu(self.conv(x)).flatten(1))\n');
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(path));
    let diagnostic: vscode.Diagnostic | undefined;
    for (const end = Date.now() + 20_000; Date.now() < end && !diagnostic; await new Promise((r) => setTimeout(r, 200))) diagnostic = vscode.languages.getDiagnostics(editor.document.uri).find((d) => d.source === 'CNN Lab');
    assert.ok(diagnostic, 'the wrong flatten size is flagged');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', editor.document.uri, diagnostic.range);
    const fix = actions.find((a) => a.isPreferred && a.edit);
    assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
    await vscode.workspace.applyEdit(fix.edit);
    await editor.document.save();

    // Trained on the synthetic set; its dashboard opens as it trains.
    const run = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', editor.document.uri, 'WalkCNN', { dataset: 'synthetic', epochs: 1 });
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    // The best checkpoint's conv layer and its feature maps.
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(run.runDir, 'best.pt'), 'conv');
    await workbench.waitFor('inspector', `document.querySelector('[data-field=filters]')?.querySelectorAll('canvas').length === 4`);
    await workbench.click('inspector', '[data-field=run]');
    await workbench.waitFor('inspector', `document.querySelectorAll('.stage').length >= 2`, 60_000);
    // Sobel in the playground.
    await vscode.commands.executeCommand('cnnLab.openFilterPlayground');
    await workbench.waitFor('playground', `document.querySelector('[data-field=preset]') !== null`);
    await workbench.evaluate('playground', `(() => { const s = document.querySelector('[data-field=preset]'); s.value = 'Sobel x'; s.dispatchEvent(new Event('change')); return true; })()`);

    await openWalkthrough();
    let steps: string[] = [];
    for (const end = Date.now() + 20_000; Date.now() < end && steps.length < 6; await new Promise((r) => setTimeout(r, 250))) steps = await ticked();
    assert.deepEqual(steps, ['See the shapes of a model', 'Fix a wrong flatten size', 'Train on the synthetic set, then MNIST', 'Watch the training dashboard', "Open the best checkpoint's filters and feature maps", 'Play with Sobel in the filter playground']);
    await vscode.commands.executeCommand('notifications.clearAll');
    await workbench.screenshot('readme-walkthrough');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

describe('Create Example Project', () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const project = join(folder, 'course');

  it('writes the course\'s four examples, each with the cnn-lab.json that trains it, and overwrites nothing', async () => {
    const written = await vscode.commands.executeCommand<string[]>('cnnLab.createExampleProject', vscode.Uri.file(project));
    assert.deepEqual(written, ['mnist_mlp', 'cifar_cnn', 'fixed_filters', 'tfjs_cnn'].map((name) => join(project, name)));
    for (const [dir, file] of [['mnist_mlp', 'mnist_mlp.py'], ['cifar_cnn', 'cifar_cnn.py'], ['fixed_filters', 'fixed_filters.py'], ['tfjs_cnn', 'tfjs_mnist_cnn.js']]) {
      assert.ok(existsSync(join(project, dir ?? '', file ?? '')), file);
      assert.equal((JSON.parse(readFileSync(join(project, dir ?? '', 'cnn-lab.json'), 'utf8')) as { modelFile: string }).modelFile, file);
    }
    assert.deepEqual(JSON.parse(readFileSync(join(project, 'cifar_cnn', 'cnn-lab.json'), 'utf8')), { modelFile: 'cifar_cnn.py', className: 'Net', dataset: 'cifar10', epochs: 30, optimizer: 'sgd', lr: 0.01, momentum: 0, batchSize: 20, normalize: 0.5, augment: { flip: true, rotation: 10 } });
    writeFileSync(join(project, 'mnist_mlp', 'mnist_mlp.py'), '# mine now\n');
    assert.deepEqual(await vscode.commands.executeCommand<string[]>('cnnLab.createExampleProject', vscode.Uri.file(project)), []);
    assert.equal(readFileSync(join(project, 'mnist_mlp', 'mnist_mlp.py'), 'utf8'), '# mine now\n');
  });

  it('trains an example with its own cnn-lab.json, and the course\'s hand-made filters stay as they are', async function () {
    this.timeout(180_000);
    const root = join(folder, 'cnn-lab.json');
    const rootBefore = existsSync(root) ? readFileSync(root, 'utf8') : null;
    const run = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(join(project, 'fixed_filters', 'fixed_filters.py')), 'FixedFilterNet', { dataset: 'synthetic', epochs: 1 });
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const settings = JSON.parse(readFileSync(join(project, 'fixed_filters', 'cnn-lab.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([settings['modelFile'], settings['className'], settings['dataset'], settings['epochs']], ['fixed_filters.py', 'FixedFilterNet', 'synthetic', 1]);
    assert.equal(existsSync(root) ? readFileSync(root, 'utf8') : null, rootBefore, 'the workspace\'s own cnn-lab.json is left alone');
    const weight = readCheckpoint(join(run.runDir, 'best.pt')).layers.find((l) => l.name === 'conv')?.parameters[0];
    const edge = [-1, -1, 1, 1];
    const course = [edge, edge.map((v) => -v)].flatMap((row) => Array<number[]>(4).fill(row).flat());
    const transposed = [0, 1, 2, 3].flatMap((y) => Array<number>(4).fill(edge[y] ?? 0));
    assert.deepEqual(Array.from(weight?.values() ?? []), [...course, ...transposed, ...transposed.map((v) => -v)]);
  });
});
