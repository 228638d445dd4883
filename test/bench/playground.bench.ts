// npm run bench:playground: the filter playground's bundle in headless Chromium with a 1280×720 colour
// image, its kernel edited as a user types (an `input` event on a weight). Reports, per edit, the time
// the page takes to re-render the filtered image (signed and 8-bit views), and the time from the
// edit to the next painted frame; for a 3×3 and a 5×5 kernel, grey and colour. Then the whole
// layer (4 filters, ReLU, max pooling, and the frequency view) once settled. Writes screenshots.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { benchOutput, openWebviewPage, quantiles } from './webviewPage';

const [width, height] = [1280, 720];
// A photo-like picture: smooth colour gradients, a few hard edges, and noise.
const pixels = new Uint8Array(3 * width * height);
for (let c = 0; c < 3; c++) {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = (x > 400 && x < 800 && y > 200 && y < 500 ? 90 : 0) + ((x + y) % 97 < 3 ? 60 : 0);
      pixels[c * width * height + y * width + x] = Math.min(255, (x * (c + 1)) / 12 + y / 8 + edge + Math.random() * 20);
    }
  }
}
const image = { type: 'image', name: 'bench 1280×720', path: null, url: null, pixels: Buffer.from(pixels).toString('base64'), shape: [3, height, width] };

/** Edits one weight `edits` times; each edit's render time (as the page measures it) and its time to the next frame. */
async function typeWeights(page: Page, edits: number): Promise<{ render: number[]; frame: number[] }> {
  const render: number[] = [];
  const frame: number[] = [];
  for (let i = 0; i < edits; i++) {
    const [sync, painted] = await page.evaluate<[number, number]>(`new Promise((done) => {
      const cell = document.querySelector('table.kernel input');
      const before = performance.now();
      cell.value = String(${(i % 7) - 3});
      cell.dispatchEvent(new Event('input'));
      const after = performance.now();
      requestAnimationFrame(() => setTimeout(() => done([after - before, performance.now() - before]), 0));
    })`);
    render.push(sync);
    frame.push(painted);
    await new Promise((r) => setTimeout(r, 60)); // a fast typist, and room for the deferred layer maps
  }
  return { render, frame };
}

const select = (page: Page, field: string, value: string) =>
  page.evaluate(`(() => { const s = document.querySelector('[data-field=${field}]'); s.value = ${JSON.stringify(value)}; s.dispatchEvent(new Event('change')); })()`);

async function main(): Promise<void> {
  const { page, close } = await openWebviewPage('playground', { width: 1600, height: 1000 });
  await page.waitForFunction("document.querySelector('[data-field=signed]')?.width > 0");
  await page.evaluate(`window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify(image)} }))`);
  await page.waitForFunction(`document.querySelector('[data-field=signed]').width === ${width}`);
  process.stdout.write(`filter playground, ${width}×${height} colour image, 60 edits of one weight each:\n`);
  for (const [channels, kernel] of [['grey', 'Sobel x'], ['grey', 'Course edge (vertical)'], ['rgb', 'Sobel x']] as const) {
    await select(page, 'channels', channels);
    await select(page, 'preset', kernel);
    if (kernel === 'Course edge (vertical)') await select(page, 'size', '5');
    const { render, frame } = await typeWeights(page, 60);
    const side = await page.evaluate<number>("document.querySelectorAll('table.kernel tr').length");
    process.stdout.write(`  ${side}×${side}, ${channels === 'grey' ? 'grey  ' : 'colour'}  re-render ${quantiles(render)}\n                 edit → painted frame ${quantiles(frame)}\n`);
  }
  await select(page, 'channels', 'grey');
  await select(page, 'preset', 'Sobel x');
  for (let i = 0; i < 3; i++) await page.click('[data-field=add-filter]');
  await page.click('[data-field=frequency]');
  const settled = await page.evaluate<number>(`new Promise((done) => {
    delete document.body.dataset.layerMs;
    const cell = document.querySelector('table.kernel input');
    cell.value = '2';
    cell.dispatchEvent(new Event('input'));
    const check = () => (document.body.dataset.layerMs ? done(Number(document.body.dataset.layerMs)) : setTimeout(check, 5));
    check();
  })`);
  process.stdout.write(`  whole layer (4 filters 3×3, ReLU, max pool 2, spectra), edit → all maps drawn: ${settled.toFixed(0)} ms (30 ms of it the wait before the deferred maps)\n`);
  await page.screenshot({ path: join(benchOutput, 'playground.png'), fullPage: true });
  process.stdout.write(`  screenshot ${join(benchOutput, 'playground.png')}\n`);
  await close();
}

void main();
