import * as vscode from 'vscode';
import { ExactShapes, exactRequests, withExactShapes, type ExactModel } from '../../core/analysis/exactShapes';
import type { ModelReport } from '../../core/analysis/report';
import { Disposable } from '../disposable';
import type { Log } from '../log';
import type { PythonEnvironmentService } from '../pythonEnvironmentService';
import type { ModelAnalysis } from './modelAnalysis';

interface Result {
  /** The document version that was saved and run; an edit since makes the result stale. */
  version: number;
  models: Map<string, ExactModel>;
}

/**
 * Exact mode: after a save, PyTorch builds the file's models and runs a zero tensor through them,
 * and its shapes replace the static ones until the next edit. It imports the user's code, so it
 * runs only in a trusted workspace; the static hints never wait for it.
 */
export class ExactMode extends Disposable {
  private helper: { python: string; shapes: ExactShapes } | undefined;
  private readonly results = new Map<string, Result>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private explained = false;
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly analysis: ModelAnalysis,
    private readonly environment: PythonEnvironmentService,
    private readonly script: string,
    private readonly log: Log,
  ) {
    super();
    this._register(vscode.workspace.onDidSaveTextDocument((document) => this.schedule(document)));
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.results.delete(document.uri.toString())));
    this._register(environment.onDidChange(() => void this.stopHelper()));
    this._register({ dispose: () => void this.stopHelper() });
    this._register({ dispose: () => this.timers.forEach(clearTimeout) });
  }

  private get enabled(): boolean {
    return vscode.workspace.getConfiguration('cnnLab').get<boolean>('exactShapes', true);
  }

  /** The reports with PyTorch's numbers where a run of this very version of the document gave them. */
  apply(document: vscode.TextDocument, reports: ModelReport[]): ModelReport[] {
    const result = this.results.get(document.uri.toString());
    if (!result || result.version !== document.version) return reports;
    const source = document.getText();
    return reports.map((report) => {
      const exact = result.models.get(report.name);
      return exact ? withExactShapes(report, exact, source) : report;
    });
  }

  private schedule(document: vscode.TextDocument): void {
    // A notebook cell's uri names the notebook file, which is not a module PyTorch can import.
    if (document.languageId !== 'python' || document.uri.scheme !== 'file' || !this.enabled) return;
    if (!vscode.workspace.isTrusted) return void this.explainRestricted(document);
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.run(document);
      }, 300),
    );
  }

  private async run(document: vscode.TextDocument): Promise<void> {
    const version = document.version;
    const models = exactRequests(await this.analysis.reports(document));
    if (models.length === 0) return;
    const { found, interpreter } = await this.environment.current();
    if (!found?.torch || interpreter === null) return; // no PyTorch: the static hints are all there is
    if (this.helper?.python !== interpreter) {
      await this.stopHelper();
      this.helper = { python: interpreter, shapes: new ExactShapes({ python: interpreter, script: this.script, onLog: (line) => this.log.info(line) }) };
    }
    const started = Date.now();
    try {
      const exact = await this.helper.shapes.shapes(document.uri.fsPath, models);
      if (document.isClosed || document.version !== version) return;
      this.results.set(document.uri.toString(), { version, models: new Map(exact.map((m) => [m.name, m])) });
      this.log.info(`exact shapes for ${vscode.workspace.asRelativePath(document.uri)} in ${Date.now() - started} ms`);
      this.changed.fire(document.uri);
    } catch (error) {
      this.log.warn(`exact shapes for ${vscode.workspace.asRelativePath(document.uri)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Once a window: a model saved in an untrusted workspace keeps its static shapes, and the user is told why. */
  private async explainRestricted(document: vscode.TextDocument): Promise<void> {
    if (this.explained || exactRequests(await this.analysis.reports(document)).length === 0 || this.explained) return;
    this.explained = true;
    const choice = await vscode.window.showInformationMessage("Exact shapes run your model in PyTorch, which needs a trusted workspace: the hints show CNN Lab's static analysis until you trust this folder.", 'Manage Workspace Trust');
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  }

  private async stopHelper(): Promise<void> {
    const helper = this.helper;
    this.helper = undefined;
    await helper?.shapes.dispose();
  }
}
