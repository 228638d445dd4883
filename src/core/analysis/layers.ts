// The shape engine: one typed layer kind each, one computeOutputShape per kind over the pure
// formulas, and parameter counts equal to PyTorch's `sum(p.numel() for p in module.parameters())`.
import {
  adaptiveSoftmaxParams,
  attentionParams,
  attentionSourceLength,
  convOutputLength,
  convTransposeOutputLength,
  maxUnpoolOutputLength,
  poolOutputLength,
  recurrentParams,
  scaledLength,
} from './formulas';
import { type Dim, normalizeDim, product, type Shape } from './shape';

type Rank = 1 | 2 | 3;
export type RecurrentMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export interface ConvSpec {
  kind: 'conv';
  rank: Rank;
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
export interface LinearSpec {
  kind: 'linear';
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}
export interface BatchNormSpec {
  kind: 'batchNorm';
  rank: Rank;
  /** Instance norms also take an input without a batch dimension; SyncBatchNorm (rank 1) any of two or more dimensions. */
  variant: 'batch' | 'instance' | 'sync';
  features: number;
  affine: boolean;
  /** Its running statistics, buffers of the state_dict (BatchNorm's by default, InstanceNorm's not). */
  trackRunningStats?: boolean;
}
export interface LayerNormSpec {
  kind: 'layerNorm';
  normalizedShape: number[];
  affine: boolean;
  bias: boolean;
}
/** A lazy layer before its first call: the template lacks the size PyTorch reads from the input. */
export type LazyTemplate = Omit<ConvSpec, 'inChannels'> | Omit<LinearSpec, 'inFeatures'> | Omit<BatchNormSpec, 'features'>;

export type LayerSpec =
  | ConvSpec
  | LinearSpec
  | { kind: 'lazy'; template: LazyTemplate }
  | { kind: 'pool'; op: 'max' | 'avg' | 'lp'; rank: Rank; kernel: number[]; stride: number[]; padding: number[]; dilation: number[]; ceilMode: boolean; returnIndices: boolean }
  | { kind: 'adaptivePool'; op: 'max' | 'avg'; rank: Rank; output: Dim[]; returnIndices: boolean }
  /** output_size, or the input times output_ratio. */
  | { kind: 'fractionalMaxPool'; rank: 2 | 3; output: number[] | null; ratio: number[] | null; returnIndices: boolean }
  | { kind: 'maxUnpool'; rank: Rank; kernel: number[]; stride: number[]; padding: number[] }
  /** padding in F.pad's order: the last dimension's (left, right) first. */
  | { kind: 'pad'; rank: Rank; mode: 'constant' | 'reflect' | 'replicate' | 'circular'; padding: number[] }
  | BatchNormSpec
  | LayerNormSpec
  | { kind: 'groupNorm'; groups: number; channels: number; affine: boolean }
  | { kind: 'flatten'; startDim: number; endDim: number }
  /** sizes may hold one -1, inferred as in view(). */
  | { kind: 'unflatten'; dim: number; sizes: number[] }
  | { kind: 'fold'; output: number[]; kernel: number[]; dilation: number[]; padding: number[]; stride: number[] }
  | { kind: 'unfold'; kernel: number[]; dilation: number[]; padding: number[]; stride: number[] }
  | { kind: 'pixelShuffle'; factor: number; inverse: boolean }
  | { kind: 'embedding'; count: number; dim: number }
  | { kind: 'embeddingBag'; count: number; dim: number; includeLastOffset: boolean }
  | { kind: 'upsample'; size: number[] | null; scale: number[] | null; mode: string }
  | { kind: 'prelu'; count: number }
  | { kind: 'glu'; dim: number }
  | { kind: 'bilinear'; in1Features: number; in2Features: number; outFeatures: number; bias: boolean }
  | { kind: 'recurrent'; mode: RecurrentMode; inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean; bidirectional: boolean; projSize: number }
  | { kind: 'recurrentCell'; mode: RecurrentMode; inputSize: number; hiddenSize: number; bias: boolean }
  | { kind: 'attention'; embedDim: number; numHeads: number; bias: boolean; addBiasKv: boolean; addZeroAttn: boolean; kdim: number; vdim: number; batchFirst: boolean }
  | { kind: 'transformerLayer'; decoder: boolean; dModel: number; nhead: number; dimFeedforward: number; batchFirst: boolean; bias: boolean }
  /** TransformerEncoder/Decoder: num_layers copies of the layer they were given, then norm. */
  | { kind: 'transformerStack'; layer: LayerSpec; numLayers: number; norm: LayerSpec | null }
  | { kind: 'transformer'; encoder: LayerSpec; decoder: LayerSpec }
  /** CosineSimilarity reduces `dim` of the broadcast inputs; PairwiseDistance the last one. */
  | { kind: 'distance'; dim: number; keepdim: boolean }
  /**
   * With reduction 'none' a loss keeps the input's shape ('elementwise'), drops the class
   * dimension 1 ('class'), the last ('sample'), or CTC's time and class dimensions ('ctc').
   */
  | { kind: 'loss'; reduction: 'none' | 'mean' | 'sum' | 'batchmean'; unreduced: 'elementwise' | 'class' | 'sample' | 'ctc' }
  | { kind: 'adaptiveSoftmax'; inFeatures: number; nClasses: number; cutoffs: number[]; divValue: number; headBias: boolean }
  /** Shape-preserving layers: activations, dropout, identity. */
  | { kind: 'elementwise' };

/** A forward's result: a tensor's shape, null for None or unknown, or a tuple of them. */
export type OutputTree = Shape | null | OutputTree[];

export interface LayerResult {
  shape: Shape | null;
  /** What is wrong with the input, naming both numbers; the shape then is the layer's best guess. */
  error?: string;
  /** Why the shape is unknown, when it is. */
  unknown?: string;
  /** The whole result of a layer whose forward returns a tuple; `shape` is its first tensor's. */
  outputs?: OutputTree;
  /** A lazy layer as its first call makes it, for counting its parameters. */
  materialized?: LayerSpec;
}

function expectRank(input: Shape, ranks: number[], type: string): string | undefined {
  return ranks.includes(input.length) ? undefined : `${type} expects a ${ranks.join('- or ')}-dimensional input (with batch) but receives ${input.length} dimensions`;
}

function known(d: Dim | undefined): d is number {
  return d !== null && d !== undefined;
}

function withOutputs(outputs: OutputTree[], error?: string): LayerResult {
  const first = outputs[0];
  return { shape: Array.isArray(first) && !first.some(Array.isArray) ? (first as Shape) : null, outputs, ...(error ? { error } : {}) };
}

/**
 * The layer's output for `input`; `extraInputs` are the forward's further tensor arguments in order
 * (Bilinear's x2, attention's key and value, the decoders' memory, Transformer's tgt, MaxUnpool's
 * indices then output_size given as a shape, EmbeddingBag's offsets, a loss's target).
 */
export function computeOutputShape(spec: LayerSpec, type: string, input: Shape, extraInputs: Shape[] = []): LayerResult {
  switch (spec.kind) {
    case 'elementwise':
      return { shape: input };
    case 'linear': {
      const last = input[input.length - 1];
      const shape = [...input.slice(0, -1), spec.outFeatures];
      if (input.length === 0) return { shape: null, error: `${type} receives a scalar` };
      if (known(last) && last !== spec.inFeatures) {
        return { shape, error: `${type} expects ${spec.inFeatures} input features but receives ${last}` };
      }
      return { shape };
    }
    case 'conv': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      const channels = input[lead - 1] ?? null;
      const spatial = input.slice(lead).map((length, i) => {
        if (length === null) return null;
        const k = spec.kernel[i] ?? 1;
        const s = spec.stride[i] ?? 1;
        const d = spec.dilation[i] ?? 1;
        if (spec.padding === 'same') return length;
        const p = spec.padding === 'valid' ? 0 : (spec.padding[i] ?? 0);
        return spec.transposed ? convTransposeOutputLength(length, k, s, p, d, spec.outputPadding[i] ?? 0) : convOutputLength(length, k, s, p, d);
      });
      const shape = [...input.slice(0, lead - 1), spec.outChannels, ...spatial];
      if (channels !== null && channels !== spec.inChannels) {
        return { shape, error: `${type} expects ${spec.inChannels} input channels but receives ${channels}` };
      }
      return shrinkCheck(shape, spec.rank, input, type);
    }
    case 'lazy':
      return computeLazy(spec.template, type, input);
    case 'pool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      const spatial = input.slice(lead).map((length, i) =>
        length === null ? null : poolOutputLength(length, spec.kernel[i] ?? 1, spec.stride[i] ?? 1, spec.padding[i] ?? 0, spec.dilation[i] ?? 1, spec.ceilMode),
      );
      return indices(shrinkCheck([...input.slice(0, lead), ...spatial], spec.rank, input, type), spec.returnIndices);
    }
    case 'adaptivePool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      // None in output_size keeps that input dimension.
      return indices({ shape: [...input.slice(0, lead), ...spec.output.map((d, i) => d ?? input[lead + i] ?? null)] }, spec.returnIndices);
    }
    case 'fractionalMaxPool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      const spatial = input.slice(lead).map((length, i) => spec.output?.[i] ?? (length === null ? null : scaledLength(length, spec.ratio?.[i] ?? 1)));
      return indices({ shape: [...input.slice(0, lead), ...spatial] }, spec.returnIndices);
    }
    case 'maxUnpool': {
      const rankError = expectRank(input, [spec.rank + 2, spec.rank + 1], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - spec.rank;
      // An explicit output_size (the forward's third argument) may end in the spatial sizes alone.
      const requested = extraInputs[1]?.slice(-spec.rank);
      const spatial = input.slice(lead).map((length, i) =>
        requested ? (requested[i] ?? null) : length === null ? null : maxUnpoolOutputLength(length, spec.kernel[i] ?? 1, spec.stride[i] ?? 1, spec.padding[i] ?? 0),
      );
      return { shape: [...input.slice(0, lead), ...spatial] };
    }
    case 'pad':
      return computePad(spec, type, input);
    case 'batchNorm': {
      const instance = spec.variant === 'instance';
      const ranks = spec.variant === 'sync' ? [2, 3, 4, 5, 6] : instance ? [spec.rank + 2, spec.rank + 1] : spec.rank === 1 ? [2, 3] : [spec.rank + 2];
      const rankError = expectRank(input, ranks, type);
      if (rankError) return { shape: null, error: rankError };
      const channels = instance ? (input[input.length - spec.rank - 1] ?? null) : (input[1] ?? null);
      // Without affine weights an instance norm only warns about the channel count.
      const checked = !instance || spec.affine;
      if (checked && channels !== null && channels !== spec.features) return { shape: input, error: `${type} expects ${spec.features} channels but receives ${channels}` };
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
      const channels = input.length === 1 ? (input[0] ?? null) : (input[1] ?? null);
      if (spec.count !== 1 && channels !== null && channels !== spec.count) return { shape: input, error: `${type} has ${spec.count} parameters but receives ${channels} channels` };
      return { shape: input };
    }
    case 'glu': {
      const dim = normalizeDim(spec.dim, input.length);
      const length = input[dim];
      if (length === undefined) return { shape: null, error: `${type} halves dimension ${spec.dim} of a ${input.length}-dimensional input` };
      if (known(length) && length % 2 !== 0) return { shape: null, error: `${type} halves dimension ${spec.dim}, which is ${length}, an odd size` };
      return { shape: input.map((d, i) => (i === dim && known(d) ? d / 2 : d)) };
    }
    case 'flatten':
      return { shape: flattenShape(input, spec.startDim, spec.endDim) };
    case 'unflatten':
      return computeUnflatten(spec.dim, spec.sizes, type, input);
    case 'fold':
      return computeFold(spec, type, input);
    case 'unfold': {
      const rankError = expectRank(input, [4, 3], type);
      if (rankError) return { shape: null, error: rankError };
      const lead = input.length - 3;
      const blocks = input
        .slice(-2)
        .map((length, i) => (length === null ? null : convOutputLength(length, spec.kernel[i] ?? 1, spec.stride[i] ?? 1, spec.padding[i] ?? 0, spec.dilation[i] ?? 1)));
      const channels = input[lead];
      const shape = [...input.slice(0, lead), known(channels) ? channels * spec.kernel.reduce((a, b) => a * b, 1) : null, product(blocks)];
      if (blocks.some((b) => b !== null && b < 1)) return { shape, error: `${type} finds no whole block in the input ${formatSpatial(input, 2)}` };
      return { shape };
    }
    case 'pixelShuffle':
      return computePixelShuffle(spec.factor, spec.inverse, type, input);
    case 'embedding':
      return { shape: [...input, spec.dim] };
    case 'embeddingBag': {
      if (input.length === 2) return { shape: [input[0] ?? null, spec.dim] };
      const offsets = extraInputs[0];
      if (input.length !== 1 || !offsets) return { shape: null, error: `${type} takes a 2-dimensional input, or a 1-dimensional one with offsets` };
      const bags = offsets[0] ?? null;
      return { shape: [known(bags) && spec.includeLastOffset ? bags - 1 : bags, spec.dim] };
    }
    case 'upsample':
      return computeUpsample(spec, type, input);
    case 'bilinear': {
      const other = extraInputs[0];
      const shape = [...input.slice(0, -1), spec.outFeatures];
      const [in1, in2] = [input[input.length - 1], other?.[other.length - 1]];
      if (known(in1) && in1 !== spec.in1Features) return { shape, error: `${type} expects ${spec.in1Features} features in its first input but receives ${in1}` };
      if (known(in2) && in2 !== spec.in2Features) return { shape, error: `${type} expects ${spec.in2Features} features in its second input but receives ${in2}` };
      return { shape };
    }
    case 'recurrent':
      return computeRecurrent(spec, type, input);
    case 'recurrentCell': {
      const rankError = expectRank(input, [2, 1], type);
      if (rankError) return { shape: null, error: rankError };
      const hidden = [...input.slice(0, -1), spec.hiddenSize];
      const features = input[input.length - 1];
      const error = known(features) && features !== spec.inputSize ? `${type} expects ${spec.inputSize} input features but receives ${features}` : undefined;
      return spec.mode === 'LSTM' ? withOutputs([hidden, hidden], error) : { shape: hidden, ...(error ? { error } : {}) };
    }
    case 'attention':
      return computeAttention(spec, type, input, extraInputs);
    case 'transformerLayer': {
      const rankError = expectRank(input, [3, 2], type);
      if (rankError) return { shape: null, error: rankError };
      const features = input[input.length - 1];
      if (known(features) && features !== spec.dModel) return { shape: input, error: `${type} expects ${spec.dModel} features (d_model) but receives ${features}` };
      return { shape: input };
    }
    case 'transformerStack':
      return computeOutputShape(spec.layer, type, input, extraInputs);
    case 'transformer': {
      const target = extraInputs[0];
      if (!target) return { shape: null, unknown: `${type}'s output has the shape of tgt, its second input` };
      const encoded = computeOutputShape(spec.encoder, type, input);
      if (encoded.error) return { shape: target, error: encoded.error };
      return computeOutputShape(spec.decoder, type, target, encoded.shape ? [encoded.shape] : []);
    }
    case 'distance':
      return computeDistance(spec.dim, spec.keepdim, type, input, extraInputs[0] ?? input);
    case 'loss':
      return computeLoss(spec, input);
    case 'adaptiveSoftmax': {
      const rankError = expectRank(input, [2, 1], type);
      if (rankError) return { shape: null, error: rankError };
      const features = input[input.length - 1];
      const error = known(features) && features !== spec.inFeatures ? `${type} expects ${spec.inFeatures} input features but receives ${features}` : undefined;
      // forward returns (output, loss): the target's log-probability per sample and their mean.
      return withOutputs([input.slice(0, -1), []], error);
    }
  }
}

