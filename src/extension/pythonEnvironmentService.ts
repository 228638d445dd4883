import * as vscode from 'vscode';
import { defaultPythonCandidates, describeDevice, findPython, type PythonSearch } from '../core/pythonEnvironment';
import type { EnvironmentView } from '../core/protocol/welcome';
import { Disposable } from './disposable';
import type { Log } from './log';

/**
 * Which Python trains PyTorch models, and what it can do. Searched once and cached; searched again
 * when cnnLab.pythonPath changes or the user asks. Probing runs only the extension's own probe
 * program, never workspace code, so it is allowed in untrusted workspaces (where VS Code ignores
 * a workspace's cnnLab.pythonPath, declared as a restricted setting).
 */
export class PythonEnvironmentService extends Disposable {
  private search: Promise<PythonSearch> | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly probeScript: string,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('cnnLab.pythonPath')) this.refresh();
      }),
    );
  }

  /** The interpreter the user named, or null when CNN Lab searches the usual places. */
  get pythonSetting(): string | null {
    return vscode.workspace.getConfiguration('cnnLab').get<string>('pythonPath')?.trim() || null;
  }

  current(): Promise<PythonSearch> {
    this.search ??= this.runSearch();
    return this.search;
  }

  refresh(): void {
    this.search = undefined;
    this.changed.fire();
  }

  async view(): Promise<EnvironmentView> {
    const { found, interpreter, tried } = await this.current();
    if (!found || interpreter === null) return { type: 'missing', tried };
    return { type: 'found', environment: found, interpreter, device: describeDevice(found) };
  }

  private async runSearch(): Promise<PythonSearch> {
    const setting = this.pythonSetting;
    const candidates = setting ? [setting] : defaultPythonCandidates();
    const started = Date.now();
    const result = await findPython(candidates, { probeScript: this.probeScript });
    for (const { interpreter, result: said } of result.tried) this.log.info(`python probe: ${interpreter}: ${said}`);
    this.log.info(`python probe finished in ${Date.now() - started} ms`);
    return result;
  }
}
