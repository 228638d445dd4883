"""CNN Lab's torch engine: trains the user's nn.Module and reports as it goes.

    python3 train.py RUN_DIR [--resume]

RUN_DIR holds config.json (written by the extension or the CLI). With --resume, the run continues
from its last.pt (model, optimizer, epoch and best validation loss) in the same folder. The engine writes there:
run.json (config, versions, status, summary), metrics.csv, best.pt (state_dict, whenever the
validation loss improves) and last.pt (model, optimizer and epoch, for resuming); the host keeps
train.log from the events and stderr.
Events go to stdout as JSON lines (the trainer protocol, src/core/protocol/trainer.ts); commands
come on stdin ("stop", "pause", "resume"), and stdin closing means stop. stderr is a log.
It imports the user's code: the extension runs it only in a trusted workspace.
"""
import contextlib
import gzip
import importlib.util
import io
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


def send(event_type, **fields):
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


class Metrics:
    """metrics.csv: one line per logged step and per epoch, each written whole, so a kill leaves no torn line."""

    header = "kind,epoch,step,train_loss,valid_loss,valid_accuracy,lr,images_per_second,seconds\n"

    def __init__(self, path):
        self.handle = open(path, "a", buffering=1)
        if self.handle.tell() == 0:
            self.handle.write(self.header)

    def row(self, *values):
        self.handle.write(",".join("" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in values) + "\n")


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


def image_folder(root, image_size, seed):
    """Images in one sub-folder per class (torchvision's ImageFolder layout). With train/ and test/ (or
    val/) sub-folders those are the splits; otherwise a seeded fifth of each class is held out for testing.
    Every image is resized to image_size (or to the first image's size) and kept grey when all are grey."""
    import torch

    try:
        from PIL import Image
    except ImportError as error:
        raise TrainingError("reading PNG and JPEG images needs Pillow: pip install pillow") from error

    def listing(folder):
        classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))
        return classes, [(os.path.join(folder, c, f), i) for i, c in enumerate(classes) for f in sorted(os.listdir(os.path.join(folder, c))) if f.lower().endswith(IMAGE_EXTENSIONS)]

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
    if len(classes) < 2 or not train_files or not test_files:
        raise TrainingError(f"{root} needs at least two class folders of PNG or JPEG images (found {len(classes)} classes, {len(train_files) + len(test_files)} images)")

    def open_image(path):
        try:
            return Image.open(path)
        except Exception as error:
            raise TrainingError(f"{path} is not an image Pillow can read: {error}") from error

    def header(path):
        with open_image(path) as image:  # reads the header only
            return image.size, image.mode

    size = (image_size, image_size) if image_size else header(train_files[0][0])[0]
    mode = "L" if all(header(p)[1] in ("L", "1", "I;16", "I") for p, _ in train_files + test_files) else "RGB"
    channels = 1 if mode == "L" else 3

    def read(files):
        images = torch.empty(len(files), channels, size[1], size[0], dtype=torch.uint8)
        for i, (path, _) in enumerate(files):
            with open_image(path) as image:
                image = image.convert(mode).resize(size)
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


# ---------------------------------------------------------------- augmentation

