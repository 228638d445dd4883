// TF.js models from TypeScript or JavaScript source: a small evaluator of JavaScript runs the file's
// top level and each of its functions that builds a model (`tf.sequential`, `model.add`,
// `tf.layers.*(…).apply(…)`, `tf.model({inputs, outputs})`), following its own modules' imports.
// What it cannot follow (a parameter nothing gives, a package's value, a condition it cannot tell)
// is an Unknown with its reason and line; a model it touches is marked incomplete, never filled in
// from a default. Shapes are NHWC with the batch first. The reports are made in tfjsReport.ts.
import { InputAnnotations } from './annotations';
import type { ModelReport } from './report';
import type { Node } from './syntax';
import { buildTfjsLayer, computeTfjsOutputShape, TfjsConfigError, UnknownConfig } from './tfjsLayers';
import { modelReports, type FoundModel } from './tfjsReport';
import { type Application, firstUnknown, Fn, Functional, isModel, Layer, type Loss, missing, type Model, Obj, plain, Scope, Sequential, SymbolicTensor, truthy, Unknown, type Value } from './tfjsValues';
import { formatShape, normalizeDim, type Shape } from './shape';

export interface TfjsOptions {
  /** One sample's shape as PyTorch orders it (C×H×W); TF.js gets it as H×W×C. */
  defaultInput: number[];
  /** The whole input shape, batch included, overriding inputShape, annotations and the default. */
  input?: number[];
  /** The program's other modules, for `import … from './data'` and `require('./data')`. */
  scripts?: ScriptImports;
  /** Evaluation steps per model before the analysis gives up on it. */
  stepBudget?: number;
}

/** How `import … from './data'` finds another module of the program. */
export interface ScriptImports {
  /** The module `specifier` names, seen from the file at `from` (undefined: the file analysed); undefined for a package. */
  resolveScript(specifier: string, from: string | undefined): { path: string; root: Node } | undefined;
}

class BudgetExceeded extends Error {}
class Returned {
  constructor(readonly value: Value) {}
}

const maxDepth = 40;
const merges = new Set(['concatenate', 'add', 'multiply', 'average', 'maximum', 'minimum']);
/** Calls that change no model and give nothing a model needs (logging, training, saving). */
const inertCall = /^(console\.|tfvis\.|ui\.|document\.|window\.)|\.(compile|fit|fitDataset|summary|save|predict|evaluate|dispose|print|log|then|catch|setTimeout)$/;

function unwrap(node: Node): Node {
  let current = node;
  while (['as_expression', 'satisfies_expression', 'non_null_expression', 'parenthesized_expression', 'type_assertion'].includes(current.type) && current.namedChildren[0]) current = current.namedChildren[0];
  return current;
}

export function analyzeTfjs(root: Node, options: TfjsOptions): ModelReport[] {
  const annotations = new InputAnnotations(root);
  const program = new Program(root, options);
  return modelReports(root, program.models(annotations), annotations, options);
}

/** One file's evaluation: its module scope, then each function that builds a model, called afresh. */
class Program {
  private readonly modules = new Map<string, Obj>();

  constructor(
    private readonly root: Node,
    private readonly options: TfjsOptions,
  ) {}

  models(annotations: InputAnnotations): FoundModel[] {
    const found: FoundModel[] = [];
    const top = new Evaluator(this, undefined, this.options.stepBudget);
    const scope = new Scope();
    try {
      top.runModule(this.root, scope, new Obj());
    } catch (error) {
      if (!(error instanceof BudgetExceeded)) throw error;
    }
    const functions = topLevelFunctions(this.root, scope);
    const reported = new Set<Model>();
    /** Where the models that functions return are made: another function that calls one and trains the result shows no model of its own. */
    const returnedAt = new Set<Node>();
    const results: { name: string; extent: Node; build?: string; lost?: string; evaluator: Evaluator; models: Model[]; returned: boolean }[] = [];
    for (const { name, fn, extent } of functions) {
      const evaluator = new Evaluator(this, undefined, this.options.stepBudget);
      const given = annotations.argsFor(extent);
      const call = given ?? firstCall(this.root, name);
      let args: Value[] = [];
      let build: string | undefined;
      if (call) {
        args = evaluator.argumentsOf(call, scope);
        const known = args.every((a) => firstUnknown(a) === undefined && (a === null || typeof a !== 'object' || Array.isArray(a)));
        if (known && args.length > 0) build = `${name}(${args.map((a) => JSON.stringify(plain(a))).join(', ')})`;
        else if (!known) args = [];
      }
      const result = evaluator.callTopLevel(fn, args);
      const returned = result.value;
      if (isModel(returned)) returnedAt.add(returned.node);
      // What it returns; else what it builds and uses (`model.fit`) without returning, where this file builds it.
      const models = isModel(returned) ? [returned] : evaluator.created.filter((m) => !evaluator.usedAsLayer.has(m) && m.node.tree === this.root.tree);
      results.push({ name, extent, ...(build ? { build } : {}), ...(result.lost ? { lost: result.lost } : {}), evaluator, models, returned: isModel(returned) });
    }
    for (const { name, extent, build, lost, evaluator, models, returned } of results) {
      const own = models.filter((model) => returned || !returnedAt.has(model.node));
      for (const model of own) {
        reported.add(model);
        model.losses.push(...evaluator.losses);
        // Several models one function makes and keeps (an encoder, a decoder) are named by their variables.
        const named = own.length > 1 && model.origin.variable ? `${name}: ${model.origin.variable}` : name;
        found.push({ model, name: named, extent, ...(build ? { build } : {}), ...(lost ? { lost } : {}) });
      }
    }
    // A model built at module level, known by its variable; or in a callback (an event handler) or a function it calls, known by that function.
    const byValue = new Map([...scope.vars].filter(([, v]) => isModel(v)).map(([name, v]) => [v as Model, name]));
    // Each place that makes a model is shown once: by the function that makes it, before the call at module level that runs it.
    const shown = new Set([...reported].map((m) => m.node));
    for (const model of top.created) {
      if (shown.has(model.node) || top.usedAsLayer.has(model) || model.node.tree !== this.root.tree || returnedAt.has(model.node)) continue;
      shown.add(model.node);
      const variable = byValue.get(model);
      model.losses.push(...top.losses);
      found.push({ model, name: variable ?? model.origin.madeIn ?? model.origin.variable ?? 'model', extent: (variable ? declarationOf(this.root, variable) : undefined) ?? topLevelStatement(model.node) });
    }
    return found.sort((a, b) => a.extent.startIndex - b.extent.startIndex);
  }

