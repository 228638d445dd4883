// A CNN Lab webview's real bundle in headless Chromium, as the host renders it, with the webview API
// stubbed (messages in through `window.postMessage`, nothing out), for the webview benchmarks.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const repo = resolve(__dirname, '../..');
export const benchOutput = join(repo, '.test-output', 'bench');

export async function openWebviewPage(view: string, viewport = { width: 1400, height: 900 }): Promise<{ page: Page; close(): Promise<void> }> {
  mkdirSync(benchOutput, { recursive: true });
  writeFileSync(
    join(benchOutput, `${view}.html`),
    `<!DOCTYPE html><html><head><meta charset="UTF-8"><link rel="stylesheet" href="/media/webview.css"></head>
<body class="vscode-dark" data-cnnlab-view="${view}" style="--vscode-foreground:#ccc;--vscode-editor-background:#1f1f1f;--vscode-font-family:sans-serif;--vscode-font-size:13px">
<main id="root"></main>
<script>window.acquireVsCodeApi = () => ({ postMessage() {}, setState() {}, getState() {} });</script>
<script type="module" src="/dist/webviews/${view}.js"></script></body></html>`,
  );
  // Module scripts do not load from file:// pages: the page, the bundle and the stylesheet on loopback.
  const types: Record<string, string> = { html: 'text/html', js: 'text/javascript', css: 'text/css' };
  const server = createServer((request, response) => {
    const path = request.url === '/' ? join(benchOutput, `${view}.html`) : join(repo, (request.url ?? '').replace(/\.\./g, ''));
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      return void response.writeHead(404).end();
    }
    response.writeHead(200, { 'content-type': types[path.split('.').pop() ?? ''] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const browser = await chromium.launch({ executablePath: process.env['CNN_LAB_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--enable-precise-memory-info'] });
  const page = await browser.newPage({ viewport });
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return {
    page,
    close: async () => {
      await browser.close();
      server.close();
    },
  };
}

/** Median, 95th percentile and maximum, as the benchmarks print them. */
export function quantiles(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
  return `median ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${at(1)} ms`;
}
