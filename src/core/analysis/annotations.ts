// The input-shape annotation: `# cnnlab: input 3x32x32` in Python, `// cnnlab: input 28x28x1` in
// TF.js; one sample's shape, without the batch.
import type { Node } from './syntax';

/** The dimensions an annotation comment names, or null when the comment is not one. */
export function parseInputAnnotation(comment: string): number[] | null {
  const body = comment.replace(/^#\s*|^\/\/\s*/, '');
  const prefix = 'cnnlab: input';
  if (!body.toLowerCase().startsWith(prefix)) return null;
  const dims = body.slice(prefix.length).trim().split(/\s*[x×,]\s*/).map(Number);
  return dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0) ? dims : null;
}

/** The annotations of one file, and which model each belongs to. */
export class InputAnnotations {
  private readonly found: { row: number; dims: number[] }[] = [];

  constructor(root: Node) {
    // Walking every node for comments is slow in a large file: find the marker in the text, then ask the parser.
    const text = root.text;
    for (let at = text.indexOf('cnnlab:'); at !== -1; at = text.indexOf('cnnlab:', at + 1)) {
      const comment = root.descendantForIndex(at);
      const dims = comment?.type === 'comment' ? parseInputAnnotation(comment.text) : null;
      if (comment && dims) this.found.push({ row: comment.startPosition.row, dims });
    }
  }

  /** The annotation inside the model's source, else the last one on the three lines above it. */
  for(model: Node): number[] | undefined {
    const start = model.startPosition.row;
    const end = model.endPosition.row;
    return this.found.find((a) => a.row >= start && a.row <= end)?.dims ?? this.found.filter((a) => a.row < start && a.row >= start - 3).at(-1)?.dims;
  }
}
