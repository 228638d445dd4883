"""The course's training loops, as the course writes them, for `npm run bench:train`.

    python3 course_loop.py mnist|cifar10 DATA_ROOT MODEL_FILE THREADS

THREADS 0 leaves PyTorch's own count, as the course's code does. On a machine with a CUDA GPU the
model and each batch go there, as the course's `train_on_gpu` does.

DATA_ROOT holds MNIST/raw/ (the original files) or cifar-10-batches-py/ (torchvision's layouts).
Trains one epoch on 80 % of the training set, batch 20, SGD 0.01, with the course's transforms
(MNIST: ToTensor; CIFAR-10: random flips, rotations within 10°, ToTensor, Normalize 0.5) and prints
one JSON line: the training images per second.
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

dataset, root, model_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if threads:
    torch.set_num_threads(threads)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(1)
np.random.seed(1)

spec = importlib.util.spec_from_file_location("model", model_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

if dataset == "mnist":
    train_data = datasets.MNIST(root=root, train=True, download=False, transform=transforms.ToTensor())
else:
    # The benchmark's CIFAR-shaped stand-in has its own checksums; reading and transforms stay torchvision's.
    datasets.cifar.check_integrity = lambda path, md5=None: True
    transform = transforms.Compose([
        transforms.RandomHorizontalFlip(),
        transforms.RandomRotation(10),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ])
    train_data = datasets.CIFAR10(root=root, train=True, download=False, transform=transform)
num_train = len(train_data)
indices = list(range(num_train))
np.random.shuffle(indices)
split = int(np.floor(0.2 * num_train))
train_idx = indices[split:]
train_loader = torch.utils.data.DataLoader(train_data, batch_size=20, sampler=SubsetRandomSampler(train_idx), num_workers=0)

model = module.Net().to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

model.train()
train_loss = 0.0
start = time.time()
for data, target in train_loader:
    data, target = data.to(device), target.to(device)
    optimizer.zero_grad()
    output = model(data)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    train_loss += loss.item() * data.size(0)
if device.type == "cuda":
    torch.cuda.synchronize()
elapsed = time.time() - start
print(json.dumps({"imagesPerSecond": len(train_idx) / elapsed, "seconds": elapsed, "trainLoss": train_loss / len(train_idx)}))
