// PyTorch models from Python source: a small evaluator runs `__init__` (with helper methods,
// loops, comprehensions and user-defined blocks) to build the module tree, then runs `forward`
// over abstract tensors whose shapes come from the shape engine. What it cannot follow becomes an
// unknown with its reason; it never guesses, never throws on user text, and stops at a step budget.
import { computeOutputShape, flattenShape, type LayerSpec, type OutputTree, paramCount } from './layers';
import type { AnalysisDiagnostic, Incompleteness, LayerReport, ModelReport } from './report';
import { type Dim, formatShape, normalizeDim, product, type Shape } from './shape';
import { InputAnnotations } from './annotations';
import { type Node, rangeOf } from './syntax';
import { ArgumentError, type ArgValue, buildLayer, ModuleArg, parameterName, torchLayers } from './torchLayers';

/** How `from module import name` finds another Python file of the program (see imports.ts). */
export interface PythonImports {
  /** The file `module` names with `level` leading dots, seen from the file at `from` (undefined: the file analysed). */
  resolve(module: string, level: number, from: string | undefined): { path: string; root: Node; version: string } | undefined;
  /** The version of a file read before (a modification time, an editor's version), to tell whether a cached report still holds. */
  version(path: string): string | undefined;
}

export interface AnalysisOptions {
  /** Other files of the program, for classes and functions the file imports; without it, imports stay unknown. */
  imports?: PythonImports;
  /** One sample's shape (no batch) when neither an annotation nor the first layer tells. */
  defaultInput: number[];
  /** The whole input shape, batch included, overriding annotations and inference. */
  input?: number[];
  /** Evaluation steps per model before the analysis gives up on it. */
  stepBudget?: number;
}

class Unknown {
  constructor(
    readonly reason: string,
    /** A value that is no part of a model (a device, a dtype, a random number): not knowing it loses nothing. */
    readonly inert = false,
  ) {}
}

class Tensor {
  constructor(
    readonly shape: Shape | null,
    readonly reason?: string,
    /** An nn.Parameter, counted with the module it is assigned to. */
    readonly parameter = false,
    /** For a layer's own parameter (`self.embed.weight`): whose it is, so that tying it to another layer counts it once. */
    readonly owner?: { module: Module; name: string },
    /** A small 1-d tensor of known values (torch.arange(depth) * w_a + w_0: RegNet's widths), in float32 when `float`. */
    readonly values?: { data: number[]; float: boolean },
  ) {}

  static of(data: number[], float: boolean): Tensor {
    return new Tensor([data.length], undefined, false, undefined, { data: float ? data.map(Math.fround) : data, float });
  }
}

class ClassInfo {
  private order: ClassInfo[] | undefined;
  private body: ClassBody | undefined;

  constructor(
    readonly name: string,
    readonly node: Node,
    readonly file: PythonFile,
    /** The bases as written: `nn.Module`, `ResNet`. */
    readonly bases: string[],
    /** Whether it is decorated @dataclass. */
    private readonly dataclass: boolean,
  ) {}

  /** Its methods, class attributes and fields, read from its body when first needed: an edit elsewhere in a large file reads no other class. */
  private get members(): ClassBody {
    this.body ??= readClassBody(this.node, this.dataclass);
    return this.body;
  }

  get methods(): Map<string, Node> {
    return this.members.methods;
  }

  /** Class-level assignments (`expansion = 4`), evaluated when first read. */
  get attributes(): Map<string, Node> {
    return this.members.attributes;
  }

  /** Methods decorated @staticmethod or @classmethod, which take no instance. */
  get staticMethods(): Set<string> {
    return this.members.staticMethods;
  }

  get classMethods(): Set<string> {
    return this.members.classMethods;
  }

  get properties(): Set<string> {
    return this.members.properties;
  }

  /** For a @dataclass: its fields in order, which its generated __init__ takes. */
  get dataclassFields(): { name: string; value: Node | null }[] | undefined {
    return this.members.fields;
  }

  /** Python's method resolution order over the program's classes, this class first; worked out when first needed, as it may read imported files. */
  get mro(): ClassInfo[] {
    this.order ??= this.file.linearize(this, new Set());
    return this.order;
  }

  /** The torch.nn classes it derives from (`Module`, `Sequential`, `Conv2d`), in MRO order; none for a plain class. */
  get torchBases(): string[] {
    this.torchAncestry ??= this.mro.map((c) => c.file.torchBase(c)).filter((b): b is string => b !== undefined);
    return this.torchAncestry;
  }

  private torchAncestry: string[] | undefined;

  /** The torch.nn container the class derives from: its children are then run or kept as the container would. */
  get container(): 'sequential' | 'list' | 'dict' | undefined {
    const base = this.torchBases.find((b) => b in containerKinds);
    return base ? containerKinds[base as keyof typeof containerKinds] : undefined;
  }

  /** The method `name` as Python finds it on an instance, looking only past `after` for super(). */
  findMethod(name: string, after?: ClassInfo): { node: Node; owner: ClassInfo } | undefined {
    const start = after ? this.mro.indexOf(after) + 1 : 0;
    for (const cls of this.mro.slice(start)) {
      const node = cls.methods.get(name);
      if (node) return { node, owner: cls };
    }
    return undefined;
  }

  findAttribute(name: string): ClassInfo | undefined {
    return this.mro.find((cls) => cls.attributes.has(name));
  }
}

class Module {
  /** Where the report places it: the constructing call in the file analysed, else the call that led into the imported file. */
  site: Node;
  readonly children = new Map<string, Module>();
  /** Elements of the nn.Parameters assigned to it (`self.cls_token = nn.Parameter(...)`), by name. */
  readonly parameters = new Map<string, number | null>();
  /** Its layer's parameters replaced by another module's (`self.out.weight = self.embed.weight`), counted there. */
  readonly tied = new Set<string>();
  // Shapes are those of inference, as exact mode's model.eval() gives them.
  readonly attributes = new Map<string, Value>([['training', false]]);
  path: string | undefined;

  constructor(
    /** Its class name; a lazy layer takes its eager name once materialized. */
    public type: string,
    readonly node: Node,
    readonly options: {
      spec?: LayerSpec;
      cls?: ClassInfo;
      container?: 'sequential' | 'list' | 'dict';
      unknown?: string;
      /** An instance of a class that is not an nn.Module (a config object): never a submodule. */
      plain?: boolean;
      /** An instance of a class the analysis cannot read: a layer only if forward calls it. */
      opaque?: boolean;
    } = {},
  ) {
    this.site = node;
  }
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

type Value = number | string | boolean | null | Value[] | Unknown | Tensor | Module | Dict | Path | Callable | ClassInfo | FunctionDef | Super | Namespace;

class FunctionDef {
  constructor(
    readonly node: Node,
    readonly self: Module | undefined,
    /** The class that defines the method, which super() inside it starts after. */
    readonly owner: ClassInfo | undefined,
    /** The file whose module-level names the body sees. */
    readonly file: PythonFile,
    /** The enclosing function's names, for a nested def or a lambda. */
    readonly closure?: Scope,
  ) {}
}

/** A file's module namespace, as `sys.modules[__name__]` and `globals()` give it: setattr on it defines names. */
class Namespace {
  constructor(readonly scope: Scope) {}
}

/** What `super()` or `super(Cls, self)` evaluates to inside a method. */
class Super {
  constructor(
    readonly self: Module,
    readonly after: ClassInfo,
  ) {}
}

class BudgetExceeded extends Error {}

/** A Python exception the evaluated code raises (`raise`, a failed `assert`): caught by its `try`, else the model cannot be built. */
class Raised {
  constructor(
    /** The exception's class name as written: `ValueError`, `NotImplementedError`. */
    readonly type: string,
    readonly node: Node,
  ) {}
}

/** The exception a `raise` statement raises, named from its text: evaluating it would only make an instance. */
function raisedBy(statement: Node): Raised {
  const expression = statement.namedChildren[0];
  const callee = expression?.type === 'call' ? expression.childForFieldName('function') : expression;
  return new Raised(callee?.text.split('.').pop() ?? 'the exception being handled', statement);
}

/** The builtin exceptions' bases that model code catches by, so that `except ValueError` is known to catch a `raise ValueError(…)`. */
const exceptionBases = new Map<string, string[]>([
  ['ValueError', []],
  ['TypeError', []],
  ['KeyError', ['LookupError']],
  ['IndexError', ['LookupError']],
  ['AttributeError', []],
  ['NotImplementedError', ['RuntimeError']],
  ['RuntimeError', []],
  ['AssertionError', []],
  ['ImportError', []],
  ['ModuleNotFoundError', ['ImportError']],
  ['ZeroDivisionError', ['ArithmeticError']],
  ['Exception', []],
]);

/** How a block was left: `return` with its value, `break`, `continue`, or undefined at its end. */
type Flow = { value: Value } | 'break' | 'continue' | undefined;

/** A slice `start:stop:step` with Python's rules for None and negative bounds. */
class Slice {
  constructor(
    readonly start: number | null,
    readonly stop: number | null,
    readonly step: number | null,
  ) {}

  /** The indices it picks from a sequence of `length`, as `range(*slice.indices(length))`. */
  indices(length: number): number[] {
    const step = this.step ?? 1;
    const clamp = (v: number | null, fallback: number, low: number, high: number) => (v === null ? fallback : v < 0 ? Math.max(v + length, low) : Math.min(v, high));
    const start = step > 0 ? clamp(this.start, 0, 0, length) : clamp(this.start, length - 1, -1, length - 1);
    const stop = step > 0 ? clamp(this.stop, length, 0, length) : clamp(this.stop, -1, -1, length - 1);
    const result: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) result.push(i);
    return result;
  }
}

type Index = Value | Slice | 'ellipsis';

interface Scope {
  vars: Map<string, Value>;
  self?: Module;
  /** The class whose method is running, for a bare super(). */
  cls?: ClassInfo;
  /** The module-level names of the file the code belongs to. */
  globals?: Scope;
  /** An imported file's module-level names not evaluated yet: each is evaluated when first read. */
  lazy?: Map<string, () => Value>;
  /** The enclosing function's scope, for a nested def or a lambda. */
  outer?: Scope;
  /** Names a `global` or `nonlocal` statement sends elsewhere. */
  declared?: Map<string, 'global' | 'nonlocal'>;
}

interface LayerCall {
  module: Module;
  in: Shape | null;
  out: Shape | null;
  error?: string;
  note?: string;
}

const returnsSelf = new Set(['to', 'cuda', 'cpu', 'eval', 'train', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'apply', 'share_memory', 'zero_grad']);

const containerKinds = { Sequential: 'sequential', ModuleList: 'list', ModuleDict: 'dict' } as const;

const conventionalImports: [string, string][] = [
  ['nn', 'torch.nn'],
  ['F', 'torch.nn.functional'],
  ['torch', 'torch'],
  ['OrderedDict', 'collections.OrderedDict'],
  ['np', 'numpy'],
];

