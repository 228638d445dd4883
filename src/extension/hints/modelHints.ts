import { basename } from 'node:path';
import * as vscode from 'vscode';
import { explainLayer } from '../../core/analysis/explain';
import { formatCompact, formatCount, formatModelShapes, formatParams, formatSummaryTable, incompleteLines, incompleteNote, paramsMegabytes } from '../../core/analysis/format';
import { diffModels, formatModelDiff, type ModelDiff } from '../../core/analysis/modelDiff';
import { formatStateDictTable, type StateDictTable } from '../../core/checkpoints/stateDictCheck';
import { type AnalysisDiagnostic, type LayerReport, type ModelReport, type SourceRange, trainableByName } from '../../core/analysis/report';
import type { NotebookModelReport } from '../../core/analysis/notebook';
import { cellView } from '../../core/analysis/notebookView';
import { formatShape } from '../../core/analysis/shape';
import { Disposable } from '../disposable';
import { TextViews } from '../textViews';
import type { Log } from '../log';
import type { ExactMode } from './exactMode';
import { defaultInputShape, ModelAnalysis } from './modelAnalysis';

const selector: vscode.DocumentSelector = Object.keys(ModelAnalysis.languages).map((language) => ({ language }));
const summaryScheme = 'cnnlab-summary';

export function toRange(range: SourceRange): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

const severities: Record<AnalysisDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};


/**
 * What a model file shows while it is written: CodeLenses with shapes and parameter counts,
 * diagnostics with quick fixes, the arithmetic on hover, and the model summary.
 */
