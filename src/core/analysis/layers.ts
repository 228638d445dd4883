// The shape engine: one typed layer kind each, one computeOutputShape per kind over the pure
// formulas, and parameter counts equal to PyTorch's `sum(p.numel() for p in module.parameters())`.
import { convOutputLength, convTransposeOutputLength, poolOutputLength } from './formulas';
import { type Dim, normalizeDim, product, type Shape } from './shape';

export type LayerSpec =
  | {
      kind: 'conv';
      rank: 1 | 2 | 3;
      transposed: boolean;
      inChannels: number;
      outChannels: number;
      kernel: number[];
      stride: number[];
      padding: number[] | 'same' | 'valid';
      dilation: number[];
      outputPadding: number[];
      groups: number;
      bias: boolean;
    }
  | { kind: 'linear'; inFeatures: number; outFeatures: number; bias: boolean }
  | { kind: 'pool'; op: 'max' | 'avg'; rank: 1 | 2 | 3; kernel: number[]; stride: number[]; padding: number[]; dilation: number[]; ceilMode: boolean }
  | { kind: 'adaptivePool'; op: 'max' | 'avg'; rank: 1 | 2 | 3; output: Dim[] }
  | { kind: 'batchNorm'; rank: 1 | 2 | 3; features: number; affine: boolean }
  | { kind: 'layerNorm'; normalizedShape: number[]; affine: boolean; bias: boolean }
  | { kind: 'groupNorm'; groups: number; channels: number; affine: boolean }
  | { kind: 'flatten'; startDim: number; endDim: number }
  | { kind: 'embedding'; count: number; dim: number }
  | { kind: 'upsample'; size: number[] | null; scale: number[] | null }
  | { kind: 'prelu'; count: number }
  /** Shape-preserving layers: activations, dropout, identity. */
  | { kind: 'elementwise' };

export interface LayerResult {
  shape: Shape | null;
  /** What is wrong with the input, naming both numbers; the shape then is the layer's best guess. */
  error?: string;
  /** Why the shape is unknown, when it is. */
  unknown?: string;
}

function expectRank(input: Shape, ranks: number[], type: string): string | undefined {
  return ranks.includes(input.length) ? undefined : `${type} expects a ${ranks.join('- or ')}-dimensional input (with batch) but receives ${input.length} dimensions`;
}

