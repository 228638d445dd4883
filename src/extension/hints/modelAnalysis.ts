import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type * as AnalysisEngine from '../../core/analysis/engine';
import type { ModelReport, SourceRange } from '../../core/analysis/report';
import type { CheckpointFinding } from '../../core/checkpoints/loadCheck';
import type { StateDictTable } from '../../core/checkpoints/stateDictCheck';
import type { NotebookCell, NotebookError, NotebookModelReport } from '../../core/analysis/notebook';
import type { NotebookModule } from '../../core/analysis/notebookModule';
import { cellView } from '../../core/analysis/notebookView';
import type { LanguageId, Parser, TextChange } from '../../core/analysis/syntax';
import { AnalysisWorkerClient, type OpenFile } from '../../core/analysis/workerClient';
import type { AnalysisSettings } from '../../core/analysis/workerProtocol';
import type { ModelModule } from '../../core/training/trainingRun';
import { Disposable } from '../disposable';
import type { Log } from '../log';

/** A notebook open in the editor: its cells analysed as one program (notebook.ts), each cell shown its part. */
interface TrackedNotebook {
  reports: NotebookModelReport[];
  /** The cells' documents and versions when last analysed: the analysis is current while this holds. */
  key: string;
  /** Each cell's document, by index in the notebook (markdown cells too). */
  cells: vscode.Uri[];
  /** The files its imports read. */
  reads: Set<string>;
  /** Its load_state_dict calls, checked against their checkpoints; ranges name their cells. */
  checkpoints: CheckpointFinding[];
  /** A file it imports changed since the last request. */
  stale: boolean;
  /** The analysis asked for and not answered yet, for the cells as `key` names them. */
  asked?: { key: string; answer: Promise<TrackedNotebook> };
}

interface Tracked {
  /** Changes since the worker last saw the text, applied incrementally on the next analysis. */
  pending: TextChange[];
  /** The version the reports are of; -1 before the first. */
  version: number;
  /** A file it imports changed since the last request. */
  stale: boolean;
  reports: ModelReport[];
  /** The files its `from … import …` statements read. */
  reads: Set<string>;
  /** Its load_state_dict calls, checked against their checkpoints. */
  checkpoints: CheckpointFinding[];
  asked?: { version: number; answer: Promise<ModelReport[]> };
}

/**
 * The models of every open model document, re-analysed on each change in a worker thread
 * (worker.ts): tree-sitter re-parses only what changed, only the models the change touched are
 * analysed again, and the extension host's thread only sends the edit and takes the reports.
 */
export class ModelAnalysis extends Disposable {
  private notebookEngine: Promise<{ engine: typeof AnalysisEngine; parser: Parser }> | undefined;
  private readonly worker: AnalysisWorkerClient;
  private readonly documents = new Map<string, Tracked>();
  private readonly notebooks = new Map<string, TrackedNotebook>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires when a document's models may have changed. */
  readonly onDidChange = this.changed.event;
  /** Where torchvision and timm are installed, once the probe has said: their model factories are read, never run. */
  private modelPackages: Readonly<Record<string, string | null | undefined>> = {};
  private modelPackagesAsked = false;

