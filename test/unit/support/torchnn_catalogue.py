"""torch.nn's own answers for the shape engine's catalogue test (torchnn.catalogue.unit.test.ts).

Lists every nn.Module subclass in torch.nn, builds each covered class over a grid of constructor
arguments, runs it on random inputs and prints JSON: the constructor arguments as JSON values, the
input shapes, the output shape (nested lists for tuples, null for None) and the parameter count,
taken after the forward so that lazy layers have materialized. A case PyTorch refuses is listed
under "refused", which the test treats as a failure of this grid.

Usage: /usr/bin/python3 test/unit/support/torchnn_catalogue.py > catalogue.json
"""

import inspect
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def floats(*shape):
    return lambda module: torch.randn(*shape)


def longs(high, *shape):
    return lambda module: torch.randint(0, high, shape)


def signs(*shape):
    return lambda module: torch.randint(0, 2, shape).float() * 2 - 1


def probabilities(*shape):
    return lambda module: torch.rand(*shape)


def size(*values):
    """A non-tensor forward argument (MaxUnpool's output_size), handed to the analysis as a shape."""
    return lambda module: torch.Size(values)


def layer(type_, *args, **kwargs):
    """A module passed as an argument, written as JSON for the test to build first."""
    return {"module": type_, "args": list(args), "kwargs": kwargs}


CASES = []


def case(type_, args=(), kwargs=None, inputs=(), forward=None):
    if hasattr(nn, type_):
        CASES.append({"type": type_, "args": list(args), "kwargs": kwargs or {}, "inputs": list(inputs), "forward": forward})


def build(type_, args, kwargs):
    def value(v):
        if isinstance(v, dict) and "module" in v:
            return build(v["module"], v["args"], v["kwargs"])
        return tuple(value(x) for x in v) if isinstance(v, list) else v

    return getattr(nn, type_)(*[value(a) for a in args], **{k: value(v) for k, v in kwargs.items()})


# Convolutions, plain and lazy, batched and unbatched.
for rank in (1, 2, 3):
    spatial = (9, 8, 7)[:rank]
    for transposed in (False, True):
        name = f"Conv{'Transpose' if transposed else ''}{rank}d"
        case(name, [4, 6, 3], {}, [floats(2, 4, *spatial)])
        case(name, [4, 6, 3], {"stride": 2, "padding": 1, "bias": False}, [floats(2, 4, *spatial)])
        case(name, [4, 8], {"kernel_size": 2, "groups": 2, "dilation": 2}, [floats(4, *spatial)])
        if transposed:
            case(name, [4, 6, 3, 2, 1, 1], {}, [floats(1, 4, *spatial)])
        else:
            case(name, [4, 6, 3], {"padding": "same", "padding_mode": "reflect"}, [floats(2, 4, *spatial)])
        case(f"Lazy{name}", [6, 3], {}, [floats(2, 5, *spatial)])
        case(f"Lazy{name}", [], {"out_channels": 4, "kernel_size": 2, "stride": 2, "groups": 2, "bias": False}, [floats(2, 6, *spatial)])

# Pools.
for rank in (1, 2, 3):
    spatial = (9, 8, 7)[:rank]
    for op in ("Max", "Avg"):
        case(f"{op}Pool{rank}d", [2], {}, [floats(2, 3, *spatial)])
        case(f"{op}Pool{rank}d", [3, 2, 1], {"ceil_mode": True}, [floats(3, *spatial)])
        case(f"Adaptive{op}Pool{rank}d", [4], {}, [floats(2, 3, *spatial)])
        case(f"Adaptive{op}Pool{rank}d", [[2, None, 3][:rank]], {}, [floats(3, *spatial)])
    case(f"MaxPool{rank}d", [3], {"stride": 2, "dilation": 2, "return_indices": True}, [floats(2, 3, *spatial)])
    case(f"AdaptiveMaxPool{rank}d", [3, True], {}, [floats(2, 3, *spatial)])
    case(f"LPPool{rank}d", [2, 3], {}, [floats(2, 3, *spatial)])
    case(f"LPPool{rank}d", [1, 2], {"stride": 1, "ceil_mode": True}, [floats(3, *spatial)])
case("AvgPool2d", [3], {"stride": 2, "padding": 1, "count_include_pad": False, "divisor_override": 2}, [floats(1, 2, 8, 8)])
for rank in (2, 3):
    spatial = (12, 10, 9)[:rank]
    name = f"FractionalMaxPool{rank}d"
    case(name, [2], {"output_size": 5}, [floats(2, 3, *spatial)])
    case(name, [3], {"output_ratio": 0.5}, [floats(2, 3, *spatial)])
    case(name, [2], {"output_ratio": [0.7, 0.3, 0.6][:rank], "return_indices": True}, [floats(3, *spatial)])


