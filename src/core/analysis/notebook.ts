// Jupyter notebooks (nbformat 4) as one Python program: the code cells in order, IPython's magics
// and shell lines blanked, so a class in cell 12 sees the imports and constants of cells 1–11 and a
// `model = Net(weight)` in a later cell builds it, as in a file. Every range the analysis gives is
// mapped back to its cell. Outputs are never read; a malformed notebook gives a NotebookError, or
// is read as far as it is valid, never an exception.
import type { Parser } from '@vscode/tree-sitter-wasm';
import { AnalysisCache, analyzeTree, type AnalysisOptions } from './analyze';
import type { AnalysisDiagnostic, LayerReport, ModelReport, Position, QuickFix, SourceRange } from './report';
import { cellView } from './notebookView';
import { findStateDictLoads, type StateDictLoad } from './python/stateDictLoads';
import { DocumentTree, Node, type Tree } from './syntax';

/** One cell as the notebook lists it; only `code` cells are read. */
export interface NotebookCell {
  /** nbformat's `cell_type` (`code`, `markdown`, `raw`), or '' where the cell has none. */
  kind: string;
  source: string;
}

export interface Notebook {
  /** Every cell, so that a cell's index is its index in the notebook's `cells` list. */
  cells: NotebookCell[];
  /** What was wrong but could be read past: "cell 3 has no cell_type (skipped)". */
  problems: string[];
}

/** Why a text is not a notebook at all: bad JSON, no `cells` list. */
export class NotebookError extends Error {
  override readonly name = 'NotebookError';
}

/** A range within one cell: `cell` is the index in the notebook's `cells` list, lines count from the cell's first line. */
export interface CellRange extends SourceRange {
  cell: number;
}

export interface NotebookLayerReport extends LayerReport {
  range: CellRange;
}

export interface NotebookDiagnostic extends AnalysisDiagnostic {
  range: CellRange;
  fix?: QuickFix & { range: CellRange };
}

/** A ModelReport whose every range says its cell: the model, its extent, each layer, each diagnostic and quick fix. */
export interface NotebookModelReport extends ModelReport {
  range: CellRange;
  extent: CellRange;
  layers: NotebookLayerReport[];
  diagnostics: NotebookDiagnostic[];
}

/** Reads a notebook's JSON; returns (never throws) a NotebookError when there are no cells to read. */
export function readNotebook(json: string): Notebook | NotebookError {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    return new NotebookError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(document)) return new NotebookError('not a notebook: the JSON is not an object');
  const cells = document['cells'];
  if (cells === undefined) {
    return new NotebookError(Array.isArray(document['worksheets']) ? 'an nbformat 3 notebook (cells inside "worksheets"): save it again with Jupyter as nbformat 4' : 'not a notebook: it has no "cells" list');
  }
  if (!Array.isArray(cells)) return new NotebookError(`not a notebook: "cells" is ${describe(cells)}, not a list`);
  const problems: string[] = [];
  return {
    cells: cells.map((cell: unknown, index) => {
      if (!isObject(cell)) {
        problems.push(`cell ${index} is ${describe(cell)}, not a cell (skipped)`);
        return { kind: '', source: '' };
      }
      const kind = cell['cell_type'];
      if (typeof kind !== 'string') {
        problems.push(`cell ${index} has no cell_type (skipped)`);
        return { kind: '', source: '' };
      }
      const source = sourceText(cell['source']);
      if (source === undefined && kind === 'code') problems.push(`cell ${index}'s source is ${describe(cell['source'])}, not text (read as empty)`);
      return { kind, source: source ?? '' };
    }),
    problems,
  };
}