  /**
   * `distDir`: the built extension's folder, with the analysis bundle and the grammars.
   * `findModelPackages`: the selected interpreter's model packages, asked the first time a file names one.
   */
  constructor(
    private readonly distDir: string,
    private readonly log: Log,
    private readonly findModelPackages: () => Promise<Readonly<Record<string, string | null | undefined>>> = () => Promise.resolve({}),
  ) {
    super();
    this.worker = new AnalysisWorkerClient(join(distDir, 'analysisWorker.js'), join(distDir, 'parsers'), openModelFiles, (error) => this.log.error('the analysis worker stopped; the next edit starts another', error));
    this._register({ dispose: () => this.worker.dispose() });
    // The grammar loads while VS Code waits before it asks for lenses (a quarter second): the first file's come sooner.
    const prefetch = (document: vscode.TextDocument) => {
      const language = ModelAnalysis.languages[document.languageId];
      if (language) this.worker.prepare(language);
    };
    // After activation has returned: the files open at start-up are the reason it ran.
    setImmediate(() => {
      if (!this.isDisposed) vscode.workspace.textDocuments.forEach(prefetch);
    });
    this._register(vscode.workspace.onDidOpenTextDocument(prefetch));
    this._register(
      vscode.workspace.onDidChangeTextDocument(({ document, contentChanges }) => {
        if (contentChanges.length === 0) return;
        for (const [uri, other] of this.documents) {
          if (document.uri.scheme !== 'file' || !other.reads.has(document.uri.fsPath)) continue;
          other.stale = true;
          this.changed.fire(vscode.Uri.parse(uri));
        }
        for (const [uri, notebook] of this.notebooks) {
          if (document.uri.scheme === 'file' && notebook.reads.has(document.uri.fsPath)) this.notebookChanged(vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri));
        }
        if (document.uri.scheme === cellScheme) return this.notebookChanged(notebookOf(document));
        const tracked = this.documents.get(document.uri.toString());
        if (!tracked) return;
        tracked.pending.push(...contentChanges.map(({ rangeOffset, rangeLength, text }) => ({ rangeOffset, rangeLength, text })));
        this.changed.fire(document.uri);
      }),
    );
    // Training writes a checkpoint: the calls that load it are checked again.
    const checkpoints = this._register(vscode.workspace.createFileSystemWatcher('**/*.{pt,pth,ckpt,tar}'));
    for (const event of [checkpoints.onDidCreate, checkpoints.onDidChange, checkpoints.onDidDelete]) this._register(event(() => this.checkpointChanged()));
    this._register(
      vscode.workspace.onDidChangeNotebookDocument(({ notebook, contentChanges }) => {
        // Cells added, removed or moved: every cell may show other numbers (its text changes come as text document changes).
        if (contentChanges.length > 0) this.notebookChanged(notebook);
      }),
    );
    this._register(
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        this.notebooks.delete(notebook.uri.toString());
        this.worker.forget(notebook.uri.toString());
      }),
    );
    this._register(
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.documents.delete(document.uri.toString());
        this.worker.forget(document.uri.toString());
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration('cnnLab.defaultInputShape')) return;
        for (const tracked of this.documents.values()) tracked.version = -1;
        for (const uri of this.documents.keys()) this.changed.fire(vscode.Uri.parse(uri));
        for (const notebook of vscode.workspace.notebookDocuments) this.notebookChanged(notebook);
      }),
    );
  }

  private forgetAll(): void {
    this.documents.clear();
    this.notebooks.clear();
    this.worker.forgetAll();
  }

  private settings(): AnalysisSettings {
    return { defaultInput: defaultInputShape(), modelPackages: this.modelPackages };
  }

  /** The first time a Python file or notebook names torchvision or timm, where they are installed; then every model is analysed again. */
  private askForModelPackages(text: string): void {
    if (this.modelPackagesAsked || !/\b(torchvision|timm)\b/.test(text)) return;
    this.modelPackagesAsked = true;
    this.findModelPackages().then(
      (packages) => {
        if (!Object.values(packages).some(Boolean)) return;
        this.modelPackages = packages;
        // Imports that found nothing before may resolve now: every analysis starts afresh, its caches with it.
        const uris = [...this.documents.keys()];
        this.forgetAll();
        for (const uri of uris) this.changed.fire(vscode.Uri.parse(uri));
        for (const notebook of vscode.workspace.notebookDocuments) this.notebookChanged(notebook);
      },
      (error: unknown) => this.log.error('finding the installed model packages failed', error),
    );
  }

  /** Every cell of the notebook may show other numbers now. */
  private notebookChanged(notebook: vscode.NotebookDocument | undefined): void {
    if (!notebook) return;
    const tracked = this.notebooks.get(notebook.uri.toString());
    if (tracked) tracked.stale = true;
    for (const cell of notebook.getCells()) if (cell.kind === vscode.NotebookCellKind.Code) this.changed.fire(cell.document.uri);
  }

  /** The documents with models: PyTorch in Python, TF.js in TypeScript and JavaScript. */
  static readonly languages: Record<string, LanguageId> = { python: 'python', typescript: 'typescript', javascript: 'typescript' };

  static handles(document: vscode.TextDocument): boolean {
    return Object.hasOwn(ModelAnalysis.languages, document.languageId);
  }

  /**
   * What makes the modules exact mode and training run of a notebook, with Python's parser, loaded
   * once on the host (the analysis itself runs in the worker); a failure is logged and given to
   * every caller. A bundle of its own (engine.ts): activation does not load it.
   */
  private notebookModules(): Promise<{ engine: typeof AnalysisEngine; parser: Parser }> {
    if (!this.notebookEngine) {
      this.notebookEngine = Promise.resolve().then(async () => {
        const engine = createRequire(__filename)(join(this.distDir, 'analysis.js')) as typeof AnalysisEngine;
        return { engine, parser: await engine.loadParser(join(this.distDir, 'parsers'), 'python') };
      });
      this.notebookEngine.catch((error: unknown) => this.log.error('loading the Python grammar failed', error));
    }
    return this.notebookEngine;
  }

  /** A file's models; a notebook cell's, those of the notebook's program the cell defines or holds layers of. */
  async reports(document: vscode.TextDocument): Promise<ModelReport[]> {
    const language = ModelAnalysis.languages[document.languageId];
    if (!language) return [];
    if (document.uri.scheme === cellScheme) {
      const notebook = notebookOf(document);
      const cell = notebook?.getCells().find((c) => c.document === document);
      return notebook && cell && language === 'python' ? cellView((await this.notebookReports(notebook)).reports, cell.index) : [];
    }
    const key = document.uri.toString();
    let tracked = this.documents.get(key);
    if (tracked && tracked.version === document.version && !tracked.stale) return tracked.reports;
    if (tracked?.asked?.version === document.version && !tracked.stale) return tracked.asked.answer;
    if (!tracked) {
      tracked = { pending: [], version: -1, stale: false, reports: [], reads: new Set(), checkpoints: [] };
      this.documents.set(key, tracked);
    }
    const text = document.getText();
    if (language === 'python') this.askForModelPackages(text);
    const { version } = document;
    const file = { ...(document.uri.scheme === 'file' ? { path: document.uri.fsPath } : {}), language, version, text, changes: tracked.pending.splice(0) };
    tracked.stale = false;
    const asked = tracked;
    // A file just opened and longer than the screen: the models on screen are shown first, the rest when all are analysed.
    let shownFirst = false;
    const visible = vscode.window.visibleTextEditors.filter((e) => e.document === document).flatMap((e) => e.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line })));
    const whole = visible.some((lines) => lines.start === 0 && lines.end >= document.lineCount - 1);
    const onScreen = {
      visible: whole ? [] : visible,
      first: (reports: ModelReport[]) => {
        if (version < asked.version || asked.version === version) return;
        Object.assign(asked, { reports, version });
        shownFirst = true;
        this.changed.fire(document.uri);
      },
    };
    const answer = this.worker.analyseFile(key, file, this.settings(), onScreen).then(
      ({ reports, reads, checkpoints }) => {
        // An answer to an older request than one already answered changes nothing.
        if (version >= asked.version) Object.assign(asked, { reports, version, reads: new Set(reads), checkpoints });
        if (shownFirst) this.changed.fire(document.uri);
        return reports;
      },
      (error: unknown) => {
        this.log.error(`analysing ${vscode.workspace.asRelativePath(document.uri)} failed`, error);
        throw error;
      },
    );
    tracked.asked = { version, answer };
    return answer;
  }

  /** A document's load_state_dict calls checked against their checkpoints; for a notebook's cell, the calls in that cell, in its lines. */
  async checkpointFindings(document: vscode.TextDocument): Promise<CheckpointFinding[]> {
    await this.reports(document);
    if (document.uri.scheme !== cellScheme) return this.documents.get(document.uri.toString())?.checkpoints ?? [];
    const notebook = notebookOf(document);
    const cell = notebook?.getCells().find((c) => c.document === document)?.index;
    const tracked = notebook && this.notebooks.get(notebook.uri.toString());
    const inCell = (range: SourceRange) => 'cell' in range && range.cell === cell;
    const local = ({ start, end }: SourceRange): SourceRange => ({ start, end });
    return (tracked?.checkpoints ?? []).filter((f) => inCell(f.range)).map((f) => ({
      ...f,
      range: local(f.range),
      ...(f.diagnostic
        ? { diagnostic: { ...f.diagnostic, range: local(f.diagnostic.range), ...(f.diagnostic.fix ? { fix: { ...f.diagnostic.fix, range: local(f.diagnostic.fix.range) } } : {}) } }
        : {}),
    }));
  }

  /** A model of a file, as the editor has it, against a checkpoint file, key by key. */
  async stateDictTable(document: vscode.TextDocument, model: string, checkpoint: string): Promise<StateDictTable> {
    await this.reports(document);
    return this.worker.stateDictTable(document.uri.toString(), model, checkpoint);
  }

  /** A checkpoint file changed on disk: documents whose calls name one are checked again. */
  checkpointChanged(): void {
    for (const [uri, tracked] of this.documents) {
      if (tracked.checkpoints.length === 0) continue;
      tracked.stale = true;
      this.changed.fire(vscode.Uri.parse(uri));
    }
    for (const [uri, tracked] of this.notebooks) {
      if (tracked.checkpoints.length > 0) this.notebookChanged(vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri));
    }
  }

  /**
   * The models of a notebook's Python cells read as one program, every range naming its cell, and
   * each cell's document; for the cell of `document`, or undefined when it is not a notebook's cell.
   */
  async notebookOfCell(document: vscode.TextDocument): Promise<NotebookModels | undefined> {
    const notebook = document.uri.scheme === cellScheme ? notebookOf(document) : undefined;
    return notebook ? this.notebookModels(notebook) : undefined;
  }

  async notebookModels(notebook: vscode.NotebookDocument): Promise<NotebookModels> {
    const { reports, cells, key } = await this.notebookReports(notebook);
    return { reports, cells, notebook, stamp: key };
  }

  /** The module exact mode hands the helper for the notebook's models. */
  async exactModule(notebook: vscode.NotebookDocument): Promise<{ module: NotebookModule | NotebookError; cells: NotebookCell[] }> {
    const { engine, parser } = await this.notebookModules();
    const cells = notebook.getCells().map(cellOf);
    return { module: engine.exactModule(cells, parser, dirname(notebook.uri.fsPath)), cells };
  }

  /** The module a run trains for `target` of the notebook, from its cells as the editor has them (saved or not). */
  async trainingModule(notebook: vscode.NotebookDocument, target: string): Promise<ModelModule | NotebookError> {
    const { engine, parser } = await this.notebookModules();
    return engine.trainingModule(notebook.uri.fsPath, notebook.getCells().map(cellOf), target, parser);
  }

  private notebookReports(notebook: vscode.NotebookDocument): Promise<TrackedNotebook> {
    const cells = notebook.getCells();
    const key = cells.map((c) => `${c.document.uri.toString()}@${c.document.version}:${c.kind}:${c.document.languageId}`).join('\n');
    const uri = notebook.uri.toString();
    let tracked = this.notebooks.get(uri);
    if (tracked && tracked.key === key && !tracked.stale) return Promise.resolve(tracked);
    if (tracked?.asked?.key === key && !tracked.stale) return tracked.asked.answer;
    this.askForModelPackages(cells.map((c) => c.document.getText()).join('\n'));
    if (!tracked) {
      tracked = { reports: [], key: '', cells: [], reads: new Set(), checkpoints: [], stale: false };
      this.notebooks.set(uri, tracked);
    }
    tracked.stale = false;
    const asked = tracked;
    // A saved notebook's `from helpers import …` names the files beside it.
    const path = notebook.uri.scheme === 'file' ? notebook.uri.fsPath : undefined;
    const answer = this.worker.analyseNotebook(uri, path, cells.map(cellOf), this.settings()).then(
      ({ reports, reads, checkpoints }) => Object.assign(asked, { reports, key, cells: cells.map((c) => c.document.uri), reads: new Set(reads), checkpoints }),
      (error: unknown) => {
        this.log.error(`analysing ${vscode.workspace.asRelativePath(notebook.uri)} failed`, error);
        throw error;
      },
    );
    tracked.asked = { key, answer };
    return answer;
  }
}

