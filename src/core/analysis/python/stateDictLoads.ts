// Where a file loads a checkpoint into a model: `X.load_state_dict(torch.load(PATH))`, through names
// (`checkpoint = torch.load(PATH)` then `X.load_state_dict(checkpoint['state_dict'])`), with the
// model X is and the path as the code gives them. Read from the syntax tree; nothing is run.
import type { SourceRange } from '../report';
import type { Node } from '../syntax';
import { literalContent, literalKind } from './strings';

export interface StateDictLoad {
  /**
   * `load_state_dict`: weights loaded into a model the code built. `model`: `name = torch.load(PATH)`,
   * which gives whatever the file holds; it is checked when that is a whole pickled model.
   */
  kind: 'load_state_dict' | 'model';
  /** The load_state_dict call, or the torch.load call. */
  range: SourceRange;
  /** What it loads into, as written: `model`, `net.module`. */
  target: string;
  /** How the model was made, where the code says: the name called (`Net`, `resnet18` of `models.resnet18`) and the call as a report's `build` writes it (`Net(10)`). */
  builtBy?: { callee: string; build: string };
  /** The checkpoint's path as the code gives it (a string, or a name bound to one). */
  path: string;
  /** `torch.load(PATH)['state_dict']`: the key indexed, if any. */
  key?: string;
  /** A prefix the code strips from every key on the way (`{k.removeprefix('module.'): v for k, v in sd.items()}`). */
  strip?: string;
  /** The torch.load(…) expression as the argument reaches it, where indexing it needs no other change: a quick fix appends `['state_dict']` at its end. */
  loaded?: SourceRange;
  /** The argument as written, and where: a quick fix rewrites it (a `module.` prefix stripped). */
  argument: { range: SourceRange; text: string };
  /** load_state_dict(…, strict=False): missing and unexpected keys are allowed, sizes must still match. */
  strict: boolean;
  /** torch.load(…, weights_only=…) as written, for a `model` load. */
  weightsOnly?: string;
}

/** Every load_state_dict call of the tree whose argument comes from torch.load of a known path, and every `name = torch.load(PATH)`. */
export function findStateDictLoads(root: Node): StateDictLoad[] {
  // Only a file that calls torch.load loads a checkpoint: the others' trees are not walked for it.
  if (!root.text.includes('torch.load')) return [];
  const loads: StateDictLoad[] = [];
  const visit = (node: Node) => {
    if (node.type === 'call') {
      const load = loadAt(node);
      if (load) loads.push(load);
    } else if (node.type === 'assignment' && node.childForFieldName('left')?.type === 'identifier') {
      const load = modelLoadAt(node);
      if (load) loads.push(load);
    }
    for (const child of node.namedChildren) if (child) visit(child);
  };
  visit(root);
  return loads;
}

function loadAt(call: Node): StateDictLoad | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== 'load_state_dict') return undefined;
  const object = callee.childForFieldName('object');
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a !== null) ?? [];
  const keyword = (name: string) => args.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === name)?.childForFieldName('value');
  const argument = args.find((a) => a.type !== 'keyword_argument') ?? keyword('state_dict');
  if (!object || !argument) return undefined;
  const source = loadedFrom(argument, call, 0);
  if (!source) return undefined;
  const target = object.text;
  const built = bindingBefore(target.replace(/\.module$/, ''), call);
  const builtBy = built ? constructorOf(built) : undefined;
  return {
    kind: 'load_state_dict',
    range: call.range,
    target,
    ...(builtBy ? { builtBy } : {}),
    path: source.path,
    ...(source.key !== undefined ? { key: source.key } : {}),
    ...(source.strip !== undefined ? { strip: source.strip } : {}),
    ...(source.loaded ? { loaded: source.loaded.range } : {}),
    argument: { range: argument.range, text: argument.text },
    strict: keyword('strict')?.text !== 'False',
  };
}

/** `model = torch.load(PATH, …)`: what the file holds, bound to a name. */
function modelLoadAt(assignment: Node): StateDictLoad | undefined {
  const call = assignment.childForFieldName('right');
  if (call?.type !== 'call' || call.childForFieldName('function')?.text !== 'torch.load') return undefined;
  const source = loadedFrom(call, assignment, 0);
  if (!source) return undefined;
  const weightsOnly = call.childForFieldName('arguments')?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'weights_only')?.childForFieldName('value')?.text;
  return {
    kind: 'model',
    range: call.range,
    target: assignment.childForFieldName('left')?.text ?? '',
    path: source.path,
    argument: { range: call.range, text: call.text },
    strict: true,
    ...(weightsOnly !== undefined ? { weightsOnly } : {}),
  };
}

