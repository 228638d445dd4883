// Tree-sitter, as VS Code itself ships it (@vscode/tree-sitter-wasm). Offsets and columns are
// UTF-16 code units, the same as JavaScript strings and VS Code positions.
import { join } from 'node:path';
import { Language, Parser, type Point, type Tree } from '@vscode/tree-sitter-wasm';
import type { SourceRange } from './report';

export type { Parser, Tree };
export type LanguageId = 'python' | 'typescript';

const grammarFiles: Record<LanguageId, string> = { python: 'tree-sitter-python.wasm', typescript: 'tree-sitter-typescript.wasm' };

/**
 * Tree-sitter's WebAssembly functions, called directly. web-tree-sitter makes a new object for each
 * node it hands out (with five fields initialised) and copies a node's handle in and out through
 * Emscripten's `setValue`/`getValue`: measured on a 2,000-line file, a node's type costs 100 ns that
 * way and 35 through the heap, its named children 600 ns and 160–400, and the analysis of that file
 * reads 20,000 nodes. So a node keeps its handle (the five numbers web-tree-sitter keeps) and calls
 * what web-tree-sitter calls. Emscripten makes the options given to `Parser.init` its module, which
 * is how these are reached; a runtime without them (a changed @vscode/tree-sitter-wasm) is refused
 * when it loads, and syntax.unit.test.ts reads every node of the corpora both ways.
 */
const runtimeFunctions = [
  '_ts_init', '_malloc', '_free', '_ts_node_symbol_wasm', '_ts_node_end_index_wasm', '_ts_node_end_point_wasm', '_ts_node_is_named_wasm', '_ts_node_has_error_wasm',
  '_ts_node_parent_wasm', '_ts_node_children_wasm', '_ts_node_named_children_wasm', '_ts_node_child_by_field_id_wasm', '_ts_node_children_by_field_id_wasm',
  '_ts_node_descendant_for_index_wasm', '_ts_node_descendants_of_type_wasm',
] as const;

/** Each takes the tree's address (and numbers), reads a node from the transfer buffer and writes what it found there, or returns it. */
type Runtime = { HEAP32: Int32Array } & Record<(typeof runtimeFunctions)[number], (...numbers: number[]) => number>;

/** The runtime, once loaded, and its transfer buffer (an index into HEAP32, never 0 once loaded) through which nodes go in and out. */
let wasm!: Runtime;
let transfer = 0;

function useRuntime(module: object): void {
  const found = module as Partial<Record<keyof Runtime, unknown>>;
  const missing = runtimeFunctions.filter((name) => typeof found[name] !== 'function');
  if (missing.length > 0 || !(found.HEAP32 instanceof Int32Array)) {
    throw new Error(`@vscode/tree-sitter-wasm is not the version CNN Lab reads trees of (missing ${missing.join(', ') || 'HEAP32'}): reinstall the extension`);
  }
  wasm = found as Runtime;
  // Writes the two version numbers web-tree-sitter read at its start into the buffer, and gives its address.
  transfer = wasm._ts_init() >> 2;
}

/** The heap as it is now: growing the memory (a call that allocates may) detaches the old view, and Emscripten makes a new one. */
function heap(): Int32Array {
  if (view.length === 0) view = wasm.HEAP32;
  return view;
}
let view: Int32Array = new Int32Array(0);

/** Per tree: its handle, its language's names, and its text (each node's is a slice of it). */
interface TreeData {
  tree: Tree;
  address: number;
  types: readonly string[];
  fields: ReadonlyMap<string, number>;
  text: string;
  /** Where `text` starts in the document. */
  offset: number;
}

const fieldIds = new WeakMap<object, ReadonlyMap<string, number>>();

function fieldsOf(language: Tree['language']): ReadonlyMap<string, number> {
  let fields = fieldIds.get(language);
  if (!fields) {
    fields = new Map(language.fields.flatMap((name, id) => (name ? [[name, id] as const] : [])));
    fieldIds.set(language, fields);
  }
  return fields;
}

/**
 * A syntax node, read from tree-sitter directly (Runtime), that keeps what was read from it more
 * than once. The analysis reads some bodies many times (a block built 600 times in a ResNet-1202, a
 * helper called for every layer): children and fields read a second time are kept, and so on down,
 * so a body evaluated many times is read from memory after a few. What is read once (most of a file,
 * analysed cold) is not kept: it would outlive the collector's young generation for nothing. (A kept
 * node kept all its reads at once before: on a 2,000-line file cold, a third more scavenging.)
 */
