// The values the evaluator computes with: Python's objects as far as a model's shapes need them, and what is not known.
import { type LayerSpec, paramCount } from '../layers';
import { WholeFloat } from '../torchLayers';
import type { Shape } from '../shape';
import type { Node } from '../syntax';
import type { ClassInfo, PythonFile } from './program';

export class Unknown {
  constructor(
    readonly reason: string,
    /** A value that is no part of a model (a device, a dtype, a random number): not knowing it loses nothing. */
    readonly inert = false,
    /** What a model package's factory built where its source was not found (`models.vgg16()`): a model, not read. */
    readonly unreadModel = false,
  ) {}
}

export class Tensor {
  constructor(
    readonly shape: Shape | null,
    readonly reason?: string,
    /** An nn.Parameter, counted with the module it is assigned to. */
    readonly parameter = false,
    /**
     * Whose parameter it is (a layer's `self.embed.weight`, a module's own nn.Parameter from its
     * first assignment on), so that tying or freezing it reaches where it is counted. Set on the
     * object, as Python's identity is: the same nn.Parameter assigned again is the one counted.
     */
    public owner?: { module: Module; name: string },
    /** A small 1-d tensor of known values (torch.arange(depth) * w_a + w_0: RegNet's widths), in float32 when `float`. */
    readonly values?: { data: number[]; float: boolean },
    /** An nn.Parameter made with requires_grad=False: counted, not trained. */
    readonly frozen = false,
  ) {}

  static of(data: number[], float: boolean): Tensor {
    return new Tensor([data.length], undefined, false, undefined, { data: float ? data.map(Math.fround) : data, float });
  }
}

/**
 * Told of every change to a module or to a list or dict the evaluator holds, while the memo of
 * instantiations (memo.ts) watches a constructor run: what it changed outside what it made.
 */
export const changes: { hook: ((target: Module | 'shared') => void) | undefined } = { hook: undefined };

let changesMade = 0;

/** How many changes to modules have been made: a module changed later has a higher `changedAt`. */
export function changeCount(): number {
  return changesMade;
}

/** A change to a module, or to a list, dict or module-level name the evaluator holds ('shared'). */
export function changed(target: Module | 'shared'): void {
  if (target !== 'shared') target.changedAt = ++changesMade;
  changes.hook?.(target);
}

/** Iterators of an empty map and set, done once for all: of the same kinds as a filled one's, so that V8 keeps iterating them fast. */
const noEntries: IterableIterator<never> = new Map<never, never>().values();
const noNames: IterableIterator<never> = new Set<never>().values();

/**
 * A module's map, which tells `changes` of each change. Its storage is made at the first entry:
 * most modules are layers with no children, attributes or own parameters, and a ResNet-1202 built
 * again after an edit made 21,000 empty Maps and Sets, and collecting them took a large part of the edit.
 */
class ModuleMap<V> {
  private map: Map<string, V> | undefined;
  constructor(private readonly module: Module) {}
  get size(): number {
    return this.map?.size ?? 0;
  }
  get(key: string): V | undefined {
    return this.map?.get(key);
  }
  has(key: string): boolean {
    return this.map?.has(key) ?? false;
  }
  set(key: string, value: V): this {
    changed(this.module);
    (this.map ??= new Map()).set(key, value);
    return this;
  }
  delete(key: string): boolean {
    changed(this.module);
    return this.map?.delete(key) ?? false;
  }
  keys(): IterableIterator<string> {
    return this.map?.keys() ?? noEntries;
  }
  values(): IterableIterator<V> {
    return this.map?.values() ?? noEntries;
  }
  entries(): IterableIterator<[string, V]> {
    return this.map?.entries() ?? noEntries;
  }
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
  /** Each entry without an entry array made for it: the walks of a 3,600-module tree read every child. */
  forEach(visit: (value: V, key: string) => void): void {
    this.map?.forEach(visit);
  }
}

/** A module's set of names, made at its first name, which tells `changes` of each change (ModuleMap). */
class ModuleSet {
  private set: Set<string> | undefined;
  constructor(private readonly module: Module) {}
  get size(): number {
    return this.set?.size ?? 0;
  }
  has(value: string): boolean {
    return this.set?.has(value) ?? false;
  }
  add(value: string): this {
    changed(this.module);
    (this.set ??= new Set()).add(value);
    return this;
  }
  delete(value: string): boolean {
    changed(this.module);
    return this.set?.delete(value) ?? false;
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.set?.values() ?? noNames;
  }
}

let modulesMade = 0;

/** How many modules have been made: one made later has a higher serial. */
export function moduleCount(): number {
  return modulesMade;
}