/** Functions and tensor methods that keep the shape of their first argument. */
const shapePreserving = new Set([
  'relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'sigmoid', 'tanh', 'softmax',
  'log_softmax', 'softmin', 'softplus', 'softsign', 'hardtanh', 'hardswish', 'hardsigmoid', 'logsigmoid', 'dropout', 'dropout1d', 'dropout2d',
  'dropout3d', 'alpha_dropout', 'feature_alpha_dropout', 'normalize', 'contiguous', 'float', 'double', 'half', 'bfloat16', 'to', 'clone',
  'detach', 'cpu', 'cuda', 'abs', 'exp', 'log', 'sqrt', 'clamp', 'clip', 'neg', 'square', 'tanh_', 'sigmoid_', 'local_response_norm',
  'layer_norm', 'group_norm', 'batch_norm', 'instance_norm', 'hardtanh_', 'elu_', 'relu6_', 'silu_', 'gelu_', 'hardswish_', 'mul_', 'add_', 'div_',
  'clamp_', 'masked_fill', 'dropout_', 'sign', 'floor', 'ceil', 'round', 'reciprocal', 'rsqrt', 'sin', 'cos', 'erf', 'pow', 'requires_grad_', 'rms_norm',
  'type', 'astype', 'numpy', 'long', 'int',
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
  /** By `kind:name`; a function that turned out not to build a model is remembered as such. */
  readonly entries = new Map<string, { key: string; uses: Map<string, string>; files: Map<string, string>; report: ModelReport | undefined }>();
}

/**
 * Analyses every nn.Module subclass, top-level nn.Sequential, model factory (a module-level
 * function that returns a model) and module-level instance built with arguments in a parsed file.
 */
export function analyzePython(root: Node, options: AnalysisOptions, cache = new AnalysisCache()): ModelReport[] {
  const program = new Program(options.imports);
  const file = new PythonFile(root, undefined, program);
  const lines = root.text.split('\n');
  const signature = (node: Node) => {
    const { row, column } = node.startPosition;
    return `${row}:${column}\n${lines.slice(Math.max(0, row - 3), row).join('\n')}\n${node.text}`;
  };
  const context = [JSON.stringify({ ...options, imports: undefined }), ...root.namedChildren.filter((n) => n !== null && n.type !== 'class_definition').map((n) => `${n?.startPosition.row}|${n?.text}`)].join('\n');
  const reports: ModelReport[] = [];
  const present = new Set<string>();
  const analyzeCached = (id: string, node: Node, run: () => { report: ModelReport; used: Set<ClassInfo> } | undefined): void => {
    present.add(id);
    const key = `${context}\u0000${signature(node)}`;
    const cached = cache.entries.get(id);
    const fresh = (entry: NonNullable<typeof cached>) =>
      [...entry.uses].every(([name, used]) => file.classes.has(name) && signature((file.classes.get(name) as ClassInfo).node) === used) &&
      [...entry.files].every(([path, version]) => options.imports?.version(path) === version);
    if (cached && cached.key === key && fresh(cached)) {
      if (cached.report) reports.push(cached.report);
      return;
    }
    const result = run();
    const uses = [...(result?.used ?? [])].filter((c) => c.file === file);
    cache.entries.set(id, { key, uses: new Map(uses.map((c) => [c.name, signature(c.node)])), files: new Map(program.read), report: result?.report });
    if (result) reports.push(result.report);
  };
  const instances = file.topLevelAssignments();
  const argumentsUsed = new Set<Node>();
  for (const cls of file.moduleClasses()) {
    analyzeCached(`class:${cls.name}`, cls.node, () => {
      // A class whose __init__ needs arguments is built as the file builds it: the annotation, else its first module-level instance.
      const annotated = file.annotations.argsFor(cls.node);
      const instance = annotated || !file.needsArguments(cls) ? undefined : instances.find((i) => i.callee === cls.name && i.built.childForFieldName('arguments')?.namedChildren.length);
      const call = annotated ?? instance?.built;
      // A block that needs arguments nothing in the file gives (a ResNet's BasicBlock) has no build: PyTorch could not make one either.
      const unbuildable = !call && file.needsArguments(cls);
      const result = file.analyze(options, 'class', cls.name, cls.node.childForFieldName('name') ?? cls.node, cls.node, unbuildable ? undefined : call ? `${cls.name}${argumentText(call)}` : `${cls.name}()`, (analysis) =>
        call ? analysis.evaluateCallArguments(call, (args, keywords) => analysis.instantiate(cls, args, keywords, cls.node)) : analysis.instantiate(cls, [], new Map(), cls.node),
      );
      if (unbuildable && result.report.output === null) {
        result.report.outputNote = `${cls.name} needs arguments the file does not give: build it at module level (model = ${cls.name}(…)) or write them above the class (# cnnlab: args …)`;
      }
      return result;
    });
  }
  // An instance whose arguments built its class's report is shown there, not again.
  const classBuilds = new Set(reports.filter((r) => r.kind === 'class').map((r) => r.build));
  for (const instance of instances) if (classBuilds.has(`${instance.callee}${argumentText(instance.built)}`)) argumentsUsed.add(instance.value);
  for (const fn of file.factories()) {
    const name = fn.childForFieldName('name');
    if (!name) continue;
    analyzeCached(`factory:${name.text}`, fn, () => {
      const result = file.analyze(options, 'factory', name.text, name, fn, `${name.text}()`, (analysis) => analysis.callFactory(fn));
      // Only a function that returns a model is a factory.
      return result.report.output !== null || result.report.layers.length > 0 ? result : undefined;
    });
  }
  for (const { name, nameNode, value, built, callee } of instances) {
    const extent = nameNode.parent ?? value;
    if (callee === 'partial' || callee === 'functools.partial') {
      // `resnet_big = partial(_resnet, width=256)` is a factory too.
      analyzeCached(`factory:${name}`, extent, () => {
        const result = file.analyze(options, 'factory', name, nameNode, value, `${name}()`, (analysis) => analysis.callFactoryValue(value));
        return result.report.output !== null || result.report.layers.length > 0 ? result : undefined;
      });
    } else if (/^(nn\.|torch\.nn\.)?Sequential$/.test(callee)) {
      analyzeCached(`sequential:${name}`, extent, () => file.analyze(options, 'sequential', name, nameNode, value, name, (analysis) => analysis.evaluate(value, analysis.globals)));
    } else if ((file.classes.has(callee) || file.functions.has(callee)) && !argumentsUsed.has(value) && built.childForFieldName('arguments')?.namedChildren.length) {
      analyzeCached(`instance:${name}`, extent, () => file.analyze(options, 'instance', name, nameNode, value, name, (analysis) => analysis.evaluate(value, analysis.globals)));
    }
  }
  for (const id of cache.entries.keys()) if (!present.has(id)) cache.entries.delete(id);
  return reports;
}

/** The argument list of a call as written, for the expression that builds the model: `(BasicBlock, [2, 2, 2, 2])`. */
function argumentText(call: Node): string {
  return call.childForFieldName('arguments')?.text ?? '()';
}

/** The files of one analysis: the one analysed and those its `from … import …` statements name. */
class Program {
  private readonly files = new Map<string, { version: string; file: PythonFile }>();
  /** Every imported file read, with its version, which cached reports depend on. */
  readonly read = new Map<string, string>();

  constructor(readonly imports: PythonImports | undefined) {}

  file(module: string, level: number, from: PythonFile): PythonFile | undefined {
    const found = this.imports?.resolve(module, level, from.path);
    if (!found) return undefined;
    this.read.set(found.path, found.version);
    const known = this.files.get(found.path);
    if (known?.version === found.version) return known.file;
    const file = new PythonFile(found.root, found.path, this);
    this.files.set(found.path, { version: found.version, file });
    return file;
  }
}

class PythonFile {
  readonly classes = new Map<string, ClassInfo>();
  readonly functions = new Map<string, Node>();
  readonly annotations: InputAnnotations;
  /** Imports and module-level statements, which every model's evaluation starts from. */
  readonly preamble: Node[] = [];
  /** `from module import name as alias`, by alias, with the module's leading dots counted. */
  readonly fromImports = new Map<string, { module: string; level: number; name: string }>();

  constructor(
    readonly root: Node,
    /** Undefined for the file analysed when it has no path (an unsaved editor). */
    readonly path: string | undefined,
    readonly program: Program,
  ) {
    for (const child of root.namedChildren) {
      if (!child) continue;
      const type = child.type;
      if (type === 'import_statement' || type === 'import_from_statement' || type === 'expression_statement') this.preamble.push(child);
      // A module-level loop that defines names (`setattr(sys.modules[__name__], name, partial(...))`); never a training loop.
      if (type === 'for_statement' && callsSetattr(child)) this.preamble.push(child);
      if (type === 'import_from_statement') this.noteImport(child);
      const definition = type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      const definitionType = definition?.type;
      if (definition && definitionType === 'class_definition') {
        const name = definition.childForFieldName('name')?.text;
        const bases = (definition.childForFieldName('superclasses')?.namedChildren ?? []).filter((b): b is Node => b !== null && b.type !== 'keyword_argument').map((b) => b.text);
        const dataclass = type === 'decorated_definition' && child.namedChildren.some((d) => d?.type === 'decorator' && /^@(dataclasses\.)?dataclass\b/.test(d.text));
        const cls = new ClassInfo(name ?? '', definition, this, bases, dataclass);
        if (name) this.classes.set(name, cls);
      } else if (definition && definitionType === 'function_definition') {
        const name = definition.childForFieldName('name')?.text;
        if (name) this.functions.set(name, definition);
      }
    }
    this.annotations = new InputAnnotations(root);
  }

  noteImport(statement: Node): void {
    const source = statement.childForFieldName('module_name');
    const prefix = source?.type === 'relative_import' ? source.namedChildren.find((c) => c?.type === 'import_prefix') : undefined;
    const module = source?.type === 'relative_import' ? (source.namedChildren.find((c) => c?.type === 'dotted_name')?.text ?? '') : (source?.text ?? '');
    const level = prefix?.text.length ?? 0;
    for (const item of statement.childrenForFieldName('name')) {
      const name = item?.type === 'aliased_import' ? item.childForFieldName('name')?.text : item?.text;
      const alias = item?.type === 'aliased_import' ? item.childForFieldName('alias')?.text : item?.text;
      if (name && alias) this.fromImports.set(alias, { module, level, name });
    }
  }

  /** The file a name was imported from, and its name there. */
  importedFile(alias: string): { file: PythonFile; name: string } | undefined {
    const imported = this.fromImports.get(alias);
    const file = imported ? this.program.file(imported.module, imported.level, this) : undefined;
    return file && imported ? { file, name: imported.name } : undefined;
  }

  /** A class by the name this file knows it by: its own, or one imported (through re-exports too). */
  resolveClass(name: string, depth = 0): ClassInfo | undefined {
    const own = this.classes.get(name);
    if (own || depth > 8) return own;
    const imported = this.importedFile(name);
    return imported?.file.resolveClass(imported.name, depth + 1);
  }

  /** C3 linearization, as Python orders a class's bases; bases outside the program drop out of it. */
  linearize(cls: ClassInfo, visiting: Set<ClassInfo>): ClassInfo[] {
    if (visiting.has(cls)) return [cls]; // a cycle, which Python itself would refuse
    const parents = cls.bases.map((b) => cls.file.resolveClass(b)).filter((c): c is ClassInfo => c !== undefined && c !== cls);
    const lists = [...parents.map((p) => p.file.linearize(p, new Set([...visiting, cls]))), parents];
    const result = [cls];
    while (lists.some((l) => l.length > 0)) {
      const head = lists.find((l) => l.length > 0 && !lists.some((other) => other.indexOf(l[0] as ClassInfo) > 0))?.[0];
      // An inconsistent order (a TypeError in Python): keep the depth-first order instead of failing.
      const next = head ?? lists.find((l) => l.length > 0)?.[0];
      if (!next) break;
      result.push(next);
      for (const l of lists) while (l.includes(next)) l.splice(l.indexOf(next), 1);
    }
    return result.filter((c, i) => result.indexOf(c) === i);
  }

  /** The torch.nn class a class of this file derives from directly (`Module`, `Sequential`, `Conv2d`), if any. */
  torchBase(cls: ClassInfo): string | undefined {
    for (const text of cls.bases) {
      if (this.resolveClass(text)) continue;
      const name = text.replace(/^(torch\.)?nn\./, '');
      if (name !== text || name in containerKinds || name === 'Module' || torchLayers.has(name)) return name;
    }
    return undefined;
  }

  /** Classes deriving from an nn.Module class, directly or through other classes of the file. */
  moduleClasses(): ClassInfo[] {
    return [...this.classes.values()].filter((cls) => cls.torchBases.length > 0);
  }

  /** `name = Callee(...)` at module level, with the call that builds the value and its callee as written. */
  topLevelAssignments(): { name: string; nameNode: Node; value: Node; built: Node; callee: string }[] {
    const result: { name: string; nameNode: Node; value: Node; built: Node; callee: string }[] = [];
    for (const statement of this.root.namedChildren) {
      const assignment = statement?.type === 'expression_statement' ? statement.namedChildren[0] : null;
      const left = assignment?.childForFieldName('left');
      const right = assignment?.childForFieldName('right');
      if (assignment?.type === 'assignment' && left?.type === 'identifier' && right?.type === 'call') {
        // `Net(...).to(device)` is built by its first call.
        let built = right;
        for (let fn = built.childForFieldName('function'); fn?.type === 'attribute' && returnsSelf.has(fn.childForFieldName('attribute')?.text ?? '') && fn.childForFieldName('object')?.type === 'call'; fn = built.childForFieldName('function')) {
          built = fn.childForFieldName('object') as Node;
        }
        result.push({ name: left.text, nameNode: left, value: right, built, callee: built.childForFieldName('function')?.text ?? '' });
      }
    }
    return result;
  }

  /** Whether the class's __init__ has a parameter without a default, so that `Cls()` would fail. */
  needsArguments(cls: ClassInfo): boolean {
    const init = cls.findMethod('__init__');
    return (init?.node.childForFieldName('parameters')?.namedChildren ?? []).slice(1).some((p) => p !== null && parameterKind(p) === 'required');
  }

  /** Module-level functions callable with no arguments that return something: candidates for model factories. */
  factories(): Node[] {
    return [...this.functions.values()].filter((fn) => {
      const required = (fn.childForFieldName('parameters')?.namedChildren ?? []).some((p) => p !== null && parameterKind(p) === 'required');
      return !required && (returnsValue(fn.childForFieldName('body')) || isDeclaration(fn.childForFieldName('body')));
    });
  }

  analyze(
    options: AnalysisOptions,
    kind: ModelReport['kind'],
    name: string,
    nameNode: Node,
    extent: Node,
    build: string | undefined,
    construct: (analysis: Analysis) => Value,
  ): { report: ModelReport; used: Set<ClassInfo> } {
    const analysis = new Analysis(this, options.stepBudget ?? 200_000);
    const diagnostics: AnalysisDiagnostic[] = [];
    let model: Value;
    try {
      model = construct(analysis);
    } catch (error) {
      model = analysis.failure(error, extent);
    }
    const report: ModelReport = {
      name,
      kind,
      ...(build === undefined ? {} : { build }),
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
      report.complete = false;
      report.paramsKnown = false;
      report.incomplete = [...incompleteness(analysis, undefined), { range: rangeOf(nameNode), reason: report.outputNote }];
      return { report, used: analysis.used };
    }
    // named_modules() calls the model itself ''; it is a leaf only when it has no children (a Swish, a Conv2d subclass).
    model.path = '';
    assignPaths(model, '');
    const annotated = options.input ? undefined : this.annotations.for(extent);
    const inferred = options.input || annotated ? undefined : firstLayerInput(model);
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
    // A forward that returns a tuple (a VAE's reconstruction, mean and log-variance) is shown by its first tensor, as torchinfo does.
    const first = Array.isArray(output) ? output.find((v) => v instanceof Tensor) : undefined;
    if (first instanceof Tensor && Array.isArray(output)) {
      report.output = first.shape;
      report.outputNote = `forward returns ${output.length} values; the first tensor is shown`;
    } else if (output instanceof Tensor) {
      report.output = output.shape;
      if (output.reason) report.outputNote = output.reason;
    } else {
      report.outputNote = output instanceof Unknown ? output.reason : 'forward does not return one tensor';
    }
    // After the forward pass: lazy layers know their parameters only then.
    report.totalParams = report.trainableParams = totalParams(model);
    report.layers = layerReports(model, analysis.calls);
    diagnostics.push(...analysis.diagnostics.values(), ...layerDiagnostics(analysis.calls));
    report.incomplete = incompleteness(analysis, model);
    // Where PyTorch would raise, the numbers after it are the analysis' best guess, not PyTorch's.
    for (const diagnostic of diagnostics) if (diagnostic.severity === 'error') report.incomplete.push({ range: diagnostic.range, reason: `${diagnostic.message}: PyTorch would raise here` });
    if (report.output === null || report.output.includes(null)) report.incomplete.push({ range: rangeOf(nameNode), reason: `its output is ${report.output ? 'only partly known' : 'not known'}: ${report.outputNote ?? 'see its layers'}` });
    for (const layer of report.layers) {
      if ((layer.out === null || layer.out.includes(null)) && layer.note !== 'not called in forward') report.incomplete.push({ range: layer.range, reason: `${layer.name}: ${layer.note ?? 'its output is not known'}` });
    }
    report.incomplete = dedupeIncompleteness(report.incomplete);
    report.complete = report.incomplete.length === 0;
    report.paramsKnown = ![...analysis.losses.values()].some((l) => l.phase === 'build') && uniqueModules(model).every((m) => paramsKnown(m));
    return { report, used: analysis.used };
  }
}

/** What the evaluation lost, and the modules whose parameters it could not count, in the order of the file. */
function incompleteness(analysis: Analysis, model: Module | undefined): Incompleteness[] {
  const found: Incompleteness[] = [...analysis.losses.values()].map((l) => ({ range: rangeOf(l.node), reason: l.reason }));
  for (const module of model ? uniqueModules(model) : []) {
    if (!paramsKnown(module)) found.push({ range: rangeOf(module.site), reason: `${module.path || module.type}: ${module.options.unknown ?? 'a parameter of unknown size'}` });
  }
  // The causes in the order of the file; what they made unknown (the output, a layer's shape) is added after them.
  return found.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

function dedupeIncompleteness(found: Incompleteness[]): Incompleteness[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.range.start.line}:${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Whether a module's own parameters are counted: a torch.nn layer the analysis built, or a module of the program with known nn.Parameters. */
function paramsKnown(module: Module): boolean {
  if (!module.options.spec && module.options.unknown) return false;
  return [...module.parameters.values()].every((elements) => elements !== null);
}

/** How a parameter binds: `x` and `x: int` are required, `*args: Any` is a splat despite its annotation. */
function parameterKind(parameter: Node): 'required' | 'default' | 'args' | 'kwargs' | 'separator' {
  const type = parameter.type === 'typed_parameter' ? (parameter.namedChildren[0]?.type ?? '') : parameter.type;
  if (type === 'list_splat_pattern') return 'args';
  if (type === 'dictionary_splat_pattern') return 'kwargs';
  if (type === 'identifier') return 'required';
  if (type === 'default_parameter' || type === 'typed_default_parameter') return 'default';
  return 'separator';
}

interface ClassBody {
  methods: Map<string, Node>;
  attributes: Map<string, Node>;
  staticMethods: Set<string>;
  classMethods: Set<string>;
  /** Methods decorated @property, run when read. */
  properties: Set<string>;
  fields: { name: string; value: Node | null }[] | undefined;
}

function readClassBody(definition: Node, dataclass: boolean): ClassBody {
  const body: ClassBody = { methods: new Map(), attributes: new Map(), staticMethods: new Set(), classMethods: new Set(), properties: new Set(), fields: undefined };
  const fields: { name: string; value: Node | null }[] = [];
  for (const item of definition.childForFieldName('body')?.namedChildren ?? []) {
    const fn = item?.type === 'decorated_definition' ? item.childForFieldName('definition') : item;
    const fnName = fn?.type === 'function_definition' ? fn.childForFieldName('name')?.text : undefined;
    if (fn && fnName) {
      body.methods.set(fnName, fn);
      const decorators = item?.type === 'decorated_definition' ? item.namedChildren.filter((d) => d?.type === 'decorator').map((d) => d?.text) : [];
      if (decorators.includes('@staticmethod')) body.staticMethods.add(fnName);
      if (decorators.includes('@classmethod')) body.classMethods.add(fnName);
      if (decorators.includes('@property')) body.properties.add(fnName);
    }
    const assignment = item?.type === 'expression_statement' ? item.namedChildren[0] : null;
    const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
    const value = assignment?.childForFieldName('right');
    if (target?.type === 'identifier' && value) body.attributes.set(target.text, value);
    if (target?.type === 'identifier' && assignment?.childForFieldName('type')) fields.push({ name: target.text, value: value ?? null });
  }
  if (dataclass) body.fields = fields;
  return body;
}


/** The names `x = …` or `a, (b, c) = …` sets; undefined when it sets anything else (`model.fc = …`, `x[0] = …`). */
function assignedNames(target: Node): string[] | undefined {
  if (target.type === 'identifier') return [target.text];
  if (target.type !== 'pattern_list' && target.type !== 'tuple_pattern' && target.type !== 'list_pattern') return undefined;
  const names: string[] = [];
  for (const item of target.namedChildren) {
    const inner = item ? assignedNames(item) : undefined;
    if (!inner) return undefined;
    names.push(...inner);
  }
  return names;
}

/** A body of only `pass` or `...` (and a docstring): a declaration whose function is defined elsewhere, by setattr. */
function isDeclaration(block: Node | null): boolean {
  const statements = block?.namedChildren.filter((s) => s !== null && s.type !== 'comment') ?? [];
  return statements.length > 0 && statements.every((s) => s?.type === 'pass_statement' || (s?.type === 'expression_statement' && (s.namedChildren[0]?.type === 'ellipsis' || s.namedChildren[0]?.type === 'string')));
}

function callsSetattr(node: Node): boolean {
  return node.descendantsOfType('call').some((call) => call?.childForFieldName('function')?.text === 'setattr');
}

function containsCall(node: Node | null): boolean {
  return node !== null && (node.type === 'call' || node.descendantsOfType('call').length > 0);
}

/** Whether a function body has a `return value` of its own (not one of a nested function's). */
function returnsValue(block: Node | null): boolean {
  for (const statement of block?.namedChildren ?? []) {
    const type = statement?.type;
    if (!statement || type === 'function_definition' || type === 'class_definition' || type === 'decorated_definition') continue;
    if (type === 'return_statement' && statement.namedChildren.length > 0) return true;
    if (type !== 'expression_statement' && statement.namedChildren.some((child) => child !== null && child.type === 'block' && returnsValue(child))) return true;
    for (const field of ['consequence', 'alternative', 'body']) {
      for (const child of statement.childrenForFieldName(field)) {
        if (child && (child.type === 'block' ? returnsValue(child) : returnsValue(child.childForFieldName('body') ?? child.childForFieldName('consequence')))) return true;
      }
    }
  }
  return false;
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

/** named_modules(): each module once, depth first, named by its path below `root` ('' for root itself). */
function namedModules(root: Module): [string, Module][] {
  const seen = new Set<Module>();
  const result: [string, Module][] = [];
  const visit = (module: Module, path: string) => {
    if (seen.has(module)) return;
    seen.add(module);
    result.push([path, module]);
    for (const [name, child] of module.children) visit(child, path ? `${path}.${name}` : name);
  };
  visit(root, '');
  return result;
}

/** named_parameters(): each module's parameters, as tensors that know whose they are (their sizes are counted by the module). */
function namedParameters(root: Module): [string, Tensor][] {
  const result: [string, Tensor][] = [];
  for (const [path, module] of namedModules(root)) {
    const names = [...(module.options.spec ? specParameterNames(module.options.spec) : []), ...module.parameters.keys()].filter((n) => !module.tied.has(n));
    for (const name of names) result.push([path ? `${path}.${name}` : name, new Tensor(null, `${module.type}.${name}`, true, { module, name })]);
  }
  return result;
}

/** A layer's parameter names as PyTorch registers them. */
function specParameterNames(spec: LayerSpec): string[] {
  if (paramCount(spec) === 0) return [];
  const withBias = (bias: boolean) => (bias ? ['weight', 'bias'] : ['weight']);
  switch (spec.kind) {
    case 'conv':
    case 'linear':
      return withBias(spec.bias);
    case 'batchNorm':
    case 'groupNorm':
      return ['weight', 'bias'];
    case 'layerNorm':
      return withBias(spec.bias);
    default:
      return ['weight'];
  }
}

/** A layer's constructor arguments as its attributes: `conv.out_channels`, `fc.in_features`, `m.kernel_size`. */
function specField(spec: LayerSpec, name: string): Value | undefined {
  // A layer built without a bias (or an affine transform) has None in its place.
  if ((spec.kind === 'conv' || spec.kind === 'linear') && name === 'bias' && !spec.bias) return null;
  if (spec.kind === 'batchNorm' && (name === 'weight' || name === 'bias') && !spec.affine) return null;
  if (spec.kind === 'conv') {
    const fields: Record<string, Value> = { in_channels: spec.inChannels, out_channels: spec.outChannels, kernel_size: spec.kernel, stride: spec.stride, padding: spec.padding, dilation: spec.dilation, groups: spec.groups };
    return fields[name];
  }
  if (spec.kind === 'linear') return ({ in_features: spec.inFeatures, out_features: spec.outFeatures } as Record<string, Value>)[name];
  if (spec.kind === 'batchNorm') return ({ num_features: spec.features, affine: spec.affine } as Record<string, Value>)[name];
  if (spec.kind === 'embedding') return ({ num_embeddings: spec.count, embedding_dim: spec.dim } as Record<string, Value>)[name];
  return undefined;
}

/** A module's own parameters (not its children's), as `parameters(recurse=False)` counts them. */
function ownParams(module: Module): number {
  const spec = module.options.spec;
  let count = spec ? paramCount(spec) : 0;
  for (const elements of module.parameters.values()) count += elements ?? 0;
  for (const name of module.tied) count -= spec ? (layerParameterSize(spec, name) ?? 0) : 0;
  return count;
}

/** The elements of a layer's `weight` or `bias`, for the layers whose parameters are tied in practice. */
function layerParameterSize(spec: LayerSpec, name: string): number | undefined {
  if (spec.kind === 'linear') return name === 'weight' ? spec.inFeatures * spec.outFeatures : name === 'bias' && spec.bias ? spec.outFeatures : undefined;
  if (spec.kind === 'conv') return name === 'bias' ? (spec.bias ? spec.outChannels : undefined) : name === 'weight' ? paramCount(spec) - (spec.bias ? spec.outChannels : 0) : undefined;
  if (spec.kind === 'embedding') return name === 'weight' ? spec.count * spec.dim : undefined;
  return undefined;
}

/** Each module once, as model.parameters() counts a shared layer once. */
function totalParams(root: Module): number {
  return uniqueModules(root).reduce((sum, m) => sum + ownParams(m), 0);
}

/** A leaf as named_modules() sees it: no children. An empty nn.Sequential() (an identity shortcut) is one, and so is a module of the file without submodules. */
function isLeaf(module: Module): boolean {
  return module.children.size === 0;
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
    range: rangeOf(module.site),
    in: call?.in ?? null,
    out: call?.out ?? null,
    params: ownParams(module),
    ...(module.options.spec ? { spec: module.options.spec } : {}),
    ...(call?.note ? { note: call.note } : call ? {} : { note: module.options.unknown ?? 'not called in forward' }),
    ...(call?.error ? { error: call.error } : {}),
  });
  // A module made and called inside forward (`nn.AvgPool2d(2)(x)`) is no submodule: PyTorch's hooks never see it.
  const tree = new Set(uniqueModules(root));
  for (const [module, call] of calls) if (tree.has(module)) reports.push(report(module, call));
  for (const module of uniqueModules(root)) if (module !== root && isLeaf(module) && !calls.has(module) && !module.options.opaque) reports.push(report(module, undefined));
  return reports;
}

/** The argument a quick fix should rewrite when a layer receives another size than it declares. */
const fixableArgument: Partial<Record<LayerSpec['kind'], string>> = { linear: 'in_features', conv: 'in_channels', batchNorm: 'num_features' };

function layerDiagnostics(calls: Map<Module, LayerCall>): AnalysisDiagnostic[] {
  const diagnostics: AnalysisDiagnostic[] = [];
  for (const call of calls.values()) {
    if (!call.error) continue;
    const { module } = call;
    const diagnostic: AnalysisDiagnostic = { range: rangeOf(module.site), message: `${module.path ?? module.type}: ${call.error}`, severity: 'error' };
    // A layer built in an imported file is fixed there, not at the call that led to it.
    const argument = module.options.spec && module.site === module.node ? fixableArgument[module.options.spec.kind] : undefined;
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
  // A layer given to another (a TransformerEncoder's layer) is passed as its spec.
  if (value instanceof Module && value.options.spec) return new ModuleArg(value.type, value.options.spec);
  throw new Unknown(value instanceof Unknown ? value.reason : `${what} is not a constant`);
}

/** Python's truth of a value; undefined when it is not known (a tensor's depends on its values). */
function truthy(value: Value): boolean | undefined {
  if (value instanceof Unknown) return undefined;
  if (value instanceof Tensor) return value.values?.data.length === 1 ? value.values.data[0] !== 0 : undefined;
  if (value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Dict) return value.entries.size > 0;
  // nn.Sequential, ModuleList and ModuleDict have a length (an empty shortcut is false); other modules have none.
  if (value instanceof Module && value.options.container) return value.children.size > 0;
  return true;
}

/** Why a condition or an iterable is not known, for the report. */
function unknownReason(value: Value): string {
  if (value instanceof Unknown) return value.reason;
  if (value instanceof Tensor) return 'the truth of a tensor depends on its values';
  return `${describeValue(value)} cannot be iterated`;
}

function describeValue(value: Value): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a sequence';
  if (typeof value !== 'object') return `the ${typeof value} ${String(value)}`;
  if (value instanceof Module) return `a ${value.type}`;
  return 'the value';
}

/** What a for loop would go through, or undefined when that is not known. */
function iterate(value: Value): Value[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Module && value.options.container) return value.options.container === 'dict' ? [...value.children.keys()] : [...value.children.values()];
  if (value instanceof Dict) return [...value.entries.keys()];
  if (typeof value === 'string') return [...value];
  return undefined;
}

/** Basic indexing of a tensor: ints drop a dimension, slices keep it, None adds one, `...` stands for the rest. */
function indexTensor(tensor: Tensor, indices: Index[]): Value {
  const shape = tensor.shape;
  if (!shape) return tensor;
  const flat = indices.length === 1 && Array.isArray(indices[0]) ? (indices[0] as Index[]) : indices;
  const consumed = flat.filter((i) => i !== null && i !== 'ellipsis').length;
  if (consumed > shape.length) return new Tensor(null, `too many indices for a tensor of ${shape.length} dimensions`);
  const result: Dim[] = [];
  let dim = 0;
  for (const index of flat) {
    if (index === null) result.push(1);
    else if (index === 'ellipsis') {
      const rest = shape.length - consumed;
      result.push(...shape.slice(dim, dim + rest));
      dim += rest;
    } else if (index instanceof Slice) {
      const length = shape[dim++] ?? null;
      result.push(length === null ? null : index.indices(length).length);
    } else if (typeof index === 'number' || typeof index === 'boolean') dim++;
    else if (index instanceof Tensor) return new Tensor(null, 'indexing with a tensor is not analysed');
    else return new Tensor(null, 'an index that is not known');
  }
  return new Tensor([...result, ...shape.slice(dim)], tensor.reason);
}

/** Element-wise arithmetic of tensors of known values with each other or with numbers, as torch's types promote: ints stay ints, except under `/`. */
function valueArithmetic(operator: string, a: Value, b: Value): Tensor | undefined {
  const side = (v: Value) => (v instanceof Tensor && v.values ? v.values : typeof v === 'number' ? { data: [v], float: !Number.isInteger(v), scalar: true } : undefined);
  const x = side(a);
  const y = side(b);
  if (!x || !y || (!(a instanceof Tensor) && !(b instanceof Tensor))) return undefined;
  const length = Math.max(x.data.length, y.data.length);
  if ((x.data.length !== length && x.data.length !== 1) || (y.data.length !== length && y.data.length !== 1)) return undefined;
  // A Python number does not make an int tensor float unless it is a float itself.
  const float = x.float || y.float || operator === '/';
  const apply = (p: number, q: number): number => {
    switch (operator) {
      case '+':
        return p + q;
      case '-':
        return p - q;
      case '*':
        return p * q;
      case '/':
        return p / q;
      case '//':
        return Math.floor(p / q);
      case '**':
        return p ** q;
      default:
        return NaN;
    }
  };
  // In float32, as torch computes it: the operands rounded to float32 first.
  const operand = (v: number) => (float ? Math.fround(v) : v);
  const data = Array.from({ length }, (_, i) => apply(operand(x.data[x.data.length === 1 ? 0 : i] as number), operand(y.data[y.data.length === 1 ? 0 : i] as number)));
  return data.some(Number.isNaN) ? undefined : Tensor.of(data, float);
}

/** torch.arange(...) and torch.tensor([...]) of numbers: a tensor of known values (10,000 at most). */
function valuesTensor(name: string, args: Value[]): Value {
  if (name === 'tensor') {
    const [data] = args;
    if (Array.isArray(data) && data.length <= 10_000 && data.every((d) => typeof d === 'number')) return Tensor.of(data as number[], !(data as number[]).every(Number.isInteger));
    return Array.isArray(data) && data.every((d) => typeof d === 'number' || Array.isArray(d)) ? new Tensor(tensorShapeOf(data)) : new Tensor(null, 'torch.tensor of values that are not known');
  }
  const numbers = args.filter((a): a is number => typeof a === 'number');
  if (numbers.length !== args.length || numbers.length === 0 || numbers.length > 3) return new Tensor(null, 'torch.arange of bounds that are not known');
  const [start, end, step = 1] = numbers.length === 1 ? [0, numbers[0] as number] : numbers;
  const length = Math.max(0, Math.ceil(((end as number) - (start as number)) / step));
  if (step === 0 || length > 10_000) return new Tensor([length]);
  return Tensor.of(Array.from({ length }, (_, i) => (start as number) + i * step), !numbers.every(Number.isInteger));
}

/** An array or tensor made of nested lists of numbers or of arrays (`np.array([filter_1, filter_2])`), or of an array: its shape. */
function arrayTensor(data: Value, path: string): Tensor {
  if (data instanceof Tensor) return new Tensor(data.shape, data.reason);
  const shape = Array.isArray(data) ? nestedShape(data) : undefined;
  return shape ? new Tensor(shape) : new Tensor(null, `${path} of values that are not known`);
}

/** [[1, 2], [3, 4]] and [array of [2], array of [2]] are [2, 2]; undefined when the items differ or are not known. */
function nestedShape(data: Value): Dim[] | undefined {
  if (typeof data === 'number' || typeof data === 'boolean') return [];
  if (data instanceof Tensor) return data.shape ? [...data.shape] : undefined;
  if (!Array.isArray(data)) return undefined;
  const items = data.map(nestedShape);
  const [first] = items;
  if (data.length > 0 && (!first || items.some((shape) => !shape || shape.length !== first.length || shape.some((d, i) => d !== first[i])))) return undefined;
  return [data.length, ...(first ?? [])];
}

/** The shape of nested lists: [[1, 2], [3, 4]] is [2, 2]. */
function tensorShapeOf(data: Value): Dim[] {
  return Array.isArray(data) ? [data.length, ...(data.length > 0 ? tensorShapeOf(data[0] as Value) : [])] : [];
}

/** torch.round: halves to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** Functions of tensors of known values, element by element, in float32. */
const valueFunctions = new Map<string, (x: number) => number>([
  ['log', Math.log],
  ['exp', Math.exp],
  ['sqrt', Math.sqrt],
  ['round', roundHalfEven],
  ['floor', Math.floor],
  ['ceil', Math.ceil],
  ['abs', Math.abs],
]);

/** chunk, split, tensor_split and unbind: the pieces along one dimension. */
function splitTensor(name: string, tensor: Tensor, shape: Shape, how: Value, dimValue: Value): Value {
  if (typeof dimValue !== 'number') return new Unknown(`${name} along a dimension that is not known`);
  const dim = normalizeDim(dimValue, shape.length);
  const length = shape[dim];
  if (length === undefined) return new Unknown(`${name} along dimension ${dimValue} of ${formatShape(shape)}`);
  const piece = (size: Dim) => new Tensor(shape.map((d, i) => (i === dim ? size : d)), tensor.reason);
  if (name === 'unbind') return length === null ? new Unknown('unbind of a dimension that is not known') : Array.from({ length }, () => new Tensor(shape.filter((_, i) => i !== dim), tensor.reason));
  if (Array.isArray(how)) {
    if (!how.every((n) => typeof n === 'number')) return new Unknown(`${name} into sizes that are not known`);
    // split takes the sizes; tensor_split the indices to cut at.
    if (name === 'split') return (how as number[]).map((size) => piece(size));
    if (length === null) return new Unknown(`${name} of a dimension that is not known`);
    const cuts = [0, ...(how as number[]).map((i) => Math.min(Math.max(i < 0 ? i + length : i, 0), length)), length];
    return cuts.slice(1).map((end, i) => piece(Math.max(0, end - (cuts[i] as number))));
  }
  if (typeof how !== 'number' || how <= 0 || length === null) return new Unknown(`${name} into pieces that are not known`);
  if (name === 'split') return Array.from({ length: Math.ceil(length / how) }, (_, i) => piece(Math.min(how, length - i * how)));
  if (name === 'chunk') {
    const size = Math.ceil(length / how);
    return Array.from({ length: Math.ceil(length / size) }, (_, i) => piece(Math.min(size, length - i * size)));
  }
  return Array.from({ length: how }, (_, i) => piece(Math.floor(length / how) + (i < length % how ? 1 : 0)));
}

/**
 * One field of an f-string or str.format: `!r`/`!s`, then a format spec of the kinds names and
 * sizes are written with (`03d`, `>4`, `.2f`, `x`); undefined when the value or the spec is not known.
 */
function formatField(value: Value, spec: string, conversion: string): string | undefined {
  let text: string;
  if (typeof value === 'string') text = conversion === '!r' ? `'${value}'` : value;
  else if (typeof value === 'number') text = Number.isInteger(value) || conversion ? String(value) : pythonFloat(value);
  else if (typeof value === 'boolean' || value === null) text = value === null ? 'None' : value ? 'True' : 'False';
  else return undefined;
  if (spec === '') return text;
  const parsed = /^(?:(.)?([<>^=]))?([+\- ])?(#)?(0)?(\d+)?(,|_)?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!parsed) return undefined;
  const [, fill = ' ', align, , , zero, widthText, grouping, precisionText, type] = parsed;
  if (typeof value === 'number') {
    const precision = precisionText === undefined ? undefined : Number(precisionText);
    switch (type) {
      case 'd':
      case 'n':
        if (!Number.isInteger(value)) return undefined;
        text = String(value);
        break;
      case 'f':
      case 'F':
        text = value.toFixed(precision ?? 6);
        break;
      case 'e':
        text = value.toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        break;
      case 'x':
      case 'X':
        text = Number.isInteger(value) ? value.toString(16) : '';
        if (type === 'X') text = text.toUpperCase();
        break;
      case 'b':
        text = value.toString(2);
        break;
      case '%':
        text = `${(value * 100).toFixed(precision ?? 6)}%`;
        break;
      case undefined:
      case 'g':
        if (precision !== undefined) return undefined;
        break;
      default:
        return undefined;
    }
    if (grouping) text = text.replace(/^(-?\d+)/, (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, grouping));
  } else if (type !== undefined && type !== 's') return undefined;
  const width = widthText === undefined ? 0 : Number(widthText);
  if (text.length >= width) return text;
  const pad = (zero && !align ? '0' : fill).repeat(width - text.length);
  const alignment = align ?? (zero ? '=' : typeof value === 'number' ? '>' : '<');
  if (alignment === '<') return text + pad;
  if (alignment === '^') return pad.slice(0, Math.floor(pad.length / 2)) + text + pad.slice(Math.floor(pad.length / 2));
  if (alignment === '=' && text.startsWith('-')) return `-${pad}${text.slice(1)}`;
  return pad + text;
}

/** str() of a float as Python writes it: `1.0`, `0.5`, `1e-05`. */
function pythonFloat(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  const text = String(value);
  if (/e/.test(text)) return text.replace(/e([+-])(\d)$/, 'e$10$2');
  return text;
}

/** printf-style `'layer%d' % (i + 1)`, for the conversions names are made with. */
function percentFormat(format: string, args: Value[]): Value {
  let next = 0;
  let failed = false;
  const text = format.replace(/%(\d*)([disr%])/g, (_, width: string, conversion: string) => {
    if (conversion === '%') return '%';
    const value = args[next++];
    if (typeof value === 'number' && (conversion === 'd' || conversion === 'i')) return String(Math.trunc(value)).padStart(Number(width || 0), '0');
    if (typeof value === 'number' || typeof value === 'string') return String(value);
    failed = true;
    return '';
  });
  return failed || next !== args.length ? new Unknown(`the formatted string \`${format}\` is not known`) : text;
}

/** copy.copy and copy.deepcopy: a module keeps its layers' specs (never changed in place), its children are copied too when deep. */
function copyValue(value: Value, deep: boolean): Value {
  if (Array.isArray(value)) return deep ? value.map((v) => copyValue(v, true)) : [...value];
  if (value instanceof Dict) return new Dict(new Map([...value.entries].map(([k, v]) => [k, deep ? copyValue(v, true) : v])));
  if (!(value instanceof Module)) return value;
  const copy = new Module(value.type, value.node, { ...value.options });
  copy.site = value.site;
  for (const [name, child] of value.children) copy.children.set(name, deep ? (copyValue(child, true) as Module) : child);
  for (const [name, attribute] of value.attributes) copy.attributes.set(name, deep ? copyValue(attribute, true) : attribute);
  for (const [name, elements] of value.parameters) copy.parameters.set(name, elements);
  return copy;
}

/** A layer's tuple output as values: shapes become tensors, None stays None. */
function tupleOf(tree: OutputTree, reason: string | undefined): Value {
  if (tree === null) return null;
  const isShape = tree.length > 0 && tree.every((d) => d === null || typeof d === 'number');
  if (isShape) return new Tensor(tree as Shape, reason);
  return (tree as OutputTree[]).map((t) => tupleOf(t, reason));
}

function asTensor(value: Value): Tensor {
  return value instanceof Tensor ? value : new Tensor(null, value instanceof Unknown ? value.reason : 'the input is not a tensor');
}

function reasonOf(value: Value): string {
  return value instanceof Unknown ? value.reason : value instanceof Tensor ? (value.reason ?? 'its output is only partly known') : 'its output is not a tensor';
}

/** An input of unknown shape as a layer sees it: its rank, when the layer fixes it, with every size unknown. */
function unknownInputOf(spec: LayerSpec): Shape | null {
  switch (spec.kind) {
    case 'conv':
    case 'pool':
    case 'adaptivePool':
      return Array.from({ length: spec.rank + 2 }, () => null);
    case 'batchNorm':
      return Array.from({ length: spec.rank === 1 ? 2 : spec.rank + 2 }, () => null);
    // Flatten then Linear is by far the usual order.
    case 'linear':
      return [null, null];
    default:
      return null;
  }
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
  readonly globals: Scope;
  readonly calls = new Map<Module, LayerCall>();
  readonly diagnostics = new Map<number, AnalysisDiagnostic>();
  /** The file's classes this analysis instantiated or read, which its cached report depends on. */
  readonly used = new Set<ClassInfo>();
  /** Where the evaluation lost track, and in which phase: building the model (its parameters may be missing) or its forward pass. */
  readonly losses = new Map<string, { node: Node; reason: string; phase: 'build' | 'forward' }>();
  phase: 'build' | 'forward' = 'build';
  /** While a file's module-level statements run for every model: what they lose is lost only when a model reads it. */
  private quiet = 0;
  private steps = 0;
  private depth = 0;
  /** Each file's module-level names, made when the file is first needed. */
  private readonly moduleGlobals = new Map<PythonFile, Scope>();
  /** Builtins that need the analysis itself. */
  private readonly reflection: Map<string, Value>;
  /** While code of an imported file runs: the call in the file analysed that led there, where its layers are shown. */
  private site: Node | undefined;

  constructor(
    private readonly file: PythonFile,
    private readonly budget: number,
  ) {
    this.reflection = new Map<string, Value>([
      [
        'getattr',
        new Callable('getattr', ([owner, name, fallback], _keywords, node) => {
          if (typeof name !== 'string' || owner === undefined) return new Unknown('getattr() of a name that is not known');
          const found = this.attribute(owner, name, node);
          return found instanceof Unknown && fallback !== undefined ? fallback : found;
        }),
      ],
      ['globals', new Callable('globals', () => new Namespace(this.globals))],
      [
        'hasattr',
        new Callable('hasattr', ([owner, name], _keywords, node) => {
          if (typeof name !== 'string' || owner === undefined) return new Unknown('hasattr() of a name that is not known');
          return owner instanceof Module || owner instanceof ClassInfo ? !(this.attribute(owner, name, node) instanceof Unknown) : new Unknown(`hasattr(${node.text}) is not known`);
        }),
      ],
      [
        'setattr',
        new Callable('setattr', ([owner, name, value], _keywords, node) => {
          if (owner instanceof Module && typeof name === 'string') this.setAttribute(owner, name, value ?? null, node);
          else if (owner instanceof Namespace && typeof name === 'string') this.bindGlobal(owner.scope, name, value ?? null);
          else if (owner instanceof Module || owner instanceof Namespace || owner instanceof Unknown) this.lose(node, `\`${node.text.slice(0, 60)}\` sets a name that is not known`);
          return null;
        }),
      ],
    ]);
    try {
      this.globals = this.globalsOf(file);
    } catch (error) {
      // Out of steps at module level: the model's own evaluation then stops at its first step, and says so.
      if (!(error instanceof BudgetExceeded)) throw error;
      this.globals = this.moduleGlobals.get(file) ?? { vars: new Map() };
    }
  }

  /**
   * A file's module-level scope: its classes and functions, then its statements in order. A name
   * assigned from a call (`model = Net()`, a weights table) is evaluated only when read, as are all
   * of an imported file's names: none of that is the analysed model's business until it is.
   */
  private globalsOf(file: PythonFile): Scope {
    let scope = this.moduleGlobals.get(file);
    if (scope) return scope;
    scope = { vars: new Map(), lazy: new Map() };
    scope.globals = scope;
    this.moduleGlobals.set(file, scope);
    const imported = file !== this.file;
    for (const [alias, path] of conventionalImports) scope.vars.set(alias, new Path(path));
    for (const cls of file.classes.values()) scope.vars.set(cls.name, cls);
    for (const [name, fn] of file.functions) {
      const decorators = fn.parent?.type === 'decorated_definition' ? fn.parent.namedChildren.filter((d): d is Node => d?.type === 'decorator') : [];
      const defined = new FunctionDef(fn, undefined, undefined, file);
      if (decorators.length === 0) scope.vars.set(name, defined);
      else scope.lazy?.set(name, () => this.decorate(decorators, defined, module));
    }
    const module = scope;
    this.quiet++;
    try {
      this.runPreamble(file, scope, module, imported);
    } finally {
      this.quiet--;
    }
    return scope;
  }

  private runPreamble(file: PythonFile, scope: Scope, module: Scope, imported: boolean): void {
    for (const statement of file.preamble) {
      const type = statement.type;
      if (type === 'import_statement' || type === 'import_from_statement') {
        this.importNames(statement, type, file, scope, imported);
        continue;
      }
      const assignment = statement.namedChildren[0];
      const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
      const value = assignment?.childForFieldName('right');
      const names = target ? assignedNames(target) : undefined;
      if (names && (imported || containsCall(value ?? null))) {
        // `a, b = model(image)` in a notebook's last cell is run only if a name it sets is read, and once.
        let ran = false;
        const run = () => {
          if (!ran) this.tryStatement(statement, module);
          ran = true;
        };
        for (const name of names) module.lazy?.set(name, () => (run(), module.vars.get(name) ?? null));
      } else if (!imported || type === 'for_statement') {
        this.tryStatement(statement, scope);
      }
    }
  }

  private bindGlobal(scope: Scope, name: string, value: Value): void {
    scope.vars.set(name, value);
    scope.lazy?.delete(name);
  }

  /** A module-level name, evaluating it first if its file is read lazily. */
  private globalValue(scope: Scope, name: string): Value | undefined {
    const pending = scope.lazy?.get(name);
    if (pending) {
      scope.lazy?.delete(name);
      scope.vars.set(name, new Unknown(`\`${name}\` refers to itself`));
      scope.vars.set(name, pending());
    }
    return scope.vars.get(name);
  }

  private fileOf(scope: Scope): PythonFile {
    for (const [file, globals] of this.moduleGlobals) if (globals === scope.globals) return file;
    return this.file;
  }

  /** A method found on a class, bound as Python binds it: to the instance, to the class (@classmethod) or to nothing (@staticmethod). */
  private method(found: { node: Node; owner: ClassInfo }, self: Module | undefined): Value {
    const name = found.node.childForFieldName('name')?.text ?? '';
    const fn = new FunctionDef(found.node, found.owner.staticMethods.has(name) ? undefined : self, found.owner, found.owner.file);
    if (found.owner.classMethods.has(name)) return new Callable(name, (args, keywords) => this.callFunction(new FunctionDef(found.node, undefined, found.owner, found.owner.file), [found.owner, ...args], keywords));
    return fn;
  }

  private importNames(statement: Node, type: string, file: PythonFile, scope: Scope, lazily: boolean): void {
    if (type === 'import_statement') {
      for (const item of statement.namedChildren) {
        if (item?.type === 'aliased_import') scope.vars.set(item.childForFieldName('alias')?.text ?? '', new Path(item.childForFieldName('name')?.text ?? ''));
        else if (item?.type === 'dotted_name') scope.vars.set(item.text.split('.')[0] ?? '', new Path(item.text.split('.')[0] ?? ''));
      }
      return;
    }
    const from = statement.childForFieldName('module_name')?.text ?? '';
    for (const item of statement.childrenForFieldName('name')) {
      if (!item) continue;
      const alias = item.type === 'aliased_import' ? item.childForFieldName('alias')?.text : item.text;
      const name = item.type === 'aliased_import' ? item.childForFieldName('name')?.text : item.text;
      if (!alias || !name) continue;
      const bind = () => this.imported(file, alias) ?? new Path(`${from}.${name}`);
      if (lazily) scope.lazy?.set(alias, bind);
      else scope.vars.set(alias, bind());
    }
  }

  /** A name imported from another file of the program, as that file defines it. */
  private imported(file: PythonFile, alias: string): Value | undefined {
    const source = file.importedFile(alias);
    if (!source) return undefined;
    return this.globalValue(this.globalsOf(source.file), source.name);
  }

  /** Where to show something made at `node`: there when it is in the file analysed, else at the call that led out of it. */
  private siteOf(node: Node): Node {
    return node.tree === this.file.root.tree ? node : (this.site ?? node);
  }

  private tick(): void {
    if (++this.steps > this.budget) throw new BudgetExceeded();
  }

  /**
   * Where the evaluation lost track of something the model may depend on: the report then says it
   * is incomplete, with this reason and line. Shown at the site in the file analysed; what happened
   * in an imported file names that file's line too.
   */
  lose(node: Node, reason: string): void {
    if (this.quiet > 0) return;
    const site = this.siteOf(node);
    const where = site === node ? '' : ` (${this.placeOf(node)})`;
    const text = `${reason}${where}`;
    const key = `${site.startIndex}\u0000${text}`;
    if (!this.losses.has(key)) this.losses.set(key, { node: site, reason: text, phase: this.phase });
  }

  /** What a failed evaluation becomes: an exception the model's code raises, the step budget, or a bug of the analysis, each marked as lost. */
  failure(error: unknown, node: Node): Unknown {
    if (error instanceof Raised) {
      const reason = `${error.type} is raised`;
      this.lose(error.node, reason);
      return new Unknown(`${reason} (line ${this.siteOf(error.node).startPosition.row + 1})`);
    }
    const reason = error instanceof BudgetExceeded ? `the model is too large to follow (${this.budget.toLocaleString('en-US')} steps)` : `the analysis failed: ${error instanceof Error ? error.message : String(error)}`;
    this.lose(node, reason);
    return new Unknown(reason);
  }

  /** `blocks.py line 12`, for a node of an imported file. */
  private placeOf(node: Node): string {
    const file = [...this.moduleGlobals.keys()].find((f) => f.root.tree === node.tree);
    return `${file?.path?.split(/[\\/]/).pop() ?? 'another file'} line ${node.startPosition.row + 1}`;
  }

  private tryStatement(statement: Node, scope: Scope): void {
    try {
      this.execute(statement, scope);
    } catch (error) {
      if (error instanceof BudgetExceeded) throw error;
    }
  }

  // ---- statements ----

  /** Runs a block; returns how it left: a `return` with its value, a `break`, a `continue`, or undefined at its end. */
  private executeBlock(block: Node | null, scope: Scope): Flow {
    for (const statement of block?.namedChildren ?? []) {
      if (!statement) continue;
      const flow = this.execute(statement, scope);
      if (flow) return flow;
    }
    return undefined;
  }

  private execute(statement: Node, scope: Scope): Flow {
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
      case 'while_statement':
        return this.executeWhile(statement, scope);
      case 'break_statement':
        return 'break';
      case 'continue_statement':
        return 'continue';
      case 'with_statement':
        return this.executeWith(statement, scope);
      case 'try_statement':
        return this.executeTry(statement, scope);
      case 'raise_statement':
        throw raisedBy(statement);
      case 'assert_statement': {
        // An assertion that may hold changes nothing; one that fails stops the model's construction, as in Python.
        const [test] = statement.namedChildren;
        if (test && truthy(this.evaluate(test, scope)) === false) throw new Raised('AssertionError', statement);
        return undefined;
      }
      case 'delete_statement':
        for (const target of statement.namedChildren[0]?.type === 'expression_list' ? statement.namedChildren[0].namedChildren : statement.namedChildren) if (target) this.delete(target, scope);
        return undefined;
      case 'global_statement':
      case 'nonlocal_statement':
        for (const name of statement.namedChildren) if (name?.type === 'identifier') (scope.declared ??= new Map()).set(name.text, statement.type === 'global_statement' ? 'global' : 'nonlocal');
        return undefined;
      case 'import_statement':
      case 'import_from_statement': {
        const file = this.fileOf(scope);
        if (statement.type === 'import_from_statement') file.noteImport(statement);
        this.importNames(statement, statement.type, file, scope, false);
        return undefined;
      }
      case 'function_definition':
      case 'decorated_definition':
        this.define(statement, scope);
        return undefined;
      case 'pass_statement':
      case 'comment':
      case 'future_import_statement':
        return undefined;
      default:
        // match, a class defined in a function, exec…: what they would change is not known.
        this.lose(statement, `the ${statement.type.replace(/_statement$|_definition$/, '').replace(/_/g, ' ')} statement is not followed`);
        return undefined;
    }
  }

  /** `def` (with its decorators applied, innermost first) binds a function in the running scope. */
  private define(statement: Node, scope: Scope): void {
    const definition = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    const name = definition?.childForFieldName('name')?.text;
    if (!definition || !name) return;
    if (definition.type !== 'function_definition') {
      this.lose(statement, `the class \`${name}\` defined here is not followed`);
      this.bindName(name, new Unknown(`the class \`${name}\` is defined inside a function`), scope);
      return;
    }
    const value: Value = new FunctionDef(definition, undefined, scope.cls, this.fileOf(scope), scope.globals === scope ? undefined : scope);
    const decorators = statement.type === 'decorated_definition' ? statement.namedChildren.filter((d): d is Node => d?.type === 'decorator') : [];
    this.bindName(name, this.decorate(decorators, value, scope), scope);
  }

  /** Decorators applied innermost first; one the analysis cannot follow leaves the function as defined, and says so. */
  private decorate(decorators: Node[], fn: Value, scope: Scope): Value {
    let value = fn;
    for (const decorator of [...decorators].reverse()) {
      const expression = decorator.namedChildren[0];
      if (!expression) continue;
      const applied = this.invoke(this.evaluate(expression, scope), [value], new Map(), decorator);
      if (applied instanceof Unknown) this.lose(decorator, `the decorator \`${decorator.text.slice(0, 60)}\` is not followed (${applied.reason})`);
      else value = applied;
    }
    return value;
  }

  /**
   * if / elif / else. A condition that is not known cannot choose: the analysis follows the first
   * branch that may run (or, when that one raises, the next), and the model says it is incomplete.
   */
  private executeIf(statement: Node, scope: Scope): Flow {
    const branches: { condition: Node | null; body: Node | null }[] = [{ condition: statement.childForFieldName('condition'), body: statement.childForFieldName('consequence') }];
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (alternative?.type === 'else_clause') branches.push({ condition: null, body: alternative.childForFieldName('body') });
      else if (alternative) branches.push({ condition: alternative.childForFieldName('condition'), body: alternative.childForFieldName('consequence') });
    }
    for (const branch of branches) {
      const value = branch.condition ? this.evaluate(branch.condition, scope) : true;
      const test = truthy(value);
      if (test === false) continue;
      if (test === true) return this.executeBlock(branch.body, scope);
      const condition = branch.condition as Node;
      this.lose(condition, `the condition \`${condition.text.slice(0, 60)}\` is not known (${unknownReason(value)}): its first branch is followed`);
      try {
        return this.executeBlock(branch.body, scope);
      } catch (error) {
        // A branch that raises is not the one a model that builds went through: the next one is.
        if (!(error instanceof Raised)) throw error;
      }
    }
    return undefined;
  }

  private executeFor(statement: Node, scope: Scope): Flow {
    const iterable = statement.childForFieldName('right') as Node;
    const value = this.evaluate(iterable, scope);
    const items = iterate(value);
    const target = statement.childForFieldName('left');
    if (!items || !target) {
      this.lose(iterable, `the loop over \`${iterable.text.slice(0, 60)}\` is not followed (${unknownReason(value)})`);
      return undefined;
    }
    for (const item of items) {
      this.bind(target, item, scope);
      const flow = this.executeBlock(statement.childForFieldName('body'), scope);
      if (flow === 'break') return undefined;
      if (flow && flow !== 'continue') return flow;
    }
    return this.executeBlock(statement.childForFieldName('alternative')?.childForFieldName('body') ?? null, scope);
  }

  private executeWhile(statement: Node, scope: Scope): Flow {
    const condition = statement.childForFieldName('condition') as Node;
    for (;;) {
      this.tick();
      const value = this.evaluate(condition, scope);
      const test = truthy(value);
      if (test === undefined) {
        this.lose(condition, `the loop \`while ${condition.text.slice(0, 60)}\` is not followed (${unknownReason(value)})`);
        return undefined;
      }
      if (!test) break;
      const flow = this.executeBlock(statement.childForFieldName('body'), scope);
      if (flow === 'break') return undefined;
      if (flow && flow !== 'continue') return flow;
    }
    return this.executeBlock(statement.childForFieldName('alternative')?.childForFieldName('body') ?? null, scope);
  }

  /** `with a as b:` binds b to a (torch.no_grad() and the like change no shape) and runs the body. */
  private executeWith(statement: Node, scope: Scope): Flow {
    for (const item of statement.descendantsOfType('with_item')) {
      const value = item?.childForFieldName('value');
      if (!value) continue;
      const pattern = value.type === 'as_pattern' ? value : undefined;
      const entered = this.evaluate(pattern ? (pattern.namedChildren[0] as Node) : value, scope);
      const alias = pattern?.childForFieldName('alias')?.namedChildren[0];
      if (alias) this.bind(alias, entered, scope);
    }
    return this.executeBlock(statement.childForFieldName('body'), scope);
  }

  /** try / except / else / finally, for what the analysis itself raises: `raise` and failed assertions. */
  private executeTry(statement: Node, scope: Scope): Flow {
    const clauses = statement.namedChildren.filter((c): c is Node => c !== null);
    const finallyBlock = clauses.find((c) => c.type === 'finally_clause')?.namedChildren.find((c) => c?.type === 'block') ?? null;
    let flow: Flow;
    try {
      flow = this.executeBlock(statement.childForFieldName('body'), scope);
      if (flow === undefined) flow = this.executeBlock(clauses.find((c) => c.type === 'else_clause')?.childForFieldName('body') ?? null, scope);
    } catch (error) {
      if (!(error instanceof Raised)) throw error;
      const handler = clauses.find((c) => (c.type === 'except_clause' || c.type === 'except_group_clause') && this.catches(c, error));
      if (!handler) {
        this.executeBlock(finallyBlock, scope);
        throw error;
      }
      const alias = handler.namedChildren[0]?.type === 'as_pattern' ? handler.namedChildren[0].childForFieldName('alias')?.namedChildren[0] : undefined;
      if (alias) this.bind(alias, new Unknown(`the ${error.type} caught here`), scope);
      flow = this.executeBlock(handler.namedChildren.find((c) => c?.type === 'block') ?? null, scope);
    }
    return this.executeBlock(finallyBlock, scope) ?? flow;
  }

  /** Whether an except clause catches what was raised: by the exception's name, its builtin bases, or everything. */
  private catches(clause: Node, raised: Raised): boolean {
    const first = clause.namedChildren[0];
    if (!first || first.type === 'block') return true;
    const typeNode = first.type === 'as_pattern' ? first.namedChildren[0] : first;
    const names = (typeNode?.type === 'tuple' || typeNode?.type === 'parenthesized_expression' ? typeNode.namedChildren : [typeNode]).map((n) => n?.text.split('.').pop() ?? '');
    const caught = new Set([raised.type, ...(exceptionBases.get(raised.type) ?? []), 'Exception', 'BaseException']);
    if (names.some((n) => caught.has(n))) return true;
    if (!exceptionBases.has(raised.type)) this.lose(clause, `whether \`${clause.text.split('\n')[0]?.slice(0, 60)}\` catches ${raised.type} is not known`);
    return !exceptionBases.has(raised.type);
  }

  /** `del x`, `del self.fc`, `del d[key]`. */
  private delete(target: Node, scope: Scope): void {
    if (target.type === 'identifier') {
      scope.vars.delete(target.text);
      return;
    }
    if (target.type === 'attribute') {
      const owner = this.evaluate(target.childForFieldName('object') as Node, scope);
      const name = target.childForFieldName('attribute')?.text ?? '';
      if (owner instanceof Module) {
        owner.children.delete(name);
        owner.attributes.delete(name);
        owner.parameters.delete(name);
      }
      return;
    }
    if (target.type === 'subscript') {
      const owner = this.evaluate(target.childForFieldName('value') as Node, scope);
      const indexNode = target.childForFieldName('subscript');
      const index = indexNode ? this.evaluate(indexNode, scope) : null;
      if (owner instanceof Dict && (typeof index === 'string' || typeof index === 'number')) owner.entries.delete(String(index));
      else if (Array.isArray(owner) && typeof index === 'number') owner.splice(normalizeDim(index, owner.length), 1);
      else if (owner instanceof Module && owner.options.container && (typeof index === 'string' || typeof index === 'number')) {
        const key = owner.options.container === 'dict' ? String(index) : [...owner.children.keys()][normalizeDim(Number(index), owner.children.size)];
        if (key !== undefined) owner.children.delete(key);
      } else this.lose(target, `\`del ${target.text.slice(0, 60)}\` is not followed`);
      return;
    }
    this.lose(target, `\`del ${target.text.slice(0, 60)}\` is not followed`);
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
      this.bindName(target.text, value, scope);
    } else if (type === 'attribute') {
      const owner = this.evaluate(target.childForFieldName('object') as Node, scope);
      const name = target.childForFieldName('attribute')?.text ?? '';
      if (owner instanceof Module) this.setAttribute(owner, name, value, target);
      else if (owner instanceof Unknown && value instanceof Module) this.lose(target, `\`${target.text.slice(0, 60)}\` is set on something that is not known (${owner.reason})`);
    } else if (type === 'subscript') {
      const owner = this.evaluate(target.childForFieldName('value') as Node, scope);
      const indexNode = target.childForFieldName('subscript');
      const index = indexNode ? this.evaluate(indexNode, scope) : null;
      if (owner instanceof Namespace && typeof index === 'string') this.bindGlobal(owner.scope, index, value);
      else if (owner instanceof Dict && (typeof index === 'string' || typeof index === 'number')) owner.entries.set(String(index), value);
      else if (Array.isArray(owner) && typeof index === 'number' && owner.length > 0) owner[normalizeDim(index, owner.length)] = value;
      else if (owner instanceof Module && owner.options.container && value instanceof Module && (typeof index === 'string' || typeof index === 'number')) {
        const key = owner.options.container === 'dict' ? String(index) : [...owner.children.keys()][normalizeDim(Number(index), owner.children.size)];
        if (key === undefined) this.lose(target, `\`${target.text.slice(0, 60)}\` is out of range`);
        else owner.children.set(key, value);
      } else if (value instanceof Module || owner instanceof Module) this.lose(target, `\`${target.text.slice(0, 60)} = …\` is not followed`);
    } else if (type === 'pattern_list' || type === 'tuple_pattern' || type === 'list_pattern') {
      const targets = target.namedChildren.filter((n): n is Node => n !== null);
      const starred = targets.findIndex((t) => t.type === 'list_splat_pattern');
      const items = iterate(value);
      if (!items) {
        for (const t of targets) this.bind(t.type === 'list_splat_pattern' ? (t.namedChildren[0] as Node) : t, value instanceof Unknown ? value : new Unknown(`cannot unpack \`${target.text.slice(0, 40)}\``), scope);
        return;
      }
      const after = targets.length - starred - 1;
      targets.forEach((t, i) => {
        if (i === starred) this.bind(t.namedChildren[0] as Node, items.slice(i, items.length - after), scope);
        else {
          const at = starred >= 0 && i > starred ? items.length - (targets.length - i) : i;
          this.bind(t, at >= 0 && at < items.length ? (items[at] as Value) : new Unknown('too few values to unpack'), scope);
        }
      });
    }
  }

  /** A plain name, or one a `global` / `nonlocal` statement sends to the module's or the enclosing function's scope. */
  private bindName(name: string, value: Value, scope: Scope): void {
    const declared = scope.declared?.get(name);
    if (declared === 'global' && scope.globals) return this.bindGlobal(scope.globals, name, value);
    if (declared === 'nonlocal') {
      for (let frame = scope.outer; frame && frame !== frame.globals; frame = frame.outer) {
        if (frame.vars.has(name)) {
          frame.vars.set(name, value);
          return;
        }
      }
    }
    scope.vars.set(name, value);
    scope.lazy?.delete(name);
  }

  /** `self.name = value`: a module registers as a child (keeping its first position), anything else is an attribute. */
  private setAttribute(owner: Module, name: string, value: Value, node: Node = owner.node): void {
    owner.parameters.delete(name);
    owner.tied.delete(name);
    // What is not known may be a layer: its parameters and the forward pass through it are then missing.
    if (value instanceof Unknown && !value.inert) this.lose(node, `\`${name}\` is not known (${value.reason})`);
    if (value instanceof Tensor && value.owner && value.owner.module !== owner && owner.options.spec && layerParameterSize(owner.options.spec, name) !== undefined) {
      owner.tied.add(name);
      return;
    }
    if (value instanceof Module && !value.options.plain) {
      owner.children.set(name, value);
      owner.attributes.delete(name);
    } else {
      // `self.conv.weight = nn.Parameter(filters)` replaces the layer's own weight: the new one counts instead.
      if (value instanceof Tensor && value.parameter && owner.options.spec && layerParameterSize(owner.options.spec, name) !== undefined) owner.tied.add(name);
      if (value instanceof Tensor && value.parameter) owner.parameters.set(name, value.shape ? product(value.shape) : null);
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
      case 'string':
        return this.string(node, scope);
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
        const operand = this.evaluate(node.childForFieldName('argument') as Node, scope);
        const value = truthy(operand);
        return value === undefined ? new Unknown(unknownReason(operand)) : !value;
      }
      case 'boolean_operator': {
        const left = this.evaluate(node.childForFieldName('left') as Node, scope);
        const isAnd = node.childForFieldName('operator')?.text === 'and';
        const known = truthy(left);
        if (known === undefined) {
          // `x and False` is false, `x or True` true, whatever x is.
          const right = this.evaluate(node.childForFieldName('right') as Node, scope);
          if (typeof right === 'boolean' && right === !isAnd) return right;
          return new Unknown(unknownReason(left));
        }
        return known === isAnd ? this.evaluate(node.childForFieldName('right') as Node, scope) : left;
      }
      case 'comparison_operator':
        return this.compare(node, scope);
      case 'lambda':
        return new FunctionDef(node, undefined, scope.cls, this.fileOf(scope), scope.globals === scope ? undefined : scope);
      case 'conditional_expression': {
        const [whenTrue, condition, whenFalse] = node.namedChildren;
        const test = condition ? truthy(this.evaluate(condition, scope)) : undefined;
        if (test === undefined) {
          // Both sides agreeing is an answer whichever way the condition goes.
          const [a, b] = [whenTrue, whenFalse].map((side) => (side ? this.evaluate(side, scope) : null));
          if (equalValues(a ?? null, b ?? null)) return a ?? null;
          if (a instanceof Tensor && b instanceof Tensor && a.shape && b.shape && equalValues([...a.shape], [...b.shape])) return a;
          return new Unknown(`\`${node.text.slice(0, 60)}\` depends on something unknown`);
        }
        const chosen = test ? whenTrue : whenFalse;
        return chosen ? this.evaluate(chosen, scope) : null;
      }
      case 'named_expression': {
        const value = this.evaluate(node.childForFieldName('value') as Node, scope);
        const name = node.childForFieldName('name');
        if (name) this.bindName(name.text, value, scope);
        return value;
      }
      case 'set':
        return this.sequence(node, scope);
      case 'pair':
        return [this.evaluate(node.childForFieldName('key') as Node, scope), this.evaluate(node.childForFieldName('value') as Node, scope)];
      case 'set_comprehension':
        return this.comprehension(node, scope);
      case 'dictionary_comprehension': {
        const pairs = this.comprehension(node, scope);
        return Array.isArray(pairs) ? new Dict(new Map(pairs.map((p) => (Array.isArray(p) ? [String(p[0]), p[1] ?? null] : ['', null])))) : pairs;
      }
      case 'subscript':
        return this.subscript(node, scope);
      case 'call':
        return this.call(node, scope);
      default:
        return new Unknown(`${node.type.replace(/_/g, ' ')} \`${node.text.slice(0, 40)}\` is not analysed`);
    }
  }

  /** A string, an f-string's fields filled in when they are known: `f"layer{i + 1}"`. */
  private string(node: Node, scope: Scope): Value {
    let text = '';
    for (const part of node.namedChildren) {
      if (part?.type === 'string_content') text += part.text;
      else if (part?.type === 'interpolation') {
        const expression = part.childForFieldName('expression');
        if (!expression) return new Unknown(`the f-string field ${part.text} is not analysed`);
        const spec = part.childForFieldName('format_specifier')?.text.replace(/^:/, '') ?? '';
        const conversion = part.childForFieldName('type_conversion')?.text ?? '';
        const formatted = formatField(this.evaluate(expression, scope), spec, conversion);
        if (formatted === undefined) return new Unknown(`the f-string field ${part.text} is not known`);
        text += formatted;
      }
    }
    return text;
  }

  private sequence(node: Node, scope: Scope): Value {
    const items: Value[] = [];
    for (const child of node.namedChildren) {
      if (!child || child.type === 'comment') continue;
      if (child.type === 'list_splat') {
        const spread = iterate(this.evaluate(child.namedChildren[0] as Node, scope));
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
    const local: Scope = { ...scope, vars: new Map(scope.vars) };
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
      const items = iterate(this.evaluate(clause.childForFieldName('right') as Node, local));
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
    for (let frame: Scope | undefined = scope; frame && frame !== frame.globals; frame = frame.outer) if (frame.vars.has(name)) return frame.vars.get(name) as Value;
    if (scope.vars.has(name)) return scope.vars.get(name) as Value;
    if (name === 'self' && scope.self) return scope.self;
    const found = this.globalValue(scope.globals ?? this.globals, name);
    if (found !== undefined) return found;
    const builtin = this.reflection.get(name) ?? builtins.get(name);
    return builtin ?? new Unknown(`\`${name}\` is not defined here`);
  }

  private attribute(owner: Value, name: string, node: Node): Value {
    const dunder = name.startsWith('__') ? this.dunder(owner, name) : undefined;
    if (dunder !== undefined) return dunder;
    if (owner instanceof Path) return owner.path === 'math' && mathConstants.has(name) ? (mathConstants.get(name) as number) : new Path(`${owner.path}.${name}`);
    if (owner instanceof Module) {
      if (owner.children.has(name)) return owner.children.get(name) as Module;
      if (owner.options.spec && (layerParameterSize(owner.options.spec, name) !== undefined || specParameterNames(owner.options.spec).includes(name))) return new Tensor(null, `${owner.type}.${name}`, true, { module: owner, name });
      if (owner.attributes.has(name)) return owner.attributes.get(name) as Value;
      const method = owner.options.cls?.findMethod(name);
      if (method && method.owner.properties.has(name)) return this.callFunction(new FunctionDef(method.node, owner, method.owner, method.owner.file), [], new Map());
      if (method) return this.method(method, owner);
      const holder = owner.options.cls?.findAttribute(name);
      if (holder) return this.classAttribute(holder, name);
      if (owner.options.container === 'dict' && (name === 'items' || name === 'keys' || name === 'values')) {
        return new Callable(name, () => [...owner.children].map(([k, v]) => (name === 'items' ? [k, v] : name === 'keys' ? k : v)));
      }
      const own = this.moduleMethod(owner, name);
      if (own !== undefined) return own;
      const field = owner.options.spec ? specField(owner.options.spec, name) : undefined;
      if (field !== undefined) return field;
      // model.to(device), model.eval(): the same module back.
      if (returnsSelf.has(name)) return new Callable(name, () => owner);
      if (owner.options.cls) return new Unknown(`self.${name} is not set in __init__`);
      return new Unknown(`${owner.type}.${name} is not analysed`);
    }
    if (owner instanceof Super) return this.superAttribute(owner, name);
    if (owner instanceof ClassInfo) {
      const holder = owner.findAttribute(name);
      if (holder) return this.classAttribute(holder, name);
      const method = owner.findMethod(name);
      if (method) return this.method(method, undefined);
      // A torch.autograd.Function: apply runs its static forward, with no context.
      const forward = owner.findMethod('forward');
      if (name === 'apply' && forward && owner.mro.some((c) => c.bases.some((b) => /(^|\.)Function$/.test(b)))) {
        return new Callable('apply', (args, keywords) => this.callFunction(new FunctionDef(forward.node, undefined, forward.owner, forward.owner.file), [new Unknown('the autograd context', true), ...args], keywords));
      }
    }
    if (owner instanceof Tensor) return this.tensorAttribute(owner, name, node);
    if (Array.isArray(owner) && (name === 'append' || name === 'extend' || name === 'insert')) {
      return new Callable(name, ([first, second]) => {
        if (name === 'append') owner.push(first ?? null);
        else if (name === 'insert' && typeof first === 'number') owner.splice(first, 0, second ?? null);
        else owner.push(...(iterate(first ?? null) ?? []));
        return null;
      });
    }
    if (owner instanceof Dict && dictMethods.has(name)) return new Callable(name, (args) => (dictMethods.get(name) as DictMethod)(owner, args));
    if (typeof owner === 'string' && stringMethods.has(name)) return new Callable(name, (args, keywords) => (stringMethods.get(name) as StringMethod)(owner, args, keywords));
    return owner instanceof Unknown ? owner : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  /** `__name__`, `__qualname__`, `__module__` and `__class__` of classes, functions, modules and dotted names, which registries and logging read. */
  private dunder(owner: Value, name: string): Value | undefined {
    if (name === '__class__' && owner instanceof Module) return owner.options.cls ?? new Path(`torch.nn.${owner.type}`);
    const named = owner instanceof ClassInfo ? { name: owner.name, file: owner.file } : owner instanceof FunctionDef ? { name: owner.node.childForFieldName('name')?.text ?? '<lambda>', file: owner.file } : owner instanceof Module && owner.options.cls ? { name: owner.options.cls.name, file: owner.options.cls.file } : undefined;
    if (named && (name === '__name__' || name === '__qualname__')) return owner instanceof Module ? undefined : named.name;
    if (named && name === '__module__') return moduleName(named.file.path);
    if (owner instanceof Path && name === '__name__') return owner.path.split('.').pop() ?? owner.path;
    return undefined;
  }

  /** nn.Module's own methods that model code calls on itself or on its layers. */
  private moduleMethod(owner: Module, name: string): Value | undefined {
    switch (name) {
      case '__call__':
        return new Callable(name, (args, keywords, node) => this.apply(owner, args, node, keywords));
      case 'forward':
        // `layer.forward(x)` skips nn.Module.__call__, so PyTorch's hooks (and torchinfo) never see the call: neither does the report.
        return new Callable(name, (args, keywords, node) => {
          const seen = this.calls.get(owner);
          const output = this.apply(owner, args, node, keywords);
          this.calls.delete(owner);
          if (seen) this.calls.set(owner, seen);
          return output;
        });
      case 'add_module':
      case 'register_module':
        return new Callable(name, ([childName, child], _keywords, node) => {
          if (typeof childName === 'string' && (child instanceof Module || child === null)) this.setAttribute(owner, childName, child, node);
          else this.lose(node, `\`${node.text.slice(0, 60)}\` adds a module that is not known`);
          return null;
        });
      case 'register_buffer':
        // A buffer is state, not a parameter: BatchNorm's running statistics.
        return new Callable(name, ([bufferName, tensor]) => {
          if (typeof bufferName === 'string') owner.attributes.set(bufferName, tensor ?? null);
          return null;
        });
      case 'register_parameter':
        return new Callable(name, ([parameterName, tensor], _keywords, node) => {
          if (typeof parameterName === 'string') this.setAttribute(owner, parameterName, tensor instanceof Tensor ? new Tensor(tensor.shape, tensor.reason, true) : (tensor ?? null), node);
          return null;
        });
      case 'append':
        return owner.options.container === 'list' ? this.appendTo(owner) : undefined;
      case 'extend':
        return owner.options.container === 'list' || owner.options.container === 'sequential'
          ? new Callable(name, ([items], _keywords, node) => {
              for (const child of iterate(items ?? null) ?? []) this.appendChild(owner, child, node);
              if (!iterate(items ?? null)) this.lose(node, `\`${node.text.slice(0, 60)}\` extends by modules that are not known`);
              return owner;
            })
          : undefined;
      case 'modules':
        return new Callable(name, () => namedModules(owner).map(([, m]) => m));
      case 'named_modules':
        return new Callable(name, () => namedModules(owner));
      case 'children':
        return new Callable(name, () => [...new Set(owner.children.values())]);
      case 'named_children':
        return new Callable(name, () => [...owner.children].filter(([, m], i, all) => all.findIndex(([, other]) => other === m) === i));
      case 'parameters':
        return new Callable(name, () => namedParameters(owner).map(([, p]) => p));
      case 'named_parameters':
        return new Callable(name, () => namedParameters(owner));
      case 'state_dict':
        return new Callable(name, () => new Dict(new Map(namedParameters(owner))));
      case 'apply':
        // Children first, then the module itself, as nn.Module.apply goes: an init function sees every module.
        return new Callable(name, ([fn], _keywords, node) => {
          for (const [, m] of namedModules(owner).reverse()) this.invoke(fn ?? null, [m], new Map(), node);
          return owner;
        });
      case '__class__':
        return owner.options.cls ?? new Path(`torch.nn.${owner.type}`);
      default:
        return undefined;
    }
  }

  private classAttribute(cls: ClassInfo, name: string): Value {
    this.used.add(cls);
    return this.evaluate(cls.attributes.get(name) as Node, this.globalsOf(cls.file));
  }

  private appendTo(list: Module): Callable {
    return new Callable('append', ([child], _keywords, node) => {
      this.appendChild(list, child ?? null, node);
      return null;
    });
  }

  /** A ModuleList's or Sequential's next child; what is not known to be a module is lost (PyTorch takes modules only). */
  private appendChild(list: Module, child: Value, node: Node): void {
    if (child instanceof Module) list.children.set(String(list.children.size), child);
    else this.lose(node, `\`${node.text.slice(0, 60)}\` adds ${child instanceof Unknown ? `something that is not known (${child.reason})` : 'something that is not a module'}`);
  }

  private subscript(node: Node, scope: Scope): Value {
    const value = this.evaluate(node.childForFieldName('value') as Node, scope);
    if (value instanceof Path && value.path === 'sys.modules') return new Namespace(scope.globals ?? this.globals);
    const indexNodes = node.childrenForFieldName('subscript').filter((n): n is Node => n !== null);
    const indices: Index[] = indexNodes.map((n) => (n.type === 'slice' ? this.slice(n, scope) : n.type === 'ellipsis' ? 'ellipsis' : this.evaluate(n, scope)));
    if (value instanceof Tensor) return indexTensor(value, indices);
    const [index] = indices;
    if (indices.length !== 1 || index === undefined) return new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
    if (index instanceof Slice) {
      const items = Array.isArray(value) ? value : value instanceof Module && value.options.container !== 'dict' ? [...value.children.values()] : undefined;
      const range = items && index.indices(items.length);
      if (!items || !range) return new Unknown(`the slice \`${node.text.slice(0, 40)}\` is not analysed`);
      const picked = range.map((i) => items[i] as Value);
      if (!(value instanceof Module)) return picked;
      // Slicing an nn.Sequential gives an nn.Sequential of those children, under their own names.
      const sliced = new Module(value.type, value.node, { container: 'sequential' });
      for (const [key, child] of [...value.children].filter((_, i) => range.includes(i))) sliced.children.set(key, child);
      return sliced;
    }
    if (Array.isArray(value) && typeof index === 'number') {
      const at = normalizeDim(index, value.length);
      // None is an element like any other.
      return at >= 0 && at < value.length ? (value[at] as Value) : new Unknown(`index ${index} is out of range`);
    }
    if (typeof value === 'string' && typeof index === 'number') return value[normalizeDim(index, value.length)] ?? new Unknown(`index ${index} is out of range`);
    if (value instanceof Module && value.options.container) {
      const child = value.options.container === 'dict' ? value.children.get(String(index)) : typeof index === 'number' ? [...value.children.values()][normalizeDim(index, value.children.size)] : undefined;
      return child ?? new Unknown(`${value.type}[${String(index)}] is not there`);
    }
    if (value instanceof Dict) return value.entries.get(String(index)) ?? new Unknown(`no key ${String(index)}`);
    return value instanceof Unknown ? value : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  /** `a:b:c`, each part optional: the parts are told apart by the colons between them. */
  private slice(node: Node, scope: Scope): Slice | Unknown {
    const parts: Value[] = [null, null, null];
    let part = 0;
    for (const child of node.children) {
      if (!child) continue;
      if (!child.isNamed && child.text === ':') part++;
      else if (child.isNamed && child.type !== 'comment') parts[part] = this.evaluate(child, scope);
    }
    const bound = (v: Value | undefined) => (v === null || v === undefined ? null : typeof v === 'number' && Number.isInteger(v) ? v : undefined);
    const [start, stop, step] = parts.map(bound);
    if (start === undefined || stop === undefined || step === undefined || step === 0) return new Unknown(`the slice \`${node.text}\` has bounds that are not known`);
    return new Slice(start, stop, step);
  }


  /** Comparisons, chained as Python chains them: `a < b < c` is `a < b and b < c`, each operand evaluated once. */
  private compare(node: Node, scope: Scope): Value {
    const operands: Node[] = [];
    const operators: string[] = [];
    let pending = '';
    for (const child of node.children) {
      if (!child) continue;
      if (child.isNamed && child.type !== 'comment') {
        if (operands.length > 0) operators.push(pending.trim());
        operands.push(child);
        pending = '';
      } else if (!child.isNamed) pending += ` ${child.text}`;
    }
    let left = this.evaluate(operands[0] as Node, scope);
    let result: Value = true;
    for (const [i, op] of operators.entries()) {
      const right = this.evaluate(operands[i + 1] as Node, scope);
      result = compareValues(op, left, right);
      if (truthy(result) === false) return false;
      if (result instanceof Unknown) return [left, right].find((v): v is Unknown => v instanceof Unknown) ?? new Unknown(`\`${node.text.slice(0, 60)}\`: ${result.reason}`);
      if (result instanceof Tensor) return result;
      left = right;
    }
    return result;
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
    if (operator === '%' && typeof a === 'string') return percentFormat(a, Array.isArray(b) ? b : [b]);
    if (operator === '*' && Array.isArray(a) && typeof b === 'number') return Array.from({ length: b }, () => a).flat();
    if (a instanceof Tensor || b instanceof Tensor) return this.tensorArithmetic(operator, a, b, node);
    if (a instanceof Unknown) return a;
    if (b instanceof Unknown) return b;
    return new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
  }

  /** Element-wise arithmetic broadcasts; a mismatch is the residual-connection bug, reported here. */
  private tensorArithmetic(operator: string, a: Value, b: Value, node: Node): Value {
    const known = valueArithmetic(operator, a, b);
    if (known) return known;
    // A number keeps the tensor's shape; what is not known may be a tensor that broadcasts it.
    if (a instanceof Unknown || b instanceof Unknown) return new Tensor(null, `${operator} of something not known (${unknownReason(a instanceof Unknown ? a : b)})`);
    if (!(a instanceof Tensor) || !(b instanceof Tensor)) return a instanceof Tensor ? a : b;
    if (!a.shape || !b.shape) return a.shape ? b : a;
    if (operator === '@') return this.matmul(a.shape, b.shape, node);
    const shape = broadcast(a.shape, b.shape);
    if (typeof shape === 'string') {
      this.report(node, `cannot combine ${formatShape(a.shape)} and ${formatShape(b.shape)} with ${operator}: ${shape}`);
      return new Tensor(null, `${operator} of mismatched shapes`);
    }
    return new Tensor(shape);
  }

  /** torch.matmul's rule: vectors gain and lose a dimension, batch dimensions broadcast. */
  private matmul(a: Shape, b: Shape, node: Node): Value {
    if (a.length === 0 || b.length === 0) return new Tensor(null, 'a matrix product of a scalar');
    const left = a.length === 1 ? [1, ...a] : a;
    const right = b.length === 1 ? [...b, 1] : b;
    const inner = [left[left.length - 1] ?? null, right[right.length - 2] ?? null];
    if (inner[0] !== null && inner[1] !== null && inner[0] !== inner[1]) {
      this.report(node, `cannot multiply ${formatShape(a)} by ${formatShape(b)}: ${inner[0]} columns against ${inner[1]} rows`);
      return new Tensor(null, 'a matrix product of mismatched shapes');
    }
    const batch = broadcast(left.slice(0, -2), right.slice(0, -2));
    if (typeof batch === 'string') return new Tensor(null, `a matrix product whose batch dimensions differ: ${batch}`);
    return new Tensor([...batch, ...(a.length === 1 ? [] : [left[left.length - 2] ?? null]), ...(b.length === 1 ? [] : [right[right.length - 1] ?? null])]);
  }

  private report(node: Node, message: string, severity: AnalysisDiagnostic['severity'] = 'error'): void {
    const site = this.siteOf(node);
    this.diagnostics.set(site.startIndex, { range: rangeOf(site), message, severity });
  }

  // ---- calls ----

  private call(node: Node, scope: Scope): Value {
    const functionNode = node.childForFieldName('function');
    if (!functionNode) return new Unknown('a call');
    const isSuper = functionNode.type === 'identifier' && functionNode.text === 'super' && !scope.vars.has('super');
    const callee = isSuper ? null : this.evaluate(functionNode, scope);
    // Calling what is not known may build layers, run them or change the model: none of it is followed.
    if (callee instanceof Unknown && !callee.inert) this.lose(node, `\`${functionNode.text.slice(0, 60)}(…)\` is not followed (${callee.reason})`);
    const { positional, keywords } = this.callArguments(node.childForFieldName('arguments'), scope);
    if (positional instanceof Unknown) {
      this.lose(node, `the arguments of \`${functionNode.text.slice(0, 60)}(…)\` are not known (${positional.reason})`);
      return positional;
    }
    if (isSuper) return this.superOf(positional, scope);
    const result = this.invoke(callee, positional, keywords, node);
    // A function the analysis does not read, given a module, may change it.
    if (result instanceof Unknown && callee instanceof Path && [...positional, ...keywords.values()].some((v) => v instanceof Module)) {
      this.lose(node, `\`${functionNode.text.slice(0, 60)}(…)\` is given a module and not followed (${result.reason})`);
    }
    return result;
  }

  private callArguments(argumentsNode: Node | null, scope: Scope): { positional: Value[] | Unknown; keywords: Map<string, Value> } {
    const positional: Value[] = [];
    const keywords = new Map<string, Value>();
    if (argumentsNode && argumentsNode.type === 'generator_expression') return { positional: [this.comprehension(argumentsNode, scope)], keywords };
    for (const arg of argumentsNode?.namedChildren ?? []) {
      const type = arg?.type;
      if (!arg || type === 'comment') continue;
      if (type === 'keyword_argument') keywords.set(arg.childForFieldName('name')?.text ?? '', this.evaluate(arg.childForFieldName('value') as Node, scope));
      else if (type === 'list_splat') {
        const spread = iterate(this.evaluate(arg.namedChildren[0] as Node, scope));
        if (!spread) return { positional: new Unknown(`cannot unpack ${arg.text}`), keywords };
        positional.push(...spread);
      } else if (type === 'dictionary_splat') {
        const dict = this.evaluate(arg.namedChildren[0] as Node, scope);
        if (!(dict instanceof Dict)) return { positional: new Unknown(`cannot unpack ${arg.text}`), keywords };
        for (const [k, v] of dict.entries) keywords.set(k, v);
      } else positional.push(this.evaluate(arg, scope));
    }
    return { positional, keywords };
  }

  /** Evaluates a call's arguments (an instance's, or an annotation's) and hands them on. */
  evaluateCallArguments(call: Node, then: (positional: Value[], keywords: Map<string, Value>) => Value): Value {
    const { positional, keywords } = this.callArguments(call.childForFieldName('arguments'), this.globals);
    return positional instanceof Unknown ? positional : then(positional, keywords);
  }

  /** A module-level callable (a functools.partial) called with no arguments. */
  callFactoryValue(node: Node): Value {
    return this.invoke(this.evaluate(node, this.globals), [], new Map(), node);
  }

  /** A factory by the name the module binds it to, which setattr may have replaced since its def. */
  callFactory(fn: Node): Value {
    const name = fn.childForFieldName('name')?.text ?? '';
    const bound = this.globalValue(this.globals, name);
    const asWritten = new FunctionDef(fn, undefined, undefined, this.file);
    const before = new Set(this.losses.keys());
    const built = this.invoke(bound ?? asWritten, [], new Map(), fn);
    if (!(built instanceof Unknown) || !bound || (bound instanceof FunctionDef && bound.node === fn)) return built;
    for (const key of [...this.losses.keys()]) if (!before.has(key)) this.losses.delete(key);
    // Decorators that wrap a factory (a registry, a legacy-argument adapter) usually hand its result back:
    // the function as written is followed instead, and the model says that its decorators were not.
    const decorators = fn.parent?.type === 'decorated_definition' ? fn.parent : fn;
    this.lose(decorators, `the decorators of \`${name}\` are not followed (${built.reason}): the function is followed as written`);
    return this.invoke(asWritten, [], new Map(), fn);
  }

  /** super() in a method of `scope.cls`, or super(Cls, self). */
  private superOf(positional: Value[], scope: Scope): Value {
    const [cls, self] = positional.length === 2 ? positional : [scope.cls, scope.self];
    if (cls instanceof ClassInfo && self instanceof Module) return new Super(self, cls);
    return new Unknown('super() outside a method of a class of this file');
  }

  /** What super().name finds: the next class's method in the MRO, else the torch.nn base's own behaviour. */
  private superAttribute(proxy: Super, name: string): Value {
    const method = proxy.self.options.cls?.findMethod(name, proxy.after);
    if (method) return this.method(method, proxy.self);
    if (name === '__init__') {
      return new Callable('__init__', (args, keywords, node) => {
        if (!this.initDataclass(proxy.self, proxy.after, args, keywords)) this.initTorchBase(proxy.self, args, keywords, node);
        return null;
      });
    }
    if (name === 'forward') return new Callable('forward', (args, _keywords, node) => this.applyTorchBase(proxy.self, args, node));
    return new Unknown(`super().${name} is not analysed`);
  }

  /** nn.Module.__init__ and its subclasses': a container takes its children, a layer its arguments. */
  private initTorchBase(module: Module, positional: Value[], keywords: Map<string, Value>, node: Node): void {
    const cls = module.options.cls;
    const base = cls?.torchBases[0];
    if (!base || base === 'Module') return;
    const built = this.construct(base, positional, keywords, node);
    if (!(built instanceof Module)) return;
    for (const [key, child] of built.children) module.children.set(key, child);
    if (built.options.spec) module.options.spec = built.options.spec;
    else if (built.options.unknown) module.options.unknown = built.options.unknown;
  }

  /** The forward of the torch.nn class a class of the file derives from. */
  private applyTorchBase(module: Module, args: Value[], node: Node): Value {
    const { spec, container, unknown } = module.options;
    const input = args[0] ?? new Unknown('no input');
    if (container === 'sequential') return this.runSequential(module, input, node);
    if (spec || unknown) return this.applyLayer(module, args, new Map());
    return new Unknown(`${module.type} has no forward method`);
  }

  private invoke(callee: Value, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    if (++this.depth > 60) {
      this.depth--;
      return new Unknown('calls nest too deeply to follow');
    }
    const file = callee instanceof FunctionDef || callee instanceof ClassInfo ? callee.file : callee instanceof Module ? callee.options.cls?.file : undefined;
    const leaving = this.site === undefined && file !== undefined && file !== this.file && node.tree === this.file.root.tree;
    if (leaving) this.site = node;
    try {
      if (callee instanceof Path) return this.callPath(callee.path, positional, keywords, node);
      if (callee instanceof Module) return this.apply(callee, positional, node, keywords);
      if (callee instanceof FunctionDef) return this.callFunction(callee, positional, keywords);
      if (callee instanceof Callable) return callee.call(positional, keywords, node);
      if (callee instanceof ClassInfo) return this.instantiate(callee, positional, keywords, node);
      return callee instanceof Unknown ? callee : new Unknown(`\`${node.text.slice(0, 40)}\` is not analysed`);
    } finally {
      this.depth--;
      if (leaving) this.site = undefined;
    }
  }

  private callPath(path: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const namespace = path.slice(0, path.lastIndexOf('.'));
    if (path === 'torch.nn.Parameter' || path === 'torch.nn.parameter.Parameter') {
      const [data] = positional;
      return data instanceof Tensor ? new Tensor(data.shape, data.reason, truthy(keywords.get('requires_grad') ?? positional[1] ?? true) !== false) : new Unknown('nn.Parameter of something that is not a tensor');
    }
    if (namespace === 'torch.nn') return this.construct(name, positional, keywords, node);
    // Decorators that hand the function back: what they add (metadata, a cache, TorchScript's hints) changes no shape.
    if (identityDecorators.has(path)) return positional.length > 0 && path !== 'functools.wraps' ? (positional[0] as Value) : new Callable(name, ([fn]) => fn ?? null);
    if (path === 'functools.partial') {
      const [fn, ...bound] = positional;
      return new Callable('partial', (args, more, callNode) => this.invoke(fn ?? null, [...bound, ...args], new Map([...keywords, ...more]), callNode));
    }
    if (namespace === 'math' && mathFunctions.has(name)) return numbersOf(positional, mathFunctions.get(name) as (n: number[]) => number);
    if (namespace === 'torch.jit' && (name === 'is_scripting' || name === 'is_tracing')) return false;
    if (path === 'torch.jit.annotate') return positional[1] ?? null;
    if (path === 'typing.cast') return positional[1] ?? null;
    if (path === 'copy.copy' || path === 'copy.deepcopy') return copyValue(positional[0] ?? null, path === 'copy.deepcopy');
    if (path === 'torch._assert' || namespace === 'torch.nn.init' || namespace === 'warnings') return null;
    if (path === 'torch.arange' || path === 'torch.tensor') return valuesTensor(name, positional);
    // NumPy arrays are followed by their shapes only: the course builds filter weights with them.
    if (path === 'numpy.array' || path === 'numpy.asarray' || path === 'torch.from_numpy' || path === 'torch.as_tensor') return arrayTensor(positional[0] ?? null, path);
    if (namespace === 'torch' && tensorConstructors.has(name)) {
      const sizes = positional.length === 1 && Array.isArray(positional[0]) ? positional[0] : name === 'full' ? [positional[0] ?? null].flat() : positional;
      return sizes.every((d) => typeof d === 'number') ? new Tensor(sizes as number[]) : new Tensor(null, `torch.${name} of sizes that are not known`);
    }
    if (path === 'collections.OrderedDict') {
      const pairs = positional[0];
      if (pairs !== undefined && !Array.isArray(pairs) && !(pairs instanceof Dict)) return new Unknown(`OrderedDict of ${unknownReason(pairs)}`);
      if (pairs instanceof Dict) return new Dict(new Map(pairs.entries));
      return new Dict(new Map(Array.isArray(pairs) ? pairs.filter(Array.isArray).map(([k, v]) => [String(k), v ?? null] as [string, Value]) : []));
    }
    if (path === 'torch.is_tensor') return positional[0] instanceof Unknown ? positional[0] : positional[0] instanceof Tensor;
    if (inertFunctions.has(path) || inertNamespaces.some((n) => namespace === n || namespace.startsWith(`${n}.`))) return new Unknown(`${path}() is not a model's part`, true);
    if (namespace === 'torch.nn.functional' || namespace === 'torch') return this.tensorFunction(name, positional, keywords, node);
    // A class from a package the analysis cannot read is likely a layer: it is shown where it is called, with the reason.
    if (/^[A-Z]/.test(name) && !namespace.startsWith('torch')) return new Module(name, node, { unknown: `${path}() is not analysed`, opaque: true });
    return new Unknown(`${path}() is not analysed`);
  }

  private construct(type: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    const built = this.constructLayer(type, positional, keywords, node);
    if (built instanceof Module) built.site = this.siteOf(node);
    return built;
  }

  private constructLayer(type: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    if (type === 'Sequential' || type === 'ModuleList' || type === 'ModuleDict') {
      const container = type === 'Sequential' ? 'sequential' : type === 'ModuleList' ? 'list' : 'dict';
      const module = new Module(type, node, { container });
      const source = positional.length === 1 && (positional[0] instanceof Dict || (type !== 'Sequential' && Array.isArray(positional[0]))) ? positional[0] : positional;
      const entries: [string, Value][] = source instanceof Dict ? [...source.entries] : Array.isArray(source) ? source.map((v, i) => [String(i), v]) : [];
      for (const [key, child] of entries) {
        if (child instanceof Module) module.children.set(key, child);
        else this.lose(node, `nn.${type}(…) is given ${child instanceof Unknown ? `something that is not known (${child.reason})` : 'something that is not a module'}`);
      }
      if (!(source instanceof Dict) && !Array.isArray(source)) this.lose(node, `nn.${type}(…) is given modules that are not known`);
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
    for (const c of cls.mro) this.used.add(c);
    const plain = cls.torchBases.length === 0;
    const module = new Module(cls.name, node, { cls, ...(cls.container ? { container: cls.container } : {}), ...(plain ? { plain } : {}) });
    module.site = this.siteOf(node);
    const init = cls.findMethod('__init__');
    if (init) {
      const result = this.callFunction(new FunctionDef(init.node, module, init.owner, init.owner.file), positional, keywords);
      if (result instanceof Unknown && result.reason.startsWith('recursion')) return result;
    } else if (!this.initDataclass(module, undefined, positional, keywords)) {
      this.initTorchBase(module, positional, keywords, node);
    }
    return module;
  }

  /** The __init__ @dataclass writes: each field from the arguments, else its default. False when no dataclass is in the MRO. */
  private initDataclass(module: Module, after: ClassInfo | undefined, positional: Value[], keywords: Map<string, Value>): boolean {
    const mro = module.options.cls?.mro ?? [];
    const dataclass = mro.slice(after ? mro.indexOf(after) + 1 : 0).find((c) => c.dataclassFields);
    if (!dataclass?.dataclassFields) return false;
    const args = [...positional];
    for (const field of dataclass.dataclassFields) {
      const value = args.length > 0 ? (args.shift() as Value) : keywords.has(field.name) ? (keywords.get(field.name) as Value) : field.value ? this.evaluate(field.value, this.globalsOf(dataclass.file)) : new Unknown(`the field \`${field.name}\` has no value`);
      this.setAttribute(module, field.name, value);
    }
    return true;
  }

  private callFunction(fn: FunctionDef, positional: Value[], keywords: Map<string, Value>): Value {
    const globals = this.globalsOf(fn.file);
    // A nested def or a lambda sees the enclosing method's self through its closure; only a bound method takes it as its first parameter.
    const self = fn.self ?? fn.closure?.self;
    const scope: Scope = { vars: new Map(), globals, ...(self ? { self } : {}), ...(fn.owner ? { cls: fn.owner } : {}), ...(fn.closure ? { outer: fn.closure } : {}) };
    const parameters = (fn.node.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => p !== null);
    const args = [...positional];
    const unbound = new Map(keywords);
    let keywordOnly = false;
    parameters.forEach((parameter, index) => {
      if (index === 0 && fn.self) return; // self
      const kind = parameterKind(parameter);
      if (parameter.type === 'keyword_separator') keywordOnly = true;
      if (kind === 'separator') return;
      const nameNode = parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? parameter.namedChildren[0]);
      const name = nameNode?.type === 'identifier' ? nameNode.text : (nameNode?.namedChildren[0]?.text ?? '');
      if (kind === 'args') {
        scope.vars.set(name, args.splice(0));
        keywordOnly = true;
        return;
      }
      if (kind === 'kwargs') {
        scope.vars.set(name, new Dict(unbound));
        return;
      }
      const defaultNode = parameter.childForFieldName('value');
      if (args.length > 0 && !keywordOnly) scope.vars.set(name, args.shift() as Value);
      else if (unbound.has(name)) scope.vars.set(name, unbound.get(name) as Value);
      else if (defaultNode) scope.vars.set(name, this.evaluate(defaultNode, globals));
      else scope.vars.set(name, new Unknown(`the argument \`${name}\` has no default value`));
      unbound.delete(name);
    });
    const body = fn.node.childForFieldName('body');
    if (fn.node.type === 'lambda') return body ? this.evaluate(body, scope) : null;
    const flow = this.executeBlock(body, scope);
    return typeof flow === 'object' ? flow.value : null;
  }

  // ---- tensors ----

  /** Runs a module on its input: a layer through the shape engine, a container in order, a user module through its forward. */
  apply(module: Module, args: Value[], node: Node, keywords: Map<string, Value> = new Map()): Value {
    this.tick();
    const { cls, container } = module.options;
    const forward = cls?.findMethod(module.options.plain ? '__call__' : 'forward');
    if (forward) {
      const input = args[0];
      const output = this.callFunction(new FunctionDef(forward.node, module, forward.owner, forward.owner.file), args, keywords);
      // A module of the file with no children is a leaf to PyTorch (an activation written by hand).
      if (module.children.size === 0 && !module.options.plain) {
        const shapeOf = (v: Value | undefined) => (v instanceof Tensor ? v.shape : null);
        this.record(module, { module, in: shapeOf(input), out: shapeOf(output), ...(output instanceof Tensor && output.shape ? {} : { note: reasonOf(output) }) });
      }
      return output;
    }
    const input = args[0] ?? new Unknown('no input');
    if (container === 'sequential') return this.runSequential(module, input, node);
    if (container) return new Unknown(`a ${module.type} is not callable`);
    if (cls && !module.options.spec && !module.options.unknown) return new Unknown(`${cls.name} has no forward method`);
    return this.applyLayer(module, args, keywords);
  }

  /** The batch of the model's input. */
  batch: Dim = null;

  private runSequential(module: Module, input: Value, node: Node): Value {
    if (module.children.size === 0) {
      const tensor = asTensor(input);
      this.record(module, { module, in: tensor.shape, out: tensor.shape, ...(tensor.shape ? {} : { note: tensor.reason ?? 'its input is unknown' }) });
      return tensor;
    }
    let x: Value = input;
    for (const child of module.children.values()) x = this.apply(child, [x], node);
    return x;
  }

  /** A torch.nn layer through the shape engine; an unknown input keeps what the layer alone fixes (its channels or features). */
  private applyLayer(module: Module, args: Value[], keywords: Map<string, Value>): Value {
    const input = asTensor(args[0] ?? new Unknown('no input'));
    const { spec, unknown } = module.options;
    if (!spec) {
      const reason = unknown ?? `nn.${module.type} is not analysed`;
      this.record(module, { module, in: input.shape, out: null, note: reason });
      return new Tensor(null, `${module.path ?? module.type}: ${reason}`);
    }
    // The batch is the model's: layers keep it, whatever else is unknown.
    const guess = input.shape ? undefined : unknownInputOf(spec);
    const shape = input.shape ?? (guess ? [this.batch, ...guess.slice(1)] : null);
    // Its output then holds for an input of the usual rank only: what comes out is not known for certain.
    if (guess) this.lose(module.site, `${module.path ?? module.type}: its input is not known (${input.reason ?? 'not a tensor'}), so a ${guess.length}-dimensional one is assumed`);
    if (!shape) {
      this.record(module, { module, in: null, out: null, note: input.reason ?? 'its input is unknown' });
      return input;
    }
    // Further tensors (Bilinear's x2, attention's key and value, MaxUnpool's indices and output_size).
    const outputSize = keywords.get('output_size');
    const extra = [...args.slice(1), ...(outputSize === undefined ? [] : [outputSize])].map((v) => (v instanceof Tensor ? (v.shape ?? []) : Array.isArray(v) && v.every((d) => typeof d === 'number') ? (v as number[]) : []));
    const result = computeOutputShape(spec, module.type, shape, extra);
    // A convolution or pooling whose window no longer fits the input: PyTorch raises "Calculated output size … is too small".
    if (!result.error && result.shape && (spec.kind === 'conv' || spec.kind === 'pool') && result.shape.slice(2).some((d) => d !== null && d < 1)) {
      result.error = `the input ${formatShape(shape)} is too small: the output would be ${formatShape(result.shape)}`;
    }
    if (result.materialized) {
      // A lazy layer becomes the layer it stands for at its first call, as PyTorch's do.
      module.options.spec = result.materialized;
      module.type = module.type.replace(/^Lazy/, '');
    }
    const partial = result.shape?.includes(null) ?? false;
    const note = partial ? (input.reason ?? 'its input is only partly known') : (result.unknown ?? undefined);
    this.record(module, { module, in: input.shape, out: result.shape, ...(result.error ? { error: result.error } : {}), ...(note ? { note } : {}) });
    if (result.outputs !== undefined) return tupleOf(result.outputs, note);
    return new Tensor(result.shape, result.shape ? note : (result.error ?? result.unknown));
  }


  /** The last call is the one reported, as torchinfo does for a layer used twice; the order is that of the last calls. */
  private record(module: Module, call: LayerCall): void {
    this.calls.delete(module);
    this.calls.set(module, call);
  }

  private tensorAttribute(tensor: Tensor, name: string, node: Node): Value {
    if (name === 'shape') return tensor.shape ? tensor.shape.map((d) => d ?? new Unknown('an unknown dimension')) : new Unknown(tensor.reason ?? 'unknown shape');
    // NumPy's and PyTorch's transpose of every axis (the course's `filter_vals.T`).
    if (name === 'T') return new Tensor(tensor.shape && [...tensor.shape].reverse(), tensor.reason);
    if (name === 'ndim') return tensor.shape ? tensor.shape.length : new Unknown(tensor.reason ?? 'unknown shape');
    // `weight.data`, `weight.grad`: the same tensor, for the in-place initialisations that follow.
    if (name === 'data' || name === 'grad') return tensor;
    if (name === 'requires_grad' || name === 'is_cuda') return new Unknown(`${name} of a tensor`, true);
    // In-place operations (`normal_`, `zero_`, `fill_`, `copy_`) change values, never the shape.
    if (name.endsWith('_') && !name.startsWith('_')) return new Callable(`Tensor.${name}`, () => tensor);
    return new Callable(`Tensor.${name}`, (args, keywords, callNode) => this.tensorFunction(name, [tensor, ...args], keywords, callNode ?? node));
  }

  private tensorFunction(name: string, args: Value[], keywords: Map<string, Value>, node: Node): Value {
    const [first] = args;
    if (name === 'cat' || name === 'concat' || name === 'stack') return this.concatenate(name, args[0] ?? null, keywords.get('dim') ?? args[1] ?? 0, node);
    const known = this.valueFunction(name, args);
    if (known !== undefined) return known;
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
        const keepdim = truthy(arg(2, 'keepdim', false));
        if (keepdim === undefined) return new Tensor(null, `${name} with keepdim not known`);
        if (dims === null) return new Tensor([]);
        const list = (Array.isArray(dims) ? dims : [dims]).map((d) => (typeof d === 'number' ? normalizeDim(d, shape.length) : -1));
        if (list.includes(-1)) return new Tensor(null, `${name} over unknown dimensions`);
        return new Tensor(keepdim ? shape.map((d, i) => (list.includes(i) ? 1 : d)) : shape.filter((_, i) => !list.includes(i)));
      }
      case 'squeeze': {
        const dim = args[1];
        if (dim !== undefined && typeof dim !== 'number') return new Tensor(null, 'squeeze of a dimension that is not known');
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
      case 'pad': {
        // Pairs from the last dimension backwards: (left, right, top, bottom, …).
        const pad = arg(1, 'pad', null);
        if (!Array.isArray(pad) || pad.length % 2 !== 0 || !pad.every((p) => typeof p === 'number') || pad.length / 2 > shape.length) return new Tensor(null, 'F.pad with padding that is not known');
        const widths = pad as number[];
        return new Tensor(shape.map((d, i) => {
          const pair = shape.length - 1 - i;
          return d === null || pair * 2 >= widths.length ? d : d + (widths[pair * 2] ?? 0) + (widths[pair * 2 + 1] ?? 0);
        }), first.reason);
      }
      case 'linear': {
        const weight = arg(1, 'weight', null);
        const features = weight instanceof Tensor ? (weight.shape?.[0] ?? null) : null;
        return new Tensor([...shape.slice(0, -1), features], first.reason ?? (features === null ? 'F.linear with a weight of unknown shape' : undefined));
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
      case 'div':
        return this.tensorArithmetic(name === 'add' ? '+' : name === 'mul' ? '*' : name === 'div' ? '/' : '-', first, args[1] ?? null, node);
      case 'matmul':
      case 'bmm':
      case 'mm':
        return this.tensorArithmetic('@', first, args[1] ?? null, node);
      case 't':
        return new Tensor(shape.length < 2 ? shape : [shape[1] ?? null, shape[0] ?? null], first.reason);
      case 'chunk':
      case 'split':
      case 'tensor_split':
      case 'unbind':
        return splitTensor(name, first, shape, arg(1, name === 'chunk' ? 'chunks' : name === 'split' ? 'split_size_or_sections' : 'indices_or_sections', 1), arg(name === 'unbind' ? 1 : 2, 'dim', name === 'unbind' ? (args[1] ?? 0) : 0));
      case 'expand': {
        const sizes = args.length === 2 && Array.isArray(args[1]) ? args[1] : args.slice(1);
        if (!sizes.every((d) => typeof d === 'number')) return new Tensor(null, 'expand to sizes that are not known');
        const lead = sizes.length - shape.length;
        if (lead < 0) return new Tensor(null, `expand to fewer dimensions than ${formatShape(shape)}`);
        return new Tensor((sizes as number[]).map((d, i) => (d === -1 ? (shape[i - lead] ?? null) : d)), first.reason);
      }
      case 'expand_as':
      case 'view_as':
      case 'reshape_as':
      case 'type_as': {
        const other = args[1];
        if (!(other instanceof Tensor)) return new Tensor(null, `${name} of something that is not a tensor`);
        return name === 'type_as' ? first : other;
      }
      case 'max':
      case 'min':
      case 'argmax':
      case 'argmin':
      case 'median':
      case 'mode': {
        if (args[1] instanceof Tensor) return this.tensorArithmetic('+', first, args[1], node);
        const dim = arg(1, 'dim', null);
        const keepdim = truthy(arg(2, 'keepdim', false));
        if (keepdim === undefined) return new Tensor(null, `${name} with keepdim not known`);
        if (dim === null) return new Tensor(name.startsWith('arg') && keepdim ? shape.map(() => 1) : []);
        if (typeof dim !== 'number') return new Tensor(null, `${name} over a dimension that is not known`);
        const at = normalizeDim(dim, shape.length);
        const reduced = new Tensor(keepdim ? shape.map((d, i) => (i === at ? 1 : d)) : shape.filter((_, i) => i !== at), first.reason);
        // With a dimension, max and min give (values, indices).
        return name.startsWith('arg') ? reduced : [reduced, reduced];
      }
      default:
        return new Tensor(null, `\`${name}\` is not analysed`);
    }
  }

  /** What torch computes on tensors of known values: RegNet works its widths out this way. */
  private valueFunction(name: string, args: Value[]): Value | undefined {
    const [first, second] = args;
    const values = first instanceof Tensor ? first.values : undefined;
    if (name === 'pow' && typeof first === 'number' && second instanceof Tensor && second.values) return Tensor.of(second.values.data.map((e) => Math.fround(first) ** e), true);
    if ((name === 'divide' || name === 'div' || name === 'true_divide') && values) return valueArithmetic('/', first ?? null, second ?? null);
    if (!values) return undefined;
    const fn = valueFunctions.get(name);
    if (fn) return Tensor.of(values.data.map(fn), values.float || name === 'log' || name === 'exp' || name === 'sqrt');
    switch (name) {
      case 'int':
      case 'long':
        return Tensor.of(values.data.map(Math.trunc), false);
      case 'float':
        return Tensor.of(values.data, true);
      case 'tolist':
        return [...values.data];
      case 'item':
        return values.data.length === 1 ? (values.data[0] as number) : new Unknown('item() of a tensor of more than one value');
      case 'diff':
        return Tensor.of(values.data.slice(1).map((x, i) => x - (values.data[i] as number)), values.float);
      case 'pow':
        return typeof second === 'number' ? Tensor.of(values.data.map((x) => x ** second), values.float || !Number.isInteger(second)) : undefined;
      default:
        return undefined;
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
  ['enumerate', new Callable('enumerate', ([v, start]) => iterate(v ?? null)?.map((item, i) => [i + (typeof start === 'number' ? start : 0), item]) ?? new Unknown('enumerate() of something unknown'))],
  [
    'zip',
    new Callable('zip', (args) => {
      const lists = args.map(iterate);
      if (!lists.every((l): l is Value[] => l !== undefined)) return new Unknown('zip() of something unknown');
      return Array.from({ length: Math.min(...lists.map((a) => a.length)) }, (_, i) => lists.map((a) => a[i] ?? null));
    }),
  ],
  ['reversed', new Callable('reversed', ([v]) => iterate(v ?? null)?.reverse() ?? new Unknown('reversed() of something unknown'))],
  ['sorted', new Callable('sorted', ([v]) => { const items = iterate(v ?? null); return items?.every((i) => typeof i === 'number') ? [...(items as number[])].sort((a, b) => a - b) : new Unknown('sorted() of something unknown'); })],
  ['isinstance', new Callable('isinstance', ([value, types]) => isInstance(value ?? null, types ?? null))],
  ['str', new Callable('str', ([v]) => (typeof v === 'string' || typeof v === 'number' ? String(v) : new Unknown('str() of something unknown')))],
  ['bool', new Callable('bool', ([v]) => truthy(v ?? false) ?? new Unknown('bool() of something unknown'))],
  ['dict', new Callable('dict', (_args, keywords) => new Dict(new Map(keywords)))],
  ['print', new Callable('print', () => null)],
  ['all', new Callable('all', ([v]) => truthOfAll(v ?? null, true))],
  ['any', new Callable('any', ([v]) => truthOfAll(v ?? null, false))],
  ['next', new Callable('next', ([v, fallback]) => { const items = iterate(v ?? null); return items ? (items.length > 0 ? (items[0] as Value) : (fallback ?? new Unknown('next() of an empty sequence'))) : new Unknown('next() of something unknown'); })],
  ['iter', new Callable('iter', ([v]) => (iterate(v ?? null) ? [...(iterate(v ?? null) as Value[])] : new Unknown('iter() of something unknown')))],
  ['callable', new Callable('callable', ([v]) => (v instanceof FunctionDef || v instanceof Callable || v instanceof ClassInfo || (v instanceof Module && !v.options.plain) ? true : v instanceof Unknown || v instanceof Path || v instanceof Module ? new Unknown('callable() of something unknown') : false))],
  [
    'set',
    new Callable('set', ([v]) => {
      const items = v === undefined ? [] : iterate(v);
      return items ? items.filter((item, i) => !items.slice(0, i).some((other) => other === item)) : new Unknown('set() of something unknown');
    }),
  ],
]);

/** The dotted name Python imports a file by: from its installed package's root, else its stem (`__main__` for an unsaved editor). */
function moduleName(path: string | undefined): string {
  if (!path) return '__main__';
  const parts = path.replace(/\.py$/, '').split(/[\\/]/);
  const root = parts.findIndex((p) => p === 'site-packages' || p === 'dist-packages');
  const dotted = root >= 0 ? parts.slice(root + 1) : parts.slice(-1);
  if (dotted[dotted.length - 1] === '__init__') dotted.pop();
  return dotted.join('.');
}

/** Whether two values are the same object as far as `is` can tell: primitives by value, a dotted name by its path, the rest by identity. */
function sameValue(a: Value, b: Value): boolean | undefined {
  if (a instanceof Unknown || b instanceof Unknown) return undefined;
  if (a instanceof Path && b instanceof Path) return a.path === b.path;
  return a === b;
}

/** Python's `==` where it is known: numbers, strings, None, booleans, sequences of them, and objects by identity. */
function equalValues(a: Value, b: Value): boolean | undefined {
  if (a instanceof Unknown || b instanceof Unknown || a instanceof Tensor || b instanceof Tensor) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    let all: boolean | undefined = true;
    for (const [i, item] of a.entries()) {
      const same = equalValues(item, b[i] as Value);
      if (same === false) return false;
      if (same === undefined) all = undefined;
    }
    return all;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b) && (typeof a === 'boolean' || typeof a === 'number') && (typeof b === 'boolean' || typeof b === 'number');
  if (a instanceof Dict || b instanceof Dict) return a instanceof Dict && b instanceof Dict && a === b ? true : undefined;
  return sameValue(a, b);
}

function compareValues(op: string, a: Value, b: Value): Value {
  switch (op) {
    case 'in':
    case 'not in': {
      if (typeof b === 'string') return typeof a === 'string' ? b.includes(a) === (op === 'in') : new Unknown('`in` of a string and something else');
      const items = b instanceof Dict ? [...b.entries.keys()] : b instanceof Module && b.options.container === 'dict' ? [...b.children.keys()] : iterate(b);
      if (!items) return new Unknown('`in` of something that cannot be iterated');
      let found: boolean | undefined = false;
      for (const item of items) {
        const same = equalValues(a, item);
        if (same) return op === 'in';
        if (same === undefined) found = undefined;
      }
      return found === undefined ? new Unknown('`in` of values that are not known') : op !== 'in';
    }
    case 'is':
    case 'is not': {
      const same = sameValue(a, b);
      return same === undefined ? new Unknown('`is` of something not known') : same === (op === 'is');
    }
    case '==':
    case '!=': {
      const same = equalValues(a, b);
      return same === undefined ? new Unknown('`==` of something not known') : same === (op === '==');
    }
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
    }
  }
  if (typeof a === 'string' && typeof b === 'string') return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  return new Unknown(`\`${op}\` of something not known`);
}

/** all() (every) and any() (not every): short-circuits on the first item that decides, unknown when an undecided item is not known. */
function truthOfAll(value: Value, every: boolean): Value {
  const items = iterate(value);
  if (!items) return new Unknown(`${every ? 'all' : 'any'}() of something unknown`);
  let unknown = false;
  for (const item of items) {
    const truth = truthy(item);
    if (truth === undefined) unknown = true;
    else if (truth !== every) return !every;
  }
  return unknown ? new Unknown(`${every ? 'all' : 'any'}() of values not known`) : every;
}

/** isinstance() where the value's kind is known: numbers, strings, sequences, tensors, modules. */
function isInstance(value: Value, types: Value): Value {
  if (value instanceof Unknown) return value;
  const candidates = Array.isArray(types) ? types : [types];
  let unknown = false;
  for (const type of candidates) {
    const name = type instanceof Callable ? type.describe : type instanceof Path ? type.path : undefined;
    if (type instanceof ClassInfo) {
      if (value instanceof Module && value.options.cls?.mro.includes(type)) return true;
    } else if (name === 'int') {
      if (typeof value === 'number' && Number.isInteger(value)) return true;
      if (typeof value === 'boolean') return true;
    } else if (name === 'float') {
      if (typeof value === 'number' && !Number.isInteger(value)) return true;
    } else if (name === 'bool' || name === 'str' || name === 'dict') {
      if ((name === 'bool' && typeof value === 'boolean') || (name === 'str' && typeof value === 'string') || (name === 'dict' && value instanceof Dict)) return true;
    } else if (name === 'list' || name === 'tuple') {
      if (Array.isArray(value)) return true;
    } else if (name && /^(typing|collections\.abc)\.(Sequence|Iterable|List|Tuple|Collection)$/.test(name)) {
      if (Array.isArray(value) || typeof value === 'string') return true;
    } else if (name && /^(typing|collections\.abc)\.(Mapping|Dict|MutableMapping)$/.test(name)) {
      if (value instanceof Dict) return true;
    } else if (name === 'types.FunctionType' || name === 'types.LambdaType' || name === 'types.MethodType') {
      if (value instanceof FunctionDef) return true;
    } else if (name?.endsWith('.Tensor') || name === 'torch.nn.Parameter') {
      if (value instanceof Tensor) return true;
    } else if (name?.startsWith('torch.nn.') && !name.startsWith('torch.nn.functional')) {
      const torchType = name.slice('torch.nn.'.length);
      if (value instanceof Module && (torchType === 'Module' || value.type === torchType || (torchType in containerKinds && value.options.container === containerKinds[torchType as keyof typeof containerKinds]))) return true;
    } else {
      unknown = true;
    }
  }
  return unknown ? new Unknown('isinstance() of a type that is not known') : false;
}

type DictMethod = (dict: Dict, args: Value[]) => Value;

/** A dictionary key the analysis can tell apart from others: a string, a number, a boolean, None. */
function isKey(key: Value | undefined): boolean {
  return key === null || typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean';
}

const dictMethods = new Map<string, DictMethod>([
  ['items', (dict) => [...dict.entries].map(([k, v]) => [k, v])],
  ['keys', (dict) => [...dict.entries.keys()]],
  ['values', (dict) => [...dict.entries.values()]],
  ['get', (dict, [key, fallback]) => (isKey(key) ? (dict.entries.get(String(key)) ?? fallback ?? null) : new Unknown('get() of a key that is not known'))],
  [
    'pop',
    (dict, [key, fallback]) => {
      if (!isKey(key)) return new Unknown('pop() of a key that is not known');
      const value = dict.entries.get(String(key));
      dict.entries.delete(String(key));
      return value ?? fallback ?? new Unknown(`no key ${String(key)}`);
    },
  ],
  [
    'setdefault',
    (dict, [key, fallback]) => {
      if (!isKey(key)) return new Unknown('setdefault() of a key that is not known');
      if (!dict.entries.has(String(key))) dict.entries.set(String(key), fallback ?? null);
      return dict.entries.get(String(key)) as Value;
    },
  ],
  [
    'update',
    (dict, [other]) => {
      if (other instanceof Dict) for (const [k, v] of other.entries) dict.entries.set(k, v);
      return null;
    },
  ],
  ['copy', (dict) => new Dict(new Map(dict.entries))],
]);

type StringMethod = (text: string, args: Value[], keywords: Map<string, Value>) => Value;

const stringMethods = new Map<string, StringMethod>([
  [
    'format',
    (text, args, keywords) => {
      let next = 0;
      let failed = false;
      const result = text.replace(/\{\{|\}\}|\{([^{}!:]*)(![rsa])?(?::([^{}]*))?\}/g, (whole, field: string | undefined, conversion: string | undefined, spec: string | undefined) => {
        if (whole === '{{' || whole === '}}') return whole[0] as string;
        const name = field ?? '';
        const value = name === '' ? args[next++] : /^\d+$/.test(name) ? args[Number(name)] : keywords.get(name);
        const formatted = value === undefined ? undefined : formatField(value, spec ?? '', conversion ?? '');
        if (formatted === undefined) failed = true;
        return formatted ?? '';
      });
      return failed ? new Unknown(`the formatted string \`${text}\` is not known`) : result;
    },
  ],
  ['startswith', (text, [prefix]) => (typeof prefix === 'string' ? text.startsWith(prefix) : Array.isArray(prefix) ? prefix.some((p) => typeof p === 'string' && text.startsWith(p)) : new Unknown('startswith() of something unknown'))],
  ['endswith', (text, [suffix]) => (typeof suffix === 'string' ? text.endsWith(suffix) : new Unknown('endswith() of something unknown'))],
  ['lower', (text) => text.toLowerCase()],
  ['upper', (text) => text.toUpperCase()],
  ['strip', (text) => text.trim()],
  ['replace', (text, [a, b]) => (typeof a === 'string' && typeof b === 'string' ? text.split(a).join(b) : new Unknown('replace() of something unknown'))],
  ['split', (text, [separator]) => (typeof separator === 'string' ? text.split(separator) : text.trim().split(/\s+/))],
  ['join', (text, [items]) => (Array.isArray(items) && items.every((i) => typeof i === 'string') ? items.join(text) : new Unknown('join() of something unknown'))],
]);

const mathFunctions = new Map<string, (numbers: number[]) => number>([
  ['ceil', ([n = NaN]) => Math.ceil(n)],
  ['floor', ([n = NaN]) => Math.floor(n)],
  ['sqrt', ([n = NaN]) => Math.sqrt(n)],
  ['log', ([n = NaN, base]) => (base === undefined ? Math.log(n) : Math.log(n) / Math.log(base))],
  ['log2', ([n = NaN]) => Math.log2(n)],
  ['prod', (n) => n.reduce((a, b) => a * b, 1)],
  ['gcd', ([a = 0, b = 0]) => gcd(a, b)],
]);

function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

const mathConstants = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['inf', Infinity],
]);