export class ModelHints extends Disposable implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.CodeActionProvider {
  private readonly lensesChanged = this._register(new vscode.EventEmitter<void>());
  private readonly reportsChanged = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires when a document's reports may have changed, statically or by exact mode. */
  readonly onDidChangeReports = this.reportsChanged.event;
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection('cnn-lab'));
  private readonly summaries = this._register(new TextViews(summaryScheme));
  private readonly pendingDiagnostics = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly analysis: ModelAnalysis,
    private readonly exact: ExactMode,
    private readonly log: Log,
  ) {
    super();
    this._register(vscode.languages.registerCodeLensProvider(selector, this));
    this._register(vscode.languages.registerHoverProvider(selector, this));
    this._register(vscode.languages.registerCodeActionsProvider(selector, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
    for (const source of [analysis.onDidChange, exact.onDidChange]) {
      this._register(
        source((uri) => {
          this.lensesChanged.fire();
          this.reportsChanged.fire(uri);
          this.scheduleDiagnostics(uri);
        }),
      );
    }
    this._register(vscode.workspace.onDidOpenTextDocument((document) => this.scheduleDiagnostics(document.uri)));
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.diagnostics.delete(document.uri)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('cnnLab.hints')) this.lensesChanged.fire();
      }),
    );
    this._register({ dispose: () => this.pendingDiagnostics.forEach(clearTimeout) });
    for (const document of vscode.workspace.textDocuments) this.scheduleDiagnostics(document.uri);
  }

  /** Diagnostics follow typing after a short pause, so a half-typed number does not flash red. */
  private scheduleDiagnostics(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.pendingDiagnostics.get(key));
    this.pendingDiagnostics.set(
      key,
      setTimeout(() => {
        this.pendingDiagnostics.delete(key);
        const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
        if (!document || !ModelAnalysis.handles(document)) return;
        this.diagnosticsOf(document).then(
          (diagnostics) => this.diagnostics.set(uri, diagnostics),
          (error: unknown) => this.log.error(`analysing ${uri.fsPath} failed`, error),
        );
      }, 150),
    );
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const config = vscode.workspace.getConfiguration('cnnLab.hints');
    const models = await this.reports(document);
    const lenses: vscode.CodeLens[] = [];
    for (const model of models) {
      if (config.get<boolean>('modelLens', true) && !model.definedElsewhere) {
        const shapes = formatModelShapes(model);
        const note = model.exact ? undefined : incompleteNote(model);
        const leftOut = model.exactLeftOut ?? [];
        const notRun = leftOut.length ? ` (${leftOut.length} top-level statement${leftOut.length === 1 ? '' : 's'} not run)` : '';
        const title = `${shapes} · ${formatParams(model)} · ${model.paramsKnown === false ? '≥ ' : ''}${paramsMegabytes(model.totalParams).toFixed(2)} MB${macsSuffix(model.totalMacs)}${model.exact ? ` · exact${notRun}` : ''}${note ? ` · ${note}` : ''}`;
        const source = model.exact ? 'PyTorch ran what builds it in the saved file' : 'the static analysis';
        const unknowns = model.exact ? [] : incompleteLines(model, 8);
        const skipped = leftOut.length ? `\nNot run (exact mode runs only what builds the model):\n${leftOut.slice(0, 8).map((l) => `line ${l.line}: ${l.text}`).join('\n')}${leftOut.length > 8 ? `\n… and ${leftOut.length - 8} more` : ''}` : '';
        const tooltip = `Input from ${model.inputSource}; shapes from ${source}.${unknowns.length ? `\nNot followed, so not known:\n${unknowns.join('\n')}` : ''}${skipped}\nClick for the summary.`;
        lenses.push(new vscode.CodeLens(toRange(model.range), { title, command: 'cnnLab.showModelSummary', arguments: [document.uri, model.name], tooltip }));
        if (trainableByName(model)) {
          lenses.push(new vscode.CodeLens(toRange(model.range), { title: '$(play) Train…', command: 'cnnLab.trainModel', arguments: [document.uri, model.name], tooltip: `Train ${model.name} (CNN Lab: Train Model…)` }));
        }
      }
    }
    if (config.get<boolean>('layerLens', true)) lenses.push(...layerLenses(models));
    return lenses;
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    // On a load_state_dict call: whether the checkpoint it names loads into the model.
    const finding = (await this.analysis.checkpointFindings(document)).find((f) => toRange(f.range).contains(position));
    if (finding) {
      const text = new vscode.MarkdownString();
      text.appendMarkdown(`**${finding.diagnostic ? 'Will not load' : 'Checkpoint'}** — ${finding.file ? vscode.workspace.asRelativePath(finding.file) : 'not found'}\n\n`);
      text.appendCodeblock(finding.hover, 'text');
      return new vscode.Hover(text, toRange(finding.range));
    }
    const models = await this.reports(document);
    // A layer with a known shape first: a block's conv as the ResNet that uses it builds it.
    const layers = models.flatMap((m) => m.layers).filter((l) => toRange(l.range).contains(position));
    const layer = layers.find((l) => l.out !== null) ?? layers[0];
    if (layer) return new vscode.Hover(new vscode.MarkdownString(explainLayer(layer).join('  \n')), toRange(layer.range));
    // On a model's name, or on a line the analysis could not follow: what is not known, and why.
    const model = models.find((m) => !m.exact && m.complete === false && !m.definedElsewhere && toRange(m.range).contains(position));
    const lost = models.filter((m) => !m.exact && m.complete === false).flatMap((m) => (m.incomplete ?? []).filter((i) => !i.elsewhere && toRange(i.range).contains(position)).map((i) => ({ model: m, item: i })));
    if (model) return new vscode.Hover(incompleteHover(model, incompleteLines(model, 12)), toRange(model.range));
    const [first] = lost;
    if (!first) return undefined;
    const text = new vscode.MarkdownString();
    text.appendMarkdown(`**Not followed by the static analysis** — ${[...new Set(lost.map((l) => l.model.name))].join(', ')} ${lost.length > 1 ? 'are' : 'is'} incomplete here:\n\n`);
    text.appendCodeblock(lost.map(({ item }) => item.reason).join('\n'), 'text');
    return new vscode.Hover(text, toRange(first.item.range));
  }

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range): Promise<vscode.CodeAction[]> {
    const models = await this.reports(document);
    const checkpoints = (await this.analysis.checkpointFindings(document)).flatMap((f) => (f.diagnostic ? [f.diagnostic] : []));
    const actions = quickFixes(document, [...models.flatMap((m) => m.diagnostics), ...checkpoints], range);
    for (const model of models) {
      if (model.inputSource !== 'annotation' && !model.definedElsewhere && toRange(model.range).intersection(range)) {
        const line = model.extent.start.line;
        const indent = document.lineAt(line).text.match(/^\s*/)?.[0] ?? '';
        const annotation = `${document.languageId === 'python' ? '#' : '//'} cnnlab: input ${model.input.slice(1).join('x')}`;
        const action = new vscode.CodeAction(`Annotate the input shape (${annotation})`, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.insert(document.uri, new vscode.Position(line, 0), `${indent}${annotation}\n`);
        actions.push(action);
      }
    }
    return actions;
  }

  /** The document's diagnostics; a place one names in another cell of its notebook opens that cell. */
  private async diagnosticsOf(document: vscode.TextDocument): Promise<vscode.Diagnostic[]> {
    const cells = (await this.notebookOf(document))?.cells;
    const uriOf = (range: SourceRange) => ('cell' in range && typeof range.cell === 'number' ? cells?.[range.cell] : undefined) ?? document.uri;
    const checkpoints = (await this.analysis.checkpointFindings(document)).flatMap((f) => (f.diagnostic ? [f.diagnostic] : []));
    return [...(await this.reports(document)).flatMap((m) => m.diagnostics), ...checkpoints].map((d) => toDiagnostic(d, uriOf));
  }

  /** The static reports with exact mode's results applied where they are current; for a notebook's cell, what the cell shows of them. */
  async reports(document: vscode.TextDocument): Promise<ModelReport[]> {
    const notebook = await this.notebookOf(document);
    if (notebook) return cellView(notebook.reports, notebook.cells.findIndex((uri) => uri.toString() === document.uri.toString()));
    return this.exact.apply(document, await this.analysis.reports(document));
  }

  /** For a notebook's cell: the notebook's models whole, exact where PyTorch ran them, and each cell's document. */
  async notebookOf(document: vscode.TextDocument): Promise<{ reports: NotebookModelReport[]; cells: vscode.Uri[] } | undefined> {
    const notebook = await this.analysis.notebookOfCell(document);
    return notebook && { reports: this.exact.applyNotebook(notebook), cells: notebook.cells };
  }

  /** The summary of the model named `name` (or the one under the cursor), as a read-only document. */
  async showSummary(uri?: vscode.Uri, name?: string): Promise<ModelReport | undefined> {
    const editor = vscode.window.activeTextEditor;
    const document = uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
    if (!document || !ModelAnalysis.handles(document)) {
      void vscode.window.showInformationMessage('CNN Lab: open a PyTorch or TF.js model file to see its summary.');
      return undefined;
    }
    // In a notebook, the whole model, whichever cells its layers are in.
    const notebook = await this.notebookOf(document);
    const cell = notebook?.cells.findIndex((uri) => uri.toString() === document.uri.toString());
    const models: readonly ModelReport[] = notebook ? notebook.reports : await this.reports(document);
    const cursor = editor?.document === document ? editor.selection.active : undefined;
    const here = (m: ModelReport) => cursor !== undefined && toRange(m.extent).contains(cursor) && (!('cell' in m.extent) || m.extent.cell === cell);
    const model = models.find((m) => m.name === name) ?? models.find(here) ?? models[0];
    if (!model) {
      void vscode.window.showInformationMessage(`CNN Lab: no model found in ${vscode.workspace.asRelativePath(document.uri)}.`);
      return undefined;
    }
    await this.summaries.show(`/${model.name} summary`, document.uri.toString(), `${formatSummaryTable(model)}\n\nDefault input for models that do not say: ${defaultInputShape().join('x')} (cnnLab.defaultInputShape)\n`);
    return model;
  }

  /**
   * Two models side by side (Compare Models…): A is the given one, else the active editor's model at
   * the cursor; B is the given one, else picked from the workspace's model files. Shown as text
   * beside the editor, as the summary is, marks saying what changed (~), went (-) and came (+).
   */
  async compareModels(leftUri?: vscode.Uri, leftName?: string, rightUri?: vscode.Uri, rightName?: string): Promise<ModelDiff | undefined> {
    const left = await this.pickModel(leftUri ?? vscode.window.activeTextEditor?.document.uri, leftName, 'Compare which model?');
    if (!left) return undefined;
    let right = rightUri ? await this.pickModel(rightUri, rightName, `Compare ${left.model.name} with which model?`) : undefined;
    if (!rightUri) {
      const files = await vscode.workspace.findFiles('**/*.{py,ts,js}', '{**/node_modules/**,**/.*/**,**/dist/**}', 2000);
      const picked = await vscode.window.showQuickPick(
        files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })).sort((a, b) => a.label.localeCompare(b.label)),
        { title: `Compare ${left.model.name} with a model in which file?`, matchOnDescription: true },
      );
      if (!picked) return undefined;
      right = await this.pickModel(picked.uri, undefined, `Compare ${left.model.name} with which model in ${picked.label}?`);
    }
    if (!right) return undefined;
    const diff = diffModels(left.model, right.model);
    const title = (side: { model: ModelReport; uri: vscode.Uri }) => `${side.model.name} in ${vscode.workspace.asRelativePath(side.uri)}`;
    await this.summaries.show(`/${left.model.name} vs ${right.model.name}`, `${left.uri.toString()}|${right.uri.toString()}`, `${formatModelDiff(diff, title(left), title(right))}\n\nMarks: ~ changed, - only in A, + only in B. Layers pair by qualified name, then by order and kind.\n`);
    return diff;
  }

  /**
   * Check Against Model… on a checkpoint: a model of the workspace (the given one, else picked)
   * against it, key by key, as load_state_dict(strict=True) compares them (a TF.js model.json: in
   * order, as model.setWeights does), beside the editor.
   */
  async checkCheckpoint(checkpoint: string, modelUri?: vscode.Uri, modelName?: string): Promise<StateDictTable | undefined> {
    let uri = modelUri;
    if (!uri) {
      // A .pt against a PyTorch model, a model.json against a TF.js one.
      const files = await vscode.workspace.findFiles(checkpoint.endsWith('.json') ? '**/*.{js,ts}' : '**/*.py', '{**/node_modules/**,**/.*/**,**/dist/**}', 2000);
      const picked = await vscode.window.showQuickPick(files.map((file) => ({ label: vscode.workspace.asRelativePath(file), uri: file })).sort((a, b) => a.label.localeCompare(b.label)), {
        title: `Check ${basename(checkpoint)} against a model in which file?`,
      });
      uri = picked?.uri;
    }
    const side = uri && (await this.pickModel(uri, modelName, `Check ${basename(checkpoint)} against which model?`));
    if (!side) return undefined;
    const table = await this.tableFor(side.uri, side.model.name, checkpoint);
    if (!table) return undefined;
    await this.showTable(table, side.uri, side.model.name, checkpoint);
    return table;
  }

  /** A model against a checkpoint key by key, or undefined (said to the user) when the checkpoint or the model cannot be read. */
  private async tableFor(uri: vscode.Uri, model: string, checkpoint: string): Promise<StateDictTable | undefined> {
    try {
      return await this.analysis.stateDictTable(await vscode.workspace.openTextDocument(uri), model, checkpoint);
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * Why the model in `modelFile` as the editor has it now cannot load a checkpoint, its table shown
   * beside; undefined when it loads, or when the analysis does not know (then PyTorch decides).
   */
  async loadRefusal(modelFile: string, model: string, checkpoint: string): Promise<string | undefined> {
    if (!/\.(py|js|ts)$/.test(modelFile)) return undefined;
    const uri = vscode.Uri.file(modelFile);
    let table: StateDictTable;
    try {
      table = await this.analysis.stateDictTable(await vscode.workspace.openTextDocument(uri), model, checkpoint);
    } catch (error) {
      this.log.warn(`checking ${basename(checkpoint)} against ${model} before loading it: ${(error as Error).message}`);
      return undefined;
    }
    if (!table.check.known || table.check.loads) return undefined;
    await this.showTable(table, uri, model, checkpoint);
    const differing = table.rows.filter((r) => r.status === 'missing' || r.status === 'unexpected' || r.status === 'size mismatch');
    const [first] = differing;
    const shape = (s: readonly number[] | null) => (s ? `[${s.join(', ')}]` : 'absent');
    return `${model} in ${vscode.workspace.asRelativePath(uri)} as it is now cannot load ${basename(checkpoint)}: ${differing.length} of its keys differ${first ? ` (${first.key}: ${shape(first.checkpoint)} in the checkpoint, ${shape(first.model)} in the model)` : ''}. The report beside lists each; change the model back, or train it again.`;
  }

  /** Shows a model-against-checkpoint table beside the editor (Check Against Model…, the inspector's refusal). */
  private async showTable(table: StateDictTable, uri: vscode.Uri, model: string, checkpoint: string): Promise<void> {
    const text = formatStateDictTable(table, `${model} in ${vscode.workspace.asRelativePath(uri)}`, vscode.workspace.asRelativePath(checkpoint));
    await this.summaries.show(`/${model} vs ${basename(checkpoint)}`, `${uri.toString()}|${checkpoint}`, text);
  }

  /** A model of a file: the one named, the file's only one, or one the user picks (the model at the cursor first). */
  private async pickModel(uri: vscode.Uri | undefined, name: string | undefined, title: string): Promise<{ model: ModelReport; uri: vscode.Uri } | undefined> {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : undefined;
    if (!document || !ModelAnalysis.handles(document)) {
      void vscode.window.showInformationMessage('CNN Lab: open a PyTorch or TF.js model file to compare its model with another.');
      return undefined;
    }
    const models = (await this.reports(document)).filter((m) => !m.definedElsewhere);
    const named = models.find((m) => m.name === name);
    if (named || (name === undefined && models.length === 1)) return { model: named ?? (models[0] as ModelReport), uri: document.uri };
    if (models.length === 0 || name !== undefined) {
      void vscode.window.showInformationMessage(`CNN Lab: ${vscode.workspace.asRelativePath(document.uri)} has ${name !== undefined ? `no model ${name}` : 'no models'}.`);
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    const cursor = editor?.document === document ? editor.selection.active : undefined;
    const ordered = [...models].sort((a, b) => Number(cursor !== undefined && toRange(b.extent).contains(cursor)) - Number(cursor !== undefined && toRange(a.extent).contains(cursor)));
    const picked = await vscode.window.showQuickPick(ordered.map((model) => ({ label: model.name, description: `${formatCount(model.totalParams)} parameters · ${model.layers.length} layers`, model })), { title });
    return picked && { model: picked.model, uri: document.uri };
  }
}

/** The quick fixes of the diagnostics at a range: each one certain edit. */
function quickFixes(document: vscode.TextDocument, diagnostics: readonly AnalysisDiagnostic[], range: vscode.Range): vscode.CodeAction[] {
  return diagnostics.flatMap((diagnostic) => {
    if (!diagnostic.fix || !toRange(diagnostic.range).intersection(range)) return [];
    const action = new vscode.CodeAction(diagnostic.fix.title, vscode.CodeActionKind.QuickFix);
    action.edit = new vscode.WorkspaceEdit();
    action.edit.replace(document.uri, toRange(diagnostic.fix.range), diagnostic.fix.newText);
    action.diagnostics = [toDiagnostic(diagnostic)];
    action.isPreferred = true;
    return [action];
  });
}

/** " · 3.32 M MACs", or nothing for a layer that multiplies no weights or a count that is unknown. */
export function macsSuffix(macs: number | null | undefined): string {
  return macs ? ` · ${formatCompact(macs)} MACs` : '';
}

function toDiagnostic(diagnostic: AnalysisDiagnostic, uriOf?: (range: SourceRange) => vscode.Uri): vscode.Diagnostic {
  const result = new vscode.Diagnostic(toRange(diagnostic.range), diagnostic.message, severities[diagnostic.severity]);
  result.source = 'CNN Lab';
  if (uriOf && diagnostic.related) result.relatedInformation = diagnostic.related.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(uriOf(r.range), toRange(r.range)), r.message));
  return result;
}

