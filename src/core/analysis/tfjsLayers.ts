// TF.js layers (tf.layers.*): their configs, output shapes in NHWC and parameter counts as
// tfjs-layers computes them (countParams(); batch norm's moving statistics are weights but not
// trainable). Shapes carry the batch dimension first, as everywhere in the analysis.
import { convOutputLength } from './formulas';
import type { LayerResult } from './layers';
import { product, type Shape } from './shape';
import { Unknown } from './tfjsValues';

export type TfjsLayerSpec =
  | { kind: 'conv2d'; filters: number; kernel: [number, number]; strides: [number, number]; padding: 'valid' | 'same'; dilation: [number, number]; useBias: boolean }
  | { kind: 'conv2dTranspose'; filters: number; kernel: [number, number]; strides: [number, number]; padding: 'valid' | 'same'; useBias: boolean }
  | { kind: 'conv1d'; filters: number; kernel: number; strides: number; padding: 'valid' | 'same'; dilation: number; useBias: boolean }
  | { kind: 'pooling2d'; op: 'max' | 'average'; pool: [number, number]; strides: [number, number]; padding: 'valid' | 'same' }
  | { kind: 'pooling1d'; op: 'max' | 'average'; pool: number; strides: number; padding: 'valid' | 'same' }
  | { kind: 'globalPooling2d'; op: 'max' | 'average' }
  | { kind: 'globalPooling1d'; op: 'max' | 'average' }
  | { kind: 'upSampling2d'; size: [number, number] }
  | { kind: 'dense'; units: number; useBias: boolean }
  | { kind: 'embedding'; inputDim: number; outputDim: number }
  | { kind: 'recurrent'; cell: 'simpleRNN' | 'lstm' | 'gru'; units: number; returnSequences: boolean }
  | { kind: 'repeatVector'; n: number }
  | { kind: 'flatten' }
  | { kind: 'batchNormalization'; center: boolean; scale: boolean }
  | { kind: 'layerNormalization'; center: boolean; scale: boolean }
  | { kind: 'reshape'; target: number[] }
  | { kind: 'identity' };

/** A config value as the evaluator found it; a value it could not follow is an Unknown. */
export type Config = Record<string, unknown>;

/** A config value the layer's rule needs is not known: the layer's shape and parameters are not either. */
export class UnknownConfig extends Error {
  constructor(
    readonly key: string,
    readonly value: Unknown,
  ) {
    super(key);
  }
}

export class TfjsConfigError extends Error {}

/** A value read from the config: an unknown one stops the rule. */
function read(config: Config, key: string): unknown {
  const value = config[key];
  const unknown = value instanceof Unknown ? value : Array.isArray(value) ? value.find((item) => item instanceof Unknown) : undefined;
  if (unknown) throw new UnknownConfig(key, unknown);
  return value;
}

function pair(config: Config, key: string, fallback: [number, number] | null, layer: string): [number, number] {
  const value = read(config, key);
  if (value === undefined || value === null) {
    if (fallback) return fallback;
    throw new TfjsConfigError(`${layer} needs ${key}`);
  }
  if (typeof value === 'number' && Number.isInteger(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isInteger(v))) return value as [number, number];
  throw new TfjsConfigError(`${layer}: ${key} is not a size`);
}

function single(config: Config, key: string, fallback: number | null, layer: string): number {
  const value = read(config, key);
  if (value === undefined || value === null) {
    if (fallback !== null) return fallback;
    throw new TfjsConfigError(`${layer} needs ${key}`);
  }
  const number = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof number === 'number' && Number.isInteger(number)) return number;
  throw new TfjsConfigError(`${layer}: ${key} is not a size`);
}

function integer(config: Config, key: string, layer: string): number {
  const value = read(config, key);
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new TfjsConfigError(`${layer} needs ${key}, a positive whole number`);
}

function flag(config: Config, key: string, fallback: boolean): boolean {
  const value = read(config, key);
  return value === undefined || value === null ? fallback : Boolean(value);
}

function padding(config: Config, layer: string): 'valid' | 'same' {
  const value = read(config, 'padding') ?? 'valid';
  if (value === 'valid' || value === 'same') return value;
  throw new TfjsConfigError(`${layer}: padding is 'valid' or 'same'`);
}