  /** The exports of another module of the program, evaluated once. */
  module(specifier: string, from: string | undefined, node: Node): Obj | Unknown {
    const resolved = this.options.scripts?.resolveScript(specifier, from);
    if (!resolved) {
      const reason = !specifier.startsWith('.') ? `'${specifier}' is a package the analysis does not read` : this.options.scripts ? `'${specifier}' is not found beside the file` : `'${specifier}' is not read (the file is not saved)`;
      return new Unknown(reason, node);
    }
    let exports = this.modules.get(resolved.path);
    if (!exports) {
      exports = new Obj();
      this.modules.set(resolved.path, exports);
      const evaluator = new Evaluator(this, resolved.path, this.options.stepBudget);
      try {
        evaluator.runModule(resolved.root, new Scope(), exports);
      } catch (error) {
        if (!(error instanceof BudgetExceeded)) throw error;
      }
    }
    return exports;
  }
}

/** The functions declared at the top level (`function f`, `const f = () => …`, exported or not), in order. */
function topLevelFunctions(root: Node, scope: Scope): { name: string; fn: Fn; extent: Node }[] {
  const result: { name: string; fn: Fn; extent: Node }[] = [];
  for (const raw of root.namedChildren) {
    const statement = declared(raw);
    if (!statement || !raw) continue;
    const names = /function_declaration$/.test(statement.type)
      ? [statement.childForFieldName('name')?.text]
      : statement.type === 'lexical_declaration' || statement.type === 'variable_declaration'
        ? statement.namedChildren.map((d) => d?.childForFieldName('name')?.text)
        : [];
    for (const name of names) {
      const value = name ? scope.vars.get(name) : undefined;
      if (name && value instanceof Fn && value.node.startIndex >= raw.startIndex && value.node.endIndex <= raw.endIndex) result.push({ name, fn: value, extent: raw });
    }
  }
  return result;
}

/** A top-level statement, or what an `export` statement declares (none for `export {…}`). */
function declared(statement: Node | null): Node | null {
  return statement?.type === 'export_statement' ? statement.childForFieldName('declaration') : statement;
}

/** The first call of `name(…)` in the file, whose arguments may tell the function's parameters. */
function firstCall(root: Node, name: string): Node | undefined {
  const text = root.text;
  for (let at = text.indexOf(`${name}(`); at !== -1; at = text.indexOf(`${name}(`, at + 1)) {
    const node = root.descendantForIndex(at);
    const call = node?.parent;
    if (node?.type === 'identifier' && call?.type === 'call_expression' && call.childForFieldName('function')?.startIndex === node.startIndex) return call;
  }
  return undefined;
}

/** The statement of the file's top level that holds a node. */
function topLevelStatement(node: Node): Node {
  let current = node;
  while (current.parent && current.parent.type !== 'program') current = current.parent;
  return current;
}

function declarationOf(root: Node, name: string): Node | undefined {
  for (const raw of root.namedChildren) {
    const statement = declared(raw);
    if ((statement?.type === 'lexical_declaration' || statement?.type === 'variable_declaration') && statement.namedChildren.some((d) => d?.childForFieldName('name')?.text === name)) return raw ?? undefined;
  }
  return undefined;
}

class Evaluator {
  readonly created: Model[] = [];
  readonly usedAsLayer = new Set<Model>();
  /** What could not be followed while building: the models of this evaluation are incomplete by it. */
  readonly losses: Loss[] = [];
  private steps = 0;
  private depth = 0;
  private order = 0;
  /** The named functions being called, innermost last: what a model made now is named by. */
  private readonly functionNames: string[] = [];
  /** Callbacks already run once. */
  private readonly ranCallbacks = new Set<Node>();

  constructor(
    private readonly program: Program,
    /** The module's path; undefined for the file analysed. */
    private readonly path: string | undefined,
    private readonly budget = 200_000,
  ) {}

  private step(node: Node): void {
    if (++this.steps > this.budget) {
      this.losses.push({ reason: `the analysis stopped after ${this.budget.toLocaleString('en-US')} steps`, node });
      throw new BudgetExceeded();
    }
  }

  private lose(reason: string, node: Node): void {
    if (!this.losses.some((l) => l.node === node)) this.losses.push({ reason, node });
  }

  runModule(root: Node, scope: Scope, exports: Obj): void {
    scope.vars.set('exports', exports);
    scope.vars.set('module', new Obj(new Map([['exports', exports]])));
    this.hoist(root, scope);
    try {
      this.block(root, scope, exports);
    } catch (error) {
      // A `return` or `throw` at the top level (a half-written file) ends it.
      if (!(error instanceof Returned)) throw error;
    }
    // `module.exports = …` replaces the exports object.
    const replaced = (scope.vars.get('module') as Obj).entries.get('exports');
    if (replaced instanceof Obj && replaced !== exports) for (const [k, v] of replaced.entries) exports.entries.set(k, v);
    else if (replaced !== exports && replaced !== undefined) exports.entries.set('default', replaced);
  }

  /** A function called as the editor's user or the trainer would: what `args` do not give is not known, but for defaults. */
  callTopLevel(fn: Fn, args: Value[]): { value: Value; lost?: string } {
    try {
      return { value: this.call(fn, args, fn.node, true) };
    } catch (error) {
      if (error instanceof BudgetExceeded) return { value: undefined, lost: 'step budget' };
      throw error;
    }
  }

