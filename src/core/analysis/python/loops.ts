// Code the analysis need not run as written: loops that only initialise weights in place, loops that
// only write tensors' values (and names each iteration sets afresh), and `model.apply(init)` of a
// function that only initialises weights. None changes a shape or a count: the first and the last are
// skipped, the second run at its last item (Statements.executeFor).
import { bindings } from '../bindings';
import type { Node } from '../syntax';
import { numericFunctions } from './builtins';
import type { PythonFile } from './program';

/** Tensor methods that change values in place, never a shape or whether a parameter is trained. */
const valueInitialisers = new Set(['normal_', 'uniform_', 'zero_', 'fill_', 'copy_', 'mul_', 'div_', 'add_', 'sub_', 'clamp_', 'fill_diagonal_', 'bernoulli_', 'exponential_', 'log_normal_', 'cauchy_', 'geometric_', 'random_']);
/** Calls with no effect that such a loop's conditions and arguments make: a few builtins and torch.nn.init's fan helpers, besides math's and NumPy's numericFunctions. */
const pureCalls = new Set(['isinstance', 'hasattr', 'getattr', 'type', 'len', 'float', 'int', 'abs', 'min', 'max', 'torch.nn.init.calculate_gain', 'torch.nn.init._calculate_fan_in_and_fan_out']);
/** torch's functions that make a new tensor and change nothing else (the random ones draw from its generator, which no report shows). */
const tensorMakers = new Set(['randperm', 'randint', 'rand', 'randn', 'zeros', 'ones', 'empty', 'full', 'arange', 'linspace', 'eye', 'tensor', 'zeros_like', 'ones_like', 'rand_like', 'randn_like', 'empty_like', 'full_like'].map((name) => `torch.${name}`));

/** str's methods that only read a string: a class name tested (`classname.find('Conv') != -1`) changes nothing. */
const stringReads = new Set(['find', 'rfind', 'startswith', 'endswith', 'lower', 'upper', 'count', 'strip', 'split']);

/** What else an expression may call: tensorMakers, and str's reads of a class name (`m.__class__.__name__`, or a name set from one). */
interface Allowed {
  makers?: boolean;
  classNames?: ReadonlySet<string>;
}

/** Whether an expression changes nothing: it calls only pureCalls and numericFunctions (and what `allowed` adds), and binds no name. */
function pure(node: Node | null | undefined, file: PythonFile, allowed: Allowed = {}): boolean {
  if (!node) return true;
  if (node.type === 'call') {
    const callee = node.childForFieldName('function');
    const path = callee && /^(identifier|attribute)$/.test(callee.type) ? file.qualified(callee.text) : undefined;
    if (path === undefined || !(pureCalls.has(path) || numericFunctions.has(path) || (allowed.makers && tensorMakers.has(path)) || readsClassName(callee as Node, allowed))) return false;
  }
  if (/^(lambda|named_expression|assignment|augmented_assignment|await|yield|list_comprehension|generator_expression|dictionary_comprehension|set_comprehension)$/.test(node.type)) return false;
  return node.namedChildren.every((child) => pure(child, file, allowed));
}

function readsClassName(callee: Node, allowed: Allowed): boolean {
  if (callee.type !== 'attribute' || !stringReads.has(callee.childForFieldName('attribute')?.text ?? '')) return false;
  const object = callee.childForFieldName('object');
  return isClassName(object) || (object?.type === 'identifier' && (allowed.classNames?.has(object.text) ?? false));
}

/** `x.__class__.__name__` or `type(x).__name__`: a string. */
function isClassName(node: Node | null | undefined): boolean {
  return node?.type === 'attribute' && node.childForFieldName('attribute')?.text === '__name__';
}

/**
 * Whether a loop's body only initialises weights in place: `nn.init.*` and the tensor initialisers
 * (`m.weight.data.normal_(0, 0.02)`) on what it reads, under conditions that call nothing else
 * (`isinstance(m, nn.Conv2d)`). No assignment, no break, no other call: nothing a report shows changes.
 */
export function onlyInitialises(block: Node | null, file: PythonFile, allowed: Allowed = {}): boolean {
  return (block?.namedChildren ?? []).every((statement) => !statement || initialises(statement, file, allowed));
}

