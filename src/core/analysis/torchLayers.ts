// torch.nn's layer constructors: their signatures as PyTorch declares them, and how their
// arguments become a LayerSpec. Unknown layer names are not guessed at. Where PyTorch 2.x added
// a parameter (LayerNorm's bias, the Transformer layers' bias) it is accepted with its default.
import type { ConvSpec, LayerSpec, RecurrentMode } from './layers';
import type { Node } from './syntax';

/** A module passed as an argument (TransformerEncoder's encoder_layer, a norm), already built. */
export class ModuleArg {
  constructor(
    readonly type: string,
    readonly spec: LayerSpec,
  ) {}
}

/**
 * A float of whole value (`2.0`, `64 / 2`): a JavaScript number cannot tell it from the int, and
 * PyTorch refuses it where it wants an int (`nn.Linear(64 / 2, 10)` raises). Other floats (0.5) are
 * plain numbers, which no int is.
 */
export class WholeFloat {
  constructor(readonly value: number) {}

  /** As a dictionary key: 2.0 and 2 are one key in Python. */
  toString(): string {
    return String(this.value);
  }
}

/** A constant argument as the evaluator produced it. */
export type ArgValue = number | WholeFloat | string | boolean | null | ModuleArg | ArgValue[];

export class ArgumentError extends Error {}

interface Signature {
  /** The parameters that may be given by position, in order. */
  params: string[];
  keywordOnly?: string[];
  defaults: Record<string, ArgValue>;
  /** Identity takes any arguments and ignores them. */
  ignoresArguments?: boolean;
  build(args: Args, type: string): LayerSpec;
}

/** Bound arguments, read with PyTorch's conversions (an int or a tuple for sizes). */
export class Args {
  constructor(
    /** The arguments given, by parameter name. */
    private readonly given: Map<string, ArgValue>,
    private readonly type: string,
    /** The signature's own, read where none was given: not copied for each layer (a fiftieth of a cold analysis). */
    private readonly defaults: Readonly<Record<string, ArgValue>> = {},
  ) {}

  raw(name: string): ArgValue | undefined {
    return this.value(name);
  }

  private value(name: string): ArgValue | undefined {
    return this.given.has(name) ? this.given.get(name) : Object.hasOwn(this.defaults, name) ? this.defaults[name] : undefined;
  }

  int(name: string): number {
    const value = this.value(name);
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'boolean') return Number(value);
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a whole number${refusedFloat(value)}`);
  }

  /** A positive whole number, for sizes and counts that PyTorch divides by or multiplies with. */
  size(name: string): number {
    const value = this.int(name);
    if (value < 1) throw new ArgumentError(`${this.type}: ${name} is ${value}, not a positive size`);
    return value;
  }

  number(name: string): number {
    const value = this.value(name);
    if (typeof value === 'number') return value;
    if (value instanceof WholeFloat) return value.value;
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a number`);
  }

  bool(name: string): boolean {
    const value = this.value(name);
    if (typeof value === 'boolean') return value;
    if (value instanceof WholeFloat) return value.value !== 0;
    if (typeof value === 'number') return value !== 0;
    if (value === null) return false;
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not True or False`);
  }

  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.value(name);
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }

  /** An int repeated `rank` times, or a tuple of `rank` ints. */
  tuple(name: string, rank: number): number[] {
    const value = this.value(name);
    if (typeof value === 'number' && Number.isInteger(value)) return new Array<number>(rank).fill(value);
    if (Array.isArray(value) && value.length === rank && value.every((v) => typeof v === 'number' && Number.isInteger(v))) return value as number[];
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a whole number or a tuple of ${rank}${refusedFloat(value)}`);
  }

  /** A number or a tuple of numbers of any length, as Upsample's size and scale_factor are. */
  numbers(name: string, integer: boolean): number[] | null {
    const value = this.value(name);
    if (value === null) return null;
    const list = (Array.isArray(value) ? value : [value]).map((v) => (v instanceof WholeFloat && !integer ? v.value : v));
    if (list.length > 0 && list.every((v) => typeof v === 'number' && (!integer || Number.isInteger(v)))) return list as number[];
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not ${integer ? `a whole number or a tuple of them${refusedFloat(value)}` : 'a number or a tuple of numbers'}`);
  }

  module(name: string): LayerSpec {
    const value = this.value(name);
    if (value instanceof ModuleArg) return value.spec;
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a layer`);
  }
}

/** Why a float of whole value (`64 / 2`) is not one, and how to mend it. */
function refusedFloat(value: ArgValue | undefined): string {
  const float = (v: ArgValue | undefined): boolean => v instanceof WholeFloat || (Array.isArray(v) && v.some(float));
  return float(value) ? ': PyTorch refuses a float even when it is whole (write // or int())' : '';
}

