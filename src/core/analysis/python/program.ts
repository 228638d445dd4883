// The program's files and classes as written: what each file defines and imports, class bodies and their MRO.
import { bindings, namesUsed } from '../bindings';
import { InputAnnotations } from '../annotations';
import type { PythonImports } from '../pytorch';
import type { Node } from '../syntax';
import { torchLayers } from '../torchLayers';
import { returnsSelf } from './values';

/** The files of one analysis: the one analysed and those its `from … import …` statements name. */
export class Program {
  private readonly files = new Map<string, { version: string; file: PythonFile }>();
  /** Every imported file read, with its version, which cached reports depend on. */
  readonly read = new Map<string, string>();

  constructor(readonly imports: PythonImports | undefined) {}

  /** Modules looked for and not found in this analysis of the file: every model asks again for `np`, `math`, `os`, each a look at the disk. */
  private readonly missing = new Set<string>();

  file(module: string, level: number, from: PythonFile): PythonFile | undefined {
    const key = `${level}\u0000${from.path ?? ''}\u0000${module}`;
    if (this.missing.has(key)) return undefined;
    const found = this.imports?.resolve(module, level, from.path);
    if (!found) {
      this.missing.add(key);
      return undefined;
    }
    this.read.set(found.path, found.version);
    const known = this.files.get(found.path);
    if (known?.version === found.version) return known.file;
    const file = new PythonFile(found.root, found.path, this);
    this.files.set(found.path, { version: found.version, file });
    return file;
  }
}

export class PythonFile {
  readonly classes = new Map<string, ClassInfo>();
  readonly functions = new Map<string, Node>();
  /** Classes the branches of a module-level if define under one name, by where each starts: the file has none of them until the branch taken defines it. */
  readonly branchClasses = new Map<number, ClassInfo>();
  readonly annotations: InputAnnotations;
  /** Imports and module-level statements, which every model's evaluation starts from. */
  readonly preamble: Node[] = [];
  /** `from module import name as alias`, by alias, with the module's leading dots counted. */
  readonly fromImports = new Map<string, { module: string; level: number; name: string }>();
  /** `from module import *`, in order: names not defined here are looked for there. */
  readonly starImports: { module: string; level: number }[] = [];
  /** Names bound by an import statement, with the module they come from: a model built by calling one (`models.vgg16()`) is a model of the file. */
  readonly importedFrom = new Map<string, string>();
  /** `import a.b as m` binds m to the module a.b, `import a.b` binds a to a: the module each plain import's name is. */
  private readonly moduleAliases = new Map<string, string>();

  constructor(
    readonly root: Node,
    /** Undefined for the file analysed when it has no path (an unsaved editor). */
    readonly path: string | undefined,
    readonly program: Program,
  ) {
    for (const child of root.namedChildren) if (child) this.register(child, true, new Set());
    this.annotations = new InputAnnotations(root);
  }