def unpool_inputs(rank, kernel, stride, padding, spatial, batched=True):
    pool = getattr(nn, f"MaxPool{rank}d")(kernel, stride, padding, return_indices=True)
    pooled, indices = pool(torch.randn(*(((2, 3) if batched else (3,)) + spatial)))
    return [lambda m: pooled, lambda m: indices]


# Sizes the pool's windows cover exactly, so that every index fits the default unpooled size.
for rank in (1, 2, 3):
    even, odd = (8, 6, 4)[:rank], (9, 7, 5)[:rank]
    case(f"MaxUnpool{rank}d", [2], {}, unpool_inputs(rank, 2, 2, 0, even))
    case(f"MaxUnpool{rank}d", [3, 2, 1], {}, unpool_inputs(rank, 3, 2, 1, odd, batched=False))
    case(f"MaxUnpool{rank}d", [2], {}, unpool_inputs(rank, 2, 2, 0, odd[:rank]) + [size(*odd)])

# Padding.
for rank in (1, 2, 3):
    spatial = (6, 5, 4)[:rank]
    widths = [1, 2, 0, 3, 2, 1][: 2 * rank]
    for kind in ("Reflection", "Replication", "Circular", "Zero"):
        case(f"{kind}Pad{rank}d", [2], {}, [floats(2, 3, *spatial)])
        case(f"{kind}Pad{rank}d", [widths], {}, [floats(3, *spatial)])
    case(f"ConstantPad{rank}d", [2, 3.5], {}, [floats(2, 3, *spatial)])
    case(f"ConstantPad{rank}d", [], {"padding": [-1, 2, 0, 1, 1, -1][: 2 * rank], "value": 0}, [floats(2, 3, *spatial)])

# Normalization.
for rank in (1, 2, 3):
    spatial = (6, 5, 4)[:rank]
    case(f"BatchNorm{rank}d", [3], {}, [floats(2, 3, *spatial)])
    case(f"BatchNorm{rank}d", [3, 1e-3, 0.2, False], {}, [floats(2, 3, *spatial)])
    case(f"InstanceNorm{rank}d", [3], {}, [floats(2, 3, *spatial)])
    case(f"InstanceNorm{rank}d", [3], {"affine": True}, [floats(3, *spatial)])
    case(f"LazyBatchNorm{rank}d", [], {}, [floats(2, 5, *spatial)])
    case(f"LazyBatchNorm{rank}d", [1e-3], {"affine": False}, [floats(2, 5, *spatial)])
    case(f"LazyInstanceNorm{rank}d", [], {}, [floats(2, 5, *spatial)])
    case(f"LazyInstanceNorm{rank}d", [], {"affine": False, "track_running_stats": False}, [floats(2, 5, *spatial)])
case("BatchNorm1d", [4], {}, [floats(3, 4)])
case("SyncBatchNorm", [3], {}, [floats(2, 3, 5, 5)], forward="SyncBatchNorm runs on GPUs only")
case("SyncBatchNorm", [3], {"affine": False}, [floats(2, 3)], forward="SyncBatchNorm runs on GPUs only")
case("LayerNorm", [5], {}, [floats(2, 3, 5)])
case("LayerNorm", [[3, 5]], {"elementwise_affine": False}, [floats(2, 3, 5)])
case("LayerNorm", [[4, 3]], {"eps": 1e-6}, [floats(4, 3)])
case("RMSNorm", [5], {}, [floats(2, 3, 5)])
case("RMSNorm", [[3, 5]], {"elementwise_affine": False}, [floats(2, 3, 5)])
case("GroupNorm", [2, 6], {}, [floats(2, 6, 4, 4)])
case("GroupNorm", [3, 6], {"affine": False}, [floats(2, 6, 5)])
case("LocalResponseNorm", [2], {}, [floats(2, 6, 4, 4)])
case("LocalResponseNorm", [3, 1e-3, 0.5, 2.0], {}, [floats(2, 6, 5)])
case("CrossMapLRN2d", [3], {}, [floats(2, 6, 4, 4)])

