"""CNN Lab's torch engine: trains the user's nn.Module and reports as it goes.

    python3 train.py RUN_DIR [--resume]
    python3 -m torch.distributed.run --nproc_per_node N ... train.py RUN_DIR [--resume]

RUN_DIR holds config.json (written by the extension or the CLI). With --resume, the run continues
from its last.pt (model, optimizer, epoch and best validation loss) in the same folder. The engine writes there:
run.json (config, versions, status, summary), metrics.csv, best.pt (state_dict, whenever the
validation loss improves), last.pt (model, optimizer and epoch, for resuming), and init.pt and
epoch-1.pt (state_dicts before training and after its first epoch, to compare with); the host keeps
train.log from the events and stderr.
Events go to stdout as JSON lines (the trainer protocol, src/core/protocol/trainer.ts); commands
come on stdin ("stop", "pause", "resume"), and stdin closing means stop. stderr is a log.
Under torchrun every rank trains (DistributedDataParallel); rank 0 alone listens, speaks and writes.
The fast path keeps the dataset on the training device as uint8 and builds each batch there; with
it off, a DataLoader applies torchvision's transforms image by image, as the course does.
It imports the user's code: the extension runs it only in a trusted workspace.
"""
import contextlib
import gzip
import importlib.metadata
import json
import math
import os
import platform
import struct
import sys
import threading
import time
import traceback

PROTOCOL = 1
_out = sys.stdout
STARTED = time.time()  # start-up is counted from here: Python itself takes a few tens of milliseconds before it


def send(event_type, **fields):
    if _out is None:  # a rank other than 0: one voice on stdout
        return
    _out.write(json.dumps({"type": event_type, **fields}) + "\n")
    _out.flush()


