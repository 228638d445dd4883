"""The course's MNIST training loop, as the course writes it, for `npm run bench:train`.

    python3 course_loop.py DATA_ROOT MODEL_FILE THREADS

DATA_ROOT holds MNIST/raw/ with the original files (torchvision's layout). Prints one JSON line:
the training images per second over one epoch (80 % of the training set, batch 20, SGD 0.01).
"""
import importlib.util
import json
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data.sampler import SubsetRandomSampler
from torchvision import datasets, transforms

root, model_file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
np.random.seed(1)

spec = importlib.util.spec_from_file_location("model", model_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

transform = transforms.ToTensor()
train_data = datasets.MNIST(root=root, train=True, download=False, transform=transform)
num_train = len(train_data)
indices = list(range(num_train))
np.random.shuffle(indices)
split = int(np.floor(0.2 * num_train))
train_idx = indices[split:]
train_loader = torch.utils.data.DataLoader(train_data, batch_size=20, sampler=SubsetRandomSampler(train_idx), num_workers=0)

model = module.Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

model.train()
train_loss = 0.0
start = time.time()
for data, target in train_loader:
    optimizer.zero_grad()
    output = model(data)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    train_loss += loss.item() * data.size(0)
elapsed = time.time() - start
print(json.dumps({"imagesPerSecond": len(train_idx) / elapsed, "seconds": elapsed, "trainLoss": train_loss / len(train_idx)}))
