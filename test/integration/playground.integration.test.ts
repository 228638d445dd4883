import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { png } from '../support/png';
import { workbench } from './workbench';

const field = (name: string) => `document.querySelector('[data-field=${name}]')`;
const choose = (name: string, value: string) => `(() => { const s = ${field(name)}; s.value = ${JSON.stringify(value)}; s.dispatchEvent(new Event('change')); return true; })()`;
/** One row of the 8-bit result, read back from its canvas as a user sees it (the red channel of a grey image). */
const clippedRow = (y: number) => `(() => { const c = ${field('clipped')}; return [...c.getContext('2d').getImageData(0, ${y}, c.width, 1).data].filter((_, i) => i % 4 === 0); })()`;
/** The readout with the pointer over pixel (x, y) of a canvas. */
const pointAt = (canvas: string, x: number, y: number) =>
  `(() => { const c = ${field(canvas)}; const r = c.getBoundingClientRect(); c.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + (${x} + 0.5) * r.width / c.width, clientY: r.top + (${y} + 0.5) * r.height / c.height })); return ${field('readout')}.textContent; })()`;

describe('Filter playground', () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  // A 40×30 grey picture with one vertical edge: 50 left of column 20, 200 from it on.
  const step = join(folder, 'pictures', 'step.png');

  before(() => {
    mkdirSync(join(folder, 'pictures'), { recursive: true });
    writeFileSync(step, png(40, 30, (x) => (x < 20 ? 50 : 200)));
  });

  it('applies Sobel x to an image: the edge at 4 × 150 = 600, clipped to 255; negated, −600 clipped to 0', async () => {
    await vscode.commands.executeCommand('cnnLab.openFilterPlayground', vscode.Uri.file(step));
    await workbench.waitFor('playground', `${field('image-name')}?.textContent === 'step.png · 40×30, grey'`);
    await workbench.evaluate('playground', choose('preset', 'Sobel x'));
    await workbench.evaluate('playground', choose('edge', 'extend'));
    // Columns 19 and 20 see both sides of the edge: (200 − 50) × (1 + 2 + 1) = 600; flat areas give 0.
    const expected = Array.from({ length: 40 }, (_, x) => (x === 19 || x === 20 ? 255 : 0));
    await workbench.waitFor('playground', `${clippedRow(10)}.join() === ${JSON.stringify(expected.join())}`);
    assert.equal(await workbench.evaluate('playground', pointAt('signed', 19, 10)), 'output (19, 10): 600 → 255 in 8 bits');
    assert.equal(await workbench.evaluate('playground', pointAt('input', 20, 3)), 'input (20, 3): 200');

    await workbench.click('playground', '[data-field=negate]');
    await workbench.waitFor('playground', `${clippedRow(10)}.every((v) => v === 0)`);
    assert.equal(await workbench.evaluate('playground', pointAt('clipped', 20, 10)), 'output (20, 10): −600 → 0 in 8 bits');
    assert.match(await workbench.evaluate<string>('playground', `${field('signed')}.parentElement.textContent`), /Sobel x, negated: signed, 30×40/);
    assert.equal(await workbench.evaluate('playground', `${field('sum')}.textContent`), 'Weights sum to 0: flat areas become 0: it finds changes (edges).');
  });

  it('crops, pads with zeros, and stacks filters into a layer with ReLU and pooling, its shapes shown', async () => {
    await workbench.evaluate('playground', choose('edge', 'crop'));
    await workbench.waitFor('playground', `${field('signed')}.width === 38 && ${field('signed')}.height === 28`);
    // Zero padding: the image's own border becomes an edge (200 against the zeros outside).
    await workbench.evaluate('playground', choose('edge', 'zero'));
    await workbench.click('playground', '[data-field=negate]');
    await workbench.waitFor('playground', `${field('signed')}.width === 40`);
    assert.equal(await workbench.evaluate('playground', pointAt('signed', 39, 10)), 'output (39, 10): −800 → 0 in 8 bits');
    assert.equal(await workbench.evaluate('playground', pointAt('signed', 0, 10)), 'output (0, 10): 200 → 200 in 8 bits');

    await workbench.click('playground', '[data-field=add-filter]');
    await workbench.evaluate('playground', choose('pool', 'max'));
    await workbench.waitFor('playground', `${field('tiles')}.querySelectorAll('.tile-row').length === 2`);
    const shapes = await workbench.evaluate<string[]>('playground', `[...${field('shapes')}.children].map((s) => s.textContent)`);
    assert.deepEqual(shapes, ['1×30×40', 'Conv2d(1, 2, 3×3, zero)', '2×30×40', 'ReLU', '2×30×40', 'MaxPool2d(2, 2)', '2×15×20']);
    const captions = await workbench.evaluate<string[]>('playground', `[...${field('tiles')}.querySelectorAll('.tile-row[data-filter="1"] figcaption')].map((c) => c.textContent)`);
    assert.deepEqual(captions, ['conv · 30×40', 'ReLU · 30×40', 'max pool · 15×20']);
  });

  it('writes the layer as PyTorch code with its fixed weights and the image it filtered', async () => {
    await workbench.click('playground', '[data-field=write-code]');
    const deadline = Date.now() + 20_000;
    let code = '';
    while (!code && Date.now() < deadline) {
      code = vscode.window.visibleTextEditors.find((e) => e.document.languageId === 'python' && e.document.isUntitled)?.document.getText() ?? '';
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(code, /nn\.ZeroPad2d\(\(1, 1, 1, 1\)\)/);
    assert.match(code, /conv = nn\.Conv2d\(1, 2, kernel_size=\(3, 3\), bias=False\)/);
    assert.match(code, /\[\[-1\.0, 0\.0, 1\.0\],\n\s+\[-2\.0, 0\.0, 2\.0\],\n\s+\[-1\.0, 0\.0, 1\.0\]\], {2}# Sobel x/);
    assert.match(code, /nn\.MaxPool2d\(kernel_size=2, stride=2\)/);
    assert.ok(code.includes(JSON.stringify(step)), 'reads the image it filtered');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('shows a photo, its layer and its spectrum in dark and light themes (the course\'s lane photo when present)', async () => {
    const shared = join(process.env['CNN_LAB_REPO'] ?? '', '..', 'shared', 'images', 'curved_lane.jpg');
    const photo = join(folder, 'pictures', existsSync(shared) ? 'curved_lane.jpg' : 'pattern.png');
    if (existsSync(shared)) copyFileSync(shared, photo);
    else writeFileSync(photo, png(320, 200, (x, y) => [(x * 3) % 256, y, (x + y) % 2 ? 220 : 30]));
    await vscode.commands.executeCommand('cnnLab.openFilterPlayground', vscode.Uri.file(photo));
    await workbench.waitFor('playground', `${field('image-name')}?.textContent.startsWith(${JSON.stringify(photo.split('/').pop())})`);
    await workbench.evaluate('playground', choose('edge', 'extend'));
    await workbench.click('playground', '[data-field=frequency]');
    await workbench.waitFor('playground', `${field('output-spectrum')}.width === 256 && ${field('tiles')}.querySelectorAll('.tile-row').length === 2`);
    await workbench.screenshot('playground-dark');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
    await workbench.waitFor('playground', `document.body.classList.contains('vscode-light')`);
    await workbench.screenshot('playground-light');
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    // The README's picture: the built-in test pattern, not a course photo.
    await workbench.click('playground', '[data-field=pattern]');
    await workbench.waitFor('playground', `${field('image-name')}?.textContent.startsWith('test pattern') && document.body.classList.contains('vscode-dark')`);
    await workbench.screenshot('playground-pattern');
  });

  it('runs no script the page did not bring with its nonce, and reaches no network (its CSP)', async () => {
    // The driver's loopback server answers any page that may connect: this one must not reach it.
    await vscode.commands.executeCommand('cnnLab.openFilterPlayground');
    await workbench.waitFor('playground', `${field('signed')} !== null`);
    const outcome = await workbench.evaluate<{ inline: boolean; handler: boolean; fetched: string }>(
      'playground',
      `(async () => {
        window.__inline = false;
        window.__handler = false;
        const script = document.createElement('script');
        script.textContent = 'window.__inline = true';
        document.body.append(script);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__handler = true');
        img.src = 'data:,broken';
        document.body.append(img);
        const fetched = await fetch(${JSON.stringify(process.env['CNN_LAB_DRIVER_URL'] ?? '')}).then(() => 'reached', (error) => error.name);
        await new Promise((r) => setTimeout(r, 300));
        return { inline: window.__inline, handler: window.__handler, fetched };
      })()`,
    );
    assert.deepEqual(outcome, { inline: false, handler: false, fetched: 'TypeError' });
  });
});