/** What torch.load gives the argument: the path, a key indexed into it, and the torch.load expression when the argument is it. */
interface Loaded {
  path: string;
  key?: string;
  strip?: string;
  loaded?: Node;
}

function loadedFrom(expression: Node, at: Node, depth: number): Loaded | undefined {
  if (depth > 4) return undefined;
  if (expression.type === 'parenthesized_expression' && expression.namedChildren[0]) return loadedFrom(expression.namedChildren[0], at, depth + 1);
  if (expression.type === 'identifier') {
    const bound = bindingBefore(expression.text, at);
    const found = bound && loadedFrom(bound, bound, depth + 1);
    if (!found) return undefined;
    // Through a name, an edit would change the assignment, not this call: no place to index.
    return { path: found.path, ...(found.key !== undefined ? { key: found.key } : {}), ...(found.strip !== undefined ? { strip: found.strip } : {}) };
  }
  if (expression.type === 'dictionary_comprehension') {
    const stripped = strippedPrefix(expression);
    const found = stripped && loadedFrom(stripped.source, at, depth + 1);
    return found && found.strip === undefined ? { path: found.path, ...(found.key !== undefined ? { key: found.key } : {}), strip: stripped.prefix } : undefined;
  }
  if (expression.type === 'subscript') {
    const inner = expression.childForFieldName('value');
    const index = expression.childForFieldName('subscript');
    const key = index ? stringValue(index) : undefined;
    if (!inner || key === undefined) return undefined;
    const found = loadedFrom(inner, at, depth + 1);
    return found && found.key === undefined ? { path: found.path, key } : undefined;
  }
  if (expression.type === 'call' && expression.childForFieldName('function')?.text === 'torch.load') {
    const args = expression.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a !== null) ?? [];
    const file = args.find((a) => a.type !== 'keyword_argument') ?? args.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'f')?.childForFieldName('value');
    const path = file ? pathValue(file, at) : undefined;
    return path !== undefined ? { path, loaded: expression } : undefined;
  }
  return undefined;
}

/**
 * `{k.removeprefix('module.'): v for k, v in sd.items()}` or `{k.replace('module.', ''): v …}`: a
 * checkpoint's keys with a prefix stripped, and the dict they come from.
 */
function strippedPrefix(comprehension: Node): { prefix: string; source: Node } | undefined {
  const [body, clause, ...rest] = comprehension.namedChildren;
  if (body?.type !== 'pair' || clause?.type !== 'for_in_clause' || rest.length > 0) return undefined;
  const [k, v] = names(clause.childForFieldName('left') ?? clause);
  const items = clause.childForFieldName('right');
  const itemsCallee = items?.type === 'call' ? items.childForFieldName('function') : undefined;
  if (!k || !v || itemsCallee?.type !== 'attribute' || itemsCallee.childForFieldName('attribute')?.text !== 'items' || body.childForFieldName('value')?.text !== v) return undefined;
  const source = itemsCallee.childForFieldName('object');
  const key = body.childForFieldName('key');
  if (!source || !key) return undefined;
  if (key.type === 'call') {
    const method = key.childForFieldName('function');
    const args = key.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a !== null) ?? [];
    const [first, second] = args.map(stringValue);
    if (method?.type !== 'attribute' || method.childForFieldName('object')?.text !== k || first === undefined) return undefined;
    const name = method.childForFieldName('attribute')?.text;
    if ((name === 'removeprefix' && args.length === 1) || (name === 'replace' && args.length === 2 && second === '')) return { prefix: first, source };
    return undefined;
  }
  return undefined;
}

/** A path the code gives: a string, a name bound to one, an f-string of those, or `os.path.join` of those. */
function pathValue(expression: Node, at: Node, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  const text = stringValue(expression);
  if (text !== undefined) return text;
  if (expression.type === 'string') {
    // f'{CHECKPOINTS}/model_cifar.pt': each field a name bound to a string, without a format.
    const raw = expression.namedChildren[0]?.type === 'string_start' && literalKind(expression.namedChildren[0]).raw;
    const parts = expression.namedChildren.map((part) => {
      if (part?.type === 'string_content') return literalContent(part, raw);
      const field = part?.type === 'interpolation' && part.namedChildren.length === 1 ? part.namedChildren[0] : undefined;
      return field ? pathValue(field, at, depth + 1) : part?.type === 'string_start' || part?.type === 'string_end' ? '' : undefined;
    });
    return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  }
  if (expression.type === 'identifier') {
    const bound = bindingBefore(expression.text, at);
    return bound ? pathValue(bound, bound, depth + 1) : undefined;
  }
  if (expression.type === 'call' && expression.childForFieldName('function')?.text === 'os.path.join') {
    const parts = (expression.childForFieldName('arguments')?.namedChildren ?? []).map((a) => (a && a.type !== 'keyword_argument' ? pathValue(a, at, depth + 1) : undefined));
    // A later absolute part starts the path afresh, as os.path.join does.
    return parts.length > 0 && parts.every((p) => p !== undefined) ? (parts as string[]).reduce((joined, part) => (part.startsWith('/') || !joined ? part : `${joined.replace(/\/$/, '')}/${part}`), '') : undefined;
  }
  return undefined;
}