function describe(value: ArgValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value instanceof ModuleArg) return `nn.${value.type}`;
  if (value instanceof WholeFloat) return `${value.value}.0`;
  return Array.isArray(value) ? `(${value.map((v) => describe(v)).join(', ')})` : JSON.stringify(value);
}

type Rank = 1 | 2 | 3;
const ranks = [1, 2, 3] as const;

/** A conv's spec but for in_channels, which a lazy conv reads from its first input. */
function convTemplate(args: Args, type: string, rank: Rank, transposed: boolean, inChannels: number | null): Omit<ConvSpec, 'inChannels'> {
  const padding = args.raw('padding');
  const groups = args.size('groups');
  const outChannels = args.int('out_channels');
  if ((inChannels !== null && inChannels % groups !== 0) || outChannels % groups !== 0) throw new ArgumentError(`${type}: in_channels and out_channels must be divisible by groups (${groups})`);
  return {
    kind: 'conv',
    rank,
    transposed,
    outChannels,
    kernel: args.tuple('kernel_size', rank),
    stride: args.tuple('stride', rank),
    padding: padding === 'same' || padding === 'valid' ? padding : args.tuple('padding', rank),
    dilation: args.tuple('dilation', rank),
    outputPadding: transposed ? args.tuple('output_padding', rank) : [],
    groups,
    bias: args.bool('bias'),
  };
}

function conv(rank: Rank, transposed: boolean, lazy: boolean): Signature {
  const params = transposed
    ? ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'output_padding', 'groups', 'bias', 'dilation', 'padding_mode']
    : ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups', 'bias', 'padding_mode'];
  return {
    params: lazy ? params.slice(1) : params,
    defaults: { stride: 1, padding: 0, output_padding: 0, dilation: 1, groups: 1, bias: true, padding_mode: 'zeros' },
    build(args, type) {
      if (lazy) return { kind: 'lazy', template: convTemplate(args, type, rank, transposed, null) };
      const inChannels = args.int('in_channels');
      // Set on the template rather than spread into a copy: a spread was a fortieth of a cold analysis.
      const spec = convTemplate(args, type, rank, transposed, inChannels) as ConvSpec;
      spec.inChannels = inChannels;
      return spec;
    },
  };
}

function pool(rank: Rank, op: 'max' | 'avg'): Signature {
  const params = op === 'max' ? ['kernel_size', 'stride', 'padding', 'dilation', 'return_indices', 'ceil_mode'] : ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', ...(rank > 1 ? ['divisor_override'] : [])];
  return {
    params,
    defaults: { stride: null, padding: 0, dilation: 1, return_indices: false, ceil_mode: false, count_include_pad: true, divisor_override: null },
    build(args) {
      const kernel = args.tuple('kernel_size', rank);
      return {
        kind: 'pool',
        op,
        rank,
        kernel,
        // stride defaults to the kernel size
        stride: args.raw('stride') === null ? kernel : args.tuple('stride', rank),
        padding: args.tuple('padding', rank),
        dilation: op === 'max' ? args.tuple('dilation', rank) : new Array<number>(rank).fill(1),
        ceilMode: args.bool('ceil_mode'),
        returnIndices: op === 'max' && args.bool('return_indices'),
      };
    },
  };
}

/** LPPool: an average pool of x^p raised to 1/p, so its windows are an unpadded pool's. */
function lpPool(rank: Rank): Signature {
  return {
    params: ['norm_type', 'kernel_size', 'stride', 'ceil_mode'],
    defaults: { stride: null, ceil_mode: false },
    build(args) {
      args.number('norm_type');
      const kernel = args.tuple('kernel_size', rank);
      const ones = new Array<number>(rank).fill(1);
      const stride = args.raw('stride') === null ? kernel : args.tuple('stride', rank);
      return { kind: 'pool', op: 'lp', rank, kernel, stride, padding: ones.map(() => 0), dilation: ones, ceilMode: args.bool('ceil_mode'), returnIndices: false };
    },
  };
}

function adaptivePool(rank: Rank, op: 'max' | 'avg'): Signature {
  return {
    params: op === 'max' ? ['output_size', 'return_indices'] : ['output_size'],
    defaults: { return_indices: false },
    build(args, type) {
      const size = args.raw('output_size');
      const output = typeof size === 'number' ? new Array<number>(rank).fill(size) : Array.isArray(size) && size.length === rank ? size : undefined;
      if (!output || !output.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d)))) throw new ArgumentError(`${type}: output_size is not a size`);
      return { kind: 'adaptivePool', op, rank, output: output as (number | null)[], returnIndices: op === 'max' && args.bool('return_indices') };
    },
  };
}

