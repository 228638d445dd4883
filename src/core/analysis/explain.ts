// The arithmetic behind a layer's shape and parameters, with the numbers filled in, written the
// way the course teaches it: (W − F + 2P)/S + 1 = (32 − 3 + 2·1)/1 + 1 = 32.
import { formatCount } from './format';
import type { LayerReport } from './report';
import { formatShape, type Shape } from './shape';
import type { TfjsLayerSpec } from './tfjsLayers';

export function explainLayer(layer: LayerReport): string[] {
  const lines = [`**${layer.name}** (${layer.type}): ${formatShape(layer.in)} → ${formatShape(layer.out)}${layer.note ? ` (${layer.note})` : ''}`];
  const spec = layer.spec;
  const spatialIn = layer.in?.slice(2) ?? [];
  const spatialOut = layer.out?.slice(2) ?? [];
  if (spec?.kind === 'conv') {
    spatialIn.forEach((w, i) => {
      const f = spec.kernel[i] ?? 1;
      const s = spec.stride[i] ?? 1;
      const d = spec.dilation[i] ?? 1;
      const out = spatialOut[i];
      if (w === null || out === null || out === undefined) return;
      const axis = spatialIn.length === 1 ? 'length' : ['height', 'width', 'depth'][i] ?? `dim ${i}`;
      const p = spec.padding === 'valid' || spec.padding === 'same' ? 0 : (spec.padding[i] ?? 0);
      const kernel = d === 1 ? `${f}` : `(${d}·(${f} − 1) + 1)`;
      if (spec.padding === 'same') {
        lines.push(`${axis}: padding='same' keeps it: ${out}`);
      } else if (spec.transposed) {
        const op = spec.outputPadding[i] ?? 0;
        lines.push(`${axis}: (W − 1)·S − 2P + F + output_padding = (${w} − 1)·${s} − 2·${p} + ${kernel} + ${op} = ${out}`);
      } else {
        lines.push(`${axis}: (W − F + 2P)/S + 1 = (${w} − ${kernel} + 2·${p})/${s} + 1 = ${out}`);
      }
    });
    const f = spec.kernel.join('·');
    const dIn = spec.groups === 1 ? spec.inChannels : `${spec.inChannels}/${spec.groups}`;
    lines.push(`params: K·${spec.kernel.map(() => 'F').join('·')}·D_in${spec.bias ? ' + K' : ''} = ${spec.outChannels}·${f}·${dIn}${spec.bias ? ` + ${spec.outChannels}` : ''} = ${formatCount(layer.params)}`);
  } else if (spec?.kind === 'pool') {
    spatialIn.forEach((w, i) => {
      const out = spatialOut[i];
      if (w === null || out === null || out === undefined) return;
      const axis = spatialIn.length === 1 ? 'length' : ['height', 'width', 'depth'][i] ?? `dim ${i}`;
      const round = spec.ceilMode ? '⌈' : '⌊';
      const close = spec.ceilMode ? '⌉' : '⌋';
      lines.push(`${axis}: ${round}(W − F + 2P)/S${close} + 1 = ${round}(${w} − ${spec.kernel[i]} + 2·${spec.padding[i]})/${spec.stride[i]}${close} + 1 = ${out}`);
    });
    lines.push('params: none');
  } else if (spec?.kind === 'linear') {
    lines.push(`params: in·out${spec.bias ? ' + out' : ''} = ${formatCount(spec.inFeatures)}·${formatCount(spec.outFeatures)}${spec.bias ? ` + ${formatCount(spec.outFeatures)}` : ''} = ${formatCount(layer.params)}`);
  } else if (spec?.kind === 'batchNorm' || spec?.kind === 'groupNorm') {
    const channels = spec.kind === 'batchNorm' ? spec.features : spec.channels;
    lines.push(`params: weight and bias per channel = 2·${channels} = ${formatCount(layer.params)}`);
  } else if (spec?.kind === 'flatten' && layer.in && layer.out) {
    lines.push(`${formatShape(layer.in)} flattened from dimension ${spec.startDim}: ${formatShape(layer.out)}`);
  } else if (layer.tfjs) {
    lines.push(...explainTfjs(layer, layer.tfjs));
  } else if (layer.params > 0) {
    lines.push(`params: ${formatCount(layer.params)}`);
  }
  return [...lines, ...costLines(layer)];
}

/** The dimensions as the course multiplies them: 16·32·32, leaving out a batch of 1. */
function dims(shape: Shape): string {
  return (shape.length > 1 && shape[0] === 1 ? shape.slice(1) : shape).map((d) => (d === null ? '?' : String(d))).join('·');
}

const perGroup = (channels: number, groups: number) => (groups === 1 ? `${channels}` : `${channels}/${groups}`);

