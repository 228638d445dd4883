// TF.js models from TypeScript or JavaScript source: `tf.sequential({layers: [...]})`,
// `model.add(tf.layers.*(...))` and `tf.model({inputs, outputs})` over `apply` chains. A small
// evaluator walks statements in order, knowing constants, layers and symbolic tensors; shapes are
// NHWC with the batch first, from the first layer's inputShape, tf.input, an annotation
// (`// cnnlab: input 28x28x1`) or the default.
import type { LayerResult } from './layers';
import { InputAnnotations } from './annotations';
import type { AnalysisDiagnostic, LayerReport, ModelReport } from './report';
import { formatShape, normalizeDim, type Shape } from './shape';
import { type Node, rangeOf } from './syntax';
import { buildTfjsLayer, computeTfjsOutputShape, type Config, type ConfigValue, TfjsConfigError, type TfjsLayerSpec, tfjsParamCount } from './tfjsLayers';

export interface TfjsOptions {
  /** One sample's shape as PyTorch orders it (C×H×W); TF.js gets it as H×W×C. */
  defaultInput: number[];
  /** The whole input shape, batch included, overriding inputShape, annotations and the default. */
  input?: number[];
}

class Layer {
  constructor(
    readonly factory: string,
    readonly spec: TfjsLayerSpec | null,
    readonly config: Config,
    readonly node: Node,
    readonly problem: string | undefined,
  ) {}
}

class SymbolicTensor {
  constructor(
    readonly shape: Shape | null,
    /** The application that produced it, or none for a tf.input. */
    readonly producer: Application | null,
  ) {}
}

interface Application {
  layer: Layer;
  inputs: SymbolicTensor[];
  output: SymbolicTensor;
  error?: string;
  order: number;
}

class Sequential {
  readonly layers: Layer[] = [];
  constructor(readonly node: Node) {}
}

class Functional {
  constructor(
    readonly node: Node,
    readonly inputs: SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
  ) {}
}

type Value = ConfigValue | Layer | SymbolicTensor | Sequential | Functional | Value[] | undefined;

interface Found {
  model: Sequential | Functional;
  name: string;
  /** The function or statement that holds the model, where an annotation may sit. */
  extent: Node;
}


function unwrap(node: Node): Node {
  let current = node;
  while (['as_expression', 'satisfies_expression', 'non_null_expression', 'parenthesized_expression', 'await_expression'].includes(current.type) && current.namedChildren[0]) {
    current = current.namedChildren[0];
  }
  return current;
}

export function analyzeTfjs(root: Node, options: TfjsOptions): ModelReport[] {
  const walker = new Walker();
  walker.block(root, new Map(), { name: 'model', extent: root });
  const annotations = new InputAnnotations(root);
  const [c = 3, h = 32, w = 32] = options.defaultInput;
  const fallback = options.defaultInput.length === 3 ? [h, w, c] : options.defaultInput;
  return walker.found.map((found) => (found.model instanceof Sequential ? sequentialReport(found, annotations.for(found.extent), fallback, options.input) : functionalReport(found)));
}

class Walker {
  readonly found: Found[] = [];
  private order = 0;

  block(node: Node, outer: Map<string, Value>, owner: { name: string; extent: Node }): void {
    const env = new Map(outer);
    for (const statement of node.namedChildren) if (statement) this.statement(statement, env, owner);
  }

