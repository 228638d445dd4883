// Expressions: names, attributes, literals, comprehensions, subscripts, comparisons and arithmetic, tensors' included.
import { type Dim, formatShape, normalizeDim, type Shape } from '../shape';
import type { Node } from '../syntax';
import { builtins, dictMethods, type DictMethod, formatField, moduleConstant, moduleName, percentFormat } from './builtins';
import { listMethod, listMethods } from './lists';
import { literalContent, literalKind, stringMethods, type StringMethod } from './strings';
import { Evaluator } from './evaluator';
import { ClassInfo } from './program';
import { specTensorShape } from './stateDict';
import { noteRead } from './memo';
import { BudgetExceeded, Callable, changed, compareValues, Dict, equalValues, FunctionDef, type Index, isFloat, iterate, layerParameterSize, Module, Namespace, numberOf, numeric, Path, Raised, returnsSelf, type Scope, Slice, specField, specParameterNames, Super, Tensor, truthy, Unknown, unknownReason, type Value } from './values';

/** Evaluates expressions: what a name, an attribute, an operator or a subscript gives. */
export abstract class Expressions extends Evaluator {
  evaluate(node: Node, scope: Scope): Value {
    this.tick();
    switch (node.type) {
      case 'integer': {
        // Digits alone are most literals: the underscores and Python 2's `L` are looked for first.
        const text = node.text;
        const n = Number(/[_lL]/.test(text) ? text.replace(/_/g, '').replace(/[lL]$/, '') : text);
        return Number.isFinite(n) ? n : new Unknown(`${node.text} is not a number`);
      }
      case 'float': {
        // A complex literal (`2j`) is not a float.
        if (/[jJ]$/.test(node.text)) return new Unknown(`the complex number ${node.text} is not analysed`);
        return numeric(Number(node.text.replace(/_/g, '')), true);
      }
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
        for (const item of node.namedChildren) {
          if (item?.type === 'pair') {
            const key = this.evaluate(item.childForFieldName('key') as Node, scope);
            if (key instanceof Unknown) return new Unknown(`a key of \`${node.text.slice(0, 40)}\` is not known (${key.reason})`);
            entries.set(String(key), this.evaluate(item.childForFieldName('value') as Node, scope));
          } else if (item?.type === 'dictionary_splat') {
            // `{**_COMMON_META, "num_params": …}`: the other dict's entries, in order.
            const other = this.evaluate(item.namedChildren[0] as Node, scope);
            if (!(other instanceof Dict)) return new Unknown(`\`${item.text.slice(0, 40)}\` of something not known`);
            for (const [k, v] of other.entries) entries.set(k, v);
          }
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
        const n = numberOf(operand);
        if (n !== undefined && !(operator === '~' && isFloat(operand))) return numeric(operator === '-' ? -n : operator === '~' ? ~n : n, isFloat(operand));
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
        if (!Array.isArray(pairs)) return pairs;
        const lost = pairs.find((p) => !Array.isArray(p) || p[0] instanceof Unknown);
        if (lost !== undefined) return new Unknown(`a key of \`${node.text.slice(0, 40)}\` is not known`);
        return new Dict(new Map(pairs.map((p) => [String((p as Value[])[0]), (p as Value[])[1] ?? null])));
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
    let raw = false;
    for (const part of node.namedChildren) {
      if (part?.type === 'string_start') {
        const kind = literalKind(part);
        if (kind.bytes) return new Unknown(`the bytes ${node.text.slice(0, 40)} are not followed`);
        raw = kind.raw;
      } else if (part?.type === 'string_content') {
        const content = literalContent(part, raw);
        if (content === undefined) return new Unknown(`an escape of the string ${node.text.slice(0, 40)} is not followed`);
        text += content;
      } else if (part?.type === 'interpolation') {
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

  protected comprehension(node: Node, scope: Scope): Value {
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
    if (scope === this.globals) this.globalReads.add(name);
    if (scope.vars.has(name)) return scope.vars.get(name) as Value;
    if (name === 'self' && scope.self) return scope.self;
    const found = this.globalValue(scope.globals ?? this.globals, name) ?? this.fromStarImports(this.fileOf(scope), name);
    if (found !== undefined) return found;
    const builtin = this.reflection.get(name) ?? builtins.get(name);
    return builtin ?? new Unknown(`\`${name}\` is not defined here`);
  }

  protected attribute(owner: Value, name: string, node: Node): Value {
    const dunder = name.startsWith('__') ? this.dunder(owner, name) : undefined;
    if (dunder !== undefined) return dunder;
    if (owner instanceof Path) {
      const constant = moduleConstant(owner.path, name);
      if (constant !== undefined) return constant;
      // `torchvision.models.vgg16` after `import torchvision`: the program's file when it can read it.
      const file = this.moduleFile(owner.path, this.file);
      return (file ? this.moduleAttribute(file, name) : undefined) ?? this.moduleOrPath(`${owner.path}.${name}`, this.file);
    }
    if (owner instanceof Namespace && owner.file) return this.moduleAttribute(owner.file, name) ?? new Unknown(`module ${moduleName(owner.file.path)} has no \`${name}\` the analysis can find`);
    if (owner instanceof Module) {
      if (owner.children.has(name)) return owner.children.get(name) as Module;
      if (owner.options.spec && (layerParameterSize(owner.options.spec, name) !== undefined || specParameterNames(owner.options.spec).includes(name))) {
        const shape = specTensorShape(owner.options.spec, name);
        return new Tensor(shape ? [...shape] : null, shape ? undefined : `${owner.type}.${name}`, true, { module: owner, name });
      }
      if (owner.attributes.has(name)) return owner.attributes.get(name) as Value;
      // Shapes are those of inference, as exact mode's model.eval() gives them; `self.training = …` sets it.
      if (name === 'training') return false;
      const method = owner.options.cls?.findMethod(name);
      if (method && method.owner.properties.has(name)) return this.callFunction(new FunctionDef(method.node, owner, method.owner, method.owner.file), [], new Map());
      if (method) return this.method(method, owner);
      const holder = owner.options.cls && this.attributeHolder(owner.options.cls, name);
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
      // A class's own __getattr__ answers for the names it does not have (torchvision's weight enums read their Weights so).
      const fallback = owner.options.cls?.findMethod('__getattr__');
      if (fallback) return this.callFunction(new FunctionDef(fallback.node, owner, fallback.owner, fallback.owner.file), [name], new Map());
      if (owner.options.cls) return new Unknown(`self.${name} is not set in __init__`);
      return new Unknown(`${owner.type}.${name} is not analysed`);
    }
    if (owner instanceof Super) return this.superAttribute(owner, name);
    if (owner instanceof Callable && owner.describe === 'object' && name === '__getattribute__') return new Callable(name, ([target, attribute], _keywords, callNode) => (typeof attribute === 'string' && target !== undefined ? this.attribute(target, attribute, callNode) : new Unknown('object.__getattribute__ of a name not known')));
    if (owner instanceof ClassInfo) {
      const holder = this.attributeHolder(owner, name);
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
    if (Array.isArray(owner) && listMethods.has(name)) return new Callable(name, (args, keywords, callNode) => listMethod(owner, name, args, keywords, callNode, (at, reason) => this.lose(at, reason)));
    if (owner instanceof Dict && dictMethods.has(name)) {
      return new Callable(name, (args) => {
        if (name === 'pop' || name === 'setdefault' || name === 'update') changed('shared');
        return (dictMethods.get(name) as DictMethod)(owner, args);
      });
    }
    if (typeof owner === 'string' && stringMethods.has(name)) return new Callable(name, (args, keywords, node) => (stringMethods.get(name) as StringMethod)(owner, args, keywords, node));
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

  /**
   * A class attribute: the class body is run once, as Python runs it when the class is created
   * (in order, with its loops and ifs, later statements seeing earlier names). In an enum.Enum
   * subclass each attribute is a member: an instance of the enum with `name` and `value`.
   */
  private classAttribute(cls: ClassInfo, name: string): Value {
    const values = this.classNamespace(cls);
    if (this.watches.length > 0) noteRead(this.watches, cls, name, values.get(name));
    return values.get(name) ?? new Unknown(values.size === 0 ? `\`${cls.name}.${name}\` is read while its class is made` : `\`${cls.name}.${name}\` is not set when its class body runs`);
  }

  /** A class's attributes: its body's, run once when first needed, and those set on it since (`Net.expansion = 2`). */
  protected classNamespace(cls: ClassInfo): Map<string, Value> {
    this.used.add(cls);
    let values = this.classValues.get(cls);
    if (!values) {
      // While the body runs, the class is not made yet: what reads it back gets no value.
      this.classValues.set(cls, new Map());
      values = this.runClassBody(cls);
      this.classValues.set(cls, values);
    }
    return values;
  }

  /** The class of an MRO whose namespace holds `name`, as Python looks a class attribute up. */
  private attributeHolder(cls: ClassInfo, name: string): ClassInfo | undefined {
    return cls.mro.find((c) => c.attributes.has(name) || (this.classValues.get(c)?.has(name) ?? false));
  }

  private runClassBody(cls: ClassInfo): Map<string, Value> {
    const globals = this.globalsOf(cls.file);
    const scope: Scope = { vars: new Map(), globals, outer: globals };
    for (const statement of cls.node.childForFieldName('body')?.namedChildren ?? []) {
      if (!statement) continue;
      try {
        this.execute(statement, scope);
      } catch (error) {
        if (error instanceof BudgetExceeded) throw error;
        this.failure(error, statement);
      }
    }
    if (!cls.isEnum) return scope.vars;
    return new Map([...scope.vars].map(([name, value]) => [name, value instanceof FunctionDef ? value : this.enumMember(cls, name, value)]));
  }

  private enumMember(cls: ClassInfo, name: string, value: Value): Module {
    const member = new Module(cls.name, cls.node, { cls, plain: true });
    member.attributes.set('name', name);
    member.attributes.set('value', value);
    member.attributes.set('_value_', value);
    const init = cls.findMethod('__init__');
    if (init) this.callFunction(new FunctionDef(init.node, member, init.owner, init.owner.file), [value], new Map());
    return member;
  }

  private subscript(node: Node, scope: Scope): Value {
    const value = this.evaluate(node.childForFieldName('value') as Node, scope);
    if (value instanceof Path && value.path === 'sys.modules') return this.moduleNamespace(scope.globals ?? this.globals);
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
      if (result instanceof Unknown) {
        if (left instanceof Tensor || right instanceof Tensor) return new Unknown(`it compares a tensor's values, known only when the model runs`);
        return [left, right].find((v): v is Unknown => v instanceof Unknown) ?? new Unknown(`\`${node.text.slice(0, 60)}\`: ${result.reason}`);
      }
      if (result instanceof Tensor) return result;
      left = right;
    }
    return result;
  }

  binary(operator: string, a: Value, b: Value, node: Node): Value {
    // A bool is an int in arithmetic (`True + 1` is 2); between two bools, &, | and ^ give a bool.
    if (typeof a === 'boolean' && typeof b === 'boolean' && (operator === '&' || operator === '|' || operator === '^')) return operator === '&' ? a && b : operator === '|' ? a || b : a !== b;
    const [x, y] = [typeof a === 'boolean' ? Number(a) : numberOf(a), typeof b === 'boolean' ? Number(b) : numberOf(b)];
    if (x !== undefined && y !== undefined) {
      if (y === 0 && (operator === '/' || operator === '//' || operator === '%')) throw new Raised('ZeroDivisionError', node);
      // Python's types: a float operand makes a float, `/` always does, `**` of a negative exponent too.
      const float = isFloat(a) || isFloat(b);
      switch (operator) {
        case '+':
          return numeric(x + y, float);
        case '-':
          return numeric(x - y, float);
        case '*':
          return numeric(x * y, float);
        case '/':
          return numeric(x / y, true);
        case '//':
          return numeric(Math.floor(x / y), float);
        case '%':
          return numeric(x - y * Math.floor(x / y), float);
        case '**':
          return numeric(x ** y, float || y < 0);
        case '<<':
        case '>>':
        case '&':
        case '|':
        case '^': {
          if (float) throw new Raised('TypeError', node);
          if ((operator === '<<' || operator === '>>') && y < 0) throw new Raised('ValueError', node);
          // JavaScript's bitwise operators work on 32 bits; Python's ints have no bound.
          const result = operator === '<<' ? x * 2 ** y : operator === '>>' ? Math.floor(x / 2 ** y) : (x | 0) === x && (y | 0) === y ? (operator === '&' ? x & y : operator === '|' ? x | y : x ^ y) : NaN;
          return Number.isSafeInteger(result) ? result : new Unknown(`\`${node.text.slice(0, 40)}\` beyond 53 bits is not followed`);
        }
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
  protected tensorArithmetic(operator: string, a: Value, b: Value, node: Node): Value {
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
export function valueArithmetic(operator: string, a: Value, b: Value): Tensor | undefined {
  const side = (v: Value) => {
    const n = numberOf(v);
    return v instanceof Tensor && v.values ? v.values : n !== undefined ? { data: [n], float: isFloat(v), scalar: true } : undefined;
  };
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

