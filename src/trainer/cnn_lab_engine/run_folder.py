"""What the engine writes to the run folder: files replaced whole (run.json, checkpoints) and metrics.csv."""
import json
import math
import os


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
