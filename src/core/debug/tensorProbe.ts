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
export function tensorProbeExpression(probeSource: string, value: string, limit = tensorValueLimit, sendValues = true): string {
  return `(lambda namespace, value: (exec(${JSON.stringify(probeSource)}, namespace), namespace["probe"](value, ${limit}, ${sendValues ? 'True' : 'False'}))[1])({}, (${value}))`;
}

/** The hover's one line: kind, shape, dtype, device, and the least and greatest finite values (of a sample when it says so). */
export function tensorSummary(answer: TensorProbeAnswer): string {
  if (answer.kind === 'other') return `${answer.type}: not a tensor`;
  const kind = answer.kind === 'torch' ? 'tensor' : answer.kind === 'numpy' ? 'ndarray' : 'PIL image';
  const range = answer.stats && answer.stats.min !== null ? ` · min ${Number(answer.stats.min.toPrecision(4))} · max ${Number((answer.stats.max ?? 0).toPrecision(4))}${(answer.step ?? 1) > 1 ? ' (of a sample)' : ''}` : '';
  const bad = answer.stats && answer.stats.nan + answer.stats.inf > 0 ? ` · ${answer.stats.nan} NaN, ${answer.stats.inf} Inf` : '';
  return `${kind} ${answer.shape.join('×') || 'scalar'} · ${answer.dtype} · ${answer.device}${range}${bad}`;
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
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(answer.values), (c) => c.charCodeAt(0));
  } catch {
    return { problem: 'the values are not base64' };
  }
  const expected = (answer.sampledShape ?? []).reduce((a, b) => a * b, 1);
  if (bytes.length !== expected * 4) return { problem: `the values (${bytes.length} bytes) do not fill the sampled shape [${(answer.sampledShape ?? []).join(', ')}]` };
  return { ...answer, floats: new Float32Array(bytes.buffer) };
}
