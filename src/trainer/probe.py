"""Reports the Python environment CNN Lab would train with, as one JSON line on stdout.

Runs with only the standard library; torch, torchvision and numpy are reported when importable.
"""
import json
import platform
import sys


def main():
    info = {
        "executable": sys.executable,
        "python": platform.python_version(),
        "torch": None,
        "torchError": None,
        "torchvision": None,
        "numpy": None,
    }
    try:
        import torch
    except Exception as error:  # a broken install raises more than ImportError
        info["torchError"] = f"{type(error).__name__}: {error}"
    else:
        cuda = torch.cuda.is_available()
        mps = getattr(torch.backends, "mps", None)
        info["torch"] = {
            "version": torch.__version__,
            "cudaVersion": torch.version.cuda,
            "cudaDevices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
            "mps": bool(mps is not None and mps.is_available()),
            "threads": torch.get_num_threads(),
        }
    for name in ("torchvision", "numpy"):
        try:
            info[name] = __import__(name).__version__
        except Exception:
            pass
    print(json.dumps(info))


if __name__ == "__main__":
    main()
