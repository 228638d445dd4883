// Python's builtins and the standard library's functions model code calls: the names no file defines.
import { ClassInfo, containerKinds } from './program';
import { Callable, Dict, FunctionDef, isFloat, iterate, Module, numberOf, numeric, Path, Raised, Tensor, truthy, Unknown, type Value, WholeFloat } from './values';

/**
 * The keyword arguments each builtin below follows; any other makes its answer unknown, since
 * ignoring it would give another answer than Python's (`max(xs, key=…)`, `sorted(xs, key=…)`).
 */
const keywordsFollowed: Record<string, readonly string[] | 'any'> = { dict: 'any', print: 'any', enumerate: ['start'], sorted: ['reverse'] };

/** The most positional arguments each builtin below takes: Python refuses more (`len(x, 1)`), which must not be read as `len(x)`. */
const mostArguments: Record<string, number> = { range: 3, len: 1, int: 2, float: 1, abs: 1, round: 2, sum: 2, list: 1, tuple: 1, enumerate: 2, reversed: 1, sorted: 1, isinstance: 2, str: 1, bool: 1, dict: 1, all: 1, any: 1, next: 2, iter: 2, callable: 1, object: 0, set: 1 };

/** Each builtin, refusing the keyword arguments it does not follow and more arguments than it takes. */
function followingKeywords(entries: [string, Value][]): Map<string, Value> {
  return new Map(
    entries.map(([name, value]): [string, Value] => {
      const followed = keywordsFollowed[name] ?? [];
      const most = mostArguments[name] ?? Infinity;
      if (!(value instanceof Callable)) return [name, value];
      const checked: Value = new Callable(value.describe, (args, keywords, node) => {
        if (args.length > most) return new Unknown(`${name}() with ${args.length} arguments is not followed`);
        if (followed !== 'any') for (const keyword of keywords.keys()) if (!followed.includes(keyword)) return new Unknown(`${name}() with ${keyword}= is not followed`);
        return value.call(args, keywords, node);
      });
      return [name, checked];
    }),
  );
}

/** What float() reads from text: a decimal, `inf`, `nan`. */
const floatText = /^\s*[-+]?((\d+\.?\d*|\.\d+)(e[-+]?\d+)?|inf(inity)?|nan)\s*$/i;