/** nbformat keeps a source as one string or as a list of lines (each with its own "\n"). */
function sourceText(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (Array.isArray(source) && source.every((line) => typeof line === 'string')) return source.join('');
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `%%time`, `%%bash`: the cell is the magic's input, not Python. */
const cellMagic = /^\s*%%/;
/** `%matplotlib inline`, `!pip install torch`, `?nn.Conv2d`, `files = !ls`, `t = %timeit f()`. */
const lineMagic = /^\s*(?:[%!?]|[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_]\w*)*\s*=\s*[%!])/;
/** `nn.Conv2d?`, `model.forward??`: help, when the line holds nothing else. */
const helpSuffix = /^\s*[A-Za-z_][\w.]*\?\??\s*$/;

/**
 * The cell's Python: magic and shell lines become spaces of the same length, so positions stay.
 * A line holding triple quotes is kept, so that a docstring's text cannot lose its end.
 */
export function pythonOfCell(source: string): string {
  const lines = source.split('\n');
  const blank = (line: string) => ' '.repeat(line.length);
  if (cellMagic.test(source)) return lines.map(blank).join('\n');
  return lines.map((line) => ((lineMagic.test(line) || helpSuffix.test(line)) && !/'''|"""/.test(line) ? blank(line) : line)).join('\n');
}

/**
 * What closes the brackets and the triple-quoted string a cell leaves open (`nn.Linear(256,` while
 * it is being typed), so that the cells after it are not read as its continuation. Jupyter runs
 * each cell on its own; the joined program must not let one unfinished cell swallow the rest.
 */
function closersOf(code: string): string {
  const open: string[] = [];
  let quote = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (code.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      } else if (c === '\n' && quote.length === 1) quote = '';
    } else if (c === '#') {
      const end = code.indexOf('\n', i);
      i = end === -1 ? code.length : end;
    } else if (c === '"' || c === "'") {
      quote = code.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (c === '(' || c === '[' || c === '{') open.push(c === '(' ? ')' : c === '[' ? ']' : '}');
    else if ((c === ')' || c === ']' || c === '}') && open.at(-1) === c) open.pop();
  }
  return (quote.length === 3 ? quote : '') + open.reverse().join('');
}

/** Where one code cell lies in the joined program. */
interface Segment {
  cell: number;
  firstLine: number;
  /** The cell's lines, for clamping a range that runs past the cell's end. */
  lines: string[];
}

/** The code cells joined, each followed by one line of its own (with what closes it, if it is left open). */
class NotebookProgram {
  readonly text: string;
  private readonly segments: Segment[] = [];

  constructor(cells: readonly NotebookCell[], pythonOf: (source: string) => { code: string; closers: string }) {
    const parts: string[] = [];
    let line = 0;
    cells.forEach((cell, index) => {
      if (cell.kind !== 'code') return;
      const { code, closers } = pythonOf(cell.source);
      const lines = code.split('\n');
      this.segments.push({ cell: index, firstLine: line, lines });
      parts.push(code, '\n', closers, '\n');
      line += lines.length + 1;
    });
    this.text = parts.join('');
  }

  /** A program position as (cell, position within the cell); a separator line counts as the end of the cell before it. */
  private toCell(position: Position): { segment: Segment; position: Position } {
    const segment = this.segmentAt(position.line);
    const line = position.line - segment.firstLine;
    return { segment, position: line < segment.lines.length ? { line, character: position.character } : endOf(segment) };
  }

  /** A program range within the cell its start lies in (an end past that cell, as an unfinished block's, is clamped to the cell's end). */
  toCellRange(range: SourceRange): CellRange {
    const start = this.toCell(range.start);
    const end = this.toCell(range.end);
    return { cell: start.segment.cell, start: start.position, end: end.segment === start.segment ? end.position : endOf(start.segment) };
  }

  /** Only called for ranges of the analysed text, so there is a code cell. */
  private segmentAt(line: number): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.segments[middle] as Segment).firstLine <= line) low = middle;
      else high = middle - 1;
    }
    return this.segments[low] as Segment;
  }
}

function endOf(segment: Segment): Position {
  return { line: segment.lines.length - 1, character: (segment.lines.at(-1) ?? '').length };
}

function pythonAndClosers(source: string): { code: string; closers: string } {
  const code = pythonOfCell(source);
  return { code, closers: closersOf(code) };
}

/** The reports with every range mapped to its cell. */
function toNotebookReport(report: ModelReport, program: NotebookProgram): NotebookModelReport {
  const map = (range: SourceRange) => program.toCellRange(range);
  return {
    ...report,
    range: map(report.range),
    extent: map(report.extent),
    layers: report.layers.map((layer) => ({ ...layer, range: map(layer.range) })),
    diagnostics: report.diagnostics.map(({ fix, related, ...diagnostic }) => ({
      ...diagnostic,
      range: map(diagnostic.range),
      ...(fix ? { fix: { ...fix, range: map(fix.range) } } : {}),
      ...(related ? { related: related.map((r) => ({ ...r, range: map(r.range) })) } : {}),
    })),
    ...(report.incomplete ? { incomplete: report.incomplete.map((i) => ({ ...i, range: map(i.range) })) } : {}),
  };
}

/**
 * One notebook's analysis, kept between edits: the joined program is re-parsed incrementally (one
 * text change, the span between what stayed the same at both ends) and the AnalysisCache analyses
 * again only the models the edit touched. Call `update` with every cell after each change.
 */
export class NotebookAnalysis {
  private readonly tree: DocumentTree;
  private readonly cache = new AnalysisCache();
  /** Each cell's Python, by its source: an edit re-reads only the cell it changed. */
  private pythonBySource = new Map<string, { code: string; closers: string }>();
  private text = '';
  private current: NotebookModelReport[] = [];
  private program: NotebookProgram | undefined;
  private parsed: Tree | undefined;

  constructor(parser: Parser) {
    this.tree = new DocumentTree(parser);
  }

  get reports(): readonly NotebookModelReport[] {
    return this.current;
  }

  /** The notebook's load_state_dict calls, their ranges in their cells. */
  stateDictLoads(): StateDictLoad[] {
    const { program, parsed: tree } = this;
    if (!program || !tree) return [];
    const map = (range: SourceRange) => program.toCellRange(range);
    return findStateDictLoads(Node.root(tree)).map((load) => ({
      ...load,
      range: map(load.range),
      ...(load.loaded ? { loaded: map(load.loaded) } : {}),
      argument: { ...load.argument, range: map(load.argument.range) },
    }));
  }

  update(cells: readonly NotebookCell[], options: AnalysisOptions): NotebookModelReport[] {
    const known = this.pythonBySource;
    this.pythonBySource = new Map();
    const program = new NotebookProgram(cells, (source) => {
      const python = known.get(source) ?? this.pythonBySource.get(source) ?? pythonAndClosers(source);
      this.pythonBySource.set(source, python);
      return python;
    });
    const tree = this.tree.update(program.text, [changeBetween(this.text, program.text)]);
    this.text = program.text;
    this.program = program;
    this.parsed = tree;
    this.current = analyzeTree(tree, options, this.cache).map((report) => toNotebookReport(report, program));
    return this.current;
  }

  /** What a cell's own text document shows (cellView). */
  modelsInCell(cell: number): ModelReport[] {
    return cellView(this.current, cell);
  }

  dispose(): void {
    this.tree.dispose();
  }
}

/** The single change that turns `before` into `after`: what lies between their common start and end. */
function changeBetween(before: string, after: string): { rangeOffset: number; rangeLength: number; text: string } {
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return { rangeOffset: start, rangeLength: before.length - start - end, text: after.slice(start, after.length - end) };
}

/** A notebook file's models in one call (the CLI's): its reports and what was read past, or why it is not a notebook. */
export function analyzeNotebook(json: string, parser: Parser, options: AnalysisOptions): { reports: NotebookModelReport[]; problems: string[] } | NotebookError {
  const notebook = readNotebook(json);
  if (notebook instanceof NotebookError) return notebook;
  const analysis = new NotebookAnalysis(parser);
  try {
    return { reports: analysis.update(notebook.cells, options), problems: notebook.problems };
  } finally {
    analysis.dispose();
  }
}
