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

This file holds the run itself (train(), evaluate(), main()); the rest is in the cnn_lab_engine
package beside it: protocol.py (events, log, commands, the start-up clock), run_folder.py (the files it writes),
datasets.py (the datasets it reads), batches.py (batches, augmentation, normalization statistics),
user_model.py (load_model, the one loader of model files), data_fit.py (whether the model fits the
data) and devices.py (ranks, device, precision, threads, batch size and learning rate).
"""
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
import traceback

from cnn_lab_engine.batches import DeviceSplit, LoaderSplit, channel_histograms, channel_statistics
from cnn_lab_engine.data_fit import FirstLayer, check_outputs, dataset_label
from cnn_lab_engine.datasets import load_dataset
from cnn_lab_engine.devices import FirstSteps, Precision, Ranks, describe_threads, fits_on, learning_rate, openblas, pick_batch_size, pick_device, precisions_to_try, thread_splits
from cnn_lab_engine.protocol import PROTOCOL, Commands, StartUp, TrainingError, log, send, silence
from cnn_lab_engine.run_folder import Metrics, save_json, save_torch, scheduler_state
from cnn_lab_engine.user_model import load_model


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


def first_forward(model, probe_images, config, classes, channels_last):
    """The model's output on two training images, in eval mode without gradients, and whether it
    trains channels_last (tried when asked for): a model that does not fit the data fails here, saying why."""
    import torch

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
    return probe, channels_last


def report_test(model, criterion, test_split, batch_size, autocast, classes, raw_images):
    """The end-of-run report on the test split: loss, accuracy, per class and confusion, then the sample grid."""
    test_loss, test_accuracy, confusion = evaluate(model, criterion, test_split, batch_size, autocast, classes)
    per_class = [{"name": name, "correct": int(confusion[i, i]), "total": int(confusion[i].sum())} for i, name in enumerate(classes)]
    send("test", loss=test_loss, accuracy=test_accuracy, perClass=per_class, confusion=confusion.tolist())
    send_samples(model, raw_images, test_split)
    return test_loss, test_accuracy


def train(run_dir, commands, resume, ranks):
    import torch
    from torch import nn

    from cnn_lab_engine.safe_load import UnsafeCheckpoint, safe_load

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
    probe, channels_last = first_forward(model, probe_images, config, classes, fast and device.type == "cuda" and probe_images.dim() == 4)
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
        test_loss, test_accuracy = report_test(model, criterion, test_split, evaluation_batch, precision.autocast, classes, test_x)
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
        silence()
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
