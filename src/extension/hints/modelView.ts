import * as vscode from 'vscode';
import { explainLayer } from '../../core/analysis/explain';
import type { LayerReport, ModelReport, SourceRange } from '../../core/analysis/report';
import { formatCount, formatModelShapes, formatParams, incompleteLines } from '../../core/analysis/format';
import { formatShape } from '../../core/analysis/shape';
import { Disposable } from '../disposable';
import { ModelAnalysis } from './modelAnalysis';
import { macsSuffix, toRange } from './modelHints';

type Item = { model: ModelReport } | { model: ModelReport; layer: LayerReport };



/**
 * The "Model" view: the active file's models and their layers with shapes, the layer under the
 * cursor selected as the cursor moves, a click taking the editor to the layer.
 */
export class ModelView extends Disposable implements vscode.TreeDataProvider<Item> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Item>;
  private document: vscode.TextDocument | undefined;
  /** When the document is a notebook's cell: every cell's document, by index, for the layers' cells. */
  private cells: vscode.Uri[] | undefined;
  private items: { model: ModelReport; layers: Item[]; item: Item }[] = [];

  constructor(
    private readonly reports: (document: vscode.TextDocument) => Promise<ModelReport[]>,
    private readonly notebookOf: (document: vscode.TextDocument) => Promise<{ reports: readonly ModelReport[]; cells: vscode.Uri[] } | undefined>,
    onDidChange: vscode.Event<vscode.Uri>,
  ) {
    super();
    this.view = this._register(vscode.window.createTreeView('cnnLab.model', { treeDataProvider: this, showCollapseAll: true }));
    this._register(vscode.window.onDidChangeActiveTextEditor(() => void this.refresh()));
    // A notebook's selected cell counts as the active document even when no cell editor has focus.
    this._register(vscode.window.onDidChangeActiveNotebookEditor(() => void this.refresh()));
    this._register(vscode.window.onDidChangeNotebookEditorSelection(() => void this.refresh()));
    this._register(
      onDidChange((uri) => {
        if (uri.toString() === this.document?.uri.toString() || this.cells?.some((cell) => cell.toString() === uri.toString())) void this.refresh();
      }),
    );
    this._register(vscode.window.onDidChangeTextEditorSelection(({ textEditor }) => this.follow(textEditor)));
    this._register(this.view.onDidChangeVisibility(() => void this.refresh()));
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    // The document to show is followed even while the view is hidden, so that it is right when shown.
    // Keep showing the last model file while another kind of editor (a summary, the log) has focus.
    const active = editor?.document ?? selectedCell();
    if (active && ModelAnalysis.handles(active)) this.document = active;
    const document = this.document;
    if (!this.view.visible) return;
    // A notebook's models whole, whichever cell has focus: the view follows the active cell within them.
    const notebook = document && !document.isClosed ? await this.notebookOf(document) : undefined;
    const models = notebook ? notebook.reports : document && !document.isClosed ? await this.reports(document) : [];
    // A later refresh, for another document, has begun meanwhile: what it finds is what the view shows.
    if (document !== this.document) return;
    this.cells = notebook?.cells;
    this.items = models.map((model) => {
      const item: Item = { model };
      return { model, item, layers: model.layers.map((layer) => ({ model, layer })) };
    });
    // With no models the view's welcome content (package.json) says what to open.
    // A cell's uri names its notebook's path (with the cell in its fragment): the view names the notebook.
    this.view.description = document && models.length ? vscode.workspace.asRelativePath(document.uri.fsPath) : '';
    this.changed.fire();
    if (editor) this.follow(editor);
  }

  private follow(editor: vscode.TextEditor): void {
    const cell = this.cells?.findIndex((uri) => uri.toString() === editor.document.uri.toString()) ?? -1;
    if (!this.view.visible || (editor.document !== this.document && cell === -1)) return;
    // The line is what counts: on `self.fc1 = nn.Linear(...)` the cursor is on fc1 wherever it sits.
    const { line } = editor.selection.active;
    const inCell = (range: SourceRange) => !('cell' in range) || range.cell === cell;
    for (const { layers } of this.items) {
      const item = layers.find((i) => 'layer' in i && inCell(i.layer.range) && i.layer.range.start.line <= line && line <= i.layer.range.end.line);
      if (item) {
        void this.view.reveal(item, { select: true, focus: false });
        return;
      }
    }
  }

  getChildren(element?: Item): Item[] {
    if (!element) return this.items.map((i) => i.item);
    if ('layer' in element) return [];
    return this.items.find((i) => i.model === element.model)?.layers ?? [];
  }

  getParent(element: Item): Item | undefined {
    return 'layer' in element ? this.items.find((i) => i.model === element.model)?.item : undefined;
  }

  getTreeItem(element: Item): vscode.TreeItem {
    const { model } = element;
    const uriOf = (range: SourceRange) => ('cell' in range && typeof range.cell === 'number' ? this.cells?.[range.cell] : undefined) ?? this.document?.uri;
    const open = (range: SourceRange): vscode.Command | undefined => {
      const uri = uriOf(range);
      return uri ? { title: 'Go to', command: 'vscode.open', arguments: [uri, { selection: toRange(range) }] } : undefined;
    };
    if (!('layer' in element)) {
      const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Expanded);
      const incomplete = !model.exact && model.complete === false;
      item.description = `${formatModelShapes(model)} · ${formatParams(model)}${macsSuffix(model.totalMacs)}${model.exact ? ' · exact' : ''}${incomplete ? ' · incomplete' : ''}`;
      item.iconPath = new vscode.ThemeIcon(model.diagnostics.some((d) => d.severity === 'error') ? 'error' : incomplete ? 'question' : 'symbol-class');
      item.tooltip = [...model.diagnostics.map((d) => d.message), ...(incomplete ? ['Incomplete: not followed by the static analysis', ...incompleteLines(model, 8)] : [])].join('\n') || [`Input from ${model.inputSource}`, ...costs(model)].join('\n');
      const command = open(model.range);
      if (command) item.command = command;
      return item;
    }
    const { layer } = element;
    const item = new vscode.TreeItem(layer.name, vscode.TreeItemCollapsibleState.None);
    item.description = `${layer.type} · ${layer.out ? formatShape(layer.out) : '?'}${layer.params ? ` · ${formatCount(layer.params)}` : ''}${macsSuffix(layer.macs)}`;
    item.iconPath = new vscode.ThemeIcon(layer.error ? 'error' : layer.out ? 'symbol-field' : 'question');
    item.tooltip = new vscode.MarkdownString([...explainLayer(layer), ...(layer.error ? [`⚠ ${layer.error}`] : [])].join('  \n'));
    const command = open(layer.range);
    if (command) item.command = command;
    return item;
  }
}

/** The code cell selected in the active notebook editor: the active document when no cell is being edited. */
function selectedCell(): vscode.TextDocument | undefined {
  const editor = vscode.window.activeNotebookEditor;
  if (!editor || editor.selection.isEmpty) return undefined;
  const cell = editor.notebook.cellAt(editor.selection.start);
  return cell.kind === vscode.NotebookCellKind.Code ? cell.document : undefined;
}

/** The exact totals, for the model's tooltip: the description has the rounded MACs. */
function costs(model: ModelReport): string[] {
  return [
    ...(typeof model.totalMacs === 'number' ? [`${formatCount(model.totalMacs)} multiply-accumulates per forward pass`] : []),
    ...(typeof model.activationBytes === 'number' ? [`${(model.activationBytes / 1e6).toFixed(2)} MB of layer outputs (float32)`] : []),
  ];
}