function fractionalMaxPool(rank: 2 | 3): Signature {
  return {
    params: ['kernel_size', 'output_size', 'output_ratio', 'return_indices', '_random_samples'],
    defaults: { output_size: null, output_ratio: null, return_indices: false, _random_samples: null },
    build(args, type) {
      args.tuple('kernel_size', rank);
      const hasSize = args.raw('output_size') !== null;
      if (hasSize === (args.raw('output_ratio') !== null)) throw new ArgumentError(`${type}: give output_size or output_ratio, one of them`);
      const ratio = hasSize ? null : args.numbers('output_ratio', false);
      if (ratio && ratio.some((r) => r <= 0 || r >= 1)) throw new ArgumentError(`${type}: output_ratio must lie between 0 and 1`);
      return {
        kind: 'fractionalMaxPool',
        rank,
        output: hasSize ? args.tuple('output_size', rank) : null,
        ratio: ratio && ratio.length === 1 ? new Array<number>(rank).fill(ratio[0] ?? 1) : ratio,
        returnIndices: args.bool('return_indices'),
      };
    },
  };
}

function maxUnpool(rank: Rank): Signature {
  return {
    params: ['kernel_size', 'stride', 'padding'],
    defaults: { stride: null, padding: 0 },
    build(args) {
      const kernel = args.tuple('kernel_size', rank);
      return { kind: 'maxUnpool', rank, kernel, stride: args.raw('stride') === null ? kernel : args.tuple('stride', rank), padding: args.tuple('padding', rank) };
    },
  };
}

function pad(rank: Rank, mode: 'constant' | 'reflect' | 'replicate' | 'circular', withValue: boolean): Signature {
  return {
    params: withValue ? ['padding', 'value'] : ['padding'],
    defaults: {},
    build(args) {
      if (withValue) args.number('value');
      return { kind: 'pad', rank, mode, padding: args.tuple('padding', 2 * rank) };
    },
  };
}

const normParams = ['num_features', 'eps', 'momentum', 'affine', 'track_running_stats'];

function norm(rank: Rank, variant: 'batch' | 'instance' | 'sync'): Signature {
  const instance = variant === 'instance';
  return {
    params: variant === 'sync' ? [...normParams, 'process_group'] : normParams,
    defaults: { eps: 1e-5, momentum: 0.1, affine: !instance, track_running_stats: !instance, process_group: null },
    build: (args) => ({ kind: 'batchNorm', rank, variant, features: args.int('num_features'), affine: args.bool('affine'), trackRunningStats: args.bool('track_running_stats') }),
  };
}

/** LazyBatchNorm and LazyInstanceNorm: both default to affine weights and running statistics. */
function lazyNorm(rank: Rank, variant: 'batch' | 'instance'): Signature {
  return {
    params: normParams.slice(1),
    defaults: { eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true },
    build: (args) => ({ kind: 'lazy', template: { kind: 'batchNorm', rank, variant, affine: args.bool('affine'), trackRunningStats: args.bool('track_running_stats') } }),
  };
}

function recurrent(mode: 'RNN' | 'LSTM' | 'GRU'): Signature {
  // RNN takes nonlinearity as its fourth argument; only LSTM projects.
  const params = ['input_size', 'hidden_size', 'num_layers', ...(mode === 'RNN' ? ['nonlinearity'] : []), 'bias', 'batch_first', 'dropout', 'bidirectional', ...(mode === 'LSTM' ? ['proj_size'] : [])];
  return {
    params,
    defaults: { num_layers: 1, nonlinearity: 'tanh', bias: true, batch_first: false, dropout: 0, bidirectional: false, proj_size: 0 },
    build(args, type) {
      const hiddenSize = args.size('hidden_size');
      const projSize = mode === 'LSTM' ? args.int('proj_size') : 0;
      if (projSize < 0 || (projSize > 0 && projSize >= hiddenSize)) throw new ArgumentError(`${type}: proj_size (${projSize}) must be smaller than hidden_size (${hiddenSize})`);
      return {
        kind: 'recurrent',
        mode: recurrentMode(mode, args),
        inputSize: args.int('input_size'),
        hiddenSize,
        numLayers: args.size('num_layers'),
        bias: args.bool('bias'),
        batchFirst: args.bool('batch_first'),
        bidirectional: args.bool('bidirectional'),
        projSize,
      };
    },
  };
}

function recurrentMode(mode: 'RNN' | 'LSTM' | 'GRU', args: Args): RecurrentMode {
  if (mode !== 'RNN') return mode;
  return args.choice('nonlinearity', ['tanh', 'relu']) === 'tanh' ? 'RNN_TANH' : 'RNN_RELU';
}