  argumentsOf(call: Node, scope: Scope): Value[] {
    const result: Value[] = [];
    for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
      if (!argument || argument.type === 'comment') continue;
      if (argument.type === 'spread_element') {
        const spread = this.evaluate(argument.namedChildren[0] as Node, scope);
        if (Array.isArray(spread)) result.push(...spread);
        else result.push(new Unknown('arguments spread from a value not known', argument));
      } else {
        result.push(this.evaluate(argument, scope));
      }
    }
    return result;
  }

  // ---- statements ----

  /** Function declarations are bound before the statements run. */
  private hoist(block: Node, scope: Scope): void {
    for (const raw of block.namedChildren) {
      const statement = declared(raw);
      if (statement && /function_declaration$/.test(statement.type)) {
        const name = statement.childForFieldName('name')?.text;
        if (name) scope.vars.set(name, new Fn(statement, scope, name));
      }
    }
  }

  private block(node: Node, scope: Scope, exports?: Obj): void {
    for (const statement of node.namedChildren) if (statement) this.statement(statement, scope, exports);
  }

  private statement(node: Node, scope: Scope, exports?: Obj): void {
    this.step(node);
    switch (node.type) {
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const declarator of node.namedChildren) {
          const name = declarator?.childForFieldName('name');
          const value = declarator?.childForFieldName('value');
          if (declarator?.type === 'variable_declarator' && name) this.bind(name, value ? this.evaluate(value, scope) : undefined, scope, true);
        }
        return;
      case 'export_statement': {
        const declaration = node.childForFieldName('declaration');
        if (declaration) {
          this.statement(declaration, scope);
          for (const name of declaredNames(declaration)) exports?.entries.set(name, scope.lookup(name) as Value);
          return;
        }
        const value = node.childForFieldName('value');
        if (value && node.children.some((c) => c?.type === 'default')) return void exports?.entries.set('default', this.evaluate(value, scope));
        // export { a, b as c }
        for (const clause of node.namedChildren) {
          if (clause?.type !== 'export_clause') continue;
          for (const specifier of clause.namedChildren) {
            const local = specifier?.childForFieldName('name')?.text;
            const alias = specifier?.childForFieldName('alias')?.text ?? local;
            if (local && alias) exports?.entries.set(alias, this.lookup(local, specifier as Node, scope));
          }
        }
        return;
      }
      case 'import_statement':
        return this.importStatement(node, scope);
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'class_declaration':
      case 'empty_statement':
      case 'comment':
        if (node.type === 'class_declaration') {
          const name = node.childForFieldName('name')?.text;
          if (name) scope.vars.set(name, new Unknown(`class ${name} is not followed by the analysis`, node));
        }
        return;
      case 'expression_statement':
        this.evaluate(node.namedChildren[0] as Node, scope);
        return;
      case 'return_statement': {
        const expression = node.namedChildren[0];
        throw new Returned(expression ? this.evaluate(expression, scope) : undefined);
      }
      case 'statement_block': {
        const inner = new Scope(scope);
        this.hoist(node, inner);
        return this.block(node, inner);
      }
      case 'if_statement': {
        const condition = this.evaluate(node.childForFieldName('condition') as Node, scope);
        const known = truthy(condition);
        const consequence = node.childForFieldName('consequence');
        const alternative = node.childForFieldName('alternative')?.namedChildren[0] ?? null;
        if (known === undefined) return this.skip([consequence, alternative], scope, `the condition of the if at this line is not known (${reasonOf(condition)})`, node);
        const taken = known ? consequence : alternative;
        if (taken) this.statement(taken, scope);
        return;
      }
      case 'for_statement':
        return this.forStatement(node, scope);
      case 'for_in_statement':
        return this.forIn(node, scope);
      case 'while_statement':
      case 'do_statement':
        return this.skip([node.childForFieldName('body')], scope, `a ${node.type === 'do_statement' ? 'do' : 'while'} loop is not followed`, node);
      case 'try_statement': {
        const body = node.childForFieldName('body');
        if (body) this.statement(body, scope);
        return;
      }
      case 'throw_statement':
        throw new Returned(new Unknown('the function throws here', node));
      default:
        // switch, labels, break/continue outside the loops followed: what they hold is not followed.
        return this.skip(node.namedChildren, scope, `a ${node.type.replace(/_/g, ' ')} is not followed`, node);
    }
  }

  /** Code the analysis does not run: what it assigns is unknown after it, and if it builds anything, the model is incomplete. */
  private skip(nodes: (Node | null)[], scope: Scope, reason: string, at: Node): void {
    for (const node of nodes) {
      if (!node) continue;
      for (const name of assignedNames(node)) if (scope.lookup(name) !== missing) scope.assign(name, new Unknown(`${name} is set where the analysis does not follow (${reason})`, at));
      if (hasEffects(node)) this.lose(reason, at);
    }
  }

  private forStatement(node: Node, scope: Scope): void {
    const inner = new Scope(scope);
    const initializer = node.childForFieldName('initializer');
    if (initializer) this.statement(initializer, inner);
    const condition = node.childForFieldName('condition');
    const increment = node.childForFieldName('increment');
    const body = node.childForFieldName('body');
    for (let i = 0; ; i++) {
      const test = condition ? this.evaluate(condition.type === 'expression_statement' ? (condition.namedChildren[0] as Node) : condition, inner) : true;
      const known = truthy(test);
      if (known === undefined) return this.skip([body], inner, `the for loop's condition is not known (${reasonOf(test)})`, node);
      if (!known) return;
      if (body) this.loopBody(body, inner);
      if (increment) this.evaluate(increment, inner);
    }
  }

  private forIn(node: Node, scope: Scope): void {
    const right = this.evaluate(node.childForFieldName('right') as Node, scope);
    const left = node.childForFieldName('left');
    const body = node.childForFieldName('body');
    const of = node.children.some((c) => c?.type === 'of');
    const items = Array.isArray(right) ? (of ? right : right.map((_, i) => String(i))) : right instanceof Obj && !of ? [...right.entries.keys()] : undefined;
    if (!items || !left) return this.skip([body], scope, `what the loop goes through is not known (${reasonOf(right)})`, node);
    for (const item of items) {
      const inner = new Scope(scope);
      this.bind(left, item, inner, true);
      if (body) this.loopBody(body, inner);
    }
  }

  private loopBody(body: Node, scope: Scope): void {
    this.statement(body, scope);
  }

  private importStatement(node: Node, scope: Scope): void {
    const source = node.childForFieldName('source');
    const specifier = source ? stringValue(source) : undefined;
    if (specifier === undefined) return;
    const module = this.moduleValue(specifier, node);
    const clause = node.namedChildren.find((c) => c?.type === 'import_clause');
    for (const part of clause?.namedChildren ?? []) {
      if (!part) continue;
      if (part.type === 'identifier') scope.vars.set(part.text, member(module, 'default', part));
      else if (part.type === 'namespace_import') {
        const name = part.namedChildren.find((c) => c?.type === 'identifier');
        if (name) scope.vars.set(name.text, module);
      } else if (part.type === 'named_imports') {
        for (const specifierNode of part.namedChildren) {
          const name = specifierNode?.childForFieldName('name')?.text;
          const alias = specifierNode?.childForFieldName('alias')?.text ?? name;
          if (name && alias && specifierNode) scope.vars.set(alias, member(module, name, specifierNode));
        }
      }
    }
  }

  private moduleValue(specifier: string, node: Node): Value {
    if (/^@tensorflow\/tfjs/.test(specifier)) return tfNamespace();
    return this.program.module(specifier, this.path, node);
  }

  /** A declaration's or a loop's target: a name, or an object or array pattern. */
  private bind(target: Node, value: Value, scope: Scope, declare: boolean): void {
    const set = (name: string, v: Value) => (declare ? scope.vars.set(name, v) : scope.assign(name, v));
    switch (target.type) {
      case 'identifier':
        return void set(target.text, value);
      case 'object_pattern':
        for (const part of target.namedChildren) {
          if (!part) continue;
          if (part.type === 'shorthand_property_identifier_pattern') set(part.text, member(value, part.text, part));
          else if (part.type === 'pair_pattern') {
            const key = part.childForFieldName('key');
            const inner = part.childForFieldName('value');
            if (key && inner) this.bind(inner, member(value, propertyName(key), part), scope, declare);
          } else if (part.type === 'object_assignment_pattern') {
            const left = part.childForFieldName('left');
            const right = part.childForFieldName('right');
            if (!left) continue;
            const found = member(value, left.text, part);
            this.bind(left, found === undefined && right ? this.evaluate(right, scope) : found, scope, declare);
          } else {
            for (const name of assignedNames(part)) set(name, new Unknown('a rest pattern is not followed', part));
          }
        }
        return;
      case 'array_pattern':
        target.namedChildren.forEach((part, i) => {
          if (part) this.bind(part, Array.isArray(value) ? value[i] : value instanceof Unknown ? value : new Unknown('destructured from something that is not an array', part), scope, declare);
        });
        return;
      case 'assignment_pattern': {
        const left = target.childForFieldName('left');
        const right = target.childForFieldName('right');
        if (left) this.bind(left, value === undefined && right ? this.evaluate(right, scope) : value, scope, declare);
        return;
      }
      default:
        for (const name of assignedNames(target)) set(name, new Unknown(`${target.type.replace(/_/g, ' ')} is not followed`, target));
    }
  }

  // ---- expressions ----

  private lookup(name: string, node: Node, scope: Scope): Value {
    const found = scope.lookup(name);
    if (found !== missing) return found as Value;
    if (name === 'undefined') return undefined;
    // TF.js's script-tag build defines the global `tf`.
    if (name === 'tf') return tfNamespace();
    if (name === 'Math' || name === 'Number' || name === 'JSON' || name === 'Object' || name === 'Array') return new Obj(new Map([['__builtin', name]]));
    return new Unknown(`${name} is not known here`, node);
  }

  evaluate(raw: Node, scope: Scope): Value {
    const node = unwrap(raw);
    this.step(node);
    switch (node.type) {
      case 'number':
        return Number(node.text.replace(/_/g, ''));
      case 'string':
        return stringValue(node);
      case 'template_string': {
        let text = '';
        for (const part of node.namedChildren) {
          if (part?.type === 'template_substitution') {
            const value = this.evaluate(part.namedChildren[0] as Node, scope);
            if (value instanceof Unknown || (typeof value === 'object' && value !== null)) return new Unknown('a template string of values not known', node);
            text += String(value);
          } else if (part) text += part.text;
        }
        return text;
      }
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'identifier':
        return this.lookup(node.text, node, scope);
      case 'await_expression':
        return this.evaluate(node.namedChildren[0] as Node, scope);
      case 'unary_expression':
        return this.unary(node, scope);
      case 'binary_expression':
        return this.binary(node, scope);
      case 'ternary_expression': {
        const condition = truthy(this.evaluate(node.childForFieldName('condition') as Node, scope));
        const consequence = node.childForFieldName('consequence') as Node;
        const alternative = node.childForFieldName('alternative') as Node;
        if (condition !== undefined) return this.evaluate(condition ? consequence : alternative, scope);
        const [a, b] = [this.evaluate(consequence, scope), this.evaluate(alternative, scope)];
        return typeof a !== 'object' && a === b ? a : new Unknown('a conditional expression whose condition is not known', node);
      }
      case 'array': {
        const items: Value[] = [];
        for (const item of node.namedChildren) {
          if (!item || item.type === 'comment') continue;
          if (item.type === 'spread_element') {
            const spread = this.evaluate(item.namedChildren[0] as Node, scope);
            if (Array.isArray(spread)) items.push(...spread);
            else return new Unknown('an array spread from something not known', item);
          } else items.push(this.evaluate(item, scope));
        }
        return items;
      }
      case 'object': {
        const result = new Obj();
        for (const pair of node.namedChildren) {
          if (pair?.type === 'pair') result.entries.set(propertyName(pair.childForFieldName('key') as Node), this.evaluate(pair.childForFieldName('value') as Node, scope));
          else if (pair?.type === 'shorthand_property_identifier') result.entries.set(pair.text, this.lookup(pair.text, pair, scope));
          else if (pair?.type === 'spread_element') {
            const spread = this.evaluate(pair.namedChildren[0] as Node, scope);
            if (spread instanceof Obj) for (const [k, v] of spread.entries) result.entries.set(k, v);
            else if (spread !== undefined && spread !== null) return new Unknown('an object spread from something not known', pair);
          }
        }
        return result;
      }
      case 'arrow_function':
      case 'function_expression':
      case 'function':
        return new Fn(node, scope, '');
      case 'assignment_expression':
      case 'augmented_assignment_expression':
        return this.assignment(node, scope);
      case 'update_expression': {
        const argument = node.childForFieldName('argument') ?? node.namedChildren[0];
        if (argument?.type !== 'identifier') return new Unknown('an update of something other than a variable', node);
        const before = this.lookup(argument.text, argument, scope);
        const after = typeof before === 'number' ? before + (node.text.includes('++') ? 1 : -1) : new Unknown(`${argument.text} is not known`, node);
        scope.assign(argument.text, after);
        return node.text.startsWith(argument.text) ? before : after;
      }
      case 'member_expression':
        return member(this.evaluate(node.childForFieldName('object') as Node, scope), node.childForFieldName('property')?.text ?? '', node);
      case 'subscript_expression': {
        const object = this.evaluate(node.childForFieldName('object') as Node, scope);
        const index = this.evaluate(node.childForFieldName('index') as Node, scope);
        if (typeof index === 'number' || typeof index === 'string') return member(object, String(index), node);
        return new Unknown('an index not known', node);
      }
      case 'call_expression':
        return this.callExpression(node, scope);
      case 'new_expression':
        return new Unknown(`new ${node.childForFieldName('constructor')?.text ?? ''} is not followed`, node);
      case 'sequence_expression': {
        let last: Value;
        for (const part of node.namedChildren) if (part) last = this.evaluate(part, scope);
        return last;
      }
      default:
        return new Unknown(`${node.type.replace(/_/g, ' ')} is not followed`, node);
    }
  }

  private unary(node: Node, scope: Scope): Value {
    const operator = node.childForFieldName('operator')?.text;
    const value = this.evaluate(node.childForFieldName('argument') as Node, scope);
    if (operator === 'typeof') return value instanceof Unknown ? value : value instanceof Fn ? 'function' : value === null ? 'object' : typeof value;
    if (operator === '!') {
      const known = truthy(value);
      return known === undefined ? new Unknown('the negation of something not known', node) : !known;
    }
    if (typeof value !== 'number') return value instanceof Unknown ? value : new Unknown(`${operator ?? ''} of something not a number`, node);
    return operator === '-' ? -value : operator === '+' ? value : new Unknown(`${operator ?? ''} is not followed`, node);
  }

  private binary(node: Node, scope: Scope): Value {
    const operator = node.childForFieldName('operator')?.text ?? '';
    const left = this.evaluate(node.childForFieldName('left') as Node, scope);
    // Short-circuit as JavaScript does.
    if (operator === '&&' || operator === '||' || operator === '??') {
      const known = operator === '??' ? (left instanceof Unknown ? undefined : left === null || left === undefined ? false : true) : truthy(left);
      if (known === undefined) return new Unknown(`${operator} of something not known`, node);
      const keepLeft = operator === '&&' ? !known : known;
      return keepLeft ? left : this.evaluate(node.childForFieldName('right') as Node, scope);
    }
    const right = this.evaluate(node.childForFieldName('right') as Node, scope);
    if (left instanceof Unknown) return left;
    if (right instanceof Unknown) return right;
    if (operator === '===' || operator === '==') return typeof left === 'object' && left !== null ? left === right : left === right;
    if (operator === '!==' || operator === '!=') return left !== right;
    if (operator === '+' && (typeof left === 'string' || typeof right === 'string') && typeof left !== 'object' && typeof right !== 'object') return String(left) + String(right);
    if (typeof left !== 'number' || typeof right !== 'number') return new Unknown(`${operator} of values that are not numbers`, node);
    switch (operator) {
      case '+':
        return left + right;
      case '-':
        return left - right;
      case '*':
        return left * right;
      case '/':
        return left / right;
      case '%':
        return left % right;
      case '**':
        return left ** right;
      case '<':
        return left < right;
      case '>':
        return left > right;
      case '<=':
        return left <= right;
      case '>=':
        return left >= right;
      default:
        return new Unknown(`${operator} is not followed`, node);
    }
  }

  private assignment(node: Node, scope: Scope): Value {
    const left = node.childForFieldName('left') as Node;
    const operator = node.childForFieldName('operator')?.text ?? '=';
    let value = this.evaluate(node.childForFieldName('right') as Node, scope);
    if (operator !== '=') {
      const before = this.evaluate(left, scope);
      value = typeof before === 'number' && typeof value === 'number' ? (operator === '+=' ? before + value : operator === '-=' ? before - value : operator === '*=' ? before * value : operator === '/=' ? before / value : new Unknown(`${operator} is not followed`, node)) : new Unknown(`${operator} of something not known`, node);
    }
    if (left.type === 'member_expression' || left.type === 'subscript_expression') {
      const object = this.evaluate(left.childForFieldName('object') as Node, scope);
      const key = left.type === 'member_expression' ? left.childForFieldName('property')?.text : String(plain(this.evaluate(left.childForFieldName('index') as Node, scope)));
      if (object instanceof Obj && key !== undefined) object.entries.set(key, value);
      else if (Array.isArray(object) && key !== undefined && /^\d+$/.test(key)) object[Number(key)] = value;
      else if (hasModel(object)) this.lose(`a model's ${key ?? 'part'} is set in a way the analysis does not follow`, node);
      return value;
    }
    this.bind(left, value, scope, false);
    return value;
  }

  // ---- calls ----

  private callExpression(node: Node, scope: Scope): Value {
    const callee = unwrap(node.childForFieldName('function') as Node);
    const args = () => this.argumentsOf(node, scope);
    if (callee.type === 'identifier' && callee.text === 'require') {
      const [specifier] = args();
      return typeof specifier === 'string' ? this.moduleValue(specifier, node) : new Unknown('require of a name not known', node);
    }
    if (callee.type === 'member_expression') {
      const property = callee.childForFieldName('property')?.text ?? '';
      const object = this.evaluate(callee.childForFieldName('object') as Node, scope);
      if (isTf(object)) return this.tfCall(property, args(), node);
      if (object instanceof Obj && object.entries.get('__layers') === true) return this.layer(property, args()[0], node);
      if (object instanceof Obj && typeof object.entries.get('__builtin') === 'string') return builtinCall(String(object.entries.get('__builtin')), property, args(), node);
      if (object instanceof Sequential && property === 'add') {
        const [layer] = args();
        if (layer instanceof Layer) object.layers.push(layer);
        else if (isModel(layer)) {
          this.usedAsLayer.add(layer);
          object.losses.push({ reason: 'a model added to a tf.sequential is not followed', node });
        } else object.losses.push({ reason: `model.add of ${reasonOf(layer)}`, node });
        return undefined;
      }
      if ((object instanceof Layer || isModel(object)) && property === 'apply') return this.apply(object, args()[0], node);
      if (Array.isArray(object)) return arrayCall(object, property, args(), node, (fn, a) => this.call(fn, a, node));
      if (object instanceof Fn && (property === 'call' || property === 'apply')) return new Unknown(`${property} of a function is not followed`, node);
      const method = member(object, property, callee);
      if (method instanceof Fn) return this.call(method, args(), node);
      this.runCallbacks(args());
      if (inertCall.test(callee.text)) return new Unknown(`${callee.text}(…) gives nothing a model needs`, node);
      return new Unknown(`${callee.text}(…) is not followed`, node);
    }
    const fn = this.evaluate(callee, scope);
    if (fn instanceof Fn) return this.call(fn, args(), node);
    this.runCallbacks(args());
    return new Unknown(`${callee.text}(…) is not followed${fn instanceof Unknown ? ` (${fn.reason})` : ''}`, node);
  }

  /** Functions handed to a call the analysis does not follow (an event handler, a timer, a promise's then) run once, their parameters not known: the models they build are found. */
  private runCallbacks(args: Value[]): void {
    for (const fn of args) {
      if (!(fn instanceof Fn) || this.ranCallbacks.has(fn.node)) continue;
      this.ranCallbacks.add(fn.node);
      this.call(fn, [], fn.node, true);
    }
  }

  /** `open`: called from outside what the analysis sees, so a parameter no argument gives is not known (not JavaScript's undefined). */
  private call(fn: Fn, args: Value[], at: Node, open = false): Value {
    if (this.depth >= maxDepth) return new Unknown('calls nest deeper than the analysis follows', at);
    const scope = new Scope(fn.scope);
    const parameters = fn.node.childForFieldName('parameters') ?? fn.node.childForFieldName('parameter');
    const list = parameters?.type === 'identifier' ? [parameters] : (parameters?.namedChildren ?? []).filter((p): p is Node => p !== null && p.type !== 'comment');
    list.forEach((parameter, i) => {
      const target = parameter.type === 'required_parameter' || parameter.type === 'optional_parameter' ? (parameter.childForFieldName('pattern') ?? parameter) : parameter;
      const defaultValue = parameter.childForFieldName('value');
      if (target.type === 'rest_pattern') return this.bind(target.namedChildren[0] as Node, args.slice(i), scope, true);
      // A parameter nothing gives has its default, as when the trainer calls the function; without one it is not known.
      const given = i < args.length ? args[i] : undefined;
      const value = given === undefined && defaultValue ? this.evaluate(defaultValue, scope) : given === undefined && open ? new Unknown(`${fn.name || 'the function'}'s parameter ${target.text} is not given (write its arguments above it: // cnnlab: args …)`, parameter) : given;
      this.bind(target, value, scope, true);
    });
    const body = fn.node.childForFieldName('body');
    if (!body) return undefined;
    this.depth++;
    this.functionNames.push(fn.name);
    try {
      if (body.type !== 'statement_block') return this.evaluate(body, scope);
      this.hoist(body, scope);
      this.block(body, scope);
      return undefined;
    } catch (error) {
      if (error instanceof Returned) return error.value;
      throw error;
    } finally {
      this.depth--;
      this.functionNames.pop();
    }
  }

  /** A model made here: it is named by the function that made it, or by its variable. */
  private made<M extends Model>(model: M, node: Node): M {
    this.created.push(model);
    const madeIn = [...this.functionNames].reverse().find((name) => name !== '');
    const holder = node.parent?.type === 'variable_declarator' ? node.parent.childForFieldName('name') : node.parent?.type === 'assignment_expression' ? node.parent.childForFieldName('left') : null;
    model.origin = { ...(madeIn ? { madeIn } : {}), ...(holder?.type === 'identifier' ? { variable: holder.text } : {}) };
    return model;
  }

  private tfCall(property: string, args: Value[], node: Node): Value {
    const [config] = args;
    switch (property) {
      case 'sequential': {
        const model = this.made(new Sequential(node), node);
        const layers = member(config, 'layers', node);
        if (Array.isArray(layers)) for (const layer of layers) if (layer instanceof Layer) model.layers.push(layer);
        else if (config !== undefined && layers !== undefined) model.losses.push({ reason: `its layers are not known (${reasonOf(layers)})`, node });
        return model;
      }
      case 'input': {
        const shape = member(config, 'shape', node);
        const batch = member(config, 'batchShape', node);
        const dims = Array.isArray(shape) ? [null, ...shape] : Array.isArray(batch) ? batch : undefined;
        if (!dims) return new SymbolicTensor(null, null, new Unknown(`tf.input's shape is not known (${reasonOf(shape)})`, node));
        const lost = firstUnknown(dims);
        return new SymbolicTensor(
          dims.map((d, i) => (i === 0 ? 1 : typeof d === 'number' ? d : null)),
          null,
          lost ? new Unknown(`tf.input's shape is only partly known: ${lost.reason}`, lost.node ?? node) : undefined,
        );
      }
      case 'model': {
        const list = (v: Value): SymbolicTensor[] => (v instanceof SymbolicTensor ? [v] : Array.isArray(v) ? v.filter((t): t is SymbolicTensor => t instanceof SymbolicTensor) : []);
        const model = new Functional(node, list(member(config, 'inputs', node)), list(member(config, 'outputs', node)));
        const outputs = member(config, 'outputs', node);
        if (model.outputs.length === 0 || (Array.isArray(outputs) && outputs.length !== model.outputs.length)) model.losses.push({ reason: `tf.model's outputs are not known (${reasonOf(outputs)})`, node });
        return this.made(model, node);
      }
      case 'layers':
        return new Obj(new Map([['__layers', true]]));
      default:
        return new Unknown(`tf.${property}(…) is not followed`, node);
    }
  }

  private layer(factory: string, config: Value, node: Node): Layer {
    const object = config instanceof Obj ? config : new Obj();
    try {
      // Unknowns stay themselves in `plain`: the rule that reads one says which key it needed.
      const spec = buildTfjsLayer(factory, plain(object) as Record<string, unknown>);
      return new Layer(factory, spec, object, node, spec || merges.has(factory) ? undefined : new Unknown(`tf.layers.${factory} is not analysed`, node));
    } catch (error) {
      if (error instanceof UnknownConfig) {
        return new Layer(factory, null, object, node, new Unknown(`its ${error.key} is not known: ${error.value.reason}`, error.value.node ?? node));
      }
      if (error instanceof TfjsConfigError) return new Layer(factory, null, object, node, new Unknown(error.message, node));
      throw error;
    }
  }

  private apply(layer: Layer | Model, input: Value, node: Node): SymbolicTensor | SymbolicTensor[] {
    const inputs: SymbolicTensor[] = input instanceof SymbolicTensor ? [input] : Array.isArray(input) ? input.filter((t): t is SymbolicTensor => t instanceof SymbolicTensor) : [];
    if (isModel(layer)) this.usedAsLayer.add(layer);
    const application: Application = { layer, inputs, output: new SymbolicTensor(null, null), order: this.order++ };
    if (inputs.length === 0 || (Array.isArray(input) && inputs.length !== input.length)) {
      const lost = new Unknown(`apply of ${reasonOf(input)}`, node);
      application.output = new SymbolicTensor(null, application, lost);
      return application.output;
    }
    const shapes = inputs.map((t) => t.shape);
    const inherited = inputs.find((t) => t.lost)?.lost;
    let shape: Shape | null = null;
    let lost: Unknown | undefined;
    if (layer instanceof Layer && merges.has(layer.factory)) {
      shape = shapes.every((s): s is Shape => s !== null) ? merge(layer, shapes, application) : null;
    } else if (layer instanceof Layer) {
      if (layer.spec && shapes.length === 1 && shapes[0]) {
        const result = computeTfjsOutputShape(layer.spec, `tf.layers.${layer.factory}`, shapes[0]);
        shape = result.shape;
        if (result.error) application.error = result.error;
      } else if (layer.problem) lost = layer.problem;
      else if (shapes.length !== 1) lost = new Unknown(`tf.layers.${layer.factory} applied to ${shapes.length} tensors`, node);
    } else {
      shape = modelOutputOn(layer, shapes[0] ?? null);
      if (!shape) lost = inherited ?? new Unknown('the output of a model applied as a layer is not known', node);
    }
    application.output = new SymbolicTensor(shape, application, lost ?? inherited);
    return application.output;
  }
}

