// The reports of the TF.js models the evaluator (tfjs.ts) found: each layer's shapes and
// parameters as TF.js counts them, every output of a functional model, and what was lost on the
// way, with its line: a report with anything lost is incomplete, its totals a lower bound.
import type { InputAnnotations } from './annotations';
import { addCosts } from './cost';
import { type AnalysisDiagnostic, dedupeIncompleteness, type LayerReport, type ModelReport, type SourceRange } from './report';
import type { Shape } from './shape';
import type { Node } from './syntax';
import { computeTfjsOutputShape, declaredInputKey, tfjsParamCount, tfjsWeightShapes } from './tfjsLayers';
import type { TfjsOptions } from './tfjs';
import { type Application, type Functional, Layer, type Loss, type Model, Sequential, type SymbolicTensor, Unknown } from './tfjsValues';

export interface FoundModel {
  model: Model;
  /** The function that returns it, or the module-level variable that holds it. */
  name: string;
  /** The function or statement, where an annotation may sit. */
  extent: Node;
  /** `createModel(100)`: the arguments it was built with, from an annotation or a call in the file. */
  build?: string;
  lost?: string;
}

export function modelReports(root: Node, found: FoundModel[], annotations: InputAnnotations, options: TfjsOptions): ModelReport[] {
  const [c = 3, h = 32, w = 32] = options.defaultInput;
  const fallback = options.defaultInput.length === 3 ? [h, w, c] : options.defaultInput;
  return found.map((f) => {
    // What another module of the program built is shown at the function of this file that led to it.
    const here = f.extent.childForFieldName('name') ?? f.extent;
    const at: Place = (node) => (node.tree === root.tree ? node : here).range;
    const report = f.model instanceof Sequential ? sequentialReport(at, f, f.model, annotations.for(f.extent), fallback, options.input) : functionalReport(at, f, f.model);
    finish(at, report, f.model.losses);
    return report;
  });
}

/** Where a node of the model shows in the file analysed. */
type Place = (node: Node) => SourceRange;

function baseReport(at: Place, found: FoundModel): ModelReport {
  return {
    name: found.name,
    kind: 'tfjs',
    ...(found.build ? { build: found.build } : {}),
    range: at(found.model.node),
    extent: found.extent.range,
    input: [],
    inputSource: 'default',
    output: null,
    totalParams: 0,
    trainableParams: 0,
    layers: [],
    diagnostics: [],
    incomplete: [],
    stateDict: { entries: [], unknown: [] },
  };
}

/** A layer's name as TF.js gives it: its config's, else the factory's with a count. */
function layerName(layer: Layer | Model, counters: Map<string, number>): string {
  const given = layer instanceof Layer ? layer.config.entries.get('name') : undefined;
  if (typeof given === 'string') return given;
  const kind = layer instanceof Layer ? layer.factory : layer instanceof Sequential ? 'sequential' : 'model';
  const n = (counters.get(kind) ?? 0) + 1;
  counters.set(kind, n);
  return `${kind}_${n}`;
}

function lost(at: Place, report: ModelReport, node: Node, reason: string): void {
  report.incomplete?.push({ range: at(node), reason });
}

function entry(at: Place, report: ModelReport, layer: Layer, name: string, input: Shape | null, out: Shape | null, error: string | undefined, unknown: Unknown | undefined): void {
  // A merge (add, concatenate, multiply…) has no weights.
  const counts = layer.spec ? tfjsParamCount(layer.spec, input) : layer.problem ? null : { total: 0, trainable: 0 };
  const item: LayerReport = { name, type: layer.factory, range: at(layer.node), in: input, out, params: counts?.total ?? 0, ...(layer.spec ? { tfjs: layer.spec } : {}) };
  // Its weights in model.weights order, as model.setWeights takes them and model.json lists them.
  const weights = layer.spec ? tfjsWeightShapes(layer.spec, input) : layer.problem ? null : [];
  if (weights) report.stateDict?.entries.push(...weights.map((w) => ({ key: `${name}/${w.name}`, shape: w.shape })));
  else report.stateDict?.unknown.push(`${name}: its weights' shapes are not known`);
  if (layer.problem) {
    item.note = layer.problem.reason;
    lost(at, report, layer.problem.node ?? layer.node, `${name}: ${layer.problem.reason}`);
  } else if (!out || out.includes(null)) {
    item.note = unknown ? unknown.reason : 'its input is not known';
    lost(at, report, unknown?.node ?? layer.node, `${name}: ${item.note}`);
  }
  if (!counts) {
    report.paramsKnown = false;
    if (!layer.problem) lost(at, report, layer.node, `${name}: its parameters depend on its input's features, which are not known`);
  }
  if (error) {
    item.error = error;
    report.diagnostics.push({ range: item.range, message: `${name}: ${error}`, severity: 'error' });
  }
  report.totalParams += counts?.total ?? 0;
  report.trainableParams += counts?.trainable ?? 0;
  report.layers.push(item);
}