export const builtins = followingKeywords([
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
  ['len', new Callable('len', ([v]) => (Array.isArray(v) ? v.length : typeof v === 'string' ? [...v].length : v instanceof Module ? v.children.size : v instanceof Dict ? v.entries.size : new Unknown('len() of something unknown')))],
  // int(text, base) is not followed; int('1.5') raises in Python, so only whole numbers are read from text.
  ['int', new Callable('int', ([v, base]) => (base !== undefined ? new Unknown('int() in another base is not followed') : numberOf(v) !== undefined ? Math.trunc(numberOf(v) as number) : typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : new Unknown('int() of something unknown')))],
  ['float', new Callable('float', ([v]) => (numberOf(v) !== undefined ? numeric(numberOf(v) as number, true) : typeof v === 'string' && floatText.test(v) ? numeric(Number(v.trim().toLowerCase().replace(/^([-+]?)inf(inity)?$/, '$1Infinity').replace(/^[-+]?nan$/, 'NaN')), true) : new Unknown('float() of something unknown')))],
  // min() and max() give back the item they pick (max(2, 2.0) is the int 2); sum() is a float when an item is.
  ['min', new Callable('min', (args) => numbersOf(args, { compute: (n) => Math.min(...n), result: 'pick', sequence: true }))],
  ['max', new Callable('max', (args) => numbersOf(args, { compute: (n) => Math.max(...n), result: 'pick', sequence: true }))],
  ['sum', new Callable('sum', ([iterable, start]) => {
    // sum(iterable, start): the items of one iterable, after start (0 unless given).
    const items = iterate(iterable ?? null);
    if (!items) return new Unknown('sum() of something not iterable or unknown');
    const all = start === undefined ? items : [start, ...items];
    return all.length === 0 ? 0 : numbersOf([all], { compute: (n) => n.reduce((a, b) => a + b, 0), result: 'same', sequence: true });
  })],
  ['abs', new Callable('abs', ([v]) => (numberOf(v) !== undefined ? numeric(Math.abs(numberOf(v) as number), isFloat(v)) : new Unknown('abs() of something unknown')))],
  // round(x) is an int; round(x, digits) keeps x's type.
  ['round', new Callable('round', ([v, digits]) => (numberOf(v) !== undefined && (digits === undefined || digits === null || (typeof digits === 'number' && Number.isInteger(digits) && digits >= 0 && digits <= 15)) ? numeric(pythonRound(numberOf(v) as number, digits ?? null), isFloat(v) && digits !== undefined && digits !== null) : new Unknown('round() of something unknown')))],
  ['list', new Callable('list', ([v]) => (Array.isArray(v) ? [...v] : v === undefined ? [] : new Unknown('list() of something unknown')))],
  ['tuple', new Callable('tuple', ([v]) => (Array.isArray(v) ? [...v] : v === undefined ? [] : new Unknown('tuple() of something unknown')))],
  [
    'enumerate',
    new Callable('enumerate', ([v, given], keywords) => {
      const start = given ?? keywords.get('start') ?? 0;
      if (typeof start !== 'number') return new Unknown('enumerate() from a start that is not known');
      return iterate(v ?? null)?.map((item, i) => [i + start, item]) ?? new Unknown('enumerate() of something unknown');
    }),
  ],
  [
    'zip',
    new Callable('zip', (args) => {
      const lists = args.map(iterate);
      if (!lists.every((l): l is Value[] => l !== undefined)) return new Unknown('zip() of something unknown');
      return Array.from({ length: Math.min(...lists.map((a) => a.length)) }, (_, i) => lists.map((a) => a[i] ?? null));
    }),
  ],
  // A reversed copy: the sequence itself stays as it is.
  ['reversed', new Callable('reversed', ([v]) => { const items = iterate(v ?? null); return items ? [...items].reverse() : new Unknown('reversed() of something unknown'); })],
  [
    'sorted',
    new Callable('sorted', ([v], keywords) => {
      const items = iterate(v ?? null);
      const reverse = truthy(keywords.get('reverse') ?? false);
      if (!items?.every((i) => typeof i === 'number') || reverse === undefined) return new Unknown('sorted() of something unknown');
      const ascending = [...(items as number[])].sort((a, b) => a - b);
      return reverse ? ascending.reverse() : ascending;
    }),
  ],
  ['isinstance', new Callable('isinstance', ([value, types]) => isInstance(value ?? null, types ?? null))],
  ['str', new Callable('str', ([v]) => (typeof v === 'string' ? v : numberOf(v) !== undefined ? pythonStr(v as number | WholeFloat) : new Unknown('str() of something unknown')))],
  ['bool', new Callable('bool', ([v]) => truthy(v ?? false) ?? new Unknown('bool() of something unknown'))],
  ['dict', new Callable('dict', ([source], keywords) => {
    // dict(other, **more) and dict(pairs): the given entries first, then the keywords.
    const entries = new Map<string, Value>();
    if (source instanceof Dict) for (const [key, value] of source.entries) entries.set(key, value);
    else if (source !== undefined) {
      const pairs = iterate(source);
      if (!pairs) return new Unknown('dict() of something unknown');
      for (const pair of pairs) {
        if (!Array.isArray(pair) || pair.length !== 2 || !isKey(pair[0])) return new Unknown('dict() of pairs not known');
        entries.set(String(pair[0]), pair[1] as Value);
      }
    }
    for (const [key, value] of keywords) entries.set(key, value);
    return new Dict(entries);
  })],
  ['print', new Callable('print', () => null)],
  ['all', new Callable('all', ([v]) => truthOfAll(v ?? null, true))],
  ['any', new Callable('any', ([v]) => truthOfAll(v ?? null, false))],
  [
    'next',
    new Callable('next', ([v, fallback], _keywords, node) => {
      const items = iterate(v ?? null);
      if (!items) return new Unknown('next() of something unknown');
      if (items.length > 0) return items[0] as Value;
      if (fallback !== undefined) return fallback;
      throw new Raised('StopIteration', node);
    }),
  ],
  ['iter', new Callable('iter', ([v]) => (iterate(v ?? null) ? [...(iterate(v ?? null) as Value[])] : new Unknown('iter() of something unknown')))],
  ['callable', new Callable('callable', ([v]) => isCallable(v ?? null))],
  // A fresh object, only ever compared by identity (a sentinel).
  ['object', new Callable('object', (_args, _keywords, node) => new Module('object', node, { plain: true }))],
  ['type', new Callable('type', ([v, ...rest]) => (rest.length > 0 ? new Unknown('type() making a class') : typeOf(v ?? null)))],
  [
    'set',
    new Callable('set', ([v]) => {
      const items = v === undefined ? [] : iterate(v);
      return items ? items.filter((item, i) => !items.slice(0, i).some((other) => other === item)) : new Unknown('set() of something unknown');
    }),
  ],
]);

