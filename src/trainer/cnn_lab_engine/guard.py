"""What a model's own code may not do in CNN Lab's helpers (exact shapes, feature maps).

The loader (user_model.py) runs only what builds the model, but that code is the user's, and a
constructor may reach out: torchvision's `vgg16(pretrained=True)` downloads 528 MB. Inside a helper,
installed once before any user code runs:
- pretrained weights are not downloaded: torch.hub's loaders hand back no weights, and the model
  keeps its random initialization, which has the same shapes;
- the network is refused (sockets cannot connect or resolve), so no dataset or weights arrive;
- no process is started (subprocess, os.system), and no file is written outside the temporary folder;
- memory is watched (watch_memory): a model past the helper's limit stops the helper, which says so.
A refusal raises Refused, naming what was asked and the user's line that asked it.
"""

import builtins
import io
import linecache
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

_installed = []


class Refused(Exception):
    """An effect the helper does not allow, with the place in the user's code that asked for it."""


class NoWeights(dict):
    """What a weights download gives inside a helper: nothing; load_state_dict keeps the initialization."""

    def __init__(self, url):
        super().__init__()
        self.url = url


def _user_place():
    """`model.py line 12`: the innermost frame outside Python's and the packages' own files, and outside CNN Lab's."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the trainer folder: its programs and this package
    frame = sys._getframe(2)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(here) and "-packages" not in path and not path.startswith(os.path.dirname(os.__file__)):
            # A notebook's module is CNN Lab's: its cell and line are what the user knows.
            from .user_model import notebook_places

            places = notebook_places("".join(linecache.getlines(path))) or {}
            return f" ({places.get(frame.f_lineno) or f'{os.path.basename(path)} line {frame.f_lineno}'})"
        frame = frame.f_back
    return ""


def install(helper, log):
    """Puts the guard in place for this process; `helper` names it in messages ("exact shapes"), `log` takes a line."""
    if _installed:
        return
    _installed.append(helper)
    import torch
    import torch.hub
    import torch.utils.model_zoo
    from torch import nn

    def refuse(what):
        raise Refused(f"{helper} does not let a model's code {what}{_user_place()}: it runs only to build the model")

    def no_download(url, *args, **kwargs):
        log(f"{helper}: pretrained weights not downloaded ({url}): the model keeps its random initialization, whose shapes are the same")
        return NoWeights(url)

    torch.hub.load_state_dict_from_url = no_download
    torch.utils.model_zoo.load_url = no_download
    torch.hub.download_url_to_file = lambda url, *a, **k: refuse(f"download {url}")
    original_load = nn.Module.load_state_dict

    def load_state_dict(self, state_dict, *args, **kwargs):
        if isinstance(state_dict, NoWeights):
            return original_load(self, self.state_dict(), *args, **kwargs)
        return original_load(self, state_dict, *args, **kwargs)

    nn.Module.load_state_dict = load_state_dict

    def connect(self, address, *args):
        refuse(f"connect to {address[0] if isinstance(address, tuple) else address}")

    socket.socket.connect = connect
    socket.socket.connect_ex = connect
    socket.create_connection = lambda address, *a, **k: refuse(f"connect to {address[0]}")
    socket.getaddrinfo = lambda host, *a, **k: refuse(f"look up {host}")

    def start_process(*args, **kwargs):
        refuse("start a process")

    subprocess.Popen.__init__ = start_process
    os.system = lambda command: refuse("start a process")
    os.popen = lambda *a, **k: refuse("start a process")
    for name in ("execv", "execve", "execvp", "execvpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "fork", "forkpty"):
        if hasattr(os, name):
            setattr(os, name, lambda *a, **k: refuse("start a process"))

    temporary = os.path.realpath(tempfile.gettempdir())
    original_open = builtins.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            path = os.path.realpath(os.fsdecode(file))
            if not path.startswith(temporary + os.sep):
                refuse(f"write {os.path.basename(path)}")
        return original_open(file, mode, *args, **kwargs)

    builtins.open = guarded_open
    io.open = guarded_open  # the same function under its other name


def memory_limit():
    """Bytes a helper may hold: CNN_LAB_HELPER_MEMORY_MB when set, else half of this machine's memory."""
    given = os.environ.get("CNN_LAB_HELPER_MEMORY_MB", "")
    if given.isdigit():
        return int(given) * 2**20
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def watch_memory(limit, exceeded, interval=0.05):
    """From a thread, calls `exceeded(resident, limit)` once this process holds more than `limit`
    bytes; `exceeded` must end the process, as what allocates (torch, in C++) cannot be interrupted.
    Returns False where the resident size cannot be read (no /proc/self/statm: not Linux)."""
    statm = "/proc/self/statm"
    if not os.path.exists(statm):
        return False
    page = os.sysconf("SC_PAGE_SIZE")

    def watch():
        while True:
            with open(statm, encoding="ascii") as handle:
                resident = int(handle.read().split()[1]) * page
            if resident > limit:
                exceeded(resident, limit)
                return
            time.sleep(interval)

    threading.Thread(target=watch, name="cnn-lab memory guard", daemon=True).start()
    return True

