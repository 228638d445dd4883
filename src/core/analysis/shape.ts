// Tensor shapes as the analysis sees them: a leading batch dimension, then PyTorch's layout
// (N, C, H, W). A null dimension is one that cannot be known statically.
export type Dim = number | null;
export type Shape = readonly Dim[];

export function formatShape(shape: Shape | null): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '?';
}

/** The product of the dimensions, or null if any is unknown. */
export function product(dims: readonly Dim[]): Dim {
  let result = 1;
  for (const d of dims) {
    if (d === null) return null;
    result *= d;
  }
  return result;
}

/** Python's index rule: -1 is the last dimension. */
export function normalizeDim(dim: number, rank: number): number {
  return dim < 0 ? rank + dim : dim;
}

/** Two shapes equal dimension by dimension; a shape not known equals none. */
export function sameShape(a: Shape | null, b: Shape | null): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}
