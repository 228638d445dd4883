import * as vscode from 'vscode';
import { AnalysisCache, analyzeTree } from '../../core/analysis/analyze';
import { diskReader, FileImports, type SourceReader } from '../../core/analysis/imports';
import type { ModelReport } from '../../core/analysis/report';
import { DocumentTree, type Grammars, type LanguageId, loadGrammars, type TextChange } from '../../core/analysis/syntax';
import { Disposable } from '../disposable';
import type { Log } from '../log';

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
  private grammars: Promise<Grammars> | undefined;
  private readonly documents = new Map<string, Tracked>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires when a document's models may have changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly parsersDir: string,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeTextDocument(({ document, contentChanges }) => {
        if (contentChanges.length === 0) return;
        for (const [uri, other] of this.documents) {
          if (document.uri.scheme !== 'file' || !other.imports?.reads(document.uri.fsPath)) continue;
          other.stale = true;
          this.changed.fire(vscode.Uri.parse(uri));
        }
        const tracked = this.documents.get(document.uri.toString());
        if (!tracked) return;
        tracked.pending.push(...contentChanges.map(({ rangeOffset, rangeLength, text }) => ({ rangeOffset, rangeLength, text })));
        this.changed.fire(document.uri);
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
      }),
    );
    this._register({
      dispose: () =>
        this.documents.forEach((t) => {
          t.tree.dispose();
          t.imports?.dispose();
        }),
    });
  }

  /** The documents with models: PyTorch in Python, TF.js in TypeScript and JavaScript. */
  static readonly languages: Record<string, LanguageId> = { python: 'python', typescript: 'typescript', javascript: 'typescript' };

  static handles(document: vscode.TextDocument): boolean {
    return Object.hasOwn(ModelAnalysis.languages, document.languageId);
  }

  async reports(document: vscode.TextDocument): Promise<ModelReport[]> {
    const language = ModelAnalysis.languages[document.languageId];
    if (!language) return [];
    this.grammars ??= loadGrammars(this.parsersDir).catch((error: unknown) => {
      this.log.error('loading the Python grammar failed', error);
      throw error;
    });
    const grammars = await this.grammars;
    const key = document.uri.toString();
    let tracked = this.documents.get(key);
    if (tracked && tracked.version === document.version && !tracked.stale) return tracked.reports;
    if (!tracked) {
      const imports = language === 'python' && document.uri.scheme === 'file' ? new FileImports(grammars.parser(language), document.uri.fsPath, editorReader) : undefined;
      tracked = { tree: new DocumentTree(grammars.parser(language)), cache: new AnalysisCache(), imports, pending: [], version: -1, stale: false, reports: [] };
      this.documents.set(key, tracked);
    }
    const changes = tracked.version === -1 && tracked.pending.length === 0 ? undefined : tracked.pending.splice(0);
    const tree = tracked.tree.update(document.getText(), changes);
    tracked.reports = analyzeTree(tree, { defaultInput: defaultInputShape(), ...(tracked.imports ? { imports: tracked.imports } : {}) }, tracked.cache, language);
    tracked.version = document.version;
    tracked.stale = false;
    return tracked.reports;
  }
}

/** An imported file as the editor has it, unsaved changes included, else as saved. */
const editorReader: SourceReader = {
  read(path) {
    const open = openDocument(path);
    return open ? { text: open.getText(), version: `editor:${open.version}` } : diskReader.read(path);
  },
  version(path) {
    const open = openDocument(path);
    return open ? `editor:${open.version}` : diskReader.version(path);
  },
};

function openDocument(path: string): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
}

/** cnnLab.defaultInputShape, "3x32x32": one sample's shape when a model does not say. */
export function defaultInputShape(): number[] {
  const setting = vscode.workspace.getConfiguration('cnnLab').get<string>('defaultInputShape') ?? '';
  const dims = setting.split(/\s*[x×,]\s*/).map(Number);
  return dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0) ? dims : [3, 32, 32];
}
