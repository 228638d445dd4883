import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { workbench } from './workbench';

const field = (name: string) => `document.querySelector('[data-field=${name}]')`;

/** An IDX file of unsigned bytes, as MNIST's are. */
function idx(shape: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.writeUInt8(8, 2);
  header.writeUInt8(shape.length, 3);
  shape.forEach((size, i) => header.writeUInt32BE(size, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

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
});
