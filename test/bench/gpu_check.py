"""The GPU check: time to the course's accuracy, with Python and PyTorch alone (no Node.js).

    python3 test/bench/gpu_check.py [PREPARED] [--epochs-cap N] [--course-epochs N] [--out DIR]

PREPARED (default .cache/gpu-check) is written by `npm run bench:gpu-prepare` on a machine with
Node.js: runs/<name>/config.json for the presets fast and course (GPU settings) on the course's MLP
and CIFAR CNN, mnist/ (gzip-compressed originals) and cifar/ (CIFAR-10's binary batches, each
gzip-compressed). Each run is src/trainer/train.py RUN_DIR, as the extension starts it, timed from
the command to its last event; the course's own loop (test/bench/course_loop.py, batch 20, on the
GPU when there is one, as the course does) runs one epoch beside it. The table is printed and, with
--out, written there too.

--course-epochs N runs the course preset N epochs and extrapolates the rest (marked so);
--epochs-cap N caps every run (a dry run on a CPU).

With the device tool (at most 64 MiB carried a call, the repository's 4 MB included; a warm machine
keeps /tmp between calls), four calls, each copying what it carries into /tmp/gpu-check
(`mkdir -p /tmp/gpu-check/cifar && cp -r .cache/gpu-check/* /tmp/gpu-check/`):
  1. carry .cache/gpu-check/runs, .cache/gpu-check/mnist and .cache/gpu-check/cifar/data_batch_1.bin.gz;
  2. carry data_batch_2 and data_batch_3 (.bin.gz, under .cache/gpu-check/cifar/);
  3. carry data_batch_4 and data_batch_5;
  4. carry test_batch.bin.gz and batches.meta.txt, then run
     python3 test/bench/gpu_check.py /tmp/gpu-check --out $OUT
"""
import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "test", "bench")
WORKLOADS = [
    # name, dataset, the course's epochs, goals: (accuracy, seconds) on an H200-class GPU
    ("MLP on MNIST", "mlp", "mnist", 50, [(0.98, 5)]),
    ("CIFAR CNN on CIFAR-10", "cifar", "cifar10", 30, [(0.76, 10), (0.80, 15)]),
]
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
CIFAR_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]


