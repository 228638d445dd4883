import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { workbench } from './workbench';

const manifest = JSON.parse(readFileSync(join(process.env['CNN_LAB_REPO'] ?? '', 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[] };
};

describe('Activation', () => {
  it('is lazy: the workbench starts without activating CNN Lab', () => {
    const extension = vscode.extensions.getExtension('cnn-lab.cnn-lab');
    assert.ok(extension, 'CNN Lab is installed in the host');
    assert.equal(extension.isActive, false);
  });

  it('activates and registers every command that package.json declares', async () => {
    const extension = vscode.extensions.getExtension('cnn-lab.cnn-lab');
    assert.ok(extension);
    const started = performance.now();
    await extension.activate();
    await workbench.figure('activation', `${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(extension.isActive, true);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, []);
  });
});
