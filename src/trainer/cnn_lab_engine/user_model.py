"""The one loader of users' model files, for training, exact shapes and feature maps alike.

A course script defines `Net`, then at its top level builds it, trains it, plots and saves:
importing the file would run all of that. Here the file is parsed, and only the top-level
statements the wanted names need are run, in their order, compiled with the file's own name and
lines: the definitions, the imports and constants they use (by Python's scoping: a function's own
locals are not module names), `sys.path` changes, and for a module-level model the statements that
change it after it is built (`model.fc = …`, a loop freezing its parameters, `model = model.to(…)`).
Never `if __name__ == "__main__":`, a call such as `train(model)`, or a rebinding that hands the
model to the file's own functions (`model = train(model, …)`). What was left out is returned, so
that the caller can say it. load_model() is the way in for training and feature maps: it logs that,
and turns what goes wrong into a TrainingError for the user.

A notebook is loaded the same way, from the module CNN Lab writes of it (src/core/analysis/
notebookModule.ts): its code cells whole, each under a `# CNN Lab: cell N` line, so that what is left out is
named by cell and line; the statements CNN Lab adds itself name `_cnnlab_…` and always run.
"""

import ast
import contextlib
import io
import itertools
import os
import sys
import types

from .protocol import TrainingError, log

_serial = itertools.count()

# What heads each cell in the module CNN Lab writes of a notebook (notebookModule.ts), with the cell's index.
CELL_MARK = "# CNN Lab: cell "

# nn.Module methods that hand the module back: `model = model.to(device)` changes nothing else.
_RETURNS_SELF = {"to", "cuda", "cpu", "eval", "train", "float", "double", "half", "bfloat16", "requires_grad_", "apply"}
# Of those, the ones a statement of their own calls to change the model itself, not where it lives.
_CHANGES_IN_PLACE = {"apply", "requires_grad_"}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class LoadedModule:
    def __init__(self, module, left_out, syntax_errors=(), places=None):
        self.module = module
        # (line, first line of the statement) for each top-level statement that did something and was not run.
        self.left_out = left_out
        # (line, Python's message) for each top-level statement that did not parse, and was left out.
        self.syntax_errors = list(syntax_errors)
        # For a notebook's module, each line's cell and line there (notebook_places); None for a file.
        self.places = places


def _parameters(arguments):
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [a for a in (arguments.vararg, arguments.kwarg) if a]
    return {a.arg for a in every}


def bound_names(nodes):
    """The names a block binds in its own scope: not in the functions, lambdas and comprehensions it holds."""
    names, declared_global = set(), set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Lambda,) + _COMPREHENSIONS):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global.update(node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared_global


def module_names_read(node, local=frozenset()):
    """The module-level names a statement reads when it runs or when what it defines is called, by Python's scoping."""
    found = set()

    def visit(node, local):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in local:
                found.add(node.id)
            return
        if isinstance(node, _FUNCTIONS):
            arguments = node.args
            for default in arguments.defaults + [d for d in arguments.kw_defaults if d]:
                visit(default, local)
            for decorator in getattr(node, "decorator_list", []):
                visit(decorator, local)
            body = node.body if isinstance(node.body, list) else [node.body]
            inner = local | _parameters(arguments) | bound_names(body)
            for statement in body:
                visit(statement, inner)
            return
        if isinstance(node, ast.ClassDef):
            for expression in node.bases + [k.value for k in node.keywords] + node.decorator_list:
                visit(expression, local)
            # The class body sees its own names; its methods do not.
            own = local | bound_names(node.body)
            for statement in node.body:
                visit(statement, local if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) else own)
            return
        if isinstance(node, _COMPREHENSIONS):
            inner = local | {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            for child in ast.iter_child_nodes(node):
                visit(child, inner)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(node, local)
    return found


def _root_name(expression):
    """`model` of `model.classifier[6]`, of `model.features.parameters()`."""
    while isinstance(expression, (ast.Attribute, ast.Subscript, ast.Call)):
        expression = expression.func if isinstance(expression, ast.Call) else expression.value
    return expression.id if isinstance(expression, ast.Name) else None


def _is_main_guard(statement):
    test = getattr(statement, "test", None)
    return isinstance(statement, ast.If) and "__name__" in {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}


def _changes_model(statement, models):
    """`model.fc = …`, `model.classifier[6] = …`, or a loop over the model's parameters setting their attributes."""
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return all(isinstance(t, (ast.Attribute, ast.Subscript)) and _root_name(t) in models for t in targets)
    if isinstance(statement, ast.For) and _root_name(statement.iter) in models and isinstance(statement.target, ast.Name) and not statement.orelse:
        loop = statement.target.id
        return all(isinstance(s, ast.Assign) and all(isinstance(t, ast.Attribute) and _root_name(t) == loop for t in s.targets) for s in statement.body)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        # `model.apply(init)`; an in-place function, by Python's naming, on a part of it: `nn.init.zeros_(model.fc.bias)`.
        # Not a move (`model.cuda()`): the trainer places the model itself, and shapes do not depend on it.
        on_model = isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id in models
        return (on_model and name in _CHANGES_IN_PLACE) or (name.endswith("_") and not name.startswith("_") and any(_root_name(a) in models for a in call.args))
    return False


def _hands_model_to_own_function(statement, models, functions):
    """`model = train(model, …)`: what the file does with its model, not how it is built."""
    value = getattr(statement, "value", None)
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Attribute) and value.func.attr in _RETURNS_SELF and _root_name(value.func) in models:
        return False
    callee = value.func.id if isinstance(value.func, ast.Name) else None
    passed = {n.id for a in value.args + [k.value for k in value.keywords] for n in ast.walk(a) if isinstance(n, ast.Name)}
    return callee in functions and bool(passed & models)


