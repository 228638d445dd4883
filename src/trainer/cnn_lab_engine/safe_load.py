"""torch.load that unpickles only what a checkpoint of weights holds, on every torch from 1.13 on.

A .pt file is a pickle, and a pickle may name any global to call while it loads (`os.system`, a
class's `__reduce__`): `torch.load` before 2.6 runs them all, and 1.13's `weights_only=True` refuses
even a float (an optimizer's learning rate). Here the pickle may name only tensors' and storages'
rebuilders, dtypes, `torch.Size`, `OrderedDict` and the plain types; before anything is loaded the
whole pickle is read without running it, and a file that names anything else is refused with
every global it names, so that nothing of it ever runs.
"""

import io
import os
import pickle
import pickletools
import tarfile
import zipfile

import torch

_REBUILDERS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch", "Tensor"),
    ("torch.nn.parameter", "Parameter"),
    ("torch", "Size"),
    ("torch", "device"),
    ("torch.storage", "UntypedStorage"),
    ("torch.storage", "TypedStorage"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("__builtin__", "set"),
    ("__builtin__", "frozenset"),
}


class UnsafeCheckpoint(Exception):
    """A checkpoint whose pickle names globals that could run code; `names` lists them, in order."""

    def __init__(self, path, names):
        self.names = names
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        super().__init__(
            f"{os.path.basename(path)} was not loaded: its pickle asks to import {shown}, which could run code when it loads. "
            "A checkpoint of weights needs none of these: save the model's state_dict() (torch.save(model.state_dict(), path)) and open that."
        )


def allowed(module, name):
    if (module, name) in _REBUILDERS:
        return True
    # Storages (torch.FloatStorage …) and dtypes (torch.float32 …), as torch.save writes them.
    return module == "torch" and (name.endswith("Storage") or isinstance(getattr(torch, name, None), torch.dtype))


def _pickles(path):
    """The pickle streams of a checkpoint: data.pkl in a zip (torch ≥ 1.6), else the legacy file's five pickles."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name) for name in archive.namelist() if name.endswith("data.pkl")]
    if tarfile.is_tarfile(path):
        raise UnsafeCheckpoint(path, ["a tar archive (torch < 0.4)"])
    with open(path, "rb") as handle:
        data = handle.read()
    streams, stream = [], io.BytesIO(data)
    # magic number, protocol, system info, then the object: each a pickle; raw storage bytes follow.
    for _ in range(4):
        start = stream.tell()
        if start >= len(data):
            break
        for _ in pickletools.genops(stream):
            pass
        streams.append(data[start:stream.tell()])
    return streams


def globals_named(stream):
    """Every `module.name` a pickle stream would import, read from its opcodes, nothing run."""
    names, strings, memo, last = [], [], {}, None
    for opcode, argument, _ in pickletools.genops(stream):
        if opcode.name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            memo[len(memo) if opcode.name == "MEMOIZE" else argument] = last
            continue
        last = None
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"):
            last = argument
        elif opcode.name in ("GET", "BINGET", "LONG_BINGET"):
            last = memo.get(argument)
        elif opcode.name in ("GLOBAL", "INST"):
            names.append(tuple(argument.split(" ", 1)))
        elif opcode.name == "STACK_GLOBAL":
            names.append((strings[-2] if len(strings) > 1 else "?", strings[-1] if strings else "?"))
        if last is not None:
            strings.append(last)
    return names


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if not allowed(module, name):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a checkpoint")
        return super().find_class(module, name)


class _SafePickle:
    """The pickle module torch.load is handed: its Unpickler refuses every other global."""

    Unpickler = _Unpickler
    UnpicklingError = pickle.UnpicklingError
    __name__ = "cnn_lab_safe_pickle"

    @staticmethod
    def load(file, **kwargs):
        return _Unpickler(file, **kwargs).load()


def safe_load(path, map_location="cpu"):
    """torch.load of `path`, refused with UnsafeCheckpoint when its pickle names anything but weights."""
    refused = []
    for stream in _pickles(path):
        for module, name in globals_named(io.BytesIO(stream)):
            label = f"{module}.{name}"
            if not allowed(module, name) and label not in refused:
                refused.append(label)
    if refused:
        raise UnsafeCheckpoint(path, refused)
    # weights_only=False: the unpickler here is the guard (torch refuses a pickle_module with weights_only).
    # What the reading above could not see (a crafted stream) is still refused by find_class, before it is called.
    try:
        return torch.load(path, map_location=map_location, pickle_module=_SafePickle, weights_only=False)
    except pickle.UnpicklingError as error:
        if "is not allowed in a checkpoint" not in str(error):
            raise
        raise UnsafeCheckpoint(path, [str(error).split(" ", 1)[0]]) from error
