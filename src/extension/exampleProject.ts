import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { examples } from '../core/examples';
import { settingsFileName, writeSettings } from '../core/training/settings';
import type { Log } from './log';

/**
 * "CNN Lab: Create Example Project": the course's examples, each in its own folder with the
 * cnn-lab.json that trains it, in a folder the user picks (or `target`). Nothing is overwritten.
 * Returns the folders written.
 */
export async function createExampleProject(extensionUri: vscode.Uri, log: Log, target?: vscode.Uri): Promise<string[]> {
  const [folder] = target ? [target] : ((await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Create Examples Here', title: 'A folder for the course\'s examples' })) ?? []);
  if (!folder) return [];
  const taken = examples.filter((example) => existsSync(join(folder.fsPath, example.folder)));
  if (taken.length) {
    void vscode.window.showErrorMessage(`CNN Lab: ${folder.fsPath} already has ${taken.map((e) => e.folder).join(', ')}; choose another folder, nothing was written.`);
    return [];
  }
  const written = examples.map((example) => {
    const dir = join(folder.fsPath, example.folder);
    mkdirSync(dir, { recursive: true });
    copyFileSync(vscode.Uri.joinPath(extensionUri, 'dist', 'examples', example.file).fsPath, join(dir, example.file));
    writeSettings(join(dir, settingsFileName), example.settings);
    return dir;
  });
  log.info(`example project written in ${folder.fsPath}: ${examples.map((e) => e.folder).join(', ')}`);
  if (!target) {
    const inWorkspace = vscode.workspace.workspaceFolders?.some((f) => folder.fsPath.startsWith(f.uri.fsPath));
    const choice = await vscode.window.showInformationMessage(`CNN Lab: the course's examples are in ${folder.fsPath}, each with the cnn-lab.json that trains it.`, inWorkspace ? 'Open MLP Example' : 'Open Folder');
    if (choice === 'Open Folder') await vscode.commands.executeCommand('vscode.openFolder', folder);
    if (choice === 'Open MLP Example') await vscode.window.showTextDocument(vscode.Uri.file(join(written[0] ?? '', examples[0]?.file ?? '')));
  }
  return written;
}
