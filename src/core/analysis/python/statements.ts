// Statements: blocks and how they are left, def and decorators, if/for/while/with/try, del, and assignment.
import { normalizeDim, product, type Shape } from '../shape';
import type { Node } from '../syntax';
import { ClassInfo } from './program';
import { Expressions } from './expressions';
import { onlyInitialises, tensorWrites } from './loops';
import { changed, Dict, equalValues, type Flow, freeze, FunctionDef, iterate, type LayerCall, layerParameterSize, Module, Namespace, Raised, type Scope, specParameterNames, submoduleName, Tensor, truthy, Unknown, unknownReason, type Value } from './values';

/** Runs statements as Python does, saying where it cannot follow them. */
export abstract class Statements extends Expressions {
  /** Runs a block; returns how it left: a `return` with its value, a `break`, a `continue`, or undefined at its end. */
  protected executeBlock(block: Node | null, scope: Scope): Flow {
    for (const statement of block?.namedChildren ?? []) {
      if (!statement) continue;
      const flow = this.execute(statement, scope);
      if (flow) return flow;
    }
    return undefined;
  }

  protected execute(statement: Node, scope: Scope): Flow {
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
      case 'class_definition':
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

  /** `def` (with its decorators applied, innermost first) binds a function in the running scope; `class`, one the file reads at module level. */
  private define(statement: Node, scope: Scope): void {
    const definition = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    const name = definition?.childForFieldName('name')?.text;
    if (!definition || !name) return;
    if (definition.type !== 'function_definition') {
      // A class of a module-level try, with or if block, which the file reads as its own (PythonFile.register).
      const file = scope.globals === scope ? this.fileOf(scope) : undefined;
      const own = file?.classes.get(name)?.node.startIndex === definition.startIndex ? file?.classes.get(name) : file?.branchClasses.get(definition.startIndex);
      if (own) {
        this.bindName(name, own, scope);
        return;
      }
      this.lose(statement, `the class \`${name}\` defined here is not followed`);
      this.bindName(name, new Unknown(`the class \`${name}\` is defined inside a function`), scope);
      return;
    }
    const value: Value = new FunctionDef(definition, undefined, scope.cls, this.fileOf(scope), scope.globals === scope ? undefined : scope);
    const decorators = statement.type === 'decorated_definition' ? statement.namedChildren.filter((d): d is Node => d?.type === 'decorator') : [];
    this.bindName(name, this.decorate(decorators, value, scope), scope);
  }

  /** Decorators applied innermost first; one the analysis cannot follow leaves the function as defined, and says so. */
  protected decorate(decorators: Node[], fn: Value, scope: Scope): Value {
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
   * if / elif / else. A condition that is not known cannot choose: in forward and in the module-level
   * statements every model starts from, both ways are joined; while building, this run takes the
   * branch or not as takesBranch says, and the model is built again the other way (modelReport
   * compares them).
   */
  private executeIf(statement: Node, scope: Scope): Flow {
    const branches: { condition: Node | null; body: Node | null }[] = [{ condition: statement.childForFieldName('condition'), body: statement.childForFieldName('consequence') }];
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (alternative?.type === 'else_clause') branches.push({ condition: null, body: alternative.childForFieldName('body') });
      else if (alternative) branches.push({ condition: alternative.childForFieldName('condition'), body: alternative.childForFieldName('consequence') });
    }
    return this.runBranches(branches, 0, scope);
  }

  /** The branches from `index` on, as Python picks one of them. */
  private runBranches(branches: { condition: Node | null; body: Node | null }[], index: number, scope: Scope): Flow {
    for (let i = index; i < branches.length; i++) {
      const branch = branches[i] as (typeof branches)[number];
      const value = branch.condition ? this.evaluate(branch.condition, scope) : true;
      const test = truthy(value);
      if (test === false) continue;
      if (test === true) return this.executeBlock(branch.body, scope);
      const condition = branch.condition as Node;
      const reason = `the condition \`${condition.text.slice(0, 60)}\` is not known (${unknownReason(value)})`;
      // In forward and at module level, both ways are followed and joined: what they agree on stays known.
      if (this.phase === 'forward' || this.atModuleLevel) return this.bothWays(condition, reason, () => this.executeBlock(branch.body, scope), () => this.runBranches(branches, i + 1, scope), scope);
      if (!this.takesBranch(condition, reason)) continue;
      try {
        return this.executeBlock(branch.body, scope);
      } catch (error) {
        // A branch that raises is not the one a model that builds went through: the next one is.
        if (!(error instanceof Raised)) throw error;
      }
    }
    return undefined;
  }

  /**
   * Both ways of a condition that is not known, from the same state: the local names, the value
   * returned and each layer's call are joined (equal ones stay, differing sizes become `?`). Only
   * where the ways differ is the model incomplete, naming the condition. A way that raises is not the
   * way a model that runs goes.
   */
  private bothWays(condition: Node, reason: string, taken: () => Flow, other: () => Flow, scope: Scope): Flow {
    // The layer calls are put back after each way: a forward pass memoized around this could not replay them.
    if (this.recordings.length > 0) changed('shared');
    // A function's own names and its module's, which a `global` statement lets it assign.
    const scopes = scope.globals && scope.globals !== scope ? [scope, scope.globals] : [scope];
    const snapshot = () => ({ vars: scopes.map((s) => new Map(s.vars)), calls: new Map(this.calls) });
    const before = snapshot();
    const restore = (state: { vars: Map<string, Value>[]; calls: Map<Module, LayerCall> }) => {
      scopes.forEach((s, i) => {
        s.vars.clear();
        for (const [k, v] of state.vars[i] ?? []) s.vars.set(k, v);
      });
      this.calls.clear();
      for (const [k, v] of state.calls) this.calls.set(k, v);
    };
    const run = (way: () => Flow) => {
      try {
        const flow = way();
        return { flow, ...snapshot() };
      } catch (error) {
        if (!(error instanceof Raised)) throw error;
        return undefined;
      } finally {
        restore(before);
      }
    };
    const a = run(taken);
    const b = run(other);
    if (!a || !b) {
      if (!a && !b) return taken(); // both raise: so does Python
      const only = (a ?? b) as NonNullable<typeof a>;
      restore(only);
      return only.flow;
    }
    const differences: string[] = [];
    const because = `it depends on \`${condition.text.slice(0, 40)}\``;
    let flow: Flow = a.flow;
    if (typeof a.flow === 'object' && typeof b.flow === 'object') flow = { value: joinValues(a.flow.value, b.flow.value, because, differences, 'the value returned') };
    else if (a.flow !== b.flow) differences.push('one way leaves the block');
    const vars = scopes.map((_, i) => {
      const [x, y] = [a.vars[i] ?? new Map<string, Value>(), b.vars[i] ?? new Map<string, Value>()];
      const joined = new Map<string, Value>();
      for (const name of new Set([...x.keys(), ...y.keys()])) joined.set(name, joinValues(x.get(name), y.get(name), because, differences, `\`${name}\``));
      return joined;
    });
    const calls = new Map<Module, LayerCall>();
    for (const module of new Set([...a.calls.keys(), ...b.calls.keys()])) {
      const [x, y] = [a.calls.get(module), b.calls.get(module)];
      if (x && y && x !== y && JSON.stringify([x.in, x.out]) !== JSON.stringify([y.in, y.out])) {
        differences.push(module.path ?? module.type);
        calls.set(module, { module, in: joinShapes(x.in, y.in), out: joinShapes(x.out, y.out), note: because });
      } else if (x && y) calls.set(module, x);
      else {
        differences.push(`${module.path ?? module.type} (called one way only)`);
        calls.set(module, { ...((x ?? y) as LayerCall), note: `called one way only: ${because}` });
      }
    }
    restore({ vars, calls });
    if (differences.length > 0) this.lose(condition, `${reason}: the two ways differ in ${[...new Set(differences)].slice(0, 3).join(', ')}`);
    return flow;
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
    // A loop that only initialises weights in place changes no shape and no count: it is not run item by item
    // (half of a 3,000-layer ResNet's build), and its variable is left as Python leaves it, at the last item.
    if (!statement.childForFieldName('alternative') && onlyInitialises(statement.childForFieldName('body'), this.fileOf(scope))) {
      const last = items.at(-1);
      if (last !== undefined) this.bind(target, last, scope);
      return undefined;
    }
    // One that only writes tensors' values leaves what its last iteration leaves: only that one is run
    // (a mask filled row by row, 128 rows for each of a DenseNet's 240 convolutions, was 9 in 10 of its analysis).
    const writes = statement.childForFieldName('alternative') ? undefined : tensorWrites(statement.childForFieldName('body'), target, this.fileOf(scope));
    if (writes && writes.every((written) => this.evaluate(written, scope) instanceof Tensor)) {
      const last = items.at(-1);
      if (last === undefined) return undefined;
      this.bind(target, last, scope);
      this.executeBlock(statement.childForFieldName('body'), scope);
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
      scope.lazy?.delete(target.text);
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
      if (owner instanceof Dict || Array.isArray(owner)) changed('shared');
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

  protected bind(target: Node, value: Value, scope: Scope): void {
    const type = target.type;
    if (type === 'identifier') {
      this.bindName(target.text, value, scope);
    } else if (type === 'attribute') {
      const owner = this.evaluate(target.childForFieldName('object') as Node, scope);
      const name = target.childForFieldName('attribute')?.text ?? '';
      if (owner instanceof Module) this.setAttribute(owner, name, value, target);
      else if (owner instanceof ClassInfo) this.setClassAttribute(owner, name, value);
      // `param.requires_grad = False`: frozen parameters are counted apart, as torchinfo counts them.
      else if (owner instanceof Tensor && name === 'requires_grad') this.setTrained(owner, value, target);
      else if (owner instanceof Unknown && (!owner.inert || value instanceof Module)) this.lose(target, `\`${target.text.slice(0, 60)}\` is set on something that is not known (${owner.reason})`);
    } else if (type === 'subscript') {
      const owner = this.evaluate(target.childForFieldName('value') as Node, scope);
      const indexNode = target.childForFieldName('subscript');
      const index = indexNode ? this.evaluate(indexNode, scope) : null;
      if (owner instanceof Dict || Array.isArray(owner)) changed('shared');
      if (owner instanceof Namespace && typeof index === 'string') this.bindGlobal(owner.scope, index, value);
      else if (owner instanceof Dict && (typeof index === 'string' || typeof index === 'number')) owner.entries.set(String(index), value);
      else if (Array.isArray(owner) && typeof index === 'number' && owner.length > 0) owner[normalizeDim(index, owner.length)] = value;
      else if (owner instanceof Module && owner.options.container && value instanceof Module && (typeof index === 'string' || typeof index === 'number')) {
        const key = owner.options.container === 'dict' ? submoduleName(String(index), target) : [...owner.children.keys()][normalizeDim(Number(index), owner.children.size)];
        if (key === undefined) this.lose(target, `\`${target.text.slice(0, 60)}\` is out of range`);
        else owner.children.set(key, value);
      } else if (value instanceof Module || owner instanceof Module || owner instanceof Dict || Array.isArray(owner) || owner instanceof Namespace || (owner instanceof Unknown && !owner.inert)) {
        // A write the analysis cannot place may change what the model reads later (a kwargs dict, a config list).
        const why = owner instanceof Unknown ? ` (${owner.reason})` : index instanceof Unknown ? ` (the index: ${index.reason})` : '';
        this.lose(target, `\`${target.text.slice(0, 60)} = …\` is not followed${why}`);
      }
    } else if (type === 'pattern_list' || type === 'tuple_pattern' || type === 'list_pattern') {
      const targets = target.namedChildren.filter((n): n is Node => n !== null);
      const starred = targets.findIndex((t) => t.type === 'list_splat_pattern');
      const items = iterate(value);
      if (!items) {
        for (const t of targets) this.bind(t.type === 'list_splat_pattern' ? (t.namedChildren[0] as Node) : t, value instanceof Unknown ? value : new Unknown(`cannot unpack \`${target.text.slice(0, 40)}\``), scope);
        return;
      }
      // Python raises when the counts differ: `b, c, _, _ = x.size()` of a 2-D x.
      if (starred < 0 ? items.length !== targets.length : items.length < targets.length - 1) throw new Raised('ValueError', target);
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
  protected bindName(name: string, value: Value, scope: Scope): void {
    const declared = scope.declared?.get(name);
    if (declared === 'global' && scope.globals) return this.bindGlobal(scope.globals, name, value);
    if (declared === 'nonlocal') {
      for (let frame = scope.outer; frame && frame !== frame.globals; frame = frame.outer) {
        if (frame.vars.has(name)) {
          changed('shared');
          frame.vars.set(name, value);
          return;
        }
      }
    }
    if (scope === scope.globals) changed('shared');
    scope.vars.set(name, value);
    scope.lazy?.delete(name);
  }

  /** `p.requires_grad = flag` and `p.requires_grad_(flag)`: a parameter frozen or trained where it is counted, or said not known. */
  protected setTrained(parameter: Tensor, flag: Value, node: Node): void {
    if (!freeze(parameter, flag) && parameter.parameter) this.lose(node, `whether \`${node.text.slice(0, 60)}\` is trained is not known${parameter.owner ? ` (${unknownReason(flag)})` : ''}`);
  }

  /** `self.name = value`: a module registers as a child (keeping its first position), anything else is an attribute. */
  protected setAttribute(owner: Module, name: string, value: Value, node: Node = owner.node): void {
    owner.parameters.delete(name);
    owner.tied.delete(name);
    // What is not known may be a layer: its parameters and the forward pass through it are then missing.
    if (value instanceof Unknown && !value.inert) this.lose(node, `\`${name}\` is not known (${value.reason})`);
    // An nn.Parameter registered already (`self.fc.weight = self.embed.weight`, `self.b.scale = self.a.scale`) is counted where it was first, as parameters() counts one object once.
    if (value instanceof Tensor && value.parameter && value.owner && (value.owner.module !== owner || value.owner.name !== name) && (!owner.options.spec || layerParameterSize(owner.options.spec, name) !== undefined || !specParameterNames(owner.options.spec).includes(name))) {
      owner.tied.add(name);
      // Kept for its shape: state_dict lists a tied weight under both names.
      owner.attributes.set(name, value);
      owner.children.delete(name);
      return;
    }
    if (value instanceof Module && !value.options.plain) {
      owner.children.set(name, value);
      owner.attributes.delete(name);
    } else {
      // `self.conv.weight = nn.Parameter(filters)` replaces the layer's own weight: the new one counts instead.
      if (value instanceof Tensor && value.parameter && owner.options.spec && layerParameterSize(owner.options.spec, name) !== undefined) owner.tied.add(name);
      if (value instanceof Tensor && value.parameter) {
        owner.parameters.set(name, value.shape ? product(value.shape) : null);
        if (value.frozen) owner.frozen.add(name);
        else owner.frozen.delete(name);
        // Now its own: `self.scale.requires_grad_(False)` freezes it there, and assigning it elsewhere ties it.
        value.owner ??= { module: owner, name };
      }
      owner.children.delete(name);
      owner.attributes.set(name, value);
    }
  }
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
  ['StopIteration', []],
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

/** One value of two ways: kept where they agree, tensors by the sizes they agree on, else not known (and the difference noted). */
function joinValues(a: Value | undefined, b: Value | undefined, because: string, differences: string[], what: string): Value {
  if (a === b && a !== undefined) return a;
  if (a !== undefined && b !== undefined && equalValues(a, b) === true) return a;
  if (a instanceof Tensor && b instanceof Tensor) {
    const shape = joinShapes(a.shape, b.shape);
    if (shape && a.shape && JSON.stringify(shape) === JSON.stringify(a.shape)) return a;
    differences.push(what);
    return new Tensor(shape, because);
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.map((item, i) => joinValues(item, b[i], because, differences, what));
  differences.push(what);
  return new Unknown(a === undefined || b === undefined ? `${what} is set one way only: ${because}` : because);
}

function joinShapes(a: Shape | null, b: Shape | null): Shape | null {
  if (!a || !b || a.length !== b.length) return null;
  return a.map((d, i) => (d === b[i] ? d : null));
}
