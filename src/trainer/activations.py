"""CNN Lab's activations helper: what a trained conv layer does, for the layer inspector. One JSON
request on stdin, JSON lines on stdout:
- featureMaps: one image (a test image of the run's dataset, or an image file, resized to the
  model's input) through the model; answers the outputs of the layer, of the ReLU after it and of the
  pooling layer after that (the course's conv -> ReLU -> pool), with the image as the model saw it.
- topPatches: a sample of the test images through the model; for each filter, the image patches
  (the layer's receptive field) where it responds most, one per image (Zeiler & Fergus), with
  progress as it goes.
The request names the run's config (modelFile, className, dataset, dataDir...), the checkpoint, the
layer (its name in named_modules), and the normalization the run trained with. Only called by the
host for trusted workspaces: it imports the user's model file."""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from cnn_lab_engine import guard  # noqa: E402
from cnn_lab_engine.datasets import load_dataset  # noqa: E402
from cnn_lab_engine.protocol import TrainingError  # noqa: E402
from cnn_lab_engine.safe_load import UnsafeCheckpoint, safe_load  # noqa: E402
from cnn_lab_engine.user_model import load_model  # noqa: E402

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
PATCHES_PER_FILTER = 9


def answer(kind, **fields):
    sys.stdout.write(json.dumps({"type": kind, **fields}) + "\n")
    sys.stdout.flush()