  /**
   * What a module-level statement defines and imports. A compound statement's blocks that run when
   * the file is imported define names too (a class in a `try:`, an import in an `if`): the statement
   * then runs with the preamble, by the evaluator's rules. `ambiguous`: names its branches define
   * differently, of which the file keeps none (which one Python binds depends on the condition).
   */
  private register(child: Node, topLevel: boolean, ambiguous: ReadonlySet<string>): void {
    const type = child.type;
    if (topLevel && (type === 'import_statement' || type === 'import_from_statement' || type === 'expression_statement' || type === 'delete_statement')) this.preamble.push(child);
    // A module-level loop that defines names (`setattr(sys.modules[__name__], name, partial(...))`); never a training loop.
    if (topLevel && type === 'for_statement' && callsSetattr(child)) this.preamble.push(child);
    const branches = importTimeBranches(child);
    if (branches.length > 0) {
      if (topLevel && branches.every((blocks) => blocks.every(onlyDefines)) && branches.some((blocks) => blocks.some((block) => block.namedChildren.some((s) => s?.type !== 'pass_statement' && s?.type !== 'comment')))) this.preamble.push(child);
      const named = branches.map((blocks) => new Set(blocks.flatMap(definedNames)));
      const twice = new Set(named.flatMap((names, i) => [...names].filter((name) => named.some((other, j) => j !== i && other.has(name)))));
      const skip = twice.size > 0 ? new Set([...ambiguous, ...twice]) : ambiguous;
      for (const blocks of branches) for (const block of blocks) for (const statement of block.namedChildren) if (statement) this.register(statement, false, skip);
      return;
    }
    if (type === 'import_statement' || type === 'import_from_statement') {
      const from = child.childForFieldName('module_name')?.text;
      for (const { name, alias, aliased } of importedNames(child)) {
        if (ambiguous.has(alias)) continue;
        this.importedFrom.set(alias, from ?? name);
        if (type === 'import_statement') this.moduleAliases.set(alias, aliased ? name : alias);
      }
      if (type === 'import_from_statement') this.noteImport(child, ambiguous);
      return;
    }
    const definition = type === 'decorated_definition' ? child.childForFieldName('definition') : child;
    const name = definition?.childForFieldName('name')?.text;
    if (!definition || !name) return;
    if (definition.type === 'class_definition') {
      const bases = (definition.childForFieldName('superclasses')?.namedChildren ?? []).filter((b): b is Node => b !== null && b.type !== 'keyword_argument').map((b) => b.text);
      const dataclass = type === 'decorated_definition' && child.namedChildren.some((d) => d?.type === 'decorator' && /^@(dataclasses\.)?dataclass\b/.test(d.text));
      const cls = new ClassInfo(name, definition, this, bases, dataclass);
      if (ambiguous.has(name)) this.branchClasses.set(definition.startIndex, cls);
      else this.classes.set(name, cls);
    } else if (ambiguous.has(name)) {
      return;
    } else if (definition.type === 'function_definition') {
      this.functions.set(name, definition);
    }
  }

  noteImport(statement: Node, ambiguous: ReadonlySet<string> = new Set()): void {
    const source = statement.childForFieldName('module_name');
    const prefix = source?.type === 'relative_import' ? source.namedChildren.find((c) => c?.type === 'import_prefix') : undefined;
    const module = source?.type === 'relative_import' ? (source.namedChildren.find((c) => c?.type === 'dotted_name')?.text ?? '') : (source?.text ?? '');
    const level = prefix?.text.length ?? 0;
    if (statement.namedChildren.some((c) => c?.type === 'wildcard_import')) this.starImports.push({ module, level });
    for (const { name, alias } of importedNames(statement)) if (!ambiguous.has(alias)) this.fromImports.set(alias, { module, level, name });
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
    const dot = name.lastIndexOf('.');
    // `blocks.Base`: a class of a module of the program.
    if (dot > 0) return this.moduleFile(name.slice(0, dot))?.resolveClass(name.slice(dot + 1), depth + 1);
    const imported = this.importedFile(name);
    if (imported) return imported.file.resolveClass(imported.name, depth + 1);
    for (const star of this.starImports) {
      const found = this.program.file(star.module, star.level, this)?.resolveClass(name, depth + 1);
      if (found) return found;
    }
    return undefined;
  }

  /** The program's file a dotted module name means here (`blocks`, `pkg.blocks`, `m` of `import pkg.blocks as m`); torch's are never read. */
  private moduleFile(dotted: string): PythonFile | undefined {
    const module = this.qualified(dotted);
    const from = this.fromImports.get(dotted.split('.')[0] ?? '');
    if (module === 'torch' || module.startsWith('torch.')) return undefined;
    return this.program.file(module, from && !module.includes('.') ? from.level : 0, this);
  }

