"""Where and how fast the engine trains: the ranks torchrun started, the device, the precision, CPU
threads, the choices measured over the first steps, the batch size and the learning rate that goes with it."""
import contextlib
import os
import platform
import time

from .protocol import TrainingError, log


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
    PyTorch at 2 and OpenBLAS at 1). Which split wins depends on the model, so both are measured.
    CNN_LAB_THREAD_SPLIT=torch (all cores to PyTorch) or =blas (all to OpenBLAS) keeps one, unmeasured:
    the test suites run under each, so that what a run learns holds whichever split it picks."""
    if blas is None or cores < 2:
        return [(cores, None)]
    splits = {"torch": (cores, 1), "blas": (1, cores)}
    forced = os.environ.get("CNN_LAB_THREAD_SPLIT")
    return [splits[forced]] if forced in splits else list(splits.values())


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