export function computeOutputShape(spec: LayerSpec, type: string, input: Shape): LayerResult {
  switch (spec.kind) {
    case 'elementwise':
      return { shape: input };
    case 'linear': {
      const last = input[input.length - 1];
      const shape = [...input.slice(0, -1), spec.outFeatures];
      if (input.length === 0) return { shape: null, error: `${type} receives a scalar` };
      if (last !== null && last !== undefined && last !== spec.inFeatures) {
        return { shape, error: `${type} expects ${spec.inFeatures} input features but receives ${last}` };
      }
      return { shape };
    }
    case 'conv': {
      const rankError = expectRank(input, [spec.rank + 2], type);
      if (rankError) return { shape: null, error: rankError };
      const channels = input[1] ?? null;
      const spatial = input.slice(2).map((length, i) => {
        if (length === null) return null;
        const k = spec.kernel[i] ?? 1;
        const s = spec.stride[i] ?? 1;
        const d = spec.dilation[i] ?? 1;
        if (spec.padding === 'same') return length;
        const p = spec.padding === 'valid' ? 0 : (spec.padding[i] ?? 0);
        return spec.transposed ? convTransposeOutputLength(length, k, s, p, d, spec.outputPadding[i] ?? 0) : convOutputLength(length, k, s, p, d);
      });
      const shape = [input[0] ?? null, spec.outChannels, ...spatial];
      if (channels !== null && channels !== spec.inChannels) {
        return { shape, error: `${type} expects ${spec.inChannels} input channels but receives ${channels}` };
      }
      return shrinkCheck(shape, input, type);
    }
    case 'pool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      const spatial = input.slice(lead).map((length, i) =>
        length === null ? null : poolOutputLength(length, spec.kernel[i] ?? 1, spec.stride[i] ?? 1, spec.padding[i] ?? 0, spec.dilation[i] ?? 1, spec.ceilMode),
      );
      return shrinkCheck([...input.slice(0, lead), ...spatial], input, type);
    }
    case 'adaptivePool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      // None in output_size keeps that input dimension.
      return { shape: [...input.slice(0, lead), ...spec.output.map((d, i) => d ?? input[lead + i] ?? null)] };
    }
    case 'batchNorm': {
      const rankError = expectRank(input, spec.rank === 1 ? [2, 3] : [spec.rank + 2], type);
      if (rankError) return { shape: null, error: rankError };
      const channels = input[1] ?? null;
      if (channels !== null && channels !== spec.features) return { shape: input, error: `${type} expects ${spec.features} channels but receives ${channels}` };
      return { shape: input };
    }
    case 'layerNorm': {
      const tail = input.slice(input.length - spec.normalizedShape.length);
      const mismatch = tail.some((d, i) => d !== null && d !== spec.normalizedShape[i]);
      if (mismatch) return { shape: input, error: `${type} normalizes the last dimensions [${spec.normalizedShape.join(', ')}] but receives [${tail.join(', ')}]` };
      return { shape: input };
    }
    case 'groupNorm': {
      const channels = input[1] ?? null;
      if (channels !== null && channels !== spec.channels) return { shape: input, error: `${type} expects ${spec.channels} channels but receives ${channels}` };
      return { shape: input };
    }
    case 'prelu': {
      const channels = input[1] ?? null;
      if (spec.count !== 1 && channels !== null && channels !== spec.count) return { shape: input, error: `${type} has ${spec.count} parameters but receives ${channels} channels` };
      return { shape: input };
    }
    case 'flatten':
      return { shape: flattenShape(input, spec.startDim, spec.endDim) };
    case 'embedding':
      return { shape: [...input, spec.dim] };
    case 'upsample': {
      if (input.length < 3) return { shape: null, error: `${type} expects a batched input with channels and at least one spatial dimension` };
      const spatial = input.slice(2).map((length, i) => {
        if (spec.size) return spec.size[i] ?? spec.size[0] ?? null;
        const factor = spec.scale?.[i] ?? spec.scale?.[0] ?? 1;
        return length === null ? null : Math.floor(length * factor);
      });
      return { shape: [...input.slice(0, 2), ...spatial] };
    }
  }
}

function shrinkCheck(shape: Dim[], input: Shape, type: string): LayerResult {
  if (shape.slice(2).some((d) => d !== null && d < 1)) {
    return { shape, error: `${type} shrinks the input ${formatSpatial(input)} below 1: the output would be ${formatSpatial(shape)}` };
  }
  return { shape };
}

function formatSpatial(shape: Shape): string {
  return shape.slice(2).map((d) => (d === null ? '?' : String(d))).join('×');
}

/** torch.flatten(x, start, end): the dimensions start..end multiplied into one. */
export function flattenShape(input: Shape, startDim: number, endDim: number): Shape {
  const start = normalizeDim(startDim, input.length);
  const end = normalizeDim(endDim, input.length);
  if (start > end || start < 0 || end >= input.length) return input;
  return [...input.slice(0, start), product(input.slice(start, end + 1)), ...input.slice(end + 1)];
}

/** What `sum(p.numel() for p in module.parameters())` gives for a freshly built layer. */
export function paramCount(spec: LayerSpec): number {
  switch (spec.kind) {
    case 'conv': {
      const kernel = spec.kernel.reduce((a, b) => a * b, 1);
      const weights = spec.transposed ? spec.inChannels * (spec.outChannels / spec.groups) * kernel : spec.outChannels * (spec.inChannels / spec.groups) * kernel;
      return weights + (spec.bias ? spec.outChannels : 0);
    }
    case 'linear':
      return spec.inFeatures * spec.outFeatures + (spec.bias ? spec.outFeatures : 0);
    case 'batchNorm':
      return spec.affine ? 2 * spec.features : 0;
    case 'layerNorm': {
      const size = spec.normalizedShape.reduce((a, b) => a * b, 1);
      return spec.affine ? size * (spec.bias ? 2 : 1) : 0;
    }
    case 'groupNorm':
      return spec.affine ? 2 * spec.channels : 0;
    case 'embedding':
      return spec.count * spec.dim;
    case 'prelu':
      return spec.count;
    case 'pool':
    case 'adaptivePool':
    case 'flatten':
    case 'upsample':
    case 'elementwise':
      return 0;
  }
}
