// Two models side by side: their layers aligned by qualified name (those that keep both sides in
// order), then the rest between them by order and kind (the longest common run of layer types),
// with what differs in each pair and the totals.
import { formatCount } from './format';
import { formatShape } from './shape';
import type { LayerReport, ModelReport } from './report';

export interface DiffRow {
  /** same: the name, type, output shape, parameters and mult-adds agree; changed: paired, but one of them differs; removed: A's alone; added: B's alone. */
  status: 'same' | 'changed' | 'removed' | 'added';
  left: LayerReport | null;
  right: LayerReport | null;
  /** For a changed pair: which of name (paired by order and kind), type, output, params, macs differ. */
  differences: ('name' | 'type' | 'output' | 'params' | 'macs')[];
}

export interface ModelDiff {
  left: ModelReport;
  right: ModelReport;
  rows: DiffRow[];
}

/** Index pairs of the longest common subsequence of two sequences of lengths n and m, `same(i, j)` comparing their items. */
function longestCommon(n: number, m: number, same: (i: number, j: number) => boolean): [number, number][] {
  const width = m + 1;
  const lengths = new Int32Array((n + 1) * width);
  const at = (i: number, j: number) => lengths[i * width + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lengths[i * width + j] = same(i, j) ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
  }
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (same(i, j)) pairs.push([i++, j++]);
    else if (at(i + 1, j) >= at(i, j + 1)) i++;
    else j++;
  }
  return pairs;
}

const shapeText = (layer: LayerReport) => (layer.out ? formatShape(layer.out) : '?');

function differences(left: LayerReport, right: LayerReport): DiffRow['differences'] {
  const found: DiffRow['differences'] = [];
  if (left.name !== right.name) found.push('name');
  if (left.type !== right.type) found.push('type');
  if (shapeText(left) !== shapeText(right)) found.push('output');
  if (left.params !== right.params) found.push('params');
  if ((left.macs ?? null) !== (right.macs ?? null)) found.push('macs');
  return found;
}

/**
 * The most pairs (sorted by their first index) that keep both sides in order: a layer that moved
 * cannot stay paired with the layers it crossed. Ties go to the pairs holding more parameters.
 */
function inOrder(pairs: [number, number][], weight: (pair: [number, number]) => number): [number, number][] {
  const best = pairs.map(weight);
  const previous = pairs.map(() => -1);
  pairs.forEach(([, j], k) => {
    for (let l = 0; l < k; l++) {
      const [, earlier] = pairs[l] ?? [0, 0];
      const total = (best[l] ?? 0) + weight(pairs[k] ?? [0, 0]);
      if (earlier < j && total > (best[k] ?? 0)) [best[k], previous[k]] = [total, l];
    }
  });
  const kept: [number, number][] = [];
  for (let k = best.indexOf(Math.max(...best)); k >= 0; k = previous[k] ?? -1) kept.unshift(pairs[k] ?? [0, 0]);
  return kept;
}

export function diffModels(left: ModelReport, right: ModelReport): ModelDiff {
  const rightByName = new Map(right.layers.map((layer, j) => [layer.name, j]));
  const byName = left.layers.flatMap((layer, i): [number, number][] => {
    const j = rightByName.get(layer.name);
    return j === undefined ? [] : [[i, j]];
  });
  const allParams = left.totalParams + right.totalParams;
  const anchors = inOrder(byName, ([i]) => 1 + (left.layers[i]?.params ?? 0) / (1 + allParams));
  const pairOf = new Map(anchors);
  // Between two anchors, what the names did not pair, by order and kind: a renamed layer of the same type still lines up.
  const typeOf = (layers: LayerReport[], index: number | undefined) => (index === undefined ? undefined : layers[index]?.type);
  const bounds: [number, number][] = [[-1, -1], ...anchors, [left.layers.length, right.layers.length]];
  bounds.slice(1).forEach(([nextI, nextJ], k) => {
    const [fromI, fromJ] = bounds[k] ?? [-1, -1];
    const restLeft = Array.from({ length: nextI - fromI - 1 }, (_, n) => fromI + 1 + n);
    const restRight = Array.from({ length: nextJ - fromJ - 1 }, (_, n) => fromJ + 1 + n);
    for (const [a, b] of longestCommon(restLeft.length, restRight.length, (a, b) => typeOf(left.layers, restLeft[a]) === typeOf(right.layers, restRight[b]))) {
      const [i, j] = [restLeft[a], restRight[b]];
      if (i !== undefined && j !== undefined) pairOf.set(i, j);
    }
  });

  // Rows in A's order, B's unpaired layers placed before the next pair that follows them in B.
  const rows: DiffRow[] = [];
  const emitted = new Set(pairOf.values());
  const addUpTo = (end: number) => {
    right.layers.slice(0, end).forEach((layer, j) => {
      if (emitted.has(j)) return;
      emitted.add(j);
      rows.push({ status: 'added', left: null, right: layer, differences: [] });
    });
  };
  left.layers.forEach((layer, i) => {
    const j = pairOf.get(i);
    const paired = j === undefined ? undefined : right.layers[j];
    if (j === undefined || !paired) {
      rows.push({ status: 'removed', left: layer, right: null, differences: [] });
      return;
    }
    addUpTo(j);
    const found = differences(layer, paired);
    rows.push({ status: found.length ? 'changed' : 'same', left: layer, right: paired, differences: found });
  });
  addUpTo(right.layers.length);
  return { left, right, rows };
}

