// npm run icon: draws media/icon.png (128×128, the Marketplace's size) from media/icon.svg with
// Debian's Chromium, as the in-host tests drive it.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const media = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'media');
const browser = await chromium.launch({ executablePath: process.env.CNN_LAB_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(`<style>html, body { margin: 0; background: transparent; }</style>${readFileSync(join(media, 'icon.svg'), 'utf8')}`);
  await page.screenshot({ path: join(media, 'icon.png'), omitBackground: true, clip: { x: 0, y: 0, width: 128, height: 128 } });
  process.stdout.write(`drew ${join(media, 'icon.png')}\n`);
} finally {
  await browser.close();
}