export class Node {
  private kind: string | undefined;
  private source: string | undefined;
  private end = -1;
  private startPoint: Point | undefined;
  private endPoint: Point | undefined;
  private sourceRange: SourceRange | undefined;
  private named: (Node | null)[] | undefined;
  private all: (Node | null)[] | undefined;
  /** Fields kept, as name, node, name, node…: a node has few, and a Map for each of thousands would weigh more. */
  private fields: (string | Node | null)[] | undefined;
  /** Fields that hold several nodes (an `if`'s `elif` and `else` clauses), kept the same way. */
  private fieldLists: (string | (Node | null)[])[] | undefined;
  /** What was read once already, one bit each: named children, children, then each field (fieldBit). */
  private readOnce = 0;
  private parentNode: Node | null | undefined;

  private constructor(
    private readonly data: TreeData,
    /** Tree-sitter's handle of the node: its id, start offset, start row and column, and a context word. */
    private readonly id: number,
    readonly startIndex: number,
    private readonly row: number,
    private readonly column: number,
    private readonly context: number,
    parent?: Node,
  ) {
    this.parentNode = parent;
  }

  /** The root of a tree, as the analysis reads it: one per tree, so that analyses of a tree share what was read. */
  static root(tree: Tree): Node {
    let root = roots.get(tree);
    if (!root) {
      const node = tree.rootNode;
      if (transfer === 0) throw new Error('tree-sitter is not loaded: load a parser first (loadParser)');
      const data: TreeData = { tree, address: (tree as unknown as { 0: number })[0], types: tree.language.types, fields: fieldsOf(tree.language), text: node.text, offset: node.startIndex };
      root = new Node(data, node.id, node.startIndex, node.startPosition.row, node.startPosition.column, (node as unknown as { 0: number })[0]);
      roots.set(tree, root);
    }
    return root;
  }