function recurrentCell(mode: 'RNN' | 'LSTM' | 'GRU'): Signature {
  return {
    params: ['input_size', 'hidden_size', 'bias', ...(mode === 'RNN' ? ['nonlinearity'] : [])],
    defaults: { bias: true, nonlinearity: 'tanh' },
    build: (args) => ({ kind: 'recurrentCell', mode: recurrentMode(mode, args), inputSize: args.int('input_size'), hiddenSize: args.size('hidden_size'), bias: args.bool('bias') }),
  };
}

function attention(args: Args, type: string, embedDim: number, numHeads: number, kdim: number, vdim: number): LayerSpec {
  if (embedDim % numHeads !== 0) throw new ArgumentError(`${type}: embed_dim (${embedDim}) must be divisible by num_heads (${numHeads})`);
  return {
    kind: 'attention',
    embedDim,
    numHeads,
    bias: args.bool('bias'),
    addBiasKv: args.bool('add_bias_kv'),
    addZeroAttn: args.bool('add_zero_attn'),
    kdim,
    vdim,
    batchFirst: args.bool('batch_first'),
  };
}

const transformerLayerParams = ['d_model', 'nhead', 'dim_feedforward', 'dropout', 'activation', 'layer_norm_eps', 'batch_first', 'norm_first', 'bias'];
const transformerLayerDefaults = { dim_feedforward: 2048, dropout: 0.1, activation: 'relu', layer_norm_eps: 1e-5, batch_first: false, norm_first: false, bias: true };

function transformerLayer(decoder: boolean): Signature {
  return {
    params: transformerLayerParams,
    defaults: transformerLayerDefaults,
    build: (args, type) => {
      const dModel = args.size('d_model');
      const nhead = args.size('nhead');
      if (dModel % nhead !== 0) throw new ArgumentError(`${type}: d_model (${dModel}) must be divisible by nhead (${nhead})`);
      return { kind: 'transformerLayer', decoder, dModel, nhead, dimFeedforward: args.size('dim_feedforward'), batchFirst: args.bool('batch_first'), bias: args.bool('bias') };
    },
  };
}

function transformerStack(decoder: boolean): Signature {
  const layer = decoder ? 'decoder_layer' : 'encoder_layer';
  return {
    params: decoder ? [layer, 'num_layers', 'norm'] : [layer, 'num_layers', 'norm', 'enable_nested_tensor', 'mask_check'],
    defaults: { norm: null, enable_nested_tensor: true, mask_check: true },
    build: (args) => ({ kind: 'transformerStack', layer: args.module(layer), numLayers: args.size('num_layers'), norm: args.raw('norm') === null ? null : args.module('norm') }),
  };
}

const transformer: Signature = {
  params: ['d_model', 'nhead', 'num_encoder_layers', 'num_decoder_layers', 'dim_feedforward', 'dropout', 'activation', 'custom_encoder', 'custom_decoder', 'layer_norm_eps', 'batch_first', 'norm_first', 'bias'],
  defaults: { d_model: 512, nhead: 8, num_encoder_layers: 6, num_decoder_layers: 6, custom_encoder: null, custom_decoder: null, ...transformerLayerDefaults },
  build(args, type) {
    const bias = args.bool('bias');
    // Each default stack ends in a LayerNorm(d_model) with the layers' bias setting.
    const stack = (decoder: boolean, count: string, custom: string): LayerSpec => {
      if (args.raw(custom) !== null) return args.module(custom);
      const layer = transformerLayer(decoder).build(args, type);
      const norm: LayerSpec = { kind: 'layerNorm', normalizedShape: [args.size('d_model')], affine: true, bias };
      return { kind: 'transformerStack', layer, numLayers: args.int(count), norm };
    };
    return { kind: 'transformer', encoder: stack(false, 'num_encoder_layers', 'custom_encoder'), decoder: stack(true, 'num_decoder_layers', 'custom_decoder') };
  },
};

type Unreduced = Extract<LayerSpec, { kind: 'loss' }>['unreduced'];

/** A loss; the deprecated size_average and reduce, when given, decide the reduction as PyTorch does. */
function loss(params: string[], unreduced: Unreduced, keywordOnly = false): Signature {
  return {
    params: keywordOnly ? [] : params,
    keywordOnly: keywordOnly ? params : [],
    defaults: { weight: null, pos_weight: null, size_average: null, reduce: null, reduction: 'mean', ignore_index: -100, label_smoothing: 0, log_target: false, delta: 1, beta: 1, log_input: true, full: false, eps: 1e-6, margin: 0, p: 2, swap: false, distance_function: null, blank: 0, zero_infinity: false },
    build(args) {
      const legacy = args.raw('size_average') !== null || args.raw('reduce') !== null;
      const reduction = legacy
        ? args.raw('reduce') !== null && !args.bool('reduce')
          ? 'none'
          : args.raw('size_average') !== null && !args.bool('size_average')
            ? 'sum'
            : 'mean'
        : args.choice('reduction', ['none', 'mean', 'sum', ...(params.includes('log_target') ? (['batchmean'] as const) : [])]);
      return { kind: 'loss', reduction, unreduced };
    },
  };
}