const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${formatCount(Math.abs(n))}`;

function totalLine(label: string, a: number | null | undefined, b: number | null | undefined): string {
  const text = (n: number | null | undefined) => (n === null || n === undefined ? '?' : formatCount(n));
  return `${label}: ${text(a)} → ${text(b)}${typeof a === 'number' && typeof b === 'number' ? ` (${signed(b - a)})` : ''}`;
}

const marks: Record<DiffRow['status'], string> = { same: ' ', changed: '~', removed: '-', added: '+' };

/** The diff as text: a mark per row (~ changed, - only in A, + only in B), each side's layer, output and parameters, and the totals. */
export function formatModelDiff(diff: ModelDiff, leftTitle: string, rightTitle: string): string {
  const side = (layer: LayerReport | null) => (layer ? [`${layer.name} (${layer.type})`, shapeText(layer), layer.params ? formatCount(layer.params) : '--'] : ['', '', '']);
  const header = ['Layer (type)', 'Output shape', 'Param #'];
  const cells = diff.rows.map((row) => [...side(row.left), ...side(row.right)]);
  const widths = [...header, ...header].map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const half = (values: string[], offset: number) => values.map((v, i) => (i === 2 ? v.padStart(widths[offset + i] ?? 0) : v.padEnd(widths[offset + i] ?? 0))).join('   ');
  const line = (mark: string, values: string[]) => `${mark} ${half(values.slice(0, 3), 0)}  │  ${half(values.slice(3), 3)}`;
  const rule = '─'.repeat(line(' ', [...header, ...header]).length);
  const counts = (['changed', 'removed', 'added'] as const).map((status) => [status, diff.rows.filter((r) => r.status === status).length] as const);
  return [
    `A: ${leftTitle}`,
    `B: ${rightTitle}`,
    rule,
    line(' ', [...header, ...header]),
    rule,
    ...diff.rows.map((row, i) => line(marks[row.status], cells[i] ?? [])),
    rule,
    totalLine('Total params', diff.left.totalParams, diff.right.totalParams),
    totalLine('Mult-adds', diff.left.totalMacs, diff.right.totalMacs),
    `Output: ${formatShape(diff.left.output)} → ${formatShape(diff.right.output)}`,
    `Layers: ${diff.left.layers.length} → ${diff.right.layers.length}; ${counts.map(([status, n]) => `${n} ${status}`).join(', ')}, ${diff.rows.length - counts.reduce((s, [, n]) => s + n, 0)} the same`,
  ].join('\n');
}

/** The diff for --json: each row's status and both sides' name, type, output, parameters and mult-adds. */
export function modelDiffJson(diff: ModelDiff, leftFile: string, rightFile: string): object {
  const layer = (l: LayerReport | null) => (l ? { name: l.name, type: l.type, output: l.out, params: l.params, macs: l.macs ?? null } : null);
  const model = (m: ModelReport, file: string) => ({ file, model: m.name, input: m.input, output: m.output, totalParams: m.totalParams, totalMacs: m.totalMacs ?? null, layers: m.layers.length });
  return { left: model(diff.left, leftFile), right: model(diff.right, rightFile), rows: diff.rows.map((r) => ({ status: r.status, differences: r.differences, left: layer(r.left), right: layer(r.right) })) };
}
