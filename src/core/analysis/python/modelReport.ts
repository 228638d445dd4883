// One model's report: build it, run its forward pass, then count and describe what the evaluation found.
import { type LayerSpec, paramCount } from '../layers';
import type { AnalysisOptions } from '../pytorch';
import { type AnalysisDiagnostic, dedupeIncompleteness, type Incompleteness, type LayerReport, type ModelReport } from '../report';
import type { Node } from '../syntax';
import { layerArgument } from '../torchLayers';
import type { ClassInfo, PythonFile } from './program';
import { Analysis } from './torchModules';
import { expectedStateDict } from './stateDict';
import { Dict, firstTensor, frozenElements, type LayerCall, layerParameterSize, Module, Raised, Tensor, uniqueModules, Unknown, type Value } from './values';

/**
 * Builds one model, runs its forward pass, and reports its shapes, parameters and what the analysis
 * lost on the way. When the input its first layer suggests does not fit (PyTorch would raise), the
 * input the first layer forward calls suggests is tried; where the picture was too small for the
 * model (a layer would shrink it below one pixel: a 64×64 GAN discriminator, an ImageNet network
 * with a fixed 7×7 pooling), the common picture sizes above it, smallest first; else, for a colour
 * model, ImageNet's 224×224. The first that fits is the input the model was written for.
 */
export function analyzeModel(
  file: PythonFile,
  options: AnalysisOptions,
  kind: ModelReport['kind'],
  name: string,
  nameNode: Node,
  extent: Node,
  build: string | undefined,
  construct: (analysis: Analysis) => Value,
): ModelResult {
  // Which input is tried depends on every run before it: what each read, the answer depends on.
  const read: Pick<ModelResult, 'used' | 'usedFunctions' | 'globalReads'> = { used: new Set(), usedFunctions: new Set(), globalReads: new Set() };
  const at = (sample: number[] | undefined, source?: ModelReport['inputSource']) => {
    const result = analyzeEveryWay({ file, options, kind, name, nameNode, extent, build, construct }, sample);
    if (source) result.report.inputSource = source;
    mergeReads(read, result);
    return { ...result, ...read };
  };
  const first = at(undefined);
  const raises = (result: typeof first) => result.report.diagnostics.some((d) => d.severity === 'error');
  if (first.report.inputSource !== 'first layer' || !raises(first)) return first;
  const tried = new Set([first.report.input.slice(1).join('x')]);
  const called = first.calledFirst;
  const [channels, height, width] = first.report.input.slice(1);
  const picture = first.report.input.length === 4 && typeof channels === 'number' && typeof height === 'number' && height === width;
  const larger = picture && tooSmall(first.report) ? pictureSizes.filter((size) => size > height).map((size) => [channels, size, size]) : [];
  // ImageNet's convention is tried for colour models only, from either first layer.
  const colour = called?.[0] === 3 || channels === 3;
  const candidates: [number[] | undefined, ModelReport['inputSource']?][] = [[called], ...larger.map((sample): [number[], ModelReport['inputSource']] => [sample, 'smallest picture it runs on']), [colour ? [3, 224, 224] : undefined]];
  for (const [sample, source] of candidates) {
    if (!sample || tried.has(sample.join('x'))) continue;
    tried.add(sample.join('x'));
    const retried = at(sample, source);
    if (!raises(retried)) return retried;
  }
  return { ...first, ...read };
}

function mergeReads(into: Pick<ModelResult, 'used' | 'usedFunctions' | 'globalReads'>, from: Pick<ModelResult, 'used' | 'usedFunctions' | 'globalReads'>): void {
  for (const c of from.used) into.used.add(c);
  for (const f of from.usedFunctions) into.usedFunctions.add(f);
  for (const name of from.globalReads) into.globalReads.add(name);
}

/** Square picture sizes models are written for: GANs' 64, STL-10's 96, ImageNet's 224 (AlexNet's 227, Inception's 299). */
const pictureSizes = [64, 96, 128, 224, 227, 256, 299];