/** Layers that keep their input's shape and have no weights. */
const identityLayers = new Set(['dropout', 'activation', 'spatialDropout1d', 'gaussianNoise', 'gaussianDropout', 'alphaDropout', 'reLU', 'leakyReLU', 'elu', 'softmax', 'thresholdedReLU']);

/** The layer spec for `tf.layers.<factory>(config)`; null for a factory the analysis does not know. */
export function buildTfjsLayer(factory: string, config: Config): TfjsLayerSpec | null {
  const layer = `tf.layers.${factory}`;
  switch (factory) {
    case 'conv2d':
      return {
        kind: 'conv2d',
        filters: integer(config, 'filters', layer),
        kernel: pair(config, 'kernelSize', null, layer),
        strides: pair(config, 'strides', [1, 1], layer),
        padding: padding(config, layer),
        dilation: pair(config, 'dilationRate', [1, 1], layer),
        useBias: flag(config, 'useBias', true),
      };
    case 'conv2dTranspose':
      return { kind: 'conv2dTranspose', filters: integer(config, 'filters', layer), kernel: pair(config, 'kernelSize', null, layer), strides: pair(config, 'strides', [1, 1], layer), padding: padding(config, layer), useBias: flag(config, 'useBias', true) };
    case 'conv1d':
      return {
        kind: 'conv1d',
        filters: integer(config, 'filters', layer),
        kernel: single(config, 'kernelSize', null, layer),
        strides: single(config, 'strides', 1, layer),
        padding: padding(config, layer),
        dilation: single(config, 'dilationRate', 1, layer),
        useBias: flag(config, 'useBias', true),
      };
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const pool = pair(config, 'poolSize', [2, 2], layer);
      return { kind: 'pooling2d', op: factory === 'maxPooling2d' ? 'max' : 'average', pool, strides: pair(config, 'strides', pool, layer), padding: padding(config, layer) };
    }
    case 'maxPooling1d':
    case 'averagePooling1d': {
      const pool = single(config, 'poolSize', 2, layer);
      return { kind: 'pooling1d', op: factory === 'maxPooling1d' ? 'max' : 'average', pool, strides: single(config, 'strides', pool, layer), padding: padding(config, layer) };
    }
    case 'globalAveragePooling2d':
    case 'globalMaxPooling2d':
      return { kind: 'globalPooling2d', op: factory === 'globalMaxPooling2d' ? 'max' : 'average' };
    case 'globalAveragePooling1d':
    case 'globalMaxPooling1d':
      return { kind: 'globalPooling1d', op: factory === 'globalMaxPooling1d' ? 'max' : 'average' };
    case 'upSampling2d':
      return { kind: 'upSampling2d', size: pair(config, 'size', [2, 2], layer) };
    case 'dense':
      return { kind: 'dense', units: integer(config, 'units', layer), useBias: flag(config, 'useBias', true) };
    case 'embedding':
      return { kind: 'embedding', inputDim: integer(config, 'inputDim', layer), outputDim: integer(config, 'outputDim', layer) };
    case 'simpleRNN':
    case 'lstm':
    case 'gru':
      return { kind: 'recurrent', cell: factory, units: integer(config, 'units', layer), returnSequences: flag(config, 'returnSequences', false) };
    case 'repeatVector':
      return { kind: 'repeatVector', n: integer(config, 'n', layer) };
    case 'flatten':
      return { kind: 'flatten' };
    case 'batchNormalization':
      return { kind: 'batchNormalization', center: flag(config, 'center', true), scale: flag(config, 'scale', true) };
    case 'layerNormalization':
      return { kind: 'layerNormalization', center: flag(config, 'center', true), scale: flag(config, 'scale', true) };
    case 'reshape': {
      const target = read(config, 'targetShape');
      if (!Array.isArray(target) || !target.every((d) => typeof d === 'number')) throw new TfjsConfigError(`${layer} needs targetShape`);
      return { kind: 'reshape', target: target as number[] };
    }
    default:
      return identityLayers.has(factory) ? { kind: 'identity' } : null;
  }
}

/** The sample shape (no batch) a first layer declares: `inputShape`, `batchInputShape` less its batch, or a dense layer's `inputDim`. */
export function declaredInputKey(config: Config): 'inputShape' | 'batchInputShape' | 'inputDim' | undefined {
  return (['inputShape', 'batchInputShape', 'inputDim'] as const).find((key) => config[key] !== undefined && config[key] !== null);
}