def unpack(prepared, work):
    """The datasets as the engine and torchvision read them: MNIST as is (.gz) and under MNIST/raw,
    CIFAR-10's binary batches and torchvision's cifar-10-batches-py; None for CIFAR-10 when absent."""
    raw = os.path.join(work, "MNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for name in MNIST_FILES:
        with gzip.open(os.path.join(prepared, "mnist", name + ".gz")) as source, open(os.path.join(raw, name), "wb") as target:
            shutil.copyfileobj(source, target)
    cifar = os.path.join(work, "cifar-10-batches-bin")
    packed = os.path.join(prepared, "cifar")
    if not all(os.path.isfile(os.path.join(packed, name + ".gz")) for name in CIFAR_FILES):
        return None
    os.makedirs(cifar, exist_ok=True)
    for name in CIFAR_FILES:
        with gzip.open(os.path.join(packed, name + ".gz")) as source, open(os.path.join(cifar, name), "wb") as target:
            shutil.copyfileobj(source, target)
    shutil.copy(os.path.join(packed, "batches.meta.txt"), cifar)
    subprocess.run([sys.executable, os.path.join(BENCH, "cifar_bin_to_py.py"), cifar, work], check=True)
    return cifar


def train(prepared, work, name, data_dir, epochs_cap, epochs=None):
    """One run of the engine, as the extension starts it: wall seconds, test accuracy, start-up, epoch seconds."""
    config = json.load(open(os.path.join(prepared, "runs", name, "config.json")))
    config.update(modelFile=os.path.join(REPO, config["modelFile"]), dataDir=data_dir)
    if epochs is not None:
        config["epochs"] = epochs
    if epochs_cap:
        config["epochs"] = min(config["epochs"], epochs_cap)
    run_dir = os.path.join(work, "runs", name)
    os.makedirs(run_dir, exist_ok=True)
    json.dump(config, open(os.path.join(run_dir, "config.json"), "w"))
    started = time.time()
    # stdin stays open while it trains: the engine takes its closing as "stop".
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen([sys.executable, os.path.join(REPO, "src", "trainer", "train.py"), run_dir], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
        events = [json.loads(line) for line in process.stdout if line.startswith("{")]
        process.stdin.close()
        process.wait()
        seconds = time.time() - started
        stderr.seek(0)
        log = stderr.read()
    test = next((e for e in events if e["type"] == "test"), None)
    if test is None:
        raise SystemExit(f"{name} did not finish:\n{log[-3000:]}")
    start_up = next((e["seconds"] for e in events if e["type"] == "startUp"), float("nan"))
    tuned = next((e["chosen"] for e in events if e["type"] == "tuned"), "")
    return {"seconds": seconds, "accuracy": test["accuracy"], "startUp": start_up, "epochs": [e["seconds"] for e in events if e["type"] == "epoch"],
            "epochCount": config["epochs"], "tuned": tuned}


def course_loop(dataset, work, model):
    out = subprocess.run([sys.executable, os.path.join(BENCH, "course_loop.py"), dataset, work, os.path.join(REPO, model), "0"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prepared", nargs="?", default=os.path.join(REPO, ".cache", "gpu-check"))
    parser.add_argument("--epochs-cap", type=int, default=0)
    parser.add_argument("--course-epochs", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} threads)"
    lines = []

    def row(*cells):
        widths = [22, 34, 18, 8, 10, 14, 0]
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
        print(lines[-1], flush=True)

    work = tempfile.mkdtemp(prefix="cnnlab-gpu-check-")
    cifar = unpack(args.prepared, work)
    row("workload", "run", "test accuracy", "wall s", "start-up s", "course epochs", "goal")
    for title, prefix, dataset, course_epochs, goals in WORKLOADS:
        if dataset == "cifar10" and cifar is None:
            row(title, f"left out: {os.path.join(args.prepared, 'cifar')} lacks the batches")
            continue
        data_dir = os.path.join(work, "MNIST", "raw") if dataset == "mnist" else cifar
        model = json.load(open(os.path.join(args.prepared, "runs", f"{prefix}-fast", "config.json")))["modelFile"]
        epoch = course_loop(dataset, work, model)
        row(title, "course loop, 1 epoch", "", f"{epoch:.1f}", "", "1.00", "")
        fast = train(args.prepared, work, f"{prefix}-fast", data_dir, args.epochs_cap)
        met = [f"≥ {a:.0%} in ≤ {s} s: {'met' if fast['accuracy'] >= a and fast['seconds'] <= s else 'not met'}" for a, s in goals]
        row("", f"--preset fast, {fast['epochCount']} epochs", f"{fast['accuracy']:.2%}", f"{fast['seconds']:.1f}", f"{fast['startUp']:.1f}",
            f"{fast['seconds'] / epoch:.2f}", "; ".join(met))
        course = train(args.prepared, work, f"{prefix}-course", data_dir, args.epochs_cap, args.course_epochs or None)
        ran = course["epochCount"]
        whole = course["seconds"] + (course_epochs - ran) * (sum(course["epochs"]) / max(len(course["epochs"]), 1))
        row("", f"--preset course, {ran} of {course_epochs} epochs", f"{course['accuracy']:.2%}", f"{course['seconds']:.1f}", f"{course['startUp']:.1f}",
            f"{course['seconds'] / epoch:.2f}", f"all {course_epochs}: ~{whole:.0f} s (extrapolated)" if ran < course_epochs else "")
        if fast["tuned"]:
            lines.append(f"  (fast: {fast['tuned']}, measured in the first steps)")
            print(lines[-1])
    lines.append(f"\n{device}; Python {platform.python_version()}, torch {torch.__version__}")
    print(lines[-1])
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gpu-check.txt"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
