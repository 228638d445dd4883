import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Webviews may load only the bundles and the extension's own media. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** One field of the state a page saved with setState, as a serializer gets it back after a reload (unchecked). */
export function stateField(state: unknown, key: string): unknown {
  return typeof state === 'object' && state !== null ? (state as Record<string, unknown>)[key] : undefined;
}

/**
 * The page every CNN Lab webview starts from: a strict CSP (no network, scripts only by nonce,
 * styles and images from the extension), the shared stylesheet and the view's bundle.
 * `view` names the bundle in dist/webviews and marks the body, so tests can find the frame.
 */
export function renderWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: string, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data: blob:`,
    `font-src ${webview.cspSource}`,
    "connect-src 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset('media', 'webview.css')}">
  <title>${escapeHtml(title)}</title>
</head>
<body data-cnnlab-view="${escapeHtml(view)}">
  <main id="root" aria-busy="true"></main>
  <script type="module" nonce="${nonce}" src="${asset('dist', 'webviews', `${view}.js`)}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
