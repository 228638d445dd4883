import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ExactShapes, exactRequests, withExactShapes, type ExactModel, type ExactModelRequest } from '../../core/analysis/exactShapes';
import type { CellRange, NotebookModelReport } from '../../core/analysis/notebook';
import { cellPlacer } from '../../core/analysis/notebookView';
import type { ModelReport } from '../../core/analysis/report';
import { Disposable } from '../disposable';
import type { Log } from '../log';
import type { PythonEnvironmentService } from '../pythonEnvironmentService';
import type { ModelAnalysis, NotebookModels } from './modelAnalysis';

interface Result {
  /** The document version that was saved and run; an edit since makes the result stale. */
  version: number;
  models: Map<string, ExactModel>;
}

/** A notebook's run of the module written from its cells. */
interface NotebookResult {
  /** The notebook's cells and their versions when it was saved and run (NotebookModels.stamp). */
  stamp: string;
  models: Map<string, ExactModel>;
  /** Where a line of the module lies in the cells (cellPlacer). */
  place: (line: number) => CellRange | undefined;
}

/**
 * Exact mode: after a save, PyTorch builds the file's models and runs a zero tensor through them,
 * and its shapes replace the static ones until the next edit. It imports the user's code, so it
 * runs only in a trusted workspace; the static hints never wait for it.
 */
export class ExactMode extends Disposable {
  private helper: { python: string; shapes: ExactShapes } | undefined;
  private readonly results = new Map<string, Result>();
  private readonly notebookResults = new Map<string, NotebookResult>();
  /** The modules written for notebooks, removed with the extension. */
  private readonly modulesDir = join(tmpdir(), `cnnlab-exact-${process.pid}`);
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
    this._register(vscode.workspace.onDidSaveNotebookDocument((notebook) => this.scheduleNotebook(notebook)));
    this._register(vscode.workspace.onDidCloseNotebookDocument((notebook) => this.notebookResults.delete(notebook.uri.toString())));
    this._register({ dispose: () => rmSync(this.modulesDir, { recursive: true, force: true }) });
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

  /** A notebook's reports with PyTorch's numbers where a run of its cells as they are now gave them, each layer PyTorch found placed in its cell. */
  applyNotebook({ notebook, reports, stamp }: NotebookModels): NotebookModelReport[] {
    const result = this.notebookResults.get(notebook.uri.toString());
    if (!result || result.stamp !== stamp) return [...reports];
    return reports.map((report) => {
      const exact = result.models.get(report.name);
      // The ranges place() gives, and those the static report had, all name their cell.
      return exact ? (withExactShapes(report, exact, result.place) as NotebookModelReport) : report;
    });
  }

  private scheduleNotebook(notebook: vscode.NotebookDocument): void {
    if (notebook.uri.scheme !== 'file' || !this.enabled) return;
    if (!vscode.workspace.isTrusted) return void this.analysis.notebookModels(notebook).then((models) => this.explainRestricted(models.reports));
    this.debounce(notebook.uri.toString(), () => void this.runNotebook(notebook));
  }

  /** Runs in the helper what the notebook's models need of its cells (the helper's loader chooses, never the other cells). */
  private async runNotebook(notebook: vscode.NotebookDocument): Promise<void> {
    const { stamp, reports, cells } = await this.analysis.notebookModels(notebook);
    const requests = exactRequests(reports);
    if (requests.length === 0) return;
    const { module, cells: sources } = await this.analysis.exactModule(notebook);
    const name = vscode.workspace.asRelativePath(notebook.uri);
    if (module instanceof Error) return this.log.info(`exact shapes for ${name}: ${module.message}`);
    const path = join(this.modulesDir, `notebook_${createHash('sha256').update(notebook.uri.toString()).digest('hex').slice(0, 16)}.py`);
    mkdirSync(this.modulesDir, { recursive: true });
    writeFileSync(path, module.text);
    const exact = await this.shapes(path, requests, name);
    if (!exact || notebook.isClosed || (await this.analysis.notebookModels(notebook)).stamp !== stamp) return;
    this.notebookResults.set(notebook.uri.toString(), { stamp, models: new Map(exact.map((m) => [m.name, m])), place: cellPlacer(module, sources) });
    for (const cell of cells) this.changed.fire(cell);
  }

  private debounce(key: string, run: () => void): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        run();
      }, 300),
    );
  }

  private schedule(document: vscode.TextDocument): void {
    // A notebook cell's uri names the notebook file, which is not a module PyTorch can import.
    if (document.languageId !== 'python' || document.uri.scheme !== 'file' || !this.enabled) return;
    if (!vscode.workspace.isTrusted) return void this.analysis.reports(document).then((reports) => this.explainRestricted(reports));
    this.debounce(document.uri.toString(), () => void this.run(document));
  }

  private async run(document: vscode.TextDocument): Promise<void> {
    const version = document.version;
    const models = exactRequests(await this.analysis.reports(document));
    if (models.length === 0) return;
    const exact = await this.shapes(document.uri.fsPath, models, vscode.workspace.asRelativePath(document.uri));
    if (!exact || document.isClosed || document.version !== version) return;
    this.results.set(document.uri.toString(), { version, models: new Map(exact.map((m) => [m.name, m])) });
    this.changed.fire(document.uri);
  }

  /** PyTorch's numbers for the models of the module at `path`; undefined (and the reason logged) when there are none. */
  private async shapes(path: string, models: ExactModelRequest[], name: string): Promise<ExactModel[] | undefined> {
    const { found, interpreter } = await this.environment.current();
    if (!found?.torch || interpreter === null) return undefined; // no PyTorch: the static hints are all there is
    if (this.helper?.python !== interpreter) {
      await this.stopHelper();
      this.helper = { python: interpreter, shapes: new ExactShapes({ python: interpreter, script: this.script, onLog: (line) => this.log.info(line) }) };
    }
    const started = Date.now();
    try {
      const exact = await this.helper.shapes.shapes(path, models);
      this.log.info(`exact shapes for ${name} in ${Date.now() - started} ms`);
      return exact;
    } catch (error) {
      this.log.warn(`exact shapes for ${name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** Once a window: a model saved in an untrusted workspace keeps its static shapes, and the user is told why. */
  private async explainRestricted(reports: readonly ModelReport[]): Promise<void> {
    if (this.explained || exactRequests(reports).length === 0) return;
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
