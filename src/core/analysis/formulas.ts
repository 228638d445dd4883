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