# Reshaping layers.
case("PixelShuffle", [2], {}, [floats(2, 8, 3, 4)])
case("PixelShuffle", [3], {}, [floats(2, 3, 18, 3, 4)])
case("PixelUnshuffle", [2], {}, [floats(2, 3, 4, 6)])
case("PixelUnshuffle", [3], {}, [floats(2, 9, 6)])
case("ChannelShuffle", [2], {}, [floats(2, 6, 3, 3)])
case("ChannelShuffle", [3], {}, [floats(2, 9, 4)])
case("Flatten", [], {}, [floats(2, 3, 4, 5)])
case("Flatten", [0, 2], {}, [floats(2, 3, 4, 5)])
case("Flatten", [], {"start_dim": -2}, [floats(2, 3, 4, 5)])
case("Unflatten", [1, [2, 6]], {}, [floats(4, 12, 3)])
case("Unflatten", [-1, [2, -1, 3]], {}, [floats(4, 12)])
case("Fold", [[4, 5], [2, 2]], {}, [floats(2, 12, 12)])
case("Fold", [6, 3], {"stride": 3}, [floats(18, 4)])
case("Fold", [[5, 5], 2], {"padding": 1, "dilation": 2}, [floats(1, 8, 25)])
case("Unfold", [2], {}, [floats(2, 3, 5, 6)])
case("Unfold", [[2, 3]], {"stride": 2, "padding": 1, "dilation": [1, 2]}, [floats(2, 3, 7, 8)])
case("Unfold", [3], {}, [floats(3, 5, 5)])

# Linear layers, embeddings, distances.
case("Identity", [], {}, [floats(2, 3)])
case("Identity", [54], {"unused_argument_1": 0.1}, [floats(2, 3, 4)])
case("Linear", [5, 3], {}, [floats(2, 5)])
case("Linear", [5, 3, False], {}, [floats(2, 4, 5)])
case("LazyLinear", [3], {}, [floats(2, 7)])
case("LazyLinear", [4], {"bias": False}, [floats(2, 3, 6)])
case("Bilinear", [3, 4, 5], {}, [floats(2, 3), floats(2, 4)])
case("Bilinear", [3, 4, 5, False], {}, [floats(2, 6, 3), floats(2, 6, 4)])
case("Embedding", [10, 4], {}, [longs(10, 2, 3)])
case("Embedding", [10, 4], {"padding_idx": 0, "max_norm": 1.0}, [longs(10, 5)])
case("EmbeddingBag", [10, 4], {}, [longs(10, 3, 5)])
case("EmbeddingBag", [10, 4], {"mode": "sum"}, [longs(10, 8), lambda m: torch.tensor([0, 3, 5])])
case("EmbeddingBag", [10, 4], {"mode": "max", "include_last_offset": True}, [longs(10, 8), lambda m: torch.tensor([0, 3, 5, 8])])
case("CosineSimilarity", [], {}, [floats(2, 5, 3), floats(2, 5, 3)])
case("CosineSimilarity", [-1], {}, [floats(2, 5, 3), floats(1, 5, 3)])
case("PairwiseDistance", [], {}, [floats(4, 6), floats(4, 6)])
case("PairwiseDistance", [1.0, 1e-6, True], {}, [floats(4, 6), floats(1, 6)])

# Activations and dropout.
for name, args in [
    ("ReLU", []), ("ReLU6", [True]), ("SELU", []), ("SiLU", []), ("Mish", []), ("Hardsigmoid", []), ("Hardswish", []),
    ("Sigmoid", []), ("Tanh", []), ("Softsign", []), ("Tanhshrink", []), ("LogSigmoid", []),
    ("Softmax", [1]), ("LogSoftmax", [-1]), ("Softmin", [0]), ("LeakyReLU", [0.2]), ("ELU", [0.5]), ("CELU", [2.0]),
    ("GELU", ["tanh"]), ("Softplus", [2, 10]), ("Softshrink", [0.3]), ("Hardshrink", []), ("Hardtanh", [-2.0, 2.0]),
    ("Threshold", [0.1, 20.0]), ("RReLU", [0.1, 0.3]), ("PReLU", []), ("Dropout", [0.2]), ("AlphaDropout", []),
    ("FeatureAlphaDropout", [0.1]),
]:
    case(name, args, {}, [floats(2, 3, 4)])
case("Softmax2d", [], {}, [floats(2, 3, 4, 5)])
case("Softmax2d", [], {}, [floats(3, 4, 5)])
case("PReLU", [3], {"init": 0.1}, [floats(2, 3, 4)])
case("Dropout1d", [], {}, [floats(2, 3, 4)])
case("Dropout2d", [0.3], {}, [floats(2, 3, 4, 5)])
case("Dropout3d", [], {"inplace": False}, [floats(2, 3, 4, 5, 6)])
case("GLU", [], {}, [floats(2, 3, 8)])
case("GLU", [1], {}, [floats(2, 6, 5)])
case("GLU", [], {"dim": 0}, [floats(4, 3)])

