// PyTorch models from Python source: a small evaluator runs `__init__` (with helper methods,
// loops, comprehensions and user-defined blocks) to build the module tree, then runs `forward`
// over abstract tensors whose shapes come from the shape engine. What it cannot follow becomes an
// unknown with its reason; it never guesses, never throws on user text, and stops at a step budget.
import { computeOutputShape, flattenShape, type LayerSpec, paramCount } from './layers';
import type { AnalysisDiagnostic, LayerReport, ModelReport } from './report';
import { type Dim, formatShape, normalizeDim, product, type Shape } from './shape';
import { InputAnnotations } from './annotations';
import { type Node, rangeOf } from './syntax';
import { ArgumentError, type ArgValue, buildLayer, parameterName, torchLayers } from './torchLayers';

export interface AnalysisOptions {
  /** One sample's shape (no batch) when neither an annotation nor the first layer tells. */
  defaultInput: number[];
  /** The whole input shape, batch included, overriding annotations and inference. */
  input?: number[];
  /** Evaluation steps per model before the analysis gives up on it. */
  stepBudget?: number;
}

class Unknown {
  constructor(readonly reason: string) {}
}

class Tensor {
  constructor(
    readonly shape: Shape | null,
    readonly reason?: string,
  ) {}
}

class ClassInfo {
  /** Class-level assignments (`expansion = 4`), evaluated when first read. */
  readonly attributes = new Map<string, Node>();

  constructor(
    readonly name: string,
    readonly node: Node,
    readonly methods: Map<string, Node>,
  ) {}
}

class Module {
  readonly children = new Map<string, Module>();
  readonly attributes = new Map<string, Value>();
  path: string | undefined;

  constructor(
    readonly type: string,
    readonly node: Node,
    readonly options: { spec?: LayerSpec; cls?: ClassInfo; container?: 'sequential' | 'list' | 'dict'; unknown?: string } = {},
  ) {}
}

class Dict {
  constructor(readonly entries: Map<string, Value>) {}
}

/** A dotted name not yet resolved to a value: `torch.nn.Conv2d`, `torch.nn.functional.relu`. */
class Path {
  constructor(readonly path: string) {}
}

class Callable {
  constructor(
    readonly describe: string,
    readonly call: (args: Value[], keywords: Map<string, Value>, node: Node) => Value,
  ) {}
}

type Value = number | string | boolean | null | Value[] | Unknown | Tensor | Module | Dict | Path | Callable | ClassInfo | FunctionDef;

class FunctionDef {
  constructor(
    readonly node: Node,
    readonly self: Module | undefined,
  ) {}
}

class BudgetExceeded extends Error {}

interface Scope {
  vars: Map<string, Value>;
  self?: Module;
}

interface LayerCall {
  module: Module;
  in: Shape | null;
  out: Shape | null;
  error?: string;
  note?: string;
}

const conventionalImports: [string, string][] = [
  ['nn', 'torch.nn'],
  ['F', 'torch.nn.functional'],
  ['torch', 'torch'],
  ['OrderedDict', 'collections.OrderedDict'],
];

/** Functions and tensor methods that keep the shape of their first argument. */
const shapePreserving = new Set([
  'relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'sigmoid', 'tanh', 'softmax',
  'log_softmax', 'softmin', 'softplus', 'softsign', 'hardtanh', 'hardswish', 'hardsigmoid', 'logsigmoid', 'dropout', 'dropout1d', 'dropout2d',
  'dropout3d', 'alpha_dropout', 'feature_alpha_dropout', 'normalize', 'contiguous', 'float', 'double', 'half', 'bfloat16', 'to', 'clone',
  'detach', 'cpu', 'cuda', 'abs', 'exp', 'log', 'sqrt', 'clamp', 'clip', 'neg', 'square', 'tanh_', 'sigmoid_', 'local_response_norm',
]);


function isConstantExpression(node: Node): boolean {
  if (node.type === 'integer') return true;
  if (node.type === 'binary_operator' || node.type === 'parenthesized_expression' || node.type === 'unary_operator') return node.namedChildren.every((c) => c !== null && isConstantExpression(c));
  return false;
}

/**
 * Reports kept between analyses of one document. A class is analysed again only when something it
 * depends on changed: its text or position, the lines just above it (an annotation), the file's
 * statements outside classes (imports, constants, helper functions), or a class it used.
 */
export class AnalysisCache {
  readonly entries = new Map<string, { key: string; uses: Map<string, string>; report: ModelReport }>();
}

/** Analyses every nn.Module subclass and top-level nn.Sequential in a parsed Python file. */
export function analyzePython(root: Node, options: AnalysisOptions, cache = new AnalysisCache()): ModelReport[] {
  const file = new PythonFile(root);
  const lines = root.text.split('\n');
  const signature = (cls: ClassInfo) => {
    const { row, column } = cls.node.startPosition;
    return `${row}:${column}\n${lines.slice(Math.max(0, row - 3), row).join('\n')}\n${cls.node.text}`;
  };
  const context = [JSON.stringify(options), ...root.namedChildren.filter((n) => n !== null && n.type !== 'class_definition').map((n) => `${n?.startPosition.row}|${n?.text}`)].join('\n');
  const reports: ModelReport[] = [];
  const present = new Set<string>();
  for (const cls of file.moduleClasses()) {
    present.add(cls.name);
    const key = `${context}\u0000${signature(cls)}`;
    const cached = cache.entries.get(cls.name);
    if (cached && cached.key === key && [...cached.uses].every(([name, used]) => file.classes.has(name) && signature(file.classes.get(name) as ClassInfo) === used)) {
      reports.push(cached.report);
      continue;
    }
    const { report, used } = file.analyze(options, 'class', cls.name, cls.node.childForFieldName('name') ?? cls.node, cls.node, (analysis) => analysis.instantiate(cls, [], new Map(), cls.node));
    cache.entries.set(cls.name, { key, uses: new Map([...used].filter((c) => c !== cls).map((c) => [c.name, signature(c)])), report });
    reports.push(report);
  }
  for (const name of cache.entries.keys()) if (!present.has(name)) cache.entries.delete(name);
  for (const { name, nameNode, value } of file.topLevelAssignments()) {
    if (!/^(nn\.|torch\.nn\.)?Sequential$/.test(value.childForFieldName('function')?.text ?? '')) continue;
    reports.push(file.analyze(options, 'sequential', name, nameNode, value, (analysis) => analysis.evaluate(value, analysis.globals)).report);
  }
  return reports;
}

class PythonFile {
  readonly classes = new Map<string, ClassInfo>();
  readonly functions = new Map<string, Node>();
  readonly annotations: InputAnnotations;
  /** Imports and module-level statements, which every model's evaluation starts from. */
  readonly preamble: Node[] = [];