/** TF's rule: 'same' gives ceil(L / s), 'valid' ceil((L − d·(k − 1)) / s), the conv formula without padding. */
function tfLength(length: number, kernel: number, stride: number, dilation: number, mode: 'valid' | 'same'): number {
  return mode === 'same' ? Math.ceil(length / stride) : convOutputLength(length, kernel, stride, 0, dilation);
}

export function computeTfjsOutputShape(spec: TfjsLayerSpec, type: string, input: Shape): LayerResult {
  const rank = (n: number, layout: string) => (input.length === n ? undefined : `${type} expects a ${n}-dimensional input ${layout} but receives ${input.length} dimensions`);
  const batch = input[0] ?? null;
  const last = input[input.length - 1] ?? null;
  switch (spec.kind) {
    case 'identity':
    case 'batchNormalization':
    case 'layerNormalization':
      return { shape: input };
    case 'conv2d':
    case 'pooling2d':
    case 'conv2dTranspose': {
      const problem = rank(4, '[batch, height, width, channels]');
      if (problem) return { shape: null, error: problem };
      const kernel = spec.kind === 'pooling2d' ? spec.pool : spec.kernel;
      const dilation = spec.kind === 'conv2d' ? spec.dilation : [1, 1];
      const [h, w] = [input[1] ?? null, input[2] ?? null].map((length, i) => {
        if (length === null) return null;
        if (spec.kind === 'conv2dTranspose') return spec.padding === 'same' ? length * (spec.strides[i] ?? 1) : length * (spec.strides[i] ?? 1) + Math.max((kernel[i] ?? 1) - (spec.strides[i] ?? 1), 0);
        return tfLength(length, kernel[i] ?? 1, spec.strides[i] ?? 1, dilation[i] ?? 1, spec.padding);
      });
      const shape = [batch, h ?? null, w ?? null, spec.kind === 'pooling2d' ? (input[3] ?? null) : spec.filters];
      if ((typeof h === 'number' && h < 1) || (typeof w === 'number' && w < 1)) return { shape, error: `${type} shrinks ${input[1]}×${input[2]} below 1` };
      return { shape };
    }
    case 'conv1d':
    case 'pooling1d': {
      const problem = rank(3, '[batch, steps, channels]');
      if (problem) return { shape: null, error: problem };
      const steps = input[1] ?? null;
      const kernel = spec.kind === 'conv1d' ? spec.kernel : spec.pool;
      const length = steps === null ? null : tfLength(steps, kernel, spec.strides, spec.kind === 'conv1d' ? spec.dilation : 1, spec.padding);
      const shape = [batch, length, spec.kind === 'conv1d' ? spec.filters : (input[2] ?? null)];
      if (typeof length === 'number' && length < 1) return { shape, error: `${type} shrinks ${steps} steps below 1` };
      return { shape };
    }
    case 'globalPooling2d': {
      const problem = rank(4, '[batch, height, width, channels]');
      return problem ? { shape: null, error: problem } : { shape: [batch, input[3] ?? null] };
    }
    case 'globalPooling1d': {
      const problem = rank(3, '[batch, steps, channels]');
      return problem ? { shape: null, error: problem } : { shape: [batch, input[2] ?? null] };
    }
    case 'upSampling2d': {
      const problem = rank(4, '[batch, height, width, channels]');
      if (problem) return { shape: null, error: problem };
      const scale = (d: number | null, f: number) => (d === null ? null : d * f);
      return { shape: [batch, scale(input[1] ?? null, spec.size[0]), scale(input[2] ?? null, spec.size[1]), input[3] ?? null] };
    }
    case 'dense':
      return { shape: [...input.slice(0, -1), spec.units] };
    case 'embedding':
      return { shape: [...input, spec.outputDim] };
    case 'recurrent': {
      const problem = rank(3, '[batch, steps, features]');
      if (problem) return { shape: null, error: problem };
      return { shape: spec.returnSequences ? [batch, input[1] ?? null, spec.units] : [batch, spec.units] };
    }
    case 'repeatVector': {
      const problem = rank(2, '[batch, features]');
      return problem ? { shape: null, error: problem } : { shape: [batch, spec.n, last] };
    }
    case 'flatten':
      return { shape: [batch, product(input.slice(1))] };
    case 'reshape': {
      const size = product(input.slice(1));
      const target = spec.target.reduce((a, b) => a * b, 1);
      if (size !== null && size !== target) return { shape: null, error: `${type} cannot reshape ${size} values into [${spec.target.join(', ')}]` };
      return { shape: [batch, ...spec.target] };
    }
  }
}

