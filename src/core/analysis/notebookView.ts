// How a notebook's analysis maps onto its cells: what each cell's document shows, and where a line
// of the module exact mode runs lies in the cells. Light: the host uses it before the parser loads.
import type { CellRange, NotebookCell, NotebookModelReport } from './notebook';
import type { NotebookModule } from './notebookModule';
import type { ModelReport, SourceRange } from './report';

/**
 * What a cell's own text document shows: the models defined in the cell (their name in it) and
 * the layers and diagnostics of any model that lie in it, with ranges relative to the cell.
 */
export function cellView(reports: readonly NotebookModelReport[], cell: number): ModelReport[] {
  return reports.filter((r) => r.range.cell === cell || r.layers.some((l) => l.range.cell === cell) || r.diagnostics.some((d) => d.range.cell === cell)).map((r) => inCell(r, cell));
}

/** A model's view from one cell: its ranges relative to the cell, its layers and diagnostics only those in it. */
function inCell(report: NotebookModelReport, cell: number): ModelReport {
  const local = ({ start, end }: CellRange): SourceRange => ({ start, end });
  const cellStart: SourceRange = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const here = report.range.cell === cell;
  return {
    ...report,
    range: here ? local(report.range) : cellStart,
    extent: here ? local(report.extent) : cellStart,
    ...(here ? {} : { definedElsewhere: true as const }),
    layers: report.layers.filter((l) => l.range.cell === cell).map((layer) => ({ ...layer, range: local(layer.range) })),
    diagnostics: report.diagnostics
      .filter((d) => d.range.cell === cell)
      .map(({ fix, ...diagnostic }) => ({ ...diagnostic, range: local(diagnostic.range), ...(fix?.range.cell === cell ? { fix: { ...fix, range: local(fix.range) } } : {}) })),
    // Each keeps its cell, which the lists name ("cell 3, line 4"); the related places keep theirs, which the host opens.
    ...(report.incomplete ? { incomplete: report.incomplete.map((i) => ('cell' in i.range && i.range.cell !== cell ? { ...i, elsewhere: true as const } : i)) } : {}),
  };
}

/** Where a line of the module (1-based, as PyTorch reports it) lies in the notebook: its cell, and the code on that line of the cell. */
export function cellPlacer(module: NotebookModule, cells: readonly NotebookCell[]): (line: number) => CellRange | undefined {
  return (line) => {
    const origin = module.origins[line - 1];
    if (!origin) return undefined;
    const text = cells[origin.cell]?.source.split('\n')[origin.line] ?? '';
    return { cell: origin.cell, start: { line: origin.line, character: text.length - text.trimStart().length }, end: { line: origin.line, character: text.trimEnd().length } };
  };
}
