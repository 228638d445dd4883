// A notebook's model as a Python module: the top-level statements a model needs (its class, the
// helpers and constants it names, the imports those use), in notebook order, and nothing else. The
// training loop, the plotting, `model.load_state_dict(...)` and an image read from disk are left
// out, so importing the module builds the model without running what the user did not ask to run.
// Statements are kept verbatim; each module line knows the cell line it came from.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Parser } from '@vscode/tree-sitter-wasm';
import type { NotebookSource } from '../protocol/trainer';
import { bindings, namesUsed } from './bindings';
import { NotebookError, type NotebookCell, pythonOfCell } from './notebook';
import { Node } from './syntax';

export interface NotebookModule {
  text: string;
  /** The cells the module holds statements of (indices in the notebook's `cells` list), in order. */
  cells: number[];
  /** For each line of `text` (0-based), the cell and the line in it that it copies; null for the lines CNN Lab wrote. */
  origins: ({ cell: number; line: number } | null)[];
}

interface Statement {
  cell: number;
  /** The statement's lines in its cell: first and last, 0-based. */
  first: number;
  last: number;
  text: string;
  binds: Set<string>;
  /** Names an in-place call in it may change; those that name imported modules are dropped once all imports are known. */
  changes: Set<string>;
  uses: Set<string>;
  isImport: boolean;
  /** `from __future__ import …`: Python wants it first in a module. */
  future: boolean;
  /** `from x import *`: binds what cannot be known, so it is always kept. */
  star: boolean;
  unfinished: boolean;
}

/**
 * The module that defines `targets` (class, factory or instance names) as the notebook's code cells
 * define them, top to bottom. A NotebookError when a statement it needs is unfinished.
 */
export function notebookModule(cells: readonly NotebookCell[], targets: readonly string[], parser: Parser, { requireTargets = true } = {}): NotebookModule | NotebookError {
  const statements = cells.flatMap((cell, index) => (cell.kind === 'code' ? statementsOf(index, pythonOfCell(cell.source), parser) : []));
  const modules = new Set(statements.filter((s) => s.isImport).flatMap((s) => [...s.binds]));
  for (const statement of statements) for (const name of statement.changes) if (!modules.has(name)) statement.binds.add(name);
  const needed = new Set(targets);
  const kept = new Set<Statement>();
  // Late binding makes order irrelevant to what is needed: grow the set until nothing new is named.
  for (let grew = true; grew; ) {
    grew = false;
    for (const statement of statements) {
      if (kept.has(statement) || !(statement.future || statement.star || [...statement.binds].some((name) => needed.has(name)))) continue;
      kept.add(statement);
      grew = true;
      for (const name of statement.uses) needed.add(name);
    }
  }
  const unfinishedIn = (statement: Statement | undefined) => (statement ? `cell ${statement.cell} line ${statement.first + 1} is unfinished` : undefined);
  const missing = targets.filter((name) => !statements.some((s) => kept.has(s) && s.binds.has(name)));
  if (missing.length > 0 && requireTargets) {
    // What is being typed may be the definition: say where.
    const typing = unfinishedIn(statements.find((s) => s.unfinished));
    return new NotebookError(`no code cell defines ${missing.join(', ')}${typing ? ` (${typing})` : ''}`);
  }
  const unfinished = unfinishedIn(statements.find((s) => kept.has(s) && s.unfinished));
  if (unfinished) return new NotebookError(`${unfinished}: finish it (or comment it out) and try again`);
  const ordered = [...statements.filter((s) => kept.has(s) && s.future), ...statements.filter((s) => kept.has(s) && !s.future)];
  const lines: string[] = [];
  const origins: NotebookModule['origins'] = [];
  let previousCell = -1;
  for (const statement of ordered) {
    if (statement.cell !== previousCell) {
      if (lines.length > 0) {
        lines.push('');
        origins.push(null);
      }
      lines.push(`# cell ${statement.cell}`);
      origins.push(null);
      previousCell = statement.cell;
    }
    // `a = 1; b = 2` are two statements on one line: the line is written once.
    statement.text.split('\n').forEach((line, offset) => {
      const origin = { cell: statement.cell, line: statement.first + offset };
      const last = origins.at(-1);
      if (last?.cell === origin.cell && last.line >= origin.line) return;
      lines.push(line);
      origins.push(origin);
    });
  }
  return { text: `${lines.join('\n')}\n`, cells: [...new Set(ordered.map((s) => s.cell))], origins: [...origins, null] };
}

function bindsOf(node: Node): { binds: Set<string>; changes: Set<string> } {
  const { names, changed } = bindings(node);
  return { binds: names, changes: changed };
}

function statementsOf(cell: number, code: string, parser: Parser): Statement[] {
  const tree = parser.parse(code);
  if (!tree) return [];
  try {
    const lines = code.split('\n');
    return Node.root(tree).namedChildren
      .filter((node): node is Node => node !== null && node.type !== 'comment')
      .map((node) => {
        const first = node.startPosition.row;
        const last = node.endPosition.row;
        const isImport = node.type === 'import_statement' || node.type === 'import_from_statement';
        return {
          cell,
          isImport,
          first,
          last,
          // Whole lines, so that a statement keeps its indentation and the comments on its lines.
          text: lines.slice(first, last + 1).join('\n'),
          ...bindsOf(node),
          uses: isImport || node.type === 'future_import_statement' ? new Set<string>() : namesUsed(node),
          future: node.type === 'future_import_statement',
          star: node.type === 'import_from_statement' && node.namedChildren.some((c) => c?.type === 'wildcard_import'),
          unfinished: node.hasError || node.type === 'ERROR',
        };
      });
  } finally {
    tree.delete();
  }
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
    `# Written by CNN Lab to train ${target} from ${basename(notebookPath)}: what it needs of cells ${module.cells.join(', ')}`,
    `# (counted from 0, as the notebook lists its cells; notebook version sha256 ${sha256.slice(0, 12)}).`,
    '# The notebook stays the source: each Train… writes this file afresh.',
  ];
  return { text: `${header.join('\n')}\n\n${module.text}`, source: { path: notebookPath, cells: module.cells, sha256 } };
}

/**
 * The module exact mode runs for a notebook: what the models' build expressions (`Net()`,
 * `Net(weight)`, `model`) name, with the notebook's folder first on sys.path and the working folder,
 * so that its imports of the files beside it and its relative paths resolve as in Jupyter. Names no
 * cell defines are Python's own (`dict`).
 */
export function exactModule(cells: readonly NotebookCell[], builds: readonly string[], parser: Parser, folder: string): NotebookModule | NotebookError {
  const targets = new Set<string>();
  for (const build of builds) {
    const tree = parser.parse(build);
    if (!tree) continue;
    for (const name of namesUsed(Node.root(tree))) targets.add(name);
    tree.delete();
  }
  const module = notebookModule(cells, [...targets], parser, { requireTargets: false });
  if (module instanceof NotebookError) return module;
  // As in Jupyter: imports of the notebook's neighbours resolve, and relative paths (`data/anna.txt`) are read from its folder.
  const header = ['import os as _cnnlab_os', 'import sys as _cnnlab_sys', `_cnnlab_sys.path.insert(0, ${JSON.stringify(folder)})`, `_cnnlab_os.chdir(${JSON.stringify(folder)})`, ''];
  return { ...module, text: `${header.join('\n')}\n${module.text}`, origins: [...header.map(() => null), ...module.origins] };
}