/** A max pool with return_indices gives (output, indices), both of the output's shape. */
function indices(result: LayerResult, returnIndices: boolean): LayerResult {
  return returnIndices && result.shape ? { ...result, outputs: [result.shape, result.shape] } : result;
}

function computeLazy(template: LazyTemplate, type: string, input: Shape): LayerResult {
  let materialized: LayerSpec;
  switch (template.kind) {
    case 'conv': {
      const channels = input[input.length - template.rank - 1];
      // With the channels unknown the check against them is skipped; the rest of the shape still follows.
      if (!known(channels)) return { ...computeOutputShape({ ...template, inChannels: 0 }, type, input), unknown: `${type} takes its input channels from an unknown dimension` };
      if (channels % template.groups !== 0) return { shape: null, error: `${type} receives ${channels} input channels, not divisible by groups (${template.groups})` };
      materialized = { ...template, inChannels: channels };
      break;
    }
    case 'linear': {
      const features = input[input.length - 1];
      if (!known(features)) return { shape: [...input.slice(0, -1), template.outFeatures], unknown: `${type} takes its input features from an unknown dimension` };
      materialized = { ...template, inFeatures: features };
      break;
    }
    case 'batchNorm': {
      // PyTorch reads the features from dimension 1, with or without a batch dimension.
      const features = input[1];
      if (!known(features)) return { shape: input, unknown: `${type} takes its features from an unknown dimension` };
      materialized = { ...template, features };
      break;
    }
  }
  return { ...computeOutputShape(materialized, type, input), materialized };
}

