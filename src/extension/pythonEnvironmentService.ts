import * as vscode from 'vscode';
import { defaultPythonCandidates, describeDevice, findPython, type PythonSearch } from '../core/pythonEnvironment';
import type { EnvironmentView } from '../core/protocol/welcome';
import { Disposable } from './disposable';
import type { Log } from './log';

/** The part of the Python extension's API (ms-python.python) that says which interpreter is selected. */
interface PythonExtensionApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

const pythonExtensionId = 'ms-python.python';

function isPythonExtensionApi(value: unknown): value is PythonExtensionApi {
  const environments = (value as { environments?: Partial<PythonExtensionApi['environments']> } | undefined)?.environments;
  return typeof environments?.getActiveEnvironmentPath === 'function' && typeof environments.onDidChangeActiveEnvironmentPath === 'function';
}

/**
 * Which Python trains PyTorch models, and what it can do: cnnLab.pythonPath, else the Python
 * extension's selected interpreter, else the usual places. Searched once and cached; searched again
 * when either choice changes or the user asks. Probing runs only the extension's own probe
 * program, never workspace code, so it is allowed in untrusted workspaces (where VS Code ignores
 * a workspace's cnnLab.pythonPath, declared as a restricted setting).
 */
export class PythonEnvironmentService extends Disposable {
  private search: Promise<PythonSearch> | undefined;
  private pythonExtension: Promise<PythonExtensionApi | undefined> | undefined;
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

  /** Opens the Python extension's interpreter picker when it is installed, else the cnnLab.pythonPath setting. */
  async choosePython(): Promise<void> {
    if (await this.pythonExtensionApi()) await vscode.commands.executeCommand('python.setInterpreter');
    else await vscode.commands.executeCommand('workbench.action.openSettings', 'cnnLab.pythonPath');
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
    const selected = setting ? undefined : (await this.pythonExtensionApi())?.environments.getActiveEnvironmentPath().path;
    const candidates = setting ? [setting] : [...(selected ? [selected] : []), ...defaultPythonCandidates()];
    const started = Date.now();
    const result = await findPython(candidates, { probeScript: this.probeScript });
    for (const { interpreter, result: said } of result.tried) this.log.info(`python probe: ${interpreter}: ${said}`);
    this.log.info(`python probe finished in ${Date.now() - started} ms`);
    return result;
  }

  private pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
    this.pythonExtension ??= (async () => {
      const extension = vscode.extensions.getExtension(pythonExtensionId);
      if (!extension) return undefined;
      try {
        const api: unknown = extension.isActive ? extension.exports : await extension.activate();
        if (!isPythonExtensionApi(api)) return undefined;
        this._register(api.environments.onDidChangeActiveEnvironmentPath(() => this.refresh()));
        return api;
      } catch (error) {
        this.log.warn(`the Python extension's API is not available: ${(error as Error).message}`);
        return undefined;
      }
    })();
    return this.pythonExtension;
  }
}
