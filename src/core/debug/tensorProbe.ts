// View Tensor's question to a paused Python program, and the checked answer. The question is
// src/trainer/tensor_probe.py run by `exec` in a namespace of its own, through the debugger's
// `evaluate` in the paused frame; the answer is one JSON line that the debuggee wrote and so is
// checked like any message from outside: bounded sizes, known kinds, values that match their shape.
import { array, type Infer, literal, nullable, number, object, optional, safeParse, string, union } from '../schema';

/** At most this many values come back (float32, base64: 1.4 MB); larger tensors are sampled with a stride. */
export const tensorValueLimit = 1 << 18;

const count = number({ integer: true, min: 0 });
const shape = array(count, { maxLength: 16 });
const statistic = nullable(number());

export const tensorProbeAnswer = union(
  object({
    kind: literal('torch', 'numpy', 'pil'),
    shape,
    dtype: string({ maxLength: 60 }),
    device: string({ maxLength: 60 }),
    /** Why no values came, or how they were sampled. */
    note: nullable(string({ maxLength: 500 })),
    step: optional(count),
    sampledShape: optional(shape),
    stats: optional(object({ min: statistic, max: statistic, mean: statistic, std: statistic, nan: count, inf: count })),
    values: optional(string({ maxLength: 4 * Math.ceil((tensorValueLimit * 4) / 3) })),
  }),
  object({ kind: literal('other'), type: string({ maxLength: 200 }) }),
);
export type TensorProbeAnswer = Infer<typeof tensorProbeAnswer>;

/**
 * The expression for `evaluate`: the probe's source defined in a fresh namespace, then called with the
 * value. The value is an argument of the outer call, evaluated in the paused frame's scope (inside
 * the lambda's body a local of that frame would not be seen).
 */
export function tensorProbeExpression(probeSource: string, value: string, limit = tensorValueLimit): string {
  return `(lambda namespace, value: (exec(${JSON.stringify(probeSource)}, namespace), namespace["probe"](value, ${limit}))[1])({}, (${value}))`;
}

/** A Python str's repr (as a debugger shows a result) back to the str; a plain string stays as it is. */
function unquote(result: string): string {
  const quote = result[0];
  if ((quote !== "'" && quote !== '"') || result.at(-1) !== quote) return result;
  return result.slice(1, -1).replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped));
}

export type TensorView = (TensorProbeAnswer & { kind: 'torch' | 'numpy' | 'pil' }) & { floats: Float32Array | null };

/** The debuggee's answer, checked: a described tensor with its sampled values, another kind of object, or why it cannot be read. */
export function parseTensorProbe(result: string): TensorView | { kind: 'other'; type: string } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(unquote(result.trim()));
  } catch {
    return { problem: `the debugger's answer is not the probe's: ${result.slice(0, 200)}` };
  }
  const parsed = safeParse(tensorProbeAnswer, json);
  if (!parsed.ok) return { problem: `the debugger's answer does not fit (${parsed.error})` };
  const answer = parsed.value;
  if (answer.kind === 'other') return answer;
  if (answer.values === undefined) return { ...answer, floats: null };
  const bytes = Buffer.from(answer.values, 'base64');
  const expected = (answer.sampledShape ?? []).reduce((a, b) => a * b, 1);
  if (bytes.length !== expected * 4) return { problem: `the values (${bytes.length} bytes) do not fill the sampled shape [${(answer.sampledShape ?? []).join(', ')}]` };
  return { ...answer, floats: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
}

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
