// torch.nn's layer constructors: their signatures as PyTorch declares them, and how their
// arguments become a LayerSpec. Unknown layer names are not guessed at.
import type { LayerSpec } from './layers';

/** A constant argument as the evaluator produced it. */
export type ArgValue = number | string | boolean | null | ArgValue[];

export class ArgumentError extends Error {}

interface Signature {
  params: string[];
  defaults: Record<string, ArgValue>;
  build(args: Args, type: string): LayerSpec;
}

/** Bound arguments, read with PyTorch's conversions (an int or a tuple for sizes). */
export class Args {
  constructor(
    private readonly values: Map<string, ArgValue>,
    private readonly type: string,
  ) {}

  raw(name: string): ArgValue | undefined {
    return this.values.get(name);
  }

  int(name: string): number {
    const value = this.values.get(name);
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'boolean') return Number(value);
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a whole number`);
  }

  bool(name: string): boolean {
    const value = this.values.get(name);
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (value === null) return false;
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not True or False`);
  }

  /** An int repeated `rank` times, or a tuple of `rank` ints. */
  tuple(name: string, rank: number): number[] {
    const value = this.values.get(name);
    if (typeof value === 'number' && Number.isInteger(value)) return Array.from({ length: rank }, () => value);
    if (Array.isArray(value) && value.length === rank && value.every((v) => typeof v === 'number' && Number.isInteger(v))) return value as number[];
    throw new ArgumentError(`${this.type}: ${name} is ${describe(value)}, not a whole number or a tuple of ${rank}`);
  }
}

function describe(value: ArgValue | undefined): string {
  if (value === undefined) return 'missing';
  return Array.isArray(value) ? `(${value.map((v) => describe(v)).join(', ')})` : JSON.stringify(value);
}

type Rank = 1 | 2 | 3;

function conv(rank: Rank, transposed: boolean): Signature {
  const params = transposed
    ? ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'output_padding', 'groups', 'bias', 'dilation', 'padding_mode']
    : ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups', 'bias', 'padding_mode'];
  return {
    params,
    defaults: { stride: 1, padding: 0, output_padding: 0, dilation: 1, groups: 1, bias: true, padding_mode: 'zeros' },
    build(args, type) {
      const padding = args.raw('padding');
      const groups = args.int('groups');
      const inChannels = args.int('in_channels');
      const outChannels = args.int('out_channels');
      if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new ArgumentError(`${type}: in_channels and out_channels must be divisible by groups (${groups})`);
      return {
        kind: 'conv',
        rank,
        transposed,
        inChannels,
        outChannels,
        kernel: args.tuple('kernel_size', rank),
        stride: args.tuple('stride', rank),
        padding: padding === 'same' || padding === 'valid' ? padding : args.tuple('padding', rank),
        dilation: args.tuple('dilation', rank),
        outputPadding: transposed ? args.tuple('output_padding', rank) : [],
        groups,
        bias: args.bool('bias'),
      };
    },
  };
}

function pool(rank: Rank, op: 'max' | 'avg'): Signature {
  const params = op === 'max' ? ['kernel_size', 'stride', 'padding', 'dilation', 'return_indices', 'ceil_mode'] : ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad'];
  return {
    params,
    defaults: { stride: null, padding: 0, dilation: 1, return_indices: false, ceil_mode: false, count_include_pad: true },
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
        dilation: op === 'max' ? args.tuple('dilation', rank) : Array.from({ length: rank }, () => 1),
        ceilMode: args.bool('ceil_mode'),
      };
    },
  };
}

function adaptivePool(rank: Rank, op: 'max' | 'avg'): Signature {
  return {
    params: ['output_size', 'return_indices'],
    defaults: { return_indices: false },
    build(args, type) {
      const size = args.raw('output_size');
      const output = typeof size === 'number' ? Array.from({ length: rank }, () => size) : Array.isArray(size) && size.length === rank ? size : undefined;
      if (!output || !output.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d)))) throw new ArgumentError(`${type}: output_size is not a size`);
      return { kind: 'adaptivePool', op, rank, output: output as (number | null)[] };
    },
  };
}

function norm(rank: Rank, affineDefault: boolean): Signature {
  return {
    params: ['num_features', 'eps', 'momentum', 'affine', 'track_running_stats'],
    defaults: { eps: 1e-5, momentum: 0.1, affine: affineDefault, track_running_stats: affineDefault },
    build: (args) => ({ kind: 'batchNorm', rank, features: args.int('num_features'), affine: args.bool('affine') }),
  };
}

const elementwise: Signature = { params: [], defaults: {}, build: () => ({ kind: 'elementwise' }) };

/** Activations, dropout and other layers that keep the shape and hold no parameters. */
const elementwiseLayers = [
  'ReLU', 'ReLU6', 'LeakyReLU', 'ELU', 'SELU', 'CELU', 'GELU', 'SiLU', 'Mish', 'Sigmoid', 'Tanh', 'Softmax', 'Softmax2d', 'LogSoftmax',
  'Softmin', 'Softplus', 'Softsign', 'Softshrink', 'Hardshrink', 'Hardtanh', 'Hardswish', 'Hardsigmoid', 'Tanhshrink', 'Threshold', 'LogSigmoid', 'GLU',
  'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout', 'Identity', 'LocalResponseNorm', 'ZeroPad2d', 'ChannelShuffle',
];