function computePad(spec: Extract<LayerSpec, { kind: 'pad' }>, type: string, input: Shape): LayerResult {
  // Constant padding takes any number of leading dimensions; the others a channel and an optional batch.
  const anyLead = spec.mode === 'constant' && input.length >= spec.rank;
  const rankError = anyLead ? undefined : expectRank(input, [spec.rank + 2, spec.rank + 1], type);
  if (rankError) return { shape: null, error: rankError };
  const lead = input.length - spec.rank;
  const spatial = input.slice(lead).map((length, i) => {
    const axis = spec.rank - 1 - i;
    const [before, after] = [spec.padding[2 * axis] ?? 0, spec.padding[2 * axis + 1] ?? 0];
    return length === null ? null : length + before + after;
  });
  const shape = [...input.slice(0, lead), ...spatial];
  if (spec.mode === 'reflect' || spec.mode === 'circular') {
    for (const [i, length] of input.slice(lead).entries()) {
      const axis = spec.rank - 1 - i;
      const widest = Math.max(spec.padding[2 * axis] ?? 0, spec.padding[2 * axis + 1] ?? 0);
      // Reflection mirrors inside the input, so it needs more elements than the padding.
      const fits = spec.mode === 'reflect' ? widest < (length ?? Infinity) : widest <= (length ?? Infinity);
      if (!fits) return { shape, error: `${type} pads ${widest} but the input's dimension is only ${length}` };
    }
  }
  return shrinkCheck(shape, spec.rank, input, type);
}

