"""CNN Lab's activations helper: runs one image through a trained model and prints, as one JSON line,
the outputs of a conv layer, of the ReLU after it and of the pooling layer after that: the course's
conv -> ReLU -> pool sequence. The request comes as one JSON line on stdin: modelFile, className,
checkpoint, layer (its name in named_modules), image ({pixels: base64 C*H*W bytes, shape}), mean, std.
Only called by the host for trusted workspaces: it imports the user's model file."""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from train import TrainingError, load_model  # noqa: E402

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def answer(kind, **fields):
    sys.stdout.write(json.dumps({"type": kind, **fields}) + "\n")
    sys.stdout.flush()


def stage(name, tensor):
    maps = tensor.detach()[0].float().contiguous()
    return {"name": name, "shape": list(maps.shape), "data": base64.b64encode(maps.numpy().astype("<f4").tobytes()).decode("ascii")}


def state_dict_of(saved):
    """A state_dict, the one inside CNN Lab's last.pt, or a whole pickled module's."""
    if isinstance(saved, nn.Module):
        return saved.state_dict()
    if isinstance(saved, dict) and not any(torch.is_tensor(v) for v in saved.values()):
        for key in ("model", "model_state_dict", "state_dict"):
            if isinstance(saved.get(key), dict):
                return saved[key]
    return saved


def main():
    request = json.loads(sys.stdin.readline())
    model = load_model(request["modelFile"], request["className"])
    try:
        saved = torch.load(request["checkpoint"], map_location="cpu")
    except Exception as error:  # torch 2.6 refuses pickled modules by default; say so plainly
        raise TrainingError(f"torch.load({os.path.basename(request['checkpoint'])}) failed: {error}") from error
    try:
        model.load_state_dict(state_dict_of(saved))
    except RuntimeError as error:
        raise TrainingError(f"the checkpoint does not fit {request['className']} as the file defines it now: {str(error).splitlines()[0]}") from error
    model.eval()
    channels, height, width = request["image"]["shape"]
    pixels = torch.frombuffer(bytearray(base64.b64decode(request["image"]["pixels"])), dtype=torch.uint8)
    image = pixels.reshape(1, channels, height, width).float().div(255)
    mean = torch.tensor(request["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(request["std"]).view(1, -1, 1, 1)
    image = (image - mean) / std

    # Every leaf module's call in order: a pool used after several convs is called once per conv.
    calls = []
    hooks = [module.register_forward_hook(lambda m, _, out, name=name: calls.append((name, m, out)))
             for name, module in model.named_modules() if not list(module.children())]
    with torch.no_grad():
        model(image)
    for hook in hooks:
        hook.remove()
    at = next((i for i, (name, _, _) in enumerate(calls) if name == request["layer"]), None)
    if at is None:
        raise TrainingError(f"{request['className']} never calls {request['layer']} in forward()")
    conv = calls[at][2]
    stages = [stage(f"{request['layer']} ({type(calls[at][1]).__name__})", conv)]
    rest = calls[at + 1:]
    relu = rest[0] if rest and isinstance(rest[0][1], ACTIVATIONS) else None
    if relu:
        stages.append(stage(f"{relu[0]} ({type(relu[1]).__name__})", relu[2]))
        activated = relu[2]
    else:
        # F.relu in forward() is no module: it is applied here, as forward applies it.
        activated = torch.relu(conv)
        stages.append(stage("ReLU (F.relu in forward)", activated))
    for name, module, out in rest:
        if isinstance(module, POOLS):
            stages.append(stage(f"{name} ({type(module).__name__})", out))
            break
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            break
    answer("activations", stages=stages)


if __name__ == "__main__":
    try:
        main()
    except TrainingError as error:
        answer("error", message=str(error))
    except Exception as error:  # a model that fails in forward, a bad image: the message, not a traceback
        answer("error", message=f"{type(error).__name__}: {error}")