const legacyReduction = ['size_average', 'reduce', 'reduction'];

const adaptiveSoftmax: Signature = {
  params: ['in_features', 'n_classes', 'cutoffs', 'div_value', 'head_bias'],
  defaults: { div_value: 4, head_bias: false },
  build(args, type) {
    const nClasses = args.size('n_classes');
    const cutoffs = args.numbers('cutoffs', true) ?? [];
    const increasing = cutoffs.every((c, i) => c > 0 && c < nClasses && (i === 0 || c > (cutoffs[i - 1] ?? 0)));
    if (!increasing) throw new ArgumentError(`${type}: cutoffs must be increasing whole numbers between 1 and n_classes - 1`);
    return { kind: 'adaptiveSoftmax', inFeatures: args.size('in_features'), nClasses, cutoffs, divValue: args.number('div_value'), headBias: args.bool('head_bias') };
  },
};

function upsample(params: string[], mode: string | null): Signature {
  return {
    params,
    defaults: { size: null, scale_factor: null, mode: 'nearest', align_corners: null, recompute_scale_factor: null },
    build(args, type) {
      const size = args.numbers('size', true);
      const scale = args.numbers('scale_factor', false);
      if ((size === null) === (scale === null)) throw new ArgumentError(`${type}: give size or scale_factor, one of them`);
      const modes = ['nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact'] as const;
      return { kind: 'upsample', size, scale, mode: mode ?? args.choice('mode', modes) };
    },
  };
}

/** A shape-preserving layer: these are its parameters, none of which changes the shape. */
function shapePreserving(params: string[], defaults: Record<string, ArgValue> = {}): Signature {
  return { params, defaults: { inplace: false, ...defaults }, build: () => ({ kind: 'elementwise' }) };
}

const dropout = shapePreserving(['p', 'inplace'], { p: 0.5 });

const shapePreservingLayers: [string, Signature][] = [
  ...['ReLU', 'ReLU6', 'SELU', 'SiLU', 'Mish', 'Hardsigmoid', 'Hardswish'].map((name): [string, Signature] => [name, shapePreserving(['inplace'])]),
  ...['Sigmoid', 'Tanh', 'Softsign', 'Tanhshrink', 'LogSigmoid', 'Softmax2d'].map((name): [string, Signature] => [name, shapePreserving([])]),
  ...['Softmax', 'LogSoftmax', 'Softmin'].map((name): [string, Signature] => [name, shapePreserving(['dim'], { dim: null })]),
  ...['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout'].map((name): [string, Signature] => [name, dropout]),
  ['LeakyReLU', shapePreserving(['negative_slope', 'inplace'], { negative_slope: 0.01 })],
  ['ELU', shapePreserving(['alpha', 'inplace'], { alpha: 1 })],
  ['CELU', shapePreserving(['alpha', 'inplace'], { alpha: 1 })],
  ['GELU', shapePreserving(['approximate'], { approximate: 'none' })],
  ['Softplus', shapePreserving(['beta', 'threshold'], { beta: 1, threshold: 20 })],
  ['Softshrink', shapePreserving(['lambd'], { lambd: 0.5 })],
  ['Hardshrink', shapePreserving(['lambd'], { lambd: 0.5 })],
  ['Hardtanh', shapePreserving(['min_val', 'max_val', 'inplace', 'min_value', 'max_value'], { min_val: -1, max_val: 1, min_value: null, max_value: null })],
  ['Threshold', shapePreserving(['threshold', 'value', 'inplace'])],
  ['RReLU', shapePreserving(['lower', 'upper', 'inplace'], { lower: 1 / 8, upper: 1 / 3 })],
  ['ChannelShuffle', shapePreserving(['groups'])],
  ['LocalResponseNorm', shapePreserving(['size', 'alpha', 'beta', 'k'], { alpha: 1e-4, beta: 0.75, k: 1 })],
  ['CrossMapLRN2d', shapePreserving(['size', 'alpha', 'beta', 'k'], { alpha: 1e-4, beta: 0.75, k: 1 })],
  ['Identity', { params: [], defaults: {}, ignoresArguments: true, build: () => ({ kind: 'elementwise' }) }],
];