def log(message):
    """A line for the user's log: stderr, which the host shows and never parses."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class TrainingError(Exception):
    """A problem to report to the user as it is, without a traceback."""


# ---------------------------------------------------------------- files

def write_atomically(path, write):
    """Writes through a temporary file in the same folder, then renames: readers see the old file or the new one."""
    temporary = f"{path}.partial"
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def save_json(path, value):
    write_atomically(path, lambda handle: handle.write(json.dumps(value, indent=2).encode()))


def save_torch(path, value):
    import torch

    write_atomically(path, lambda handle: torch.save(value, handle))


def scheduler_state(scheduler):
    """A scheduler's state for last.pt, weights and numbers only: OneCycleLR's holds a bound method
    on torch 1.13, which a checkpoint loaded safely may not name; its constructor makes it again."""
    return None if scheduler is None else {key: value for key, value in scheduler.state_dict().items() if not callable(value)}


class Metrics:
    """metrics.csv: one line per logged step and per epoch, each written whole, so a kill leaves no torn line."""

    header = "kind,epoch,step,train_loss,valid_loss,valid_accuracy,lr,images_per_second,seconds\n"

    def __init__(self, path, through_epoch=None):
        if through_epoch is not None and os.path.isfile(path):
            # A resumed run repeats the epochs after last.pt's: what an interrupted run logged of them goes.
            with open(path) as handle:
                kept = [line for line in handle.readlines()[1:] if Metrics.epoch_of(line) <= through_epoch]
            write_atomically(path, lambda handle: handle.write((self.header + "".join(kept)).encode()))
        # Unbuffered: each report's rows go in one write() of whole lines, so a kill leaves no torn line.
        self.handle = open(path, "ab", buffering=0)
        if self.handle.tell() == 0:
            self.handle.write(self.header.encode())

    @staticmethod
    def epoch_of(line):
        """The epoch a whole line names; a line without one ranks after every epoch, so it is dropped."""
        fields = line.split(",")
        return int(fields[1]) if line.endswith("\n") and len(fields) > 1 and fields[1].isdigit() else math.inf

    def row(self, *values):
        self.rows([values])

    def rows(self, rows):
        """One write for many rows: the rows of one report land together."""
        self.handle.write("".join(",".join("" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in values) + "\n" for values in rows).encode())


# ---------------------------------------------------------------- datasets

def read_idx(path):
    """An IDX file (MNIST's format), gzip-compressed or not, as a uint8 tensor."""
    import torch

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise TrainingError(f"{path} is not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4 : 4 + 4 * dims])
    expected = 4 + 4 * dims + math.prod(shape)
    if len(data) != expected:
        raise TrainingError(f"{path} is truncated or corrupt: {len(data)} bytes where its header promises {expected}")
    return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def find_file(folder, name):
    """The file as named, or gzip-compressed beside it."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def missing(name, folder, files):
    return TrainingError(f"{name}: {', '.join(files)} not found in {folder}. Put the original files (gzip-compressed or not) there, or let CNN Lab download them (cnn-lab data --download {name}).")


def idx_dataset(name, folder, classes):
    """MNIST or Fashion-MNIST from their original files, in the folder the host found or fetched them in."""
    result = {}
    for split, (images, labels) in IDX_FILES.items():
        image_path, label_path = find_file(folder, images), find_file(folder, labels)
        if not image_path or not label_path:
            raise missing(name, folder, [images, labels])
        x, y = read_idx(image_path), read_idx(label_path)
        if x.shape[0] != y.shape[0]:
            raise TrainingError(f"{name} {split}: {x.shape[0]} images but {y.shape[0]} labels")
        result[split] = (x.unsqueeze(1), y.long())
    return result["train"], result["test"], classes


def cifar10(folder):
    import torch

    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    absent = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    if absent:
        raise missing("cifar10", folder, absent)

    def read(names):
        data = b"".join(open(os.path.join(folder, n), "rb").read() for n in names)
        if len(data) % 3073:
            raise TrainingError(f"cifar10: {', '.join(names)} is truncated or corrupt")
        records = torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(-1, 3073)
        return records[:, 1:].reshape(-1, 3, 32, 32).clone(), records[:, 0].long()

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return read(names[:5]), read(names[5:]), classes


def synthetic(seed):
    """Ten classes of strokes on 28x28, one angle each, shifted and noisy: learnable in a minute, offline."""
    import torch

    generator = torch.Generator().manual_seed(seed)

    def make(count):
        labels = torch.randint(0, 10, (count,), generator=generator)
        angle = labels.float() * (math.pi / 10) + (torch.rand(count, generator=generator) - 0.5) * 0.15
        coords = torch.linspace(-1, 1, 28)
        yy, xx = torch.meshgrid(coords, coords, indexing="ij")
        shift = (torch.rand(count, 2, generator=generator) - 0.5) * 0.5
        x = xx[None] - shift[:, 0, None, None]
        y = yy[None] - shift[:, 1, None, None]
        distance = (x * torch.sin(angle)[:, None, None] - y * torch.cos(angle)[:, None, None]).abs()
        image = torch.clamp(1 - distance / 0.12, 0, 1) * (x**2 + y**2 < 0.8).float()
        image = torch.clamp(image + torch.rand(count, 28, 28, generator=generator) * 0.3, 0, 1)
        return (image * 255).to(torch.uint8).unsqueeze(1), labels

    classes = [f"{d}°" for d in range(0, 180, 18)]
    return make(6000), make(1000), classes


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
SIXTEEN_BIT_GREY = ("I", "I;16", "I;16B", "I;16L")
GREY_MODES = ("1", "L", "LA", *SIXTEEN_BIT_GREY)


def image_folder(root, image_size, seed):
    """Images in one sub-folder per class (torchvision's ImageFolder layout). With train/ and test/ (or
    val/) sub-folders those are the splits; otherwise a seeded fifth of each class is held out for testing.
    Every image is resized to image_size (or to the first image's size) and kept grey when all are grey."""
    import torch

    try:
        from PIL import Image
    except ImportError as error:
        raise TrainingError("reading PNG and JPEG images needs Pillow: pip install pillow") from error

    if not os.path.isdir(root):
        raise TrainingError(f"{root} is not a folder")

    def listing(folder):
        classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))
        return classes, [(os.path.join(folder, c, f), i) for i, c in enumerate(classes) for f in sorted(os.listdir(os.path.join(folder, c))) if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")]

    test_name = next((n for n in ("test", "val", "valid") if os.path.isdir(os.path.join(root, n))), None)
    if os.path.isdir(os.path.join(root, "train")) and test_name:
        classes, train_files = listing(os.path.join(root, "train"))
        test_classes, test_files = listing(os.path.join(root, test_name))
        if test_classes != classes:
            raise TrainingError(f"{root}: train/ has the classes {classes} but {test_name}/ has {test_classes}")
    else:
        classes, files = listing(root)
        held_out = set(torch.randperm(len(files), generator=torch.Generator().manual_seed(seed))[: len(files) // 5].tolist())
        train_files = [f for i, f in enumerate(files) if i not in held_out]
        test_files = [f for i, f in enumerate(files) if i in held_out]
    count = len(train_files) + len(test_files)
    if len(classes) < 2:
        found = f"found {len(classes)} class folder{'' if len(classes) == 1 else 's'} and {count} image{'' if count == 1 else 's'}"
        raise TrainingError(f"{root} needs a sub-folder of PNG or JPEG images for each class, and at least two classes to tell apart ({found})")
    present = {label for _, label in train_files + test_files}
    empty = [c for i, c in enumerate(classes) if i not in present]
    if empty:
        raise TrainingError(f"{root}: the class folder{'s' if len(empty) > 1 else ''} {', '.join(empty)} hold{'' if len(empty) > 1 else 's'} no PNG or JPEG images; add some or remove {'them' if len(empty) > 1 else 'it'}")
    if not train_files or not test_files:
        raise TrainingError(f"{root}: {count} image{'' if count == 1 else 's'} cannot be split into training and test images; add more")

    def opened(path, use):
        """`use` of the image at path; whatever Pillow cannot decode (truncated, not an image, too large) becomes a message naming the file."""
        try:
            with Image.open(path) as image:
                return use(image)
        except Exception as error:
            raise TrainingError(f"{path} is not an image Pillow can read: {error}") from error

    def eight_bit(image):
        """The image in `mode`; 16-bit grey (PNG's I;16, opened as I) scaled to 8 bits, where Pillow's conversion clips it to white."""
        if image.mode in SIXTEEN_BIT_GREY:
            image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        return image.convert(mode)

    size = (image_size, image_size) if image_size else opened(train_files[0][0], lambda image: image.size)  # the header only
    mode = "L" if all(opened(p, lambda image: image.mode) in GREY_MODES for p, _ in train_files + test_files) else "RGB"
    channels = 1 if mode == "L" else 3

    def read(files):
        images = torch.empty(len(files), channels, size[1], size[0], dtype=torch.uint8)
        for i, (path, _) in enumerate(files):
            image = opened(path, lambda image: eight_bit(image).resize(size))
            images[i] = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(size[1], size[0], channels).permute(2, 0, 1)
        return images, torch.tensor([label for _, label in files], dtype=torch.long)

    return read(train_files), read(test_files), classes


def load_dataset(config):
    name, folder = config["dataset"], config.get("dataDir") or "."
    if name == "synthetic":
        return synthetic(config["seed"])
    if name == "mnist":
        return idx_dataset(name, folder, [str(d) for d in range(10)])
    if name == "fashion-mnist":
        return idx_dataset(name, folder, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
    if name == "cifar10":
        return cifar10(folder)
    if os.path.isdir(name):
        return image_folder(name, config.get("imageSize"), config["seed"])
    raise TrainingError(f"{name!r} is neither a dataset CNN Lab knows (synthetic, mnist, fashion-mnist, cifar10) nor a folder of images")


# ---------------------------------------------------------------- batches

def augment(images, settings, generator):
    """Random horizontal flips, rotations within ±degrees and crops with padding, for a whole batch at
    once on whatever device holds it. Pixels are in [0, 1], before normalization, so what comes in at
    the edges is black.

    The same distribution as torchvision's RandomHorizontalFlip, RandomRotation(degrees) (nearest
    neighbour, fill 0) and RandomCrop(size, padding), in that order, image by image: a rotation followed
    by a crop is one affine resampling, the crop's whole-pixel shift turned with the image. The random
    draws come from a CPU generator, so a run repeats on any device.
    """
    import torch
    import torch.nn.functional as F

    flip, degrees, padding = settings.get("flip", False), settings.get("rotation", 0), settings.get("cropPadding", 0)
    count, _, height, width = images.shape
    if flip:
        mask = (torch.rand(count, generator=generator) < 0.5).to(images.device)
        images = torch.where(mask[:, None, None, None], images.flip(-1), images)
    if not degrees and not padding:
        return images
    angle = (torch.rand(count, generator=generator) * 2 - 1) * math.radians(degrees)
    shift = torch.randint(-padding, padding + 1, (count, 2), generator=generator).float()
    cos, sin = torch.cos(angle), torch.sin(angle)
    dx, dy = cos * shift[:, 0] - sin * shift[:, 1], sin * shift[:, 0] + cos * shift[:, 1]
    # affine_grid works in [-1, 1] on both axes: the aspect ratio keeps rotations of oblong images rigid.
    theta = torch.stack([
        torch.stack([cos, -sin * height / width, dx * 2 / width], dim=1),
        torch.stack([sin * width / height, cos, dy * 2 / height], dim=1),
    ], dim=1).to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    if padding:
        # The crop brings in black where the shifted frame leaves the rotated image, even where the
        # source image goes on beyond its rotated corners.
        shift = shift.long().to(images.device)
        columns = torch.arange(width, device=images.device)[None] + shift[:, :1]
        rows = torch.arange(height, device=images.device)[None] + shift[:, 1:]
        inside = ((rows >= 0) & (rows < height))[:, :, None] & ((columns >= 0) & (columns < width))[:, None, :]
        images = images * inside[:, None].to(images.dtype)
    return images


def torchvision_transforms(settings):
    """The course's per-image transforms for the same augmentation settings (the DataLoader path)."""
    try:
        from torchvision import transforms
    except ImportError as error:
        raise TrainingError("augmentation with the fast path off uses torchvision's transforms: pip install torchvision, or turn the fast path on") from error
    steps = []
    if settings.get("flip"):
        steps.append(transforms.RandomHorizontalFlip())
    if settings.get("rotation"):
        steps.append(transforms.RandomRotation(settings["rotation"]))
    if settings.get("cropPadding"):
        steps.append(lambda image: transforms.RandomCrop(list(image.shape[-2:]), padding=settings["cropPadding"])(image))
    return transforms.Compose(steps)


class DeviceSplit:
    """The fast path: a split kept on the training device as uint8 (a quarter of float32's memory);
    each batch is gathered, scaled, augmented and normalized there in a few tensor operations."""

    fast = True

    def __init__(self, images, labels, device, mean, std, channels_last):
        self.images, self.labels = images.to(device), labels.to(device)
        self.device, self.channels_last = device, channels_last
        self.mean, self.std = mean.to(device)[None, :, None, None], std.to(device)[None, :, None, None]

    def __len__(self):
        return len(self.images)

    def batches(self, batch, order=None, augmentation=None, generator=None):
        import torch

        order = order.to(self.device) if order is not None else None
        for start in range(0, len(order) if order is not None else len(self.images), batch):
            index = order[start : start + batch] if order is not None else slice(start, start + batch)
            x = self.images[index].float().div_(255)
            if augmentation:
                x = augment(x, augmentation, generator)
            x = (x - self.mean) / self.std
            yield (x.contiguous(memory_format=torch.channels_last) if self.channels_last else x), self.labels[index]


class LoaderSplit:
    """The course's way: a DataLoader over per-image transforms, with pinned memory and copies that do
    not block on CUDA. The images stay in host memory as uint8."""

    fast = False

    def __init__(self, images, labels, device, mean, std, channels_last):
        self.images, self.labels, self.device, self.channels_last = images, labels, device, channels_last
        self.mean, self.std = mean[:, None, None], std[:, None, None]

    def __len__(self):
        return len(self.images)

    def batches(self, batch, order=None, augmentation=None, generator=None):
        import torch

        transform = torchvision_transforms(augmentation) if augmentation else None
        split = self

        class Images(torch.utils.data.Dataset):
            def __len__(self):
                return len(split.images)

            def __getitem__(self, i):
                x = split.images[i].float() / 255
                return ((transform(x) if transform else x) - split.mean) / split.std, split.labels[i]

        loader = torch.utils.data.DataLoader(Images(), batch_size=batch, sampler=order.tolist() if order is not None else None, pin_memory=self.device.type == "cuda")
        for x, y in loader:
            x = x.to(self.device, non_blocking=True)
            yield (x.contiguous(memory_format=torch.channels_last) if self.channels_last else x), y.to(self.device, non_blocking=True)


def channel_histograms(images):
    """How many pixels of each channel of uint8 images take each of the 256 values: exact statistics,
    four times sooner than summing a float copy (0.4 against 1.7 s for CIFAR-10's training set)."""
    import torch

    return torch.stack([torch.bincount(images[:, c].reshape(-1), minlength=256) for c in range(images.shape[1])]).double()


def channel_statistics(counts):
    """Mean and std per channel of the images in [0, 1], from their channel_histograms."""
    import torch

    values = torch.arange(256, dtype=torch.float64) / 255
    pixels = counts.sum(1)
    mean = (counts * values).sum(1) / pixels
    variance = (counts * (values - mean[:, None]).square()).sum(1) / (pixels - 1).clamp_min(1)
    return mean.float(), variance.sqrt().float()


# ---------------------------------------------------------------- the user's model

def load_model(path, class_name, notebook=None):
    """The model `class_name` names in the file (a class, a factory or a module-level instance),
    with only what builds it run: user_model.py leaves the file's training, plots and downloads out."""
    import user_model

    # A notebook's model lives in the run folder; its own imports are of the notebook's neighbours.
    for folder in [os.path.dirname(os.path.abspath(p)) for p in ([notebook["path"]] if notebook else []) + [path]]:
        if folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        loaded = user_model.load(path, {class_name})
    except SyntaxError as error:
        raise TrainingError(f"{os.path.basename(path)} line {error.lineno}: {error.msg}") from error
    except BaseException as error:
        raise TrainingError(f"importing {os.path.basename(path)} failed: {type(error).__name__}: {error}") from error
    note = user_model.describe_left_out(notebook["path"] if notebook else path, loaded.left_out)
    if note:
        log(note)
    found = getattr(loaded.module, class_name, None)
    if found is None:
        raise TrainingError(f"{os.path.basename(path)} has no class {class_name}")
    import torch
    if isinstance(found, torch.nn.Module):  # a module-level `model = Net(...)`
        return found
    try:
        return found()  # a class, or a factory such as resnet18()
    except BaseException as error:
        raise TrainingError(f"{class_name}() failed: {type(error).__name__}: {error}") from error


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


# ---------------------------------------------------------------- training

class StartUp:
    """What happens before the first step, phase by phase: most of a short run on a fast device."""

    def __init__(self):
        self.phases, self.last = [], STARTED

    def lap(self, name):
        now = time.time()
        self.phases.append({"name": name, "seconds": now - self.last})
        self.last = now

    def report(self):
        send("startUp", seconds=self.last - STARTED, phases=self.phases)


class Commands:
    """Reads stop/pause/resume from stdin; stdin closing means stop. Under torchrun only rank 0 listens."""

    def __init__(self, listen=True):
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        if listen:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in sys.stdin:
            try:
                command = json.loads(line).get("type")
            except ValueError:
                continue
            if command == "stop":
                self.stop.set()
                self.running.set()
            elif command == "pause":
                self.running.clear()
            elif command == "resume":
                self.running.set()
        self.stop.set()
        self.running.set()


class Ranks:
    """This process's place among those torchrun started (DistributedDataParallel), or the only one.
    Rank 0 speaks the protocol and writes the run folder; the others train beside it."""

    def __init__(self):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_size = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        self.backend = None

    @property
    def leader(self):
        return self.rank == 0

    @property
    def speaks(self):
        """Rank 0, and the first process on each other machine: that machine's host hears the run begin and end there."""
        return self.rank == 0 or self.local_rank == 0

    def join(self, device):
        if self.size == 1:
            return
        import datetime

        import torch.distributed as dist

        self.backend = "nccl" if device.type == "cuda" else "gloo"
        # A paused run holds the other ranks in a collective: give them a day, not the default half hour.
        dist.init_process_group(self.backend, timeout=datetime.timedelta(hours=24))
        self.device = device

    def any(self, flag):
        """True on every rank when it is true on one (stop is heard by rank 0 alone)."""
        if self.size == 1:
            return flag
        import torch
        import torch.distributed as dist

        value = torch.tensor([1 if flag else 0], device=self.device if self.backend == "nccl" else "cpu")
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def weights_agree(self, model):
        """Whether every rank ended with the same weights: a fingerprint of the parameters, gathered."""
        import torch
        import torch.distributed as dist

        if self.size == 1:
            return True
        flat = torch.cat([p.detach().double().flatten() for p in model.parameters()])
        fingerprint = torch.stack([flat.sum(), flat.square().sum(), (flat * torch.arange(len(flat), device=flat.device, dtype=flat.dtype)).sum()])
        gathered = [torch.zeros_like(fingerprint) for _ in range(self.size)]
        dist.all_gather(gathered, fingerprint)
        return all(torch.equal(g, gathered[0]) for g in gathered)

    def leave(self):
        if self.size > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


def pick_device(wanted, ranks):
    import torch

    if wanted in ("auto", "cuda") and torch.cuda.is_available():
        if ranks.local_size > torch.cuda.device_count():
            raise TrainingError(f"{ranks.local_size} devices per machine were asked for, but PyTorch sees {torch.cuda.device_count()} CUDA GPUs")
        torch.cuda.set_device(ranks.local_rank)
        return torch.device("cuda", ranks.local_rank), torch.cuda.get_device_name(ranks.local_rank)
    if wanted == "cuda":
        raise TrainingError("device cuda was asked for, but PyTorch sees no CUDA GPU")
    mps = getattr(torch.backends, "mps", None)
    if wanted == "auto" and mps is not None and mps.is_available() and ranks.size == 1:
        return torch.device("mps"), "Apple MPS"
    threads = torch.get_num_threads()
    return torch.device("cpu"), f"{platform.processor() or platform.machine()} ({threads} thread{'s' if threads > 1 else ''})"


def cpu_has_bfloat16():
    """Whether the CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX), where autocast to it pays."""
    import torch

    check = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    if check is not None:  # torch 2.x
        with contextlib.suppress(Exception):
            return bool(check())
    with contextlib.suppress(OSError):
        flags = open("/proc/cpuinfo").read()
        return " avx512_bf16" in flags or " amx_bf16" in flags
    return False


def precisions_to_try(wanted, fast, device):
    """float32, mixed (bfloat16 on GPUs and CPUs that have it, float16 with a gradient scaler on older
    GPUs), or both to be measured in the first steps: mixed precision does not always pay (the course's
    CIFAR CNN at batch 20 ran 0.80× as fast in bfloat16 as in float32 on an H200)."""
    import torch

    if wanted is False or (wanted is None and not fast):
        return ["float32"]
    mixed = None
    if device.type == "cuda":
        mixed = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    elif device.type == "cpu" and cpu_has_bfloat16():
        mixed = "bfloat16"
    if mixed is None:
        if wanted:
            log(f"mixed precision needs a CUDA GPU or a CPU with bfloat16 instructions; training in float32 on {device.type}")
        return ["float32"]
    return [mixed] if wanted else ["float32", mixed]


class Precision:
    """The precision steps run in: autocast and, for float16, a gradient scaler."""

    def __init__(self, name, device):
        self.device, self.scaler = device, None
        self.use(name)

    def use(self, name):
        import torch

        self.name = name
        if name == "float16" and self.scaler is None:
            self.scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()  # torch 2.3+ / 1.13

    def autocast(self):
        import torch

        return contextlib.nullcontext() if self.name == "float32" else torch.autocast(device_type=self.device.type, dtype=getattr(torch, self.name))

    def backward_and_step(self, loss, optimizer):
        if self.name != "float16":
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()


def openblas():
    """The OpenBLAS this process loaded (Debian's and conda-forge's PyTorch call it), or None (PyPI's
    wheels use MKL, which follows torch.set_num_threads)."""
    import ctypes

    with contextlib.suppress(OSError):
        for line in open("/proc/self/maps"):
            path = line.split()[-1]
            if "openblas" in path and ".so" in path:
                with contextlib.suppress(OSError):
                    library = ctypes.CDLL(path)
                    if hasattr(library, "openblas_set_num_threads"):
                        return library
    return None


def thread_splits(cores, blas):
    """How to share a CPU between PyTorch's OpenMP threads and OpenBLAS's own: each pool wants every
    core, and together they thrash (both at 2 threads, the course's MLP trained at 4,100 images/s here,
    against 14,500 with PyTorch at 1 and OpenBLAS at 2; its CIFAR CNN at 1,500, against 2,400 with
    PyTorch at 2 and OpenBLAS at 1). Which split wins depends on the model, so both are measured."""
    if blas is None or cores < 2:
        return [(cores, None)]
    return [(cores, 1), (1, cores)]


def describe_threads(split):
    torch_threads, blas_threads = split
    plural = lambda n: f"{n} thread{'s' if n > 1 else ''}"  # noqa: E731
    return f"PyTorch {plural(torch_threads)}" + ("" if blas_threads is None else f", OpenBLAS {plural(blas_threads)}")


class FirstSteps:
    """Choices only a measurement can make for this model, batch and device (how a CPU's threads are
    split, whether mixed precision or torch.compile pays), tried in turn over the first steps, which
    train as any others; the fastest is kept. Each candidate runs `rounds` blocks of `block` steps,
    interleaved so that a machine's slow moment does not fall on one candidate; the first step of a
    block (just switched, or compiling) is not timed."""

    def __init__(self, candidates, apply, device, rounds=3, block=4):
        self.candidates, self.apply, self.device, self.block = candidates, apply, device, block
        self.schedule = [i for _ in range(rounds) for i in range(len(candidates))]
        self.seconds = [[] for _ in candidates]
        self.position, self.in_block, self.started = 0, 0, 0.0
        self.finished = len(candidates) < 2
        apply(candidates[0][1])

    def _clock(self):
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def before_step(self):
        if not self.finished and self.in_block == 1:
            self.started = self._clock()

    def after_step(self, batch):
        """None while measuring; at the end, the winner's label and what each candidate measured."""
        if self.finished:
            return None
        self.in_block += 1
        if self.in_block < self.block:
            return None
        self.seconds[self.schedule[self.position]].append((self._clock() - self.started) / (self.block - 1))
        self.position, self.in_block = self.position + 1, 0
        if self.position < len(self.schedule):
            self.apply(self.candidates[self.schedule[self.position]][1])
            return None
        self.finished = True
        rates = [batch / sorted(seconds)[len(seconds) // 2] for seconds in self.seconds]
        best = max(range(len(rates)), key=rates.__getitem__)
        self.apply(self.candidates[best][1])
        return self.candidates[best][0], [{"label": label, "imagesPerSecond": rate} for (label, _), rate in zip(self.candidates, rates)]


def pick_batch_size(config, fast, device):
    """The user's, or one that keeps the device busy: small models starve a GPU at the course's 20."""
    if config["batchSize"]:
        return config["batchSize"]
    if not fast:
        return 64
    return 512 if device.type == "cuda" else 128


COURSE_BATCH = 20


def learning_rate(config, batch):
    """The rate the optimizer is given, whether it warms up to it, and what to tell the user.

    SGD's rates in the course are set for its batches of 20. When CNN Lab chooses the batch (none was
    given), SGD's rate grows with it (Goyal et al.'s linear scaling) and warms up over the first
    epoch, or the larger batch would take as many times fewer steps at the same rate. Adam's and
    AdamW's rates are used as given: they size each parameter's step themselves.
    """
    lr = config["lr"]
    if config["batchSize"] or batch == COURSE_BATCH:
        return lr, False, None
    if config["optimizer"] == "sgd":
        scaled = lr * batch / COURSE_BATCH
        return scaled, True, (f"batch {batch} chosen by CNN Lab (none was given): SGD's learning rate {lr:g}, set for the course's batches "
                              f"of {COURSE_BATCH}, is scaled to {scaled:g} and warmed up over the first epoch; give a batch size to keep {lr:g}")
    return lr, False, f"batch {batch} chosen by CNN Lab (none was given): {config['optimizer']}'s learning rate {lr:g} is used as given, as it sizes each step itself"


def fits_on(device, *tensors):
    """Whether the fast path may keep these uint8 tensors on the device: at most a third of a GPU's memory."""
    import torch

    if device.type != "cuda":
        return True
    return sum(t.numel() for t in tensors) <= torch.cuda.get_device_properties(device).total_memory / 3


def evaluate(model, criterion, split, batch_size, autocast, classes=None):
    """Loss, accuracy and (given the classes) the confusion matrix, in the precision the run trains in."""
    import torch

    model.eval()
    total_loss, correct = 0.0, 0
    confusion = torch.zeros(len(classes), len(classes), dtype=torch.long) if classes else None
    with torch.no_grad():
        for x, y in split.batches(batch_size):
            with autocast():
                output = model(x)
            total_loss += criterion(output.float(), y).item() * len(x)
            predicted = output.argmax(1)
            correct += (predicted == y).sum().item()
            if confusion is not None:
                confusion.index_put_((y.cpu(), predicted.cpu()), torch.ones(len(y), dtype=torch.long), accumulate=True)
    return total_loss / max(len(split), 1), correct / max(len(split), 1), confusion


def send_samples(model, raw_images, split):
    """The first test images (as stored, uint8) with what the model says they are: the course's green/red grid."""
    import base64

    import torch

    count = max(1, min(32, len(raw_images), (1 << 20) // max(raw_images[0].numel(), 1)))
    model.eval()
    with torch.no_grad():
        x, y = next(iter(split.batches(count)))
        predicted = model(x).argmax(1).cpu()
    pixels = base64.b64encode(raw_images[:count].contiguous().numpy().tobytes()).decode()
    send("samples", shape=list(raw_images[:count].shape), pixels=pixels, labels=y.cpu().tolist(), predicted=predicted.tolist())


def train(run_dir, commands, resume, ranks):
    import torch
    from torch import nn

    from safe_load import UnsafeCheckpoint, safe_load

    start_up = StartUp()
    start_up.lap("Python and PyTorch imports")
    started = time.time()
    config = json.load(open(os.path.join(run_dir, "config.json")))
    checkpoint = None
    if resume:
        last = os.path.join(run_dir, "last.pt")
        if not os.path.isfile(last):
            raise TrainingError(f"nothing to resume: {run_dir} has no last.pt (the run ended before its first epoch did)")
        try:
            checkpoint = safe_load(last)
        except UnsafeCheckpoint as error:
            raise TrainingError(f"cannot resume: {error}") from error
    torch.manual_seed(config["seed"])
    cores = max(1, (os.cpu_count() or 1) // ranks.local_size)
    torch.set_num_threads(cores)
    device, device_name = pick_device(config["device"], ranks)
    ranks.join(device)
    start_up.lap("device")
    versions = {"python": platform.python_version(), "torch": torch.__version__, "torchvision": None}
    with contextlib.suppress(Exception):  # read, not imported: importing torchvision takes a few tenths of a second
        versions["torchvision"] = importlib.metadata.version("torchvision")
    send("hello", protocol=PROTOCOL, engine="torch", versions=versions, device={"type": device.type, "name": device_name}, worldSize=ranks.size,
         backend=device.type, advice=None)
    state = {"config": config, "versions": versions, "device": device_name, "status": "running", "startedAt": started, "summary": None}
    if checkpoint is not None:
        with contextlib.suppress(Exception):
            state = {**json.load(open(os.path.join(run_dir, "run.json"))), "status": "running", "resumedAt": started, "config": config}
    if ranks.size > 1:
        state["distributed"] = {"worldSize": ranks.size, "backend": ranks.backend}
    if ranks.leader:
        save_json(os.path.join(run_dir, "run.json"), state)

    (train_x, train_y), (test_x, test_y), classes = load_dataset(config)
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(config["seed"]))
    validation_count = int(len(train_x) * config["validSplit"])
    valid_index, train_index = order[:validation_count], order[validation_count:]
    normalize = config.get("normalize", "dataset")
    if normalize == "none":  # pixels in [0, 1], as the course's ToTensor() alone gives
        mean, std = torch.zeros(train_x.shape[1]), torch.ones(train_x.shape[1])
    elif normalize == "dataset":
        # The training split's: every image's counts less the validation images'.
        mean, std = channel_statistics(channel_histograms(train_x) - channel_histograms(train_x[valid_index]))
    else:  # a given value, such as the course's 0.5: (x - 0.5) / 0.5 on every channel
        mean = std = torch.full((train_x.shape[1],), float(normalize))
    start_up.lap("dataset read")

    fast = config.get("fastPath", True)
    if fast and not fits_on(device, train_x, test_x):
        log(f"{config['dataset']} does not fit in a third of the GPU's memory: reading batches from host memory instead")
        fast = False
    batch = pick_batch_size(config, fast, device)
    precisions = precisions_to_try(config.get("mixedPrecision"), fast, device)
    model = load_model(config["modelFile"], config["className"], config.get("notebook")).to(device)
    probe_images = train_x[train_index[:2]].float().div(255).sub(mean[None, :, None, None]).div(std[None, :, None, None]).to(device)
    # channels_last speeds convolutions on CUDA, but a model that flattens with .view() cannot take it.
    channels_last = fast and device.type == "cuda" and probe_images.dim() == 4
    with torch.no_grad():
        model.eval()
        if channels_last:
            try:
                model.to(memory_format=torch.channels_last)(probe_images.contiguous(memory_format=torch.channels_last))
            except RuntimeError as error:
                log(f"training without channels_last: {config['className']}.forward does not take it ({error})")
                model.to(memory_format=torch.contiguous_format)
                channels_last = False
        first_layer = FirstLayer(model)
        try:
            probe = model(probe_images)
        except BaseException as error:
            problem = first_layer.misfit(probe_images, dataset_label(config["dataset"]))
            raise TrainingError(problem or f"{config['className']}.forward failed on a batch of shape {list(probe_images.shape)}: {type(error).__name__}: {error}") from error
        finally:
            first_layer.remove()
        check_outputs(model, config["className"], probe, classes, dataset_label(config["dataset"]))
    start_up.lap("model")
    Split = DeviceSplit if fast else LoaderSplit
    train_split = Split(train_x[train_index], train_y[train_index], device, mean, std, channels_last)
    valid_split = Split(train_x[valid_index], train_y[valid_index], device, mean, std, channels_last)
    test_split = Split(test_x, test_y, device, mean, std, channels_last)
    del train_x
    start_up.lap("dataset to device" if device.type != "cpu" else "dataset split")
    send("dataset", name=config["dataset"], train=len(train_split), validation=len(valid_split), test=len(test_split), classes=classes,
         shape=list(probe_images.shape[1:]), mean=mean.tolist(), std=std.tolist(), batchSize=batch, fastPath=fast)

    # A model that ends in log_softmax wants NLL; one that gives raw scores, cross-entropy.
    log_probabilities = bool((probe <= 0).all() and torch.allclose(probe.float().exp().sum(1), torch.ones(len(probe), device=device), atol=1e-3))
    criterion = nn.NLLLoss() if log_probabilities else nn.CrossEntropyLoss()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stepper = model
    if ranks.size > 1:
        stepper = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    compiled = None
    if config.get("compile"):
        if hasattr(torch, "compile"):
            # Static shapes: an epoch's last, smaller batch compiles once more, and then both are cached.
            compiled = torch.compile(stepper, dynamic=False)
        else:
            log(f"torch.compile needs PyTorch 2 (this is {torch.__version__}): training without it")
    precision = Precision(precisions[0], device)
    send("model", className=config["className"], totalParams=total, trainableParams=trainable, loss="nll" if log_probabilities else "cross_entropy",
         precision=precision.name, channelsLast=channels_last, compiled=compiled is not None)

    optimizers = {
        "sgd": lambda params: torch.optim.SGD(params, lr=base_lr, momentum=config["momentum"], weight_decay=config["weightDecay"]),
        "adam": lambda params: torch.optim.Adam(params, lr=base_lr, weight_decay=config["weightDecay"]),
        "adamw": lambda params: torch.optim.AdamW(params, lr=base_lr, weight_decay=config["weightDecay"]),
    }
    base_lr, warm_up, lr_note = learning_rate(config, batch)
    if lr_note:
        log(lr_note)
    optimizer = optimizers[config["optimizer"]](model.parameters())
    metrics = Metrics(os.path.join(run_dir, "metrics.csv"), checkpoint["epoch"] if checkpoint is not None else None) if ranks.leader else None
    epochs = config["epochs"]
    # Every rank takes as many images per epoch, or the ranks' collectives would fall out of step.
    shard = len(train_split) // ranks.size
    steps = math.ceil(shard / batch)
    schedule = config.get("schedule", "none")
    # Cosine and one-cycle move every step; step decay divides by ten every third of the run.
    scheduler = {
        "none": lambda: None,
        "step": lambda: torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1),
        "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps),
        "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=base_lr, total_steps=epochs * steps),
    }[schedule]()
    per_step = schedule in ("cosine", "onecycle")
    # One-cycle warms up by itself; cosine starts at its peak by design.
    warm_up_steps = steps if warm_up and schedule in ("none", "step") else 0
    # What only the first steps can tell: each choice with more than one option is measured (FirstSteps).
    blas = openblas() if device.type == "cpu" else None
    splits = thread_splits(cores, blas)
    steppers = [("eager", stepper)] + ([("torch.compile", compiled)] if compiled is not None else [])
    if ranks.size > 1:  # ranks measuring apart could choose apart: PyTorch's threads, mixed precision and compile, as asked
        splits, precisions, steppers = splits[:1], precisions[-1:], steppers[-1:]
    candidates = [(" · ".join(label for label in (describe_threads(split) if len(splits) > 1 else "", name if len(precisions) > 1 else "", way if len(steppers) > 1 else "") if label),
                   (split, name, module))
                  for split in splits for name in precisions for way, module in steppers]
    current = {"stepper": stepper}

    def use(candidate):
        (torch_threads, blas_threads), name, module = candidate
        torch.set_num_threads(torch_threads)
        if blas_threads is not None:
            blas.openblas_set_num_threads(blas_threads)
        precision.use(name)
        current["stepper"] = module

    first_steps = FirstSteps(candidates, use, device)
    evaluation_batch = max(batch, 512) if fast else batch  # no gradients kept: larger batches fit
    augmentation = config.get("augment") or {}
    augment_generator = torch.Generator().manual_seed(config["seed"] + 7 + ranks.rank)
    best_loss, best_epoch, cancelled, first_epoch = math.inf, None, False, 1
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint.get("scheduler"):
            scheduler.load_state_dict(checkpoint["scheduler"])
        first_epoch = checkpoint["epoch"] + 1
        best_loss, best_epoch = checkpoint["bestLoss"], checkpoint["bestEpoch"]
    elif ranks.leader:
        # What training starts from, for "what did it change?": filters before and after.
        save_torch(os.path.join(run_dir, "init.pt"), model.state_dict())
    for epoch in range(first_epoch, epochs + 1):
        model.train()
        epoch_started, seen, last_report = time.time(), 0, 0.0
        running_loss = torch.zeros((), device=device)  # summed on the device: reading it every step would stall a GPU
        unreported = []
        # Seeded per epoch, so that a resumed run shuffles as the uninterrupted one would.
        permutation = torch.randperm(len(train_split), generator=torch.Generator().manual_seed(config["seed"] * 1000 + epoch))
        order = permutation[: shard * ranks.size][ranks.rank :: ranks.size]
        for step, (x, y) in enumerate(train_split.batches(batch, order, augmentation, augment_generator), start=1):
            commands.running.wait()
            # Several ranks agree on stopping every tenth step: a collective per step would cost a GPU.
            if (ranks.size == 1 or step % 10 == 1) and ranks.any(commands.stop.is_set()):
                cancelled = True
                break
            optimizer.zero_grad(set_to_none=True)
            if epoch == 1 and step <= warm_up_steps:
                for group in optimizer.param_groups:
                    group["lr"] = base_lr * step / warm_up_steps
            first_steps.before_step()
            with precision.autocast():
                loss = criterion(current["stepper"](x).float(), y)
            precision.backward_and_step(loss, optimizer)
            measured = first_steps.after_step(len(x))
            if measured is not None and ranks.speaks:
                chosen, tried = measured
                send("tuned", chosen=chosen, tried=tried, precision=precision.name, compiled=current["stepper"] is compiled)
            if start_up is not None:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start_up.lap("first step")
                if ranks.speaks:
                    start_up.report()
                start_up = None
            if scheduler is not None and per_step:
                scheduler.step()
            running_loss += loss.detach() * len(x)  # averaged over samples, not batches
            seen += len(x)
            if ranks.leader:
                unreported.append(loss.detach())  # read at the next report, not here: reading every step would stall a GPU
            now = time.time()
            if ranks.leader and (now - last_report >= 0.5 or step == steps):
                last_report = now
                losses = torch.stack(unreported).float().tolist()
                unreported.clear()
                first = step - len(losses) + 1
                bad = next((i for i, value in enumerate(losses) if not math.isfinite(value)), None)
                if bad is not None:
                    raise TrainingError(f"the loss became {losses[bad]} at epoch {epoch}, step {first + bad}: lower the learning rate ({config['lr']})")
                rate = seen * ranks.size / max(now - epoch_started, 1e-9)
                remaining = (steps - step) * batch * ranks.size + (epochs - epoch) * shard * ranks.size
                lr = optimizer.param_groups[0]["lr"]
                send("progress", epoch=epoch, epochs=epochs, step=step, steps=steps, loss=losses[-1], losses=losses, imagesPerSecond=rate, lr=lr, etaSeconds=remaining / max(rate, 1e-9))
                metrics.rows([("step", epoch, first + i, value, None, None, lr, rate, now - started) for i, value in enumerate(losses)])
        if cancelled:
            break
        if scheduler is not None and not per_step:
            scheduler.step()
        if not ranks.leader:
            continue
        train_loss = running_loss.item() / max(seen, 1)
        if not math.isfinite(train_loss):
            raise TrainingError(f"the loss became {train_loss} in epoch {epoch}: lower the learning rate ({config['lr']})")
        valid_loss, valid_accuracy = (None, None)
        if len(valid_split):
            valid_loss, valid_accuracy, _ = evaluate(model, criterion, valid_split, evaluation_batch, precision.autocast)
        seconds = time.time() - epoch_started
        send("epoch", epoch=epoch, trainLoss=train_loss, validLoss=valid_loss, validAccuracy=valid_accuracy, seconds=seconds)
        metrics.row("epoch", epoch, steps, train_loss, valid_loss, valid_accuracy, optimizer.param_groups[0]["lr"], seen * ranks.size / max(seconds, 1e-9), time.time() - started)
        # The course's rule: keep the model whose validation loss is the lowest so far.
        score = valid_loss if valid_loss is not None else train_loss
        if score < best_loss:
            message = None if best_loss == math.inf else f"validation loss decreased ({best_loss:.6f} → {score:.6f})"
            best_loss, best_epoch = score, epoch
            save_torch(os.path.join(run_dir, "best.pt"), model.state_dict())
            send("checkpoint", path=os.path.join(run_dir, "best.pt"), best=True, message=message)
        save_torch(os.path.join(run_dir, "last.pt"), {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "bestLoss": best_loss, "bestEpoch": best_epoch, "scheduler": scheduler_state(scheduler)})
        send("checkpoint", path=os.path.join(run_dir, "last.pt"), best=False, message=None)
        if epoch == 1:
            save_torch(os.path.join(run_dir, "epoch-1.pt"), model.state_dict())

    agree = ranks.weights_agree(model)
    if not ranks.leader:
        if ranks.speaks:
            log(f"this machine trained ranks {ranks.rank}–{ranks.rank + ranks.local_size - 1} of {ranks.size}; the checkpoints and the report are in rank 0's run folder, on its machine")
            send("done", status="cancelled" if cancelled else "completed", runDir=run_dir, seconds=time.time() - started)
        return
    if ranks.size > 1:
        state["distributed"]["weightsAgree"] = agree
        if not agree:
            log(f"the {ranks.size} ranks ended with different weights: DistributedDataParallel lost step; the run folder holds rank 0's")
    summary = {"bestEpoch": best_epoch, "bestValidLoss": None if best_loss == math.inf else best_loss}
    if not cancelled and best_epoch is not None:
        model.load_state_dict(safe_load(os.path.join(run_dir, "best.pt"), map_location=device))
        test_loss, test_accuracy, confusion = evaluate(model, criterion, test_split, evaluation_batch, precision.autocast, classes)
        per_class = [{"name": name, "correct": int(confusion[i, i]), "total": int(confusion[i].sum())} for i, name in enumerate(classes)]
        send("test", loss=test_loss, accuracy=test_accuracy, perClass=per_class, confusion=confusion.tolist())
        send_samples(model, test_x, test_split)
        summary.update(testLoss=test_loss, testAccuracy=test_accuracy)
    state.update(status="cancelled" if cancelled else "completed", finishedAt=time.time(), summary=summary)
    save_json(os.path.join(run_dir, "run.json"), state)
    send("done", status=state["status"], runDir=run_dir, seconds=time.time() - started)


LOST_PEER = ("Connection closed by peer", "Connection reset by peer", "Broken pipe", "NCCL communicator was aborted", "socket has timed out")


def lost_peer(error, ranks):
    """A collective that failed because another process or machine of the run went away, said plainly."""
    if ranks.size == 1 or not any(sign in str(error) for sign in LOST_PEER):
        return None
    return (f"another machine or process of this {ranks.size}-process run went away, so the run stopped ({str(error).strip()}); "
            "the run folder keeps the checkpoints of the last finished epoch")


def main():
    run_dir = sys.argv[1]
    ranks = Ranks()
    if not ranks.speaks:
        global _out
        _out = None
    commands = Commands(listen=ranks.speaks)
    try:
        train(run_dir, commands, resume="--resume" in sys.argv[2:], ranks=ranks)
        ranks.leave()
    except BaseException as error:
        lost = lost_peer(error, ranks)
        detail = None if isinstance(error, TrainingError) or lost else traceback.format_exc(limit=8)
        message = str(error) if isinstance(error, TrainingError) else lost or f"{type(error).__name__}: {error}"
        if not ranks.speaks:
            log(f"rank {ranks.rank}: {message}")
            sys.exit(1)
        if ranks.leader:
            with contextlib.suppress(Exception):
                path = os.path.join(run_dir, "run.json")
                state = json.load(open(path)) if os.path.exists(path) else {}
                state.update(status="failed", finishedAt=time.time(), error=message)
                save_json(path, state)
        send("error", message=message, detail=detail)
        sys.exit(1)


if __name__ == "__main__":
    main()