def augment(images, settings, generator):
    """Random horizontal flips, rotations within ±degrees and crops with padding, for a whole batch at once.

    Rotation and crop are one affine resampling per image: a crop with padding is a shift by a whole
    number of pixels with zeros coming in, which nearest-neighbour sampling reproduces exactly.
    """
    import torch
    import torch.nn.functional as F

    flip, degrees, padding = settings.get("flip", False), settings.get("rotation", 0), settings.get("cropPadding", 0)
    count, _, height, width = images.shape
    if flip:
        mask = torch.rand(count, generator=generator) < 0.5
        images = torch.where(mask[:, None, None, None], images.flip(-1), images)
    if not degrees and not padding:
        return images
    angle = (torch.rand(count, generator=generator) * 2 - 1) * math.radians(degrees)
    shift = torch.randint(-padding, padding + 1, (count, 2), generator=generator).float() if padding else torch.zeros(count, 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([
        torch.stack([cos, -sin, shift[:, 0] * 2 / width], dim=1),
        torch.stack([sin, cos, shift[:, 1] * 2 / height], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear" if degrees else "nearest", padding_mode="zeros", align_corners=False)


# ---------------------------------------------------------------- the user's model

def load_model(path, class_name):
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("cnnlab_user_model", path)
    module = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # stdout carries the protocol
            spec.loader.exec_module(module)
    except SyntaxError as error:
        raise TrainingError(f"{os.path.basename(path)} line {error.lineno}: {error.msg}") from error
    except BaseException as error:
        raise TrainingError(f"importing {os.path.basename(path)} failed: {type(error).__name__}: {error}") from error
    cls = getattr(module, class_name, None)
    if cls is None:
        raise TrainingError(f"{os.path.basename(path)} has no class {class_name}")
    try:
        return cls()
    except BaseException as error:
        raise TrainingError(f"{class_name}() failed: {type(error).__name__}: {error}") from error


# ---------------------------------------------------------------- training

class Commands:
    """Reads stop/pause/resume from stdin; stdin closing means stop."""

    def __init__(self):
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
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


def pick_device(wanted):
    import torch

    if wanted in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda"), torch.cuda.get_device_name(0)
    if wanted == "cuda":
        raise TrainingError("device cuda was asked for, but PyTorch sees no CUDA GPU")
    mps = getattr(torch.backends, "mps", None)
    if wanted == "auto" and mps is not None and mps.is_available():
        return torch.device("mps"), "Apple MPS"
    return torch.device("cpu"), f"{platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"


def mixed_precision(wanted, device):
    """float16 autocast and a gradient scaler on CUDA when asked for; float32 everywhere else."""
    import torch

    if not wanted:
        return contextlib.nullcontext, None
    if device.type != "cuda":
        log(f"mixed precision needs a CUDA GPU; training in float32 on {device.type}")
        return contextlib.nullcontext, None
    scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()  # torch 2.3+ / 1.13
    return (lambda: torch.autocast(device_type="cuda", dtype=torch.float16)), scaler


def evaluate(model, criterion, images, labels, batch_size, device, classes=None):
    import torch

    model.eval()
    total_loss, correct = 0.0, 0
    confusion = torch.zeros(len(classes or []), len(classes or []), dtype=torch.long) if classes else None
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x, y = images[start : start + batch_size].to(device), labels[start : start + batch_size].to(device)
            output = model(x)
            total_loss += criterion(output, y).item() * len(x)
            predicted = output.argmax(1)
            correct += (predicted == y).sum().item()
            if confusion is not None:
                confusion.index_put_((y.cpu(), predicted.cpu()), torch.ones(len(y), dtype=torch.long), accumulate=True)
    return total_loss / max(len(images), 1), correct / max(len(images), 1), confusion


def send_samples(model, raw_images, images, labels, device):
    """The first test images (as stored, uint8) with what the model says they are: the course's green/red grid."""
    import base64

    import torch

    count = max(1, min(32, len(raw_images), (1 << 20) // max(raw_images[0].numel(), 1)))
    model.eval()
    with torch.no_grad():
        predicted = model(images[:count].to(device)).argmax(1).cpu()
    pixels = base64.b64encode(bytes(raw_images[:count].flatten().tolist())).decode()
    send("samples", shape=list(raw_images[:count].shape), pixels=pixels, labels=labels[:count].tolist(), predicted=predicted.tolist())


def train(run_dir, commands, resume):
    import torch
    from torch import nn

    started = time.time()
    config = json.load(open(os.path.join(run_dir, "config.json")))
    checkpoint = None
    if resume:
        last = os.path.join(run_dir, "last.pt")
        if not os.path.isfile(last):
            raise TrainingError(f"nothing to resume: {run_dir} has no last.pt (the run ended before its first epoch did)")
        checkpoint = torch.load(last, map_location="cpu")
    torch.manual_seed(config["seed"])
    torch.set_num_threads(os.cpu_count() or 1)
    device, device_name = pick_device(config["device"])
    versions = {"python": platform.python_version(), "torch": torch.__version__, "torchvision": None}
    with contextlib.suppress(Exception):
        versions["torchvision"] = __import__("torchvision").__version__
    send("hello", protocol=PROTOCOL, engine="torch", versions=versions, device={"type": device.type, "name": device_name})
    state = {"config": config, "versions": versions, "device": device_name, "status": "running", "startedAt": started, "summary": None}
    if checkpoint is not None:
        with contextlib.suppress(Exception):
            state = {**json.load(open(os.path.join(run_dir, "run.json"))), "status": "running", "resumedAt": started, "config": config}
    save_json(os.path.join(run_dir, "run.json"), state)

    (train_x, train_y), (test_x, test_y), classes = load_dataset(config)
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(config["seed"]))
    validation_count = int(len(train_x) * config["validSplit"])
    valid_index, train_index = order[:validation_count], order[validation_count:]
    normalize = config.get("normalize", "dataset")
    if normalize == "none":  # pixels in [0, 1], as the course's ToTensor() alone gives
        mean, std = torch.zeros(train_x.shape[1]), torch.ones(train_x.shape[1])
    elif normalize == "dataset":
        scale = train_x[train_index].float() / 255
        mean, std = scale.mean(dim=(0, 2, 3)), scale.std(dim=(0, 2, 3))
        del scale
    else:  # a given value, such as the course's 0.5: (x - 0.5) / 0.5 on every channel
        mean = std = torch.full((train_x.shape[1],), float(normalize))

    def prepare(x):
        return ((x.float() / 255) - mean[None, :, None, None]) / std[None, :, None, None]

    train_images, train_labels = prepare(train_x[train_index]), train_y[train_index]
    valid_images, valid_labels = prepare(train_x[valid_index]), train_y[valid_index]
    test_images, test_labels = prepare(test_x), test_y
    send("dataset", name=config["dataset"], train=len(train_images), validation=len(valid_images), test=len(test_images), classes=classes,
         shape=list(train_images.shape[1:]), mean=mean.tolist(), std=std.tolist())

    model = load_model(config["modelFile"], config["className"]).to(device)
    with torch.no_grad():
        model.eval()
        try:
            probe = model(train_images[:2].to(device))
        except BaseException as error:
            raise TrainingError(f"{config['className']}.forward failed on a batch of shape {list(train_images[:2].shape)}: {type(error).__name__}: {error}") from error
    # A model that ends in log_softmax wants NLL; one that gives raw scores, cross-entropy.
    log_probabilities = bool((probe <= 0).all() and torch.allclose(probe.exp().sum(1), torch.ones(len(probe), device=device), atol=1e-3))
    criterion = nn.NLLLoss() if log_probabilities else nn.CrossEntropyLoss()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    send("model", className=config["className"], totalParams=total, trainableParams=trainable, loss="nll" if log_probabilities else "cross_entropy")

    optimizers = {
        "sgd": lambda params: torch.optim.SGD(params, lr=config["lr"], momentum=config["momentum"], weight_decay=config["weightDecay"]),
        "adam": lambda params: torch.optim.Adam(params, lr=config["lr"], weight_decay=config["weightDecay"]),
        "adamw": lambda params: torch.optim.AdamW(params, lr=config["lr"], weight_decay=config["weightDecay"]),
    }
    optimizer = optimizers[config["optimizer"]](model.parameters())
    metrics = Metrics(os.path.join(run_dir, "metrics.csv"))
    batch, epochs = config["batchSize"], config["epochs"]
    steps = math.ceil(len(train_images) / batch)
    schedule = config.get("schedule", "none")
    # Cosine and one-cycle move every step; step decay divides by ten every third of the run.
    scheduler = {
        "none": lambda: None,
        "step": lambda: torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1),
        "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps),
        "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config["lr"], total_steps=epochs * steps),
    }[schedule]()
    per_step = schedule in ("cosine", "onecycle")
    autocast, scaler = mixed_precision(config.get("mixedPrecision", False), device)
    augmentation = config.get("augment") or {}
    augment_generator = torch.Generator().manual_seed(config["seed"] + 7)
    best_loss, best_epoch, cancelled, first_epoch = math.inf, None, False, 1
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint.get("scheduler"):
            scheduler.load_state_dict(checkpoint["scheduler"])
        first_epoch = checkpoint["epoch"] + 1
        best_loss, best_epoch = checkpoint["bestLoss"], checkpoint["bestEpoch"]
    for epoch in range(first_epoch, epochs + 1):
        model.train()
        epoch_started, seen, running_loss = time.time(), 0, 0.0
        last_report = 0.0
        # Seeded per epoch, so that a resumed run shuffles as the uninterrupted one would.
        permutation = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(config["seed"] * 1000 + epoch))
        for step in range(1, steps + 1):
            commands.running.wait()
            if commands.stop.is_set():
                cancelled = True
                break
            index = permutation[(step - 1) * batch : step * batch]
            x, y = train_images[index], train_labels[index].to(device)
            if augmentation:
                x = augment(x, augmentation, augment_generator)
            x = x.to(device)
            optimizer.zero_grad()
            with autocast():
                loss = criterion(model(x), y)
            if not torch.isfinite(loss):
                raise TrainingError(f"the loss became {loss.item()} at epoch {epoch}, step {step}: lower the learning rate ({config['lr']})")
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            if scheduler is not None and per_step:
                scheduler.step()
            running_loss += loss.item() * len(x)  # averaged over samples, not batches
            seen += len(x)
            now = time.time()
            if now - last_report >= 0.5 or step == steps:
                last_report = now
                rate = seen / max(now - epoch_started, 1e-9)
                remaining = (steps - step) * batch + (epochs - epoch) * len(train_images)
                lr = optimizer.param_groups[0]["lr"]
                send("progress", epoch=epoch, epochs=epochs, step=step, steps=steps, loss=loss.item(), imagesPerSecond=rate, lr=lr, etaSeconds=remaining / max(rate, 1e-9))
                metrics.row("step", epoch, step, loss.item(), None, None, lr, rate, now - started)
        if cancelled:
            break
        if scheduler is not None and not per_step:
            scheduler.step()
        train_loss = running_loss / max(seen, 1)
        valid_loss, valid_accuracy = (None, None)
        if len(valid_images):
            valid_loss, valid_accuracy, _ = evaluate(model, criterion, valid_images, valid_labels, batch, device)
        seconds = time.time() - epoch_started
        send("epoch", epoch=epoch, trainLoss=train_loss, validLoss=valid_loss, validAccuracy=valid_accuracy, seconds=seconds)
        metrics.row("epoch", epoch, steps, train_loss, valid_loss, valid_accuracy, optimizer.param_groups[0]["lr"], seen / max(seconds, 1e-9), time.time() - started)
        # The course's rule: keep the model whose validation loss is the lowest so far.
        score = valid_loss if valid_loss is not None else train_loss
        if score < best_loss:
            message = None if best_loss == math.inf else f"validation loss decreased ({best_loss:.6f} → {score:.6f})"
            best_loss, best_epoch = score, epoch
            save_torch(os.path.join(run_dir, "best.pt"), model.state_dict())
            send("checkpoint", path=os.path.join(run_dir, "best.pt"), best=True, message=message)
        save_torch(os.path.join(run_dir, "last.pt"), {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "bestLoss": best_loss, "bestEpoch": best_epoch, "scheduler": scheduler.state_dict() if scheduler is not None else None})
        send("checkpoint", path=os.path.join(run_dir, "last.pt"), best=False, message=None)

    summary = {"bestEpoch": best_epoch, "bestValidLoss": None if best_loss == math.inf else best_loss}
    if not cancelled and best_epoch is not None:
        model.load_state_dict(torch.load(os.path.join(run_dir, "best.pt"), map_location=device))
        test_loss, test_accuracy, confusion = evaluate(model, criterion, test_images, test_labels, batch, device, classes)
        per_class = [{"name": name, "correct": int(confusion[i, i]), "total": int(confusion[i].sum())} for i, name in enumerate(classes)]
        send("test", loss=test_loss, accuracy=test_accuracy, perClass=per_class, confusion=confusion.tolist())
        send_samples(model, test_x, test_images, test_labels, device)
        summary.update(testLoss=test_loss, testAccuracy=test_accuracy)
    state.update(status="cancelled" if cancelled else "completed", finishedAt=time.time(), summary=summary)
    save_json(os.path.join(run_dir, "run.json"), state)
    send("done", status=state["status"], runDir=run_dir, seconds=time.time() - started)


def main():
    run_dir = sys.argv[1]
    commands = Commands()
    try:
        train(run_dir, commands, resume="--resume" in sys.argv[2:])
    except BaseException as error:
        detail = None if isinstance(error, TrainingError) else traceback.format_exc(limit=8)
        message = str(error) if isinstance(error, TrainingError) else f"{type(error).__name__}: {error}"
        with contextlib.suppress(Exception):
            path = os.path.join(run_dir, "run.json")
            state = json.load(open(path)) if os.path.exists(path) else {}
            state.update(status="failed", finishedAt=time.time(), error=message)
            save_json(path, state)
        send("error", message=message, detail=detail)
        sys.exit(1)


if __name__ == "__main__":
    main()