/** The multiply-accumulates (by cost.ts's rules) and the receptive field, with the numbers filled in. */
function costLines(layer: LayerReport): string[] {
  const lines: string[] = [];
  if (typeof layer.macs === 'number' && layer.macs > 0) {
    const formula = macsFormula(layer);
    lines.push(`MACs: ${formula ? `${formula} = ` : ''}${formatCount(layer.macs)}`);
  }
  const field = layer.receptiveField;
  if (field) {
    const jump = field.jump.every((j) => j === field.jump[0]) ? `${field.jump[0]}` : field.jump.join('×');
    lines.push(`receptive field: ${field.size.join('×')} input pixels (jump ${jump})`);
  }
  return lines;
}

function macsFormula({ spec, tfjs, in: input, out }: LayerReport): string | undefined {
  if (!input || !out) return undefined;
  if (spec?.kind === 'conv') {
    const f = `${spec.kernel.map(() => 'F').join('·')} = `;
    const kernel = spec.kernel.join('·');
    return spec.transposed
      ? `in elements · C_out/groups · ${f}${dims(input)} · ${perGroup(spec.outChannels, spec.groups)} · ${kernel}`
      : `out elements · C_in/groups · ${f}${dims(out)} · ${perGroup(spec.inChannels, spec.groups)} · ${kernel}`;
  }
  if (spec?.kind === 'linear') return `out elements · in = ${dims(out)} · ${formatCount(spec.inFeatures)}`;
  const channels = input[input.length - 1];
  if (tfjs?.kind === 'conv2d' && typeof channels === 'number') return `out elements · C_in · F·F = ${dims(out)} · ${channels} · ${tfjs.kernel.join('·')}`;
  if (tfjs?.kind === 'dense' && typeof channels === 'number') return `out elements · in = ${dims(out)} · ${formatCount(channels)}`;
  const perElement = ['batchNorm', 'groupNorm', 'layerNorm', 'prelu', 'batchNormalization'];
  return perElement.includes(spec?.kind ?? tfjs?.kind ?? '') ? 'one per output element' : undefined;
}

/** TF.js in NHWC, with TF's padding rule: 'same' gives ⌈W/S⌉, 'valid' ⌈(W − F + 1)/S⌉. */
function explainTfjs(layer: LayerReport, spec: TfjsLayerSpec): string[] {
  const lines: string[] = [];
  const channels = layer.in?.[layer.in.length - 1];
  if (spec.kind === 'conv2d' || spec.kind === 'pooling2d') {
    const kernel = spec.kind === 'conv2d' ? spec.kernel : spec.pool;
    const dilation = spec.kind === 'conv2d' ? spec.dilation : [1, 1];
    ['height', 'width'].forEach((axis, i) => {
      const w = layer.in?.[i + 1];
      const out = layer.out?.[i + 1];
      if (typeof w !== 'number' || typeof out !== 'number') return;
      const s = spec.strides[i] ?? 1;
      const d = dilation[i] ?? 1;
      const f = d === 1 ? `${kernel[i]}` : `(${d}·(${kernel[i]} − 1) + 1)`;
      lines.push(spec.padding === 'same' ? `${axis}: padding 'same': ⌈W/S⌉ = ⌈${w}/${s}⌉ = ${out}` : `${axis}: padding 'valid': ⌈(W − F + 1)/S⌉ = ⌈(${w} − ${f} + 1)/${s}⌉ = ${out}`);
    });
    if (spec.kind === 'conv2d' && typeof channels === 'number') {
      lines.push(`params: F·F·C_in·K${spec.useBias ? ' + K' : ''} = ${spec.kernel.join('·')}·${channels}·${spec.filters}${spec.useBias ? ` + ${spec.filters}` : ''} = ${formatCount(layer.params)}`);
    } else if (spec.kind === 'pooling2d') {
      lines.push('params: none');
    }
  } else if (spec.kind === 'dense' && typeof channels === 'number') {
    lines.push(`params: in·units${spec.useBias ? ' + units' : ''} = ${formatCount(channels)}·${formatCount(spec.units)}${spec.useBias ? ` + ${formatCount(spec.units)}` : ''} = ${formatCount(layer.params)}`);
  } else if (spec.kind === 'batchNormalization' && typeof channels === 'number') {
    const trainable = Number(spec.center) + Number(spec.scale);
    lines.push(`params: ${trainable + 2}·C = ${trainable + 2}·${channels} = ${formatCount(layer.params)} (${trainable}·C trainable${spec.scale ? ' γ' : ''}${spec.center ? ' β' : ''}, 2·C moving mean and variance)`);
  }
  return lines;
}
