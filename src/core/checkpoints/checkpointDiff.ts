// What training (or another run) changed in a model's weights: two checkpoints, parameter by
// parameter, read without Python as the Checkpoints view reads them.
import type { Checkpoint, CheckpointTensor } from './checkpoint';
import { changeBetween } from './weightChange';

export interface ParameterChange {
  /** The state_dict key (conv1.weight) or TF.js weight name. */
  name: string;
  shapes: [number[] | null, number[] | null];
  /** A shape mismatch, or a parameter one checkpoint lacks, is a row like the others, not a failure. */
  status: 'changed' | 'unchanged' | 'shape mismatch' | 'only in A' | 'only in B';
  /** ‖B − A‖₂, ‖B − A‖₂ / ‖A‖₂ and cos(A, B), where the shapes agree; null elsewhere (and the last two when a norm is 0). */
  l2: number | null;
  relative: number | null;
  cosine: number | null;
}

/** One parameter of A against B's of the same name. */
export function compareParameter(name: string, a: CheckpointTensor, b: CheckpointTensor): ParameterChange {
  const shapes: ParameterChange['shapes'] = [a.shape, b.shape];
  if (a.shape.join('×') !== b.shape.join('×')) return { name, shapes, status: 'shape mismatch', l2: null, relative: null, cosine: null };
  const change = changeBetween(a.values(), b.values());
  return { name, shapes, status: change.l2 === 0 ? 'unchanged' : 'changed', ...change };
}

/** Every parameter of A in A's order, then those only B has. */
export function diffCheckpoints(a: Checkpoint, b: Checkpoint): ParameterChange[] {
  const tensors = (checkpoint: Checkpoint) => new Map(checkpoint.layers.flatMap((layer) => layer.parameters).map((t) => [t.name, t]));
  const [left, right] = [tensors(a), tensors(b)];
  const changes: ParameterChange[] = [];
  for (const [name, tensor] of left) {
    const other = right.get(name);
    changes.push(other ? compareParameter(name, tensor, other) : { name, shapes: [tensor.shape, null], status: 'only in A', l2: null, relative: null, cosine: null });
  }
  for (const [name, tensor] of right) {
    if (!left.has(name)) changes.push({ name, shapes: [null, tensor.shape], status: 'only in B', l2: null, relative: null, cosine: null });
  }
  return changes;
}

/** The changes as a table: each parameter's shape, ‖Δ‖, relative change and cosine similarity, or why there are none. */
export function formatCheckpointDiff(changes: readonly ParameterChange[], a: string, b: string): string {
  const number = (v: number | null, digits: number) => (v === null ? '' : v.toFixed(digits));
  const shape = ([x, y]: ParameterChange['shapes']) => (x && y && x.join('×') === y.join('×') ? x.join('×') : `${x?.join('×') ?? '—'} → ${y?.join('×') ?? '—'}`);
  const rows = changes.map((c) => [c.name, shape(c.shapes), number(c.l2, 4), c.relative === null ? '' : `${(100 * c.relative).toFixed(1)} %`, number(c.cosine, 4), c.status === 'changed' ? '' : c.status]);
  const header = ['Parameter', 'Shape', '‖B − A‖', 'relative', 'cosine', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd();
  const rule = '─'.repeat(line(header).length);
  return [`A: ${a}`, `B: ${b}`, rule, line(header), rule, ...rows.map(line), rule].join('\n');
}
