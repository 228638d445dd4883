// Shaping long training curves for a chart that must stay smooth: smoothing on the full series,
// then decimation to a bounded number of points that keeps every spike.

/** Points as a flat array, x0, y0, x1, y1, …: half the size of objects in a message. */
export type FlatPoints = number[];

/**
 * TensorBoard's smoothing: an exponential moving average with weight in [0, 1), debiased so that
 * the first points are not pulled towards zero. Non-finite values are passed through unsmoothed.
 */
export function smooth(values: readonly number[], weight: number): number[] {
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (!Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count++;
    return weight === 0 ? value : last / (1 - weight ** count);
  });
}

/**
 * At most `max` points of the series: the first and the last, and of each equal run between them
 * its lowest and its highest point in their order, so a spike survives however long the run.
 */
export function decimate(xs: readonly number[], ys: readonly number[], max: number): FlatPoints {
  const count = Math.min(xs.length, ys.length);
  const flat: FlatPoints = [];
  const push = (i: number) => flat.push(xs[i] ?? 0, ys[i] ?? 0);
  if (count <= max) {
    for (let i = 0; i < count; i++) push(i);
    return flat;
  }
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const size = (count - 2) / buckets;
  push(0);
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor(b * size);
    const end = Math.min(count - 1, 1 + Math.floor((b + 1) * size));
    let low = start;
    let high = start;
    for (let i = start; i < end; i++) {
      if ((ys[i] ?? 0) < (ys[low] ?? 0)) low = i;
      if ((ys[i] ?? 0) > (ys[high] ?? 0)) high = i;
    }
    if (end <= start) continue;
    push(Math.min(low, high));
    if (low !== high) push(Math.max(low, high));
  }
  push(count - 1);
  return flat;
}

/**
 * The confusion matrix as the report draws it: each cell with its count and its share of the true
 * class (the row), which sets its colour, so a rare class's errors show as clearly as a common one's.
 */
export function confusionCells(confusion: readonly (readonly number[])[]): { count: number; share: number }[][] {
  return confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count) => ({ count, share: total ? count / total : 0 }));
  });
}