  get type(): string {
    if (this.kind === undefined) {
      this.send();
      this.kind = this.data.types[wasm._ts_node_symbol_wasm(this.data.address)] || 'ERROR';
    }
    return this.kind;
  }
  get text(): string {
    return (this.source ??= this.data.text.slice(this.startIndex - this.data.offset, this.endIndex - this.data.offset));
  }
  get endIndex(): number {
    if (this.end < 0) {
      this.send();
      this.end = wasm._ts_node_end_index_wasm(this.data.address);
    }
    return this.end;
  }
  get startPosition(): Point {
    return (this.startPoint ??= { row: this.row, column: this.column });
  }
  get endPosition(): Point {
    if (!this.endPoint) {
      this.send();
      wasm._ts_node_end_point_wasm(this.data.address);
      const h = heap();
      this.endPoint = { row: h[transfer] as number, column: h[transfer + 1] as number };
    }
    return this.endPoint;
  }
  /**
   * Its range as reports carry it, one object per node: the 600 blocks of a ResNet-1202 share their
   * layers' ranges, which a report then carries (and the worker posts) once. Read-only (SourceRange).
   */
  get range(): SourceRange {
    return (this.sourceRange ??= { start: { line: this.row, character: this.column }, end: { line: this.endPosition.row, character: this.endPosition.column } });
  }
  get tree(): Tree {
    return this.data.tree;
  }
  get isNamed(): boolean {
    this.send();
    return wasm._ts_node_is_named_wasm(this.data.address) === 1;
  }
  get hasError(): boolean {
    this.send();
    return wasm._ts_node_has_error_wasm(this.data.address) === 1;
  }
  get parent(): Node | null {
    if (this.parentNode === undefined) {
      this.send();
      wasm._ts_node_parent_wasm(this.data.address);
      this.parentNode = this.received(transfer);
    }
    return this.parentNode;
  }
  get namedChildren(): (Node | null)[] {
    if (this.named) return this.named;
    this.send();
    wasm._ts_node_named_children_wasm(this.data.address);
    const children = this.receivedList((at) => this.child(at));
    if (this.again(1)) this.named = children;
    return children;
  }
  get children(): (Node | null)[] {
    if (this.all) return this.all;
    this.send();
    wasm._ts_node_children_wasm(this.data.address);
    const children = this.receivedList((at) => this.child(at));
    if (this.again(2)) this.all = children;
    return children;
  }
  childForFieldName(name: string): Node | null {
    const fields = this.fields;
    if (fields) for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] as Node | null;
    const field = this.data.fields.get(name);
    if (field === undefined) return null;
    this.send();
    wasm._ts_node_child_by_field_id_wasm(this.data.address, field);
    const child = this.child(transfer);
    if (this.again(fieldBit(field))) (this.fields ??= []).push(name, child);
    return child;
  }
  childrenForFieldName(name: string): (Node | null)[] {
    const lists = this.fieldLists;
    if (lists) for (let i = 0; i < lists.length; i += 2) if (lists[i] === name) return lists[i + 1] as (Node | null)[];
    const field = this.data.fields.get(name);
    if (field === undefined) return [];
    this.send();
    wasm._ts_node_children_by_field_id_wasm(this.data.address, field);
    const children = this.receivedList((at) => this.child(at));
    if (this.again(fieldBit(field))) (this.fieldLists ??= []).push(name, children);
    return children;
  }
  /** The smallest node within this one that spans `index`. */
  descendantForIndex(index: number): Node | null {
    this.send();
    const h = heap();
    h[transfer + 5] = index;
    h[transfer + 6] = index;
    wasm._ts_node_descendant_for_index_wasm(this.data.address);
    return this.received(transfer);
  }
  descendantsOfType(types: string | string[]): (Node | null)[] {
    const wanted = typeof types === 'string' ? [types] : types;
    const symbols: number[] = wanted.includes('ERROR') ? [65535] : [];
    this.data.types.forEach((type, symbol) => {
      if (wanted.includes(type)) symbols.push(symbol);
    });
    const address = wasm._malloc(4 * symbols.length);
    heap().set(symbols, address >> 2);
    this.send();
    wasm._ts_node_descendants_of_type_wasm(this.data.address, address, symbols.length, 0, 0, 0, 0);
    const found = this.receivedList((at) => this.received(at));
    wasm._free(address);
    return found;
  }

  /** Puts this node's handle in the transfer buffer, where tree-sitter's functions read it. */
  private send(): void {
    const h = heap();
    h[transfer] = this.id;
    h[transfer + 1] = this.startIndex;
    h[transfer + 2] = this.row;
    h[transfer + 3] = this.column;
    h[transfer + 4] = this.context;
  }

  /** The node whose handle is at `at` (an index into HEAP32), or null where tree-sitter wrote none. */
  private received(at: number, parent?: Node): Node | null {
    const h = heap();
    const id = h[at] as number;
    return id === 0 ? null : new Node(this.data, id, h[at + 1] as number, h[at + 2] as number, h[at + 3] as number, h[at + 4] as number, parent);
  }

  /** The nodes of a list tree-sitter allocated (its length and address in the buffer), which is then freed. */
  private receivedList(make: (at: number) => Node | null): (Node | null)[] {
    const h = heap();
    const count = h[transfer] as number;
    const address = h[transfer + 1] as number;
    const nodes = new Array<Node | null>(count);
    for (let i = 0; i < count; i++) nodes[i] = make((address >> 2) + i * 5);
    if (address !== 0) wasm._free(address);
    return nodes;
  }

  /** Whether this read was made before (then it is kept); else marks it made. */
  private again(bit: number): boolean {
    if (this.readOnce & bit) return true;
    this.readOnce |= bit;
    return false;
  }

  /** The child whose handle is at `at` as this node already knows it (among its children or fields), else a new one: one path's reads serve the others. */
  private child(at: number): Node | null {
    const id = heap()[at] as number;
    if (id === 0) return null;
    return Node.among(this.all, id) ?? Node.among(this.named, id) ?? Node.among(this.fields, id) ?? this.received(at, this);
  }

  private static among(known: readonly (string | Node | null)[] | undefined, id: number): Node | undefined {
    if (known) for (const node of known) if (node instanceof Node && node.id === id) return node;
    return undefined;
  }
}

/** A bit per field (the grammars have a few dozen), one for its single child and its list alike; fields past the 28th share the last bit, which only keeps more. */
function fieldBit(field: number): number {
  return 1 << Math.min(field + 2, 30);
}

/** Each tree's root as read so far. */
const roots = new WeakMap<Tree, Node>();


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
      // Emscripten makes these options its module: the functions the nodes call are on it (Runtime).
      const module = { locateFile: () => join(wasmDir, 'tree-sitter.wasm') };
      runtime = Parser.init(module).then(() => {
        // One runtime per bundle however many folders: the first to load is the one.
        if (transfer === 0) useRuntime(module);
      });
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
