"""The course's four hand-made edge filters as a frozen conv layer, then a classifier on top.

Training it on MNIST learns only the last layer: the filters stay the course's, so the layer
inspector shows exactly what each one finds in a digit (vertical and horizontal edges, both ways).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# The course's 4x4 vertical edge filter: dark on the left, bright on the right.
EDGE = torch.tensor([[-1.0, -1.0, 1.0, 1.0]] * 4)


# cnnlab: input 1x28x28
class FixedFilterNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=4, bias=False)  # 1x28x28 -> 4x25x25
        with torch.no_grad():
            self.conv.weight.copy_(torch.stack([EDGE, -EDGE, EDGE.t(), -EDGE.t()]).unsqueeze(1))
        self.conv.weight.requires_grad_(False)
        self.pool = nn.MaxPool2d(2, 2)  # -> 4x12x12
        self.fc = nn.Linear(4 * 12 * 12, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(x.flatten(1))