  constructor(readonly root: Node) {
    for (const child of root.namedChildren) {
      if (!child) continue;
      const type = child.type;
      if (type === 'import_statement' || type === 'import_from_statement' || type === 'expression_statement') this.preamble.push(child);
      const definition = type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      const definitionType = definition?.type;
      if (definition && definitionType === 'class_definition') {
        const name = definition.childForFieldName('name')?.text;
        const cls = new ClassInfo(name ?? '', definition, new Map());
        for (const item of definition.childForFieldName('body')?.namedChildren ?? []) {
          const fn = item?.type === 'decorated_definition' ? item.childForFieldName('definition') : item;
          const fnName = fn?.type === 'function_definition' ? fn.childForFieldName('name')?.text : undefined;
          if (fn && fnName) cls.methods.set(fnName, fn);
          const assignment = item?.type === 'expression_statement' ? item.namedChildren[0] : null;
          const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
          const value = assignment?.childForFieldName('right');
          if (target?.type === 'identifier' && value) cls.attributes.set(target.text, value);
        }
        if (name) this.classes.set(name, cls);
      } else if (definition && definitionType === 'function_definition') {
        const name = definition.childForFieldName('name')?.text;
        if (name) this.functions.set(name, definition);
      }
    }
    this.annotations = new InputAnnotations(root);
  }

  /** Classes deriving from nn.Module, directly or through another class of the file. */
  moduleClasses(): ClassInfo[] {
    const isModule = (cls: ClassInfo, seen: Set<string>): boolean =>
      (cls.node.childForFieldName('superclasses')?.namedChildren ?? []).some((base) => {
        const text = base?.text ?? '';
        if (/^((torch\.)?nn\.)?Module$/.test(text)) return true;
        const parent = this.classes.get(text);
        return parent !== undefined && !seen.has(text) && isModule(parent, new Set([...seen, text]));
      });
    return [...this.classes.values()].filter((cls) => isModule(cls, new Set([cls.name])));
  }

  topLevelAssignments(): { name: string; nameNode: Node; value: Node }[] {
    const result: { name: string; nameNode: Node; value: Node }[] = [];
    for (const statement of this.root.namedChildren) {
      const assignment = statement?.type === 'expression_statement' ? statement.namedChildren[0] : null;
      const left = assignment?.childForFieldName('left');
      const right = assignment?.childForFieldName('right');
      if (assignment?.type === 'assignment' && left?.type === 'identifier' && right?.type === 'call') result.push({ name: left.text, nameNode: left, value: right });
    }
    return result;
  }

