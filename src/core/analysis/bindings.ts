// What a top-level statement binds and changes, read from its syntax: the notebook module keeps the
// statements a model needs by it, and the analysis runs a model's later changes (`model.fc = …`,
// a loop that freezes its layers) after the statement that builds it.
import type { Node } from './syntax';

/**
 * The top-level names a statement sets (imports, definitions, assignment targets, the object an
 * attribute assignment changes: `model.fc = …` changes `model`), and the names an in-place call may
 * change (`model.apply(init)`, `nn.init.zeros_(model.fc.bias)`, whose `nn` is a module, not changed).
 */
export function bindings(node: Node): { names: Set<string>; changed: Set<string> } {
  const names = new Set<string>();
  const changed = new Set<string>();
  const target = (left: Node | null) => {
    if (!left) return;
    if (left.type === 'identifier') names.add(left.text);
    else if (left.type === 'attribute' || left.type === 'subscript') {
      const root = rootName(left);
      if (root) names.add(root);
    } else for (const child of left.namedChildren) target(child);
  };
  const visit = (current: Node) => {
    switch (current.type) {
      case 'import_statement':
        for (const child of current.namedChildren) {
          if (child?.type === 'aliased_import') names.add(child.childForFieldName('alias')?.text ?? '');
          else if (child?.type === 'dotted_name') names.add(child.namedChildren[0]?.text ?? '');
        }
        return;
      case 'import_from_statement':
        for (const child of current.childrenForFieldName('name')) {
          if (child?.type === 'aliased_import') names.add(child.childForFieldName('alias')?.text ?? '');
          else if (child) names.add(child.namedChildren.at(-1)?.text ?? child.text);
        }
        return;
      case 'class_definition':
      case 'function_definition':
        names.add(current.childForFieldName('name')?.text ?? '');
        return;
      case 'assignment':
      case 'augmented_assignment': {
        target(current.childForFieldName('left'));
        // `x: int` declares without a value.
        const right = current.childForFieldName('right');
        if (right) visit(right);
        return;
      }
      case 'for_statement': {
        // `for p in model.features.parameters(): p.requires_grad = False` changes `model`.
        const variables = new Set<string>();
        const left = current.childForFieldName('left');
        for (const name of left ? identifiersIn(left) : []) variables.add(name);
        target(left);
        const iterated = current.childForFieldName('right');
        const root = iterated ? rootName(iterated) : undefined;
        for (const child of current.childForFieldName('body')?.namedChildren ?? []) {
          if (!child) continue;
          const inner = bindings(child);
          inner.names.forEach((name) => names.add(name));
          inner.changed.forEach((name) => changed.add(name));
          if (root && [...inner.names, ...inner.changed].some((name) => variables.has(name))) changed.add(root);
        }
        return;
      }
      case 'call': {
        // `nn.init.zeros_(model.fc.bias)`, `model.apply(init)`: in place, so part of building `model`.
        const callee = current.childForFieldName('function');
        const method = callee?.type === 'attribute' ? (callee.childForFieldName('attribute')?.text ?? '') : '';
        const receiver = callee?.childForFieldName('object');
        const root = receiver ? rootName(receiver) : undefined;
        if (root && (method === 'apply' || method.endsWith('_'))) changed.add(root);
        if (method.endsWith('_')) {
          for (const argument of current.childForFieldName('arguments')?.namedChildren ?? []) {
            const argumentRoot = argument ? rootName(argument) : undefined;
            if (argumentRoot) changed.add(argumentRoot);
          }
        }
        return;
      }
      case 'lambda':
        return;
    }
    for (const child of current.namedChildren) if (child && child.type !== 'function_definition' && child.type !== 'class_definition') visit(child);
  };
  if (node.type === 'decorated_definition') names.add(node.childForFieldName('definition')?.childForFieldName('name')?.text ?? '');
  else visit(node);
  names.delete('');
  return { names, changed };
}

/** `model` of `model.features[0].weight` and of `model.layer1.parameters()`. */
export function rootName(node: Node): string | undefined {
  let current: Node | null = node;
  while (current && (current.type === 'attribute' || current.type === 'subscript' || current.type === 'call')) {
    current = current.childForFieldName(current.type === 'attribute' ? 'object' : current.type === 'call' ? 'function' : 'value');
  }
  return current?.type === 'identifier' ? current.text : undefined;
}

function identifiersIn(node: Node): string[] {
  return node.type === 'identifier' ? [node.text] : node.namedChildren.flatMap((child) => (child ? identifiersIn(child) : []));
}

/** Every name a statement reads, less attribute names, keyword names and the parameters of its functions (an over-estimate keeps a needed line). */
export function namesUsed(node: Node): Set<string> {
  const names = new Set<string>();
  const visit = (current: Node, local: ReadonlySet<string>) => {
    switch (current.type) {
      case 'identifier':
        if (!local.has(current.text)) names.add(current.text);
        return;
      case 'attribute':
        visit(current.childForFieldName('object') ?? current, local);
        return;
      case 'keyword_argument':
        visit(current.childForFieldName('value') ?? current, local);
        return;
      case 'function_definition':
      case 'lambda': {
        const parameters = current.childForFieldName('parameters');
        const inner = new Set([...local, ...parameterNames(parameters)]);
        for (const child of current.namedChildren) if (child && child !== parameters && child !== current.childForFieldName('name')) visit(child, inner);
        for (const parameter of parameters?.namedChildren ?? []) {
          const value = parameter?.childForFieldName('value');
          if (value) visit(value, local); // defaults are read where the function is defined
        }
        return;
      }
      case 'class_definition':
        for (const child of current.namedChildren) if (child && child !== current.childForFieldName('name')) visit(child, local);
        return;
    }
    for (const child of current.namedChildren) if (child) visit(child, local);
  };
  visit(node, new Set());
  return names;
}

function parameterNames(parameters: Node | null): string[] {
  return (parameters?.namedChildren ?? []).flatMap((parameter) => {
    if (!parameter) return [];
    if (parameter.type === 'identifier') return [parameter.text];
    const name = parameter.childForFieldName('name') ?? parameter.namedChildren.find((c) => c?.type === 'identifier');
    return name ? [name.text] : [];
  });
}
