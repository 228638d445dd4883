"""Whether the user's model fits the dataset: what its first layer takes, and one score per class out."""
import os

from .protocol import TrainingError


def dataset_label(dataset):
    """`mnist`, or a folder of images by its own name, not its path."""
    return os.path.basename(os.path.normpath(dataset)) if os.sep in dataset or "/" in dataset else dataset


class FirstLayer:
    """The first conv or linear layer the forward pass calls: what it takes, against what the dataset's images are."""

    def __init__(self, model):
        from torch import nn

        self.found = None
        names = {id(m): n for n, m in model.named_modules()}
        # Until forward calls one (it may fail before: `x.view(-1, 3072)`), the first one defined.
        self.defined = next(((n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)

        def note(module, _inputs):
            if self.found is None:
                self.found = (names.get(id(module), type(module).__name__), module)

        self.hooks = [m.register_forward_pre_hook(note) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

    def remove(self):
        for hook in self.hooks:
            hook.remove()

    def misfit(self, images, dataset):
        """Both numbers and what to change, when the first layer cannot take the dataset's images; else None."""
        from torch import nn

        if (self.found or self.defined) is None:
            return None
        name, layer = self.found or self.defined
        _, channels, height, width = images.shape
        if isinstance(layer, nn.Conv2d) and layer.in_channels != channels:
            kernel = layer.kernel_size[0] if len(set(layer.kernel_size)) == 1 else tuple(layer.kernel_size)
            return (f"{name}, the first convolution, takes {layer.in_channels} channel{'s' if layer.in_channels != 1 else ''} but {dataset}'s images have {channels}: "
                    f"make it nn.Conv2d({channels}, {layer.out_channels}, {kernel}), or train on a {layer.in_channels}-channel dataset")
        pixels = channels * height * width
        if isinstance(layer, nn.Linear) and layer.in_features != pixels:
            return (f"{name}, the first layer, takes {layer.in_features} values but {dataset}'s images are {channels}×{height}×{width} = {pixels} once flattened: "
                    f"make it nn.Linear({pixels}, {layer.out_features}), or train on images of that size")
        return None


def check_outputs(model, class_name, output, classes, dataset):
    """One score per class: a model with more outputs than the dataset has labels trains outputs no label reaches, one with fewer fails."""
    import torch
    from torch import nn

    if not torch.is_tensor(output) or output.dim() != 2:
        shape = list(output.shape) if torch.is_tensor(output) else type(output).__name__
        raise TrainingError(f"{class_name}.forward gives {shape}; training needs one row of class scores per image: [batch, {len(classes)}] for {dataset}")
    if output.shape[1] == len(classes):
        return
    last = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear) and m.out_features == output.shape[1]]
    change = f": make {last[-1][0]} nn.Linear({last[-1][1].in_features}, {len(classes)})" if last else ""
    raise TrainingError(f"{class_name} gives {output.shape[1]} scores per image but {dataset} has {len(classes)} classes{change}")