function layerNorm(hasBias: boolean): Signature {
  return {
    params: hasBias ? ['normalized_shape', 'eps', 'elementwise_affine', 'bias'] : ['normalized_shape', 'eps', 'elementwise_affine'],
    defaults: { eps: hasBias ? 1e-5 : null, elementwise_affine: true, bias: hasBias },
    build(args) {
      const shape = args.raw('normalized_shape');
      return {
        kind: 'layerNorm',
        normalizedShape: typeof shape === 'number' ? [shape] : args.tuple('normalized_shape', Array.isArray(shape) ? shape.length : 1),
        affine: args.bool('elementwise_affine'),
        bias: args.bool('bias'),
      };
    },
  };
}

function perRank(prefix: string, make: (rank: Rank) => Signature): [string, Signature][] {
  return ranks.map((rank) => [`${prefix}${rank}d`, make(rank)]);
}

export const torchLayers: ReadonlyMap<string, Signature> = new Map<string, Signature>([
  ...perRank('Conv', (rank) => conv(rank, false, false)),
  ...perRank('ConvTranspose', (rank) => conv(rank, true, false)),
  ...perRank('LazyConv', (rank) => conv(rank, false, true)),
  ...perRank('LazyConvTranspose', (rank) => conv(rank, true, true)),
  ...perRank('MaxPool', (rank) => pool(rank, 'max')),
  ...perRank('AvgPool', (rank) => pool(rank, 'avg')),
  ...perRank('LPPool', lpPool),
  ...perRank('AdaptiveAvgPool', (rank) => adaptivePool(rank, 'avg')),
  ...perRank('AdaptiveMaxPool', (rank) => adaptivePool(rank, 'max')),
  ['FractionalMaxPool2d', fractionalMaxPool(2)],
  ['FractionalMaxPool3d', fractionalMaxPool(3)],
  ...perRank('MaxUnpool', maxUnpool),
  ...perRank('ReflectionPad', (rank) => pad(rank, 'reflect', false)),
  ...perRank('ReplicationPad', (rank) => pad(rank, 'replicate', false)),
  ...perRank('CircularPad', (rank) => pad(rank, 'circular', false)),
  ...perRank('ZeroPad', (rank) => pad(rank, 'constant', false)),
  ...perRank('ConstantPad', (rank) => pad(rank, 'constant', true)),
  ...perRank('BatchNorm', (rank) => norm(rank, 'batch')),
  ...perRank('InstanceNorm', (rank) => norm(rank, 'instance')),
  ...perRank('LazyBatchNorm', (rank) => lazyNorm(rank, 'batch')),
  ...perRank('LazyInstanceNorm', (rank) => lazyNorm(rank, 'instance')),
  ['SyncBatchNorm', norm(1, 'sync')],
  ['LayerNorm', layerNorm(true)],
  ['RMSNorm', layerNorm(false)],
  [
    'GroupNorm',
    {
      params: ['num_groups', 'num_channels', 'eps', 'affine'],
      defaults: { eps: 1e-5, affine: true },
      build(args, type) {
        const groups = args.size('num_groups');
        const channels = args.int('num_channels');
        if (channels % groups !== 0) throw new ArgumentError(`${type}: num_channels (${channels}) must be divisible by num_groups (${groups})`);
        return { kind: 'groupNorm', groups, channels, affine: args.bool('affine') };
      },
    },
  ],
  [
    'Linear',
    {
      params: ['in_features', 'out_features', 'bias'],
      defaults: { bias: true },
      build: (args) => ({ kind: 'linear', inFeatures: args.int('in_features'), outFeatures: args.int('out_features'), bias: args.bool('bias') }),
    },
  ],
  [
    'LazyLinear',
    {
      params: ['out_features', 'bias'],
      defaults: { bias: true },
      build: (args) => ({ kind: 'lazy', template: { kind: 'linear', outFeatures: args.int('out_features'), bias: args.bool('bias') } }),
    },
  ],
  [
    'Bilinear',
    {
      params: ['in1_features', 'in2_features', 'out_features', 'bias'],
      defaults: { bias: true },
      build: (args) => ({ kind: 'bilinear', in1Features: args.int('in1_features'), in2Features: args.int('in2_features'), outFeatures: args.int('out_features'), bias: args.bool('bias') }),
    },
  ],
  ['Flatten', { params: ['start_dim', 'end_dim'], defaults: { start_dim: 1, end_dim: -1 }, build: (args) => ({ kind: 'flatten', startDim: args.int('start_dim'), endDim: args.int('end_dim') }) }],
  [
    'Unflatten',
    {
      params: ['dim', 'unflattened_size'],
      defaults: {},
      build(args, type) {
        const sizes = args.numbers('unflattened_size', true) ?? [];
        if (sizes.filter((s) => s === -1).length > 1 || sizes.some((s) => s < -1)) throw new ArgumentError(`${type}: unflattened_size may hold one -1 and otherwise sizes`);
        return { kind: 'unflatten', dim: args.int('dim'), sizes };
      },
    },
  ],
  [
    'Fold',
    {
      params: ['output_size', 'kernel_size', 'dilation', 'padding', 'stride'],
      defaults: { dilation: 1, padding: 0, stride: 1 },
      build: (args) => ({
        kind: 'fold',
        output: args.tuple('output_size', 2),
        kernel: args.tuple('kernel_size', 2),
        dilation: args.tuple('dilation', 2),
        padding: args.tuple('padding', 2),
        stride: args.tuple('stride', 2),
      }),
    },
  ],
  [
    'Unfold',
    {
      params: ['kernel_size', 'dilation', 'padding', 'stride'],
      defaults: { dilation: 1, padding: 0, stride: 1 },
      build: (args) => ({ kind: 'unfold', kernel: args.tuple('kernel_size', 2), dilation: args.tuple('dilation', 2), padding: args.tuple('padding', 2), stride: args.tuple('stride', 2) }),
    },
  ],
  ['PixelShuffle', { params: ['upscale_factor'], defaults: {}, build: (args) => ({ kind: 'pixelShuffle', factor: args.size('upscale_factor'), inverse: false }) }],
  ['PixelUnshuffle', { params: ['downscale_factor'], defaults: {}, build: (args) => ({ kind: 'pixelShuffle', factor: args.size('downscale_factor'), inverse: true }) }],
  [
    'Embedding',
    {
      params: ['num_embeddings', 'embedding_dim', 'padding_idx', 'max_norm', 'norm_type', 'scale_grad_by_freq', 'sparse', '_weight', '_freeze'],
      defaults: { padding_idx: null, max_norm: null, norm_type: 2, scale_grad_by_freq: false, sparse: false, _weight: null, _freeze: false },
      build: (args) => ({ kind: 'embedding', count: args.int('num_embeddings'), dim: args.int('embedding_dim') }),
    },
  ],
  [
    'EmbeddingBag',
    {
      params: ['num_embeddings', 'embedding_dim', 'max_norm', 'norm_type', 'scale_grad_by_freq', 'mode', 'sparse', '_weight', 'include_last_offset', 'padding_idx'],
      defaults: { max_norm: null, norm_type: 2, scale_grad_by_freq: false, mode: 'mean', sparse: false, _weight: null, include_last_offset: false, padding_idx: null },
      build(args) {
        args.choice('mode', ['sum', 'mean', 'max']);
        return { kind: 'embeddingBag', count: args.int('num_embeddings'), dim: args.int('embedding_dim'), includeLastOffset: args.bool('include_last_offset') };
      },
    },
  ],
  ['Upsample', upsample(['size', 'scale_factor', 'mode', 'align_corners', 'recompute_scale_factor'], null)],
  ['UpsamplingNearest2d', upsample(['size', 'scale_factor'], 'nearest')],
  ['UpsamplingBilinear2d', upsample(['size', 'scale_factor'], 'bilinear')],
  ['PReLU', { params: ['num_parameters', 'init'], defaults: { num_parameters: 1, init: 0.25 }, build: (args) => ({ kind: 'prelu', count: args.int('num_parameters') }) }],
  ['GLU', { params: ['dim'], defaults: { dim: -1 }, build: (args) => ({ kind: 'glu', dim: args.int('dim') }) }],
  ['RNN', recurrent('RNN')],
  ['LSTM', recurrent('LSTM')],
  ['GRU', recurrent('GRU')],
  ['RNNCell', recurrentCell('RNN')],
  ['LSTMCell', recurrentCell('LSTM')],
  ['GRUCell', recurrentCell('GRU')],
  [
    'MultiheadAttention',
    {
      params: ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first'],
      defaults: { dropout: 0, bias: true, add_bias_kv: false, add_zero_attn: false, kdim: null, vdim: null, batch_first: false },
      build(args, type) {
        const embedDim = args.size('embed_dim');
        const dim = (name: string) => (args.raw(name) === null ? embedDim : args.size(name));
        return attention(args, type, embedDim, args.size('num_heads'), dim('kdim'), dim('vdim'));
      },
    },
  ],
  ['TransformerEncoderLayer', transformerLayer(false)],
  ['TransformerDecoderLayer', transformerLayer(true)],
  ['TransformerEncoder', transformerStack(false)],
  ['TransformerDecoder', transformerStack(true)],
  ['Transformer', transformer],
  ['CosineSimilarity', { params: ['dim', 'eps'], defaults: { dim: 1, eps: 1e-8 }, build: (args) => ({ kind: 'distance', dim: args.int('dim'), keepdim: false }) }],
  ['PairwiseDistance', { params: ['p', 'eps', 'keepdim'], defaults: { p: 2, eps: 1e-6, keepdim: false }, build: (args) => ({ kind: 'distance', dim: -1, keepdim: args.bool('keepdim') }) }],
  ['L1Loss', loss(legacyReduction, 'elementwise')],
  ['MSELoss', loss(legacyReduction, 'elementwise')],
  ['SoftMarginLoss', loss(legacyReduction, 'elementwise')],
  ['BCELoss', loss(['weight', ...legacyReduction], 'elementwise')],
  ['BCEWithLogitsLoss', loss(['weight', ...legacyReduction, 'pos_weight'], 'elementwise')],
  ['KLDivLoss', loss([...legacyReduction, 'log_target'], 'elementwise')],
  ['HuberLoss', loss(['reduction', 'delta'], 'elementwise')],
  ['SmoothL1Loss', loss([...legacyReduction, 'beta'], 'elementwise')],
  ['PoissonNLLLoss', loss(['log_input', 'full', 'size_average', 'eps', 'reduce', 'reduction'], 'elementwise')],
  ['GaussianNLLLoss', loss(['full', 'eps', 'reduction'], 'elementwise', true)],
  ['MarginRankingLoss', loss(['margin', ...legacyReduction], 'elementwise')],
  ['HingeEmbeddingLoss', loss(['margin', ...legacyReduction], 'elementwise')],
  ['CrossEntropyLoss', loss(['weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing'], 'class')],
  ['NLLLoss', loss(['weight', 'size_average', 'ignore_index', 'reduce', 'reduction'], 'class')],
  ['NLLLoss2d', loss(['weight', 'size_average', 'ignore_index', 'reduce', 'reduction'], 'class')],
  ['CosineEmbeddingLoss', loss(['margin', ...legacyReduction], 'sample')],
  ['MultiMarginLoss', loss(['p', 'margin', 'weight', ...legacyReduction], 'sample')],
  ['MultiLabelMarginLoss', loss(legacyReduction, 'sample')],
  ['MultiLabelSoftMarginLoss', loss(['weight', ...legacyReduction], 'sample')],
  ['TripletMarginLoss', loss(['margin', 'p', 'eps', 'swap', ...legacyReduction], 'sample')],
  ['TripletMarginWithDistanceLoss', loss(['distance_function', 'margin', 'swap', 'reduction'], 'sample', true)],
  ['CTCLoss', loss(['blank', 'reduction', 'zero_infinity'], 'ctc')],
  ['AdaptiveLogSoftmaxWithLoss', adaptiveSoftmax],
  ...shapePreservingLayers,
]);

