// A notebook as the Python module CNN Lab's loader reads: every code cell, whole and in order, each
// under a `# CNN Lab: cell N` line (magics and shell lines blanked), so that each module line is a line of a
// cell. What of it runs is the loader's choice, as for a file (src/trainer/cnn_lab_engine/
// user_model.py): the class, the helpers and constants it names, the imports those use and what
// changes the model after it is built; never the training loop, the plots or an image read from disk.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Parser } from '@vscode/tree-sitter-wasm';
import type { NotebookSource } from '../protocol/trainer';
import { bindings } from './bindings';
import { NotebookError, type NotebookCell, pythonOfCell } from './notebook';
import { Node } from './syntax';

export interface NotebookModule {
  text: string;
  /** The code cells it holds (indices in the notebook's `cells` list), in order. */
  cells: number[];
  /** For each line of `text` (0-based), the cell and the line in it that it copies; null for the lines CNN Lab wrote. */
  origins: ({ cell: number; line: number } | null)[];
}

/**
 * The notebook's code cells as one module. A NotebookError when no statement defines one of
 * `targets` (class, factory or instance names), or when the one that does is unfinished.
 */
export function notebookModule(cells: readonly NotebookCell[], targets: readonly string[], parser: Parser, header: readonly string[] = []): NotebookModule | NotebookError {
  const codes = cells.flatMap((cell, index) => (cell.kind === 'code' ? [{ cell: index, lines: pythonOfCell(cell.source).split('\n') }] : []));
  const defined = new Set<string>();
  /** Statements that do not parse, with the names they would bind. */
  const unfinished: { binds: Set<string>; where: string }[] = [];
  // Python wants `from __future__ import …` first in a module: those lines move up, blank where they were.
  const future: string[] = [];
  for (const { cell, lines } of codes) {
    const tree = parser.parse(lines.join('\n'));
    if (!tree) continue;
    try {
      for (const node of Node.root(tree).namedChildren) {
        if (!node || node.type === 'comment') continue;
        const binds = bindings(node).names;
        // Counted from 1, as the summaries and the loader's log count cells.
        const where = `cell ${cell + 1}, line ${node.startPosition.row + 1}`;
        if (node.hasError || node.type === 'ERROR') unfinished.push({ binds, where });
        else for (const name of binds) defined.add(name);
        if (node.type === 'future_import_statement') {
          for (let row = node.startPosition.row; row <= node.endPosition.row; row++) {
            future.push(lines[row] ?? '');
            lines[row] = '';
          }
        }
      }
    } finally {
      tree.delete();
    }
  }
  for (const name of targets) {
    if (defined.has(name)) continue;
    const defining = unfinished.find((u) => u.binds.has(name));
    if (defining) return new NotebookError(`${defining.where} is unfinished: finish it (or comment it out) and try again`);
    // What is being typed may be the definition: say where.
    const typing = unfinished[0]?.where;
    return new NotebookError(`no code cell defines ${name}${typing ? ` (${typing} is unfinished)` : ''}`);
  }
  const lines: string[] = [...future, ...header];
  const origins: NotebookModule['origins'] = lines.map(() => null);
  for (const { cell, lines: code } of codes) {
    lines.push(`# CNN Lab: cell ${cell}`); // user_model.py's CELL_MARK
    origins.push(null);
    code.forEach((line, row) => {
      lines.push(line);
      origins.push({ cell, line: row });
    });
  }
  return { text: `${lines.join('\n')}\n`, cells: codes.map((c) => c.cell), origins: [...origins, null] };
}

/**
 * What a run trains for a notebook's model `target`: the module, headed by where it came from, and
 * the notebook's version (a hash of its cells as they were read, saved or not).
 */
export function trainingModule(notebookPath: string, cells: readonly NotebookCell[], target: string, parser: Parser): { text: string; source: NotebookSource } | NotebookError {
  const module = notebookModule(cells, [target], parser);
  if (module instanceof NotebookError) return module;
  const sha256 = createHash('sha256').update(JSON.stringify(cells.map((c) => [c.kind, c.source]))).digest('hex');
  const header = [
    `# Written by CNN Lab to train ${target} from ${basename(notebookPath)}: its code cells ${module.cells.join(', ')}`,
    `# (counted from 0, as the notebook lists its cells; notebook version sha256 ${sha256.slice(0, 12)}), of which`,
    `# the trainer runs only what builds ${target}. The notebook stays the source: each Train… writes this file afresh.`,
  ];
  return { text: `${header.join('\n')}\n\n${module.text}`, source: { path: notebookPath, cells: module.cells, sha256 } };
}

/**
 * The module exact mode hands the shapes helper for a notebook, which runs of it what the models'
 * build expressions (`Net()`, `Net(weight)`, `model`) need, with the notebook's folder first on
 * sys.path and as the working folder, so that its imports of the files beside it and its relative
 * paths resolve as in Jupyter.
 */
export function exactModule(cells: readonly NotebookCell[], parser: Parser, folder: string): NotebookModule | NotebookError {
  // As in Jupyter: imports of the notebook's neighbours resolve, and relative paths (`data/anna.txt`) are read from its folder.
  // The loader runs what names `_cnnlab_` whatever the models need.
  const header = ['import os as _cnnlab_os', 'import sys as _cnnlab_sys', `_cnnlab_sys.path.insert(0, ${JSON.stringify(folder)})`, `_cnnlab_os.chdir(${JSON.stringify(folder)})`, ''];
  return notebookModule(cells, [], parser, header);
}