  analyze(options: AnalysisOptions, kind: ModelReport['kind'], name: string, nameNode: Node, extent: Node, build: (analysis: Analysis) => Value): { report: ModelReport; used: Set<ClassInfo> } {
    const analysis = new Analysis(this, options.stepBudget ?? 200_000);
    const diagnostics: AnalysisDiagnostic[] = [];
    let model: Value;
    try {
      model = build(analysis);
    } catch (error) {
      model = new Unknown(error instanceof BudgetExceeded ? 'the model is too large to follow' : `the analysis failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const report: ModelReport = {
      name,
      kind,
      range: rangeOf(nameNode),
      extent: rangeOf(extent),
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
      return { report, used: analysis.used };
    }
    assignPaths(model, '');
    const annotated = options.input ? undefined : this.annotations.for(extent);
    const inferred = options.input || annotated ? undefined : firstLayerInput(model);
    report.inputSource = options.input ? 'given' : annotated ? 'annotation' : inferred ? 'first layer' : 'default';
    report.input = options.input ?? [1, ...(annotated ?? inferred ?? options.defaultInput)];
    report.totalParams = report.trainableParams = totalParams(model);
    let output: Value;
    try {
      output = analysis.apply(model, new Tensor(report.input), model.node);
    } catch (error) {
      output = new Unknown(error instanceof BudgetExceeded ? 'the forward pass is too long to follow' : `the analysis failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (output instanceof Tensor) {
      report.output = output.shape;
      if (output.reason) report.outputNote = output.reason;
    } else {
      report.outputNote = output instanceof Unknown ? output.reason : 'forward does not return one tensor';
    }
    report.layers = layerReports(model, analysis.calls);
    diagnostics.push(...analysis.diagnostics.values(), ...layerDiagnostics(analysis.calls));
    return { report, used: analysis.used };
  }
}

function assignPaths(module: Module, prefix: string): void {
  for (const [name, child] of module.children) {
    if (child.path !== undefined) continue;
    child.path = prefix ? `${prefix}.${name}` : name;
    assignPaths(child, child.path);
  }
}

function uniqueModules(root: Module): Module[] {
  const seen = new Set<Module>();
  const visit = (module: Module) => {
    if (seen.has(module)) return;
    seen.add(module);
    for (const child of module.children.values()) visit(child);
  };
  visit(root);
  return [...seen];
}

function totalParams(root: Module): number {
  return uniqueModules(root).reduce((sum, m) => sum + (m.options.spec ? paramCount(m.options.spec) : 0), 0);
}

/** A leaf as named_modules() sees it: no children. An empty nn.Sequential() (an identity shortcut) is one. */
function isLeaf(module: Module): boolean {
  return module.options.cls === undefined && module.children.size === 0;
}

/** The course's conventions: Conv2d(1, …) reads MNIST, Conv2d(3, …) CIFAR-10, Linear(n, …) n features. */
function firstLayerInput(root: Module): number[] | undefined {
  const first = uniqueModules(root).find((m) => m.options.spec && (m.options.spec.kind === 'conv' || m.options.spec.kind === 'linear'));
  const spec = first?.options.spec;
  if (spec?.kind === 'linear') return [spec.inFeatures];
  if (spec?.kind === 'conv' && spec.rank === 2 && !spec.transposed) return [spec.inChannels, spec.inChannels === 1 ? 28 : 32, spec.inChannels === 1 ? 28 : 32];
  return undefined;
}

function layerReports(root: Module, calls: Map<Module, LayerCall>): LayerReport[] {
  const reports: LayerReport[] = [];
  const report = (module: Module, call: LayerCall | undefined): LayerReport => ({
    name: module.path ?? module.type,
    type: module.type,
    range: rangeOf(module.node),
    in: call?.in ?? null,
    out: call?.out ?? null,
    params: module.options.spec ? paramCount(module.options.spec) : 0,
    ...(module.options.spec ? { spec: module.options.spec } : {}),
    ...(call?.note ? { note: call.note } : call ? {} : { note: module.options.unknown ?? 'not called in forward' }),
    ...(call?.error ? { error: call.error } : {}),
  });
  for (const [module, call] of calls) reports.push(report(module, call));
  for (const module of uniqueModules(root)) if (module !== root && isLeaf(module) && !calls.has(module)) reports.push(report(module, undefined));
  return reports;
}

/** The argument a quick fix should rewrite when a layer receives another size than it declares. */
const fixableArgument: Partial<Record<LayerSpec['kind'], string>> = { linear: 'in_features', conv: 'in_channels', batchNorm: 'num_features' };

function layerDiagnostics(calls: Map<Module, LayerCall>): AnalysisDiagnostic[] {
  const diagnostics: AnalysisDiagnostic[] = [];
  for (const call of calls.values()) {
    if (!call.error) continue;
    const { module } = call;
    const diagnostic: AnalysisDiagnostic = { range: rangeOf(module.node), message: `${module.path ?? module.type}: ${call.error}`, severity: 'error' };
    const argument = module.options.spec ? fixableArgument[module.options.spec.kind] : undefined;
    const received = argument && call.in ? (argument === 'in_features' ? call.in[call.in.length - 1] : call.in[1]) : null;
    const node = argument ? argumentNode(module, argument) : undefined;
    if (node && isConstantExpression(node) && typeof received === 'number') {
      diagnostic.fix = { title: `Change ${argument} to ${received}`, range: rangeOf(node), newText: String(received) };
    }
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function argumentNode(module: Module, name: string): Node | undefined {
  const args = module.node.childForFieldName('arguments')?.namedChildren ?? [];
  let index = 0;
  for (const arg of args) {
    if (!arg) continue;
    if (arg.type === 'keyword_argument') {
      if (arg.childForFieldName('name')?.text === name) return arg.childForFieldName('value') ?? undefined;
    } else if (parameterName(module.type, index++) === name) {
      return arg;
    }
  }
  return undefined;
}

function toArg(value: Value, what: string): ArgValue {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => toArg(v, what));
  throw new Unknown(value instanceof Unknown ? value.reason : `${what} is not a constant`);
}

function truthy(value: Value): boolean | undefined {
  if (value instanceof Unknown || value instanceof Tensor) return undefined;
  if (value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function broadcast(a: Shape, b: Shape): Shape | string {
  const rank = Math.max(a.length, b.length);
  const result: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === null || y === null) result.push(x === 1 ? y : x === null ? y === 1 ? null : y : x);
    else if (x === y || y === 1) result.push(x);
    else if (x === 1) result.push(y);
    else return `dimension ${i} is ${x} in one and ${y} in the other`;
  }
  return result;
}

class Analysis {
  readonly globals: Scope = { vars: new Map() };
  readonly calls = new Map<Module, LayerCall>();
  readonly diagnostics = new Map<number, AnalysisDiagnostic>();
  /** The file's classes this analysis instantiated or read, which its cached report depends on. */
  readonly used = new Set<ClassInfo>();
  private steps = 0;
  private depth = 0;

  constructor(
    file: PythonFile,
    private readonly budget: number,
  ) {
    for (const [alias, path] of conventionalImports) this.globals.vars.set(alias, new Path(path));
    for (const statement of file.preamble) {
      const type = statement.type;
      if (type === 'import_statement' || type === 'import_from_statement') this.importNames(statement, type);
      else this.tryStatement(statement, this.globals);
    }
    for (const cls of file.classes.values()) this.globals.vars.set(cls.name, cls);
    for (const [name, fn] of file.functions) this.globals.vars.set(name, new FunctionDef(fn, undefined));
  }

  private importNames(statement: Node, type: string): void {
    if (type === 'import_statement') {
      for (const item of statement.namedChildren) {
        if (item?.type === 'aliased_import') this.globals.vars.set(item.childForFieldName('alias')?.text ?? '', new Path(item.childForFieldName('name')?.text ?? ''));
        else if (item?.type === 'dotted_name') this.globals.vars.set(item.text.split('.')[0] ?? '', new Path(item.text.split('.')[0] ?? ''));
      }
      return;
    }
    const from = statement.childForFieldName('module_name')?.text ?? '';
    for (const item of statement.childrenForFieldName('name')) {
      if (!item) continue;
      const name = item.type === 'aliased_import' ? item.childForFieldName('name')?.text : item.text;
      const alias = item.type === 'aliased_import' ? item.childForFieldName('alias')?.text : item.text;
      if (name && alias) this.globals.vars.set(alias, new Path(`${from}.${name}`));
    }
  }

  private tick(): void {
    if (++this.steps > this.budget) throw new BudgetExceeded();
  }

  private tryStatement(statement: Node, scope: Scope): void {
    try {
      this.execute(statement, scope);
    } catch (error) {
      if (error instanceof BudgetExceeded) throw error;
    }
  }

  // ---- statements ----

  /** Runs a block; returns the value of a `return`, or undefined when the block ends without one. */
  private executeBlock(block: Node | null, scope: Scope): { value: Value } | undefined {
    for (const statement of block?.namedChildren ?? []) {
      if (!statement) continue;
      const result = this.execute(statement, scope);
      if (result) return result;
    }
    return undefined;
  }

  private execute(statement: Node, scope: Scope): { value: Value } | undefined {
    this.tick();
    switch (statement.type) {
      case 'expression_statement': {
        const expression = statement.namedChildren[0];
        if (!expression) return undefined;
        const type = expression.type;
        if (type === 'assignment') this.assign(expression, scope);
        else if (type === 'augmented_assignment') this.augmentedAssign(expression, scope);
        else this.evaluate(expression, scope);
        return undefined;
      }
      case 'return_statement': {
        const value = statement.namedChildren[0];
        return { value: value ? this.evaluate(value, scope) : null };
      }
      case 'if_statement':
        return this.executeIf(statement, scope);
      case 'for_statement':
        return this.executeFor(statement, scope);
      case 'with_statement':
      case 'try_statement':
        return this.executeBlock(statement.childForFieldName('body'), scope);
      case 'function_definition': {
        const name = statement.childForFieldName('name')?.text;
        if (name) scope.vars.set(name, new FunctionDef(statement, scope.self));
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private executeIf(statement: Node, scope: Scope): { value: Value } | undefined {
    const condition = truthy(this.evaluate(statement.childForFieldName('condition') as Node, scope));
    // An unknown condition takes the first branch: the common `if self.shortcut:` is written for the case it holds.
    if (condition !== false) return this.executeBlock(statement.childForFieldName('consequence'), scope);
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (!alternative) continue;
      if (alternative.type === 'else_clause') return this.executeBlock(alternative.childForFieldName('body'), scope);
      const branch = truthy(this.evaluate(alternative.childForFieldName('condition') as Node, scope));
      if (branch !== false) return this.executeBlock(alternative.childForFieldName('consequence'), scope);
    }
    return undefined;
  }

  private executeFor(statement: Node, scope: Scope): { value: Value } | undefined {
    const items = this.iterate(this.evaluate(statement.childForFieldName('right') as Node, scope));
    const target = statement.childForFieldName('left');
    if (!items || !target) return undefined;
    for (const item of items) {
      this.bind(target, item, scope);
      const result = this.executeBlock(statement.childForFieldName('body'), scope);
      if (result) return result;
    }
    return undefined;
  }

  private iterate(value: Value): Value[] | undefined {
    if (Array.isArray(value)) return value;
    if (value instanceof Module && value.options.container) return value.options.container === 'dict' ? [...value.children.keys()] : [...value.children.values()];
    if (value instanceof Dict) return [...value.entries.keys()];
    return undefined;
  }

  private assign(assignment: Node, scope: Scope): void {
    const right = assignment.childForFieldName('right');
    const left = assignment.childForFieldName('left');
    if (!right || !left) return;
    const value = right.type === 'assignment' ? (this.assign(right, scope), this.evaluate(right.childForFieldName('left') as Node, scope)) : this.evaluate(right, scope);
    this.bind(left, value, scope);
  }

  private augmentedAssign(assignment: Node, scope: Scope): void {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    const operator = assignment.childForFieldName('operator')?.text.replace('=', '') ?? '';
    if (!left || !right) return;
    this.bind(left, this.binary(operator, this.evaluate(left, scope), this.evaluate(right, scope), assignment), scope);
  }

  private bind(target: Node, value: Value, scope: Scope): void {
    const type = target.type;
    if (type === 'identifier') {
      scope.vars.set(target.text, value);
    } else if (type === 'attribute') {
      const owner = this.evaluate(target.childForFieldName('object') as Node, scope);
      const name = target.childForFieldName('attribute')?.text ?? '';
      if (owner instanceof Module) this.setAttribute(owner, name, value);
    } else if (type === 'pattern_list' || type === 'tuple_pattern' || type === 'list_pattern') {
      const targets = target.namedChildren.filter((n): n is Node => n !== null);
      const values = Array.isArray(value) ? value : targets.map(() => (value instanceof Unknown ? value : new Unknown('cannot unpack this value')));
      targets.forEach((t, i) => this.bind(t, values[i] ?? new Unknown('too few values to unpack'), scope));
    }
  }

  /** `self.name = value`: a module registers as a child (keeping its first position), anything else is an attribute. */
  private setAttribute(owner: Module, name: string, value: Value): void {
    if (value instanceof Module) {
      owner.children.set(name, value);
      owner.attributes.delete(name);
    } else {
      owner.children.delete(name);
      owner.attributes.set(name, value);
    }
  }

  // ---- expressions ----

  evaluate(node: Node, scope: Scope): Value {
    this.tick();
    switch (node.type) {
      case 'integer': {
        const n = Number(node.text.replace(/_/g, '').replace(/[lL]$/, ''));
        return Number.isFinite(n) ? n : new Unknown(`${node.text} is not a number`);
      }
      case 'float':
        return Number(node.text.replace(/_/g, ''));
      case 'true':
        return true;
      case 'false':
        return false;
      case 'none':
        return null;
      case 'string': {
        if (node.namedChildren.some((c) => c?.type === 'interpolation')) return new Unknown('an f-string');
        return node.namedChildren.filter((c) => c?.type === 'string_content').map((c) => c?.text ?? '').join('');
      }
      case 'concatenated_string':
        return node.namedChildren.map((c) => (c ? this.evaluate(c, scope) : '')).join('');
      case 'identifier':
        return this.lookup(node.text, scope);
      case 'attribute':
        return this.attribute(this.evaluate(node.childForFieldName('object') as Node, scope), node.childForFieldName('attribute')?.text ?? '', node);
      case 'parenthesized_expression':
        return node.namedChildren[0] ? this.evaluate(node.namedChildren[0], scope) : null;
      case 'tuple':
      case 'list':
      case 'expression_list':
        return this.sequence(node, scope);
      case 'dictionary': {
        const entries = new Map<string, Value>();
        for (const pair of node.namedChildren) {
          if (pair?.type !== 'pair') continue;
          entries.set(String(this.evaluate(pair.childForFieldName('key') as Node, scope)), this.evaluate(pair.childForFieldName('value') as Node, scope));
        }
        return new Dict(entries);
      }
      case 'list_comprehension':
      case 'generator_expression':
        return this.comprehension(node, scope);
      case 'binary_operator':
        return this.binary(node.childForFieldName('operator')?.text ?? '', this.evaluate(node.childForFieldName('left') as Node, scope), this.evaluate(node.childForFieldName('right') as Node, scope), node);
      case 'unary_operator': {
        const operand = this.evaluate(node.childForFieldName('argument') as Node, scope);
        const operator = node.childForFieldName('operator')?.text;
        if (typeof operand === 'number') return operator === '-' ? -operand : operator === '~' ? ~operand : operand;
        return operand instanceof Tensor ? operand : new Unknown(`${node.text} is not a constant`);
      }
      case 'not_operator': {
        const value = truthy(this.evaluate(node.childForFieldName('argument') as Node, scope));
        return value === undefined ? new Unknown(`${node.text} is not known`) : !value;
      }
      case 'boolean_operator': {
        const left = this.evaluate(node.childForFieldName('left') as Node, scope);
        const isAnd = node.childForFieldName('operator')?.text === 'and';
        const known = truthy(left);
        if (known === undefined) return new Unknown(`${node.text} is not known`);
        return known === isAnd ? this.evaluate(node.childForFieldName('right') as Node, scope) : left;
      }
      case 'comparison_operator':
        return this.compare(node, scope);
      case 'conditional_expression': {
        const [whenTrue, condition, whenFalse] = node.namedChildren;
        const test = condition ? truthy(this.evaluate(condition, scope)) : undefined;
        if (test === undefined) return new Unknown(`${node.text} depends on something unknown`);
        const chosen = test ? whenTrue : whenFalse;
        return chosen ? this.evaluate(chosen, scope) : null;
      }
      case 'subscript':
        return this.subscript(node, scope);
      case 'call':
        return this.call(node, scope);
      default:
        return new Unknown(`${node.type.replace(/_/g, ' ')} \`${node.text.slice(0, 40)}\` is not analysed`);
    }
  }

  private sequence(node: Node, scope: Scope): Value {
    const items: Value[] = [];
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'list_splat') {
        const spread = this.iterate(this.evaluate(child.namedChildren[0] as Node, scope));
        if (!spread) return new Unknown(`cannot unpack ${child.text}`);
        items.push(...spread);
      } else {
        items.push(this.evaluate(child, scope));
      }
    }
    return items;
  }

  private comprehension(node: Node, scope: Scope): Value {
    const body = node.childForFieldName('body');
    const clauses = node.namedChildren.filter((c): c is Node => c !== null && (c.type === 'for_in_clause' || c.type === 'if_clause'));
    if (!body) return [];
    const local: Scope = { vars: new Map(scope.vars), ...(scope.self ? { self: scope.self } : {}) };
    const results: Value[] = [];
    const run = (index: number): boolean => {
      const clause = clauses[index];
      if (!clause) {
        results.push(this.evaluate(body, local));
        return true;
      }
      if (clause.type === 'if_clause') {
        const test = truthy(this.evaluate(clause.namedChildren[0] as Node, local));
        if (test === undefined) return false;
        return test ? run(index + 1) : true;
      }
      const items = this.iterate(this.evaluate(clause.childForFieldName('right') as Node, local));
      const target = clause.childForFieldName('left');
      if (!items || !target) return false;
      for (const item of items) {
        this.bind(target, item, local);
        if (!run(index + 1)) return false;
      }
      return true;
    };
    return run(0) ? results : new Unknown(`the comprehension \`${node.text.slice(0, 40)}\` is not analysed`);
  }

  private lookup(name: string, scope: Scope): Value {
    if (scope.vars.has(name)) return scope.vars.get(name) as Value;
    if (name === 'self' && scope.self) return scope.self;
    if (this.globals.vars.has(name)) return this.globals.vars.get(name) as Value;
    const builtin = builtins.get(name);
    return builtin ?? new Unknown(`\`${name}\` is not defined here`);
  }

  private attribute(owner: Value, name: string, node: Node): Value {
    if (owner instanceof Path) return new Path(`${owner.path}.${name}`);
    if (owner instanceof Module) {
      if (owner.children.has(name)) return owner.children.get(name) as Module;
      if (owner.attributes.has(name)) return owner.attributes.get(name) as Value;
      const method = owner.options.cls?.methods.get(name);
      if (method) return new FunctionDef(method, owner);
      if (owner.options.cls?.attributes.has(name)) return this.classAttribute(owner.options.cls, name);
      if (name === 'add_module' || name === 'register_module') {
        return new Callable('add_module', ([childName, child]) => {
          if (typeof childName === 'string' && child instanceof Module) this.setAttribute(owner, childName, child);
          return null;
        });
      }
      if (name === 'append' && owner.options.container === 'list') return this.appendTo(owner);
      if (owner.options.cls) return new Unknown(`self.${name} is not set in __init__`);
      return new Unknown(`${owner.type}.${name} is not analysed`);
    }
    if (owner instanceof ClassInfo && owner.attributes.has(name)) return this.classAttribute(owner, name);
    if (owner instanceof Tensor) return this.tensorAttribute(owner, name, node);
    if (Array.isArray(owner) && (name === 'append' || name === 'extend' || name === 'insert')) {
      return new Callable(name, ([first, second]) => {
        if (name === 'append') owner.push(first ?? null);
        else if (name === 'insert' && typeof first === 'number') owner.splice(first, 0, second ?? null);
        else owner.push(...(this.iterate(first ?? null) ?? []));
        return null;
      });
    }
    if (owner instanceof Dict && (name === 'items' || name === 'keys' || name === 'values')) {
      return new Callable(name, () => [...owner.entries].map(([k, v]) => (name === 'items' ? [k, v] : name === 'keys' ? k : v)));
    }
    return owner instanceof Unknown ? owner : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  private classAttribute(cls: ClassInfo, name: string): Value {
    this.used.add(cls);
    return this.evaluate(cls.attributes.get(name) as Node, this.globals);
  }

  private appendTo(list: Module): Callable {
    return new Callable('append', ([child]) => {
      if (child instanceof Module) list.children.set(String(list.children.size), child);
      return null;
    });
  }

  private subscript(node: Node, scope: Scope): Value {
    const value = this.evaluate(node.childForFieldName('value') as Node, scope);
    const indexNode = node.childForFieldName('subscript');
    if (!indexNode || indexNode.type === 'slice') return new Unknown(`the slice \`${node.text.slice(0, 40)}\` is not analysed`);
    const index = this.evaluate(indexNode, scope);
    if (Array.isArray(value) && typeof index === 'number') return value[normalizeDim(index, value.length)] ?? new Unknown(`index ${index} is out of range`);
    if (value instanceof Module && value.options.container) {
      const child = value.options.container === 'dict' ? value.children.get(String(index)) : typeof index === 'number' ? [...value.children.values()][normalizeDim(index, value.children.size)] : undefined;
      return child ?? new Unknown(`${value.type}[${String(index)}] is not there`);
    }
    if (value instanceof Dict) return value.entries.get(String(index)) ?? new Unknown(`no key ${String(index)}`);
    return value instanceof Unknown ? value : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  private compare(node: Node, scope: Scope): Value {
    const operands = node.namedChildren.filter((c): c is Node => c !== null);
    const operators = node.children.filter((c) => c !== null && !c.isNamed).map((c) => c?.text ?? '');
    if (operands.length !== 2) return new Unknown('a chained comparison');
    const a = this.evaluate(operands[0] as Node, scope);
    const b = this.evaluate(operands[1] as Node, scope);
    const op = operators.join(' ');
    if (op === 'is' || op === 'is not') {
      if (a instanceof Unknown || b instanceof Unknown) return new Unknown(`${node.text} is not known`);
      return (a === b) === (op === 'is');
    }
    if (typeof a === 'number' && typeof b === 'number') {
      switch (op) {
        case '<':
          return a < b;
        case '>':
          return a > b;
        case '<=':
          return a <= b;
        case '>=':
          return a >= b;
        case '==':
          return a === b;
        case '!=':
          return a !== b;
      }
    }
    const primitive = (v: Value) => v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
    if (primitive(a) && primitive(b) && (op === '==' || op === '!=')) return (a === b) === (op === '==');
    return new Unknown(`${node.text} is not known`);
  }

  binary(operator: string, a: Value, b: Value, node: Node): Value {
    if (typeof a === 'number' && typeof b === 'number') {
      switch (operator) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        case '//':
          return Math.floor(a / b);
        case '%':
          return a - b * Math.floor(a / b);
        case '**':
          return a ** b;
        case '<<':
          return a << b;
        case '>>':
          return a >> b;
      }
    }
    if (operator === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (operator === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    if (operator === '*' && Array.isArray(a) && typeof b === 'number') return Array.from({ length: b }, () => a).flat();
    if (a instanceof Tensor || b instanceof Tensor) return this.tensorArithmetic(operator, a, b, node);
    if (a instanceof Unknown) return a;
    if (b instanceof Unknown) return b;
    return new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  /** Element-wise arithmetic broadcasts; a mismatch is the residual-connection bug, reported here. */
  private tensorArithmetic(operator: string, a: Value, b: Value, node: Node): Value {
    if (!(a instanceof Tensor) || !(b instanceof Tensor)) return a instanceof Tensor ? a : b;
    if (!a.shape || !b.shape) return a.shape ? b : a;
    if (operator === '@') return new Tensor(null, 'matrix products are not analysed');
    const shape = broadcast(a.shape, b.shape);
    if (typeof shape === 'string') {
      this.report(node, `cannot combine ${formatShape(a.shape)} and ${formatShape(b.shape)} with ${operator}: ${shape}`);
      return new Tensor(null, `${operator} of mismatched shapes`);
    }
    return new Tensor(shape);
  }

  private report(node: Node, message: string, severity: AnalysisDiagnostic['severity'] = 'error'): void {
    this.diagnostics.set(node.startIndex, { range: rangeOf(node), message, severity });
  }

  // ---- calls ----

  private call(node: Node, scope: Scope): Value {
    const functionNode = node.childForFieldName('function');
    if (!functionNode) return new Unknown('a call');
    if (functionNode.text === 'super' || functionNode.type === 'attribute' && functionNode.childForFieldName('object')?.text.startsWith('super(')) return null;
    const callee = this.evaluate(functionNode, scope);
    const positional: Value[] = [];
    const keywords = new Map<string, Value>();
    const argumentsNode = node.childForFieldName('arguments');
    if (argumentsNode && argumentsNode.type === 'generator_expression') {
      positional.push(this.comprehension(argumentsNode, scope));
    } else {
      for (const arg of argumentsNode?.namedChildren ?? []) {
        const type = arg?.type;
        if (!arg || type === 'comment') continue;
        if (type === 'keyword_argument') keywords.set(arg.childForFieldName('name')?.text ?? '', this.evaluate(arg.childForFieldName('value') as Node, scope));
        else if (type === 'list_splat') {
          const spread = this.iterate(this.evaluate(arg.namedChildren[0] as Node, scope));
          if (!spread) return new Unknown(`cannot unpack ${arg.text}`);
          positional.push(...spread);
        } else if (type === 'dictionary_splat') {
          const dict = this.evaluate(arg.namedChildren[0] as Node, scope);
          if (!(dict instanceof Dict)) return new Unknown(`cannot unpack ${arg.text}`);
          for (const [k, v] of dict.entries) keywords.set(k, v);
        } else positional.push(this.evaluate(arg, scope));
      }
    }
    return this.invoke(callee, positional, keywords, node);
  }

  private invoke(callee: Value, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    if (++this.depth > 60) {
      this.depth--;
      return new Unknown('calls nest too deeply to follow');
    }
    try {
      if (callee instanceof Path) return this.callPath(callee.path, positional, keywords, node);
      if (callee instanceof Module) return this.apply(callee, positional[0] ?? new Unknown('no input'), node);
      if (callee instanceof FunctionDef) return this.callFunction(callee, positional, keywords);
      if (callee instanceof Callable) return callee.call(positional, keywords, node);
      if (callee instanceof ClassInfo) return this.instantiate(callee, positional, keywords, node);
      return callee instanceof Unknown ? callee : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
    } finally {
      this.depth--;
    }
  }

  private callPath(path: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const namespace = path.slice(0, path.lastIndexOf('.'));
    if (namespace === 'torch.nn') return this.construct(name, positional, keywords, node);
    if (path === 'collections.OrderedDict') {
      const pairs = positional[0];
      return new Dict(new Map(Array.isArray(pairs) ? pairs.filter(Array.isArray).map(([k, v]) => [String(k), v ?? null] as [string, Value]) : []));
    }
    if (namespace === 'torch.nn.functional' || namespace === 'torch') return this.tensorFunction(name, positional, keywords, node);
    return new Unknown(`${path}() is not analysed`);
  }

  private construct(type: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    if (type === 'Sequential' || type === 'ModuleList' || type === 'ModuleDict') {
      const container = type === 'Sequential' ? 'sequential' : type === 'ModuleList' ? 'list' : 'dict';
      const module = new Module(type, node, { container });
      const source = positional.length === 1 && (positional[0] instanceof Dict || (type !== 'Sequential' && Array.isArray(positional[0]))) ? positional[0] : positional;
      const entries: [string, Value][] = source instanceof Dict ? [...source.entries] : Array.isArray(source) ? source.map((v, i) => [String(i), v]) : [];
      for (const [key, child] of entries) if (child instanceof Module) module.children.set(key, child);
      return module;
    }
    if (!torchLayers.has(type)) return new Module(type, node, { unknown: `nn.${type} is not analysed` });
    try {
      const args = positional.map((v, i) => toArg(v, `argument ${i + 1}`));
      const kw = new Map([...keywords].map(([k, v]) => [k, toArg(v, k)] as [string, ArgValue]));
      return new Module(type, node, { spec: buildLayer(type, args, kw) });
    } catch (error) {
      if (error instanceof Unknown) return new Module(type, node, { unknown: `its arguments are not constants (${error.reason})` });
      if (error instanceof ArgumentError) {
        this.report(node, error.message);
        return new Module(type, node, { unknown: error.message });
      }
      throw error;
    }
  }

  instantiate(cls: ClassInfo, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    this.used.add(cls);
    const module = new Module(cls.name, node, { cls });
    const init = cls.methods.get('__init__');
    if (init) {
      const result = this.callFunction(new FunctionDef(init, module), positional, keywords);
      if (result instanceof Unknown && result.reason.startsWith('recursion')) return result;
    }
    return module;
  }

  private callFunction(fn: FunctionDef, positional: Value[], keywords: Map<string, Value>): Value {
    const scope: Scope = { vars: new Map(), ...(fn.self ? { self: fn.self } : {}) };
    const parameters = (fn.node.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => p !== null);
    const args = [...positional];
    parameters.forEach((parameter, index) => {
      if (index === 0 && fn.self) return; // self
      const nameNode = parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? parameter.namedChildren[0]);
      const name = nameNode?.text ?? '';
      if (parameter.type === 'list_splat_pattern') {
        scope.vars.set(name, args.splice(0));
        return;
      }
      if (parameter.type === 'dictionary_splat_pattern') {
        scope.vars.set(name, new Dict(new Map(keywords)));
        return;
      }
      const defaultNode = parameter.childForFieldName('value');
      if (args.length > 0) scope.vars.set(name, args.shift() as Value);
      else if (keywords.has(name)) scope.vars.set(name, keywords.get(name) as Value);
      else if (defaultNode) scope.vars.set(name, this.evaluate(defaultNode, this.globals));
      else scope.vars.set(name, new Unknown(`the argument \`${name}\` has no default value`));
    });
    return this.executeBlock(fn.node.childForFieldName('body'), scope)?.value ?? null;
  }

  // ---- tensors ----

  /** Runs a module on its input: a layer through the shape engine, a container in order, a user module through its forward. */
  apply(module: Module, input: Value, node: Node): Value {
    this.tick();
    if (!(input instanceof Tensor)) input = new Tensor(null, input instanceof Unknown ? input.reason : 'the input is not a tensor');
    const { spec, cls, container, unknown } = module.options;
    if (container === 'sequential' && module.children.size === 0) {
      this.record(module, { module, in: input.shape, out: input.shape, ...(input.shape ? {} : { note: input.reason ?? 'its input is unknown' }) });
      return input;
    }
    if (container === 'sequential') {
      let x: Value = input;
      for (const child of module.children.values()) x = this.apply(child, x, node);
      return x;
    }
    if (container) return new Unknown(`a ${module.type} is not callable`);
    if (cls) {
      const forward = cls.methods.get('forward');
      if (!forward) return new Unknown(`${cls.name} has no forward method`);
      return this.callFunction(new FunctionDef(forward, module), [input], new Map());
    }
    if (!spec) {
      const reason = unknown ?? `nn.${module.type} is not analysed`;
      this.record(module, { module, in: input.shape, out: null, note: reason });
      return new Tensor(null, `${module.path ?? module.type}: ${reason}`);
    }
    if (!input.shape) {
      this.record(module, { module, in: null, out: null, note: input.reason ?? 'its input is unknown' });
      return input;
    }
    const result = computeOutputShape(spec, module.type, input.shape);
    this.record(module, { module, in: input.shape, out: result.shape, ...(result.error ? { error: result.error } : {}) });
    return new Tensor(result.shape, result.shape ? undefined : result.error);
  }

  /** The last call is the one reported, as torchinfo does for a layer used twice; the order is that of the last calls. */
  private record(module: Module, call: LayerCall): void {
    this.calls.delete(module);
    this.calls.set(module, call);
  }

  private tensorAttribute(tensor: Tensor, name: string, node: Node): Value {
    if (name === 'shape') return tensor.shape ? tensor.shape.map((d) => d ?? new Unknown('an unknown dimension')) : new Unknown(tensor.reason ?? 'unknown shape');
    return new Callable(`Tensor.${name}`, (args, keywords, callNode) => this.tensorFunction(name, [tensor, ...args], keywords, callNode ?? node));
  }

  private tensorFunction(name: string, args: Value[], keywords: Map<string, Value>, node: Node): Value {
    const [first] = args;
    if (name === 'cat' || name === 'concat' || name === 'stack') return this.concatenate(name, args[0] ?? null, keywords.get('dim') ?? args[1] ?? 0, node);
    if (!(first instanceof Tensor)) return first instanceof Unknown ? first : new Unknown(`${name}() of something that is not a tensor`);
    const shape = first.shape;
    if (!shape) return first;
    const arg = (index: number, keyword: string, fallback: Value): Value => keywords.get(keyword) ?? args[index] ?? fallback;
    if (shapePreserving.has(name)) return first;
    const pool = /^(max|avg)_pool([123])d$/.exec(name);
    const adaptive = /^adaptive_(max|avg)_pool([123])d$/.exec(name);
    if (pool || adaptive) {
      const [, op = '', rank = ''] = (pool ?? adaptive) as RegExpExecArray;
      const type = adaptive ? `Adaptive${op === 'max' ? 'Max' : 'Avg'}Pool${rank}d` : `${op === 'max' ? 'Max' : 'Avg'}Pool${rank}d`;
      const built = this.construct(type, args.slice(1), keywords, node);
      if (!(built instanceof Module) || !built.options.spec) return new Tensor(null, `${name} has arguments that are not constants`);
      const result = computeOutputShape(built.options.spec, `F.${name}`, shape);
      if (result.error) this.report(node, `F.${name}: ${result.error}`);
      return new Tensor(result.shape, result.error);
    }
    switch (name) {
      case 'flatten': {
        const start = arg(1, 'start_dim', 0);
        const end = arg(2, 'end_dim', -1);
        if (typeof start !== 'number' || typeof end !== 'number') return new Tensor(null, 'flatten with unknown dimensions');
        return new Tensor(flattenShape(shape, start, end));
      }
      case 'view':
      case 'reshape':
        return this.reshape(name, shape, args.length === 2 && Array.isArray(args[1]) ? args[1] : args.slice(1), node);
      case 'size': {
        const dim = args[1];
        if (dim === undefined) return shape.map((d) => d ?? new Unknown('an unknown dimension'));
        return typeof dim === 'number' ? (shape[normalizeDim(dim, shape.length)] ?? new Unknown('an unknown dimension')) : new Unknown('size() of an unknown dimension');
      }
      case 'dim':
        return shape.length;
      case 'numel':
        return product(shape) ?? new Unknown('an unknown size');
      case 'mean':
      case 'sum':
      case 'amax':
      case 'amin': {
        const dims = arg(1, 'dim', null);
        const keepdim = truthy(arg(2, 'keepdim', false)) ?? false;
        if (dims === null) return new Tensor([]);
        const list = (Array.isArray(dims) ? dims : [dims]).map((d) => (typeof d === 'number' ? normalizeDim(d, shape.length) : -1));
        if (list.includes(-1)) return new Tensor(null, `${name} over unknown dimensions`);
        return new Tensor(keepdim ? shape.map((d, i) => (list.includes(i) ? 1 : d)) : shape.filter((_, i) => !list.includes(i)));
      }
      case 'squeeze': {
        const dim = args[1];
        if (typeof dim === 'number') return new Tensor(shape.filter((d, i) => !(i === normalizeDim(dim, shape.length) && d === 1)));
        return new Tensor(shape.filter((d) => d !== 1));
      }
      case 'unsqueeze': {
        const dim = args[1];
        if (typeof dim !== 'number') return new Tensor(null, 'unsqueeze of an unknown dimension');
        const at = dim < 0 ? shape.length + 1 + dim : dim;
        return new Tensor([...shape.slice(0, at), 1, ...shape.slice(at)]);
      }
      case 'permute': {
        const order = args.length === 2 && Array.isArray(args[1]) ? args[1] : args.slice(1);
        if (!order.every((d) => typeof d === 'number') || order.length !== shape.length) return new Tensor(null, 'permute with unknown dimensions');
        return new Tensor((order as number[]).map((d) => shape[normalizeDim(d, shape.length)] ?? null));
      }
      case 'transpose': {
        const [a, b] = [args[1], args[2]];
        if (typeof a !== 'number' || typeof b !== 'number') return new Tensor(null, 'transpose of unknown dimensions');
        const result = [...shape];
        const [i, j] = [normalizeDim(a, shape.length), normalizeDim(b, shape.length)];
        [result[i], result[j]] = [shape[j] ?? null, shape[i] ?? null];
        return new Tensor(result);
      }
      case 'interpolate':
      case 'upsample': {
        const built = this.construct('Upsample', [], new Map([['size', keywords.get('size') ?? args[1] ?? null], ['scale_factor', keywords.get('scale_factor') ?? args[2] ?? null]]), node);
        if (!(built instanceof Module) || !built.options.spec) return new Tensor(null, `${name} has arguments that are not constants`);
        return new Tensor(computeOutputShape(built.options.spec, name, shape).shape);
      }
      case 'add':
      case 'mul':
      case 'sub':
        return this.tensorArithmetic(name === 'add' ? '+' : name === 'mul' ? '*' : '-', first, args[1] ?? null, node);
      default:
        return new Tensor(null, `\`${name}\` is not analysed`);
    }
  }

  /** view/reshape, with -1 resolved, and the silent batch change of `view(-1, N)` caught. */
  private reshape(name: string, shape: Shape, requested: Value[], node: Node): Value {
    const total = product(shape);
    const perSample = product(shape.slice(1));
    const dims = requested.map((d) => (typeof d === 'number' ? d : null));
    if (dims.includes(null)) {
      // view(x.size(0), -1) with an unknown batch still flattens each sample.
      if (dims.length === 2 && requested[0] === shape[0] && dims[1] === -1) return new Tensor([shape[0] ?? null, perSample]);
      return new Tensor(null, `${name} with dimensions that are not known`);
    }
    const known = dims as number[];
    const fixed = known.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const inferred = known.filter((d) => d === -1).length;
    if (total === null || inferred > 1) return new Tensor(null, `${name} of an unknown size`);
    if (inferred === 0 ? fixed !== total : total % fixed !== 0) {
      this.report(node, `${name}(${known.join(', ')}) cannot reshape ${formatShape(shape)} (${total} values)`);
      return new Tensor(null, `${name} cannot reshape ${formatShape(shape)}`);
    }
    const result = known.map((d) => (d === -1 ? total / fixed : d));
    const batch = shape[0] ?? null;
    if (known[0] === -1 && known.length >= 2 && batch !== null && result[0] !== batch && perSample !== null) {
      const expected = known.slice(1).reduce((a, b) => a * b, 1);
      this.report(
        node,
        `${name}(${known.join(', ')}) expects ${expected} values per sample but each sample has ${perSample} (${formatShape(shape.slice(1))}): the batch of ${batch} would become ${result[0]}`,
      );
      return new Tensor([batch, perSample]);
    }
    return new Tensor(result);
  }

  private concatenate(name: string, tensors: Value, dimValue: Value, node: Node): Value {
    if (!Array.isArray(tensors) || !tensors.every((t) => t instanceof Tensor)) return new Tensor(null, `${name} of values that are not all tensors`);
    const shapes = (tensors as Tensor[]).map((t) => t.shape);
    if (shapes.some((s) => s === null) || typeof dimValue !== 'number' || shapes.length === 0) return new Tensor(null, `${name} of unknown shapes`);
    const [firstShape] = shapes as Shape[];
    if (!firstShape) return new Tensor(null, `${name} of nothing`);
    if (name === 'stack') {
      const at = dimValue < 0 ? firstShape.length + 1 + dimValue : dimValue;
      return new Tensor([...firstShape.slice(0, at), shapes.length, ...firstShape.slice(at)]);
    }
    const dim = normalizeDim(dimValue, firstShape.length);
    for (const other of shapes as Shape[]) {
      const mismatch = other.findIndex((d, i) => i !== dim && d !== null && firstShape[i] !== null && d !== firstShape[i]);
      if (other.length !== firstShape.length || mismatch !== -1) {
        this.report(node, `torch.${name} along dimension ${dim} needs the other dimensions to match: ${formatShape(firstShape)} and ${formatShape(other)}`);
        return new Tensor(null, `${name} of mismatched shapes`);
      }
    }
    const joined = (shapes as Shape[]).map((s) => s[dim] ?? null);
    return new Tensor(firstShape.map((d, i) => (i === dim ? product(joined) === null ? null : joined.reduce<number>((a, b) => a + (b ?? 0), 0) : d)));
  }
}

const builtins = new Map<string, Value>([
  [
    'range',
    new Callable('range', (args) => {
      const nums = args.filter((a): a is number => typeof a === 'number');
      if (nums.length !== args.length || nums.length === 0) return new Unknown('range() of something unknown');
      const [start, stop, step = 1] = nums.length === 1 ? [0, nums[0] as number] : nums;
      if (step === 0 || (stop as number) - (start as number) > 10_000 * Math.abs(step)) return new Unknown('range() too long to follow');
      const out: number[] = [];
      for (let i = start as number; step > 0 ? i < (stop as number) : i > (stop as number); i += step) out.push(i);
      return out;
    }),
  ],
  ['len', new Callable('len', ([v]) => (Array.isArray(v) ? v.length : v instanceof Module ? v.children.size : v instanceof Dict ? v.entries.size : new Unknown('len() of something unknown')))],
  ['int', new Callable('int', ([v]) => (typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Math.trunc(Number(v)) : new Unknown('int() of something unknown')))],
  ['float', new Callable('float', ([v]) => (typeof v === 'number' ? v : new Unknown('float() of something unknown')))],
  ['min', new Callable('min', (args) => numbersOf(args, (n) => Math.min(...n)))],
  ['max', new Callable('max', (args) => numbersOf(args, (n) => Math.max(...n)))],
  ['sum', new Callable('sum', (args) => numbersOf(args, (n) => n.reduce((a, b) => a + b, 0)))],
  ['abs', new Callable('abs', ([v]) => (typeof v === 'number' ? Math.abs(v) : new Unknown('abs() of something unknown')))],
  ['round', new Callable('round', ([v]) => (typeof v === 'number' ? Math.round(v) : new Unknown('round() of something unknown')))],
  ['list', new Callable('list', ([v]) => (Array.isArray(v) ? [...v] : v === undefined ? [] : new Unknown('list() of something unknown')))],
  ['tuple', new Callable('tuple', ([v]) => (Array.isArray(v) ? [...v] : v === undefined ? [] : new Unknown('tuple() of something unknown')))],
  ['enumerate', new Callable('enumerate', ([v]) => (Array.isArray(v) ? v.map((item, i) => [i, item]) : new Unknown('enumerate() of something unknown')))],
  ['zip', new Callable('zip', (args) => (args.every(Array.isArray) ? Array.from({ length: Math.min(...(args as Value[][]).map((a) => a.length)) }, (_, i) => (args as Value[][]).map((a) => a[i] ?? null)) : new Unknown('zip() of something unknown')))],
  ['reversed', new Callable('reversed', ([v]) => (Array.isArray(v) ? [...v].reverse() : new Unknown('reversed() of something unknown')))],
  ['isinstance', new Callable('isinstance', () => new Unknown('isinstance() is not analysed'))],
]);

function numbersOf(args: Value[], combine: (numbers: number[]) => number): Value {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return list.every((v) => typeof v === 'number') && list.length > 0 ? combine(list as number[]) : new Unknown('an operation on unknown numbers');
}
