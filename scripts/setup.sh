#!/usr/bin/env bash
# Everything outside node_modules that CNN Lab's tests and `npm start` need, installed once:
#   python3-torch python3-torchvision  PyTorch for /usr/bin/python3 (the trainer, the probe, the snippet tests)
#   libopenblas0-pthread               the BLAS Debian's torch uses: without it, the reference BLAS makes
#                                      matrix products ~37x slower (3.5 against 128 GFLOP/s measured here)
#   dataset-fashion-mnist              Fashion-MNIST's original files, in /usr/share/datasets/fashion-mnist
#   python3-debugpy                    Python's debug adapter, which the in-host tests debug a model with
#   the real VS Code host              see scripts/setup-host.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/apt-ensure.sh" python3-torch python3-torchvision libopenblas0-pthread dataset-fashion-mnist python3-debugpy
bash "$root/scripts/setup-host.sh"