/** A plain string literal's value (no f-string fields, not bytes), its escapes decoded. */
function stringValue(node: Node): string | undefined {
  const start = node.namedChildren[0];
  if (node.type !== 'string' || start?.type !== 'string_start') return undefined;
  const kind = literalKind(start);
  if (kind.bytes || node.namedChildren.some((c) => c?.type === 'interpolation')) return undefined;
  const content = node.namedChildren.find((c) => c?.type === 'string_content');
  return content ? literalContent(content, kind.raw) : '';
}

/**
 * The value last bound to `name` by a plain assignment before `at`, in `at`'s block or the blocks
 * around it, up to the module: what Python's name lookup finds when the code runs straight down.
 * A name also bound in a loop or a branch between them is not followed.
 */
function bindingBefore(name: string, at: Node): Node | undefined {
  for (let scope: Node | null = at; scope; scope = scope.parent) {
    const block = scope.parent;
    if (!block || (block.type !== 'block' && block.type !== 'module')) continue;
    const before = block.namedChildren.filter((s): s is Node => s !== null && s.endIndex <= scope.startIndex);
    for (let i = before.length - 1; i >= 0; i--) {
      const statement = before[i] as Node;
      const assignment = statement.type === 'expression_statement' ? statement.namedChildren[0] : undefined;
      if (assignment?.type === 'assignment' && assignment.childForFieldName('left')?.text === name) return assignment.childForFieldName('right') ?? undefined;
      // Bound some other way here (a loop, a with, a branch): not followed.
      if (statement.type !== 'expression_statement' && bindsName(statement, name)) return undefined;
    }
    if (block.type === 'block' && block.parent?.type === 'function_definition') {
      // A parameter of the function: its value comes from the caller.
      const parameters = block.parent.childForFieldName('parameters')?.namedChildren ?? [];
      if (parameters.some((p) => p?.text.split(/[:=]/)[0]?.trim() === name)) return undefined;
    }
  }
  return undefined;
}

/** Whether a statement (a loop, a branch, a with, and what they hold) binds the name: an assignment's or a loop's target, a with's `as`, an import. */
function bindsName(node: Node, name: string): boolean {
  const target =
    node.type === 'assignment' || node.type === 'augmented_assignment'
      ? node.childForFieldName('left')
      : node.type === 'for_statement' || node.type === 'for_in_clause'
        ? node.childForFieldName('left')
        : node.type === 'as_pattern'
          ? node.childForFieldName('alias')
          : node.type === 'named_expression'
            ? node.childForFieldName('name')
            : undefined;
  if (target && names(target).includes(name)) return true;
  if (/^(import_statement|import_from_statement)$/.test(node.type) && node.text.split(/[\s,]+/).includes(name)) return true;
  return node.namedChildren.some((c) => c !== null && c.type !== 'function_definition' && c.type !== 'class_definition' && bindsName(c, name));
}

/** The plain names a target binds: `a`, `a, b`, `(a, [b, c])`; not `self.a` or `x[0]`. */
function names(target: Node): string[] {
  if (target.type === 'identifier') return [target.text];
  if (/^(pattern_list|tuple_pattern|list_pattern|expression_list|tuple|list|parenthesized_expression|as_pattern_target)$/.test(target.type)) return target.namedChildren.flatMap((c) => (c ? names(c) : []));
  return [];
}

/** `Net(...)`, `Net(...).to(device)`, `models.resnet18(...)`: the call that built the model, by the name called. */
function constructorOf(expression: Node): StateDictLoad['builtBy'] {
  let call: Node | null = expression;
  // `.to(device)`, `.cuda()`, `.eval()` return the module they were called on.
  while (call?.type === 'call') {
    const fn: Node | null = call.childForFieldName('function');
    const object: Node | null = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
    if (object?.type === 'call' && /^(to|cuda|cpu|eval|train|float|double|half)$/.test(fn?.childForFieldName('attribute')?.text ?? '')) call = object;
    else break;
  }
  if (call?.type !== 'call') return undefined;
  const callee = call.childForFieldName('function')?.text;
  if (!callee) return undefined;
  const name = callee.slice(callee.lastIndexOf('.') + 1);
  return { callee: name, build: `${name}${call.childForFieldName('arguments')?.text ?? '()'}` };
}
