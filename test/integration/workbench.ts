// In-host tests reach the driver (test/host/run.mjs) over loopback HTTP: screenshots, the webview
// DOM through Playwright, and the command palette as a user types it.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
const driverUrl = process.env['CNN_LAB_DRIVER_URL'];

async function call<T>(action: string, body: object = {}): Promise<T> {
  if (!driverUrl) throw new Error('CNN_LAB_DRIVER_URL is not set: run the suites with test/host/run.mjs');
  const response = await fetch(`${driverUrl}/${action}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`driver ${action}: ${await response.text()}`);
  return (await response.json()) as T;
}

export const workbench = {
  screenshot: (name: string) => call<{ path: string }>('screenshot', { name }),
  /** Evaluates a JavaScript expression inside the named CNN Lab webview and returns its JSON value. */
  evaluate: async <T>(view: string, expression: string) => (await call<{ value: T }>('webview', { view, expression })).value,
  click: (view: string, selector: string) => call('click', { view, selector }),
  runFromPalette: (title: string) => call('palette', { title }),
  /** The rendered text of every workbench element (outside webviews) matching a CSS selector. */
  workbenchText: async (selector: string) => (await call<{ texts: string[] }>('workbenchText', { selector })).texts,
  /** Clicks the first workbench element matching a CSS selector that holds the text (a dialog's button, say), or its part `inner` selects (a tree row's twistie). */
  workbenchClick: (selector: string, text: string, inner?: string) => call('workbenchClick', { selector, text, inner }),
  consoleMessages: async () => (await call<{ messages: { type: string; text: string }[] }>('console')).messages,
  /** A measured figure, printed in the run's summary. */
  figure: (name: string, value: string) => call('figure', { name, value }),

  /** Polls `expression` in the webview until it is truthy, then returns its value. */
  async waitFor<T>(view: string, expression: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await workbench.evaluate<T>(view, expression);
        if (value) return value;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting in the ${view} webview for ${expression}${lastError ? ` (${String(lastError)})` : ''}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
};

/** Polls `probe` until it gives a truthy value, and returns that; fails naming `what` after `timeoutMs`. */
export async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Replaces the whole text of a document in its editor (unsaved). */
export async function replaceText(document: vscode.TextDocument, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), text);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

/**
 * Puts a file back as it was, in the editor and on disk. Saves only when the editor differs from
 * the disk: `save()` answers false for a document with nothing to save. (CI failed here while VS
 * Code's auto save, on by default, raced the tests' edits; the host's profile turns it off.)
 */
export async function restoreFile(document: vscode.TextDocument, original: string): Promise<void> {
  if (document.getText() !== original) await replaceText(document, original);
  if (document.isDirty) assert.ok(await document.save(), `saving ${vscode.workspace.asRelativePath(document.uri)}`);
  assert.equal(readFileSync(document.uri.fsPath, 'utf8'), original);
}

/** The titles of the CodeLenses on a file, once one of them holds `text`. */
export const lensTitles = (uri: vscode.Uri, text: string, timeoutMs?: number) =>
  until(
    async () => {
      const titles = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)).map((lens) => lens.command?.title ?? '');
      return titles.some((title) => title.includes(text)) ? titles : undefined;
    },
    `CodeLenses holding "${text}" on ${vscode.workspace.asRelativePath(uri)}`,
    timeoutMs,
  );

/** The real CIFAR-10 that the runner fetched into .cache/ (test/support/realCifar10.ts), or why it could not be had. */
export function realCifar10(): { dataDir: string } | { unavailable: string } {
  try {
    return JSON.parse(process.env['CNN_LAB_CIFAR10'] ?? '') as { dataDir: string } | { unavailable: string };
  } catch {
    return { unavailable: 'the runner did not say where it is (CNN_LAB_CIFAR10)' };
  }
}