export class Module {
  readonly serial = ++modulesMade;
  /** Where the report places it: the constructing call in the file analysed, else the call that led into the imported file. */
  site: Node;
  readonly children = new ModuleMap<Module>(this);
  /** Elements of the nn.Parameters assigned to it (`self.cls_token = nn.Parameter(...)`), by name. */
  readonly parameters = new ModuleMap<number | null>(this);
  /** Its layer's parameters replaced by another module's (`self.out.weight = self.embed.weight`), counted there. */
  readonly tied = new ModuleSet(this);
  /** Its persistent buffers (`register_buffer(name, tensor)`), kept in `attributes`: state_dict entries, not parameters. */
  readonly buffers = new ModuleSet(this);
  /** Its parameters set to `requires_grad = False` (a frozen backbone): counted, not trained. */
  readonly frozen = new ModuleSet(this);
  readonly attributes = new ModuleMap<Value>(this);
  path: string | undefined;
  /** When it last changed (changeCount), and, for a copy of a memo's template (memo.ts), the template's module it copies and when. */
  changedAt = 0;
  origin: Module | undefined;
  copiedAt = 0;

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
      /** Built by a model package whose source was not found (torchvision not installed where the probe looked): a model, not read. */
      unreadModel?: boolean;
    } = {},
  ) {
    this.site = node;
    // Being made is a change (memo.ts reads when); `training` is read as False until set (expressions.ts).
    changed(this);
  }
}

export class Dict {
  constructor(readonly entries: Map<string, Value>) {}
}

/** A dotted name not yet resolved to a value: `torch.nn.Conv2d`, `torch.nn.functional.relu`. */
export class Path {
  constructor(readonly path: string) {}
}

export class Callable {
  constructor(
    readonly describe: string,
    readonly call: (args: Value[], keywords: Map<string, Value>, node: Node) => Value,
  ) {}
}

export type Value = number | WholeFloat | string | boolean | null | Value[] | Unknown | Tensor | Module | Dict | Path | Callable | ClassInfo | FunctionDef | Super | Namespace;

export { WholeFloat };

/** A number's value, int or float; undefined for anything else (a bool is not read as one). */
export function numberOf(value: Value | undefined): number | undefined {
  return typeof value === 'number' ? value : value instanceof WholeFloat ? value.value : undefined;
}

/** Whether a number is a Python float: a whole one is marked, others are not whole. */
export function isFloat(value: Value | undefined): boolean {
  return value instanceof WholeFloat || (typeof value === 'number' && !Number.isInteger(value));
}

/** A result as Python types it: a float of whole value is marked so that it is not taken for an int. */
export function numeric(value: number, float: boolean): number | WholeFloat {
  return float && Number.isInteger(value) ? new WholeFloat(value) : value;
}

export class FunctionDef {
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

  /** What `functools.wraps` says it wraps: inspect.signature follows it, as Python's does. */
  wrapped: Value | undefined;
}

/** A file's module namespace, as `sys.modules[__name__]` and `globals()` give it: setattr on it defines names. */
export class Namespace {
  constructor(
    readonly scope: Scope,
    /** The file it is the namespace of, for a module imported as a value (`import torchvision.models as models`). */
    readonly file?: PythonFile,
  ) {}
}

/** What `super()` or `super(Cls, self)` evaluates to inside a method. */
export class Super {
  constructor(
    readonly self: Module,
    readonly after: ClassInfo,
  ) {}
}

export class BudgetExceeded extends Error {}

/** A Python exception the evaluated code raises (`raise`, a failed `assert`): caught by its `try`, else the model cannot be built. */
export class Raised {
  constructor(
    /** The exception's class name as written: `ValueError`, `NotImplementedError`. */
    readonly type: string,
    readonly node: Node,
  ) {}
}

/** How a block was left: `return` with its value, `break`, `continue`, or undefined at its end. */
export type Flow = { value: Value } | 'break' | 'continue' | undefined;

/** A slice `start:stop:step` with Python's rules for None and negative bounds. */
/** A submodule's name as nn.Module.add_module takes it (a ModuleDict's keys, an OrderedDict's for nn.Sequential): PyTorch raises KeyError on a dot or on nothing. */
export function submoduleName(name: string, node: Node): string {
  if (name === '' || name.includes('.')) throw new Raised('KeyError', node);
  return name;
}

