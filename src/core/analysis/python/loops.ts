// Loops the analysis need not run item by item: those that only initialise weights in place, and
// those that only write tensors' values (and names each iteration sets afresh). Neither changes a
// shape or a count; the first is skipped, the second run at its last item (Statements.executeFor).
import type { Node } from '../syntax';
import { numericFunctions } from './builtins';
import type { PythonFile } from './program';

/** Tensor methods that change values in place, never a shape or whether a parameter is trained. */
const valueInitialisers = new Set(['normal_', 'uniform_', 'zero_', 'fill_', 'copy_', 'mul_', 'div_', 'add_', 'sub_', 'clamp_', 'fill_diagonal_', 'bernoulli_', 'exponential_', 'log_normal_', 'cauchy_', 'geometric_', 'random_']);
/** Calls with no effect that such a loop's conditions and arguments make: a few builtins and torch.nn.init's fan helpers, besides math's and NumPy's numericFunctions. */
const pureCalls = new Set(['isinstance', 'hasattr', 'getattr', 'type', 'len', 'float', 'int', 'abs', 'min', 'max', 'torch.nn.init.calculate_gain', 'torch.nn.init._calculate_fan_in_and_fan_out']);
/** torch's functions that make a new tensor and change nothing else (the random ones draw from its generator, which no report shows). */
const tensorMakers = new Set(['randperm', 'randint', 'rand', 'randn', 'zeros', 'ones', 'empty', 'full', 'arange', 'linspace', 'eye', 'tensor', 'zeros_like', 'ones_like', 'rand_like', 'randn_like', 'empty_like', 'full_like'].map((name) => `torch.${name}`));

/** Whether an expression changes nothing: it calls only pureCalls and numericFunctions (and, given `makers`, tensorMakers), and binds no name. */
function pure(node: Node | null | undefined, file: PythonFile, makers = false): boolean {
  if (!node) return true;
  if (node.type === 'call') {
    const callee = node.childForFieldName('function');
    const path = callee && /^(identifier|attribute)$/.test(callee.type) ? file.qualified(callee.text) : undefined;
    if (path === undefined || !(pureCalls.has(path) || numericFunctions.has(path) || (makers && tensorMakers.has(path)))) return false;
  }
  if (/^(lambda|named_expression|assignment|augmented_assignment|await|yield|list_comprehension|generator_expression|dictionary_comprehension|set_comprehension)$/.test(node.type)) return false;
  return node.namedChildren.every((child) => pure(child, file, makers));
}

/**
 * Whether a loop's body only initialises weights in place: `nn.init.*` and the tensor initialisers
 * (`m.weight.data.normal_(0, 0.02)`) on what it reads, under conditions that call nothing else
 * (`isinstance(m, nn.Conv2d)`). No assignment, no break, no other call: nothing a report shows changes.
 */
export function onlyInitialises(block: Node | null, file: PythonFile): boolean {
  return (block?.namedChildren ?? []).every((statement) => !statement || initialises(statement, file));
}

function initialises(statement: Node, file: PythonFile): boolean {
  switch (statement.type) {
    case 'comment':
    case 'pass_statement':
    case 'continue_statement':
      return true;
    case 'expression_statement': {
      const expression = statement.namedChildren[0];
      return expression?.type === 'string' || initialiserCall(expression, file);
    }
    case 'if_statement':
      return (
        pure(statement.childForFieldName('condition'), file) &&
        onlyInitialises(statement.childForFieldName('consequence'), file) &&
        statement.childrenForFieldName('alternative').every((clause) => pure(clause?.childForFieldName('condition'), file) && onlyInitialises(clause?.childForFieldName('consequence') ?? clause?.childForFieldName('body') ?? null, file))
      );
    default:
      return false;
  }
}

function initialiserCall(call: Node | null | undefined, file: PythonFile): boolean {
  const callee = call?.type === 'call' ? call.childForFieldName('function') : undefined;
  if (callee?.type !== 'attribute') return false;
  const method = callee.childForFieldName('attribute')?.text ?? '';
  const inPlace = file.qualified(callee.text).startsWith('torch.nn.init.') || (valueInitialisers.has(method) && pure(callee.childForFieldName('object'), file));
  return inPlace && pure(call?.childForFieldName('arguments'), file);
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
  const statements = (block?.namedChildren ?? []).filter((statement): statement is Node => statement !== null);
  const looped = target.type === 'identifier' ? [target.text] : target.descendantsOfType('identifier').map((name) => name?.text ?? '');
  const set: string[] = [];
  const written: Node[] = [];
  for (const [i, statement] of statements.entries()) {
    if (initialises(statement, file) && statement.type !== 'continue_statement') continue;
    const assignment = statement.type === 'expression_statement' && statement.namedChildren.length === 1 ? statement.namedChildren[0] : undefined;
    if (assignment?.type !== 'assignment' || assignment.childForFieldName('type')) return undefined;
    const left = assignment.childForFieldName('left') as Node;
    const right = assignment.childForFieldName('right');
    if (!pure(right, file, true)) return undefined;
    if (left.type === 'identifier') {
      const name = left.text;
      if (looped.includes(name) || set.includes(name) || mentions(right, name) || statements.slice(0, i).some((before) => mentions(before, name))) return undefined;
      set.push(name);
    } else if (left.type === 'subscript') {
      const object = left.childForFieldName('value') as Node;
      if (!isReference(object) || !left.childrenForFieldName('subscript').every((index) => pure(index, file, true))) return undefined;
      written.push(object);
    } else return undefined;
  }
  if (written.length === 0 || written.some((object) => [...looped, ...set].some((name) => mentions(object, name)))) return undefined;
  return written;
}
