import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisCache } from '../../core/analysis/analyze';
import type * as AnalysisEngine from '../../core/analysis/engine';
import type { FileImports, SourceReader } from '../../core/analysis/imports';
import type { ModelReport } from '../../core/analysis/report';
import type { NotebookAnalysis, NotebookCell, NotebookError, NotebookModelReport } from '../../core/analysis/notebook';
import type { NotebookModule } from '../../core/analysis/notebookModule';
import type { DocumentTree, LanguageId, Parser, TextChange } from '../../core/analysis/syntax';
import type { ModelModule } from '../../core/training/trainingRun';
import { Disposable } from '../disposable';
import type { Log } from '../log';

/** A notebook open in the editor: its cells analysed as one program (notebook.ts), each cell shown its part. */
interface TrackedNotebook {
  analysis: NotebookAnalysis;
  imports: FileImports | undefined;
  /** The cells' documents and versions when last analysed: the analysis is current while this holds. */
  key: string;
  /** Each cell's document, by index in the notebook (markdown cells too). */
  cells: vscode.Uri[];
  stale: boolean;
}

interface Tracked {
  tree: DocumentTree;
  cache: AnalysisCache;
  /** The files its `from … import …` statements name, for a document saved on disk. */
  imports: FileImports | undefined;
  /** Changes since the tree last saw the text, applied incrementally on the next analysis. */
  pending: TextChange[];
  version: number;
  /** A file it imports changed since its reports were made. */
  stale: boolean;
  reports: ModelReport[];
}

/**
 * The models of every open model document, re-analysed on each change: tree-sitter re-parses
 * only what changed, and only the models the change touched are analysed again.
 */
