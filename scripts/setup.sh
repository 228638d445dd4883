#!/usr/bin/env bash
# Everything outside node_modules that CNN Lab's tests and `npm start` need, installed once:
#   python3-torch python3-torchvision  PyTorch for /usr/bin/python3 (the trainer, the probe, the snippet tests)
#   dataset-fashion-mnist              Fashion-MNIST's original files, in /usr/share/datasets/fashion-mnist
#   the real VS Code host              see scripts/setup-host.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/apt-ensure.sh" python3-torch python3-torchvision dataset-fashion-mnist
bash "$root/scripts/setup-host.sh"