  private statement(node: Node, env: Map<string, Value>, owner: { name: string; extent: Node }): void {
    switch (node.type) {
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const declarator of node.namedChildren) {
          const name = declarator?.childForFieldName('name');
          const value = declarator?.childForFieldName('value');
          // At module level a model is known by its variable; inside a function, by the function.
          const atTop = owner.extent.type === 'program';
          if (declarator && name?.type === 'identifier' && value) env.set(name.text, this.evaluate(value, env, atTop ? { name: name.text, extent: node } : owner));
        }
        return;
      case 'export_statement': {
        const declaration = node.childForFieldName('declaration');
        if (declaration) this.statement(declaration, env, owner);
        return;
      }
      case 'function_declaration':
      case 'generator_function_declaration': {
        const body = node.childForFieldName('body');
        if (body) this.block(body, env, { name: node.childForFieldName('name')?.text ?? owner.name, extent: node });
        return;
      }
      case 'expression_statement':
      case 'return_statement': {
        const expression = node.namedChildren[0];
        if (!expression) return;
        if (expression.type === 'assignment_expression') {
          const left = expression.childForFieldName('left');
          const right = expression.childForFieldName('right');
          if (left?.type === 'identifier' && right) env.set(left.text, this.evaluate(right, env, owner));
        } else {
          this.evaluate(expression, env, owner);
        }
        return;
      }
      default:
        // Blocks of if, for, try, classes: follow them with what is known here.
        for (const child of node.namedChildren) if (child?.type === 'statement_block' || child?.type === 'class_body') this.block(child, env, owner);
    }
  }

  private evaluate(raw: Node, env: Map<string, Value>, owner: { name: string; extent: Node }): Value {
    const node = unwrap(raw);
    switch (node.type) {
      case 'number':
        return Number(node.text.replace(/_/g, ''));
      case 'string':
        return node.namedChildren.map((c) => c?.text ?? '').join('');
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
      case 'undefined':
        return null;
      case 'identifier':
        return env.get(node.text);
      case 'unary_expression': {
        const value = this.evaluate(node.childForFieldName('argument') as Node, env, owner);
        return node.childForFieldName('operator')?.text === '-' && typeof value === 'number' ? -value : undefined;
      }
      case 'binary_expression': {
        const a = this.evaluate(node.childForFieldName('left') as Node, env, owner);
        const b = this.evaluate(node.childForFieldName('right') as Node, env, owner);
        if (typeof a !== 'number' || typeof b !== 'number') return undefined;
        const operator = node.childForFieldName('operator')?.text;
        return operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : operator === '/' ? a / b : operator === '**' ? a ** b : undefined;
      }
      case 'array':
        return node.namedChildren.filter((c): c is Node => c !== null).map((c) => this.evaluate(c, env, owner));
      case 'object': {
        const result: Record<string, Value> = {};
        for (const pair of node.namedChildren) {
          if (pair?.type === 'pair') result[pair.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '') ?? ''] = this.evaluate(pair.childForFieldName('value') as Node, env, owner);
          else if (pair?.type === 'shorthand_property_identifier') result[pair.text] = env.get(pair.text);
        }
        return result as Value;
      }
      case 'arrow_function':
      case 'function_expression': {
        const body = node.childForFieldName('body');
        if (body?.type === 'statement_block') this.block(body, env, owner);
        else if (body) return this.evaluate(body, env, owner);
        return undefined;
      }
      case 'call_expression':
        return this.call(node, env, owner);
      default:
        return undefined;
    }
  }

  private call(node: Node, env: Map<string, Value>, owner: { name: string; extent: Node }): Value {
    const callee = node.childForFieldName('function');
    const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => a !== null);
    if (callee?.type !== 'member_expression') return undefined;
    const property = callee.childForFieldName('property')?.text ?? '';
    const object = callee.childForFieldName('object');
    const path = object ? unwrap(object).text : '';
    const argument = (i: number) => (args[i] ? this.evaluate(args[i], env, owner) : undefined);
    if (path === 'tf.layers' || path.endsWith('.layers') && path.startsWith('tf')) return this.layer(property, argument(0), node);
    if (path === 'tf' && property === 'sequential') {
      const model = new Sequential(callee);
      const config = argument(0);
      if (isConfig(config) && Array.isArray(config['layers'])) for (const layer of config['layers'] as Value[]) if (layer instanceof Layer) model.layers.push(layer);
      this.found.push({ model, ...owner });
      return model;
    }
    if (path === 'tf' && property === 'input') {
      const config = argument(0);
      const shape = isConfig(config) ? config['shape'] : undefined;
      return new SymbolicTensor(Array.isArray(shape) && shape.every((d) => typeof d === 'number' || d === null) ? [1, ...(shape as (number | null)[])] : null, null);
    }
    if (path === 'tf' && property === 'model') {
      const config = argument(0);
      const list = (v: Value): SymbolicTensor[] => (v instanceof SymbolicTensor ? [v] : Array.isArray(v) ? (v as Value[]).filter((t): t is SymbolicTensor => t instanceof SymbolicTensor) : []);
      const model = new Functional(callee, isConfig(config) ? list(config['inputs'] as Value) : [], isConfig(config) ? list(config['outputs'] as Value) : []);
      this.found.push({ model, ...owner });
      return model;
    }
    const target = object ? this.evaluate(object, env, owner) : undefined;
    if (property === 'add' && target instanceof Sequential) {
      const layer = argument(0);
      if (layer instanceof Layer) target.layers.push(layer);
      return undefined;
    }
    if (property === 'apply' && target instanceof Layer) return this.apply(target, argument(0));
    return undefined;
  }

  private layer(factory: string, config: Value, node: Node): Layer {
    const cfg: Config = isConfig(config) ? (config as Config) : {};
    try {
      const spec = buildTfjsLayer(factory, cfg);
      return new Layer(factory, spec, cfg, node, spec ? undefined : `tf.layers.${factory} is not analysed`);
    } catch (error) {
      return new Layer(factory, null, cfg, node, error instanceof TfjsConfigError ? error.message : String(error));
    }
  }

  private apply(layer: Layer, input: Value): SymbolicTensor {
    const inputs: SymbolicTensor[] = input instanceof SymbolicTensor ? [input] : Array.isArray(input) ? (input as Value[]).filter((t): t is SymbolicTensor => t instanceof SymbolicTensor) : [];
    const application: Application = { layer, inputs, output: new SymbolicTensor(null, null), order: this.order++ };
    const shapes = inputs.map((t) => t.shape);
    let shape: Shape | null = null;
    if (shapes.every((s): s is Shape => s !== null) && shapes.length > 0) {
      if (layer.factory === 'concatenate' || layer.factory === 'add' || layer.factory === 'multiply' || layer.factory === 'average') {
        shape = merge(layer, shapes as Shape[], application);
      } else if (layer.spec && shapes.length === 1) {
        const result = computeTfjsOutputShape(layer.spec, `tf.layers.${layer.factory}`, shapes[0] as Shape);
        shape = result.shape;
        if (result.error) application.error = result.error;
      }
    }
    const output = new SymbolicTensor(shape, application);
    application.output = output;
    return output;
  }
}