/** countParams() and the trainable part of it, given the layer's input; null when the input's features are not known. */
export function tfjsParamCount(spec: TfjsLayerSpec, input: Shape | null): { total: number; trainable: number } | null {
  const channels = input?.[input.length - 1] ?? null;
  const trained = (total: number) => ({ total, trainable: total });
  switch (spec.kind) {
    case 'conv2d':
    case 'conv2dTranspose':
      return channels === null ? null : trained(spec.kernel[0] * spec.kernel[1] * channels * spec.filters + (spec.useBias ? spec.filters : 0));
    case 'conv1d':
      return channels === null ? null : trained(spec.kernel * channels * spec.filters + (spec.useBias ? spec.filters : 0));
    case 'dense':
      return channels === null ? null : trained(channels * spec.units + (spec.useBias ? spec.units : 0));
    case 'embedding':
      return trained(spec.inputDim * spec.outputDim);
    case 'recurrent': {
      if (channels === null) return null;
      const gates = spec.cell === 'lstm' ? 4 : spec.cell === 'gru' ? 3 : 1;
      return trained(gates * spec.units * (channels + spec.units + 1));
    }
    case 'batchNormalization': {
      if (channels === null) return null;
      const trainable = channels * (Number(spec.center) + Number(spec.scale));
      return { total: trainable + 2 * channels, trainable };
    }
    case 'layerNormalization':
      return channels === null ? null : trained(channels * (Number(spec.center) + Number(spec.scale)));
    default:
      return trained(0);
  }
}

/**
 * A layer's weights as TF.js creates them, in `layer.weights` order (trainable first: a batch norm's
 * gamma and beta, then its moving statistics), with TF.js's names; null where the input's features
 * are not known.
 */
export function tfjsWeightShapes(spec: TfjsLayerSpec, input: Shape | null): { name: string; shape: number[] }[] | null {
  const channels = input?.[input.length - 1] ?? null;
  const weights = (...list: [string, number[]][]) => list.map(([name, shape]) => ({ name, shape }));
  const bias = (useBias: boolean, size: number): [string, number[]][] => (useBias ? [['bias', [size]]] : []);
  switch (spec.kind) {
    case 'conv2d':
      return channels === null ? null : weights(['kernel', [...spec.kernel, channels, spec.filters]], ...bias(spec.useBias, spec.filters));
    case 'conv2dTranspose':
      return channels === null ? null : weights(['kernel', [...spec.kernel, spec.filters, channels]], ...bias(spec.useBias, spec.filters));
    case 'conv1d':
      return channels === null ? null : weights(['kernel', [spec.kernel, channels, spec.filters]], ...bias(spec.useBias, spec.filters));
    case 'dense':
      return channels === null ? null : weights(['kernel', [channels, spec.units]], ...bias(spec.useBias, spec.units));
    case 'embedding':
      return weights(['embeddings', [spec.inputDim, spec.outputDim]]);
    case 'recurrent': {
      if (channels === null) return null;
      const size = (spec.cell === 'lstm' ? 4 : spec.cell === 'gru' ? 3 : 1) * spec.units;
      return weights(['kernel', [channels, size]], ['recurrent_kernel', [spec.units, size]], ['bias', [size]]);
    }
    case 'batchNormalization':
    case 'layerNormalization': {
      if (channels === null) return null;
      const affine: [string, number[]][] = [...(spec.scale ? [['gamma', [channels]] as [string, number[]]] : []), ...(spec.center ? [['beta', [channels]] as [string, number[]]] : [])];
      return weights(...affine, ...(spec.kind === 'batchNormalization' ? ([['moving_mean', [channels]], ['moving_variance', [channels]]] as [string, number[]][]) : []));
    }
    default:
      return [];
  }
}