function computeUnflatten(dim: number, sizes: number[], type: string, input: Shape): LayerResult {
  const at = normalizeDim(dim, input.length);
  const length = input[at];
  if (length === undefined) return { shape: null, error: `${type} unflattens dimension ${dim} of a ${input.length}-dimensional input` };
  const knownPart = sizes.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  const inferred = known(length) ? length / knownPart : null;
  const unflattened = sizes.map((s) => (s === -1 ? inferred : s));
  const shape = [...input.slice(0, at), ...unflattened, ...input.slice(at + 1)];
  const total = sizes.includes(-1) ? null : knownPart;
  if (known(length) && ((total !== null && total !== length) || (inferred !== null && !Number.isInteger(inferred)))) {
    return { shape, error: `${type} cannot split ${length} into [${sizes.join(', ')}]` };
  }
  return { shape };
}

function computeFold(spec: Extract<LayerSpec, { kind: 'fold' }>, type: string, input: Shape): LayerResult {
  const rankError = expectRank(input, [3, 2], type);
  if (rankError) return { shape: null, error: rankError };
  const lead = input.length - 2;
  const kernelSize = product(spec.kernel) ?? 1;
  const columns = input[lead];
  const shape = [...input.slice(0, lead), known(columns) ? columns / kernelSize : null, ...spec.output];
  if (known(columns) && columns % kernelSize !== 0) return { shape, error: `${type} needs a multiple of ${kernelSize} (the kernel's size) in dimension ${lead} but receives ${columns}` };
  const blocks = product(spec.output.map((length, i) => convOutputLength(length, spec.kernel[i] ?? 1, spec.stride[i] ?? 1, spec.padding[i] ?? 0, spec.dilation[i] ?? 1)));
  const received = input[lead + 1];
  if (known(received) && received !== blocks) return { shape, error: `${type} makes ${blocks} blocks for output_size [${spec.output.join(', ')}] but receives ${received}` };
  return { shape };
}

