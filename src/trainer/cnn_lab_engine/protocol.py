"""The engine's voice: events on stdout as JSON lines (the trainer protocol, src/core/protocol/trainer.ts),
the user's log on stderr, commands on stdin, and the start-up clock. One copy of this state serves
every module of the engine: a rank that must stay silent is silenced here, once."""
import json
import sys
import threading
import time

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


def silence():
    """A rank other than 0 (and not first on its machine) sends nothing: one voice on stdout."""
    global _out
    _out = None


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
