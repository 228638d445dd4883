// The input-shape annotation: `# cnnlab: input 3x32x32` in Python, `// cnnlab: input 28x28x1` in
// TF.js; one sample's shape, without the batch. And, for a PyTorch class whose __init__ needs
// arguments, how to build it: `# cnnlab: args BasicBlock, [2, 2, 2, 2]`.
import { Parser, type Tree } from '@vscode/tree-sitter-wasm';
import { Node } from './syntax';

/** The dimensions an annotation comment names, or null when the comment is not one. */
export function parseInputAnnotation(comment: string): number[] | null {
  const body = comment.replace(/^#\s*|^\/\/\s*/, '');
  const prefix = 'cnnlab: input';
  if (!body.toLowerCase().startsWith(prefix)) return null;
  const dims = body.slice(prefix.length).trim().split(/\s*[x×,]\s*/).map(Number);
  return dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0) ? dims : null;
}

/** The argument list an args annotation names, or null when the comment is not one. */
export function parseArgsAnnotation(comment: string): string | null {
  const body = comment.replace(/^#\s*|^\/\/\s*/, '');
  const prefix = 'cnnlab: args';
  return body.toLowerCase().startsWith(prefix) ? body.slice(prefix.length).trim() : null;
}

/** The annotations of one file, and which model each belongs to. */
export class InputAnnotations {
  private readonly found: { row: number; dims: number[] }[] = [];
  private readonly args: { row: number; call: Node }[] = [];

  constructor(root: Node) {
    // Walking every node for comments is slow in a large file: find the marker in the text, then ask the parser.
    const text = root.text;
    for (let at = text.indexOf('cnnlab:'); at !== -1; at = text.indexOf('cnnlab:', at + 1)) {
      const comment = root.descendantForIndex(at);
      if (comment?.type !== 'comment') continue;
      const dims = parseInputAnnotation(comment.text);
      if (dims) this.found.push({ row: comment.startPosition.row, dims });
      const args = parseArgsAnnotation(comment.text);
      const call = args === null ? null : parseCall(root, args);
      if (call) this.args.push({ row: comment.startPosition.row, call });
    }
  }

  /** The annotation inside the model's source, else the last one on the three lines above it. */
  for(model: Node): number[] | undefined {
    return nearest(this.found, model)?.dims;
  }

  /** A call node whose arguments are an args annotation's, for the class at `model`. */
  argsFor(model: Node): Node | undefined {
    return nearest(this.args, model)?.call;
  }
}

function nearest<T extends { row: number }>(found: T[], model: Node): T | undefined {
  const start = model.startPosition.row;
  const end = model.endPosition.row;
  return found.find((a) => a.row >= start && a.row <= end) ?? found.filter((a) => a.row < start && a.row >= start - 3).at(-1);
}

/** Annotations' argument lists parsed by the file's own grammar; few and small, kept for the session. */
const parsedArgs = new Map<string, Tree>();

function parseCall(root: Node, args: string): Node | null {
  let tree = parsedArgs.get(args);
  if (!tree) {
    const parser = new Parser();
    parser.setLanguage(root.tree.language);
    tree = parser.parse(`_(${args})`) ?? undefined;
    parser.delete();
    if (!tree) return null;
    if (parsedArgs.size >= 64) {
      const [oldest, old] = parsedArgs.entries().next().value as [string, Tree];
      old.delete();
      parsedArgs.delete(oldest);
    }
    parsedArgs.set(args, tree);
  }
  const parsed = Node.root(tree);
  const call = parsed.namedChildren[0]?.namedChildren[0];
  return (call?.type === 'call' || call?.type === 'call_expression') && !parsed.hasError ? call : null;
}