def floats(tensor):
    return base64.b64encode(tensor.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode("ascii")


def image_bytes(tensor):
    return base64.b64encode(tensor.contiguous().numpy().tobytes()).decode("ascii")


def state_dict_of(saved):
    """A state_dict, the one inside CNN Lab's last.pt, or a whole pickled module's."""
    if isinstance(saved, nn.Module):
        return saved.state_dict()
    if isinstance(saved, dict) and not any(torch.is_tensor(v) for v in saved.values()):
        for key in ("model", "model_state_dict", "state_dict"):
            if isinstance(saved.get(key), dict):
                return saved[key]
    return saved


def trained_model(request):
    config = request["config"]
    model = load_model(config["modelFile"], config["className"], config.get("notebook"))
    try:
        saved = safe_load(request["checkpoint"])
    except UnsafeCheckpoint as error:
        raise TrainingError(str(error)) from error
    except Exception as error:
        raise TrainingError(f"torch.load({os.path.basename(request['checkpoint'])}) failed: {error}") from error
    try:
        model.load_state_dict(state_dict_of(saved))
    except RuntimeError as error:
        raise TrainingError(f"the checkpoint does not fit {config['className']} as the file defines it now: {str(error).splitlines()[0]}") from error
    return model.eval()


class Calls:
    """Every leaf module's call during a forward pass, in order: a pool used after several convs is
    called once per conv, so the pool that follows a layer is the next pool call, not a name."""

    def __init__(self, model):
        self.calls = []
        self.hooks = [module.register_forward_hook(lambda m, _, out, name=name: self.calls.append((name, m, out)))
                      for name, module in model.named_modules() if not list(module.children())]

    def index_of(self, layer, class_name):
        at = next((i for i, (name, _, _) in enumerate(self.calls) if name == layer), None)
        if at is None:
            raise TrainingError(f"{class_name} never calls {layer} in forward()")
        return at

    def remove(self):
        for hook in self.hooks:
            hook.remove()


def normalized(images, request):
    mean = torch.tensor(request["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(request["std"]).view(1, -1, 1, 1)
    return (images.float().div(255) - mean) / std


def input_image(request, test_x, test_y, classes):
    """The image as the model takes it: uint8, C x H x W of the dataset's shape."""
    source = request["image"]
    if source.get("path"):
        from torchvision.io import ImageReadMode, read_image

        channels, height, width = test_x.shape[1:]
        image = read_image(source["path"], ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB).float()
        image = F.interpolate(image[None], size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0]
        return image.round().clamp(0, 255).to(torch.uint8), os.path.basename(source["path"])
    index = source.get("index")
    if index is None or not 0 <= index < len(test_x):
        index = int(torch.randint(len(test_x), (1,)))
    return test_x[index], f"test #{index} ({classes[int(test_y[index])]})"


def feature_maps(request):
    model = trained_model(request)
    _, (test_x, test_y), classes = load_dataset(request["config"])
    image, name = input_image(request, test_x, test_y, classes)
    calls = Calls(model)
    with torch.no_grad():
        model(normalized(image[None], request))
    calls.remove()
    at = calls.index_of(request["layer"], request["config"]["className"])
    stage = lambda label, out: {"name": label, "shape": list(out.shape[1:]), "data": floats(out[0])}  # noqa: E731
    conv = calls.calls[at][2]
    stages = [stage(f"{request['layer']} ({type(calls.calls[at][1]).__name__})", conv)]
    rest = calls.calls[at + 1:]
    if rest and isinstance(rest[0][1], ACTIVATIONS):
        stages.append(stage(f"{rest[0][0]} ({type(rest[0][1]).__name__})", rest[0][2]))
    else:
        # F.relu in forward() is no module: it is applied here, as forward applies it.
        stages.append(stage("ReLU (F.relu in forward)", torch.relu(conv)))
    for called, module, out in rest:
        if isinstance(module, POOLS):
            stages.append(stage(f"{called} ({type(module).__name__})", out))
            break
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            break
    answer("activations", image={"name": name, "pixels": image_bytes(image), "shape": list(image.shape)}, stages=stages)


def receptive_field(calls, at):
    """Size, step and offset of one output position's window in the input, through the convs and
    pools called up to the layer (the standard recurrence; square kernels)."""
    size, jump, start = 1, 1, 0.0
    first = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731
    for _, module, _ in calls[: at + 1]:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel, stride, padding = first(module.kernel_size), first(module.stride), first(module.padding)
            if isinstance(padding, str):  # padding="same" keeps the centre where it is
                padding = (kernel - 1) // 2
            dilation = first(getattr(module, "dilation", 1))
            kernel = dilation * (kernel - 1) + 1
            start += ((kernel - 1) / 2 - padding) * jump
            size += (kernel - 1) * jump
            jump *= stride
    return size, jump, start


def top_patches(request):
    model = trained_model(request)
    _, (test_x, test_y), classes = load_dataset(request["config"])
    total = min(len(test_x), request.get("sample") or len(test_x))
    best_values = best_images = best_positions = None
    calls = Calls(model)
    field = None
    with torch.no_grad():
        for begin in range(0, total, 256):
            calls.calls.clear()
            model(normalized(test_x[begin:begin + 256][: total - begin], request))
            at = calls.index_of(request["layer"], request["config"]["className"])
            out = calls.calls[at][2]
            if field is None:
                field = receptive_field(calls.calls, at)
                width = out.shape[3]
            values, positions = out.flatten(2).max(dim=2)  # batch x filters: each image's strongest response
            images = torch.arange(begin, begin + len(out))[:, None].expand_as(values)
            if best_values is not None:
                values, positions, images = torch.cat([best_values, values]), torch.cat([best_positions, positions]), torch.cat([best_images, images])
            keep = values.topk(min(PATCHES_PER_FILTER, len(values)), dim=0).indices
            best_values, best_positions, best_images = values.gather(0, keep), positions.gather(0, keep), images.gather(0, keep)
            answer("progress", done=begin + len(out), total=total)
    calls.remove()
    size, jump, start = field
    channels, height, width_in = test_x.shape[1:]
    filters = []
    for f in range(best_values.shape[1]):
        patches = []
        for k in range(best_values.shape[0]):
            index, position = int(best_images[k, f]), int(best_positions[k, f])
            y, x = divmod(position, width)
            top = round(start + y * jump - (size - 1) / 2)
            left = round(start + x * jump - (size - 1) / 2)
            patch = torch.zeros(channels, size, size, dtype=torch.uint8)  # black where the window leaves the image
            y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + size, height), min(left + size, width_in)
            patch[:, y0 - top:y1 - top, x0 - left:x1 - left] = test_x[index, :, y0:y1, x0:x1]
            patches.append({"pixels": image_bytes(patch), "value": float(best_values[k, f]), "index": index, "label": classes[int(test_y[index])]})
        filters.append(patches)
    answer("topPatches", shape=[channels, size, size], sample=total, filters=filters)


def main():
    request = json.loads(sys.stdin.readline())
    guard.install("feature maps", lambda line: print(line, file=sys.stderr, flush=True))

    def too_big(resident, limit):
        answer("error", message=f"feature maps stopped: building the model held {resident / 2**30:.1f} GB, past the helper's limit of {limit / 2**30:.1f} GB")
        os._exit(3)

    guard.watch_memory(guard.memory_limit(), too_big)
    {"featureMaps": feature_maps, "topPatches": top_patches}[request["kind"]](request)


if __name__ == "__main__":
    try:
        main()
    except TrainingError as error:
        answer("error", message=str(error))
    except guard.Refused as error:
        answer("error", message=str(error))
    except Exception as error:  # a model that fails in forward, a bad image: the message, not a traceback
        answer("error", message=f"{type(error).__name__}: {error}")