/**
 * One lens per line. A line that builds several layers (a block's conv built once per block, or
 * a call into an imported file) gets one lens naming the first and the last with the count; the
 * layers come from the model whose class holds the line when it knows their shapes, else from the
 * first model that does (a BasicBlock's lines show the ResNet's numbers), else from any that can be built.
 */
function layerLenses(reports: ModelReport[]): vscode.CodeLens[] {
  // A class built with arguments nothing gives has layers of guesswork (a loop over an unknown list ran no times): its own lens says what it needs.
  const models = reports.filter((m) => !(m.kind === 'class' && m.build === undefined));
  const byLine = new Map<number, { model: ModelReport; layers: LayerReport[] }>();
  const on = (model: ModelReport, line: number) => model.layers.filter((l) => l.range.start.line === line && l.name !== '');
  const holds = (model: ModelReport, line: number) => !model.definedElsewhere && model.extent.start.line <= line && line <= model.extent.end.line;
  const knows = (model: ModelReport, line: number) => on(model, line).some((l) => l.out !== null);
  const owner = (line: number) =>
    models.find((m) => holds(m, line) && knows(m, line)) ?? models.find((m) => knows(m, line)) ?? models.find((m) => on(m, line).length > 0);
  for (const model of models) {
    for (const layer of model.layers) {
      // A model that is itself its only layer (a Conv2d subclass) has its lens already.
      if (layer.name === '') continue;
      const line = layer.range.start.line;
      const entry = byLine.get(line);
      if (!entry) byLine.set(line, { model: owner(line) ?? model, layers: [] });
      const chosen = byLine.get(line);
      if (chosen?.model === model) chosen.layers.push(layer);
    }
  }
  const lenses: vscode.CodeLens[] = [];
  for (const { layers } of byLine.values()) {
    const [first] = layers;
    const last = layers.at(-1);
    if (!first || !last) continue;
    const error = layers.find((l) => l.error)?.error;
    const shape = (layer: LayerReport) => (layer.out ? formatShape(layer.out) : `? ${layer.note ?? ''}`.trim());
    const params = layers.reduce((sum, l) => sum + l.params, 0);
    const macs = layers.some((l) => l.macs === null || l.macs === undefined) ? null : layers.reduce((sum, l) => sum + (l.macs ?? 0), 0);
    const what = layers.length === 1 ? `${first.name} → ${shape(first)}` : `${first.name} … ${last.name} (${layers.length} layers) → ${shape(first)} … ${shape(last)}`;
    const title = `${error ? '⚠ ' : ''}${what}${params ? ` · ${formatCount(params)} params` : ''}${macsSuffix(macs)}`;
    const tooltip = layers.length === 1 ? error : layers.slice(0, 40).map((l) => `${l.name}: ${shape(l)}`).join('\n') + (layers.length > 40 ? `\n… ${layers.length - 40} more` : '');
    lenses.push(new vscode.CodeLens(toRange(first.range), { title, command: '', ...(tooltip ? { tooltip } : {}) }));
  }
  return lenses;
}

/** The hover on an incomplete model's name: its totals as lower bounds, and each thing not followed with its line. */
function incompleteHover(model: ModelReport, lines: string[]): vscode.MarkdownString {
  const text = new vscode.MarkdownString();
  text.appendMarkdown(`**${model.name}: incomplete** — the static analysis could not follow everything that builds or runs it, so ${model.paramsKnown === false ? `it has **${formatParams(model)}** and ` : ''}the shapes it touches are shown as \`?\`.\n\n`);
  // A code block shows the reasons as written: their backticks and underscores are no markdown.
  text.appendCodeblock(lines.join('\n'), 'text');
  text.appendMarkdown('Exact mode (a trusted workspace, after a save) asks PyTorch for the real numbers.');
  return text;
}