/** A model used as a layer: a sequential's output on that input, from its layers' rules. */
function modelOutputOn(model: Model, input: Shape | null): Shape | null {
  if (model instanceof Functional) return model.outputs.length === 1 ? (model.outputs[0]?.shape ?? null) : null;
  let shape = input;
  for (const layer of model.layers) {
    if (!shape || !layer.spec) return null;
    shape = computeTfjsOutputShape(layer.spec, layer.factory, shape).shape;
  }
  return shape;
}

function merge(layer: Layer, shapes: Shape[], application: Application): Shape | null {
  const [first] = shapes;
  if (!first) return null;
  if (layer.factory === 'concatenate') {
    const axisValue = layer.config.entries.get('axis');
    const axis = normalizeDim(typeof axisValue === 'number' ? axisValue : -1, first.length);
    const sizes = shapes.map((s) => s[axis] ?? null);
    return first.map((d, i) => (i === axis ? (sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0)) : d));
  }
  // tfjs-layers' Merge: the shapes without their batch broadcast from the right (a size 1 takes the other's).
  let shape: Shape = first.slice(1);
  for (const other of shapes.slice(1)) {
    const [long, short] = shape.length >= other.length - 1 ? [shape, other.slice(1)] : [other.slice(1), shape];
    const lead = long.slice(0, long.length - short.length);
    const tail = short.map((j, k) => {
      const i = long[long.length - short.length + k] ?? null;
      if (i === null || j === null) return null;
      if (i === 1) return j;
      if (j === 1 || i === j) return i;
      application.error = `tf.layers.${layer.factory} needs shapes that broadcast: ${shapes.map(formatShape).join(' and ')}`;
      return i;
    });
    shape = [...lead, ...tail];
  }
  return [first[0] ?? null, ...shape];
}

