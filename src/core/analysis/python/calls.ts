// Calls: arguments, functions and methods, classes and dataclasses instantiated, super(), and where a call leads.
import type { Node } from '../syntax';
import { ClassInfo, parameterKind } from './program';
import { Statements } from './statements';
import { copyMade, type Memo, memoKey, noteChange, noteReads, startWatch, stillHolds, type Watch } from './memo';
import { Callable, changes, Dict, FunctionDef, iterate, Module, Path, type Scope, Super, Unknown, type Value } from './values';

/** Calls: arguments bound to parameters, functions and methods run, classes instantiated, super() followed. */
export abstract class Calls extends Statements {
  protected call(node: Node, scope: Scope): Value {
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
  protected superAttribute(proxy: Super, name: string): Value {
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

  /** A method found on a class, bound as Python binds it: to the instance, to the class (@classmethod) or to nothing (@staticmethod). */
  protected method(found: { node: Node; owner: ClassInfo }, self: Module | undefined): Value {
    const name = found.node.childForFieldName('name')?.text ?? '';
    const fn = new FunctionDef(found.node, found.owner.staticMethods.has(name) ? undefined : self, found.owner, found.owner.file);
    if (found.owner.classMethods.has(name)) return new Callable(name, (args, keywords) => this.callFunction(new FunctionDef(found.node, undefined, found.owner, found.owner.file), [found.owner, ...args], keywords));
    return fn;
  }

  protected invoke(callee: Value, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
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

  /**
   * `Cls(…)`: built, or copied from its build with the same plain arguments when that build changed
   * only what it made and what it read still holds (memo.ts).
   */
  instantiate(cls: ClassInfo, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    const key = this.memoize ? memoKey(cls, this.site, this.phase, positional, keywords) : undefined;
    if (key === undefined) return this.build(cls, positional, keywords, node);
    const memo = this.memos.get(key);
    // Most classes are built once: only a second build is watched, to copy the third and after.
    if (memo === undefined) this.memos.set(key, 'once');
    if (memo === undefined || memo === 'uncopyable') return this.build(cls, positional, keywords, node);
    if (memo !== 'once' && this.stillRead(memo.reads)) {
      const copy = copyMade(memo.template, 0, new Set(), { node, site: this.siteOf(node) });
      if (copy) {
        noteReads(this.watches, memo.reads);
        return copy;
      }
    }
    const { value: made, pure, watch } = this.watched(() => this.build(cls, positional, keywords, node));
    // What it lost, reported or called is said once, where the build ran: a copy would say nothing.
    if (pure && made instanceof Module) {
      const template = copyMade(made, watch.start, arraysIn([...positional, ...keywords.values()]));
      this.memos.set(key, template ? { template, reads: watch.reads } : 'uncopyable');
    }
    return made;
  }

  /** Whether the names and class attributes a memoized run read still hold what they held. */
  protected stillRead(reads: Memo['reads']): boolean {
    return stillHolds(reads, (holder, name) => (holder instanceof ClassInfo ? this.classValues.get(holder)?.get(name) : (holder as Map<string, Value>).get(name)));
  }

  /**
   * Runs `run` watched, as the memos need it: the value it gives, and whether it was pure (it changed
   * only what it made, and lost, reported and forked nothing) with the names it read.
   */
  protected watched<T>(run: () => T, calls = true): { value: T; pure: boolean; watch: Watch } {
    const watch = startWatch();
    const count = () => [this.losses.size, this.diagnostics.size, this.forks.length, calls ? this.calls.size : 0];
    const before = count();
    this.watches.push(watch);
    changes.hook = (target) => noteChange(this.watches, target);
    let value: T;
    try {
      value = run();
    } finally {
      this.watches.pop();
      if (this.watches.length === 0) changes.hook = undefined;
    }
    const after = count();
    return { value, pure: watch.pure && after.every((n, i) => n === before[i]), watch };
  }

  private build(cls: ClassInfo, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    for (const c of cls.mro) this.used.add(c);
    const plain = cls.torchBases.length === 0;
    // A class deriving from one the analysis cannot read may be an nn.Module: its instances' parameters and calls would be missed.
    const unread = plain ? cls.unreadBase : undefined;
    if (unread !== undefined) this.lose(node, `${cls.name} derives from \`${unread.slice(0, 60)}\`, which the analysis cannot read: whether it is a layer is not known`);
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

  protected callFunction(fn: FunctionDef, positional: Value[], keywords: Map<string, Value>): Value {
    if (fn.file === this.file && fn.node.type === 'function_definition' && !fn.closure && !fn.self && !fn.owner) this.usedFunctions.add(fn.node);
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
}

/** The lists among arguments, at any depth: a build that keeps one shares it with its caller, which a copy would not. */
function arraysIn(values: Value[], found = new Set<unknown>()): Set<unknown> {
  for (const value of values) {
    if (Array.isArray(value) && !found.has(value)) {
      found.add(value);
      arraysIn(value, found);
    }
  }
  return found;
}
