"""PyTorch anchor of the onecycle benchmarks.

Reads a JSON spec written by bench/lib/torch.js and trains each case's
network on the CPU with SGD (momentum 0.9) and OneCycleLR stepped once per
batch. Prints one JSON object on stdout with the versions, the thread count
that torch reports, and per case the seconds of every timed training call.

Usage: python3 bench/torch_bench.py SPEC.json
"""

import json
import platform
import sys
import time

import numpy as np
import torch
from torch import nn


def read_array(spec, dtype):
    return np.fromfile(spec["path"], dtype=dtype).reshape(spec["shape"])


def build_model(layers, weights):
    """Build a dense ReLU network whose parameters are onecycle's initial weights."""
    modules = []
    for index in range(len(layers) - 1):
        linear = nn.Linear(layers[index], layers[index + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[2 * index]))
            linear.bias.copy_(torch.from_numpy(weights[2 * index + 1]))
        modules.append(linear)
        if index < len(layers) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def max_relative_error(actual, expected):
    """Return the norm-wise relative error, as bench/lib/stats.js computes it."""
    scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(actual - expected))) / scale


def train_epoch(model, optimizer, x, y, case, generator):
    """Train one pass over x in shuffled batches and return the last batch loss."""
    rows = x.shape[0]
    batch_size = case["batchSize"]
    batches = (rows + batch_size - 1) // batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=case["maxLr"], total_steps=batches
    )
    if case["loss"] == "cross_entropy":
        loss_fn = nn.CrossEntropyLoss()
    else:
        loss_fn = nn.MSELoss()
    order = torch.randperm(rows, generator=generator)
    loss = None
    for start in range(0, rows, batch_size):
        indices = order[start : start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[indices]), y[indices])
        loss.backward()
        optimizer.step()
        scheduler.step()
    return loss.item()


def run_case(case, timing):
    """Check and time one case. The result has `error` set on a mismatch."""
    layers = case["layers"]
    x = torch.from_numpy(read_array(case["x"], np.float32))
    if case["loss"] == "cross_entropy":
        y = torch.from_numpy(read_array(case["y"], np.int32)).long()
    else:
        y = torch.from_numpy(read_array(case["y"], np.float32))
    flat = np.fromfile(case["weights"]["path"], dtype=np.float32)
    weights, offset = [], 0
    for shape in case["weights"]["shapes"]:
        size = int(np.prod(shape))
        weights.append(flat[offset : offset + size].reshape(shape))
        offset += size

    model = build_model(layers, weights)
    probe = torch.from_numpy(read_array(case["probe"], np.float32))
    with torch.no_grad():
        predictions = model(probe).numpy().ravel()
    expected = np.asarray(case["expected"], dtype=np.float64)
    error = max_relative_error(predictions, expected)
    result = {"name": case["name"], "rows": x.shape[0], "maxRelativeError": error}
    if not error <= case["tolerance"]:
        result["error"] = (
            f"PyTorch predictions from onecycle's initial weights differ by "
            f"{error:.3e} relative (tolerance {case['tolerance']})."
        )
        return result

    optimizer = torch.optim.SGD(model.parameters(), lr=case["maxLr"], momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, optimizer, x, y, case, generator)  # warm-up
    sample = []
    started = time.perf_counter()
    # Like benchmark.js: at least minSamples calls and at least maxTime seconds.
    while (
        len(sample) < timing["minSamples"]
        or time.perf_counter() - started < timing["maxTime"]
    ):
        begin = time.perf_counter()
        result["finalLoss"] = train_epoch(model, optimizer, x, y, case, generator)
        sample.append(time.perf_counter() - begin)
    result["sample"] = sample
    return result


def loaded_blas_libraries():
    """Return the paths of the BLAS libraries mapped into this process (Linux only)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return []
    return sorted(path for path in paths if path.startswith("/"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: torch_bench.py SPEC.json")
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    torch.manual_seed(0)
    torch.set_num_threads(spec["threads"])
    cases = [run_case(case, spec["timing"]) for case in spec["cases"]]

    # torch.__config__.show() runs only after timing. With Debian's torch
    # 1.13 on OpenBLAS's libblas.so.3, calling it first slowed the MNIST
    # case's training loop 2 to 6 times on a 2-core machine.
    config = torch.__config__.show()
    settings = config.replace(",", " ").split()
    blas = next(
        (part.split("=")[1] for part in settings if part.startswith("BLAS_INFO=")),
        None,
    )
    output = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "threadsRequested": spec["threads"],
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "blas": blas,
        "blasLibraries": loaded_blas_libraries(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cases": cases,
    }
    json.dump(output, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
