import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { EnvironmentView } from '../../src/core/protocol/welcome';
import { workbench } from './workbench';

/** What the interpreter says of itself when asked directly, without CNN Lab's probe. */
function askInterpreter(interpreter: string): { python: string; torch: string } {
  const script = 'import platform\ntry:\n import torch; t = torch.__version__\nexcept Exception:\n t = "not installed"\nprint(platform.python_version() + "|" + t)';
  const [python = '', torch = ''] = execFileSync(interpreter, ['-c', script], { encoding: 'utf8' }).trim().split('|');
  return { python, torch };
}

const settle = `document.getElementById('root')?.getAttribute('aria-busy') === 'false'`;
const bodyBackground = 'getComputedStyle(document.body).backgroundColor';

async function setTheme(theme: string): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
}

function welcomeTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('cnnLab.welcome'));
}

describe('Welcome page', () => {
  let found: Extract<EnvironmentView, { type: 'found' }>;

  after(async () => {
    await vscode.workspace.getConfiguration('cnnLab').update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    await setTheme('Default Dark Modern');
  });

  it('"Check Python Environment" reports what the interpreter itself says', async () => {
    const view = await vscode.commands.executeCommand<EnvironmentView>('cnnLab.checkEnvironment');
    assert.equal(view.type, 'found', `no Python found: ${JSON.stringify(view)}`);
    found = view as typeof found;
    const truth = askInterpreter(found.interpreter);
    assert.equal(found.environment.python, truth.python);
    assert.equal(found.environment.torch?.version ?? 'not installed', truth.torch);
  });

  it('opens from the command palette and renders the environment with vscode-elements', async () => {
    await workbench.runFromPalette('CNN Lab: Show Welcome');
    await workbench.waitFor('welcome', settle);
    const page = await workbench.evaluate<{ title: string; status: string; python: string; torch: string; buttons: string[]; upgraded: boolean }>(
      'welcome',
      `({
        title: document.querySelector('h1').textContent,
        status: document.querySelector('[data-field=status]').textContent,
        python: document.querySelector('[data-field=python]').textContent,
        torch: document.querySelector('[data-field=torch]').textContent,
        buttons: [...document.querySelectorAll('vscode-button')].map((b) => b.textContent.trim()),
        upgraded: [...document.querySelectorAll('vscode-button')].every((b) => b.shadowRoot !== null),
      })`,
    );
    assert.match(page.title, /^CNN Lab v\d+\.\d+\.\d+$/);
    assert.equal(page.python, found.environment.python);
    assert.equal(page.torch, found.environment.torch?.version ?? 'not installed');
    assert.deepEqual(page.buttons.slice(0, 3), ['Check Again', 'Choose Python…', 'Show Log']);
    assert.ok(page.upgraded, 'the vscode-button elements are defined custom elements with shadow roots');
    assert.equal(page.status, found.environment.torch ? 'ready to train' : 'needs PyTorch');
    await workbench.screenshot('welcome-dark');
  });

  it('shows one panel however often it is asked for', async () => {
    await vscode.commands.executeCommand('cnnLab.showWelcome');
    await vscode.commands.executeCommand('cnnLab.showWelcome');
    assert.equal(welcomeTabs().length, 1);
  });

  it('follows the colour theme', async () => {
    const dark = await workbench.evaluate<string>('welcome', bodyBackground);
    await setTheme('Default Light Modern');
    const light = await workbench.waitFor<string>('welcome', `${bodyBackground} !== ${JSON.stringify(dark)} && ${bodyBackground}`);
    const luminance = (rgb: string) => (rgb.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, c) => sum + Number(c), 0);
    assert.ok(luminance(light) > luminance(dark), `light ${light} is lighter than dark ${dark}`);
    await workbench.screenshot('welcome-light');
  });

  it('updates when cnnLab.pythonPath names an interpreter that does not exist', async () => {
    const bogus = '/nonexistent/python3';
    await vscode.workspace.getConfiguration('cnnLab').update('pythonPath', bogus, vscode.ConfigurationTarget.Global);
    const text = await workbench.waitFor<string>('welcome', `${settle} && document.body.innerText.includes(${JSON.stringify(bogus)}) && document.body.innerText`);
    assert.match(text, /No Python interpreter could be started/);
    assert.equal(await workbench.evaluate<string>('welcome', `document.querySelector('[data-field=status]').textContent`), 'needs Python');
    assert.match(text, /was not found/);
    assert.match(text, /Change Python…/);
    await workbench.screenshot('welcome-no-python');
  });

  it('"Check Again" from the page searches again and recovers once the setting is cleared', async () => {
    await vscode.workspace.getConfiguration('cnnLab').update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    await workbench.click('welcome', 'vscode-button:has-text("Check Again")');
    const python = await workbench.waitFor<string>('welcome', `${settle} && document.querySelector('[data-field=python]')?.textContent`);
    assert.equal(python, found.environment.python);
  });

  it('runs no inline script: the CSP blocks a script without the nonce', async () => {
    const ran = await workbench.evaluate<boolean>(
      'welcome',
      `new Promise((resolve) => {
        const script = document.createElement('script');
        script.textContent = 'window.__cnnLabInjected = true';
        document.body.append(script);
        setTimeout(() => resolve(window.__cnnLabInjected === true), 200);
      })`,
    );
    assert.equal(ran, false);
    const violations = (await workbench.consoleMessages()).filter((m) => m.text.includes('Content Security Policy'));
    assert.ok(violations.some((m) => m.text.includes('script')), 'the blocked script was reported as a CSP violation');
    assert.ok(violations.every((m) => !m.text.includes('style')), `no style was blocked: ${violations.map((m) => m.text).join('\n')}`);
  });
});