function computePixelShuffle(factor: number, inverse: boolean, type: string, input: Shape): LayerResult {
  if (input.length < 3) return { shape: null, error: `${type} expects an input of at least 3 dimensions but receives ${input.length}` };
  const [channels, height, width] = input.slice(-3);
  const area = factor * factor;
  if (!inverse) {
    const shape = [...input.slice(0, -3), known(channels) ? channels / area : null, known(height) ? height * factor : null, known(width) ? width * factor : null];
    if (known(channels) && channels % area !== 0) return { shape, error: `${type} needs channels divisible by ${area} (upscale_factor²) but receives ${channels}` };
    return { shape };
  }
  const shape = [...input.slice(0, -3), known(channels) ? channels * area : null, known(height) ? height / factor : null, known(width) ? width / factor : null];
  if ([height, width].some((d) => known(d) && d % factor !== 0)) return { shape, error: `${type} needs height and width divisible by ${factor} but receives ${height}×${width}` };
  return { shape };
}

function computeUpsample(spec: Extract<LayerSpec, { kind: 'upsample' }>, type: string, input: Shape): LayerResult {
  const ranks: Record<string, number> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };
  const rank = ranks[spec.mode];
  if (input.length < 3 || (rank !== undefined && input.length !== rank)) {
    return { shape: null, error: rank === undefined ? `${type} expects a batched input with channels and at least one spatial dimension` : `${type} in mode '${spec.mode}' expects a ${rank}-dimensional input but receives ${input.length} dimensions` };
  }
  const spatialRank = input.length - 2;
  const sizes = spec.size ?? spec.scale;
  if (sizes && sizes.length !== 1 && sizes.length !== spatialRank) return { shape: null, error: `${type} has ${sizes.length} sizes for ${spatialRank} spatial dimensions` };
  const spatial = input.slice(2).map((length, i) => {
    if (spec.size) return spec.size[i] ?? spec.size[0] ?? null;
    return length === null ? null : scaledLength(length, spec.scale?.[i] ?? spec.scale?.[0] ?? 1);
  });
  return { shape: [...input.slice(0, 2), ...spatial] };
}