/**
 * Python's round(): halves go to the even neighbour (round(2.5) is 2, JavaScript's Math.round says 3),
 * and with digits the exact value of the float decides, as CPython's correctly rounded repr does
 * (round(2.675, 2) is 2.67: the float is a little under 2.675).
 */
function pythonRound(value: number, digits: number | null): number {
  if (!Number.isFinite(value)) return value;
  if (digits === null) {
    const floor = Math.floor(value);
    const rest = value - floor;
    return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  }
  // The float's decimal expansion, far enough past the digits kept to tell an exact half from a near one.
  const exact = Math.abs(value).toFixed(Math.min(100, digits + 30));
  const point = exact.indexOf('.');
  const kept = exact.slice(0, point + 1 + digits);
  const dropped = exact.slice(point + 1 + digits);
  const odd = Number(kept.replace('.', '').slice(-1)) % 2 === 1;
  const up = /^50*$/.test(dropped) ? odd : (dropped[0] ?? '0') >= '5';
  const magnitude = Number(kept) + (up ? 10 ** -digits : 0);
  const rounded = Number(magnitude.toFixed(digits));
  return value < 0 ? -rounded : rounded;
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
      if (isFloat(value)) return true;
    } else if (name === 'bool' || name === 'str' || name === 'dict') {
      if ((name === 'bool' && typeof value === 'boolean') || (name === 'str' && typeof value === 'string') || (name === 'dict' && value instanceof Dict)) return true;
    } else if (name === 'list' || name === 'tuple') {
      if (Array.isArray(value)) return true;
    } else if (name?.endsWith('.Tensor') || name === 'torch.nn.Parameter') {
      if (value instanceof Tensor) return true;
    } else if (name?.startsWith('torch.nn.') && !name.startsWith('torch.nn.functional')) {
      // Before the patterns below, which a weight-initialisation loop would otherwise test for each module.
      const torchType = name.slice('torch.nn.'.length);
      if (value instanceof Module && (torchType === 'Module' || value.type === torchType || (torchType in containerKinds && value.options.container === containerKinds[torchType as keyof typeof containerKinds]))) return true;
    } else if (name && /^(typing|collections\.abc)\.(Sequence|Iterable|List|Tuple|Collection)$/.test(name)) {
      if (Array.isArray(value) || typeof value === 'string') return true;
    } else if (name && /^(typing|collections\.abc)\.(Mapping|Dict|MutableMapping)$/.test(name)) {
      if (value instanceof Dict) return true;
    } else if (name === 'types.FunctionType' || name === 'types.LambdaType' || name === 'types.MethodType') {
      if (value instanceof FunctionDef) return true;
    } else {
      unknown = true;
    }
  }
  return unknown ? new Unknown('isinstance() of a type that is not known') : false;
}

export type DictMethod = (dict: Dict, args: Value[]) => Value;

/** A dictionary key the analysis can tell apart from others: a string, a number, a boolean, None. */
function isKey(key: Value | undefined): boolean {
  return key === null || typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean' || key instanceof WholeFloat;
}