  /**
   * A dotted name as its module spells it: `M` of `from torch.nn import Module as M` is
   * `torch.nn.Module`, `nn.Conv2d` of `import torch.nn as nn` is `torch.nn.Conv2d`; a name the file
   * does not import keeps its conventional module (conventionalImports: `nn` is torch.nn).
   */
  qualified(dotted: string): string {
    const [head = '', ...rest] = dotted.split('.');
    const from = this.fromImports.get(head);
    const module = from ? (from.module && from.level === 0 ? `${from.module}.${from.name}` : from.name) : (this.moduleAliases.get(head) ?? conventionalImports.get(head) ?? head);
    return [module, ...rest].join('.');
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
      const base = this.resolveClass(text) ? undefined : this.torchClass(text);
      if (base) return base;
    }
    return undefined;
  }

  /** The torch.nn class a name written so (a base, a callee) names, if it names one: `tnn.Sequential` is Sequential. */
  torchClass(text: string): string | undefined {
    // Where the name comes from, not how it is spelt: `M` of `from torch.nn import Module as M`, torch.nn.modules.conv.Conv2d.
    const qualified = this.qualified(text).replace(/^torch\.nn\.modules\.\w+\./, 'torch.nn.');
    // A TorchScript module is an nn.Module whose methods TorchScript compiles.
    if (qualified === 'torch.jit.ScriptModule') return 'Module';
    const name = qualified.replace(/^torch\.nn\./, '');
    if (name !== qualified && !name.includes('.')) return name;
    // A bare name not imported from elsewhere: `from torch.nn import *`.
    if (qualified === text && !text.includes('.') && (name in containerKinds || name === 'Module' || torchLayers.has(name))) return name;
    return undefined;
  }

  /**
   * A base of a class of this file that the analysis cannot read and that may be an nn.Module (a
   * class of a package that is not installed, a name it cannot find); undefined when every base is
   * read, is torch's, or is one Python or its standard library defines.
   */
  unreadBase(cls: ClassInfo): string | undefined {
    for (const text of cls.bases) {
      if (this.resolveClass(text) || this.torchClass(text)) continue;
      // `Generic[T]`, `namedtuple('Point', 'x y')`: what is subscripted or called.
      const qualified = this.qualified(text.replace(/[[(].*$/s, '').trim());
      if (qualified.startsWith('torch.') || plainBases.has(qualified.replace(/^(builtins|typing|typing_extensions|abc|enum|collections|collections\.abc|dataclasses)\./, '')) || /(Error|Exception|Warning)$/.test(qualified)) continue;
      return text;
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

  /** `name = lambda …: …` at module level, every parameter with a default: a factory written as a lambda. */
  lambdaFactories(): { name: string; nameNode: Node; value: Node }[] {
    const found: { name: string; nameNode: Node; value: Node }[] = [];
    for (const statement of this.root.namedChildren) {
      const assignment = statement?.type === 'expression_statement' ? statement.namedChildren[0] : null;
      const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
      const right = assignment?.childForFieldName('right');
      if (left?.type !== 'identifier' || right?.type !== 'lambda') continue;
      if (callableWithoutArguments(right)) found.push({ name: left.text, nameNode: left, value: right });
    }
    return found;
  }

  /** Module-level functions callable with no arguments that return something: candidates for model factories. */
  factories(): Node[] {
    return [...this.functions.values()].filter((fn) => callableWithoutArguments(fn) && (returnsValue(fn.childForFieldName('body')) || isDeclaration(fn.childForFieldName('body'))));
  }
}

/** How many classes have been read: each has its own serial, by which a memo's key names it. */
let classesRead = 0;

export class ClassInfo {
  readonly serial = ++classesRead;
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

  /** The names the class body assigns (`expansion = 4`, in its loops and ifs too), evaluated when first read. */
  get attributes(): Set<string> {
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

  /** A base in its MRO the analysis cannot read, which may make its instances modules (see PythonFile.unreadBase). */
  get unreadBase(): string | undefined {
    for (const c of this.mro) {
      const base = c.file.unreadBase(c);
      if (base !== undefined) return base;
    }
    return undefined;
  }

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

  /** Whether it derives from enum.Enum (or IntEnum, StrEnum, Flag), whose class attributes are its members. */
  get isEnum(): boolean {
    return this.mro.some((c) => c.bases.some((b) => /^(enum\.)?(Enum|IntEnum|StrEnum|Flag|IntFlag)$/.test(b) && !c.file.resolveClass(b)));
  }
}

interface ClassBody {
  methods: Map<string, Node>;
  attributes: Set<string>;
  staticMethods: Set<string>;
  classMethods: Set<string>;
  /** Methods decorated @property, run when read. */
  properties: Set<string>;
  fields: { name: string; value: Node | null }[] | undefined;
}

function readClassBody(definition: Node, dataclass: boolean): ClassBody {
  const body: ClassBody = { methods: new Map(), attributes: new Set(), staticMethods: new Set(), classMethods: new Set(), properties: new Set(), fields: undefined };
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
    if (target?.type === 'identifier' && assignment?.childForFieldName('type')) fields.push({ name: target.text, value: value ?? null });
    if (item) for (const name of assignedNames(item)) body.attributes.add(name);
  }
  if (dataclass) body.fields = fields;
  return body;
}

/** The names a class-body statement assigns, in its nested blocks too (not in the functions and classes it defines). */
function assignedNames(statement: Node): string[] {
  if (/^(function_definition|class_definition|decorated_definition)$/.test(statement.type)) return [];
  const targets =
    statement.type === 'assignment' || statement.type === 'augmented_assignment' ? [statement.childForFieldName('left')]
    : statement.type === 'for_statement' ? [statement.childForFieldName('left')]
    : [];
  const names = targets.flatMap((t) => (t?.type === 'identifier' ? [t.text] : (t?.descendantsOfType('identifier') ?? []).filter((i) => i?.parent?.type === 'pattern_list' || i?.parent?.type === 'tuple_pattern' || i?.parent?.type === 'list_pattern').map((i) => i?.text ?? '')));
  // An assignment's value may itself be an assignment (`a = b = 1`).
  return [...names, ...statement.namedChildren.flatMap((child) => (child ? assignedNames(child) : []))];
}

/** How a parameter binds: `x` and `x: int` are required, `*args: Any` is a splat despite its annotation. */
export function parameterKind(parameter: Node): 'required' | 'default' | 'args' | 'kwargs' | 'separator' {
  const type = parameter.type === 'typed_parameter' ? (parameter.namedChildren[0]?.type ?? '') : parameter.type;
  if (type === 'list_splat_pattern') return 'args';
  if (type === 'dictionary_splat_pattern') return 'kwargs';
  if (type === 'identifier') return 'required';
  if (type === 'default_parameter' || type === 'typed_default_parameter') return 'default';
  return 'separator';
}

/** A def or a lambda every parameter of which has a default (or is *args, **kwargs). */
function callableWithoutArguments(fn: Node): boolean {
  return !(fn.childForFieldName('parameters')?.namedChildren ?? []).some((p) => p !== null && parameterKind(p) === 'required');
}

/** The modules course code uses under these names without importing them (a notebook cell's own view). */
export const conventionalImports = new Map([
  ['nn', 'torch.nn'],
  ['F', 'torch.nn.functional'],
  ['torch', 'torch'],
  ['OrderedDict', 'collections.OrderedDict'],
  ['np', 'numpy'],
]);

export const containerKinds = { Sequential: 'sequential', ModuleList: 'list', ModuleDict: 'dict' } as const;

/** A body of only `pass` or `...` (and a docstring): a declaration whose function is defined elsewhere, by setattr. */
function isDeclaration(block: Node | null): boolean {
  const statements = block?.namedChildren.filter((s) => s !== null && s.type !== 'comment') ?? [];
  return statements.length > 0 && statements.every((s) => s?.type === 'pass_statement' || (s?.type === 'expression_statement' && (s.namedChildren[0]?.type === 'ellipsis' || s.namedChildren[0]?.type === 'string')));
}

/**
 * The blocks of a module-level compound statement that run when the file is imported, one list per
 * way it may go: a try's body, else and finally (its handlers run only on an exception), a with's
 * body, each branch of an if. `if __name__ == "__main__":` runs only when the file is a script, never
 * when it is imported, as exact mode and every importer see it. Empty for any other statement.
 */
function importTimeBranches(statement: Node): Node[][] {
  const blocks = (...nodes: (Node | null | undefined)[]) => nodes.filter((n): n is Node => n?.type === 'block');
  switch (statement.type) {
    case 'try_statement': {
      const elseClause = statement.namedChildren.find((c) => c?.type === 'else_clause');
      const finallyClause = statement.namedChildren.find((c) => c?.type === 'finally_clause');
      return [blocks(statement.childForFieldName('body'), elseClause?.childForFieldName('body'), finallyClause?.namedChildren.find((c) => c?.type === 'block'))];
    }
    case 'with_statement':
      return [blocks(statement.childForFieldName('body'))];
    case 'if_statement': {
      if (isMainGuard(statement.childForFieldName('condition'))) return [];
      const alternatives = statement.childrenForFieldName('alternative').map((c) => blocks(c?.childForFieldName('consequence') ?? c?.childForFieldName('body')));
      return [blocks(statement.childForFieldName('consequence')), ...alternatives];
    }
    default:
      return [];
  }
}

/** `__name__ == "__main__"`, either way round. */
function isMainGuard(condition: Node | null): boolean {
  if (condition?.type !== 'comparison_operator') return false;
  const sides = condition.namedChildren.map((c) => c?.text.replace(/^(['"])(.*)\1$/, '$2'));
  return sides.length === 2 && sides.includes('__name__') && sides.includes('__main__') && condition.text.includes('==');
}

/** What an import statement binds: each name imported and the name it is bound to (`import a.b` binds a, `import a.b as m` binds m). */
function importedNames(statement: Node): { name: string; alias: string; aliased: boolean }[] {
  const items = statement.type === 'import_statement' ? statement.namedChildren : statement.childrenForFieldName('name');
  return items.flatMap((item) => {
    const aliased = item?.type === 'aliased_import';
    const name = aliased ? item.childForFieldName('name')?.text : item?.text;
    const alias = aliased ? item.childForFieldName('alias')?.text : item?.text.split('.')[0];
    return name && alias ? [{ name, alias, aliased }] : [];
  });
}

/** The names a block's definitions and imports bind, in the import-time blocks of its compound statements too. */
function definedNames(block: Node): string[] {
  return block.namedChildren.flatMap((statement) => {
    if (!statement) return [];
    const definition = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    if (definition?.type === 'class_definition' || definition?.type === 'function_definition') return [definition.childForFieldName('name')?.text ?? ''];
    if (statement.type === 'import_statement' || statement.type === 'import_from_statement') return importedNames(statement).map(({ alias }) => alias);
    return importTimeBranches(statement).flat().flatMap(definedNames);
  });
}

/**
 * Whether a block only defines names (imports, definitions, assignments, in branches of its own),
 * so that every model's evaluation may run it first: a loop or a call made for its effect (a
 * training run under `try:`) is not run for every keystroke.
 */
function onlyDefines(block: Node): boolean {
  return block.namedChildren.every((statement) => {
    const type = statement?.type;
    if (!statement || type === 'comment' || type === 'pass_statement' || type === 'import_statement' || type === 'import_from_statement' || type === 'future_import_statement') return true;
    if (type === 'class_definition' || type === 'function_definition' || type === 'decorated_definition') return true;
    if (type === 'expression_statement') return /^(assignment|augmented_assignment|string)$/.test(statement.namedChildren[0]?.type ?? '');
    const branches = importTimeBranches(statement);
    return branches.length > 0 && branches.every((blocks) => blocks.every(onlyDefines));
  });
}

function callsSetattr(node: Node): boolean {
  return node.descendantsOfType('call').some((call) => call?.childForFieldName('function')?.text === 'setattr');
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

/**
 * The module-level statements, in order, that make `name` what it is at the end of the file: those
 * that bind or change it (`model.classifier[6] = …`, a loop freezing its layers) and, in turn, those
 * that bind what they read; definitions and imports are bound already. The training loop, plots and
 * data loading are left out, as the notebook module leaves them out.
 */
export function statementsFor(file: PythonFile, name: string): Node[] {
  const statements = file.root.namedChildren.filter((s): s is Node => s !== null && !/^(class_definition|function_definition|decorated_definition|import_statement|import_from_statement|future_import_statement|comment)$/.test(s.type));
  const effects = statements.map((s) => {
    const { names, changed } = bindings(s);
    return { statement: s, sets: new Set([...names, ...changed]), uses: namesUsed(s) };
  });
  const needed = new Set([name]);
  const kept = new Set<Node>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const { statement, sets, uses } of effects) {
      if (kept.has(statement) || ![...sets].some((n) => needed.has(n))) continue;
      kept.add(statement);
      grew = true;
      for (const used of uses) needed.add(used);
    }
  }
  return statements.filter((s) => kept.has(s));
}

/** Bases Python and its standard library define, none of them an nn.Module (exceptions are told by their names). */
const plainBases = new Set(['object', 'type', 'dict', 'list', 'tuple', 'set', 'frozenset', 'str', 'int', 'float', 'bytes', 'ABC', 'ABCMeta', 'Enum', 'IntEnum', 'StrEnum', 'Flag', 'IntFlag', 'NamedTuple', 'namedtuple', 'TypedDict', 'Generic', 'Protocol', 'OrderedDict', 'defaultdict', 'Counter', 'Mapping', 'MutableMapping', 'Sequence', 'Iterable', 'Iterator', 'Callable']);