# Upsampling.
case("Upsample", [], {"scale_factor": 2}, [floats(2, 3, 4, 5)])
case("Upsample", [[6, 7]], {}, [floats(2, 3, 4, 5)])
case("Upsample", [None, 1.5, "linear"], {}, [floats(2, 3, 5)])
case("Upsample", [], {"scale_factor": [1.5, 2.3], "mode": "bilinear", "align_corners": True}, [floats(1, 2, 5, 7)])
case("Upsample", [], {"scale_factor": 1.7, "mode": "bicubic", "recompute_scale_factor": True}, [floats(1, 2, 5, 7)])
case("Upsample", [], {"size": [3, 4, 5], "mode": "trilinear"}, [floats(1, 2, 2, 2, 2)])
case("Upsample", [], {"scale_factor": 0.5, "mode": "area"}, [floats(1, 2, 9, 8)])
case("Upsample", [], {"scale_factor": 2.5, "mode": "nearest-exact"}, [floats(1, 2, 3)])
case("UpsamplingNearest2d", [], {"scale_factor": 3}, [floats(2, 3, 4, 5)])
case("UpsamplingNearest2d", [[5, 6]], {}, [floats(2, 3, 4, 5)])
case("UpsamplingBilinear2d", [], {"scale_factor": 1.5}, [floats(2, 3, 5, 5)])
case("UpsamplingBilinear2d", [7], {}, [floats(2, 3, 4, 5)])

# Recurrent layers: time first unless batch_first, then unbatched.
for name in ("RNN", "LSTM", "GRU"):
    case(name, [5, 7], {}, [floats(6, 2, 5)])
    case(name, [5, 7, 2], {"batch_first": True, "bidirectional": True}, [floats(2, 6, 5)])
    case(name, [5, 7], {"num_layers": 3, "bias": False, "dropout": 0.1}, [floats(6, 5)])
    case(name, [], {"input_size": 4, "hidden_size": 3, "bidirectional": True}, [floats(6, 4)])
case("RNN", [5, 7, 2], {"nonlinearity": "relu"}, [floats(6, 2, 5)])
case("LSTM", [5, 7], {"proj_size": 3}, [floats(6, 2, 5)])
case("LSTM", [5, 7, 2], {"proj_size": 4, "bidirectional": True, "batch_first": True}, [floats(2, 6, 5)])
for name in ("RNNCell", "LSTMCell", "GRUCell"):
    case(name, [5, 7], {}, [floats(3, 5)])
    case(name, [5, 7, False], {}, [floats(5)])
case("RNNCell", [5, 7], {"nonlinearity": "relu"}, [floats(3, 5)])