def _is_cnnlab_own(statement):
    """A line CNN Lab wrote into a notebook's module (its folder on sys.path, its working folder)."""
    return any(isinstance(n, ast.Name) and n.id.startswith("_cnnlab_") for n in ast.walk(statement)) or (
        isinstance(statement, ast.Import) and all((a.asname or "").startswith("_cnnlab_") for a in statement.names))


def _changes_sys_path(statement):
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and ast.unparse(statement.value.func).startswith("sys.path.")


def plan(tree, wanted):
    """The top-level statements to run for the names in `wanted`, in order, and the ones left out."""
    body = tree.body
    binds = [bound_names([s]) for s in body]
    reads = [module_names_read(s) for s in body]
    functions = {s.name for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    star = [isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names) for s in body]
    needed, kept = set(wanted), set()
    # Names first bound by a plain statement whose value is not a definition: candidates for models to change.
    instances = {name for s, b in zip(body, binds) if isinstance(s, (ast.Assign, ast.AnnAssign)) for name in b}
    changed = True
    while changed:
        changed = False
        models = needed & instances
        for i, statement in enumerate(body):
            if i in kept or _is_main_guard(statement):
                continue
            builds = bool(binds[i] & needed) and not _hands_model_to_own_function(statement, models, functions)
            if builds or star[i] or _changes_sys_path(statement) or _is_cnnlab_own(statement) or _changes_model(statement, models):
                kept.add(i)
                needed |= reads[i]
                changed = True
    left_out = [s for i, s in enumerate(body) if i not in kept and not isinstance(s, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass))
                and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return [s for i, s in enumerate(body) if i in kept], left_out


