"""Time ganrepro.parzen.evaluate against a straightforward broadcast Parzen, side by side.

Random data of the MNIST protocol shape (paper-settings section 2): 10,000 samples x 784, the
sigma grid logspace(-1, 0, 10) on 1,000 valid points, the chosen sigma on 10,000 test points. Both
implementations run the same protocol in the same precision, in one process, and must agree.
Wall and CPU (process) seconds are both printed: on a shared machine the CPU time is the steadier.

    python bench/parzen_bench.py               # full size (the naive part takes 10-20 minutes)
    python bench/parzen_bench.py --scale 0.1   # quick check: 1,000 samples, 100 valid, 1,000 test
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from ganrepro.parzen import evaluate, log_likelihood, peak_bytes, sigma_grid

DIM, N_SAMPLES, N_VALID, N_TEST = 784, 10_000, 1_000, 10_000


def naive_ll(x: torch.Tensor, mu: torch.Tensor, sigma: float, block: int) -> torch.Tensor:
    """log p(x) by broadcasting x - mu over (block, M, d), one sigma at a time."""
    m, d = mu.shape
    const = math.log(m) + d * math.log(sigma * math.sqrt(2 * math.pi))
    out = []
    for start in range(0, len(x), block):
        sq = ((x[start : start + block, None, :] - mu[None, :, :]) ** 2).sum(-1)
        out.append(torch.logsumexp(-sq / (2 * sigma**2), dim=1).double() - const)
    return torch.cat(out)


def naive_protocol(samples, valid, test, sigmas, block):
    """Per sigma, per block: the whole protocol with broadcast distances."""
    valid_means = [naive_ll(valid, samples, s, block).mean().item() for s in sigmas]
    sigma = sigmas[max(range(len(sigmas)), key=valid_means.__getitem__)]
    return sigma, valid_means, naive_ll(test, samples, sigma, block)


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w0, time.process_time() - c0


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the three sizes")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--batch-size", type=int, default=500, help="test points per block (ours)")
    ap.add_argument("--naive-block", type=int, default=1, help="test points per naive block")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of ours (median kept)")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    dtype = getattr(torch, args.dtype)
    m, n_valid, n_test = (max(1, round(n * args.scale)) for n in (N_SAMPLES, N_VALID, N_TEST))
    gen = torch.Generator().manual_seed(args.seed)
    samples, valid, test = (
        torch.rand(n, DIM, generator=gen, dtype=torch.float64).to(dtype)
        for n in (m, n_valid, n_test)
    )
    sigmas = sigma_grid(-1.0, 0.0, 10)
    naive_mb = 2 * args.naive_block * m * DIM * samples.element_size() / 1e6
    print(
        f"shapes: {m} samples x {DIM}; {len(sigmas)} sigmas on {n_valid} valid; 1 on {n_test} test"
    )
    print(f"dtype {args.dtype}; torch {torch.__version__}; {torch.get_num_threads()} threads")
    print(
        f"ours:  batch_size {args.batch_size}, peak block memory "
        f"{peak_bytes(args.batch_size, m, dtype) / 1e6:.1f} MB"
    )
    print(f"naive: block {args.naive_block}, peak block memory {naive_mb:.1f} MB (diff + square)")

    kw = {"batch_size": args.batch_size, "dtype": dtype, "device": "cpu"}
    evaluate(samples[:10], valid[:10], test[:10], sigmas, **kw)  # warm-up
    runs = [timed(evaluate, samples, valid, test, sigmas, **kw) for _ in range(args.repeats)]
    ours = runs[0][0]
    wall = statistics.median(r[1] for r in runs)
    cpu = statistics.median(r[2] for r in runs)
    print(
        f"ours:  wall {', '.join(f'{r[1]:.2f}' for r in runs)} s (median {wall:.2f}); "
        f"CPU median {cpu:.2f} s; sigma {ours.sigma:.5f}; test LL {ours.ll_mean:.4f} "
        f"+- {ours.ll_se:.4f}",
        flush=True,
    )

    (sigma, valid_means, test_ll), n_wall, n_cpu = timed(
        naive_protocol, samples, valid, test, sigmas, args.naive_block
    )
    se = (test_ll.std(correction=0) / math.sqrt(n_test)).item()
    print(
        f"naive: wall {n_wall:.2f} s; CPU {n_cpu:.2f} s; sigma {sigma:.5f}; "
        f"test LL {test_ll.mean().item():.4f} +- {se:.4f}"
    )

    ours_pts = log_likelihood(test, samples, [ours.sigma], **kw)[0]
    diff_means = max(abs(a - b) for a, b in zip(ours.valid_means, valid_means, strict=True))
    diff_pts = (ours_pts - test_ll).abs().max().item()
    print(
        f"agreement: same sigma {ours.sigma == sigma}; max |diff| valid means "
        f"{diff_means:.2e}, test points {diff_pts:.2e} nats"
    )
    print(f"ratio naive / ours: wall {n_wall / wall:.1f}x, CPU {n_cpu / cpu:.1f}x")
    tol = 1e-6 if dtype == torch.float64 else 1e-2
    if ours.sigma != sigma or max(diff_means, diff_pts) > tol:
        raise SystemExit(f"DISAGREE beyond {tol} nats")


if __name__ == "__main__":
    main()