/** A notebook's models (every range naming its cell), each cell's document by index, and a stamp that changes with any cell. */
export interface NotebookModels {
  reports: readonly NotebookModelReport[];
  cells: vscode.Uri[];
  notebook: vscode.NotebookDocument;
  stamp: string;
}

/** VS Code's scheme for the text document of a notebook cell. */
const cellScheme = 'vscode-notebook-cell';

function notebookOf(document: vscode.TextDocument): vscode.NotebookDocument | undefined {
  return vscode.workspace.notebookDocuments.find((notebook) => notebook.getCells().some((cell) => cell.document === document));
}

/** A cell as the analysis reads it: Python code cells are code; markdown and other languages' cells are not. */
function cellOf(cell: vscode.NotebookCell): NotebookCell {
  const code = cell.kind === vscode.NotebookCellKind.Code && cell.document.languageId === 'python';
  return { kind: code ? 'code' : cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'other', source: cell.document.getText() };
}

/** The model files open in the editor (Python, TypeScript, JavaScript): imports read their unsaved text. */
function* openModelFiles(): Iterable<OpenFile> {
  for (const document of vscode.workspace.textDocuments) {
    if (document.uri.scheme === 'file' && ModelAnalysis.handles(document)) yield { path: document.uri.fsPath, version: document.version, text: () => document.getText() };
  }
}

/** cnnLab.defaultInputShape, "3x32x32": one sample's shape when a model does not say. */
export function defaultInputShape(): number[] {
  const setting = vscode.workspace.getConfiguration('cnnLab').get<string>('defaultInputShape') ?? '';
  const dims = setting.split(/\s*[x×,]\s*/).map(Number);
  return dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0) ? dims : [3, 32, 32];
}