/** Keywords every layer with parameters or buffers takes, which do not change what it computes. */
const placementKeywords = ['device', 'dtype'];

/** Binds positional and keyword arguments to the layer's parameters, as Python would. */
export function buildLayer(type: string, positional: ArgValue[], keywords: Map<string, ArgValue>): LayerSpec {
  const signature = torchLayers.get(type);
  if (!signature) throw new ArgumentError(`nn.${type} is not analysed`);
  if (signature.ignoresArguments) return signature.build(new Args(new Map(), type), type);
  const given = new Map<string, ArgValue>();
  positional.forEach((value, i) => {
    const name = signature.params[i];
    if (name === undefined) throw new ArgumentError(`${type} takes at most ${signature.params.length} positional arguments`);
    given.set(name, value);
  });
  const keywordOnly = signature.keywordOnly ?? [];
  for (const [name, value] of keywords) {
    if (placementKeywords.includes(name)) continue;
    if (!signature.params.includes(name) && !keywordOnly.includes(name)) throw new ArgumentError(`${type} has no parameter "${name}"`);
    given.set(name, value);
  }
  const absent = (p: string) => !given.has(p) && !Object.hasOwn(signature.defaults, p);
  if (signature.params.some(absent) || keywordOnly.some(absent)) throw new ArgumentError(`${type} is missing ${[...signature.params, ...keywordOnly].filter(absent).join(', ')}`);
  return signature.build(new Args(given, type, signature.defaults), type);
}

/** The argument a layer's construction `call` gives its parameter `name`, by keyword or by position: where a quick fix writes. */
export function layerArgument(call: Node, type: string, name: string): Node | undefined {
  const positional = torchLayers.get(type)?.params ?? [];
  let index = 0;
  for (const arg of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if (!arg) continue;
    if (arg.type === 'keyword_argument') {
      if (arg.childForFieldName('name')?.text === name) return arg.childForFieldName('value') ?? undefined;
    } else if (positional[index++] === name) {
      return arg;
    }
  }
  return undefined;
}