export const dictMethods = new Map<string, DictMethod>([
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

/**
 * One field of an f-string or str.format: `!r`/`!s`, then a format spec of the kinds names and
 * sizes are written with (`03d`, `>4`, `.2f`, `x`); undefined when the value or the spec is not known.
 */
export function formatField(given: Value, spec: string, conversion: string): string | undefined {
  const float = isFloat(given);
  const value = numberOf(given) ?? given;
  let text: string;
  if (typeof value === 'string') text = conversion === '!r' ? `'${value}'` : value;
  else if (typeof value === 'number') text = pythonStr(given as number | WholeFloat);
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
        if (float) return undefined;
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
        if (float) return undefined;
        text = value.toString(16);
        if (type === 'X') text = text.toUpperCase();
        break;
      case 'b':
        if (float) return undefined;
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

/** str() of a number as Python writes it: `3`, `1.0`, `0.5`, `1e-05`, `1e+16`. */
function pythonStr(value: number | WholeFloat): string {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  const n = numberOf(value) as number;
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan';
  if (Object.is(n, -0)) return '-0.0';
  // Python writes floats of 16 digits and more, and under 1e-4, with an exponent; JavaScript from 21 digits and under 1e-6.
  const text = Math.abs(n) >= 1e16 || (n !== 0 && Math.abs(n) < 1e-4) ? n.toExponential() : String(n);
  const written = text.replace(/e([+-])(\d)$/, 'e$10$2');
  return Number.isInteger(n) && !/e/.test(written) ? `${written}.0` : written;
}

/** printf-style `'layer%d' % (i + 1)`, for the conversions names are made with. */
export function percentFormat(format: string, args: Value[]): Value {
  let next = 0;
  let failed = false;
  const text = format.replace(/%(\d*)([disr%])/g, (_, width: string, conversion: string) => {
    if (conversion === '%') return '%';
    const value = args[next++];
    const n = numberOf(value);
    if (n !== undefined && (conversion === 'd' || conversion === 'i')) return String(Math.trunc(n)).padStart(Number(width || 0), width.startsWith('0') ? '0' : ' ');
    if (n !== undefined) return pythonStr(value as number | WholeFloat);
    if (typeof value === 'string') return value;
    failed = true;
    return '';
  });
  return failed || next !== args.length ? new Unknown(`the formatted string \`${format}\` is not known`) : text;
}

/** A numeric function: what it computes, and its result's type (an int, a float, a float when an argument is, or the argument it picks). */
export interface NumericFunction {
  compute: (numbers: number[]) => number;
  result: 'int' | 'float' | 'same' | 'pick';
  /** Whether it takes a sequence, as prod() does: the others are refused one (NumPy would map them over it). */
  sequence?: boolean;
}

const float = (compute: NumericFunction['compute']): NumericFunction => ({ compute, result: 'float' });
const prod: NumericFunction = { compute: (n) => n.reduce((a, b) => a * b, 1), result: 'same', sequence: true };

/** The math module's functions models size layers with (`math.ceil(c / 4)`). */
const mathFunctions = new Map<string, NumericFunction>([
  ['ceil', { compute: ([n = NaN]) => Math.ceil(n), result: 'int' }],
  ['floor', { compute: ([n = NaN]) => Math.floor(n), result: 'int' }],
  ['sqrt', float(([n = NaN]) => Math.sqrt(n))],
  ['log', float(([n = NaN, base]) => (base === undefined ? Math.log(n) : Math.log(n) / Math.log(base)))],
  ['log2', float(([n = NaN]) => Math.log2(n))],
  ['pow', float(([a = NaN, b = NaN]) => a ** b)],
  ['prod', prod],
  ['gcd', { compute: ([a = 0, b = 0]) => gcd(a, b), result: 'int' }],
]);

/** NumPy's, on numbers (`int(np.prod(img_shape))`): its ceil and floor give floats, unlike math's. */
const numpyFunctions = new Map<string, NumericFunction>([
  ['ceil', float(([n = NaN]) => Math.ceil(n))],
  ['floor', float(([n = NaN]) => Math.floor(n))],
  ['sqrt', float(([n = NaN]) => Math.sqrt(n))],
  ['log', float(([n = NaN]) => Math.log(n))],
  ['log2', float(([n = NaN]) => Math.log2(n))],
  ['prod', prod],
]);

/** Both, by their dotted names (`math.ceil`, `numpy.prod`): what the evaluator calls, and what an init loop may call without effect. */
export const numericFunctions = new Map<string, NumericFunction>([
  ...[...mathFunctions].map(([name, fn]): [string, NumericFunction] => [`math.${name}`, fn]),
  ...[...numpyFunctions].map(([name, fn]): [string, NumericFunction] => [`numpy.${name}`, fn]),
]);

function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

/** The standard library's constants models read, by their dotted names: `from math import pi` and `math.pi` alike. */
const moduleConstants = new Map<string, Value>([
  ['math.pi', Math.PI],
  ['math.e', Math.E],
  ['math.inf', Infinity],
  ['math.tau', 2 * Math.PI],
  // False whenever the program runs: what an `if TYPE_CHECKING:` imports is for type checkers only.
  ['typing.TYPE_CHECKING', false],
]);

/** The modules that have constants, so that an attribute of any other (torch.nn's, read for every layer) is not looked up. */
const constantModules = new Set([...moduleConstants.keys()].map((dotted) => dotted.slice(0, dotted.lastIndexOf('.'))));

/** A constant the analysis knows of a module it does not read (`math.pi`), or undefined. */
export function moduleConstant(module: string, name: string): Value | undefined {
  return constantModules.has(module) ? moduleConstants.get(`${module}.${name}`) : undefined;
}

/** A dotted name of a module the analysis does not read, as a value: a constant it knows, else the name itself. */
export function pathValue(dotted: string): Value {
  return moduleConstants.get(dotted) ?? new Path(dotted);
}

/** A numeric function of numbers given one by one, or of one sequence where it takes one; unknown when one is not a number. */
export function numbersOf(args: Value[], fn: NumericFunction): Value {
  const sequence = args.length === 1 && Array.isArray(args[0]);
  const list = sequence ? (args[0] as Value[]) : args;
  const numbers = list.map(numberOf);
  if (list.length === 0 || numbers.includes(undefined) || (sequence && !fn.sequence)) return new Unknown('an operation on unknown numbers');
  const result = fn.compute(numbers as number[]);
  if (fn.result === 'pick') return list[numbers.indexOf(result)] ?? new Unknown('an operation on unknown numbers');
  return numeric(result, fn.result === 'float' || (fn.result === 'same' && list.some(isFloat)));
}

export const identityDecorators = new Set(['functools.wraps', 'functools.lru_cache', 'functools.cache', 'torch.jit.ignore', 'torch.jit.unused', 'torch.jit.export', 'torch.jit.script_method', 'torch.no_grad', 'torch.inference_mode', 'torch.jit.script', 'torch.compile', 'typing.overload', 'typing.final']);

/** Functions whose results are no part of a model (devices, seeds, grad modes, the clock): not knowing them loses nothing. */
export const inertFunctions = new Set(['torch.device', 'torch.manual_seed', 'torch.no_grad', 'torch.enable_grad', 'torch.set_grad_enabled', 'torch.inference_mode', 'torch.get_default_dtype', 'torch.set_default_dtype', 'torch.dtype', 'torch.Generator']);

/** Packages of models read from the selected interpreter's site-packages, never run: probe.py's MODEL_PACKAGES, which finds them. */
export const modelPackageNames: ReadonlySet<string> = new Set(['torchvision', 'timm']);

/** Where those packages build models (not their transforms and datasets): `torchvision.models.vgg16`, `timm.create_model`. */
export function buildsPackageModel(path: string): boolean {
  return path.startsWith('torchvision.models.') || path.startsWith('timm.models.') || path === 'timm.create_model';
}

/** Modules whose functions are as inert (CUDA, seeds, the file system, logging), with the dot their submodules' names start with. */
const inertNamespaces = ['torch.cuda', 'torch.backends', 'torch.distributed', 'random', 'numpy.random', 'os', 'sys', 'logging', 'time', 'warnings', 'pathlib', 'json'];
const inertPrefixes = inertNamespaces.map((namespace) => `${namespace}.`);

/** Whether a function of this namespace is inert: asked of every call, so the prefixes are made once. */
export function isInertNamespace(namespace: string): boolean {
  return inertNamespaces.includes(namespace) || inertPrefixes.some((prefix) => namespace.startsWith(prefix));
}

/** The dotted name Python imports a file by: from its installed package's root, else its stem (`__main__` for an unsaved editor). */
export function moduleName(path: string | undefined): string {
  if (!path) return '__main__';
  const parts = path.replace(/\.py$/, '').split(/[\\/]/);
  const root = parts.findIndex((p) => p === 'site-packages' || p === 'dist-packages');
  const dotted = root >= 0 ? parts.slice(root + 1) : parts.slice(-1);
  if (dotted[dotted.length - 1] === '__init__') dotted.pop();
  return dotted.join('.');
}

/** callable(): functions, classes and modules are; a plain object is when its class has __call__. */
function isCallable(value: Value): Value {
  if (value instanceof FunctionDef || value instanceof Callable || value instanceof ClassInfo) return true;
  if (value instanceof Module) return value.options.plain ? value.options.cls?.findMethod('__call__') !== undefined : true;
  if (value instanceof Unknown || value instanceof Path) return new Unknown('callable() of something unknown');
  return false;
}

/** type(x): a module's class, the builtin type of a number, string, sequence or dict, compared with `is`. */
function typeOf(value: Value): Value {
  const builtin = (name: string) => builtins.get(name) ?? new Unknown(`type ${name}`);
  if (value instanceof Module) return value.options.cls ?? new Path(`torch.nn.${value.type}`);
  if (typeof value === 'string') return builtin('str');
  if (typeof value === 'boolean') return builtin('bool');
  if (numberOf(value) !== undefined) return builtin(isFloat(value) ? 'float' : 'int');
  if (Array.isArray(value)) return builtin('list');
  if (value instanceof Dict) return builtin('dict');
  if (value === null) return new Path('builtins.NoneType');
  return new Unknown('type() of something unknown');
}