function tfNamespace(): Obj {
  return new Obj(new Map([['__tf', true]]));
}

function isTf(value: Value): boolean {
  return value instanceof Obj && value.entries.get('__tf') === true;
}

function hasModel(value: Value): boolean {
  return isModel(value) || value instanceof Layer;
}

/** A property of a value: an object's entry, an array's length or item, a module's export. */
function member(value: Value, name: string, node: Node): Value {
  if (value instanceof Unknown) return value;
  if (value instanceof Obj) {
    if (isTf(value) && name === 'layers') return new Obj(new Map([['__layers', true]]));
    if (isTf(value)) return new Obj(new Map([['__tfMember', name]]));
    return value.entries.has(name) ? value.entries.get(name) : typeof value.entries.get('__builtin') === 'string' ? builtinConstant(String(value.entries.get('__builtin')), name, node) : undefined;
  }
  if (Array.isArray(value)) return name === 'length' ? value.length : /^\d+$/.test(name) ? value[Number(name)] : new Unknown(`an array's ${name} is not followed`, node);
  if (typeof value === 'string' && name === 'length') return value.length;
  if (value instanceof Functional) {
    if (name === 'outputs') return value.outputs;
    if (name === 'inputs') return value.inputs;
  }
  if (value instanceof Sequential && name === 'layers') return value.layers;
  if (value === undefined || value === null) return new Unknown(`${name} of ${String(value)}`, node);
  return new Unknown(`${name} is not followed here`, node);
}