export class ModelAnalysis extends Disposable {
  private engine: Promise<typeof AnalysisEngine> | undefined;
  private readonly parsers = new Map<LanguageId, Promise<{ engine: typeof AnalysisEngine; parser: Parser }>>();
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
    // The grammar loads while VS Code waits before it asks for lenses (a quarter second): the first file's come sooner.
    const prefetch = (document: vscode.TextDocument) => {
      const language = ModelAnalysis.languages[document.languageId];
      if (language) void this.parser(language).catch(() => undefined);
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
          if (document.uri.scheme !== 'file' || !other.imports?.reads(document.uri.fsPath)) continue;
          other.stale = true;
          this.changed.fire(vscode.Uri.parse(uri));
        }
        for (const [uri, notebook] of this.notebooks) {
          if (document.uri.scheme === 'file' && notebook.imports?.reads(document.uri.fsPath)) this.notebookChanged(vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri));
        }
        if (document.uri.scheme === cellScheme) return this.notebookChanged(notebookOf(document));
        const tracked = this.documents.get(document.uri.toString());
        if (!tracked) return;
        tracked.pending.push(...contentChanges.map(({ rangeOffset, rangeLength, text }) => ({ rangeOffset, rangeLength, text })));
        this.changed.fire(document.uri);
      }),
    );
    this._register(
      vscode.workspace.onDidChangeNotebookDocument(({ notebook, contentChanges }) => {
        // Cells added, removed or moved: every cell may show other numbers (its text changes come as text document changes).
        if (contentChanges.length > 0) this.notebookChanged(notebook);
      }),
    );
    this._register(
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        const tracked = this.notebooks.get(notebook.uri.toString());
        tracked?.analysis.dispose();
        tracked?.imports?.dispose();
        this.notebooks.delete(notebook.uri.toString());
      }),
    );
    this._register(
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.documents.get(document.uri.toString())?.tree.dispose();
        this.documents.get(document.uri.toString())?.imports?.dispose();
        this.documents.delete(document.uri.toString());
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
    this._register({ dispose: () => this.forgetAll() });
  }

  private forgetAll(): void {
    for (const tracked of [...this.documents.values(), ...this.notebooks.values()]) {
      if ('tree' in tracked) tracked.tree.dispose();
      else tracked.analysis.dispose();
      tracked.imports?.dispose();
    }
    this.documents.clear();
    this.notebooks.clear();
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
   * The language's parser with the analysis engine, both loaded once; a failure is logged and given
   * to every caller. The engine is a bundle of its own (engine.ts), two thirds of the extension's
   * code: activation does not load it.
   */
  private parser(language: LanguageId): Promise<{ engine: typeof AnalysisEngine; parser: Parser }> {
    let loaded = this.parsers.get(language);
    if (!loaded) {
      this.engine ??= Promise.resolve().then(() => createRequire(__filename)(join(this.distDir, 'analysis.js')) as typeof AnalysisEngine);
      loaded = this.engine.then(async (engine) => ({ engine, parser: await engine.loadParser(join(this.distDir, 'parsers'), language) }));
      loaded.catch((error: unknown) => this.log.error(`loading the ${language} grammar failed`, error));
      this.parsers.set(language, loaded);
    }
    return loaded;
  }

  /** A file's models; a notebook cell's, those of the notebook's program the cell defines or holds layers of. */
  async reports(document: vscode.TextDocument): Promise<ModelReport[]> {
    const language = ModelAnalysis.languages[document.languageId];
    if (!language) return [];
    if (document.uri.scheme === cellScheme) {
      const notebook = notebookOf(document);
      const cell = notebook?.getCells().find((c) => c.document === document);
      return notebook && cell && language === 'python' ? (await this.notebookReports(notebook)).analysis.modelsInCell(cell.index) : [];
    }
    const { engine, parser } = await this.parser(language);
    const key = document.uri.toString();
    let tracked = this.documents.get(key);
    if (tracked && tracked.version === document.version && !tracked.stale) return tracked.reports;
    if (!tracked) {
      const imports = language === 'python' && document.uri.scheme === 'file' ? new engine.FileImports(parser, document.uri.fsPath, editorReader(engine), undefined, () => this.modelPackages) : undefined;
      tracked = { tree: new engine.DocumentTree(parser), cache: new engine.AnalysisCache(), imports, pending: [], version: -1, stale: false, reports: [] };
      this.documents.set(key, tracked);
    }
    const changes = tracked.version === -1 && tracked.pending.length === 0 ? undefined : tracked.pending.splice(0);
    const text = document.getText();
    if (language === 'python') this.askForModelPackages(text);
    const tree = tracked.tree.update(text, changes);
    tracked.reports = engine.analyzeTree(tree, { defaultInput: defaultInputShape(), ...(tracked.imports ? { imports: tracked.imports } : {}) }, tracked.cache, language);
    tracked.version = document.version;
    tracked.stale = false;
    return tracked.reports;
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
    const { analysis, cells, key } = await this.notebookReports(notebook);
    return { reports: analysis.reports, cells, notebook, stamp: key };
  }

  /** The module exact mode hands the helper for the notebook's models. */
  async exactModule(notebook: vscode.NotebookDocument): Promise<{ module: NotebookModule | NotebookError; cells: NotebookCell[] }> {
    const { engine, parser } = await this.parser('python');
    const cells = notebook.getCells().map(cellOf);
    return { module: engine.exactModule(cells, parser, dirname(notebook.uri.fsPath)), cells };
  }

  /** The module a run trains for `target` of the notebook, from its cells as the editor has them (saved or not). */
  async trainingModule(notebook: vscode.NotebookDocument, target: string): Promise<ModelModule | NotebookError> {
    const { engine, parser } = await this.parser('python');
    return engine.trainingModule(notebook.uri.fsPath, notebook.getCells().map(cellOf), target, parser);
  }

  private async notebookReports(notebook: vscode.NotebookDocument): Promise<TrackedNotebook> {
    const { engine, parser } = await this.parser('python');
    const cells = notebook.getCells();
    this.askForModelPackages(cells.map((c) => c.document.getText()).join('\n'));
    const key = cells.map((c) => `${c.document.uri.toString()}@${c.document.version}:${c.kind}:${c.document.languageId}`).join('\n');
    let tracked = this.notebooks.get(notebook.uri.toString());
    if (tracked && tracked.key === key && !tracked.stale) return tracked;
    if (!tracked) {
      // A saved notebook's `from helpers import …` names the files beside it.
      const imports = notebook.uri.scheme === 'file' ? new engine.FileImports(parser, notebook.uri.fsPath, editorReader(engine), undefined, () => this.modelPackages) : undefined;
      tracked = { analysis: new engine.NotebookAnalysis(parser), imports, key: '', cells: [], stale: false };
      this.notebooks.set(notebook.uri.toString(), tracked);
    }
    tracked.analysis.update(cells.map(cellOf), { defaultInput: defaultInputShape(), ...(tracked.imports ? { imports: tracked.imports } : {}) });
    tracked.key = key;
    tracked.cells = cells.map((c) => c.document.uri);
    tracked.stale = false;
    return tracked;
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

/** An imported file as the editor has it, unsaved changes included, else as saved. */
const editorReader = ({ diskReader }: typeof AnalysisEngine): SourceReader => ({
  read(path) {
    const open = openDocument(path);
    return open ? { text: open.getText(), version: `editor:${open.version}` } : diskReader.read(path);
  },
  version(path) {
    const open = openDocument(path);
    return open ? `editor:${open.version}` : diskReader.version(path);
  },
});

function openDocument(path: string): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
}

/** cnnLab.defaultInputShape, "3x32x32": one sample's shape when a model does not say. */
export function defaultInputShape(): number[] {
  const setting = vscode.workspace.getConfiguration('cnnLab').get<string>('defaultInputShape') ?? '';
  const dims = setting.split(/\s*[x×,]\s*/).map(Number);
  return dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0) ? dims : [3, 32, 32];
}