export class Slice {
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

export type Index = Value | Slice | 'ellipsis';

export interface Scope {
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

export interface LayerCall {
  module: Module;
  in: Shape | null;
  out: Shape | null;
  error?: string;
  note?: string;
}

/** nn.Module methods that hand the module back: `Net().to(device)` is the model. */
export const returnsSelf = new Set(['to', 'cuda', 'cpu', 'eval', 'train', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'apply', 'share_memory', 'zero_grad']);

/** Python's truth of a value; undefined when it is not known (a tensor's depends on its values). */
export function truthy(value: Value): boolean | undefined {
  if (value instanceof Unknown) return undefined;
  if (value instanceof Tensor) return value.values?.data.length === 1 ? value.values.data[0] !== 0 : undefined;
  if (value === null || value === false || value === 0 || value === '') return false;
  if (value instanceof WholeFloat) return value.value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Dict) return value.entries.size > 0;
  // nn.Sequential, ModuleList and ModuleDict have a length (an empty shortcut is false); other modules have none.
  if (value instanceof Module && value.options.container) return value.children.size > 0;
  return true;
}

/** Why a condition or an iterable is not known, for the report. */
export function unknownReason(value: Value): string {
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

/**
 * The first tensor of a call's arguments or output, depth first through tuples, lists and dicts, as
 * PyTorch's hooks (exact mode) show a call's input and output. Something unknown met before any
 * tensor may be that tensor: the answer is then unknown.
 */
export function firstTensor(value: Value): Tensor | Unknown | undefined {
  if (value instanceof Tensor || value instanceof Unknown) return value;
  const items = Array.isArray(value) ? value : value instanceof Dict ? value.entries.values() : undefined;
  if (items) for (const item of items) {
    const found = firstTensor(item);
    if (found) return found;
  }
  return undefined;
}

/** What a for loop would go through, or undefined when that is not known. */
export function iterate(value: Value): Value[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Module && value.options.container) return value.options.container === 'dict' ? [...value.children.keys()] : [...value.children.values()];
  if (value instanceof Dict) return [...value.entries.keys()];
  if (typeof value === 'string') return [...value];
  return undefined;
}

/**
 * copy.copy and copy.deepcopy. A deep copy copies each object once, as Python's memo does, so what
 * the original shares (a layer registered twice, a weight tied to another layer's) the copy shares
 * too; a module's bookkeeping (nn.Parameters, tied, frozen and buffer names) comes with it and a
 * layer keeps its spec (never changed in place). A shallow copy of a module holds the same children,
 * as Python's shares its `_modules`.
 */
export function copyValue(value: Value, deep: boolean): Value {
  if (!deep) {
    if (Array.isArray(value)) return [...value];
    if (value instanceof Dict) return new Dict(new Map(value.entries));
    return value instanceof Module ? (copyModuleFields(value, new Module(value.type, value.node, { ...value.options }), (child) => child) as Module) : value;
  }
  const copies = new Map<object, Value>();
  const copy = (item: Value): Value => {
    if (typeof item !== 'object' || item === null) return item;
    const known = copies.get(item);
    if (known !== undefined) return known;
    if (Array.isArray(item)) {
      const items: Value[] = [];
      copies.set(item, items);
      for (const element of item) items.push(copy(element));
      return items;
    }
    if (item instanceof Dict) {
      const dict = new Dict(new Map());
      copies.set(item, dict);
      for (const [key, element] of item.entries) dict.entries.set(key, copy(element));
      return dict;
    }
    if (item instanceof Module) {
      const made = new Module(item.type, item.node, { ...item.options });
      copies.set(item, made);
      return copyModuleFields(item, made, copy) as Module;
    }
    // A layer's own parameter belongs to the copy of its layer, so that tying still counts it once.
    if (item instanceof Tensor && item.owner) return new Tensor(item.shape, item.reason, item.parameter, { module: copy(item.owner.module) as Module, name: item.owner.name }, item.values, item.frozen);
    // A bound method is bound again to the copy of its instance, as copy's _deepcopy_method does.
    if (item instanceof FunctionDef && item.self) {
      const method = new FunctionDef(item.node, copy(item.self) as Module, item.owner, item.file, item.closure);
      method.wrapped = item.wrapped;
      return method;
    }
    // Classes, functions, dotted names, unknowns and other tensors never change in place.
    return item;
  };
  return copy(value);
}

/**
 * Fills `made`, a new module of `original`'s type and options, with its children and attributes as
 * `copy` gives them and its bookkeeping; undefined when `copy` refuses one (the memo's copies do).
 */
export function copyModuleFields(original: Module, made: Module, copy: (value: Value) => Value | undefined): Module | undefined {
  made.site = original.site;
  made.path = original.path;
  let refused = false;
  original.children.forEach((child, name) => {
    const copied = refused ? undefined : copy(child);
    if (copied instanceof Module) made.children.set(name, copied);
    else refused = true;
  });
  original.attributes.forEach((attribute, name) => {
    const copied = refused ? undefined : copy(attribute);
    if (copied !== undefined) made.attributes.set(name, copied);
    else refused = true;
  });
  if (refused) return undefined;
  original.parameters.forEach((elements, name) => made.parameters.set(name, elements));
  for (const name of original.tied) made.tied.add(name);
  for (const name of original.buffers) made.buffers.add(name);
  for (const name of original.frozen) made.frozen.add(name);
  return made;
}

/** Whether two values are the same object as far as `is` can tell: primitives by value, a dotted name by its path, the rest by identity. */
function sameValue(a: Value, b: Value): boolean | undefined {
  if (a instanceof Unknown || b instanceof Unknown) return undefined;
  if (a instanceof Path && b instanceof Path) return a.path === b.path;
  return a === b;
}

/** Python's `==` where it is known: numbers, strings, None, booleans, sequences of them, and objects by identity. */
export function equalValues(a: Value, b: Value): boolean | undefined {
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
  const [x, y] = [typeof a === 'boolean' ? Number(a) : numberOf(a), typeof b === 'boolean' ? Number(b) : numberOf(b)];
  if (x !== undefined && y !== undefined) return x === y;
  if (typeof a === 'boolean' || typeof b === 'boolean' || a instanceof WholeFloat || b instanceof WholeFloat) return false;
  if (a instanceof Dict || b instanceof Dict) return a instanceof Dict && b instanceof Dict && a === b ? true : undefined;
  return sameValue(a, b);
}

export function compareValues(op: string, a: Value, b: Value): Value {
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
  const [x, y] = [numberOf(a), numberOf(b)];
  if (x !== undefined && y !== undefined) {
    switch (op) {
      case '<':
        return x < y;
      case '>':
        return x > y;
      case '<=':
        return x <= y;
      case '>=':
        return x >= y;
    }
  }
  if (typeof a === 'string' && typeof b === 'string') return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  return new Unknown(`\`${op}\` of something not known`);
}

// A layer's parameters and constructor arguments, as PyTorch names them on the module.

/** A layer's parameter names as PyTorch registers them. */
export function specParameterNames(spec: LayerSpec): string[] {
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
export function specField(spec: LayerSpec, name: string): Value | undefined {
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

/** The elements of a layer's `weight` or `bias`, for the layers whose parameters are tied in practice. */
/** `p.requires_grad = flag` (or `requires_grad_(flag)`) on a parameter: whose it is knows it is frozen or trained. */
export function freeze(parameter: Value, flag: Value): boolean {
  if (!(parameter instanceof Tensor) || !parameter.owner || (typeof flag !== 'boolean' && typeof flag !== 'number')) return false;
  if (flag) parameter.owner.module.frozen.delete(parameter.owner.name);
  else parameter.owner.module.frozen.add(parameter.owner.name);
  return true;
}

/** Each module of root's tree once, in named_modules() order: a module registered twice is listed once, as PyTorch lists it and parameters() counts it. */
export function uniqueModules(root: Module): Module[] {
  const seen = new Set<Module>();
  const visit = (module: Module) => {
    if (seen.has(module)) return;
    seen.add(module);
    module.children.forEach(visit);
  };
  visit(root);
  return [...seen];
}

/** The elements of a module's frozen parameters: a layer's by their sizes, its own nn.Parameters by theirs. */
export function frozenElements(module: Module): number {
  const spec = module.options.spec;
  let count = 0;
  for (const name of module.frozen) {
    const own = module.parameters.get(name);
    if (own !== undefined) count += own ?? 0;
    else if (spec) count += parameterSize(spec, name);
  }
  return count;
}

/** One parameter of a layer, by name: the layers that tie weights know theirs, norms have one per feature, others keep all in `weight`. */
function parameterSize(spec: LayerSpec, name: string): number {
  const known = layerParameterSize(spec, name);
  if (known !== undefined) return known;
  if (spec.kind === 'batchNorm') return spec.features;
  if (spec.kind === 'groupNorm') return spec.channels;
  if (spec.kind === 'layerNorm') return spec.normalizedShape.reduce((a, b) => a * b, 1);
  return name === 'weight' ? paramCount(spec) : 0;
}

export function layerParameterSize(spec: LayerSpec, name: string): number | undefined {
  if (spec.kind === 'linear') return name === 'weight' ? spec.inFeatures * spec.outFeatures : name === 'bias' && spec.bias ? spec.outFeatures : undefined;
  if (spec.kind === 'conv') return name === 'bias' ? (spec.bias ? spec.outChannels : undefined) : name === 'weight' ? paramCount(spec) - (spec.bias ? spec.outChannels : 0) : undefined;
  if (spec.kind === 'embedding') return name === 'weight' ? spec.count * spec.dim : undefined;
  return undefined;
}
