"""Step time and peak memory of one training update of each of the paper's four architectures.

Builds the real-size G and D of each experiment in params.yaml (TFD: the final five-layer G),
feeds random data of the right shape, and times `--steps` real updates (the same code path as
the train stage: simultaneous k = 1 gradients, momentum update, max_col_norm) after `--warmup`
untimed ones. Prints ms/step, updates/s, the implied time of one paper epoch, and the peak memory:
GPU memory (torch.cuda.max_memory_allocated) on CUDA; on CPU the peak RSS of a process that runs
that experiment alone (it includes the random training data and the Python runtime).

    python bench/train_step_bench.py                      # 200 steps each, CUDA when present
    python bench/train_step_bench.py --steps 20 --device cpu --only mnist cifar10_fc
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import time

import torch

from ganrepro import config, training
from ganrepro.runtime import configure_torch, resolve_device

IMAGE_SHAPES = {"mnist": (1, 28, 28), "tfd": (1, 48, 48), "cifar10": (3, 32, 32)}
TRAIN_SIZES = {"mnist": 50_000, "tfd": 98_058, "cifar10": 40_000}  # paper training splits
PAPER_EXPERIMENTS = ("mnist", "tfd", "cifar10_fc", "cifar10_conv")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_one(exp: config.Experiment, device: torch.device, steps: int, warmup: int) -> dict:
    shape = IMAGE_SHAPES[exp.dataset]
    train_x = torch.rand(exp.batch_size * (steps + warmup), math.prod(shape), device=device)
    state = training.init_state(exp, train_x, seed=0, device=device, image_shape=shape)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    training.train_epoch(state, exp, train_x[: exp.batch_size * warmup])  # warm-up, untimed
    sync(device)
    t0 = time.perf_counter()
    training.train_epoch(state, exp, train_x[exp.batch_size * warmup :])
    sync(device)
    seconds = (time.perf_counter() - t0) / steps
    steps_per_epoch = math.ceil(TRAIN_SIZES[exp.dataset] / exp.batch_size)
    peak = (
        torch.cuda.max_memory_allocated(device)
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    return {"ms": 1000 * seconds, "epoch_s": seconds * steps_per_epoch, "peak": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--only", nargs="*", default=list(PAPER_EXPERIMENTS))
    ap.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    device = resolve_device(args.device)
    configure_torch(deterministic=False)
    raw = config.load_params()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    if not args.no_header:
        print(f"device: {name}, torch {torch.__version__}, threads {torch.get_num_threads()}")
        head = ("experiment", "ms/step", "steps/s", "epoch (s)", "peak MiB")
        print(
            f"{head[0]:14s} {head[1]:>9s} {head[2]:>8s} {head[3]:>10s} {head[4]:>9s}", flush=True
        )
    for exp_name in args.only:
        if device.type == "cpu" and len(args.only) > 1:
            # a process's peak RSS never goes down: measure each experiment in its own process
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--only",
                    exp_name,
                    "--no-header",
                    "--steps",
                    str(args.steps),
                    "--warmup",
                    str(args.warmup),
                    "--device",
                    "cpu",
                ],
                check=True,
            )
            continue
        exp = config.experiment(raw, exp_name)
        r = bench_one(exp, device, args.steps, args.warmup)
        print(
            f"{exp_name:14s} {r['ms']:9.1f} {1000 / r['ms']:8.2f} {r['epoch_s']:10.1f} "
            f"{r['peak'] / 2**20:9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
