// Tensors: their attributes and methods, torch and torch.nn.functional's functions of them, and the tensors torch makes.
import { computeOutputShape, flattenShape } from '../layers';
import { type Dim, formatShape, normalizeDim, product, type Shape } from '../shape';
import type { Node } from '../syntax';
import { Calls } from './calls';
import { valueArithmetic } from './expressions';
import { Callable, isFloat, Module, numberOf, numeric, Tensor, truthy, Unknown, type Value } from './values';

/** Tensors' methods and torch's functions of tensors: the shapes they give, and their values where those are known. */
export abstract class Tensors extends Calls {
  protected tensorAttribute(tensor: Tensor, name: string, node: Node): Value {
    if (name === 'shape') return tensor.shape ? tensor.shape.map((d) => d ?? new Unknown('an unknown dimension')) : new Unknown(tensor.reason ?? 'unknown shape');
    // NumPy's and PyTorch's transpose of every axis (the course's `filter_vals.T`).
    if (name === 'T') return new Tensor(tensor.shape && [...tensor.shape].reverse(), tensor.reason);
    if (name === 'ndim') return tensor.shape ? tensor.shape.length : new Unknown(tensor.reason ?? 'unknown shape');
    // `weight.data`, `weight.grad`: the same tensor, for the in-place initialisations that follow.
    if (name === 'data' || name === 'grad') return tensor;
    if (name === 'requires_grad' || name === 'is_cuda') return new Unknown(`${name} of a tensor`, true);
    if (name === 'requires_grad_') {
      return new Callable(`Tensor.${name}`, ([flag], _keywords, callNode) => {
        this.setTrained(tensor, flag ?? true, callNode ?? node);
        return tensor;
      });
    }
    // In-place operations (`normal_`, `zero_`, `fill_`, `copy_`) change values, never the shape.
    if (name.endsWith('_') && !name.startsWith('_')) return new Callable(`Tensor.${name}`, () => tensor);
    return new Callable(`Tensor.${name}`, (args, keywords, callNode) => this.tensorFunction(name, [tensor, ...args], keywords, callNode ?? node));
  }

