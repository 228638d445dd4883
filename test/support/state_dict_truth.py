"""PyTorch's own answer to "will this checkpoint load?", for test/unit/stateDictCheck.unit.test.ts.

Reads a JSON list of jobs on stdin. A job {"save": {"file", "build", "to", "wrap", "nest"}} builds the model
`build` of `file` and saves its state_dict to `to` (through nn.DataParallel when "wrap" says so, in
a dict under the key "nest" with an epoch beside it when given). A
job {"load": {"file", "build", "checkpoint", "key"}} builds the model of `file` and loads the checkpoint
(its entry `key` when given)
with load_state_dict(strict=True), and answers what PyTorch reports: the missing and unexpected keys
and the size mismatches, parsed from its error, or that it loaded. A model PyTorch cannot build is
answered with its error. Prints one JSON list of answers.
"""
import contextlib
import importlib.util
import json
import re
import sys
import uuid

import torch


def build(path, expression):
    spec = importlib.util.spec_from_file_location(f"cnnlab_model_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return eval(expression, vars(module))


def keys(text, label):
    found = re.search(label + r" in state_dict: (.*?)\.\s*$", text, re.M)
    return re.findall(r'"([^"]+)"', found.group(1)) if found else []


def answer(job):
    if "save" in job:
        save = job["save"]
        model = build(save["file"], save["build"])
        if save.get("wrap"):
            model = torch.nn.DataParallel(model)
        state = model.state_dict()
        torch.save({"epoch": 3, save["nest"]: state} if save.get("nest") else state, save["to"])
        return {"saved": save["to"]}
    load = job["load"]
    model = build(load["file"], load["build"])
    state = torch.load(load["checkpoint"], map_location="cpu")
    if load.get("key"):
        state = state[load["key"]]
    try:
        model.load_state_dict(state, strict=True)
        return {"missing": [], "unexpected": [], "mismatched": []}
    except RuntimeError as error:
        text = str(error)
        mismatched = re.findall(r"size mismatch for (\S+): copying a param with shape torch\.Size\(\[([^\]]*)\]\) from checkpoint, the shape in current model is torch\.Size\(\[([^\]]*)\]\)", text)
        shape = lambda s: [int(d) for d in s.split(",") if d.strip()]
        return {
            "missing": keys(text, "Missing key\\(s\\)"),
            "unexpected": keys(text, "Unexpected key\\(s\\)"),
            "mismatched": [{"key": k, "checkpoint": shape(a), "model": shape(b)} for k, a, b in mismatched],
        }


def main():
    answers = []
    jobs = json.load(sys.stdin)
    # What the model files print goes to stderr: stdout carries the answers alone.
    with contextlib.redirect_stdout(sys.stderr):
        for job in jobs:
            try:
                answers.append(answer(job))
            except Exception as error:  # a model PyTorch cannot build is no pair
                answers.append({"error": f"{type(error).__name__}: {error}"[:300]})
    print(json.dumps(answers))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
