// The arithmetic of each layer kind, as PyTorch's documentation states it. Pure, so the shape
// engine, the hovers and the tests share one source of truth.

/** Conv and pooling output length: floor((L + 2p − d·(k − 1) − 1) / s) + 1. */
export function convOutputLength(length: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((length + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** ConvTranspose: (L − 1)·s − 2p + d·(k − 1) + output_padding + 1. */
export function convTransposeOutputLength(length: number, kernel: number, stride: number, padding: number, dilation: number, outputPadding: number): number {
  return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
}

/**
 * Max/avg pooling. With ceil_mode the last window may start in the padding only if it starts
 * inside the input or left padding, which PyTorch enforces by dropping it otherwise.
 */
export function poolOutputLength(length: number, kernel: number, stride: number, padding: number, dilation: number, ceilMode: boolean): number {
  const span = length + 2 * padding - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= length + padding) out -= 1;
  return out;
}

/** 'same' padding keeps the length (PyTorch allows it only with stride 1). */
export function samePaddingTotal(kernel: number, dilation: number): number {
  return dilation * (kernel - 1);
}

/** MaxUnpool: (L − 1)·s − 2p + k, the length the matching MaxPool came from. */
export function maxUnpoolOutputLength(length: number, kernel: number, stride: number, padding: number): number {
  return (length - 1) * stride - 2 * padding + kernel;
}

/** Upsample's scale_factor and FractionalMaxPool's output_ratio: floor(L · factor), in doubles as PyTorch computes it. */
export function scaledLength(length: number, factor: number): number {
  return Math.floor(length * factor);
}

/** Gates per recurrent layer kind: one for RNN, four for LSTM, three for GRU. */
const gates = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 } as const;

/**
 * RNN/LSTM/GRU weights: per layer and direction, weight_ih (g·H × in), weight_hh (g·H × H_out),
 * two biases of g·H, and with proj_size P an LSTM's weight_hr (P × H). Layers after the first take
 * the directions' outputs concatenated.
 */
export function recurrentParams(mode: keyof typeof gates, inputSize: number, hiddenSize: number, numLayers: number, bias: boolean, directions: number, projSize: number): number {
  const gated = gates[mode] * hiddenSize;
  const hiddenOut = projSize > 0 ? projSize : hiddenSize;
  let total = 0;
  for (let layer = 0; layer < numLayers; layer++) {
    const layerInput = layer === 0 ? inputSize : directions * hiddenOut;
    const perDirection = gated * layerInput + gated * hiddenOut + (bias ? 2 * gated : 0) + (projSize > 0 ? projSize * hiddenSize : 0);
    total += directions * perDirection;
  }
  return total;
}

/**
 * MultiheadAttention: the query/key/value projections (one packed 3E × E matrix when kdim and vdim
 * equal E), their 3E biases, out_proj (E × E + E) and, with add_bias_kv, bias_k and bias_v.
 */
export function attentionParams(embedDim: number, kdim: number, vdim: number, bias: boolean, addBiasKv: boolean): number {
  const projections = embedDim * (embedDim + kdim + vdim);
  const outProjection = embedDim * embedDim + (bias ? embedDim : 0);
  return projections + (bias ? 3 * embedDim : 0) + outProjection + (addBiasKv ? 2 * embedDim : 0);
}

/** The keys attention weighs: S, plus one for bias_k (add_bias_kv) and one for add_zero_attn. */
export function attentionSourceLength(length: number, addBiasKv: boolean, addZeroAttn: boolean): number {
  return length + Number(addBiasKv) + Number(addZeroAttn);
}

/**
 * AdaptiveLogSoftmaxWithLoss: a head Linear(in, shortlist + clusters) and per cluster i a
 * Linear(in, in // div^(i+1)) then Linear(that, its class count), both without bias.
 */
export function adaptiveSoftmaxParams(inFeatures: number, nClasses: number, cutoffs: number[], divValue: number, headBias: boolean): number {
  const bounds = [...cutoffs, nClasses];
  const headSize = (cutoffs[0] ?? nClasses) + cutoffs.length;
  let total = inFeatures * headSize + (headBias ? headSize : 0);
  for (let i = 0; i < cutoffs.length; i++) {
    const hidden = Math.floor(inFeatures / divValue ** (i + 1));
    total += inFeatures * hidden + hidden * ((bounds[i + 1] ?? 0) - (bounds[i] ?? 0));
  }
  return total;
}
