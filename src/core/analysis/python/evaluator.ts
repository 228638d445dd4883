// The evaluator's state: module-level names and imports, the step budget, and where it lost track.
import type { AnalysisDiagnostic } from '../report';
import type { Dim } from '../shape';
import type { Node } from '../syntax';
import { pathValue } from './builtins';
import { initialisingApply } from './loops';
import { type ForwardMemo, type Memo, noteRead, type Watch } from './memo';
import { ClassInfo, conventionalImports, type PythonFile, statementsFor } from './program';
import { BudgetExceeded, Callable, changed, type Flow, FunctionDef, type LayerCall, Module, Namespace, Path, Raised, type Scope, type Super, type Tensor, Unknown, type Value } from './values';

/**
 * One model's evaluation, a layer a file: this base holds its state and module-level names;
 * expressions.ts, statements.ts, calls.ts, tensors.ts and torchModules.ts add the rest, in that order.
 */
export abstract class Evaluator {
  readonly globals: Scope;
  readonly calls = new Map<Module, LayerCall>();
  readonly diagnostics = new Map<number, AnalysisDiagnostic>();
  /** The file's classes this analysis instantiated or read, which its cached report depends on. */
  readonly used = new Set<ClassInfo>();
  /** The module-level functions of the file analysed that it called: an edit of another one leaves its report as it is. */
  readonly usedFunctions = new Set<Node>();
  /**
   * The names it looked up among the file's module-level names, found or not ('*': all of them, through
   * globals()): an edit of a module-level statement that binds none of them leaves its report as it is.
   */
  readonly globalReads = new Set<string>();
  /** Where the evaluation lost track, and in which phase: building the model (its parameters may be missing) or its forward pass. */
  readonly losses = new Map<string, { node: Node; reason: string; phase: 'build' | 'forward' }>();
  /** Conditions not known while the model was built, in the order met: modelReport runs the model again down each other way. */
  readonly forks: { node: Node; reason: string }[] = [];
  phase: 'build' | 'forward' = 'build';
  /** The batch of the model's input. */
  batch: Dim = null;
  /** While a file's module-level statements run for every model: what they lose is lost only when a model reads it. */
  private quiet = 0;
  private steps = 0;
  protected depth = 0;
  /** Each file's module-level names, made when the file is first needed. */
  private readonly moduleGlobals = new Map<PythonFile, Scope>();
  /** Class attributes, each evaluated once as a class body is (an enum's members keep their identity). */
  protected readonly classValues = new Map<ClassInfo, Map<string, Value>>();
  /** Builtins that need the analysis itself. */
  protected readonly reflection: Map<string, Value>;
  /** While code of an imported file runs: the call in the file analysed that led there, where its layers are shown. */
  protected site: Node | undefined;
  /** The constructors running whose builds may be memoized, outermost first (memo.ts). */
  protected readonly watches: Watch[] = [];
  /** Builds by memoKey: 'once' built, 'uncopyable' where what a build makes cannot be copied. */
  protected readonly memos = new Map<string, Memo | 'once' | 'uncopyable'>();
  /** Forward passes of copies by forwardKey, 'impure' where one changed or lost something (memo.ts). */
  protected readonly forwardMemos = new Map<string, ForwardMemo | 'impure'>();
  /** The forward passes being run for the memo, each with the layer calls it makes. */
  protected readonly recordings: LayerCall[][] = [];

  constructor(
    protected readonly file: PythonFile,
    private readonly budget: number,
    /** For each fork met, in order, whether this run skips its branch (1) or takes it (0, the default). */
    private readonly ways: readonly number[] = [],
    /** Whether a class built again with the same plain arguments is copied from its first build (memo.ts). */
    protected readonly memoize = true,
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
      ['globals', new Callable('globals', () => this.moduleNamespace(this.globals))],
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
          else if (owner instanceof ClassInfo && typeof name === 'string') this.setClassAttribute(owner, name, value ?? null);
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
  protected globalsOf(file: PythonFile): Scope {
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
      // `print(model)` after each model (every tutorial has it) built every model printed in the analysis of each;
      // `netG.apply(weights_init)` built the generator in the discriminator's.
      if (onlyPrints(statement, scope) || initialisingApply(statement, file)) continue;
      const assignment = statement.namedChildren[0];
      const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
      const value = assignment?.childForFieldName('right');
      const names = target ? assignedNames(target) : undefined;
      if (names && (imported || containsCall(value ?? null))) {
        // `a, b = model(image)` in a notebook's last cell is run only if a name it sets is read, and once;
        // then what changes it later in the file (`model.fc = …`), unless a name it sets is assigned anew.
        let ran = false;
        const run = () => {
          if (!ran) this.tryStatement(statement, module);
          ran = true;
        };
        for (const name of names) module.lazy?.set(name, () => (run(), module.vars.get(name) ?? null));
      } else if (!imported || type === 'for_statement' || type === 'try_statement' || type === 'if_statement' || type === 'with_statement') {
        this.tryStatement(statement, scope);
      }
    }
  }