const identityDecorators = new Set(['functools.wraps', 'functools.lru_cache', 'functools.cache', 'torch.jit.ignore', 'torch.jit.unused', 'torch.jit.export', 'torch.jit.script_method', 'torch.no_grad', 'torch.inference_mode', 'torch.jit.script', 'torch.compile', 'typing.overload', 'typing.final']);

/** Functions whose results are no part of a model (devices, seeds, grad modes, the clock): not knowing them loses nothing. */
const inertFunctions = new Set(['torch.device', 'torch.manual_seed', 'torch.no_grad', 'torch.enable_grad', 'torch.set_grad_enabled', 'torch.inference_mode', 'torch.get_default_dtype', 'torch.set_default_dtype', 'torch.dtype', 'torch.Generator']);
const inertNamespaces = ['torch.cuda', 'torch.backends', 'torch.distributed', 'random', 'numpy.random', 'os', 'sys', 'logging', 'time', 'warnings', 'pathlib', 'json'];

/** torch functions that make a tensor of the sizes they are given. */
const tensorConstructors = new Set(['zeros', 'ones', 'randn', 'rand', 'empty', 'full', 'Tensor', 'FloatTensor']);

function numbersOf(args: Value[], combine: (numbers: number[]) => number): Value {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return list.every((v) => typeof v === 'number') && list.length > 0 ? combine(list as number[]) : new Unknown('an operation on unknown numbers');
}
