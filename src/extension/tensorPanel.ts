import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parseTensorProbe, tensorProbeExpression, tensorSummary } from '../core/debug/tensorProbe';
import { type TensorToHost, tensorToHost, type TensorToWebview } from '../core/protocol/tensor';
import { Disposable } from './disposable';
import type { Log } from './log';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, webviewOptions } from './webviewHtml';

/**
 * The debug types of Python's debugger: the Python Debugger extension's, the Python extension's before
 * it, and Jupyter's for a notebook's cells and the Interactive Window (debugpy in the kernel).
 */
const pythonDebugTypes = new Set(['debugpy', 'python', 'Python Kernel Debug Adapter', 'Python Interactive Window Debug Adapter']);

/** The id of the frame the debugger shows, when it is one of `session`'s (evaluate runs there; else in the adapter's default). */
function focusedFrameId(session: vscode.DebugSession): number | undefined {
  const frame = vscode.debug.activeStackItem;
  return frame instanceof vscode.DebugStackFrame && frame.session.id === session.id ? frame.frameId : undefined;
}

/** What View Tensor was run on: a row of the Variables view, a string, or else the editor's selection (or word) while paused. */
function expressionOf(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  const variable = (target as { variable?: { evaluateName?: unknown; name?: unknown } } | undefined)?.variable;
  if (typeof variable?.evaluateName === 'string') return variable.evaluateName;
  if (typeof variable?.name === 'string') return variable.name;
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const range = editor.selection.isEmpty ? editor.document.getWordRangeAtPosition(editor.selection.active, /[\w.[\]]+/) : editor.selection;
  return range && editor.document.getText(range);
}

/**
 * View Tensor: a tensor, array or image of a Python program paused in the debugger, read through the
 * debug adapter's `evaluate` in the focused frame (tensor_probe.py: nothing of the program is
 * written, at most 262,144 values come back) and drawn in a panel. It reads only what the debugger
 * itself can: no trust is needed beyond the debugger's own.
 */
