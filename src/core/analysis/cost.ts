// What each layer costs for the model's input: multiply-accumulates (MACs), the float32 bytes of
// its output, and for convolutions and pools the receptive field in input pixels. Set once on every
// report (analyze.ts), so the lenses, hovers, summary, Model view and CLI agree.
//
// MACs leave the bias out. Convolutions count output elements × C_in/groups × kernel elements;
// transposed convolutions input elements × C_out/groups × kernel elements (each input pixel is
// scattered through the kernel); Linear output elements × in_features. Normalisations (BatchNorm,
// GroupNorm, LayerNorm) and PReLU count one per output element, the scale-and-shift left once the
// statistics are folded in (torchinfo counts batch × parameters instead, a number that does not
// grow with the image). Embedding counts 0: a lookup multiplies nothing (torchinfo counts its whole
// table). Any other kind counts 0 when it has no weights and is unknown (null) otherwise, so a
// kind added to the catalogue shows no number until it has a rule here.
//
// Like the report, a module called several times (a shared pool) counts once, at its last call,
// and functional operations (F.relu, torch.flatten) are no layers: totals are the layers' sums.
import type { LayerSpec } from './layers';
import type { LayerReport, ModelReport } from './report';
import { type Dim, product, sameShape, type Shape } from './shape';
import type { TfjsLayerSpec } from './tfjsLayers';

export const bytesPerFloat = 4;

/** The note both the static analysis and exact mode give a layer forward never reaches. */
const notCalled = 'not called in forward';

/** TF.js merge layers: no spec, no weights, element-wise or a concatenation. */
const tfjsMerges = new Set(['add', 'concatenate', 'multiply', 'average']);

export type ReceptiveField = NonNullable<LayerReport['receptiveField']>;

/**
 * Sets every layer's MACs, output bytes and receptive field, and the model's totals, on the report
 * itself, which is returned: a ResNet-1202's 3,009 layers copied took a tenth of an edit's time,
 * with the collector. A layer's MACs already set (exact mode's, from PyTorch) are kept.
 */
export function addCosts(report: ModelReport): ModelReport {
  const fields = receptiveFields(report);
  let totalMacs: number | null = 0;
  let activationBytes: number | null = 0;
  report.layers.forEach((layer, i) => {
    if (layer.macs === undefined) layer.macs = layerMacs(layer);
    layer.outputBytes = outputBytes(layer);
    const field = fields[i];
    if (field) layer.receptiveField = field;
    totalMacs = totalMacs === null || layer.macs === null ? null : totalMacs + layer.macs;
    activationBytes = activationBytes === null || layer.outputBytes === null ? null : activationBytes + layer.outputBytes;
  });
  report.totalMacs = totalMacs;
  report.activationBytes = activationBytes;
  return report;
}

/** The number of values in a shape, batch included; null when a dimension is unknown. */
export function elements(shape: Shape | null): number | null {
  return shape ? product(shape) : null;
}

function outputBytes(layer: LayerReport): number | null {
  if (layer.note === notCalled) return 0;
  const count = elements(layer.out);
  return count === null ? null : count * bytesPerFloat;
}

/** Multiply-accumulates of the layer's (last) call, by the rules above; null when unknown. */
export function layerMacs(layer: LayerReport): number | null {
  if (layer.note === notCalled) return 0;
  if (layer.spec) return torchMacs(layer.spec, layer);
  if (layer.tfjs) return tfjsMacs(layer.tfjs, layer);
  if (tfjsMerges.has(layer.type)) return 0;
  // An unanalysed layer that keeps its input's shape (an empty nn.Sequential) does nothing.
  return layer.in && layer.out && layer.in.length === layer.out.length && layer.in.every((d, i) => d !== null && d === layer.out?.[i]) ? 0 : null;
}

const kernelElements = (kernel: readonly number[]) => kernel.reduce((a, b) => a * b, 1);