  protected tensorFunction(name: string, args: Value[], keywords: Map<string, Value>, node: Node): Value {
    const [first] = args;
    if (name === 'cat' || name === 'concat' || name === 'stack') return this.concatenate(name, args[0] ?? null, keywords.get('dim') ?? args[1] ?? 0, node);
    const known = this.valueFunction(name, args);
    if (known !== undefined) return known;
    if (!(first instanceof Tensor)) return first instanceof Unknown ? first : new Unknown(`${name}() of something that is not a tensor`);
    const shape = first.shape;
    if (!shape) return first;
    const arg = (index: number, keyword: string, fallback: Value): Value => keywords.get(keyword) ?? args[index] ?? fallback;
    if (shapePreserving.has(name)) return first;
    // Elementwise with tensors for bounds or exponents: the shapes broadcast.
    if (broadcasting.has(name)) return [...args.slice(1), ...keywords.values()].reduce<Value>((result, other) => (other instanceof Tensor ? this.tensorArithmetic('+', result, other, node) : result), first);
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
    const convolution = /^conv(_transpose)?([123])d$/.exec(name);
    if (convolution) return this.functionalConvolution(name, shape, convolution[1] !== undefined, Number(convolution[2]), args, keywords, node);
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
        const dim = keywords.get('dim') ?? args[1];
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
        const dim = keywords.get('dim') ?? args[1];
        if (dim !== undefined && typeof dim !== 'number') return new Tensor(null, 'squeeze of a dimension that is not known');
        if (typeof dim === 'number') return new Tensor(shape.filter((d, i) => !(i === normalizeDim(dim, shape.length) && d === 1)));
        return new Tensor(shape.filter((d) => d !== 1));
      }
      case 'unsqueeze': {
        const dim = keywords.get('dim') ?? args[1];
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
        const [a, b] = [arg(1, 'dim0', null), arg(2, 'dim1', null)];
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
        // Only a dimension of size 1 grows.
        const stuck = shape.findIndex((d, i) => d !== null && d !== 1 && sizes[i + lead] !== -1 && sizes[i + lead] !== d);
        if (stuck !== -1) {
          this.report(node, `expand(${sizes.join(', ')}) cannot grow dimension ${stuck} of ${formatShape(shape)} from ${shape[stuck]} to ${sizes[stuck + lead]}: only dimensions of size 1 expand`);
          return new Tensor(null, `expand of a dimension that is not 1`);
        }
        return new Tensor((sizes as number[]).map((d, i) => (d === -1 ? (shape[i - lead] ?? null) : d)), first.reason);
      }
      // x.repeat(*sizes) needs a size for every dimension, more lead; tile pads the shorter of the two with ones.
      case 'repeat':
      case 'tile': {
        const sizes = args.length === 2 && Array.isArray(args[1]) ? args[1] : args.slice(1);
        if (!sizes.every((d) => typeof d === 'number')) return new Tensor(null, `${name} by sizes that are not known`);
        if (name === 'repeat' && sizes.length < shape.length) {
          this.report(node, `repeat(${sizes.join(', ')}) needs a size for each of the ${shape.length} dimensions of ${formatShape(shape)}`);
          return new Tensor(null, 'repeat by too few sizes');
        }
        const rank = Math.max(sizes.length, shape.length);
        const padded = [...Array<Dim>(rank - shape.length).fill(1), ...shape];
        const times = [...Array<number>(rank - sizes.length).fill(1), ...(sizes as number[])];
        return new Tensor(padded.map((d, i) => (d === null ? null : d * (times[i] ?? 1))), first.reason);
      }
      // torch.zeros_like(x) and its kin: a new tensor of x's shape.
      case 'zeros_like':
      case 'ones_like':
      case 'empty_like':
      case 'full_like':
      case 'rand_like':
      case 'randn_like':
      case 'randint_like':
        return new Tensor(shape, first.reason);
      // x.new_zeros(2, 3) and its kin: a new tensor of the sizes given.
      case 'new_zeros':
      case 'new_ones':
      case 'new_empty':
      case 'new_full': {
        const sizes = Array.isArray(args[1]) ? args[1] : name === 'new_full' ? [] : args.slice(1);
        return sizes.length > 0 && sizes.every((d) => typeof d === 'number') ? new Tensor(sizes as number[]) : new Tensor(null, `${name} of sizes that are not known`);
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
    const base = numberOf(first);
    if (name === 'pow' && base !== undefined && second instanceof Tensor && second.values) return Tensor.of(second.values.data.map((e) => Math.fround(base) ** e), true);
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
      // A float tensor's items are floats, whole or not.
      case 'tolist':
        return values.data.map((x) => numeric(x, values.float));
      case 'item':
        return values.data.length === 1 ? numeric(values.data[0] as number, values.float) : new Unknown('item() of a tensor of more than one value');
      case 'diff':
        return Tensor.of(values.data.slice(1).map((x, i) => x - (values.data[i] as number)), values.float);
      case 'pow': {
        const exponent = numberOf(second);
        return exponent !== undefined ? Tensor.of(values.data.map((x) => x ** exponent), values.float || isFloat(second)) : undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * F.conv2d(input, weight, …) and F.conv_transpose2d: the layer its weight's shape and arguments make
   * (`[out, in/groups, k…]`, transposed `[in, out/groups, k…]`), run as that layer runs, with its checks.
   */
  private functionalConvolution(name: string, shape: Shape, transposed: boolean, rank: number, args: Value[], keywords: Map<string, Value>, node: Node): Value {
    const weight = keywords.get('weight') ?? args[1];
    const dims = weight instanceof Tensor ? weight.shape : null;
    if (!dims || dims.length !== rank + 2 || dims.some((d) => d === null)) return new Tensor(null, `F.${name} with a weight of unknown shape`);
    // PyTorch's positional order after (input, weight): the transposed form puts output_padding and groups before dilation.
    const order = transposed ? ['bias', 'stride', 'padding', 'output_padding', 'groups', 'dilation'] : ['bias', 'stride', 'padding', 'dilation', 'groups'];
    const options = new Map<string, Value>();
    order.forEach((key, i) => {
      const value = keywords.get(key) ?? args[i + 2];
      if (value !== undefined && key !== 'bias') options.set(key, value);
    });
    const groups = options.get('groups') ?? 1;
    if (typeof groups !== 'number') return new Tensor(null, `F.${name} with groups that are not known`);
    const [first = 0, second = 0, ...kernel] = dims as number[];
    const channels = transposed ? [first, second * groups] : [second * groups, first];
    const built = this.construct(`Conv${transposed ? 'Transpose' : ''}${rank}d`, [...channels, kernel], options, node);
    if (!(built instanceof Module) || !built.options.spec) return new Tensor(null, `F.${name} has arguments that are not constants`);
    const result = computeOutputShape(built.options.spec, `F.${name}`, shape);
    if (result.error) this.report(node, result.error);
    return new Tensor(result.shape, result.error);
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

/** Functions and tensor methods that keep the shape of their first argument. */
export const shapePreserving = new Set([
  'relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'sigmoid', 'tanh', 'softmax',
  'log_softmax', 'softmin', 'softplus', 'softsign', 'hardtanh', 'hardswish', 'hardsigmoid', 'logsigmoid', 'dropout', 'dropout1d', 'dropout2d',
  'dropout3d', 'alpha_dropout', 'feature_alpha_dropout', 'normalize', 'contiguous', 'float', 'double', 'half', 'bfloat16', 'to', 'clone',
  'detach', 'cpu', 'cuda', 'abs', 'exp', 'log', 'sqrt', 'neg', 'square', 'tanh_', 'sigmoid_', 'local_response_norm',
  'layer_norm', 'group_norm', 'batch_norm', 'instance_norm', 'hardtanh_', 'elu_', 'mul_', 'add_', 'div_',
  'clamp_', 'masked_fill', 'dropout_', 'sign', 'floor', 'ceil', 'round', 'reciprocal', 'rsqrt', 'sin', 'cos', 'erf', 'requires_grad_', 'rms_norm',
  'type', 'astype', 'numpy', 'long', 'int',
]);

/** Elementwise functions whose further arguments may be tensors (bounds, exponents), broadcast with the first. */
export const broadcasting = new Set(['clamp', 'clip', 'pow', 'maximum', 'minimum', 'fmax', 'fmin', 'atan2', 'hypot', 'remainder', 'fmod', 'lerp']);

/** torch functions that make a tensor of the sizes they are given. */
export const tensorConstructors = new Set(['zeros', 'ones', 'randn', 'rand', 'empty', 'full', 'Tensor', 'FloatTensor']);

/** torch.arange(...) and torch.tensor([...]) of numbers: a tensor of known values (10,000 at most). */
export function valuesTensor(name: string, args: Value[]): Value {
  if (name === 'tensor') {
    const [data] = args;
    const numbers = Array.isArray(data) ? data.map(numberOf) : [];
    if (Array.isArray(data) && data.length <= 10_000 && !numbers.includes(undefined)) return Tensor.of(numbers as number[], data.some(isFloat));
    return Array.isArray(data) && data.every((d) => numberOf(d) !== undefined || Array.isArray(d)) ? new Tensor(tensorShapeOf(data)) : new Tensor(null, 'torch.tensor of values that are not known');
  }
  const numbers = args.map(numberOf).filter((n) => n !== undefined);
  if (numbers.length !== args.length || numbers.length === 0 || numbers.length > 3) return new Tensor(null, 'torch.arange of bounds that are not known');
  const [start, end, step = 1] = numbers.length === 1 ? [0, numbers[0] as number] : numbers;
  const length = Math.max(0, Math.ceil(((end as number) - (start as number)) / step));
  if (step === 0 || length > 10_000) return new Tensor([length]);
  return Tensor.of(Array.from({ length }, (_, i) => (start as number) + i * step), args.some(isFloat));
}

/** An array or tensor made of nested lists of numbers or of arrays (`np.array([filter_1, filter_2])`), or of an array: its shape. */
export function arrayTensor(data: Value, path: string): Tensor {
  if (data instanceof Tensor) return new Tensor(data.shape, data.reason);
  const shape = Array.isArray(data) ? nestedShape(data) : undefined;
  return shape ? new Tensor(shape) : new Tensor(null, `${path} of values that are not known`);
}

/** [[1, 2], [3, 4]] and [array of [2], array of [2]] are [2, 2]; undefined when the items differ or are not known. */
function nestedShape(data: Value): Dim[] | undefined {
  if (numberOf(data) !== undefined || typeof data === 'boolean') return [];
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