# Attention and transformers.
case("MultiheadAttention", [8, 2], {}, [floats(5, 3, 8), floats(4, 3, 8), floats(4, 3, 8)])
case("MultiheadAttention", [8, 4], {"batch_first": True, "kdim": 6, "vdim": 5}, [floats(3, 5, 8), floats(3, 4, 6), floats(3, 4, 5)])
case("MultiheadAttention", [8, 2, 0.0, False, True, True], {}, [floats(5, 3, 8), floats(4, 3, 8), floats(4, 3, 8)])
case("MultiheadAttention", [6, 3], {}, [floats(5, 6), floats(7, 6), floats(7, 6)])
case("TransformerEncoderLayer", [8, 2], {}, [floats(5, 3, 8)])
case("TransformerEncoderLayer", [8, 4, 16], {"batch_first": True, "norm_first": True}, [floats(3, 5, 8)])
case("TransformerEncoderLayer", [], {"d_model": 6, "nhead": 2, "dim_feedforward": 10}, [floats(5, 6)])
case("TransformerDecoderLayer", [8, 2], {}, [floats(5, 3, 8), floats(4, 3, 8)])
case("TransformerDecoderLayer", [8, 4, 16, 0.0, "gelu"], {"batch_first": True}, [floats(3, 5, 8), floats(3, 7, 8)])
case("TransformerEncoder", [layer("TransformerEncoderLayer", 8, 2, 16), 3], {}, [floats(5, 3, 8)])
case("TransformerEncoder", [layer("TransformerEncoderLayer", 8, 2, 16, batch_first=True)], {"num_layers": 2, "norm": layer("LayerNorm", 8)}, [floats(3, 5, 8)])
case("TransformerDecoder", [layer("TransformerDecoderLayer", 8, 2, 16), 2], {}, [floats(5, 3, 8), floats(4, 3, 8)])
case("TransformerDecoder", [layer("TransformerDecoderLayer", 8, 4, 12), 1, layer("LayerNorm", 8, elementwise_affine=False)], {}, [floats(5, 3, 8), floats(4, 3, 8)])
case("Transformer", [8, 2, 2, 1, 16], {}, [floats(5, 3, 8), floats(4, 3, 8)])
case("Transformer", [], {"d_model": 12, "nhead": 3, "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 20, "batch_first": True}, [floats(3, 5, 12), floats(3, 6, 12)])
case("Transformer", [8, 2], {"dim_feedforward": 16, "custom_encoder": layer("TransformerEncoder", layer("TransformerEncoderLayer", 8, 2, 10), 1)}, [floats(5, 3, 8), floats(4, 3, 8)])

# Losses, with each reduction; their targets follow the input.
for reduction in ("none", "mean", "sum"):
    kw = {"reduction": reduction}
    for name in ("L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "BCEWithLogitsLoss"):
        case(name, [], kw, [floats(3, 4, 5), floats(3, 4, 5)])
    case("BCELoss", [], kw, [probabilities(3, 4), probabilities(3, 4)])
    case("SoftMarginLoss", [], kw, [floats(3, 4), signs(3, 4)])
    case("HingeEmbeddingLoss", [], kw, [floats(3, 4), signs(3, 4)])
    case("GaussianNLLLoss", [], kw, [floats(3, 4), floats(3, 4), probabilities(3, 4)])
    case("MarginRankingLoss", [], kw, [floats(6), floats(6), signs(6)])
    case("CrossEntropyLoss", [], kw, [floats(3, 5, 4, 2), longs(5, 3, 4, 2)])
    case("CrossEntropyLoss", [], {**kw, "label_smoothing": 0.1}, [floats(5), longs(5)])
    case("NLLLoss", [], kw, [floats(3, 5), longs(5, 3)])
    case("NLLLoss2d", [], kw, [floats(3, 5, 2, 2), longs(5, 3, 2, 2)])
    case("CosineEmbeddingLoss", [], kw, [floats(3, 6), floats(3, 6), signs(3)])
    case("MultiMarginLoss", [], kw, [floats(3, 5), longs(5, 3)])
    case("MultiLabelMarginLoss", [], kw, [floats(3, 5), lambda m: torch.tensor([[1, 0, -1, 0, 0]] * 3)])
    case("MultiLabelSoftMarginLoss", [], kw, [floats(3, 5), longs(2, 3, 5)])
    case("TripletMarginLoss", [], kw, [floats(3, 6), floats(3, 6), floats(3, 6)])
    case("TripletMarginWithDistanceLoss", [], kw, [floats(3, 6), floats(3, 6), floats(3, 6)])
    case("CTCLoss", [], kw, [lambda m: torch.randn(10, 3, 6).log_softmax(2), lambda m: torch.randint(1, 6, (3, 4)), lambda m: torch.full((3,), 10), lambda m: torch.full((3,), 4)])
case("KLDivLoss", [], {"reduction": "batchmean", "log_target": True}, [floats(3, 4), floats(3, 4)])
case("MSELoss", [False, False], {}, [floats(3, 4), floats(3, 4)])
case("L1Loss", [False], {}, [floats(3, 4), floats(3, 4)])
case("AdaptiveLogSoftmaxWithLoss", [16, 20, [5, 10]], {}, [floats(4, 16), longs(20, 4)])
case("AdaptiveLogSoftmaxWithLoss", [10, 30, [4, 12, 20]], {"div_value": 2.0, "head_bias": True}, [floats(4, 10), longs(30, 4)])


def tree(value):
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, torch.Size):
        return list(value)
    if isinstance(value, (tuple, list)):
        return [tree(v) for v in value]
    return None


def run(spec):
    module = build(spec["type"], spec["args"], spec["kwargs"])
    inputs = [make(module) for make in spec["inputs"]]
    record = {"type": spec["type"], "args": spec["args"], "kwargs": spec["kwargs"], "inputs": [tree(t) for t in inputs]}
    if spec["forward"]:
        record["noForward"] = spec["forward"]
    else:
        with torch.no_grad():
            record["out"] = tree(module(*inputs))
    record["params"] = sum(p.numel() for p in module.parameters())
    return record


def main():
    classes = sorted(n for n in dir(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module))
    cases, refused = [], []
    for spec in CASES:
        try:
            cases.append(run(spec))
        except Exception as error:  # a grid case PyTorch refuses: reported, not hidden
            refused.append({"type": spec["type"], "args": spec["args"], "kwargs": spec["kwargs"], "error": f"{type(error).__name__}: {error}"})
    json.dump({"torch": torch.__version__, "classes": classes, "cases": cases, "refused": refused}, sys.stdout)


if __name__ == "__main__":
    main()
