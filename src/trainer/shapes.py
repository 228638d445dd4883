"""CNN Lab's exact shapes: PyTorch itself builds the user's models and runs a zero tensor through
them with forward hooks, as torchinfo does.

A long-lived helper: one JSON request per line on stdin, one JSON reply per line on stdout,
stderr is a log. It exits when stdin closes. It imports the user's file, so the extension starts
it only in a trusted workspace. Each model's `build` is a Python expression (`Net()`,
`resnet18()`, `model`) evaluated in the imported file's namespace; nothing else of the request
is ever executed.

    {"type": "shapes", "id": 1, "file": "/path/model.py",
     "models": [{"name": "Net", "build": "Net()", "input": [1, 3, 32, 32]}]}

Every leaf module (one with no children) is reported, in the order the forward pass first called
them, then those it never called:

    {"name": "lstm", "type": "LSTM", "calls": 1, "in": [1, 5, 10], "out": [1, 5, 20],
     "outputs": [[1, 5, 20], [[1, 1, 20], [1, 1, 20]]], "params": 2560, "macs": null, "line": 7}

`in` is the first tensor among the positional arguments of its last call, `out` the first tensor
of what that call returned; `outputs` appears only when that call returned a tuple, list or dict:
the same structure with each tensor as its shape (a list of integers), each other value as null.
`calls` is 0 for a module forward never called. `params` counts each parameter once, in the first
module (in named_modules() order) that holds it, so tied weights are not counted twice; parameters
held by a module with children belong to no leaf. `line` is the 1-based line of the requested file
that constructed the module, null when a module of another file (torchvision's, say) built it.

`macs` are the multiply-accumulates of the last call by the static analysis' rules
(src/core/analysis/cost.ts), so that the two agree wherever the static shapes are right: bias left
out, a convolution counts output elements × in_channels/groups × kernel elements, a transposed
convolution input elements × out_channels/groups × kernel elements, a Linear output elements ×
in_features, a normalisation or PReLU one per output element, an Embedding 0; any other layer 0
when it holds no parameters of its own, else null (no rule: unknown). A module never called counts
0. The model's `output` and `outputs` follow the layers' rules; its `totalMacs` is the sum of its
layers', null when one of them is. A layer inside a TorchScript module, whose compiled calls no hook
can see, has `"unseen": true` and no shapes; the outermost TorchScript modules are watched from
their parents, so a scripted leaf has its shapes. A forward with required arguments after the input
(an RNN's `hidden`) is given None for them, and `givenNone` names them.

A model that could not be built or run has `error` (Python's words) and no layers; where the
model's code is not at fault, `cause` says what exact shapes lacks, with the requested file's line
it was lost on (null when another file's) and that line's code:

    {"kind": "refused", "what": "exact shapes does not let a model's code connect to …", "line": 9, "code": "…"}
    {"kind": "missing-file", "what": "data/text8", "line": 12, "code": "with open('data/text8') as f:"}
    {"kind": "missing-package", "what": "cv2", "line": 3, "code": "import cv2"}
    {"kind": "memory", "what": "exact shapes stopped while building Huge: the helper held 12.1 GB, …", "line": null, "code": ""}

The helper watches its memory (half of the machine's, or CNN_LAB_HELPER_MEMORY_MB): past it, the
request's models fail with the "memory" cause and the helper exits, the next request starting afresh.

When loading what all the models need fails, each model is loaded on its own, so that what one
model needs fails that model only.
"""
import ast
import contextlib
import io
import json
import linecache
import math
import os
import sys
import threading
import traceback

from cnn_lab_engine import guard
from cnn_lab_engine import user_model

PROTOCOL = 2
_NOT_CALLED = {"calls": 0, "macs": 0, "in": None, "out": None, "outputs": None}


