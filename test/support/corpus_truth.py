"""PyTorch's own numbers for the corpus test (test/unit/corpus.unit.test.ts) and scripts/score-corpus.ts.

Reads one JSON request on stdin and writes one JSON reply on stdout:

    {"models": [{"file": "/abs/model.py", "build": "ResNet18()", "input": [1, 3, 32, 32]},
                {"file": "/abs/resnet.py", "module": "torchvision.models.resnet", "build": "resnet18()", ...}],
     "enumerate": ["/abs/model.py"]}

For each model it imports the whole file, as Python imports it (once per file; by its `module` name
when one is given, for a package's file with relative imports such as torchvision's): the truth
does not go through the loader exact mode uses, which runs only what builds the models, so that
the loader is measured too. It evaluates `build` in the module's namespace and runs describe() from
src/trainer/shapes.py, the hooks exact mode uses: {"ok": true, "described": {...}} or {"ok": false, "error": "..."}.

A file that is part of a package (its folder has an __init__.py), with relative imports of its
neighbours, is imported by its dotted `module` name: the folder above the package's top is put first
on sys.path, and a package of the same name that another corpus imported before (several model zoos
call theirs `models`) is forgotten first. An entry of `enumerate` is a path or {"file", "module"}.
A failure says where it happened: "stage" is "import", "build" or "run".

For each file in `enumerate` it lists what PyTorch can build without arguments, so that models the
analysis does not report can be counted as misses: classes defined there that construct with no
arguments, module-level functions (and functools.partial objects) that return an nn.Module when
called with none, and module-level nn.Module instances; those without parameters (an activation, a
loss) are no models. A function is called only when its body returns a value and it is not
`main`, so that training entry points never run.

Run with the interpreter that has torch: /usr/bin/python3 test/support/corpus_truth.py < request
"""
import ast
import contextlib
import functools
import importlib
import importlib.util
import inspect
import io
import json
import pathlib
import sys

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "src" / "trainer"))
from shapes import describe  # noqa: E402  the hooks exact mode uses


def import_file(path):
    """The file as `import` runs it, under a name no other file has, its folder first on sys.path."""
    name = f"cnnlab_truth_{len(sys.modules)}"
    folder = str(pathlib.Path(path).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def error_text(error):
    return f"{type(error).__name__}: {error}"[:300]


def returns_value(function):
    """Whether a function's own body has `return <value>` (its nested functions' do not count)."""
    try:
        tree = ast.parse(inspect.getsource(function).lstrip())
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0]
    pending = list(getattr(body, "body", []))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def quietly(call):
    """The file's prints must not reach stdout, which carries the reply."""
    with contextlib.redirect_stdout(io.StringIO()):
        return call()


@contextlib.contextmanager
def without_initialisation():
    """Skips weight initialisation while models are built: shapes and parameter counts do not depend
    on the values, and initialising VGG's 100M-parameter classifiers dominates the test's run time."""
    names = [name for name in dir(nn.init) if name.endswith("_") and not name.startswith("_") and name != "calculate_gain"]
    originals = {name: getattr(nn.init, name) for name in names}
    for name in names:
        setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(nn.init, name, original)


def candidates(module):
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if inspect.isclass(value) and issubclass(value, nn.Module) and value.__module__ == module.__name__:
            yield name, f"{name}()", value
        elif isinstance(value, nn.Module):
            yield name, name, None
        elif isinstance(value, functools.partial) or (
            inspect.isfunction(value) and value.__module__ == module.__name__ and name != "main" and returns_value(value)
        ):
            yield name, f"{name}()", value


def enumerate_file(module, requested):
    found = []
    for name, build, constructor in candidates(module):
        if build in requested:
            continue  # the analysis reports it: no miss, whatever PyTorch makes of it
        try:
            model = vars(module)[name] if constructor is None else quietly(constructor)
        except Exception:  # noqa: BLE001  a model that needs arguments, or a function that is no factory
            continue
        if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
            continue  # not a model: an activation, a loss
        if constructor is None and any(r == f"{type(model).__name__}()" or r.startswith(f"{type(model).__name__}(") for r in requested):
            continue  # `model = Net(...).to(device)`: the analysis shows it on its class, built with these arguments
        found.append(build)
    return found


def package_root(path, name):
    """The folder that has the package `name`'s top in it, from the file's path: a.b.c in /x/a/b/c.py is /x."""
    file = pathlib.Path(path).resolve()
    depth = len(name.split(".")) + (1 if file.name == "__init__.py" else 0)
    return str(file.parents[depth - 1])


def import_in_package(path, name):
    """Imports `name` from the package tree that holds `path`, not from one of the same name seen before."""
    root, top = package_root(path, name), name.split(".")[0]
    loaded = sys.modules.get(top)
    where = getattr(loaded, "__file__", None) if loaded is not None else None
    if where is not None and not pathlib.Path(where).resolve().is_relative_to(pathlib.Path(root).resolve()):
        for key in [key for key in sys.modules if key == top or key.startswith(top + ".")]:
            del sys.modules[key]
    # First on sys.path unless it already comes before every other folder with a `top` in it.
    for entry in sys.path:
        if entry == root:
            break
        folder = pathlib.Path(entry or ".")
        if root not in sys.path or (folder / top).exists() or (folder / f"{top}.py").exists():
            if root in sys.path:
                sys.path.remove(root)
            sys.path.insert(0, root)
            break
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    if pathlib.Path(getattr(module, "__file__", "") or "").resolve() != pathlib.Path(path).resolve():
        raise ImportError(f"{name} is {getattr(module, '__file__', None)}, not {path}")
    return module


def main():
    request = json.load(sys.stdin)
    torch.manual_seed(0)
    modules = {}

    def module_of(path, name=None):
        if path not in modules:
            try:
                modules[path] = quietly(lambda: import_in_package(path, name) if name else import_file(path))
            except Exception as error:  # noqa: BLE001  reported per model
                modules[path] = error
        return modules[path]

    with without_initialisation():
        results, found = describe_all(request, module_of), enumerate_all(request, module_of)
    json.dump({"torch": torch.__version__, "models": results, "found": found}, sys.stdout)
    sys.stdout.write("\n")


def describe_all(request, module_of):
    results = []
    for wanted in request.get("models", []):
        result = {"file": wanted["file"], "build": wanted["build"], "input": wanted["input"], "ok": False}
        module = module_of(wanted["file"], wanted.get("module"))
        stage = "import"
        try:
            if isinstance(module, Exception):
                raise module
            stage = "build"
            model = quietly(lambda: eval(wanted["build"], vars(module)))  # noqa: S307  the corpus' own build expressions
            if not isinstance(model, nn.Module):
                raise TypeError(f"{wanted['build']} is no nn.Module")
            stage = "run"
            result["described"] = quietly(lambda: describe(model, wanted["input"]))
            result["ok"] = True
        except Exception as error:  # noqa: BLE001  PyTorch cannot build or run it: not counted
            result["error"] = error_text(error)
            result["stage"] = stage
        results.append(result)
    return results


def enumerate_all(request, module_of):
    found = {}
    for entry in request.get("enumerate", []):
        path, name = (entry, None) if isinstance(entry, str) else (entry["file"], entry.get("module"))
        module = module_of(path, name)
        requested = {wanted["build"] for wanted in request.get("models", []) if wanted["file"] == path}
        found[path] = [] if isinstance(module, Exception) else enumerate_file(module, requested)
    return found


if __name__ == "__main__":
    main()