function builtinConstant(builtin: string, name: string, node: Node): Value {
  if (builtin === 'Math' && (name === 'PI' || name === 'E')) return Math[name];
  return new Unknown(`${builtin}.${name} is not followed`, node);
}

function builtinCall(builtin: string, name: string, args: Value[], node: Node): Value {
  if (args.some((a) => a instanceof Unknown)) return args.find((a) => a instanceof Unknown) as Unknown;
  const numbers = args.every((a) => typeof a === 'number') ? (args as number[]) : undefined;
  if (builtin === 'Math' && numbers && ['floor', 'ceil', 'round', 'max', 'min', 'sqrt', 'pow', 'abs', 'trunc', 'log2', 'log'].includes(name)) return (Math[name as 'floor'] as (...n: number[]) => number)(...numbers);
  return new Unknown(`${builtin}.${name}(…) is not followed`, node);
}

function arrayCall(array: Value[], name: string, args: Value[], node: Node, call: (fn: Fn, args: Value[]) => Value): Value {
  switch (name) {
    case 'push':
      array.push(...args);
      return array.length;
    case 'concat':
      return args.reduce<Value[]>((all, a) => all.concat(Array.isArray(a) ? a : [a]), [...array]);
    case 'slice': {
      const [start, end] = args;
      return typeof start === 'number' || start === undefined ? array.slice(start as number | undefined, typeof end === 'number' ? end : undefined) : new Unknown('slice of bounds not known', node);
    }
    case 'map':
    case 'forEach': {
      const [fn] = args;
      if (!(fn instanceof Fn)) return new Unknown(`${name} with a function not known`, node);
      const mapped = array.map((item, i) => call(fn, [item, i]));
      return name === 'map' ? mapped : undefined;
    }
    default:
      return new Unknown(`an array's ${name} is not followed`, node);
  }
}

