"""The datasets the engine reads, as uint8 image tensors and labels: MNIST and Fashion-MNIST (IDX files),
CIFAR-10 (binary batches), the synthetic strokes, and folders of images."""
import gzip
import math
import os
import struct

from .protocol import TrainingError


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