export const torchLayers: ReadonlyMap<string, Signature> = new Map<string, Signature>([
  ['Conv1d', conv(1, false)],
  ['Conv2d', conv(2, false)],
  ['Conv3d', conv(3, false)],
  ['ConvTranspose1d', conv(1, true)],
  ['ConvTranspose2d', conv(2, true)],
  ['ConvTranspose3d', conv(3, true)],
  ['MaxPool1d', pool(1, 'max')],
  ['MaxPool2d', pool(2, 'max')],
  ['MaxPool3d', pool(3, 'max')],
  ['AvgPool1d', pool(1, 'avg')],
  ['AvgPool2d', pool(2, 'avg')],
  ['AvgPool3d', pool(3, 'avg')],
  ['AdaptiveAvgPool1d', adaptivePool(1, 'avg')],
  ['AdaptiveAvgPool2d', adaptivePool(2, 'avg')],
  ['AdaptiveAvgPool3d', adaptivePool(3, 'avg')],
  ['AdaptiveMaxPool1d', adaptivePool(1, 'max')],
  ['AdaptiveMaxPool2d', adaptivePool(2, 'max')],
  ['AdaptiveMaxPool3d', adaptivePool(3, 'max')],
  ['BatchNorm1d', norm(1, true)],
  ['BatchNorm2d', norm(2, true)],
  ['BatchNorm3d', norm(3, true)],
  ['InstanceNorm1d', norm(1, false)],
  ['InstanceNorm2d', norm(2, false)],
  ['InstanceNorm3d', norm(3, false)],
  [
    'Linear',
    {
      params: ['in_features', 'out_features', 'bias'],
      defaults: { bias: true },
      build: (args) => ({ kind: 'linear', inFeatures: args.int('in_features'), outFeatures: args.int('out_features'), bias: args.bool('bias') }),
    },
  ],
  [
    'LayerNorm',
    {
      params: ['normalized_shape', 'eps', 'elementwise_affine', 'bias'],
      defaults: { eps: 1e-5, elementwise_affine: true, bias: true },
      build(args) {
        const shape = args.raw('normalized_shape');
        return {
          kind: 'layerNorm',
          normalizedShape: typeof shape === 'number' ? [shape] : args.tuple('normalized_shape', Array.isArray(shape) ? shape.length : 1),
          affine: args.bool('elementwise_affine'),
          bias: args.bool('bias'),
        };
      },
    },
  ],
  [
    'GroupNorm',
    {
      params: ['num_groups', 'num_channels', 'eps', 'affine'],
      defaults: { eps: 1e-5, affine: true },
      build: (args) => ({ kind: 'groupNorm', groups: args.int('num_groups'), channels: args.int('num_channels'), affine: args.bool('affine') }),
    },
  ],
  ['Flatten', { params: ['start_dim', 'end_dim'], defaults: { start_dim: 1, end_dim: -1 }, build: (args) => ({ kind: 'flatten', startDim: args.int('start_dim'), endDim: args.int('end_dim') }) }],
  [
    'Embedding',
    {
      params: ['num_embeddings', 'embedding_dim', 'padding_idx', 'max_norm'],
      defaults: { padding_idx: null, max_norm: null },
      build: (args) => ({ kind: 'embedding', count: args.int('num_embeddings'), dim: args.int('embedding_dim') }),
    },
  ],
  [
    'Upsample',
    {
      params: ['size', 'scale_factor', 'mode', 'align_corners'],
      defaults: { size: null, scale_factor: null, mode: 'nearest', align_corners: null },
      build(args, type) {
        const size = args.raw('size');
        const scale = args.raw('scale_factor');
        const list = (v: ArgValue | undefined) => (typeof v === 'number' ? [v] : Array.isArray(v) && v.every((d) => typeof d === 'number') ? (v as number[]) : null);
        if (list(size) === null && list(scale) === null) throw new ArgumentError(`${type}: give size or scale_factor`);
        return { kind: 'upsample', size: list(size), scale: list(scale) };
      },
    },
  ],
  ['PReLU', { params: ['num_parameters', 'init'], defaults: { num_parameters: 1, init: 0.25 }, build: (args) => ({ kind: 'prelu', count: args.int('num_parameters') }) }],
  ...elementwiseLayers.map((name) => [name, elementwise] as [string, Signature]),
]);

/** Binds positional and keyword arguments to the layer's parameters, as Python would. */
export function buildLayer(type: string, positional: ArgValue[], keywords: Map<string, ArgValue>): LayerSpec {
  const signature = torchLayers.get(type);
  if (!signature) throw new ArgumentError(`nn.${type} is not analysed`);
  if (signature === elementwise) return signature.build(new Args(new Map(), type), type);
  const values = new Map<string, ArgValue>(Object.entries(signature.defaults));
  positional.forEach((value, i) => {
    const name = signature.params[i];
    if (name === undefined) throw new ArgumentError(`${type} takes at most ${signature.params.length} positional arguments`);
    values.set(name, value);
  });
  for (const [name, value] of keywords) {
    if (!signature.params.includes(name)) throw new ArgumentError(`${type} has no parameter "${name}"`);
    values.set(name, value);
  }
  const missing = signature.params.filter((p) => !values.has(p));
  if (missing.length > 0) throw new ArgumentError(`${type} is missing ${missing.join(', ')}`);
  return signature.build(new Args(values, type), type);
}

/** The name of the positional parameter at `index`, for pointing a quick fix at an argument. */
export function parameterName(type: string, index: number): string | undefined {
  return torchLayers.get(type)?.params[index];
}