function torchMacs(spec: LayerSpec, layer: LayerReport): number | null {
  const out = elements(layer.out);
  switch (spec.kind) {
    case 'conv': {
      const kernel = kernelElements(spec.kernel);
      if (!spec.transposed) return out === null ? null : out * (spec.inChannels / spec.groups) * kernel;
      // The declared in_channels, not the received ones: a mismatch is already an error.
      const positions = layer.in ? product([layer.in[0] ?? null, ...layer.in.slice(2)]) : null;
      return positions === null ? null : positions * spec.inChannels * (spec.outChannels / spec.groups) * kernel;
    }
    case 'linear':
      return out === null ? null : out * spec.inFeatures;
    case 'batchNorm':
    case 'groupNorm':
    case 'layerNorm':
    case 'prelu':
      return out;
    case 'embedding':
      return 0;
    default:
      return layer.params === 0 ? 0 : null;
  }
}

/** TF.js in NHWC: the channels are the last dimension. */
function tfjsMacs(spec: TfjsLayerSpec, layer: LayerReport): number | null {
  const out = elements(layer.out);
  const channels = layer.in?.[layer.in.length - 1] ?? null;
  switch (spec.kind) {
    case 'conv2d':
      return out === null || channels === null ? null : out * channels * kernelElements(spec.kernel);
    case 'dense':
      return out === null || channels === null ? null : out * channels;
    case 'batchNormalization':
      return out;
    default:
      return 0;
  }
}

// ---- receptive fields ----

/** A sliding window over the spatial axes: a convolution or a pool. */
interface Window {
  kernel: readonly number[];
  stride: readonly number[];
  dilation: readonly number[];
  /** Where the spatial axes sit: the last `rank` (PyTorch, NCHW) or between batch and channels (TF.js, NHWC). */
  spatial(shape: Shape): Dim[];
  /** Names that layout, for the index of points reached. */
  axes: string;
}

/** What a layer does to the receptive field: a window grows it, 'keep' leaves it, 'end' stops the chain. */
type Role = Window | 'keep' | 'end';

const lastAxesOf = (rank: number) => (shape: Shape) => shape.slice(Math.max(0, shape.length - rank));
/** Per rank, made once: a role is asked of every layer. */
const lastAxes = [0, 1, 2, 3].map(lastAxesOf);
const nhwc = (shape: Shape) => (shape.length === 4 ? shape.slice(1, 3) : []);

function role(layer: LayerReport): Role {
  const { spec, tfjs } = layer;
  if (spec) {
    switch (spec.kind) {
      // A transposed convolution's step is a fraction of an input pixel: the chain ends there.
      case 'conv':
        return spec.transposed ? 'end' : { kernel: spec.kernel, stride: spec.stride, dilation: spec.dilation, spatial: lastAxes[spec.rank] as Window['spatial'], axes: 'last' };
      case 'pool':
        return { kernel: spec.kernel, stride: spec.stride, dilation: spec.dilation, spatial: lastAxes[spec.rank] as Window['spatial'], axes: 'last' };
      case 'elementwise':
      case 'batchNorm':
      case 'groupNorm':
      case 'layerNorm':
      case 'prelu':
        return 'keep';
      // Adaptive pools, flatten, Linear, upsampling and whatever mixes positions end it.
      default:
        return 'end';
    }
  }
  if (tfjs) {
    switch (tfjs.kind) {
      case 'conv2d':
        return { kernel: tfjs.kernel, stride: tfjs.strides, dilation: tfjs.dilation, spatial: nhwc, axes: 'nhwc' };
      case 'pooling2d':
        return { kernel: tfjs.pool, stride: tfjs.strides, dilation: [1, 1], spatial: nhwc, axes: 'nhwc' };
      case 'identity':
      case 'batchNormalization':
        return 'keep';
      default:
        return 'end';
    }
  }
  // A merge (a residual sum) takes the largest of its inputs' fields, which matching shapes below finds.
  return tfjsMerges.has(layer.type) || sameShape(layer.in, layer.out) ? 'keep' : 'end';
}

/** A point the chain has reached: the output shape there and the field of one of its units. */
interface Reached {
  shape: Shape;
  /** Null for the model's input: one pixel, step one, on however many axes the first window has. */
  field: ReceptiveField | null;
}