function reasonOf(value: Value): string {
  if (value instanceof Unknown) return value.reason;
  if (value === undefined) return 'undefined';
  return typeof value === 'object' ? 'a value that is not one' : String(value);
}

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };

function stringValue(node: Node): string {
  return node.namedChildren
    .map((c) => {
      if (c?.type !== 'escape_sequence') return c?.text ?? '';
      const body = c.text.slice(1);
      if (/^u[0-9a-fA-F]{4}$/.test(body) || /^x[0-9a-fA-F]{2}$/.test(body)) return String.fromCharCode(parseInt(body.slice(1), 16));
      return escapes[body] ?? body;
    })
    .join('');
}

function propertyName(key: Node): string {
  return key.type === 'string' ? stringValue(key) : key.text;
}

function declaredNames(declaration: Node): string[] {
  if (/function_declaration$|class_declaration/.test(declaration.type)) return [declaration.childForFieldName('name')?.text ?? ''].filter(Boolean);
  return declaration.namedChildren.flatMap((d) => (d?.childForFieldName('name')?.type === 'identifier' ? [d.childForFieldName('name')?.text ?? ''] : []));
}

/** The names a piece of code assigns or declares (the variables it may change). */
function assignedNames(node: Node): string[] {
  const names = new Set<string>();
  const visit = (n: Node) => {
    if (n.type === 'assignment_expression' || n.type === 'augmented_assignment_expression') {
      const left = n.childForFieldName('left');
      if (left?.type === 'identifier') names.add(left.text);
    } else if (n.type === 'update_expression') {
      const argument = n.namedChildren[0];
      if (argument?.type === 'identifier') names.add(argument.text);
    } else if (n.type === 'identifier' && (n.parent?.type === 'shorthand_property_identifier_pattern' || n.parent?.type === 'variable_declarator')) names.add(n.text);
    else if (n.type === 'shorthand_property_identifier_pattern') names.add(n.text);
    for (const child of n.namedChildren) if (child && !/^(arrow_function|function_expression|function_declaration)$/.test(child.type)) visit(child);
  };
  visit(node);
  return [...names];
}

/** Whether skipped code could change a model: a call other than logging, or an assignment to something other than a variable. */
function hasEffects(node: Node): boolean {
  if (node.type === 'call_expression') {
    const callee = node.childForFieldName('function')?.text ?? '';
    if (!/^console\./.test(callee)) return true;
  }
  if ((node.type === 'assignment_expression' || node.type === 'augmented_assignment_expression') && node.childForFieldName('left')?.type !== 'identifier') return true;
  return node.namedChildren.some((c) => c !== null && hasEffects(c));
}
