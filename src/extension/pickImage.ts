import { basename } from 'node:path';
import * as vscode from 'vscode';
import { imageExtensions } from '../core/datasets/imageFolder';

/**
 * A PNG or JPEG of the workspace (the course's photos, say) picked from a list; with `browseLabel`,
 * the list ends with "Browse…" for any file through the open dialog. Undefined when the user cancels.
 */
export async function pickImage(title: string, browseLabel?: string): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(`**/*{${imageExtensions.join(',')}}`, '**/{node_modules,.git}/**', 500);
  const browse = { label: '$(folder-opened) Browse…', path: '' };
  const items = [...files.map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), path: uri.fsPath })), ...(browseLabel ? [browse] : [])];
  const item = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  if (item !== browse || !browseLabel) return item?.path;
  const [uri] = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: imageExtensions.map((e) => e.slice(1)) }, openLabel: browseLabel })) ?? [];
  return uri?.fsPath;
}