def describe(model, input_shape, lines=None):
    """Output shape, parameter and MAC counts, and every leaf module's numbers for one input.

    `lines` maps id(module) to the line that constructed it, as _recording_lines records it."""
    import torch
    from torch import nn

    leaves = [(name, module) for name, module in model.named_modules() if not list(module.children())]
    # keyed by id(): a user's module may define __eq__ and lose its hash; a tensor's == is elementwise
    seen = {}  # id(module) → what its calls gave, in the order of first call
    hooks = []

    def record(module, inputs, output):
        calls = seen.setdefault(id(module), {"calls": 0})
        calls["calls"] += 1
        calls["in"] = _shape(_first_tensor(inputs))
        calls["out"] = _shape(_first_tensor(output))
        calls["outputs"] = None if torch.is_tensor(output) else _shapes(output)
        calls["macs"] = _macs(module, _first_tensor(inputs), _first_tensor(output))

    scripted = _torchscript_modules(model)
    for _, module in leaves:
        if id(module) not in scripted:
            hooks.append(module.register_forward_hook(record))
    stand_ins = _observe_torchscript(model, record)
    model.eval()
    # token models take integer indices
    dtype = torch.long if any(isinstance(m, nn.Embedding) for m in model.modules()) else torch.float32
    given_none = _required_after_input(model)
    try:
        with torch.no_grad():
            output = model(torch.zeros(*input_shape, dtype=dtype), *[None] * len(given_none))
    finally:
        for hook in hooks:
            hook.remove()
        for parent, name, original in stand_ins:
            parent._modules[name] = original

    params = {}  # id(module) → its parameters that no module before it holds
    counted = set()
    for module in model.modules():
        for parameter in module.parameters(recurse=False):
            if id(parameter) not in counted:
                counted.add(id(parameter))
                params[id(module)] = params.get(id(module), 0) + parameter.numel()

    order = {key: index for index, key in enumerate(seen)}
    layers = []
    for name, module in sorted(leaves, key=lambda leaf: order.get(id(leaf[1]), len(order))):
        calls = seen.get(id(module), _NOT_CALLED)
        kind = getattr(module, "original_name", None) if id(module) in scripted else None  # a scripted Conv2d is a RecursiveScriptModule
        layer = {"name": name, "type": kind or type(module).__name__, "calls": calls["calls"], "in": calls["in"], "out": calls["out"]}
        if calls["outputs"] is not None:
            layer["outputs"] = calls["outputs"]
        unseen = id(module) in scripted and id(module) not in seen
        layer.update(params=params.get(id(module), 0), macs=None if unseen else calls["macs"], line=(lines or {}).get(id(module)))
        if unseen:
            layer["unseen"] = True
        layers.append(layer)
    described = {
        "input": list(input_shape),
        "output": _shape(_first_tensor(output)),
        "totalParams": sum(p.numel() for p in model.parameters()),
        "trainableParams": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "totalMacs": None if any(layer["macs"] is None for layer in layers) else sum(layer["macs"] for layer in layers),
        "layers": layers,
    }
    if given_none:
        described["givenNone"] = given_none
    # A forward that returns something other than tensors (None, a number) has no `outputs`, as a layer's would not.
    if not torch.is_tensor(output) and _shapes(output) is not None:
        described["outputs"] = _shapes(output)
    return described


def _torchscript_modules(model):
    """id() of every module inside a TorchScript module (a torch.jit.ScriptModule subclass or a scripted
    layer), itself included: forward hooks cannot be registered on them, nor see their compiled calls."""
    import torch

    inside = set()
    for module in model.modules():
        if isinstance(module, torch.jit.ScriptModule):
            inside.update(id(m) for m in module.modules())
    return inside


def _observe_torchscript(model, record):
    """Puts a stand-in in place of each outermost TorchScript module of `model` that records what the
    module takes and gives; returns (parent, name, module) for putting them back."""
    import torch
    from torch import nn

    class Seen(nn.Module):
        def __init__(self, inner):
            super().__init__()
            object.__setattr__(self, "inner", inner)  # not a submodule: named_modules() stays the model's

        def forward(self, *args, **kwargs):
            output = self.inner(*args, **kwargs)
            record(self.inner, args, output)
            return output

    swapped = []
    for parent in list(model.modules()):
        if isinstance(parent, torch.jit.ScriptModule):
            continue
        for name, child in list(parent._modules.items()):
            if isinstance(child, torch.jit.ScriptModule):
                swapped.append((parent, name, child))
                parent._modules[name] = Seen(child)
    return swapped


def _required_after_input(model):
    """forward's required positional parameters after the input, such as an RNN's `hidden`: given None,
    which PyTorch's recurrent layers read as zeros (a forward that cannot take None says so in its error)."""
    import inspect

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return []
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [p.name for p in positional[1:] if p.default is p.empty]