function initialises(statement: Node, file: PythonFile, allowed: Allowed = {}): boolean {
  switch (statement.type) {
    case 'comment':
    case 'pass_statement':
    case 'continue_statement':
      return true;
    case 'expression_statement': {
      const expression = statement.namedChildren[0];
      return expression?.type === 'string' || initialiserCall(expression, file, allowed);
    }
    case 'if_statement':
      return (
        pure(statement.childForFieldName('condition'), file, allowed) &&
        onlyInitialises(statement.childForFieldName('consequence'), file, allowed) &&
        statement.childrenForFieldName('alternative').every((clause) => pure(clause?.childForFieldName('condition'), file, allowed) && onlyInitialises(clause?.childForFieldName('consequence') ?? clause?.childForFieldName('body') ?? null, file, allowed))
      );
    default:
      return false;
  }
}

function initialiserCall(call: Node | null | undefined, file: PythonFile, allowed: Allowed): boolean {
  const callee = call?.type === 'call' ? call.childForFieldName('function') : undefined;
  if (callee?.type !== 'attribute') return false;
  const method = callee.childForFieldName('attribute')?.text ?? '';
  const inPlace = file.qualified(callee.text).startsWith('torch.nn.init.') || (valueInitialisers.has(method) && pure(callee.childForFieldName('object'), file, allowed));
  return inPlace && pure(call?.childForFieldName('arguments'), file, allowed);
}

/** A name or a chain of attributes (`self.mask`): what reading it runs is at most a property. */
function isReference(node: Node): boolean {
  return node.type === 'identifier' || (node.type === 'attribute' && isReference(node.childForFieldName('object') as Node));
}

/** Whether a node mentions the name: any identifier so spelt, attributes' too, which only ever says so more often. */
function mentions(node: Node | null | undefined, name: string): boolean {
  return !!node && (node.type === 'identifier' ? node.text === name : node.namedChildren.some((child) => mentions(child, name)));
}

/**
 * The tensors a loop's body writes values into (`self.mask[i, jj, :, :] = 1`), when that, the
 * initialisers, and names it sets afresh in each iteration from the item (`jj = torch.randperm(n)[:k]`:
 * set before any mention of it, from nothing the loop changes) are all the body does; else undefined.
 * Such a loop leaves what its last iteration leaves, provided each thing written is a tensor, whose
 * values no report shows (executeFor asks): an item of a list (`widths[i] = widths[i - 1] * 2`) is not
 * one. What is written is a name or attributes that neither the loop's variable nor the body sets.
 */
export function tensorWrites(block: Node | null, target: Node, file: PythonFile): Node[] | undefined {
  if (!block) return undefined;
  const statements = block.namedChildren.filter((statement): statement is Node => statement !== null);
  const looped = target.type === 'identifier' ? [target.text] : target.descendantsOfType('identifier').map((name) => name?.text ?? '');
  const set: string[] = [];
  const written: Node[] = [];
  for (const [i, statement] of statements.entries()) {
    if (initialises(statement, file)) continue;
    const assignment = statement.type === 'expression_statement' && statement.namedChildren.length === 1 ? statement.namedChildren[0] : undefined;
    if (assignment?.type !== 'assignment' || assignment.childForFieldName('type')) return undefined;
    const left = assignment.childForFieldName('left') as Node;
    const right = assignment.childForFieldName('right');
    if (!pure(right, file, { makers: true })) return undefined;
    if (left.type === 'identifier') {
      const name = left.text;
      if (looped.includes(name) || set.includes(name) || mentions(right, name) || statements.slice(0, i).some((before) => mentions(before, name))) return undefined;
      set.push(name);
    } else if (left.type === 'subscript') {
      const object = left.childForFieldName('value') as Node;
      if (!isReference(object) || !left.childrenForFieldName('subscript').every((index) => pure(index, file, { makers: true }))) return undefined;
      written.push(object);
    } else return undefined;
  }
  if (written.length === 0 || written.some((object) => [...looped, ...set].some((name) => mentions(object, name)))) return undefined;
  // A `continue` (in an `if`) may skip the last iteration's assignments: what it leaves would be an earlier one's.
  // Asked last: it walks the whole body, and this runs for every loop the analysis meets.
  return block.descendantsOfType('continue_statement').length > 0 ? undefined : written;
}

/**
 * Whether a statement on its own is `model.apply(init)` of an `init` that only initialises the weights
 * of the module it is given (DCGAN's `weights_init`: names of its own, set from what it reads, class
 * names tested, nn.init.* and the tensor initialisers). Such a statement changes no shape and no count:
 * run, it built each model a file applies it to in the analysis of every other model of the file, and
 * made each depend on the others' text. `init` is a function of the file, undecorated, and no
 * module-level statement nor `global` binds its name anew.
 */
