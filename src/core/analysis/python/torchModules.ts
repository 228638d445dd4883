// torch.nn modules: torch's dotted names called, layers built and run through the shape engine, nn.Module's own methods.
import { computeOutputShape, type LayerSpec, type OutputTree, paramCount } from '../layers';
import { formatShape, type Shape } from '../shape';
import type { Node } from '../syntax';
import { ArgumentError, type ArgValue, buildLayer, ModuleArg, torchLayers, WholeFloat } from '../torchLayers';
import { buildsPackageModel, identityDecorators, inertFunctions, isInertNamespace, numbersOf, numericFunctions } from './builtins';
import { arrayTensor, Tensors, tensorConstructors, valuesTensor } from './tensors';
import { forwardKey, noteReads, outputCopy, sharedOutput, templateCopies } from './memo';
import { Callable, changed, copyValue, Dict, firstTensor, freeze, FunctionDef, type LayerCall, iterate, Module, numberOf, Path, Raised, specParameterNames, submoduleName, Tensor, truthy, uniqueModules, Unknown, unknownReason, type Value } from './values';
import { ClassInfo, parameterKind } from './program';

/** The last layer, and so the evaluation itself: torch.nn modules built, initialised and run. */
export class Analysis extends Tensors {
  protected callPath(path: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const namespace = path.slice(0, path.lastIndexOf('.'));
    if (path === 'torch.nn.Parameter' || path === 'torch.nn.parameter.Parameter') {
      // nn.Parameter() holds an empty tensor; requires_grad=False leaves it a parameter, only untrained.
      const data = keywords.get('data') ?? positional[0] ?? new Tensor([0]);
      const flag = keywords.get('requires_grad') ?? positional[1] ?? true;
      const frozen = truthy(flag) === false;
      if (truthy(flag) === undefined) this.lose(node, `whether \`${node.text.slice(0, 60)}\` is trained is not known (${unknownReason(flag)})`);
      return data instanceof Tensor ? new Tensor(data.shape, data.reason, true, undefined, undefined, frozen) : new Unknown('nn.Parameter of something that is not a tensor');
    }
    if (namespace === 'torch.nn') return this.construct(name, positional, keywords, node);
    if (path === 'inspect.signature') return signatureOf(positional[0] ?? null, node);
    if (path === 'inspect.isfunction' || path === 'inspect.isclass') return inspectKind(name, positional[0] ?? null);
    if (path === 'dataclasses.fields') return dataclassFields(positional[0] ?? null, node);
    // Decorators that hand the function back: what they add (metadata, a cache, TorchScript's hints) changes no shape.
    if (path === 'functools.wraps') {
      return new Callable(name, ([fn]) => {
        if (fn instanceof FunctionDef) fn.wrapped = positional[0];
        return fn ?? null;
      });
    }
    if (identityDecorators.has(path)) return positional.length > 0 ? (positional[0] as Value) : new Callable(name, ([fn]) => fn ?? null);
    if (path === 'functools.reduce') {
      // reduce(function, iterable[, initial]): the function applied left to right, as Python does.
      const [fn, iterable, ...initial] = positional;
      const items = iterate(iterable ?? null);
      if (!items) return new Unknown(`reduce() over ${iterable instanceof Unknown ? `something unknown (${unknownReason(iterable)})` : 'something that is not a sequence'}`);
      let accumulated: Value | undefined = initial[0];
      for (const item of items) accumulated = accumulated === undefined ? item : this.invoke(fn ?? null, [accumulated, item], new Map(), node);
      if (accumulated === undefined) throw new Raised('TypeError', node);
      return accumulated;
    }
    if (path === 'functools.partial') {
      const [fn, ...bound] = positional;
      return new Callable('partial', (args, more, callNode) => this.invoke(fn ?? null, [...bound, ...args], new Map([...keywords, ...more]), callNode));
    }
    const numericFunction = numericFunctions.get(path);
    if (numericFunction) return numbersOf(positional, numericFunction);
    if (namespace === 'torch.jit' && (name === 'is_scripting' || name === 'is_tracing')) return false;
    if (path === 'torch.jit.annotate') return positional[1] ?? null;
    if (path === 'typing.cast') return positional[1] ?? null;
    if (path === 'copy.copy' || path === 'copy.deepcopy') {
      const original = positional[0] ?? null;
      // A shallow copy shares the module's _parameters dict: PyTorch counts them once if both are in the model.
      if (path === 'copy.copy' && original instanceof Module && ((original.options.spec && paramCount(original.options.spec) > 0) || original.parameters.size > 0)) {
        this.lose(node, `\`${node.text.slice(0, 60)}\` shares the parameters of the ${original.type} it copies; whether PyTorch counts them once or twice is not followed`);
      }
      return copyValue(original, path === 'copy.deepcopy');
    }
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
      const lost = Array.isArray(pairs) ? pairs.find((pair) => !Array.isArray(pair) || pair[0] instanceof Unknown) : undefined;
      if (lost !== undefined) return new Unknown(`OrderedDict with a key that is not known (${unknownReason(Array.isArray(lost) ? (lost[0] ?? null) : lost)})`);
      return new Dict(new Map(Array.isArray(pairs) ? pairs.filter(Array.isArray).map(([k, v]) => [String(k), v ?? null] as [string, Value]) : []));
    }
    if (path === 'torch.is_tensor') return positional[0] instanceof Unknown ? positional[0] : positional[0] instanceof Tensor;
    if (inertFunctions.has(path) || isInertNamespace(namespace)) return new Unknown(`${path}() is not a model's part`, true);
    if (namespace === 'torch.nn.functional' || namespace === 'torch') {
      // torch's functions name their first tensor `input`: `F.relu(input=x)` is `F.relu(x)`.
      const input = positional.length === 0 ? keywords.get('input') : undefined;
      if (input === undefined) return this.tensorFunction(name, positional, keywords, node);
      const rest = new Map(keywords);
      rest.delete('input');
      return this.tensorFunction(name, [input], rest, node);
    }
    // A model package (torchvision, timm) is read from the selected interpreter: where it was not found there, what it builds is a model all the same.
    if (buildsPackageModel(path)) {
      const root = path.split('.')[0] ?? '';
      const reason = `${path}() is not read: ${root}'s source was not found (install ${root} in the selected Python environment, or select the one that has it)`;
      return /^[A-Z]/.test(name) ? new Module(name, node, { unknown: reason, opaque: true, unreadModel: true }) : new Unknown(reason, false, true);
    }
    // A class from a package the analysis cannot read is likely a layer: it is shown where it is called, with the reason.
    if (/^[A-Z]/.test(name) && !namespace.startsWith('torch')) return new Module(name, node, { unknown: `${path}() is not analysed`, opaque: true });
    return new Unknown(`${path}() is not analysed`);
  }

  protected construct(type: string, positional: Value[], keywords: Map<string, Value>, node: Node): Value {
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
        if (child instanceof Module) module.children.set(source instanceof Dict ? submoduleName(key, node) : key, child);
        else this.lose(node, `nn.${type}(…) is given ${child instanceof Unknown ? `something that is not known (${child.reason})` : 'something that is not a module'}`);
      }
      if (!(source instanceof Dict) && !Array.isArray(source)) this.lose(node, `nn.${type}(…) is given modules that are not known`);
      return module;
    }
    if (!torchLayers.has(type)) return new Module(type, node, { unknown: `nn.${type} is not analysed` });
    try {
      const args = positional.map((v, i) => toArg(v, i));
      const kw = new Map<string, ArgValue>();
      for (const [k, v] of keywords) kw.set(k, toArg(v, k));
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

  /** nn.Module.__init__ and its subclasses': a container takes its children, a layer its arguments. */
  protected initTorchBase(module: Module, positional: Value[], keywords: Map<string, Value>, node: Node): void {
    const cls = module.options.cls;
    const base = cls?.torchBases[0];
    if (!base || base === 'Module') return;
    const built = this.construct(base, positional, keywords, node);
    if (!(built instanceof Module)) return;
    changed(module);
    for (const [key, child] of built.children) module.children.set(key, child);
    if (built.options.spec) module.options.spec = built.options.spec;
    else if (built.options.unknown) module.options.unknown = built.options.unknown;
  }

  /** The forward of the torch.nn class a class of the file derives from. */
  protected applyTorchBase(module: Module, args: Value[], node: Node): Value {
    const { spec, container, unknown } = module.options;
    const input = args[0] ?? new Unknown('no input');
    if (container === 'sequential') return this.runSequential(module, input, node);
    if (spec || unknown) return this.applyLayer(module, args, new Map());
    return new Unknown(`${module.type} has no forward method`);
  }

  /** Runs a module on its input: a layer through the shape engine, a container in order, a user module through its forward. */
  apply(module: Module, args: Value[], node: Node, keywords: Map<string, Value> = new Map()): Value {
    this.tick();
    const { cls, container } = module.options;
    const forward = cls?.findMethod(module.options.plain ? '__call__' : 'forward');
    if (forward) {
      const output = this.forwardOf(module, forward.node, args, keywords, () => this.callFunction(new FunctionDef(forward.node, module, forward.owner, forward.owner.file), args, keywords));
      // A module of the file with no children is a leaf to PyTorch (an activation written by hand).
      // Its input and output are the first tensors of its arguments and of what it returns, as PyTorch's hooks see them.
      if (module.children.size === 0 && !module.options.plain) {
        const [input, out] = [firstTensor(args), firstTensor(output)];
        this.record(module, { module, in: input instanceof Tensor ? input.shape : null, out: out instanceof Tensor ? out.shape : null, ...(out instanceof Tensor && out.shape ? {} : { note: reasonOf(out) }) });
      }
      return output;
    }
    const input = args[0] ?? new Unknown('no input');
    if (container === 'sequential') return this.runSequential(module, input, node);
    if (container) return new Unknown(`a ${module.type} is not callable`);
    if (cls && !module.options.spec && !module.options.unknown) return new Unknown(`${cls.name} has no forward method`);
    return this.applyLayer(module, args, keywords);
  }

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
      return new Tensor(null, `${module.path || module.type}: ${reason}`);
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
    const extra = args.length < 2 && outputSize === undefined ? [] : [...args.slice(1), ...(outputSize === undefined ? [] : [outputSize])].map((v) => (v instanceof Tensor ? (v.shape ?? []) : Array.isArray(v) && v.every((d) => typeof d === 'number') ? (v as number[]) : []));
    const result = computeOutputShape(spec, module.type, shape, extra);
    // A convolution or pooling whose window no longer fits the input: PyTorch raises "Calculated output size … is too small".
    if (!result.error && result.shape && (spec.kind === 'conv' || spec.kind === 'pool') && result.shape.slice(2).some((d) => d !== null && d < 1)) {
      result.error = `the input ${formatShape(shape)} is too small: the output would be ${formatShape(result.shape)}`;
    }
    if (result.materialized) {
      // A lazy layer becomes the layer it stands for at its first call, as PyTorch's do.
      changed(module);
      module.options.spec = result.materialized;
      module.type = module.type.replace(/^Lazy/, '');
    }
    const partial = result.shape?.includes(null) ?? false;
    const note = partial ? (input.reason ?? 'its input is only partly known') : (result.unknown ?? undefined);
    this.record(module, { module, in: input.shape, out: result.shape, ...(result.error ? { error: result.error } : {}), ...(note ? { note } : {}) });
    if (result.outputs !== undefined) return tupleOf(result.outputs, note);
    return new Tensor(result.shape, result.shape ? note : (result.error ?? result.unknown));
  }

  /**
   * A forward pass of a copy of a memo's template (a ResNet's 600 like blocks), run once per input
   * shape: another copy left as it was made is given the same output, and its layers the same calls.
   */
  private forwardOf(module: Module, method: Node, args: Value[], keywords: Map<string, Value>, run: () => Value): Value {
    const copies = this.memoize && module.origin ? templateCopies(module) : undefined;
    const key = copies && module.origin ? forwardKey(method, module.origin, args, keywords) : undefined;
    if (!copies || key === undefined) return run();
    const memo = this.forwardMemos.get(key);
    if (memo === 'impure') return run();
    if (memo) {
      const calls = memo.calls.map((call) => ({ ...call, module: copies.get(call.module) }));
      if (this.stillRead(memo.reads) && calls.every((call): call is LayerCall => call.module !== undefined)) {
        noteReads(this.watches, memo.reads);
        for (const call of calls) this.record(call.module, call);
        return outputCopy(memo.output);
      }
      return run();
    }
    const recorded: LayerCall[] = [];
    this.recordings.push(recorded);
    let outcome: ReturnType<typeof this.watched<Value>>;
    try {
      outcome = this.watched(run, false);
    } finally {
      this.recordings.pop();
    }
    // A pure run changed no module it did not make: the copy is still as it was built.
    const { value, pure, watch } = outcome;
    // By the template's modules: what another copy's are found by. The last call of each, in order, as the report keeps them.
    const last = new Map<Module, LayerCall>();
    for (const call of recorded) {
      last.delete(call.module);
      last.set(call.module, call);
    }
    const calls = [...last.values()].map((call) => ({ ...call, module: call.module.origin as Module }));
    const own = pure && sharedOutput(value) && calls.every((call) => call.module !== undefined && copies.has(call.module));
    this.forwardMemos.set(key, own ? { output: value, calls, reads: watch.reads } : 'impure');
    return value;
  }

  /** The last call is the one reported, as torchinfo does for a layer used twice; the order is that of the last calls. */
  private record(module: Module, call: LayerCall): void {
    this.calls.delete(module);
    this.calls.set(module, call);
    for (const recorded of this.recordings) recorded.push(call);
  }

  /** nn.Module's own methods that model code calls on itself or on its layers. */
  protected moduleMethod(owner: Module, name: string): Value | undefined {
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
          if (typeof childName === 'string' && (child instanceof Module || child === null)) this.setAttribute(owner, submoduleName(childName, node), child, node);
          else this.lose(node, `\`${node.text.slice(0, 60)}\` adds a module that is not known`);
          return null;
        });
      case 'load_state_dict':
        // Loading weights changes values, never a shape: strict loading either fits or raises.
        return new Callable(name, () => new Unknown('the result of load_state_dict', true));
      case 'requires_grad_':
        return new Callable(name, ([flag], _keywords, callNode) => {
          for (const [, parameter] of namedParameters(owner)) if (!freeze(parameter, flag ?? true)) this.lose(callNode, `whether the parameters of ${owner.path ?? owner.type} are trained is not known (${unknownReason(flag ?? null)})`);
          return owner;
        });
      case 'register_buffer':
        // A buffer is state, not a parameter: BatchNorm's running statistics.
        return new Callable(name, ([bufferName, tensor, persistent], keywords) => {
          if (typeof bufferName !== 'string') return null;
          owner.attributes.set(bufferName, tensor ?? keywords.get('tensor') ?? null);
          if ((persistent ?? keywords.get('persistent')) === false) owner.buffers.delete(bufferName);
          else owner.buffers.add(bufferName);
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
        return new Callable(name, () => uniqueModules(owner));
      case 'named_modules':
        return new Callable(name, () => namedModules(owner));
      case 'children':
        return new Callable(name, () => [...new Set(owner.children.values())]);
      case '_modules':
        // nn.Module's own ordered dict of its children, which custom containers iterate in forward; read, not written through.
        return new Dict(new Map(owner.children));
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
}

/** `what`: the keyword, or the index of the positional argument. */
function toArg(value: Value, what: string | number): ArgValue {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value instanceof WholeFloat) return value;
  if (Array.isArray(value)) return value.map((v) => toArg(v, what));
  // A layer given to another (a TransformerEncoder's layer) is passed as its spec.
  if (value instanceof Module && value.options.spec) return new ModuleArg(value.type, value.options.spec);
  throw new Unknown(value instanceof Unknown ? value.reason : `${typeof what === 'number' ? `argument ${what + 1}` : what} is not a constant`);
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

function reasonOf(value: Tensor | Unknown | undefined): string {
  return value instanceof Unknown ? value.reason : value instanceof Tensor ? (value.reason ?? 'its output is only partly known') : 'it returns no tensor';
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

/**
 * inspect.isfunction and isclass, as Python answers them for the values the analysis knows: a
 * function or lambda of the program is a function (a bound method is not), a class of it a class;
 * a module, tensor, number, string or container is neither. Others (a torch function, a partial) are not known.
 */
function inspectKind(name: string, value: Value): Value {
  const isFunction = name === 'isfunction';
  if (value instanceof FunctionDef) return isFunction && value.self === undefined;
  if (value instanceof ClassInfo) return !isFunction;
  const plain = value === null || numberOf(value) !== undefined || typeof value === 'string' || typeof value === 'boolean' || Array.isArray(value);
  if (plain || value instanceof Module || value instanceof Tensor || value instanceof Dict) return false;
  return new Unknown(`inspect.${name}() of ${value instanceof Unknown ? `something not known (${unknownReason(value)})` : 'a value the analysis does not read'}`);
}

/**
 * inspect.signature(fn): its `parameters`, in order, each with its name, kind and default, as
 * decorators that adapt a function's arguments read them (torchvision's kwonly_to_pos_or_kw).
 */
function signatureOf(value: Value, node: Node): Value {
  let fn = value;
  while (fn instanceof FunctionDef && fn.wrapped !== undefined) fn = fn.wrapped;
  if (!(fn instanceof FunctionDef)) return new Unknown('inspect.signature() of something that is not a function of the program');
  const parameters = new Map<string, Value>();
  let keywordOnly = false;
  for (const parameter of fn.node.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!parameter) continue;
    const kind = parameterKind(parameter);
    if (parameter.type === 'keyword_separator') keywordOnly = true;
    if (kind === 'separator') continue;
    const nameNode = parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? parameter.namedChildren[0]);
    const name = nameNode?.type === 'identifier' ? nameNode.text : (nameNode?.namedChildren[0]?.text ?? '');
    const pythonKind = kind === 'args' ? 'VAR_POSITIONAL' : kind === 'kwargs' ? 'VAR_KEYWORD' : keywordOnly ? 'KEYWORD_ONLY' : 'POSITIONAL_OR_KEYWORD';
    if (kind === 'args') keywordOnly = true;
    const described = plainObject('Parameter', node, { name, kind: pythonKind, POSITIONAL_ONLY: 'POSITIONAL_ONLY', POSITIONAL_OR_KEYWORD: 'POSITIONAL_OR_KEYWORD', VAR_POSITIONAL: 'VAR_POSITIONAL', KEYWORD_ONLY: 'KEYWORD_ONLY', VAR_KEYWORD: 'VAR_KEYWORD' });
    parameters.set(name, described);
  }
  return plainObject('Signature', node, { parameters: new Dict(parameters) });
}

/** dataclasses.fields(cls or instance): each field with its name. */
function dataclassFields(value: Value, node: Node): Value {
  const cls = value instanceof ClassInfo ? value : value instanceof Module ? value.options.cls : undefined;
  const fields = cls?.mro.find((c) => c.dataclassFields)?.dataclassFields;
  return fields ? fields.map((f) => plainObject('Field', node, { name: f.name })) : new Unknown('dataclasses.fields() of something that is not a dataclass of the program');
}

/** An object with attributes only, never a layer: a signature, a field. */
function plainObject(type: string, node: Node, attributes: Record<string, Value>): Module {
  const object = new Module(type, node, { plain: true });
  for (const [name, value] of Object.entries(attributes)) object.attributes.set(name, value);
  return object;
}
