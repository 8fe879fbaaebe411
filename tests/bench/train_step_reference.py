#!/usr/bin/python3
"""PyTorch (Python API) reference for tests/bench/models_bench.cpp: time per SGD training step of
the same `mlp` and `cnn` models on Fashion-MNIST, batch 64, lr 0.05, cross-entropy, batches cut
with index_select from the pre-loaded, normalised training set, at 1 and 2 libtorch threads
with OpenBLAS single-threaded, as fl::models::set_compute_threads sets them (and, for
information, with OpenBLAS keeping a thread pool of the same size).

Run with Debian's python3-torch (the same libtorch 1.13 as the C++ build):
    /usr/bin/python3 tests/bench/train_step_reference.py --cpp-bench build-models/bin/models_bench
It alternates, per configuration and for --rounds rounds, a run of the C++
benchmark and a Python run, keeps each side's fastest 20-step epoch, and prints the ratio
python / C++ (above 1: the C++ worker is faster).
"""
import argparse
import ctypes
import gzip
import json
import pathlib
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F

BATCH = 64
STEPS_PER_REPEAT = 20
DATA_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
MEAN, STD = 0.2860, 0.3530


class Mlp(torch.nn.Module):  # McMahan et al. 2017 "2NN"
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 200)
        self.fc2 = torch.nn.Linear(200, 200)
        self.fc3 = torch.nn.Linear(200, 10)

    def forward(self, x):
        h = torch.relu(self.fc1(x.flatten(1)))
        h = torch.relu(self.fc2(h))
        return self.fc3(h)


class Cnn(torch.nn.Module):  # McMahan et al. 2017 CNN
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = torch.nn.Linear(64 * 7 * 7, 512)
        self.fc2 = torch.nn.Linear(512, 10)

    def forward(self, x):
        h = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = F.max_pool2d(torch.relu(self.conv2(h)), 2)
        h = torch.relu(self.fc1(h.flatten(1)))
        return self.fc2(h)


def load_training_set():
    with gzip.open(DATA_DIR / "train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(DATA_DIR / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = (torch.from_numpy(images.copy()).float() / 255.0 - MEAN) / STD
    return x, torch.from_numpy(labels.astype(np.int64))


def one_epoch(model, optimizer, images, labels, indices, generator):
    """Mirrors fl::models::train_local: shuffle, gather each batch, one SGD step per batch."""
    order = torch.randperm(len(indices), generator=generator)
    for start in range(0, len(indices), BATCH):
        rows = indices.index_select(0, order[start:start + BATCH])
        x = images.index_select(0, rows)
        y = labels.index_select(0, rows)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()


def set_compute_threads(threads, blas_threads):
    """fl::models::set_compute_threads sets libtorch's threads and blas_threads=1."""
    torch.set_num_threads(threads)
    try:  # already loaded by libtorch; dlopen hands back the same library
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(blas_threads)
    except (OSError, AttributeError):
        pass


def ms_per_step(name, threads, images, labels, min_seconds, blas_threads):
    set_compute_threads(threads, blas_threads)
    torch.manual_seed(1)
    model = Mlp() if name == "mlp" else Cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    indices = torch.arange(BATCH * STEPS_PER_REPEAT)
    generator = torch.Generator().manual_seed(1)
    one_epoch(model, optimizer, images, labels, indices, generator)  # warm-up
    samples, cpu_samples = [], []
    started = time.perf_counter()
    while time.perf_counter() - started < min_seconds or len(samples) < 5:
        t0, c0 = time.perf_counter(), time.process_time()
        one_epoch(model, optimizer, images, labels, indices, generator)
        samples.append((time.perf_counter() - t0) * 1e3 / STEPS_PER_REPEAT)
        cpu_samples.append((time.process_time() - c0) * 1e3 / STEPS_PER_REPEAT)
    # The machine is shared: interference only ever adds time, so keep the fastest epoch.
    return min(samples), min(cpu_samples)


def cpp_ms_per_step(binary, name, threads):
    """One run of models_bench for one configuration: its fastest 20-step epoch, in ms/step."""
    out = subprocess.run(
        [binary, f"--benchmark_filter=^{name}_train_step/{threads}/", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    (bench,) = json.loads(out)["benchmarks"]
    return bench["ms_per_step"], bench["cpu_ms_per_step"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp-bench", required=True, help="path to the models_bench binary")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    images, labels = load_training_set()
    print(f"torch {torch.__version__}, batch {BATCH}, SGD lr 0.05, Fashion-MNIST, "
          f"fastest epoch of {args.rounds} alternating rounds")
    # python: the same thread settings as the C++ benchmark (OpenBLAS single-threaded);
    # py+pool: plain torch.set_num_threads(n), OpenBLAS keeping n threads of its own (one round).
    # wall: fastest epoch; cpu: process CPU time (all threads) of the fastest-CPU epoch.
    print(f"{'model':5} {'thr':>3} | {'python':>8} {'c++':>8} {'py/c++':>6} | "
          f"{'cpu: python':>11} {'c++':>8} {'py/c++':>6} | {'py+pool':>8}   (ms/step)")
    inf = float("inf")
    for name in ("mlp", "cnn"):
        for threads in (1, 2):
            py, py_cpu, c, c_cpu = inf, inf, inf, inf
            for _ in range(args.rounds):
                wall, cpu = cpp_ms_per_step(args.cpp_bench, name, threads)
                c, c_cpu = min(c, wall), min(c_cpu, cpu)
                wall, cpu = ms_per_step(name, threads, images, labels, args.min_seconds, 1)
                py, py_cpu = min(py, wall), min(py_cpu, cpu)
            pool, _ = ms_per_step(name, threads, images, labels, 1.0, threads)
            print(f"{name:5} {threads:3d} | {py:8.3f} {c:8.3f} {py / c:6.2f} | "
                  f"{py_cpu:11.3f} {c_cpu:8.3f} {py_cpu / c_cpu:6.2f} | {pool:8.3f}", flush=True)


if __name__ == "__main__":
    main()
