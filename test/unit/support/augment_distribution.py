"""Draws one test pattern many times through the torch engine's batched augmentation (batches.py's
augment) and through torchvision's per-image transforms for the given settings, and prints how far
apart the two distributions are: the mean over pixels of the difference between the mean images and
between the per-pixel standard deviations, and the flip rate each way.

    python3 augment_distribution.py TRAINER_DIR OURS_JSON TORCHVISION_JSON
"""
import json
import sys

import torch

sys.path.insert(0, sys.argv[1])
from cnn_lab_engine import batches  # noqa: E402

ours_settings, their_settings = json.loads(sys.argv[2]), json.loads(sys.argv[3])

# Asymmetric on purpose: a bar off centre, a diagonal, a gradient, so flips, turns and shifts all show.
image = torch.zeros(3, 32, 40)
image[0, 6:12, 4:30] = 1
image[1] = (torch.arange(32)[:, None] - torch.arange(40)[None, :]).abs().lt(2).float()
image[2] = torch.linspace(0, 1, 40)[None, :].expand(32, 40)
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
torch.manual_seed(0)
ours = batches.augment(image.expand(count, -1, -1, -1).clone(), ours_settings, torch.Generator().manual_seed(1))
transform = batches.torchvision_transforms(their_settings)
theirs = torch.stack([transform(image) for _ in range(count)])
flipped = lambda batch: (batch[:, 2, 16, :20].mean(1) > batch[:, 2, 16, 20:].mean(1)).float().mean().item()  # noqa: E731
print(json.dumps({
    "mean": (ours.mean(0) - theirs.mean(0)).abs().mean().item(),
    "std": (ours.std(0) - theirs.std(0)).abs().mean().item(),
    "flipRate": [flipped(ours), flipped(theirs)],
}))