function sequentialReport(at: Place, found: FoundModel, model: Sequential, annotation: number[] | undefined, fallback: number[], given: Shape | undefined): ModelReport {
  const report = baseReport(at, found);
  const first = model.layers[0];
  const key = first ? declaredInputKey(Object.fromEntries(first.config.entries)) : undefined;
  const declared = key ? first?.config.entries.get(key) : undefined;
  const dims = key === 'inputDim' ? [declared] : Array.isArray(declared) ? (key === 'batchInputShape' ? declared.slice(1) : declared) : undefined;
  let input: Shape | null;
  if (given) {
    report.inputSource = 'given';
    input = given;
  } else if (annotation) {
    report.inputSource = 'annotation';
    input = [1, ...annotation];
  } else if (dims) {
    // Each dimension known or not on its own: [?, ?, 1].
    report.inputSource = 'first layer';
    input = [1, ...dims.map((d) => (typeof d === 'number' ? d : null))];
    const unknown = dims.find((d): d is Unknown => d instanceof Unknown);
    if (unknown) lost(at, report, unknown.node ?? first?.node ?? model.node, `the input shape is only partly known: ${unknown.reason}`);
  } else if (declared instanceof Unknown) {
    report.inputSource = 'first layer';
    input = null;
    lost(at, report, declared.node ?? first?.node ?? model.node, `the input shape is not known: ${declared.reason}`);
  } else {
    input = [1, ...fallback];
    if (first) report.diagnostics.push({ range: at(first.node), message: 'The first layer of a tf.sequential model needs inputShape (or batchInputShape): TF.js cannot build the model without it', severity: 'error' });
  }
  report.input = input ?? [];
  const counters = new Map<string, number>();
  let shape: Shape | null = input;
  let why: Unknown | undefined;
  for (const layer of model.layers) {
    const before: Shape | null = shape;
    const result = layer.spec && before ? computeTfjsOutputShape(layer.spec, `tf.layers.${layer.factory}`, before) : { shape: null };
    shape = result.shape;
    if (layer.problem && !why) why = layer.problem;
    entry(at, report, layer, layerName(layer, counters), before, shape, result.error, why);
  }
  report.output = shape;
  if (model.layers.length === 0) lost(at, report, model.node, 'the model has no layers the analysis could follow');
  return report;
}

function functionalReport(at: Place, found: FoundModel, model: Functional): ModelReport {
  const report = baseReport(at, found);
  const [input] = model.inputs;
  report.input = input?.shape ?? [];
  report.inputSource = 'given';
  for (const tensor of model.inputs) if (tensor.lost) lost(at, report, tensor.lost.node ?? model.node, tensor.lost.reason);
  // Every application between the inputs and the outputs, in the order the code made them; a layer applied twice is one layer.
  const applications = new Map<Layer | Model, Application>();
  const visit = (tensor: SymbolicTensor) => {
    const application = tensor.producer;
    if (!application) return;
    if (!applications.has(application.layer)) applications.set(application.layer, application);
    else if (applications.get(application.layer) !== application) return;
    application.inputs.forEach(visit);
  };
  model.outputs.forEach(visit);
  const counters = new Map<string, number>();
  for (const application of [...applications.values()].sort((a, b) => a.order - b.order)) {
    const { layer } = application;
    const inputShape = application.inputs[0]?.shape ?? null;
    if (layer instanceof Layer) {
      entry(at, report, layer, layerName(layer, counters), inputShape, application.output.shape, application.error, application.output.lost);
      continue;
    }
    // A model used as a layer: one row, its parameters its own.
    const inner = layer instanceof Sequential ? sequentialReport(at, { model: layer, name: '', extent: layer.node }, layer, undefined, [], inputShape ? inputShape : undefined) : functionalReport(at, { model: layer, name: '', extent: layer.node }, layer);
    finish(at, inner, layer.losses);
    const name = layerName(layer, counters);
    // Its cost is its own layers' (cost.ts keeps a layer's MACs already set).
    report.layers.push({ name, type: layer instanceof Sequential ? 'sequential' : 'model', range: at(layer.node), in: inputShape, out: application.output.shape, params: inner.totalParams, macs: addCosts(inner).totalMacs ?? null });
    report.totalParams += inner.totalParams;
    report.trainableParams += inner.trainableParams;
    report.stateDict?.entries.push(...(inner.stateDict?.entries ?? []));
    report.stateDict?.unknown.push(...(inner.stateDict?.unknown ?? []).map((u) => `${name}: ${u}`));
    if (inner.paramsKnown === false) report.paramsKnown = false;
    for (const i of inner.incomplete ?? []) report.incomplete?.push({ ...i, reason: `${name}: ${i.reason}` });
    report.diagnostics.push(...inner.diagnostics);
  }
  const outputs = model.outputs.map((o) => o.shape);
  report.output = outputs[0] ?? null;
  if (outputs.length > 1) {
    report.outputs = outputs.map((o) => o ?? []);
    report.outputNote = `${outputs.length} outputs`;
  }
  model.outputs.forEach((o, i) => {
    if (!o.shape || o.shape.includes(null)) lost(at, report, o.lost?.node ?? model.node, `output ${i + 1} is ${o.shape ? 'only partly known' : 'not known'}${o.lost ? `: ${o.lost.reason}` : ''}`);
  });
  return report;
}

/** What was lost while building makes the report incomplete; each place is named once. */
function finish(at: Place, report: ModelReport, losses: Loss[]): void {
  for (const loss of losses) lost(at, report, loss.node, loss.reason);
  const incomplete = dedupeIncompleteness(report.incomplete ?? []);
  report.incomplete = incomplete;
  report.paramsKnown ??= true;
  // What was not followed may have built a layer, or sized one: the weights are not known whole either.
  if (report.stateDict) report.stateDict.unknown = [...new Set([...report.stateDict.unknown, ...incomplete.map((i) => i.reason)])];
  if (report.output === null && !report.outputNote) report.outputNote = incomplete[0]?.reason ?? 'not known';
  // Where an error is certain (from known numbers only), the numbers after it are the analysis' best guess.
  for (const diagnostic of report.diagnostics as AnalysisDiagnostic[]) if (diagnostic.severity === 'error') report.incomplete.push({ range: diagnostic.range, reason: `${diagnostic.message}: TF.js would throw here` });
  report.complete = report.incomplete.length === 0;
}
