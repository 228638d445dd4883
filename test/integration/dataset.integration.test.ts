import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { idx } from '../support/idx';
import { png } from '../support/png';
import { realCifar10, workbench } from './workbench';

const field = (name: string) => `document.querySelector('[data-field=${name}]')`;

describe('Dataset browser', () => {
  // A small MNIST in the original format: 100 training and 20 test images, image i a bar at row i % 28, label i % 10.
  const images = (count: number) => {
    const data = new Uint8Array(count * 784);
    for (let i = 0; i < count; i++) for (let x = 0; x < 28; x++) data[i * 784 + (i % 28) * 28 + x] = 40 + ((i * 13 + x * 7) % 216);
    return data;
  };
  const train = images(100);

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    mkdirSync(join(folder, 'tinydata', 'mnist'), { recursive: true });
    const labels = (count: number) => Uint8Array.from({ length: count }, (_, i) => i % 10);
    writeFileSync(join(folder, 'tinydata', 'mnist', 'train-images-idx3-ubyte'), idx([100, 28, 28], train));
    writeFileSync(join(folder, 'tinydata', 'mnist', 'train-labels-idx1-ubyte'), idx([100], labels(100)));
    writeFileSync(join(folder, 'tinydata', 'mnist', 't10k-images-idx3-ubyte'), idx([20, 28, 28], images(20)));
    writeFileSync(join(folder, 'tinydata', 'mnist', 't10k-labels-idx1-ubyte'), idx([20], labels(20)));
    await vscode.workspace.getConfiguration('cnnLab').update('dataDirectory', 'tinydata', vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await vscode.workspace.getConfiguration('cnnLab').update('dataDirectory', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('pages through an IDX dataset by class, with the counts and the statistics the trainer uses', async () => {
    await vscode.commands.executeCommand('cnnLab.browseDataset', 'mnist');
    await workbench.waitFor('dataset', `${field('grid')}?.querySelectorAll('figure').length === 64`);
    assert.match(await workbench.evaluate<string>('dataset', `${field('summary')}.textContent`), /^100 training images of 1×28×28, 10 classes · .*tinydata\/mnist$/);
    assert.equal(await workbench.evaluate<string>('dataset', `${field('position')}.textContent`), '1–64 of 100');
    const mean = Array.from(train).reduce((a, b) => a + b, 0) / train.length / 255;
    assert.match(await workbench.evaluate<string>('dataset', `${field('statistics')}.textContent`), new RegExp(`mean ${mean.toFixed(4).replace('.', '\\.')}`));

    await workbench.click('dataset', '[data-field=next]');
    await workbench.waitFor('dataset', `${field('position')}.textContent === '65–100 of 100'`);
    await workbench.evaluate('dataset', `(() => { const s = ${field('class')}; s.value = '3'; s.dispatchEvent(new Event('change')); return true; })()`);
    await workbench.waitFor('dataset', `${field('position')}.textContent === '1–10 of 10'`);
    const captions = await workbench.evaluate<string[]>('dataset', `[...${field('grid')}.querySelectorAll('figcaption')].map((c) => c.textContent)`);
    assert.deepEqual(captions, Array<string>(10).fill('3'));
  });

  it('shows one image with every pixel\'s value, and 16 draws of the augmentation', async () => {
    await workbench.click('dataset', '[data-field=grid] figure[data-index="13"]');
    await workbench.waitFor('dataset', `${field('augmented')}.querySelectorAll('figure').length === 16`);
    const values = await workbench.evaluate<string[][]>('dataset', `[...document.querySelectorAll('table.pixels tr')].map((tr) => [...tr.children].map((td) => td.textContent))`);
    assert.equal(values.length, 28);
    assert.deepEqual(values.flat().map(Number), Array.from(train.subarray(13 * 784, 14 * 784)));
    await workbench.screenshot('dataset-dark');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
    await workbench.waitFor('dataset', `document.body.classList.contains('vscode-light')`);
    await workbench.screenshot('dataset-light');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
  });

  it('browses the synthetic set, which needs no files', async () => {
    await vscode.commands.executeCommand('cnnLab.browseDataset', 'synthetic');
    await workbench.waitFor('dataset', `${field('summary')}?.textContent.startsWith('6,000 training images of 1×28×28, 10 classes')`);
    assert.deepEqual(await workbench.evaluate<string[]>('dataset', `[...${field('class')}.options].map((o) => o.textContent).slice(0, 3)`), ['all classes', '0°', '18°']);
  });

  it('browses a folder of PNG images by class, decoding them in the page', async () => {
    const root = join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'shapes');
    const value = (kind: number, n: number) => (x: number, y: number) => (kind === 0 ? ((x - 4) ** 2 + (y - 4) ** 2 < 9 ? 200 : 20) : x > 1 && x < 7 && y > 1 && y < 7 ? 220 + n : 10);
    ['circle', 'square'].forEach((name, kind) => {
      mkdirSync(join(root, name), { recursive: true });
      for (let n = 0; n < 3; n++) writeFileSync(join(root, name, `${n}.png`), png(9, 9, value(kind, n)));
    });
    await vscode.commands.executeCommand('cnnLab.browseDataset', root);
    await workbench.waitFor('dataset', `${field('grid')}?.querySelectorAll('figure img').length === 6 && [...${field('grid')}.querySelectorAll('img')].every((i) => i.complete)`);
    assert.match(await workbench.evaluate<string>('dataset', `${field('summary')}.textContent`), /^6 images, 2 classes · .*shapes$/);
    assert.deepEqual(await workbench.evaluate<string[]>('dataset', `[...${field('grid')}.querySelectorAll('figcaption')].map((c) => c.textContent)`), ['circle', 'circle', 'circle', 'square', 'square', 'square']);
    await workbench.click('dataset', '[data-field=grid] figure[data-index="4"]');
    await workbench.waitFor('dataset', `${field('augmented')}.querySelectorAll('figure').length === 16`);
    const values = await workbench.evaluate<string[][]>('dataset', `[...document.querySelectorAll('table.pixels tr')].map((tr) => [...tr.children].map((td) => td.textContent))`);
    assert.deepEqual(values.map((row) => row.map(Number)), Array.from({ length: 9 }, (_, y) => Array.from({ length: 9 }, (_, x) => value(1, 1)(x, y))));
    await workbench.screenshot('dataset-folder');
  });

  it('browses the real CIFAR-10 (small generated batches where it cannot be fetched), one colour image split into R, G and B', async () => {
    const data = join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'tinydata');
    const real = realCifar10();
    const folder = 'dataDir' in real ? join(real.dataDir, 'cifar-10') : join(data, 'cifar-10-batches-bin');
    if ('dataDir' in real) symlinkSync(folder, join(data, 'cifar-10'));
    else {
      // Record r: label r % 10, a red plane of 3·r, green 100, blue 255 − r.
      mkdirSync(folder, { recursive: true });
      const batch = (first: number) => Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.from([(first + i) % 10, ...Array<number>(1024).fill(3 * (first + i)), ...Array<number>(1024).fill(100), ...Array<number>(1024).fill(255 - first - i)])));
      for (let b = 1; b <= 5; b++) writeFileSync(join(folder, `data_batch_${b}.bin`), batch((b - 1) * 10));
      writeFileSync(join(folder, 'test_batch.bin'), batch(50));
    }
    const bin = existsSync(join(folder, 'cifar-10-batches-bin')) ? join(folder, 'cifar-10-batches-bin') : folder;
    const records = [1, 2, 3, 4, 5].reduce((sum, b) => sum + statSync(join(bin, `data_batch_${b}.bin`)).size / 3073, 0);
    await vscode.commands.executeCommand('cnnLab.browseDataset', 'cifar10');
    await workbench.waitFor('dataset', `${field('summary')}?.textContent.startsWith(${JSON.stringify(`${records.toLocaleString('en-US')} training images of 3×32×32, 10 classes`)})`);
    await workbench.waitFor('dataset', `${field('grid')}.querySelectorAll('figure').length === ${Math.min(64, records)}`);
    await workbench.click('dataset', '[data-field=grid] figure[data-index="7"]');
    await workbench.waitFor('dataset', `${field('augmented')}.querySelectorAll('figure').length === 16`);
    assert.deepEqual(await workbench.evaluate<string[]>('dataset', `[...document.querySelectorAll('table.pixels')].map((t) => t.dataset.channel)`), ['R', 'G', 'B']);
    const record = readFileSync(join(bin, 'data_batch_1.bin')).subarray(7 * 3073 + 1, 8 * 3073);
    const corner = await workbench.evaluate<number[]>('dataset', `[...document.querySelectorAll('table.pixels')].map((t) => Number(t.querySelector('td').textContent))`);
    assert.deepEqual(corner, [record[0], record[1024], record[2048]]);
    await workbench.screenshot('dataset-cifar');
  });
});