def _macs(module, first_input, first_output):
    from torch import nn

    # _ConvNd (Conv and ConvTranspose 1d-3d) and _NormBase (BatchNorm, SyncBatchNorm, InstanceNorm)
    # are private but present from torch 1.x to 2.x; RMSNorm came in 2.4.
    norms = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.PReLU, *([nn.RMSNorm] if hasattr(nn, "RMSNorm") else []))
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = math.prod(module.kernel_size)
        if module.transposed:
            return None if first_input is None else first_input.numel() * module.out_channels // module.groups * kernel
        return None if first_output is None else first_output.numel() * module.in_channels // module.groups * kernel
    if isinstance(module, nn.Linear):
        return None if first_output is None else first_output.numel() * module.in_features
    if isinstance(module, norms):
        return None if first_output is None else first_output.numel()
    if isinstance(module, nn.Embedding) or not any(True for _ in module.parameters(recurse=False)):
        return 0
    return None


def _tensors(value):
    """The tensors in a layer's arguments or output, depth first."""
    import torch

    if torch.is_tensor(value):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _first_tensor(value):
    return next(_tensors(value), None)


def _shape(tensor):
    return None if tensor is None else list(tensor.shape)


def _shapes(value):
    """A tuple, list or dict output as nested lists, each tensor as its shape, anything else None."""
    import torch

    if torch.is_tensor(value):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shapes(item) for item in value]
    if isinstance(value, dict):
        return [_shapes(item) for item in value.values()]
    return None


@contextlib.contextmanager
def _recording_lines(path):
    """Records, for each nn.Module constructed meanwhile, the line of `path` that constructed it.

    nn.Module.__init__ is wrapped for the duration (every module's constructor reaches it through
    super()), and put back even when the user's code raises."""
    from torch import nn

    wanted = os.path.normcase(os.path.abspath(path))
    lines = {}
    alive = []  # keeps every recorded module alive, so that no id() is reused while lines holds it
    original = nn.Module.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if id(self) not in lines:
            alive.append(self)
            lines[id(self)] = _constructing_line(self, sys._getframe(1), wanted)

    nn.Module.__init__ = __init__
    try:
        yield lines
    finally:
        nn.Module.__init__ = original


def _constructing_line(module, frame, wanted):
    from torch import nn

    while frame is not None:
        owner = frame.f_locals.get("self")
        if owner is not module:  # past the module's own constructors
            if os.path.normcase(os.path.abspath(frame.f_code.co_filename)) == wanted:
                return frame.f_lineno
            if isinstance(owner, nn.Module):
                return None  # built by another file's module (torchvision's ResNet, say)
        frame = frame.f_back
    return None


def _load(path, builds):
    """The file's module with only what the requested builds need run (user_model.py)."""
    wanted = set()
    for build in builds:
        with contextlib.suppress(SyntaxError):  # a bad build fails its own model, below
            wanted |= {n.id for n in ast.walk(ast.parse(build, mode="eval")) if isinstance(n, ast.Name)}
    loaded = user_model.load(path, wanted)
    sys.modules.pop(loaded.module.__name__, None)
    note = user_model.describe_left_out(path, loaded.left_out, loaded.places)
    if note:
        print(note, file=sys.stderr)
    return loaded


def _error_text(error):
    return f"{type(error).__name__}: {error}"


def _check_request(request):
    """The request as the extension declares it (src/core/protocol/shapes.ts), or ValueError."""
    def fail(problem):
        raise ValueError(f"bad shapes request: {problem}")

    if not isinstance(request.get("id"), int) or not isinstance(request.get("file"), str) or not isinstance(request.get("models"), list):
        fail("needs an integer id, a file and a list of models")
    for wanted in request["models"]:
        if not isinstance(wanted, dict) or not isinstance(wanted.get("name"), str) or not isinstance(wanted.get("build"), str):
            fail("each model needs a name and a build expression")
        if not isinstance(wanted.get("input"), list) or not all(isinstance(d, int) and d >= 0 for d in wanted["input"]):
            fail(f"{wanted['name']}: input must be a list of sizes")


# The request and model being built, for the memory guard's last answer.
_building = {"request": None, "model": None}


def shapes(request):
    _check_request(request)
    _building["request"] = request
    try:
        return _build_all(request)
    finally:
        _building.update(request=None, model=None)