/** Whether a layer would shrink the input below one element: the picture is too small for the model, not the model wrong. */
function tooSmall(report: ModelReport): boolean {
  return report.layers.some((layer) => layer.out?.some((d) => d !== null && d < 1));
}

interface ModelRequest {
  file: PythonFile;
  options: AnalysisOptions;
  kind: ModelReport['kind'];
  name: string;
  nameNode: Node;
  extent: Node;
  build: string | undefined;
  construct: (analysis: Analysis) => Value;
}

type ModelResult = {
  report: ModelReport;
  used: Set<ClassInfo>;
  usedFunctions: Set<Node>;
  /** The module-level names of the file it read (Evaluator.globalReads). */
  globalReads: Set<string>;
  calledFirst?: number[];
  /** It is an instance of a class the analysis cannot read (a Counter, a scaler) or of one that is no nn.Module (a transforms.Compose): not a model. */
  notModule?: boolean;
  /** A model package's model whose source was not found: shown, incomplete, with what to install. */
  unreadModel?: boolean;
};

/**
 * Evaluation steps per model before the analysis gives up on it: a 1,202-layer ResNet built of
 * pytorchcv's blocks (a lambda per normalisation, a helper per activation) takes ~400,000.
 */
const defaultStepBudget = 1_000_000;

/** Runs of one model at most: each condition not known while building adds a way. */
const maxWays = 8;

/**
 * A model built down every way its unknown conditions allow (up to maxWays runs), as Python could
 * build it: where every way that does not raise gives the same layers, shapes and counts, the
 * answer is known; where they differ, the model is incomplete and names the condition. The first
 * way is the one shown.
 */
function analyzeEveryWay(request: ModelRequest, firstLayerSample: number[] | undefined): ModelResult {
  type Run = ReturnType<typeof analyzeAt>;
  const runs: { run: Run; fork?: Run['forks'][number] }[] = [];
  const pending: { ways: number[]; fork?: Run['forks'][number] }[] = [{ ways: [] }];
  while (pending.length > 0 && runs.length < maxWays) {
    const { ways, fork } = pending.shift() as (typeof pending)[number];
    const run = analyzeAt(request, firstLayerSample, ways);
    runs.push({ run, ...(fork ? { fork } : {}) });
    // The other way of each fork met past the ways given, depth first.
    const forks = run.forks;
    for (let i = forks.length - 1; i >= ways.length; i--) pending.unshift({ ways: [...ways, ...new Array<number>(i - ways.length).fill(0), 1], fork: forks[i] as Run['forks'][number] });
  }
  const built = runs.filter((r) => !r.run.raised);
  const [shown, ...others] = built.length > 0 ? built : runs;
  const result = (shown as (typeof runs)[number]).run;
  if (runs.length === 1) return result;
  const report = result.report;
  const signature = sameness(report);
  const because: Incompleteness[] = [];
  for (const { run, fork } of others) {
    mergeReads(result, run);
    report.incomplete?.push(...(run.report.incomplete ?? []));
    if (run.report.paramsKnown === false) report.paramsKnown = false;
    if (fork && sameness(run.report) !== signature) {
      because.push({ range: fork.node.range, reason: `${fork.reason}: its two ways build ${describeDifference(report, run.report)}` });
      if (run.report.totalParams !== report.totalParams || run.report.trainableParams !== report.trainableParams) report.paramsKnown = false;
    }
  }
  const unexplored = pending.map((p) => p.fork).filter((f): f is Run['forks'][number] => f !== undefined);
  for (const fork of unexplored) because.push({ range: fork.node.range, reason: `${fork.reason}: only the first of its ways is followed (more than ${maxWays} ways to build the model)` });
  if (unexplored.length > 0) report.paramsKnown = false;
  report.incomplete = dedupeIncompleteness([...because, ...(report.incomplete ?? [])]);
  report.complete = report.incomplete.length === 0;
  return result;
}

/** What a user reads off a report: two ways that give the same are one answer. */
function sameness(report: ModelReport): string {
  const { totalParams, trainableParams, input, output, layers, diagnostics } = report;
  return JSON.stringify([totalParams, trainableParams, input, output, layers.map((l) => [l.name, l.type, l.in, l.out, l.params, l.error]), diagnostics.map((d) => d.message)]);
}

