"""Writes torchvision's cifar-10-batches-py/ (pickles) from CIFAR's binary batches, for the course's loop.

    python3 cifar_bin_to_py.py BIN_DIR OUT_ROOT
"""
import os
import pickle
import sys

import numpy as np

bin_dir, out_root = sys.argv[1], sys.argv[2]
out = os.path.join(out_root, "cifar-10-batches-py")
os.makedirs(out, exist_ok=True)
for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
    target = os.path.join(out, name)
    if os.path.exists(target):
        continue
    records = np.fromfile(os.path.join(bin_dir, name + ".bin"), dtype=np.uint8).reshape(-1, 3073)
    with open(target + ".partial", "wb") as f:
        pickle.dump({"labels": records[:, 0].tolist(), "data": records[:, 1:].copy()}, f)
    os.replace(target + ".partial", target)
classes = [line.strip() for line in open(os.path.join(bin_dir, "batches.meta.txt")) if line.strip()]
with open(os.path.join(out, "batches.meta"), "wb") as f:
    pickle.dump({"label_names": classes}, f)
