// The state_dict PyTorch would make of a model the evaluator built: every parameter's and
// persistent buffer's key and shape, in `_modules` order (a module registered twice appears under
// both names, as state_dict lists it). What the analysis cannot tell (an opaque module, a layer
// whose parameters it does not name, a shape it does not know) is named instead of guessed.
import type { LayerSpec } from '../layers';
import type { StateDictEntry } from '../report';
import { Module, Tensor } from './values';

export interface ExpectedStateDict {
  entries: StateDictEntry[];
  /** Why the list may not be whole: empty when it is exactly PyTorch's. */
  unknown: string[];
}

export function expectedStateDict(root: Module): ExpectedStateDict {
  const entries: StateDictEntry[] = [];
  const unknown: string[] = [];
  // The modules above the one visited: a module that holds itself is listed once, as PyTorch lists it.
  const ancestors: Module[] = [];
  // Copied blocks share their layers' specs (600 blocks of a ResNet-1202): each spec's entries worked out once, for this walk only (a WeakMap kept across walks cost more than it saved).
  const bySpec = new Map<LayerSpec, [string, number[]][] | undefined>();
  const entriesOf = (spec: LayerSpec) => {
    if (!bySpec.has(spec)) bySpec.set(spec, specEntries(spec));
    return bySpec.get(spec);
  };
  const visit = (module: Module, prefix: string) => {
    if (ancestors.includes(module)) return;
    const name = () => prefix.slice(0, -1) || module.type;
    if (module.options.opaque || (module.options.unknown && !module.options.spec)) unknown.push(`${name()}: ${module.options.unknown ?? 'a module the analysis cannot read'}`);
    const fromSpec = module.options.spec ? entriesOf(module.options.spec) : undefined;
    if (module.options.spec && fromSpec === undefined) unknown.push(`${name()}: the parameters of a ${module.type} are not named by the analysis`);
    const optional = module.options.spec?.kind === 'batchNorm';
    // A layer as torch.nn builds it, the most of any model, has no entries but its spec's: no map to merge them in.
    const own: Iterable<readonly [string, readonly (number | null)[] | null]> = module.parameters.size === 0 && module.tied.size === 0 && module.buffers.size === 0 ? (fromSpec ?? []) : ownEntries(module, fromSpec);
    for (const [key, shape] of own) {
      const known = shape && shape.every((d): d is number => d !== null) ? shape : null;
      if (!known) unknown.push(`${prefix}${key}: its shape is not known`);
      const entry: StateDictEntry = { key: `${prefix}${key}`, shape: known };
      if (optional && key === 'num_batches_tracked') entry.optional = true;
      entries.push(entry);
    }
    ancestors.push(module);
    module.children.forEach((value, child) => visit(value, `${prefix}${child}.`));
    ancestors.pop();
  };
  visit(root, '');
  return { entries, unknown };
}

/** A module's own entries in order: its spec's, then the nn.Parameters it holds (a replaced layer weight takes its place), then its persistent buffers. */
function ownEntries(module: Module, fromSpec: [string, number[]][] | undefined): Map<string, readonly (number | null)[] | null> {
  const own = new Map<string, readonly (number | null)[] | null>(fromSpec);
  for (const key of module.parameters.keys()) {
    const value = module.attributes.get(key);
    own.set(key, value instanceof Tensor ? value.shape : null);
  }
  for (const key of module.tied) {
    const tied = module.attributes.get(key);
    if (!module.parameters.has(key)) own.set(key, tied instanceof Tensor ? tied.shape : null);
  }
  for (const key of module.buffers) {
    const value = module.attributes.get(key);
    if (value === null || value === undefined) continue;
    own.set(key, value instanceof Tensor ? value.shape : null);
  }
  return own;
}

/** The shape of one of a layer's own parameters or buffers (`conv.weight`, `bn.running_mean`), where the analysis names it. */
export function specTensorShape(spec: LayerSpec, name: string): number[] | undefined {
  return specEntries(spec)?.find(([key]) => key === name)?.[1];
}

/** A layer's own parameters and buffers as PyTorch registers them; undefined where the analysis does not name them. */
function specEntries(spec: LayerSpec): [string, number[]][] | undefined {
  const withBias = (weight: number[], bias: boolean, size: number): [string, number[]][] => [['weight', weight], ...(bias ? [['bias', [size]] as [string, number[]]] : [])];
  switch (spec.kind) {
    case 'conv':
      return withBias(spec.transposed ? [spec.inChannels, spec.outChannels / spec.groups, ...spec.kernel] : [spec.outChannels, spec.inChannels / spec.groups, ...spec.kernel], spec.bias, spec.outChannels);
    case 'linear':
      return withBias([spec.outFeatures, spec.inFeatures], spec.bias, spec.outFeatures);
    case 'bilinear':
      return withBias([spec.outFeatures, spec.in1Features, spec.in2Features], spec.bias, spec.outFeatures);
    case 'batchNorm': {
      const c = spec.features;
      const tracks = spec.trackRunningStats ?? spec.variant !== 'instance';
      return [
        ...(spec.affine ? [['weight', [c]] as [string, number[]], ['bias', [c]] as [string, number[]]] : []),
        ...(tracks ? [['running_mean', [c]] as [string, number[]], ['running_var', [c]] as [string, number[]], ['num_batches_tracked', []] as [string, number[]]] : []),
      ];
    }
    case 'groupNorm':
      return spec.affine ? [['weight', [spec.channels]], ['bias', [spec.channels]]] : [];
    case 'layerNorm':
      return spec.affine ? [['weight', [...spec.normalizedShape]], ...(spec.bias ? [['bias', [...spec.normalizedShape]] as [string, number[]]] : [])] : [];
    case 'embedding':
    case 'embeddingBag':
      return [['weight', [spec.count, spec.dim]]];
    case 'prelu':
      return [['weight', [spec.count]]];
    case 'recurrent':
      return recurrentEntries(spec);
    case 'lazy':
    case 'attention':
    case 'transformerLayer':
    case 'transformerStack':
    case 'transformer':
    case 'adaptiveSoftmax':
    case 'recurrentCell':
      return undefined;
    default:
      return [];
  }
}

/** nn.RNN/LSTM/GRU: weight_ih_l{k}[_reverse], weight_hh_l{k}, biases, and LSTM's projection weight_hr_l{k}. */
function recurrentEntries(spec: Extract<LayerSpec, { kind: 'recurrent' }>): [string, number[]][] {
  const gates = spec.mode === 'LSTM' ? 4 : spec.mode === 'GRU' ? 3 : 1;
  const hidden = spec.hiddenSize;
  const output = spec.projSize > 0 ? spec.projSize : hidden;
  const directions = spec.bidirectional ? 2 : 1;
  const entries: [string, number[]][] = [];
  for (let layer = 0; layer < spec.numLayers; layer++) {
    for (let direction = 0; direction < directions; direction++) {
      const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
      entries.push([`weight_ih${suffix}`, [gates * hidden, layer === 0 ? spec.inputSize : output * directions]], [`weight_hh${suffix}`, [gates * hidden, output]]);
      if (spec.bias) entries.push([`bias_ih${suffix}`, [gates * hidden]], [`bias_hh${suffix}`, [gates * hidden]]);
      if (spec.projSize > 0) entries.push([`weight_hr${suffix}`, [spec.projSize, hidden]]);
    }
  }
  return entries;
}
