// TF.js layers (tf.layers.*): their configs, output shapes in NHWC and parameter counts as
// tfjs-layers computes them (countParams(); batch norm's moving statistics are weights but not
// trainable). Shapes carry the batch dimension first, as everywhere in the analysis.
import { convOutputLength } from './formulas';
import type { LayerResult } from './layers';
import { product, type Shape } from './shape';

export type TfjsLayerSpec =
  | { kind: 'conv2d'; filters: number; kernel: [number, number]; strides: [number, number]; padding: 'valid' | 'same'; dilation: [number, number]; useBias: boolean }
  | { kind: 'pooling2d'; op: 'max' | 'average'; pool: [number, number]; strides: [number, number]; padding: 'valid' | 'same' }
  | { kind: 'globalPooling2d'; op: 'max' | 'average' }
  | { kind: 'dense'; units: number; useBias: boolean }
  | { kind: 'flatten' }
  | { kind: 'batchNormalization'; center: boolean; scale: boolean }
  | { kind: 'reshape'; target: number[] }
  | { kind: 'identity' };

/** A config value as the evaluator found it. */
export type ConfigValue = number | string | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };
export type Config = Record<string, ConfigValue>;

export class TfjsConfigError extends Error {}

function pair(config: Config, key: string, fallback: [number, number] | null, layer: string): [number, number] {
  const value = config[key];
  if (value === undefined || value === null) {
    if (fallback) return fallback;
    throw new TfjsConfigError(`${layer} needs ${key}`);
  }
  if (typeof value === 'number' && Number.isInteger(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isInteger(v))) return value as [number, number];
  throw new TfjsConfigError(`${layer}: ${key} is not a size`);
}

function integer(config: Config, key: string, layer: string): number {
  const value = config[key];
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new TfjsConfigError(`${layer} needs ${key}, a positive whole number`);
}

function padding(config: Config, layer: string): 'valid' | 'same' {
  const value = config['padding'] ?? 'valid';
  if (value === 'valid' || value === 'same') return value;
  throw new TfjsConfigError(`${layer}: padding is 'valid' or 'same'`);
}

const identityLayers = new Set(['dropout', 'activation', 'spatialDropout1d', 'gaussianNoise', 'gaussianDropout', 'alphaDropout', 'reLU', 'leakyReLU', 'elu', 'softmax', 'thresholdedReLU', 'layerNormalization']);

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
        useBias: config['useBias'] !== false,
      };
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const pool = pair(config, 'poolSize', [2, 2], layer);
      return { kind: 'pooling2d', op: factory === 'maxPooling2d' ? 'max' : 'average', pool, strides: pair(config, 'strides', pool, layer), padding: padding(config, layer) };
    }
    case 'globalAveragePooling2d':
    case 'globalMaxPooling2d':
      return { kind: 'globalPooling2d', op: factory === 'globalMaxPooling2d' ? 'max' : 'average' };
    case 'dense':
      return { kind: 'dense', units: integer(config, 'units', layer), useBias: config['useBias'] !== false };
    case 'flatten':
      return { kind: 'flatten' };
    case 'batchNormalization':
      return { kind: 'batchNormalization', center: config['center'] !== false, scale: config['scale'] !== false };
    case 'reshape': {
      const target = config['targetShape'];
      if (!Array.isArray(target) || !target.every((d) => typeof d === 'number')) throw new TfjsConfigError(`${layer} needs targetShape`);
      return { kind: 'reshape', target: target as number[] };
    }
    default:
      return identityLayers.has(factory) ? { kind: 'identity' } : null;
  }
}

/** TF's rule: 'same' gives ceil(L / s), 'valid' ceil((L − d·(k − 1)) / s), the conv formula without padding. */
function tfLength(length: number, kernel: number, stride: number, dilation: number, mode: 'valid' | 'same'): number {
  return mode === 'same' ? Math.ceil(length / stride) : convOutputLength(length, kernel, stride, 0, dilation);
}

export function computeTfjsOutputShape(spec: TfjsLayerSpec, type: string, input: Shape): LayerResult {
  const rank4 = (what: string) => (input.length === 4 ? undefined : `${type} expects a 4-dimensional input [batch, height, width, channels] (${what}) but receives ${input.length} dimensions`);
  switch (spec.kind) {
    case 'identity':
    case 'batchNormalization':
      return { shape: input };
    case 'conv2d':
    case 'pooling2d': {
      const problem = rank4(spec.kind === 'conv2d' ? 'a conv2d' : 'a pooling layer');
      if (problem) return { shape: null, error: problem };
      const kernel = spec.kind === 'conv2d' ? spec.kernel : spec.pool;
      const dilation = spec.kind === 'conv2d' ? spec.dilation : [1, 1];
      const [h, w] = [input[1] ?? null, input[2] ?? null].map((length, i) => (length === null ? null : tfLength(length, kernel[i] ?? 1, spec.strides[i] ?? 1, dilation[i] ?? 1, spec.padding)));
      const shape = [input[0] ?? null, h ?? null, w ?? null, spec.kind === 'conv2d' ? spec.filters : (input[3] ?? null)];
      if ((h !== null && h !== undefined && h < 1) || (w !== null && w !== undefined && w < 1)) return { shape, error: `${type} shrinks ${input[1]}×${input[2]} below 1` };
      return { shape };
    }
    case 'globalPooling2d': {
      const problem = rank4('global pooling');
      return problem ? { shape: null, error: problem } : { shape: [input[0] ?? null, input[3] ?? null] };
    }
    case 'dense':
      return { shape: [...input.slice(0, -1), spec.units] };
    case 'flatten':
      return { shape: [input[0] ?? null, product(input.slice(1))] };
    case 'reshape': {
      const size = product(input.slice(1));
      const target = spec.target.reduce((a, b) => a * b, 1);
      if (size !== null && size !== target) return { shape: null, error: `${type} cannot reshape ${size} values into [${spec.target.join(', ')}]` };
      return { shape: [input[0] ?? null, ...spec.target] };
    }
  }
}

/** countParams() and the trainable part of it, given the layer's input. */
export function tfjsParamCount(spec: TfjsLayerSpec, input: Shape | null): { total: number; trainable: number } | null {
  const channels = input?.[input.length - 1] ?? null;
  switch (spec.kind) {
    case 'conv2d': {
      if (channels === null) return null;
      const total = spec.kernel[0] * spec.kernel[1] * channels * spec.filters + (spec.useBias ? spec.filters : 0);
      return { total, trainable: total };
    }
    case 'dense': {
      if (channels === null) return null;
      const total = channels * spec.units + (spec.useBias ? spec.units : 0);
      return { total, trainable: total };
    }
    case 'batchNormalization': {
      if (channels === null) return null;
      const trainable = channels * (Number(spec.center) + Number(spec.scale));
      return { total: trainable + 2 * channels, trainable };
    }
    default:
      return { total: 0, trainable: 0 };
  }
}
