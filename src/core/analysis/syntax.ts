// Tree-sitter, as VS Code itself ships it (@vscode/tree-sitter-wasm). Offsets and columns are
// UTF-16 code units, the same as JavaScript strings and VS Code positions.
import { join } from 'node:path';
import { Language, type Node as TreeNode, Parser, type Point, type Tree } from '@vscode/tree-sitter-wasm';
import type { SourceRange } from './report';

export type { Parser, Tree };
export type LanguageId = 'python' | 'typescript';

const grammarFiles: Record<LanguageId, string> = { python: 'tree-sitter-python.wasm', typescript: 'tree-sitter-typescript.wasm' };

/**
 * A syntax node that keeps what was read from it more than once. Tree-sitter's own nodes are views
 * into the parser's memory, made anew on every access (`namedChildren` rebuilds each child), while
 * the analysis reads some bodies many times (a block built 600 times in a ResNet-1202, a helper
 * called for every layer): children and fields read a second time are kept, and what is kept keeps
 * its own reads at once, so a body evaluated twice is read from memory after; what is read once
 * (most of a file, analysed cold) is not kept, which would only burden the garbage collector.
 */
export class Node {
  private kind: string | undefined;
  private source: string | undefined;
  private named: (Node | null)[] | undefined;
  private all: (Node | null)[] | undefined;
  /** Fields kept, as name, node, name, node…: a node has few, and a Map for each of thousands would weigh more. */
  private fields: (string | Node | null)[] | undefined;
  /** Fields that hold several nodes (an `if`'s `elif` and `else` clauses), kept the same way. */
  private fieldLists: (string | (Node | null)[])[] | undefined;
  /** What was read once already, one bit each: named children, children, then each field name (fieldBit). */
  private readOnce = 0;
  /** Kept by its parent, as something read again: its own reads are kept at once, so a body read twice is whole the third time. */
  private kept = false;
  private parentNode: Node | null | undefined;

  private constructor(
    private readonly raw: TreeNode,
    parent?: Node,
  ) {
    this.parentNode = parent;
  }

  /** The root of a tree, as the analysis reads it: one per tree, so that analyses of a tree share what was read. */
  static root(tree: Tree): Node {
    let root = roots.get(tree);
    if (!root) roots.set(tree, (root = new Node(tree.rootNode)));
    return root;
  }

  get type(): string {
    return (this.kind ??= this.raw.type);
  }
  get text(): string {
    return (this.source ??= this.raw.text);
  }
  get startIndex(): number {
    return this.raw.startIndex;
  }
  get endIndex(): number {
    return this.raw.endIndex;
  }
  get startPosition(): Point {
    return this.raw.startPosition;
  }
  get endPosition(): Point {
    return this.raw.endPosition;
  }
  get tree(): Tree {
    return this.raw.tree;
  }
  get isNamed(): boolean {
    return this.raw.isNamed;
  }
  get hasError(): boolean {
    return this.raw.hasError;
  }
  get parent(): Node | null {
    if (this.parentNode === undefined) {
      const raw = this.raw.parent;
      this.parentNode = raw ? new Node(raw) : null;
    }
    return this.parentNode;
  }
  get namedChildren(): (Node | null)[] {
    if (this.named) return this.named;
    const children = this.raw.namedChildren.map((raw) => this.child(raw));
    if (this.again(1)) this.named = Node.keep(children);
    return children;
  }
  get children(): (Node | null)[] {
    if (this.all) return this.all;
    const children = this.raw.children.map((raw) => this.child(raw));
    if (this.again(2)) this.all = Node.keep(children);
    return children;
  }
  childForFieldName(name: string): Node | null {
    const fields = this.fields;
    if (fields) for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] as Node | null;
    const child = this.child(this.raw.childForFieldName(name));
    if (this.again(fieldBit(name))) (this.fields ??= []).push(name, Node.keep([child])[0] ?? null);
    return child;
  }
  childrenForFieldName(name: string): (Node | null)[] {
    const lists = this.fieldLists;
    if (lists) for (let i = 0; i < lists.length; i += 2) if (lists[i] === name) return lists[i + 1] as (Node | null)[];
    const children = this.raw.childrenForFieldName(name).map((raw) => this.child(raw));
    if (this.again(fieldBit(`[${name}]`))) (this.fieldLists ??= []).push(name, Node.keep(children));
    return children;
  }
  descendantForIndex(index: number): Node | null {
    const raw = this.raw.descendantForIndex(index);
    return raw ? new Node(raw) : null;
  }
  descendantsOfType(types: string | string[]): (Node | null)[] {
    return this.raw.descendantsOfType(types).map((raw) => (raw ? new Node(raw) : null));
  }

  private static keep(nodes: (Node | null)[]): (Node | null)[] {
    for (const node of nodes) if (node) node.kept = true;
    return nodes;
  }

  /** Whether this read was made before (then it is kept); else marks it made. */
  private again(bit: number): boolean {
    if (this.kept || this.readOnce & bit) return true;
    this.readOnce |= bit;
    return false;
  }

  /** A child as this node already knows it (among its children or fields), else a new one: one path's reads serve the others. */
  private child(raw: TreeNode | null): Node | null {
    if (!raw) return null;
    const id = raw.id;
    for (const known of [this.all, this.named, this.fields]) {
      if (known) for (const c of known) if (c instanceof Node && c.raw.id === id) return c;
    }
    return new Node(raw, this);
  }
}

/** A bit per field name (the grammars have a few dozen); names past 30 share the last bit, which only keeps more. */
function fieldBit(name: string): number {
  let index = fieldIndexes.get(name);
  if (index === undefined) fieldIndexes.set(name, (index = Math.min(fieldIndexes.size + 2, 30)));
  return 1 << index;
}
const fieldIndexes = new Map<string, number>();

/** Each tree's root as read so far. */
const roots = new WeakMap<Tree, Node>();

/**
 * A node's range, one object per node: the 600 blocks of a ResNet-1202 share their layers' ranges,
 * which a report then carries (and the worker posts) once. Never changed in place.
 */
export function rangeOf(node: Node): SourceRange {
  let range = ranges.get(node);
  if (!range) {
    range = Object.freeze({
      start: Object.freeze({ line: node.startPosition.row, character: node.startPosition.column }),
      end: Object.freeze({ line: node.endPosition.row, character: node.endPosition.column }),
    });
    ranges.set(node, range);
  }
  return range;
}

const ranges = new WeakMap<Node, SourceRange>();

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