function merge(layer: Layer, shapes: Shape[], application: Application): Shape | null {
  const [first] = shapes;
  if (!first) return null;
  if (layer.factory === 'concatenate') {
    const axisValue = layer.config['axis'];
    const axis = normalizeDim(typeof axisValue === 'number' ? axisValue : -1, first.length);
    const sizes = shapes.map((s) => s[axis] ?? null);
    return first.map((d, i) => (i === axis ? (sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0)) : d));
  }
  if (shapes.some((s) => formatShape(s) !== formatShape(first))) application.error = `tf.layers.${layer.factory} needs equal shapes: ${shapes.map(formatShape).join(' and ')}`;
  return first;
}

function isConfig(value: Value): value is Record<string, ConfigValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function layerName(layer: Layer, counters: Map<string, number>): string {
  const given = layer.config['name'];
  if (typeof given === 'string') return given;
  const n = (counters.get(layer.factory) ?? 0) + 1;
  counters.set(layer.factory, n);
  return `${layer.factory}_${n}`;
}

function baseReport(found: Found, kind: ModelReport['kind']): ModelReport {
  return { name: found.name, kind, range: rangeOf(found.model.node), extent: rangeOf(found.extent), input: [], inputSource: 'default', output: null, totalParams: 0, trainableParams: 0, layers: [], diagnostics: [] };
}

function layerEntry(layer: Layer, name: string, input: Shape | null, out: Shape | null, report: ModelReport, error?: string): void {
  const counts = layer.spec ? tfjsParamCount(layer.spec, input) : null;
  const entry: LayerReport = { name, type: layer.factory, range: rangeOf(layer.node), in: input, out, params: counts?.total ?? 0, ...(layer.spec ? { tfjs: layer.spec } : {}) };
  if (layer.problem) entry.note = layer.problem;
  else if (!out) entry.note = 'its input is unknown';
  if (error) {
    entry.error = error;
    report.diagnostics.push({ range: entry.range, message: `${name}: ${error}`, severity: 'error' });
  }
  report.totalParams += counts?.total ?? 0;
  report.trainableParams += counts?.trainable ?? 0;
  report.layers.push(entry);
}

function sequentialReport(found: Found, annotation: number[] | undefined, fallback: number[], given: number[] | undefined): ModelReport {
  const model = found.model as Sequential;
  const report = baseReport(found, 'tfjs');
  const first = model.layers[0];
  const declared = first?.config['inputShape'] ?? (Array.isArray(first?.config['batchInputShape']) ? (first?.config['batchInputShape'] as ConfigValue[]).slice(1) : undefined);
  const sample = annotation ?? (Array.isArray(declared) && declared.every((d) => typeof d === 'number') ? (declared as number[]) : undefined);
  report.inputSource = given ? 'given' : annotation ? 'annotation' : sample ? 'first layer' : 'default';
  report.input = given ?? [1, ...(sample ?? fallback)];
  if (first && declared === undefined) {
    const problem: AnalysisDiagnostic = { range: rangeOf(first.node), message: 'The first layer of a tf.sequential model needs inputShape (or batchInputShape): TF.js cannot build the model without it', severity: 'error' };
    report.diagnostics.push(problem);
  }
  const counters = new Map<string, number>();
  let shape: Shape | null = report.input;
  for (const layer of model.layers) {
    const input: Shape | null = shape;
    const result: LayerResult = layer.spec && input ? computeTfjsOutputShape(layer.spec, `tf.layers.${layer.factory}`, input) : { shape: null };
    shape = result.shape;
    layerEntry(layer, layerName(layer, counters), input, shape, report, result.error);
  }
  report.output = shape;
  return report;
}

function functionalReport(found: Found): ModelReport {
  const model = found.model as Functional;
  const report = baseReport(found, 'tfjs');
  const [input] = model.inputs;
  report.input = (input?.shape ?? []).map((d) => d ?? 1);
  report.inputSource = 'given';
  // Every application between the inputs and the outputs, in the order the code made them.
  const applications = new Set<Application>();
  const visit = (tensor: SymbolicTensor) => {
    const application = tensor.producer;
    if (!application || applications.has(application)) return;
    applications.add(application);
    application.inputs.forEach(visit);
  };
  model.outputs.forEach(visit);
  const counters = new Map<string, number>();
  for (const application of [...applications].sort((a, b) => a.order - b.order)) {
    layerEntry(application.layer, layerName(application.layer, counters), application.inputs[0]?.shape ?? null, application.output.shape, report, application.error);
  }
  report.output = model.outputs[0]?.shape ?? null;
  if (model.outputs.length === 0) report.outputNote = 'tf.model has no outputs the analysis can follow';
  return report;
}
