"""A small CNN for CIFAR-10: 32x32 colour images, 10 classes."""
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)   # 3x32x32 -> 16x32x32, pooled to 16x16x16
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)  # -> 32x16x16, pooled to 32x8x8
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)  # -> 64x8x8, pooled to 64x4x4
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(64 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = x.view(-1, 64 * 4 * 4)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(self.dropout(x))