function describeDifference(a: ModelReport, b: ModelReport): string {
  if (a.totalParams !== b.totalParams) return `${a.totalParams.toLocaleString('en-US')} or ${b.totalParams.toLocaleString('en-US')} parameters`;
  if (a.layers.length !== b.layers.length) return `${a.layers.length} or ${b.layers.length} layers`;
  return 'different layers or shapes';
}

function analyzeAt(
  { file, options, kind, name, nameNode, extent, build, construct }: ModelRequest,
  firstLayerSample: number[] | undefined,
  ways: number[],
): ModelResult & { forks: Analysis['forks']; raised: boolean } {
  const analysis = new Analysis(file, options.stepBudget ?? defaultStepBudget, ways, options.memoize ?? true);
  const diagnostics: AnalysisDiagnostic[] = [];
  let model: Value;
  let raised = false;
  try {
    model = construct(analysis);
  } catch (error) {
    raised = error instanceof Raised;
    model = analysis.failure(error, extent);
  }
  const { forks } = analysis;
  const report: ModelReport = {
    name,
    kind,
    ...(build === undefined ? {} : { build }),
    range: nameNode.range,
    extent: extent.range,
    input: [],
    inputSource: 'default',
    output: null,
    totalParams: 0,
    trainableParams: 0,
    layers: [],
    diagnostics,
  };
  if (!(model instanceof Module)) {
    report.outputNote = model instanceof Unknown ? model.reason : 'not a module';
    report.complete = false;
    report.paramsKnown = false;
    report.incomplete = [...incompleteness(analysis, []), { range: nameNode.range, reason: report.outputNote }];
    return { report, used: analysis.used, usedFunctions: analysis.usedFunctions, globalReads: analysis.globalReads, forks, raised, ...(model instanceof Unknown && model.unreadModel ? { unreadModel: true } : {}) };
  }
  // named_modules() calls the model itself ''; it is a leaf only when it has no children (a Swish, a Conv2d subclass).
  model.path = '';
  assignPaths(model, '');
  const annotated = options.input ? undefined : file.annotations.for(extent);
  const inferred = options.input || annotated ? undefined : (firstLayerSample ?? firstLayerInput(model));
  report.inputSource = options.input ? 'given' : annotated ? 'annotation' : inferred ? 'first layer' : 'default';
  report.input = options.input ?? [1, ...(annotated ?? inferred ?? options.defaultInput)];
  let output: Value;
  try {
    analysis.batch = report.input[0] ?? null;
    analysis.phase = 'forward';
    output = analysis.apply(model, [new Tensor(report.input)], model.node);
  } catch (error) {
    output = analysis.failure(error, model.node);
  }
  // A forward that returns a tuple (a VAE's reconstruction, mean and log-variance) or a dict (a main and auxiliary heads) is shown by its first tensor, as torchinfo does.
  const first = firstTensor(output);
  if (first instanceof Tensor) {
    report.output = first.shape;
    const known = first.shape !== null && !first.shape.includes(null);
    if (first.reason && (!known || first === output)) report.outputNote = first.reason;
    else if (first !== output) report.outputNote = `forward returns ${output instanceof Dict ? output.entries.size : (output as Value[]).length} values${output instanceof Dict ? ' in a dict' : ''}; the first tensor is shown`;
  } else {
    report.outputNote = first instanceof Unknown ? first.reason : 'forward returns no tensor';
  }
  // After the forward pass: lazy layers know their parameters only then.
  const modules = uniqueModules(model);
  report.totalParams = modules.reduce((sum, m) => sum + ownParams(m), 0);
  report.trainableParams = report.totalParams - modules.reduce((sum, m) => sum + frozenElements(m), 0);
  report.layers = layerReports(model, modules, analysis.calls);
  diagnostics.push(...analysis.diagnostics.values(), ...layerDiagnostics(analysis.calls));
  report.incomplete = incompleteness(analysis, modules);
  // Where PyTorch would raise, the numbers after it are the analysis' best guess, not PyTorch's.
  for (const diagnostic of diagnostics) if (diagnostic.severity === 'error') report.incomplete.push({ range: diagnostic.range, reason: `${diagnostic.message}: PyTorch would raise here` });
  if (report.output === null || report.output.includes(null)) report.incomplete.push({ range: nameNode.range, reason: `its output is ${report.output ? 'only partly known' : 'not known'}: ${report.outputNote ?? 'see its layers'}` });
  for (const layer of report.layers) {
    if ((layer.out === null || layer.out.includes(null)) && layer.note !== 'not called in forward') report.incomplete.push({ range: layer.range, reason: `${layer.name || layer.type}: ${layer.note ?? 'its output is not known'}` });
  }
  report.incomplete = dedupeIncompleteness(report.incomplete);
  report.complete = report.incomplete.length === 0;
  report.paramsKnown = ![...analysis.losses.values()].some((l) => l.phase === 'build') && modules.every((m) => paramsKnown(m));
  const stateDict = expectedStateDict(model);
  // What its construction lost may be a part of it: then its state_dict is not known whole either.
  for (const loss of analysis.losses.values()) if (loss.phase === 'build') stateDict.unknown.push(`its construction was not followed: ${loss.reason}`);
  report.stateDict = stateDict;
  const calledFirst = sampleFor([...analysis.calls.keys()].find(readsInput));
  return { report, used: analysis.used, usedFunctions: analysis.usedFunctions, globalReads: analysis.globalReads, forks, raised, ...(calledFirst ? { calledFirst } : {}), ...((model.options.opaque && !model.options.unreadModel) || model.options.plain ? { notModule: true } : {}), ...(model.options.unreadModel ? { unreadModel: true } : {}) };
}