function computeRecurrent(spec: Extract<LayerSpec, { kind: 'recurrent' }>, type: string, input: Shape): LayerResult {
  const rankError = expectRank(input, [3, 2], type);
  if (rankError) return { shape: null, error: rankError };
  const directions = spec.bidirectional ? 2 : 1;
  const hiddenOut = spec.projSize > 0 ? spec.projSize : spec.hiddenSize;
  const batch = input.length === 3 ? [input[spec.batchFirst ? 0 : 1] ?? null] : [];
  const output = [...input.slice(0, -1), directions * hiddenOut];
  const hidden = [directions * spec.numLayers, ...batch, hiddenOut];
  const features = input[input.length - 1];
  const error = known(features) && features !== spec.inputSize ? `${type} expects ${spec.inputSize} input features but receives ${features}` : undefined;
  if (spec.mode === 'LSTM') return withOutputs([output, [hidden, [directions * spec.numLayers, ...batch, spec.hiddenSize]]], error);
  return withOutputs([output, hidden], error);
}

function computeAttention(spec: Extract<LayerSpec, { kind: 'attention' }>, type: string, query: Shape, extraInputs: Shape[]): LayerResult {
  const rankError = expectRank(query, [3, 2], type);
  if (rankError) return { shape: null, error: rankError };
  const key = extraInputs[0] ?? query;
  const value = extraInputs[1] ?? key;
  const batched = query.length === 3;
  const [targetAxis, batchAxis] = batched && spec.batchFirst ? [1, 0] : [0, 1];
  const features = query[query.length - 1];
  const [keyFeatures, valueFeatures] = [key[key.length - 1], value[value.length - 1]];
  let error: string | undefined;
  if (known(features) && features !== spec.embedDim) error = `${type} expects ${spec.embedDim} query features (embed_dim) but receives ${features}`;
  else if (known(keyFeatures) && keyFeatures !== spec.kdim) error = `${type} expects ${spec.kdim} key features (kdim) but receives ${keyFeatures}`;
  else if (known(valueFeatures) && valueFeatures !== spec.vdim) error = `${type} expects ${spec.vdim} value features (vdim) but receives ${valueFeatures}`;
  const sourceLength = key[targetAxis] ?? null;
  const source = known(sourceLength) ? attentionSourceLength(sourceLength, spec.addBiasKv, spec.addZeroAttn) : null;
  // need_weights and average_attn_weights default to True: the weights averaged over the heads.
  const weights = [...(batched ? [query[batchAxis] ?? null] : []), query[targetAxis] ?? null, source];
  return withOutputs([[...query.slice(0, -1), spec.embedDim], weights], error);
}

function broadcast(a: Shape, b: Shape): Shape | undefined {
  const length = Math.max(a.length, b.length);
  const result: Dim[] = [];
  for (let i = 0; i < length; i++) {
    const x = a[a.length - length + i] ?? 1;
    const y = b[b.length - length + i] ?? 1;
    if (x === 1) result.push(y);
    else if (y === 1) result.push(x);
    else if (x === null || y === null) result.push(x ?? y);
    else if (x === y) result.push(x);
    else return undefined;
  }
  return result;
}