/**
 * The receptive field of each convolution and pool, walking the layers in the report's order (the
 * order of their last calls): r_out = r_in + (k_eff − 1)·j_in and j_out = j_in·s, with
 * k_eff = d·(k − 1) + 1. A window reads from the last point reached whose spatial size equals its
 * input's, the largest field among several (a residual sum sees the union of its branches). A
 * shrink no layer accounts for (F.max_pool2d, or a pool the report shows once but the forward
 * calls after every conv) is taken as a pool of kernel = stride = the ratio. Branches are thus
 * followed in report order, an approximation. Activations and normalisations keep the field;
 * adaptive pools, flatten, Linear, upsampling, transposed convolutions and layers the analysis
 * does not know end the chain, and no later layer gets a field.
 */
export function receptiveFields(report: ModelReport): (ReceptiveField | undefined)[] {
  const reached = new ReachedPoints({ shape: report.input, field: null });
  let ended = false;
  return report.layers.map((layer) => {
    if (ended || layer.note === notCalled) return undefined;
    const r = role(layer);
    if (r === 'keep') return undefined;
    if (r === 'end') {
      ended = true;
      return undefined;
    }
    const source = layer.in ? reached.sourceOf(layer.in, r) : undefined;
    if (!source) {
      ended = true;
      return undefined;
    }
    const size = source.size.map((rIn, i) => rIn + ((r.dilation[i] ?? 1) * ((r.kernel[i] ?? 1) - 1)) * (source.jump[i] ?? 1));
    const jump = source.jump.map((jIn, i) => jIn * (r.stride[i] ?? 1));
    const field = { size, jump };
    if (layer.out) reached.points.push({ shape: layer.out, field });
    return field;
  });
}

/**
 * The points reached, indexed per kind of window as windows ask: the latest point and, per spatial
 * size, the largest field, so a deep network's lookups do not each read every point before them.
 */
class ReachedPoints {
  readonly points: Reached[];
  private readonly indexes = new Map<string, { read: number; latest?: { at: Dim[]; field: ReceptiveField }; largest: Map<string, ReceptiveField> }>();

  constructor(input: Reached) {
    this.points = [input];
  }

  /** The field of the point a window's input comes from, or undefined when none can be told. */
  sourceOf(input: Shape, window: Window): ReceptiveField | undefined {
    const rank = window.kernel.length;
    const wanted = window.spatial(input);
    if (wanted.length !== rank) return undefined;
    const key = `${window.axes}${rank}`;
    let index = this.indexes.get(key);
    if (!index) this.indexes.set(key, (index = { read: 0, largest: new Map() }));
    for (; index.read < this.points.length; index.read++) {
      const point = this.points[index.read] as Reached;
      const field = fieldOf(point, rank);
      if (!field) continue;
      const at = window.spatial(point.shape);
      index.latest = { at, field };
      if (at.some((d) => d === null)) continue;
      // Among points of the same size the largest field, the later on a tie (a residual sum sees the union of its branches).
      const size = at.join(',');
      const before = index.largest.get(size);
      if (!before || kernelElements(field.size) >= kernelElements(before.size)) index.largest.set(size, field);
    }
    const latest = index.latest;
    if (!latest) return undefined;
    if (wanted.some((d) => d === null)) return latest.field;
    const largest = index.largest.get(wanted.join(','));
    if (largest) return largest;
    // No point has this size: start from the latest, through the pool its shrink implies.
    const ratios = wanted.map((d, i) => {
      const from = latest.at[i];
      return typeof from === 'number' && typeof d === 'number' && from % d === 0 ? from / d : 0;
    });
    if (latest.at.length !== rank || ratios.some((f) => f < 1)) return undefined;
    const { size, jump } = latest.field;
    return { size: size.map((s, i) => s + ((ratios[i] ?? 1) - 1) * (jump[i] ?? 1)), jump: jump.map((j, i) => j * (ratios[i] ?? 1)) };
  }
}

function fieldOf(point: Reached, rank: number): ReceptiveField | undefined {
  if (!point.field) return { size: Array<number>(rank).fill(1), jump: Array<number>(rank).fill(1) };
  return point.field.size.length === rank ? point.field : undefined;
}