/** What the evaluation lost, and the modules whose parameters it could not count, in the order of the file. */
function incompleteness(analysis: Analysis, modules: Module[]): Incompleteness[] {
  const found: Incompleteness[] = [...analysis.losses.values()].map((l) => ({ range: l.node.range, reason: l.reason }));
  for (const module of modules) {
    if (!paramsKnown(module)) found.push({ range: module.site.range, reason: `${module.path || module.type}: ${module.options.unknown ?? 'a parameter of unknown size'}` });
  }
  // The causes in the order of the file; what they made unknown (the output, a layer's shape) is added after them.
  return found.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/** Whether a module's own parameters are counted: a torch.nn layer the analysis built, or a module of the program with known nn.Parameters. */
function paramsKnown(module: Module): boolean {
  if (!module.options.spec && module.options.unknown) return false;
  return [...module.parameters.values()].every((elements) => elements !== null);
}

function assignPaths(module: Module, prefix: string): void {
  module.children.forEach((child, name) => {
    if (child.path !== undefined) return;
    child.path = prefix ? `${prefix}.${name}` : name;
    assignPaths(child, child.path);
  });
}

/** A module's own parameters (not its children's), as `parameters(recurse=False)` counts them. */
function ownParams(module: Module): number {
  const spec = module.options.spec;
  let count = spec ? paramCount(spec) : 0;
  for (const elements of module.parameters.values()) count += elements ?? 0;
  for (const name of module.tied) count -= spec ? (layerParameterSize(spec, name) ?? 0) : 0;
  return count;
}

/** A leaf as named_modules() sees it: no children. An empty nn.Sequential() (an identity shortcut) is one, and so is a module of the file without submodules. */
function isLeaf(module: Module): boolean {
  return module.children.size === 0;
}

/** The course's conventions: Conv2d(1, …) reads MNIST, Conv2d(3, …) CIFAR-10, Linear(n, …) n features, RNN(n, …) a sequence of n. */
function firstLayerInput(root: Module): number[] | undefined {
  return sampleFor(uniqueModules(root).find(readsInput));
}

/** A layer whose arguments say what input it reads. */
function readsInput(module: Module): boolean {
  const kind = module.options.spec?.kind;
  return kind === 'conv' || kind === 'linear' || kind === 'recurrent' || kind === 'embedding';
}

/**
 * One sample as a first layer reads it: Linear(n) n features, Conv2d(1, …) a 28×28 digit, Conv2d(c, …)
 * a 32×32 picture, RNN(n, …) one step of n features (with the batch of one before it, a sequence
 * of one step whether the batch comes first or not), Embedding one token, a first ConvTranspose2d(c, …)
 * a latent vector of c as a 1×1 picture.
 */
function sampleFor(first: Module | undefined): number[] | undefined {
  const spec = first?.options.spec;
  if (spec?.kind === 'linear') return [spec.inFeatures];
  if (spec?.kind === 'recurrent') return [1, spec.inputSize];
  if (spec?.kind === 'embedding') return [1];
  if (spec?.kind === 'conv' && spec.rank === 2 && !spec.transposed) return [spec.inChannels, spec.inChannels === 1 ? 28 : 32, spec.inChannels === 1 ? 28 : 32];
  // A generator's first transposed convolution reads its latent vector as a 1×1 picture (DCGAN's z).
  if (spec?.kind === 'conv' && spec.rank === 2 && spec.transposed) return [spec.inChannels, 1, 1];
  return undefined;
}

/** The layers as torchinfo lists them: those forward called in the order called, then the leaves it never called; `modules` is each module of root's tree once. */
function layerReports(root: Module, modules: Module[], calls: Map<Module, LayerCall>): LayerReport[] {
  const reports: LayerReport[] = [];
  // Keys added one by one: a literal with conditional spreads is built on V8's slow path, 3,000 times for a ResNet-1202.
  const report = (module: Module, call: LayerCall | undefined): LayerReport => {
    const layer: LayerReport = { name: module.path ?? module.type, type: module.type, range: module.site.range, in: call?.in ?? null, out: call?.out ?? null, params: ownParams(module) };
    if (module.options.spec) layer.spec = module.options.spec;
    const note = call ? call.note : (module.options.unknown ?? 'not called in forward');
    if (note) layer.note = note;
    if (call?.error) layer.error = call.error;
    return layer;
  };
  // A module made and called inside forward (`nn.AvgPool2d(2)(x)`) is no submodule: PyTorch's hooks never see it.
  const tree = new Set(modules);
  for (const [module, call] of calls) if (tree.has(module)) reports.push(report(module, call));
  for (const module of modules) if (module !== root && isLeaf(module) && !calls.has(module) && !module.options.opaque) reports.push(report(module, undefined));
  return reports;
}

/** The argument a quick fix should rewrite when a layer receives another size than it declares. */
const fixableArgument: Partial<Record<LayerSpec['kind'], string>> = { linear: 'in_features', conv: 'in_channels', batchNorm: 'num_features' };

function layerDiagnostics(calls: Map<Module, LayerCall>): AnalysisDiagnostic[] {
  const diagnostics: AnalysisDiagnostic[] = [];
  for (const call of calls.values()) {
    if (!call.error) continue;
    const { module } = call;
    const diagnostic: AnalysisDiagnostic = { range: module.site.range, message: `${module.path ?? module.type}: ${call.error}`, severity: 'error' };
    // A layer built in an imported file is fixed there, not at the call that led to it.
    const argument = module.options.spec && module.site === module.node ? fixableArgument[module.options.spec.kind] : undefined;
    const received = argument && call.in ? (argument === 'in_features' ? call.in[call.in.length - 1] : call.in[1]) : null;
    const node = argument ? layerArgument(module.node, module.type, argument) : undefined;
    if (node && isConstantExpression(node) && typeof received === 'number') {
      diagnostic.fix = { title: `Change ${argument} to ${received}`, range: node.range, newText: String(received) };
    }
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function isConstantExpression(node: Node): boolean {
  if (node.type === 'integer') return true;
  if (node.type === 'binary_operator' || node.type === 'parenthesized_expression' || node.type === 'unary_operator') return node.namedChildren.every((c) => c !== null && isConstantExpression(c));
  return false;
}