export function initialisingApply(statement: Node, file: PythonFile): boolean {
  let known = applies.get(statement);
  if (known === undefined) applies.set(statement, (known = appliesInitialiser(statement, file)));
  return known;
}

/** Per statement of a tree: each analysis of a file's models asks again. */
const applies = new WeakMap<Node, boolean>();

function appliesInitialiser(statement: Node, file: PythonFile): boolean {
  const call = statement.type === 'expression_statement' && statement.namedChildren.length === 1 ? statement.namedChildren[0] : undefined;
  const callee = call?.type === 'call' ? call.childForFieldName('function') : undefined;
  const model = callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'apply' ? callee.childForFieldName('object') : undefined;
  if (model?.type !== 'identifier' || !builtWithTorchApply(model.text, file)) return false;
  const args = (call?.childForFieldName('arguments')?.namedChildren ?? []).filter((arg) => arg?.type !== 'comment');
  const name = args.length === 1 && args[0]?.type === 'identifier' ? args[0].text : undefined;
  const fn = name === undefined ? undefined : file.functions.get(name);
  if (!name || !fn || fn.parent?.type !== 'module') return false;
  const rebinds = (other: Node | null) => other !== null && other.startIndex !== fn.startIndex && bindings(other).names.has(name);
  if (file.root.namedChildren.some(rebinds) || file.root.descendantsOfType(['global_statement', 'nonlocal_statement']).some((declared) => declared !== null && mentions(declared, name))) return false;
  return initialisesItsModule(fn, file);
}

/**
 * Whether every module-level statement that binds the name builds it (`netG = Generator(ngpu).to(device)`)
 * from a torch.nn class or a class of the file that leaves nn.Module's `apply` as it is.
 */
function builtWithTorchApply(name: string, file: PythonFile): boolean {
  const binding = file.root.namedChildren.filter((statement): statement is Node => statement !== null && bindings(statement).names.has(name));
  return (
    binding.length > 0 &&
    binding.every((statement) => {
      const assignment = statement.type === 'expression_statement' ? statement.namedChildren[0] : undefined;
      if (assignment?.type !== 'assignment' || assignment.childForFieldName('left')?.text !== name) return false;
      // The call that makes it, through the methods that hand it back (`.to(device)`, `.cuda()`).
      let made = assignment.childForFieldName('right') ?? null;
      for (let method = handingBack(made); method; method = handingBack(made)) made = method.childForFieldName('object');
      const maker = made?.type === 'call' ? made.childForFieldName('function') : undefined;
      if (!maker || !isReference(maker)) return false;
      const cls = file.resolveClass(maker.text);
      return cls ? cls.findMethod('apply') === undefined && cls.torchBases.length > 0 : file.qualified(maker.text).startsWith('torch.nn.');
    })
  );
}

/** nn.Module's methods that hand the module back. */
const returnSelf = new Set(['to', 'cuda', 'cpu', 'float', 'double', 'half', 'bfloat16', 'train', 'eval', 'requires_grad_']);

/** `x.to(device)`'s `x.to`, whose `x` is a call, when the method hands the module back: else undefined. */
function handingBack(call: Node | null): Node | undefined {
  const callee = call?.type === 'call' ? call.childForFieldName('function') : undefined;
  return callee?.type === 'attribute' && returnSelf.has(callee.childForFieldName('attribute')?.text ?? '') && callee.childForFieldName('object')?.type === 'call' ? callee : undefined;
}

/** A function of one parameter whose body only initialises weights in place, setting names of its own from what it reads. */
function initialisesItsModule(fn: Node, file: PythonFile): boolean {
  const parameters = (fn.childForFieldName('parameters')?.namedChildren ?? []).filter((p) => p?.type !== 'comment');
  if (parameters.length !== 1 || parameters[0]?.type !== 'identifier' || fn.descendantsOfType(['global_statement', 'nonlocal_statement']).length > 0) return false;
  const classNames = new Set<string>();
  return (fn.childForFieldName('body')?.namedChildren ?? []).every((statement) => {
    if (!statement) return true;
    if (statement.type === 'return_statement') return statement.namedChildren.length === 0;
    const assignment = statement.type === 'expression_statement' && statement.namedChildren.length === 1 ? statement.namedChildren[0] : undefined;
    const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : undefined;
    if (left?.type === 'identifier' && !assignment?.childForFieldName('type')) {
      const right = assignment?.childForFieldName('right');
      if (!pure(right, file, { classNames })) return false;
      if (isClassName(right)) classNames.add(left.text);
      else classNames.delete(left.text);
      return true;
    }
    return initialises(statement, file, { classNames });
  });
}
