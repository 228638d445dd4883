"""CNN Lab's exact shapes: PyTorch itself builds the user's models and runs a zero tensor through
them with forward hooks, as torchinfo does.

A long-lived helper: one JSON request per line on stdin, one JSON reply per line on stdout,
stderr is a log. It exits when stdin closes. It imports the user's file, so the extension starts
it only in a trusted workspace.

    {"type": "shapes", "id": 1, "file": "/path/model.py", "models": [{"name": "Net", "input": [1, 3, 32, 32]}]}
"""
import contextlib
import importlib.util
import io
import itertools
import json
import os
import sys
import traceback

PROTOCOL = 1
_serial = itertools.count()


def describe(model, input_shape):
    """Output shape, parameter counts and each leaf module's last output shape for one input."""
    import torch
    from torch import nn

    shapes = {}
    hooks = []
    for name, module in model.named_modules():
        if name and not list(module.children()):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, _shape(o))))
    model.eval()
    # token models take integer indices
    dtype = torch.long if any(isinstance(m, nn.Embedding) for m in model.modules()) else torch.float32
    try:
        with torch.no_grad():
            output = model(torch.zeros(*input_shape, dtype=dtype))
    finally:
        for hook in hooks:
            hook.remove()
    return {
        "input": list(input_shape),
        "output": _shape(output),
        "totalParams": sum(p.numel() for p in model.parameters()),
        "trainableParams": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "layers": [
            {"name": name, "type": type(module).__name__, "out": shapes.get(name), "params": sum(p.numel() for p in module.parameters(recurse=False))}
            for name, module in model.named_modules()
            if name and not list(module.children())
        ],
    }


def _shape(value):
    return list(value.shape) if hasattr(value, "shape") else None


def _load(path):
    name = f"cnnlab_user_model_{next(_serial)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the model's own imports of its neighbours
    sys.modules[name] = module
    try:
        # The user's prints must not reach stdout, which carries the protocol.
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _error_text(error):
    return f"{type(error).__name__}: {error}"


def shapes(request):
    try:
        module = _load(request["file"])
    except BaseException as error:  # the user's file may raise anything, SystemExit included
        return {"type": "shapes", "id": request["id"], "error": _error_text(error), "detail": traceback.format_exc(limit=5), "models": []}
    models = []
    for wanted in request["models"]:
        try:
            cls = getattr(module, wanted["name"])
            with contextlib.redirect_stdout(io.StringIO()):
                models.append({"name": wanted["name"], "error": None, **describe(cls(), wanted["input"])})
        except BaseException as error:
            models.append({"name": wanted["name"], "error": _error_text(error)})
    return {"type": "shapes", "id": request["id"], "error": None, "models": models}


def main():
    out = sys.stdout

    def send(message):
        out.write(json.dumps(message) + "\n")
        out.flush()

    import torch

    send({"type": "hello", "protocol": PROTOCOL, "torch": torch.__version__})
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request.get("type") != "shapes":
                raise ValueError(f"unknown request type {request.get('type')!r}")
            send(shapes(request))
        except Exception as error:
            send({"type": "error", "id": None, "message": _error_text(error)})


if __name__ == "__main__":
    main()