def _build_all(request):
    from torch import nn

    path = request["file"]
    # Relative paths (`data/anna.txt`) are read from the file's folder, as `python model.py` run there reads them.
    os.chdir(os.path.dirname(os.path.abspath(path)))
    models = []
    with _recording_lines(path) as lines:
        try:
            groups = [(request["models"], _load(path, [m["build"] for m in request["models"]]))]  # module-level instances are built here
        except BaseException:  # the user's file may raise anything, SystemExit included
            # What one model needs (a data file, a package, a download) fails that model, not the others: each is loaded on its own.
            groups = []
            for wanted in request["models"]:
                try:
                    groups.append(([wanted], _load(path, [wanted["build"]])))
                except BaseException as error:
                    models.append(_failure(wanted, error, path))
        for wanted_models, loaded in groups:
            namespace = vars(loaded.module)
            # What of the file's top level was not run, said on each model (the lens says it).
            left_out = {"leftOut": [{"line": line, "text": text[:200]} for line, text in loaded.left_out[:100]]} if loaded.left_out else {}
            for wanted in wanted_models:
                _building["model"] = wanted["name"]
                try:
                    # an expression only: eval() of compile(..., "eval") cannot run a statement
                    build = compile(wanted["build"], "<cnn-lab build>", "eval")
                    with contextlib.redirect_stdout(io.StringIO()):
                        model = eval(build, namespace)
                        if not isinstance(model, nn.Module):
                            raise TypeError(f"{wanted['build']} gives a {type(model).__name__}, not an nn.Module")
                        models.append({"name": wanted["name"], "error": None, **describe(model, wanted["input"], lines), **left_out})
                except BaseException as error:
                    models.append(_failure(wanted, error, path))
    return {"type": "shapes", "id": request["id"], "models": models}


def _failure(wanted, error, path):
    """A model that could not be built or run: Python's words, and, where the model is not at fault, why (`cause`)."""
    failed = {"name": wanted["name"], "error": _error_text(error)}
    cause = _cause(error, path)
    return {**failed, "cause": cause} if cause else failed


def _cause(error, path):
    """What exact shapes needs and does not have: an effect the guard refused, or a file or package
    the model's code reads that is not here. None for an error of the model itself."""
    line = _user_line(error, path)
    linecache.checkcache(path)  # the file as saved now, not as an earlier request read it
    where = {"line": line, "code": linecache.getline(path, line).strip()[:200] if line else ""}
    if isinstance(error, guard.Refused):
        return {"kind": "refused", "what": str(error)[:1000], **where}
    if isinstance(error, ModuleNotFoundError) and error.name:
        return {"kind": "missing-package", "what": error.name.split(".")[0][:200], **where}
    if isinstance(error, FileNotFoundError) and error.filename:
        return {"kind": "missing-file", "what": str(error.filename)[:1000], **where}
    return None


def _user_line(error, path):
    """The 1-based line of the requested file the error came through, innermost; None when it did not."""
    wanted = os.path.normcase(os.path.abspath(path))
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if os.path.normcase(os.path.abspath(frame.f_code.co_filename)) == wanted:
            found = line
    return found


def main():
    out = sys.stdout
    writing = threading.Lock()  # the memory guard's thread may answer too

    def send(message):
        with writing:
            out.write(json.dumps(message) + "\n")
            out.flush()

    import torch

    send({"type": "hello", "protocol": PROTOCOL, "torch": torch.__version__})
    guard.install("exact shapes", lambda line: print(line, file=sys.stderr, flush=True))

    def too_big(resident, limit):
        # The request's models fail with the reason, then the helper ends: the next request gets a fresh one.
        request, model = _building["request"], _building["model"]
        what = f"exact shapes stopped while building {model or 'the models'}: the helper held {resident / 2**30:.1f} GB, past its limit of {limit / 2**30:.1f} GB"
        print(what, file=sys.stderr, flush=True)
        if request is not None:
            cause = {"kind": "memory", "what": what, "line": None, "code": ""}
            send({"type": "shapes", "id": request["id"], "models": [{"name": m["name"], "error": f"MemoryError: {what}", "cause": cause} for m in request["models"]]})
        os._exit(3)

    guard.watch_memory(guard.memory_limit(), too_big)
    for line in sys.stdin:
        request = None
        try:
            request = json.loads(line)
            if request.get("type") != "shapes":
                raise ValueError(f"unknown request type {request.get('type')!r}")
            send(shapes(request))
        except Exception as error:
            # the id, when there is one, fails that request at once rather than at its timeout
            request_id = request.get("id") if isinstance(request, dict) and isinstance(request.get("id"), int) else None
            send({"type": "error", "id": request_id, "message": _error_text(error)})


if __name__ == "__main__":
    main()
