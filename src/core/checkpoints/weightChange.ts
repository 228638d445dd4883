// How far one set of weights is from another; pure arithmetic, shared by the checkpoint diff, the
// inspector's host and its page (no Node, no DOM).

/** ‖y − x‖₂, that over ‖x‖₂, and cos(x, y) (null where a norm is 0) of two tensors of one shape. */
export function changeBetween(x: ArrayLike<number>, y: ArrayLike<number>): { l2: number; relative: number | null; cosine: number | null } {
  let difference = 0;
  let normX = 0;
  let normY = 0;
  let dot = 0;
  for (let i = 0; i < x.length; i++) {
    const u = x[i] ?? 0;
    const v = y[i] ?? 0;
    difference += (v - u) ** 2;
    normX += u * u;
    normY += v * v;
    dot += u * v;
  }
  const l2 = Math.sqrt(difference);
  return { l2, relative: normX > 0 ? l2 / Math.sqrt(normX) : null, cosine: normX > 0 && normY > 0 ? dot / Math.sqrt(normX * normY) : null };
}