  protected bindGlobal(scope: Scope, name: string, value: Value): void {
    changed('shared');
    scope.vars.set(name, value);
    scope.lazy?.delete(name);
  }

  /**
   * A module-level name of the file analysed as the file leaves it: the statements that build and
   * change it run in order (statementsFor), what they lose is said, and then it is read.
   */
  moduleLevel(name: string): Value {
    for (const statement of statementsFor(this.file, name)) {
      try {
        this.execute(statement, this.globals);
      } catch (error) {
        if (!(error instanceof Raised)) throw error;
        this.lose(error.node, `${error.type} is raised`);
      }
    }
    return this.globalValue(this.globals, name) ?? new Unknown(`\`${name}\` is not defined`);
  }

  /** A file's namespace as a value (`globals()`, `sys.modules[__name__]`): any of its names may be read through it. */
  protected moduleNamespace(scope: Scope): Namespace {
    if (scope === this.globals) this.globalReads.add('*');
    return new Namespace(scope);
  }

  /** A module-level name, evaluating it first if its file is read lazily. */
  protected globalValue(scope: Scope, name: string): Value | undefined {
    if (scope === this.globals) this.globalReads.add(name);
    const pending = scope.lazy?.get(name);
    if (pending) {
      scope.lazy?.delete(name);
      scope.vars.set(name, new Unknown(`\`${name}\` refers to itself`));
      scope.vars.set(name, pending());
    }
    const value = scope.vars.get(name);
    if (this.watches.length > 0) noteRead(this.watches, scope.vars, name, value);
    return value;
  }

  protected fileOf(scope: Scope): PythonFile {
    for (const [file, globals] of this.moduleGlobals) if (globals === scope.globals) return file;
    return this.file;
  }

