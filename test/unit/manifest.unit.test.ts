// package.json is the extension's contract with VS Code: check it against the code.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { commandIds } from '../../src/extension/commandIds';

interface Manifest {
  name: string;
  displayName: string;
  main: string;
  bin: Record<string, string>;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
  contributes: {
    commands: { command: string; category: string }[];
    configuration: { properties: Record<string, unknown> };
    viewsContainers: { activitybar: { id: string; title: string }[] };
  };
}

const manifest = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as Manifest;

describe('package.json', () => {
  it('declares exactly the commands the extension registers, all under "CNN Lab"', () => {
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), [...commandIds].sort());
    assert.ok(manifest.contributes.commands.every((c) => c.category === 'CNN Lab'));
  });

  it('activates lazily: never on "*" or at every start-up; at start-up only where there are PyTorch files', () => {
    assert.ok(manifest.activationEvents.length > 0);
    assert.ok(!manifest.activationEvents.some((event) => event === '*' || event === 'onStartupFinished'));
    const atStartUp = manifest.activationEvents.filter((event) => event.startsWith('workspaceContains:'));
    assert.deepEqual(atStartUp, ['workspaceContains:**/*.py', 'workspaceContains:**/*.ipynb']);
  });

  it('keeps every setting under cnnLab.* and restricts the interpreter in untrusted workspaces', () => {
    const settings = Object.keys(manifest.contributes.configuration.properties);
    assert.ok(settings.every((key) => key.startsWith('cnnLab.')));
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('cnnLab.pythonPath'));
  });

  it('names the extension, its activity-bar container, its entry point and its CLI', () => {
    assert.equal(manifest.name, 'cnn-lab');
    assert.equal(manifest.displayName, 'CNN Lab');
    assert.deepEqual(manifest.contributes.viewsContainers.activitybar.map((c) => [c.id, c.title]), [['cnnLab', 'CNN Lab']]);
    assert.equal(manifest.main, './dist/extension.js');
    assert.deepEqual(manifest.bin, { 'cnn-lab': 'dist/cli.js' });
  });
});
