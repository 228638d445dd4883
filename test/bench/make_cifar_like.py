"""Random images in both of CIFAR-10's formats, for `npm run bench:train` where CIFAR-10 itself is absent:
the binary version (cifar-10-batches-bin, what CNN Lab reads) and the Python version
(cifar-10-batches-py, what torchvision's CIFAR10 reads), the same pixels in both. Speed does not
depend on what the pixels show.

    python3 make_cifar_like.py ROOT TRAIN_COUNT TEST_COUNT
"""
import os
import pickle
import sys

import numpy as np

root, train_count, test_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
generator = np.random.default_rng(1)
binary, python = os.path.join(root, "cifar-10-batches-bin"), os.path.join(root, "cifar-10-batches-py")
os.makedirs(binary, exist_ok=True)
os.makedirs(python, exist_ok=True)
batches = [(f"data_batch_{i}", train_count // 5) for i in range(1, 6)] + [("test_batch", test_count)]
for name, count in batches:
    pixels = generator.integers(0, 256, (count, 3072), dtype=np.uint8)
    labels = generator.integers(0, 10, count, dtype=np.uint8)
    with open(os.path.join(binary, name + ".bin"), "wb") as handle:
        handle.write(np.concatenate([labels[:, None], pixels], axis=1).tobytes())
    with open(os.path.join(python, name), "wb") as handle:
        pickle.dump({"data": pixels, "labels": labels.tolist()}, handle)
with open(os.path.join(python, "batches.meta"), "wb") as handle:
    pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}, handle)
