// How View Tensor draws a sampled tensor, shared by the host's tests and the webview (no Node, no DOM).

/** How the sampled values are drawn: one colour image, or grey maps (the last two axes), or one strip for a vector. */
export interface TensorPicture {
  layout: 'rgb' | 'maps';
  /** Maps drawn (the leading axes flattened); 1 for an RGB image. */
  maps: number;
  height: number;
  width: number;
  /** Where value (map, y, x) sits in the floats; for RGB, `channel` steps between R, G and B. */
  offset(map: number, y: number, x: number): number;
  channel: number;
}

/**
 * The picture a sampled tensor makes: H×W×3 (a PIL image, or numpy's photo layout) and 3×H×W or
 * 1×3×H×W (PyTorch's) as colour; otherwise the last two axes as grey maps, one per index of the
 * axes before them (N×C×H×W: N·C maps), a vector as one row, a scalar as one pixel.
 */
export function tensorPicture(sampledShape: readonly number[]): TensorPicture {
  const shape = sampledShape.length ? [...sampledShape] : [1];
  const [height, width] = shape.length === 1 ? [1, shape[0] ?? 1] : [shape.at(-2) ?? 1, shape.at(-1) ?? 1];
  if (shape.length === 3 && shape[2] === 3) return { layout: 'rgb', maps: 1, height: shape[0] ?? 1, width: shape[1] ?? 1, channel: 1, offset: (_, y, x) => (y * (shape[1] ?? 1) + x) * 3 };
  const leading = shape.slice(0, -2);
  if ((shape.length === 3 && shape[0] === 3) || (shape.length === 4 && shape[0] === 1 && shape[1] === 3)) return { layout: 'rgb', maps: 1, height, width, channel: height * width, offset: (_, y, x) => y * width + x };
  const maps = shape.length === 1 ? 1 : leading.reduce((a, b) => a * b, 1);
  return { layout: 'maps', maps, height, width, channel: 0, offset: (map, y, x) => (map * height + y) * width + x };
}

/** Counts of the finite values in `bins` equal bins from their least to their greatest. */
export function tensorHistogram(floats: Float32Array, bins = 40): { counts: number[]; min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of floats) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return null;
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins || 1;
  for (const v of floats) {
    if (!Number.isFinite(v)) continue;
    const bin = Math.min(bins - 1, Math.floor((v - min) / width));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { counts, min, max };
}
