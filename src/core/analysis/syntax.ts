// Tree-sitter, as VS Code itself ships it (@vscode/tree-sitter-wasm). Offsets and columns are
// UTF-16 code units, the same as JavaScript strings and VS Code positions.
import { join } from 'node:path';
import { Language, type Node, Parser, type Tree } from '@vscode/tree-sitter-wasm';
import type { SourceRange } from './report';

export type { Node, Parser, Tree };
export type LanguageId = 'python' | 'typescript';

const grammarFiles: Record<LanguageId, string> = { python: 'tree-sitter-python.wasm', typescript: 'tree-sitter-typescript.wasm' };

export function rangeOf(node: Node): SourceRange {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}

export interface Grammars {
  parser(language: LanguageId): Parser;
}

const runtimes = new Map<string, Promise<void>>();
const parsers = new Map<string, Promise<Parser>>();

/**
 * A parser for one language, its grammar loaded from `wasmDir` on first use (the runtime once per
 * folder): a Python file does not wait for the TypeScript grammar, three times its size.
 */
export function loadParser(wasmDir: string, language: LanguageId): Promise<Parser> {
  const key = `${wasmDir}\0${language}`;
  let parser = parsers.get(key);
  if (!parser) {
    let runtime = runtimes.get(wasmDir);
    if (!runtime) {
      runtime = Parser.init({ locateFile: () => join(wasmDir, 'tree-sitter.wasm') });
      runtimes.set(wasmDir, runtime);
    }
    parser = runtime.then(async () => {
      const loaded = new Parser();
      loaded.setLanguage(await Language.load(join(wasmDir, grammarFiles[language])));
      return loaded;
    });
    parsers.set(key, parser);
  }
  return parser;
}

/** Both languages' parsers, for the command line, which may meet either. */
export async function loadGrammars(wasmDir: string): Promise<Grammars> {
  const [python, typescript] = await Promise.all([loadParser(wasmDir, 'python'), loadParser(wasmDir, 'typescript')]);
  return { parser: (language) => (language === 'python' ? python : typescript) };
}

/** One text change, in the offsets of the text before it (as VS Code reports them). */
export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * A document's syntax tree, kept up to date incrementally: each change edits the old tree, and
 * tree-sitter re-parses only what changed.
 */
export class DocumentTree {
  private tree: Tree | null = null;
  private text = '';

  constructor(private readonly parser: Parser) {}

  /** Replaces the whole text; with `changes` (applied in order), re-parses incrementally. */
  update(text: string, changes?: readonly TextChange[]): Tree {
    let incremental = this.tree !== null && changes !== undefined;
    if (this.tree && changes) {
      let current = this.text;
      for (const change of changes) {
        const start = change.rangeOffset;
        const oldEnd = start + change.rangeLength;
        const newEnd = start + change.text.length;
        const next = current.slice(0, start) + change.text + current.slice(oldEnd);
        this.tree.edit({
          startIndex: start,
          oldEndIndex: oldEnd,
          newEndIndex: newEnd,
          startPosition: pointAt(current, start),
          oldEndPosition: pointAt(current, oldEnd),
          newEndPosition: pointAt(next, newEnd),
        });
        current = next;
      }
      // Edits that do not lead to this text (a missed event) would mislead the parser: start afresh.
      incremental = current === text;
    }
    const previous = incremental ? this.tree : null;
    const tree = this.parser.parse(text, previous);
    if (!tree) throw new Error('tree-sitter returned no tree');
    if (this.tree && this.tree !== tree) this.tree.delete();
    this.tree = tree;
    this.text = text;
    return tree;
  }

  dispose(): void {
    this.tree?.delete();
    this.tree = null;
  }
}

function pointAt(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row += 1;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}