  protected importNames(statement: Node, type: string, file: PythonFile, scope: Scope, lazily: boolean): void {
    if (type === 'import_statement') {
      for (const item of statement.namedChildren) {
        // `import a.b as m` binds the module a.b, `import a.b` binds a: a dotted name, resolved to the program's file when it is one.
        if (item?.type === 'aliased_import') scope.vars.set(item.childForFieldName('alias')?.text ?? '', this.moduleOrPath(item.childForFieldName('name')?.text ?? '', file));
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
      const bind = () => this.imported(file, alias) ?? pathValue(`${from}.${name}`);
      if (lazily) scope.lazy?.set(alias, bind);
      else scope.vars.set(alias, bind());
    }
  }

  /** A name imported from another file of the program, as that file defines it. */
  private imported(file: PythonFile, alias: string): Value | undefined {
    const source = file.importedFile(alias);
    if (!source) return undefined;
    return this.moduleAttribute(source.file, source.name);
  }

  /** A module as a value: its file's namespace when the program can read it, else its dotted name (torch, numpy). */
  protected moduleOrPath(dotted: string, from: PythonFile): Value {
    const file = this.moduleFile(dotted, from);
    return file ? new Namespace(this.globalsOf(file), file) : new Path(dotted);
  }

  protected moduleFile(dotted: string, from: PythonFile): PythonFile | undefined {
    // torch's own names (torch.nn.Conv2d, F.relu) are read on every layer: known rules, never files.
    if (dotted === 'torch' || dotted.startsWith('torch.')) return undefined;
    const key = `${from.path ?? ''}\u0000${dotted}`;
    if (!this.moduleFiles.has(key)) this.moduleFiles.set(key, this.file.program.file(dotted, 0, from));
    return this.moduleFiles.get(key);
  }

  private readonly moduleFiles = new Map<string, PythonFile | undefined>();

  /**
   * `module.name` as Python finds it: the file's own classes and functions, a submodule of a
   * package (`from torchvision import models`), the file's other names, then its `import *`s.
   */
  protected moduleAttribute(file: PythonFile, name: string, depth = 0): Value | undefined {
    const scope = this.globalsOf(file);
    if (file.classes.has(name) || file.functions.has(name)) return this.globalValue(scope, name);
    const submodule = file.path && /__init__\.py$/.test(file.path) ? this.file.program.file(name, 1, file) : undefined;
    if (submodule && submodule !== file) return new Namespace(this.globalsOf(submodule), submodule);
    const own = this.globalValue(scope, name);
    if (own !== undefined) return own;
    return depth < 8 ? this.fromStarImports(file, name, depth) : undefined;
  }

  /** A name a file's `from … import *` brings: public names of the modules it names, in order. */
  protected fromStarImports(file: PythonFile, name: string, depth = 0): Value | undefined {
    if (name.startsWith('_')) return undefined;
    for (const star of file.starImports) {
      const source = this.file.program.file(star.module, star.level, file);
      const found = source && source !== file ? this.moduleAttribute(source, name, depth + 1) : undefined;
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Where to show something made at `node`: there when it is in the file analysed, else at the call that led out of it. */
  protected siteOf(node: Node): Node {
    return node.tree === this.file.root.tree ? node : (this.site ?? node);
  }

  protected tick(): void {
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

  /**
   * Whether module-level statements are running for every model (quietly): a condition not known
   * there is joined both ways, as in forward, not a reason to build each model again.
   */
  protected get atModuleLevel(): boolean {
    return this.quiet > 0;
  }

  /**
   * A condition not known while building: which way this run goes. The model changes as `__init__`
   * goes, so the ways are not joined here; the whole model is built again down the other way.
   */
  protected takesBranch(condition: Node, reason: string): boolean {
    const site = this.siteOf(condition);
    const where = site === condition ? '' : ` (${this.placeOf(condition)})`;
    this.forks.push({ node: site, reason: `${reason}${where}` });
    return this.ways[this.forks.length - 1] !== 1;
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

  protected report(node: Node, message: string, severity: AnalysisDiagnostic['severity'] = 'error'): void {
    const site = this.siteOf(node);
    this.diagnostics.set(site.startIndex, { range: site.range, message, severity });
  }

  // What the later layers define and an earlier one calls: expressions.ts…
  protected abstract attribute(owner: Value, name: string, node: Node): Value;
  protected abstract classNamespace(cls: ClassInfo): Map<string, Value>;

  /** `Net.expansion = 2`, `setattr(Net, …)`: the class changes for every instance made after. */
  protected setClassAttribute(cls: ClassInfo, name: string, value: Value): void {
    changed('shared');
    // A memoized build read the attribute from whichever class of the MRO held it then.
    this.memos.clear();
    this.classNamespace(cls).set(name, value);
  }
  // …statements.ts…
  protected abstract execute(statement: Node, scope: Scope): Flow;
  protected abstract decorate(decorators: Node[], fn: Value, scope: Scope): Value;
  protected abstract bind(target: Node, value: Value, scope: Scope): void;
  protected abstract bindName(name: string, value: Value, scope: Scope): void;
  protected abstract setAttribute(owner: Module, name: string, value: Value, node?: Node): void;
  // …calls.ts…
  protected abstract call(node: Node, scope: Scope): Value;
  protected abstract superAttribute(proxy: Super, name: string): Value;
  protected abstract method(found: { node: Node; owner: ClassInfo }, self: Module | undefined): Value;
  protected abstract invoke(callee: Value, positional: Value[], keywords: Map<string, Value>, node: Node): Value;
  protected abstract callFunction(fn: FunctionDef, positional: Value[], keywords: Map<string, Value>): Value;
  // …tensors.ts…
  protected abstract tensorAttribute(tensor: Tensor, name: string, node: Node): Value;
  // …and torchModules.ts.
  protected abstract callPath(path: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value;
  protected abstract construct(type: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value;
  protected abstract initTorchBase(module: Module, positional: Value[], keywords: Map<string, Value>, node: Node): void;
  protected abstract applyTorchBase(module: Module, args: Value[], node: Node): Value;
  abstract apply(module: Module, args: Value[], node: Node, keywords?: Map<string, Value>): Value;
  protected abstract moduleMethod(owner: Module, name: string): Value | undefined;
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

/**
 * A module-level `print(…)` of the builtin whose arguments call nothing: it changes no name and no
 * value (reading a name assigned from a call only runs that call sooner), so the models need not run it.
 */
function onlyPrints(statement: Node, scope: Scope): boolean {
  let prints = printStatements.get(statement);
  if (prints === undefined) {
    const call = statement.type === 'expression_statement' && statement.namedChildren.length === 1 ? statement.namedChildren[0] : null;
    const args = call?.type === 'call' && call.childForFieldName('function')?.text === 'print' ? call.childForFieldName('arguments') : null;
    prints = args?.type === 'argument_list' && args.descendantsOfType(['call', 'named_expression', 'await', 'yield']).length === 0;
    printStatements.set(statement, prints);
  }
  return prints && !scope.vars.has('print') && !scope.lazy?.has('print');
}

/** Whether a statement is such a print, by its syntax: each analysis of a file's models asks again. */
const printStatements = new WeakMap<Node, boolean>();

function containsCall(node: Node | null): boolean {
  return node !== null && (node.type === 'call' || node.descendantsOfType('call').length > 0);
}
