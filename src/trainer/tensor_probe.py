"""What CNN Lab's View Tensor asks a paused Python program through the debugger's `evaluate`.

The host sends this file's text and calls `probe(VALUE, LIMIT[, send_values])`, run by `exec` in a namespace of
its own: nothing is imported into the program's modules or written to its variables. It describes
torch tensors, numpy arrays and PIL images (what they are is read from their types, never from a
`repr` that could lie) and answers one JSON line: shape, dtype, device, statistics and at most LIMIT
values as float32 (base64), sampled with a stride when there are more, and saying so. A CUDA tensor's
sample is copied to the CPU; statistics come from the sample when the tensor is larger than LIMIT.
"""


def probe(value, limit, send_values=True):
    import base64
    import json
    import sys

    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    image = getattr(sys.modules.get("PIL.Image"), "Image", None)
    note = None
    if torch is not None and isinstance(value, torch.Tensor):
        kind, tensor = "torch", value.detach()
        shape, dtype, device = list(tensor.shape), str(tensor.dtype).replace("torch.", ""), str(tensor.device)
        if tensor.device.type == "meta":
            return json.dumps({"kind": kind, "shape": shape, "dtype": dtype, "device": device, "note": "a meta tensor holds no values"})
        if tensor.is_complex():
            return json.dumps({"kind": kind, "shape": shape, "dtype": dtype, "device": device, "note": "complex values are not drawn"})
    elif numpy is not None and isinstance(value, numpy.ndarray):
        kind, array = "numpy", value
        shape, dtype, device = list(array.shape), str(array.dtype), "cpu"
        if array.dtype.kind not in "biuf":
            return json.dumps({"kind": kind, "shape": shape, "dtype": dtype, "device": device, "note": f"{dtype} values are not numbers to draw"})
    elif image is not None and isinstance(value, image) and numpy is not None:
        kind, array = "pil", numpy.asarray(value)
        shape, dtype, device = list(array.shape), f"uint8 ({value.mode})", "cpu"
    else:
        return json.dumps({"kind": "other", "type": f"{type(value).__module__}.{type(value).__qualname__}"[:200]})

    if numpy is None:
        return json.dumps({"kind": kind, "shape": shape, "dtype": dtype, "device": device, "note": "numpy is needed to read the values"})
    count = 1
    for size in shape:
        count *= size
    # Each axis strided alike until the sample fits: a picture of the whole, not its first rows.
    step = 1
    while count and _sampled(shape, step) > limit:
        step += 1
    index = tuple(slice(None, None, step) for _ in shape)
    source = tensor[index].float().cpu().numpy() if kind == "torch" else array[index]
    values = numpy.ascontiguousarray(source, dtype="<f4")
    stats = {"min": None, "max": None, "mean": None, "std": None, "nan": int(numpy.isnan(values).sum()), "inf": int(numpy.isinf(values).sum())}
    finite = values[numpy.isfinite(values)].astype("float64")
    if finite.size:
        stats.update(min=float(finite.min()), max=float(finite.max()), mean=float(finite.mean()), std=float(finite.std()))
    if step > 1:
        note = f"{count:,} values: every {step}th along each axis is shown ({values.size:,} of them), and the statistics are of those"
    answer = {"kind": kind, "shape": shape, "dtype": dtype, "device": device, "step": step, "sampledShape": list(values.shape), "stats": stats, "note": note}
    if send_values:  # a hover wants the statistics alone
        answer["values"] = base64.b64encode(values.tobytes()).decode()
    return json.dumps(answer)


def _sampled(shape, step):
    count = 1
    for size in shape:
        count *= len(range(0, size, step))
    return count
