"""Reports the Python environment CNN Lab would train with, as one JSON line on stdout.

Runs with only the standard library; torch, torchvision and numpy are reported when importable.
With --quick, nothing is imported: torch's build and the GPUs are read from files (torch/version.py,
/proc/driver/nvidia), which takes milliseconds where importing torch takes a second or more before a
run that imports it again; a machine where that cannot be read is probed in full.
"""
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys


def quick_torch():
    """torch's version, CUDA build and GPUs without importing it; None where only an import can tell."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    build = {}
    with open(os.path.join(spec.submodule_search_locations[0], "version.py")) as handle:
        exec(compile(handle.read(), "torch/version.py", "exec"), build)  # plain assignments, written by torch's build
    mps = sys.platform == "darwin" and platform.machine() == "arm64"
    gpus = []
    if build.get("cuda"):
        if sys.platform != "linux":
            return None
        folder = "/proc/driver/nvidia/gpus"
        for bus in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, bus, "information")) as handle:
                model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("Model:")), "NVIDIA GPU")
            gpus.append(model)
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is not None:
            gpus = gpus[: len([d for d in visible.split(",") if d.strip() and not d.strip().startswith("-")])]
    return {"version": build["__version__"], "cudaVersion": build.get("cuda"), "cudaDevices": gpus, "mps": mps, "threads": os.cpu_count() or 1}


# Packages whose model factories the shape analysis reads (as source, never run): torchvision's vgg16(), timm's.
MODEL_PACKAGES = ("torchvision", "timm")


def model_packages():
    """Each model package's folder, found without importing it; None where it is not installed."""
    found = {}
    for name in MODEL_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        found[name] = locations[0] if locations else None
    return found


def main():
    if "--quick" in sys.argv[1:]:
        try:
            torch = quick_torch()
        except Exception:  # anything unexpected in those files: ask torch itself
            torch = None
        if torch is not None:
            info = {"executable": sys.executable, "python": platform.python_version(), "torch": torch, "torchError": None, "modelPackages": model_packages()}
            for name in ("torchvision", "numpy"):
                try:
                    info[name] = importlib.metadata.version(name)
                except importlib.metadata.PackageNotFoundError:
                    info[name] = None
            print(json.dumps(info))
            return
    info = {
        "executable": sys.executable,
        "python": platform.python_version(),
        "torch": None,
        "torchError": None,
        "torchvision": None,
        "numpy": None,
        "modelPackages": model_packages(),
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
