// View Tensor in a real debug session: debugpy's own adapter (registered by the test runner for the
// "debugpy" type, as the Python Debugger extension launches it) stops a real program in forward.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TensorToWebview } from '../../src/core/protocol/tensor';
import { until, workbench } from './workbench';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const field = (name: string) => `document.querySelector('[data-field=${name}]')`;

const program = (result: string) => `import json
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y.relu()  # stopped here


torch.manual_seed(0)
x = torch.arange(64.0).reshape(1, 1, 8, 8) / 63
big = torch.zeros(1).expand(2 ** 30)
net = Net()
out = net(x)
again = net(x.flip(-1) * 2)  # a second stop in forward, with other values
json.dump(out.flatten().tolist() + again.flatten().tolist(), open(${JSON.stringify(result)}, "w"))
`;

describe('View Tensor in a paused Python program', function () {
  this.timeout(120_000);
  const folder = vscode.workspace.workspaceFolders?.[0];
  const path = join(folder?.uri.fsPath ?? '', 'debug_me.py');

  after(async () => {
    await vscode.debug.stopDebugging();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('stopped in forward, draws y\'s feature maps with the program\'s own values; samples a 4 GB tensor; pinned, reads y again at the next stop; the program runs on unchanged', async () => {
    // The same program run without the debugger: what it computes, for the comparison after.
    const undisturbed = join(folder?.uri.fsPath ?? '', 'undisturbed.json');
    writeFileSync(path, program(undisturbed));
    execFileSync(python, [path]);
    const debugged = join(folder?.uri.fsPath ?? '', 'debugged.json');
    writeFileSync(path, program(debugged));
    const line = program(debugged).split('\n').findIndex((l) => l.includes('# stopped here'));
    vscode.debug.addBreakpoints([new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(path), new vscode.Position(line, 0)))]);
    const stopped = new Promise<void>((resolve) => {
      const listener = vscode.debug.onDidChangeActiveStackItem((item) => {
        if (item instanceof vscode.DebugStackFrame) {
          listener.dispose();
          resolve();
        }
      });
    });
    assert.ok(await vscode.debug.startDebugging(folder, { type: 'debugpy', request: 'launch', name: 'View Tensor test', program: path, console: 'internalConsole', justMyCode: true }));
    await stopped;

    const shown = await vscode.commands.executeCommand<TensorToWebview>('cnnLab.viewTensor', 'y');
    assert.equal(shown.type, 'tensor', JSON.stringify(shown).slice(0, 500));
    assert.ok(shown.type === 'tensor' && shown.answer.kind === 'torch');
    const answer = shown.answer;
    assert.deepEqual([answer.shape, answer.dtype, answer.device, answer.note], [[1, 4, 8, 8], 'float32', 'cpu', null]);
    // The values against the program's own, asked of the same frame.
    const session = vscode.debug.activeDebugSession;
    const frame = vscode.debug.activeStackItem;
    const own = (await session?.customRequest('evaluate', { expression: '__import__("json").dumps(y.flatten().tolist())', frameId: frame instanceof vscode.DebugStackFrame ? frame.frameId : undefined, context: 'clipboard' })) as { result: string };
    const expected = JSON.parse(own.result.replace(/^'|'$/g, '')) as number[];
    const floats = new Float32Array(Uint8Array.from(atob(answer.values ?? ''), (c) => c.charCodeAt(0)).buffer);
    assert.deepEqual([...floats], expected.map((v) => Math.fround(v)));
    await workbench.waitFor('tensor', `document.querySelectorAll('[data-field=maps] canvas').length === 4`);
    assert.match(await workbench.evaluate<string>('tensor', `${field('summary')}.textContent`), /^tensor 1×4×8×8 · float32 · cpu$/);
    await vscode.commands.executeCommand('notifications.clearAll');
    await workbench.screenshot('tensor-feature-maps');

    // The hover over y in the paused editor: one line, with a link to the view.
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(path));
    const at = editor.document.lineAt(line).text.indexOf('y.relu');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(line, at));
    const texts = hovers.flatMap((hover) => hover.contents.map((c) => (typeof c === 'string' ? c : c.value)));
    assert.ok(texts.some((t) => /^`y`: tensor 1×4×8×8 · float32 · cpu · min -?\d[\d.]* · max \d[\d.]* · \[View Tensor\]\(command:cnnLab\.viewTensor\?/.test(t)), texts.join('\n'));

    const big = await vscode.commands.executeCommand<TensorToWebview>('cnnLab.viewTensor', 'big');
    assert.ok(big.type === 'tensor' && big.answer.kind === 'torch');
    assert.match(big.answer.note ?? '', /^1,073,741,824 values: every \d+th along each axis is shown/);
    const notATensor = await vscode.commands.executeCommand<TensorToWebview>('cnnLab.viewTensor', 'Net');
    assert.deepEqual(notATensor.type === 'tensor' && notATensor.answer, { kind: 'other', type: 'builtins.type' });

    // Pinned, y is read again at the next stop: the second call's values, as the program has them there.
    await vscode.commands.executeCommand('cnnLab.viewTensor', 'y');
    // The page must show y before the click: a click on the view of Net would pin Net, not y.
    await workbench.waitFor('tensor', `document.querySelector('h1')?.textContent === 'y' && ${field('summary')} && !${field('pin')}.checked`);
    await workbench.click('tensor', '[data-field=pin]');
    await until(async () => (await vscode.commands.executeCommand<TensorToWebview>('cnnLab.viewTensor', 'y')).pinned, 'the host to hear the pin');
    const shownMax = () => workbench.evaluate<string>('tensor', `[...${field('stats')}.children].find((e) => e.previousElementSibling?.textContent === 'max')?.textContent`);
    const firstMax = await shownMax();
    const stoppedAgain = new Promise<vscode.DebugStackFrame>((resolve) => {
      const listener = vscode.debug.onDidChangeActiveStackItem((item) => {
        if (item instanceof vscode.DebugStackFrame) {
          listener.dispose();
          resolve(item);
        }
      });
    });
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const second = await stoppedAgain;
    const max = (await session?.customRequest('evaluate', { expression: 'y.max().item()', frameId: second.frameId, context: 'clipboard' })) as { result: string };
    const updated = await workbench.waitFor<string>('tensor', `(() => { const m = [...${field('stats')}.children].find((e) => e.previousElementSibling?.textContent === 'max')?.textContent; return m !== ${JSON.stringify(firstMax)} && m; })()`);
    assert.ok(Math.abs(Number(updated) - Number(max.result)) < 1e-3, `the pinned view shows max ${updated}; the program has ${max.result}`);
    assert.equal(await workbench.evaluate('tensor', `${field('pin')}.checked`), true);

    const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession(() => resolve()));
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    await ended;
    await until(() => readFileSync(debugged, 'utf8').length > 0, 'the program to finish').catch(() => undefined);
    assert.equal(readFileSync(debugged, 'utf8'), readFileSync(undisturbed, 'utf8'), 'the program computed what it computes undebugged');
  });

  it('says plainly when no Python program is paused', async () => {
    // Its own premise: no session left over, whatever the test before it did.
    await vscode.debug.stopDebugging();
    await until(() => vscode.debug.activeDebugSession === undefined, 'the debug session to end');
    const answer = await vscode.commands.executeCommand<TensorToWebview | undefined>('cnnLab.viewTensor', 'x');
    assert.equal(answer, undefined);
  });
});