export class TensorPanel extends Disposable {
  static readonly viewType = 'cnnLab.tensor';
  private panel: vscode.WebviewPanel | undefined;
  private channel: WebviewChannel<TensorToHost, TensorToWebview> | undefined;
  /** tensor_probe.py, read when first needed (not at activation). */
  private probeSource: string | undefined;
  /** The expression the panel shows, and whether it is read again at each stop. */
  private shown: { expression: string; pinned: boolean } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly trainerDir: string,
    private readonly log: Log,
  ) {
    super();
    this._register({ dispose: () => this.panel?.dispose() });
    this._register(vscode.languages.registerHoverProvider({ language: 'python' }, { provideHover: (document, position) => this.hover(document, position) }));
    this._register(vscode.debug.onDidChangeActiveStackItem((item) => void this.refreshPinned(item)));
  }

  /** A pinned view follows the debugger: at the next stop, or in the frame the user focuses, it reads its expression again. */
  private async refreshPinned(item: vscode.DebugThread | vscode.DebugStackFrame | undefined): Promise<void> {
    if (!this.shown?.pinned || !(item instanceof vscode.DebugStackFrame) || !pythonDebugTypes.has(item.session.type)) return;
    this.show(await this.read({ session: item.session, frameId: item.frameId }, this.shown.expression));
  }

  /** While a Python program is paused: a name under the pointer that is a tensor, array or image gets its one-line summary. */
  private async hover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const session = vscode.debug.activeDebugSession;
    const frameId = session && pythonDebugTypes.has(session.type) ? focusedFrameId(session) : undefined;
    const chain = document.getWordRangeAtPosition(position, /[A-Za-z_][\w.]*/);
    if (!session || frameId === undefined || !chain) return undefined;
    // `self.conv.weight` up to the name under the pointer: over `conv`, `self.conv`; over `y` in `y.relu()`, `y`.
    const text = document.getText(chain);
    const cut = text.indexOf('.', position.character - chain.start.character);
    const range = cut < 0 ? chain : new vscode.Range(chain.start, chain.start.translate(0, cut));
    const expression = document.getText(range);
    const answer = await this.evaluate({ session, frameId }, expression, 65_536, false).catch(() => undefined);
    if (!answer || 'problem' in answer || answer.kind === 'other') return undefined;
    const markdown = new vscode.MarkdownString(`\`${expression}\`: ${tensorSummary(answer)} · [View Tensor](command:cnnLab.viewTensor?${encodeURIComponent(JSON.stringify([expression]))})`);
    markdown.isTrusted = { enabledCommands: ['cnnLab.viewTensor'] };
    return new vscode.Hover(markdown, range);
  }

  private async evaluate({ session, frameId }: { session: vscode.DebugSession; frameId: number | undefined }, expression: string, limit?: number, sendValues?: boolean) {
    this.probeSource ??= readFileSync(join(this.trainerDir, 'tensor_probe.py'), 'utf8');
    const response = (await session.customRequest('evaluate', { expression: tensorProbeExpression(this.probeSource, expression, limit, sendValues), frameId, context: 'clipboard' })) as { result?: unknown };
    return parseTensorProbe(typeof response.result === 'string' ? response.result : '');
  }

  async view(target?: unknown): Promise<TensorToWebview | undefined> {
    const session = vscode.debug.activeDebugSession;
    const expression = expressionOf(target)?.trim();
    if (!session) {
      void vscode.window.showInformationMessage('CNN Lab: View Tensor reads a Python program paused in the debugger: start one (Run and Debug) and stop at a breakpoint.');
      return undefined;
    }
    if (!pythonDebugTypes.has(session.type)) {
      void vscode.window.showInformationMessage(`CNN Lab: View Tensor reads Python programs (debugpy); this debug session is ${session.type}.`);
      return undefined;
    }
    if (!expression) {
      void vscode.window.showInformationMessage('CNN Lab: select a variable or an expression to view.');
      return undefined;
    }
    const message = await this.read({ session, frameId: focusedFrameId(session) }, expression);
    this.show(message);
    return message;
  }

  /** The probe's answer for `expression` in a frame, as the page takes it; a view that stays pinned stays so. */
  private async read(where: { session: vscode.DebugSession; frameId: number | undefined }, expression: string): Promise<TensorToWebview> {
    const pinned = this.shown?.expression === expression && this.shown.pinned;
    let message: TensorToWebview;
    try {
      const answer = await this.evaluate(where, expression);
      message = 'problem' in answer ? { type: 'problem', expression, message: answer.problem, pinned } : { type: 'tensor', expression, answer: 'floats' in answer ? stripFloats(answer) : answer, pinned };
    } catch (error) {
      message = { type: 'problem', expression, message: `the debugger could not evaluate it: ${(error as Error).message}`, pinned };
    }
    if (message.type === 'problem') this.log.warn(`View Tensor ${expression}: ${message.message}`);
    return message;
  }

  private show(message: TensorToWebview): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(TensorPanel.viewType, 'Tensor', vscode.ViewColumn.Beside, webviewOptions(this.extensionUri));
      panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
      panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'tensor', 'Tensor');
      this.channel = new WebviewChannel(
        panel.webview,
        'tensor',
        tensorToHost,
        (message) => {
          if (message.type === 'pin' && this.shown?.expression === message.expression) this.shown.pinned = message.pinned;
        },
        this.log,
      );
      panel.onDidDispose(() => {
        this.channel?.dispose();
        this.panel = this.channel = this.shown = undefined;
      });
      this.panel = panel;
    }
    this.shown = { expression: message.expression, pinned: message.pinned };
    this.panel.title = `Tensor · ${message.expression}`;
    this.panel.reveal(undefined, true);
    this.channel?.post(message);
  }
}

/** The answer as the page takes it: the values stay base64, the decoded floats are the host's. */
function stripFloats<T extends { floats: unknown }>(view: T): Omit<T, 'floats'> {
  return Object.fromEntries(Object.entries(view).filter(([key]) => key !== 'floats')) as Omit<T, 'floats'>;
}