def load(path, wanted, module_name=None):
    """The module of `path` with only what the names in `wanted` need run; its stdout kept off ours (the protocol's)."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        tree, errors = ast.parse(source, filename=path), []
    except SyntaxError:
        tree, errors = parse_around_errors(source, path)
    run, left_out = plan(tree, wanted)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the model's own imports of its neighbours
    name = module_name or f"cnnlab_user_model_{next(_serial)}"
    module = types.ModuleType(name)
    module.__file__ = os.path.abspath(path)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    code = compile(ast.Module(body=run, type_ignores=[]), path, "exec")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, module.__dict__)
    lines = source.splitlines()
    broken = [(start, f"{lines[start - 1].strip()[:80]} — does not parse: {message}") for start, _, message in errors]
    # Each by its own first line: `hidden = 256` of `classes = 10; hidden = 256`.
    own = [(s.lineno, (ast.get_source_segment(source, s) or lines[s.lineno - 1]).split("\n")[0].strip()) for s in left_out]
    return LoadedModule(module, sorted(own + broken), [(line, message) for _, line, message in errors], notebook_places(source))


def _starts_statement(line):
    return bool(line) and not line[0].isspace() and not line.startswith("#")


_CONTINUES = ("else", "elif", "except", "finally", "case")


def parse_around_errors(source, path):
    """A file with a half-written statement (an exercise's `model = `): each top-level statement is
    parsed on its own, and those that do not parse are left out, each named with Python's message.
    Returns the statements that parse, and (statement's line, error's line, message) for the others;
    raises the first SyntaxError when none parses."""
    lines = source.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _starts_statement(line) and not line.startswith(_CONTINUES)]
    # A decorator belongs to the definition below it.
    starts = [i for k, i in enumerate(starts) if k == 0 or not lines[starts[k - 1]].startswith("@")]
    body, errors = [], []
    bounds = [*starts, len(lines)]
    k = 0
    while k < len(starts):
        start = starts[k]
        # A line at the left margin may still be inside a statement (black's closing `)`, a string):
        # the chunk grows over the next ones until it parses, else it alone is left out.
        for end in range(k + 1, min(k + 40, len(starts)) + 1):
            try:
                chunk = ast.parse("".join(lines[start:bounds[end]]), filename=path)
            except SyntaxError as error:
                if end == k + 1:
                    first_error = error
                continue
            ast.increment_lineno(chunk, start)
            body.extend(chunk.body)
            k = end
            break
        else:
            errors.append((start + 1, start + (first_error.lineno or 1), first_error.msg))
            k += 1
    if not body and errors:
        _, line, message = errors[0]
        raise SyntaxError(message, (path, line, 1, lines[line - 1]))
    return ast.Module(body=body, type_ignores=[]), errors


def notebook_places(source):
    """For a notebook's module, each line's "cell N, line M", counted from 1 as the editor's summaries
    count them (by the `# CNN Lab: cell N` lines, counted from 0, that head its cells, each copied whole); None for a file's."""
    places, cell, first = {}, None, 0
    for number, line in enumerate(source.splitlines(), start=1):
        if line.startswith(CELL_MARK) and line[len(CELL_MARK):].isdigit():
            cell, first = int(line[len(CELL_MARK):]), number + 1
        elif cell is not None:
            places[number] = f"cell {cell + 1}, line {number - first + 1}"
    return places or None


def describe_left_out(path, left_out, places=None):
    """One log line: what of the file's top level was not run, and where (`places`: a notebook's cells)."""
    if not left_out:
        return None
    shown = "; ".join(f"{(places or {}).get(line, f'line {line}')}: {text[:60]}" for line, text in left_out[:6])
    more = f" and {len(left_out) - 6} more" if len(left_out) > 6 else ""
    return f"{os.path.basename(path)}: ran only what builds the model; left out {len(left_out)} top-level statement{'s' if len(left_out) != 1 else ''} ({shown}{more})"


def load_model(path, class_name, notebook=None):
    """The model `class_name` names in the file (a class, a factory or a module-level instance),
    with only what builds it run: load() leaves the file's training, plots and downloads out."""
    # A notebook's model lives in the run folder; its own imports are of the notebook's neighbours (load() adds the file's).
    if notebook and os.path.dirname(os.path.abspath(notebook["path"])) not in sys.path:
        sys.path.insert(0, os.path.dirname(os.path.abspath(notebook["path"])))
    try:
        loaded = load(path, {class_name})
    except SyntaxError as error:
        raise TrainingError(f"{os.path.basename(path)} line {error.lineno}: {error.msg}") from error
    except BaseException as error:
        raise TrainingError(f"importing {os.path.basename(path)} failed: {type(error).__name__}: {error}") from error
    note = describe_left_out(notebook["path"] if notebook else path, loaded.left_out, loaded.places)
    if note:
        log(note)
    found = getattr(loaded.module, class_name, None)
    if found is None and loaded.syntax_errors:  # most likely where it is being written
        line, message = loaded.syntax_errors[0]
        raise TrainingError(f"{os.path.basename(path)} line {line}: {message}")
    if found is None:
        raise TrainingError(f"{os.path.basename(path)} has no class {class_name}")
    import torch
    if isinstance(found, torch.nn.Module):  # a module-level `model = Net(...)`
        return found
    try:
        return found()  # a class, or a factory such as resnet18()
    except BaseException as error:
        raise TrainingError(f"{class_name}() failed: {type(error).__name__}: {error}") from error