function computeDistance(dim: number, keepdim: boolean, type: string, x1: Shape, x2: Shape): LayerResult {
  const shape = broadcast(x1, x2);
  if (!shape) return { shape: null, error: `${type} cannot broadcast ${formatDims(x1)} with ${formatDims(x2)}` };
  const at = normalizeDim(dim, shape.length);
  if (at < 0 || at >= shape.length) return { shape: null, error: `${type} reduces dimension ${dim} of a ${shape.length}-dimensional input` };
  return { shape: keepdim ? shape.map((d, i) => (i === at ? 1 : d)) : shape.filter((_, i) => i !== at) };
}

function computeLoss(spec: Extract<LayerSpec, { kind: 'loss' }>, input: Shape): LayerResult {
  if (spec.reduction !== 'none') return { shape: [] };
  switch (spec.unreduced) {
    case 'elementwise':
      return { shape: input };
    case 'class':
      return { shape: input.length === 1 ? [] : input.filter((_, i) => i !== 1) };
    case 'sample':
      return { shape: input.slice(0, -1) };
    case 'ctc':
      return { shape: input.slice(1, -1) };
  }
}

function shrinkCheck(shape: Dim[], rank: number, input: Shape, type: string): LayerResult {
  if (shape.slice(-rank).some((d) => d !== null && d < 1)) {
    return { shape, error: `${type} shrinks the input ${formatSpatial(input, rank)} below 1: the output would be ${formatSpatial(shape, rank)}` };
  }
  return { shape };
}

function formatSpatial(shape: Shape, rank: number): string {
  return shape.slice(-rank).map((d) => (d === null ? '?' : String(d))).join('×');
}

function formatDims(shape: Shape): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** torch.flatten(x, start, end): the dimensions start..end multiplied into one. */
export function flattenShape(input: Shape, startDim: number, endDim: number): Shape {
  const start = normalizeDim(startDim, input.length);
  const end = normalizeDim(endDim, input.length);
  if (start > end || start < 0 || end >= input.length) return input;
  return [...input.slice(0, start), product(input.slice(start, end + 1)), ...input.slice(end + 1)];
}

/** What `sum(p.numel() for p in module.parameters())` gives for a freshly built layer (a lazy one has none yet). */
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
    case 'embeddingBag':
      return spec.count * spec.dim;
    case 'prelu':
      return spec.count;
    case 'bilinear':
      return spec.in1Features * spec.in2Features * spec.outFeatures + (spec.bias ? spec.outFeatures : 0);
    case 'recurrent':
      return recurrentParams(spec.mode, spec.inputSize, spec.hiddenSize, spec.numLayers, spec.bias, spec.bidirectional ? 2 : 1, spec.projSize);
    case 'recurrentCell':
      return recurrentParams(spec.mode, spec.inputSize, spec.hiddenSize, 1, spec.bias, 1, 0);
    case 'attention':
      return attentionParams(spec.embedDim, spec.kdim, spec.vdim, spec.bias, spec.addBiasKv);
    case 'transformerLayer': {
      const { dModel: d, dimFeedforward: ff, bias } = spec;
      const attention = attentionParams(d, d, d, bias, false) * (spec.decoder ? 2 : 1);
      const feedforward = d * ff + ff * d + (bias ? ff + d : 0);
      const norms = (spec.decoder ? 3 : 2) * (bias ? 2 * d : d);
      return attention + feedforward + norms;
    }
    case 'transformerStack':
      return spec.numLayers * paramCount(spec.layer) + (spec.norm ? paramCount(spec.norm) : 0);
    case 'transformer':
      return paramCount(spec.encoder) + paramCount(spec.decoder);
    case 'adaptiveSoftmax':
      return adaptiveSoftmaxParams(spec.inFeatures, spec.nClasses, spec.cutoffs, spec.divValue, spec.headBias);
    case 'lazy':
    case 'pool':
    case 'adaptivePool':
    case 'fractionalMaxPool':
    case 'maxUnpool':
    case 'pad':
    case 'flatten':
    case 'unflatten':
    case 'fold':
    case 'unfold':
    case 'pixelShuffle':
    case 'upsample':
    case 'glu':
    case 'distance':
    case 'loss':
    case 'elementwise':
      return 0;
  }
}
