"""Parzen-window log-likelihood of generator samples: the numeric core of the authors' protocol.

Source: ``parzen_ll.py`` in the code released with the paper (``goodfeli/adversarial``; credited
to Yann Dauphin, written by Mehdi Mirza), the Parzen estimate of Breuleux et al. (2011) that
Goodfellow et al. (2014) use in section 5: "We estimate probability of the test set data under p_g
by fitting a Gaussian Parzen window to the samples generated with G and reporting the
log-likelihood under this distribution." See shared/reference/paper-settings.md section 2.

With M generator samples mu_j in d dimensions and bandwidth sigma, each point x gets

    log p(x) = logsumexp_j(-||x - mu_j||^2 / (2 sigma^2)) - log M - d log(sigma sqrt(2 pi)),

which is ``theano_parzen``/``log_mean_exp`` written with a stable log-sum-exp. The protocol
(``evaluate``): log p on the validation points for every sigma of the grid, sigma = argmax of the
mean validation log p, then log p on the test points with that sigma; the reported number is the
mean over test points with se = std(ddof=0) / sqrt(N_test).

Here the squared distances come from one matrix multiply per block of points,
||x||^2 + ||mu||^2 - 2 x mu^T (clamped at 0), computed once and reused for every sigma. The data
are first centred on the mean of the samples (in float64), which leaves every distance unchanged
but shrinks the norms, and so the cancellation error of float32. The log-sum-exp is shifted by
the nearest sample, the largest exponent for every sigma, so the shift too is computed once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

# Blocks of batch_size x M values alive at once: the squared distances and the kernel terms.
BLOCKS_AT_PEAK = 2
# Exponents below this are raised to it before exp: torch's exp is ~5x slower on arguments that
# underflow. After the shift by the nearest sample the sum is >= 1, so log p moves by at most
# M e^-60 (< 1e-22 nats for M = 10^4): far below float64 rounding.
EXP_FLOOR = -60.0


@dataclass(frozen=True)
class ParzenResult:
    """Outcome of the Parzen protocol (log-likelihoods in nats per example)."""

    sigma: float  # bandwidth chosen on the validation points
    ll_mean: float  # mean test log-likelihood
    ll_se: float  # std(ddof=0) / sqrt(n_test)
    n_samples: int  # M, generator samples (Parzen centres)
    n_test: int
    n_valid: int
    sigmas: tuple[float, ...]  # the grid searched
    valid_means: tuple[float, ...]  # mean validation log-likelihood per sigma of the grid
    dtype: str  # precision of the distances, e.g. "float64"
    seconds: float  # wall time of evaluate


def sigma_grid(log10_start: float, log10_stop: float, num: int) -> tuple[float, ...]:
    """The bandwidth grid numpy.logspace(start, stop, num); the authors' is logspace(-1, 0, 10)."""
    return tuple(float(s) for s in np.logspace(log10_start, log10_stop, num))


def peak_bytes(batch_size: int, n_samples: int, dtype: torch.dtype = torch.float64) -> int:
    """Bytes of the batch_size x n_samples blocks alive at once (inputs not counted)."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    return BLOCKS_AT_PEAK * batch_size * n_samples * itemsize


def _device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _as_2d(a, name: str) -> torch.Tensor:
    t = torch.as_tensor(a).detach().to("cpu", torch.float64)
    t = t.reshape(t.shape[0], -1) if t.ndim != 2 else t
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return t


def log_likelihood(
    x,
    mu,
    sigmas: Sequence[float],
    *,
    batch_size: int = 500,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Parzen log p(x) of every point x (rows of `x`) under centres `mu`, for every sigma.

    x: (N, d) points; mu: (M, d) generator samples (arrays or tensors; extra trailing axes are
    flattened). Returns a float64 CPU tensor of shape (len(sigmas), N). `dtype` is the precision
    of the distances and the log-sum-exp; `device` None means CUDA when available, else CPU.
    Points are processed in blocks of `batch_size`; the peak extra memory is
    peak_bytes(batch_size, M, dtype) = 2 * batch_size * M * itemsize (80 MB for batch_size 500,
    M 10,000, float64), plus float64 copies of the inputs.
    """
    x, mu = _as_2d(x, "x"), _as_2d(mu, "mu")
    if x.shape[1] != mu.shape[1]:
        raise ValueError(f"x has {x.shape[1]} dimensions, mu has {mu.shape[1]}")
    dev, (m, d) = _device(device), mu.shape
    centre = mu.mean(dim=0)
    mu_c = (mu - centre).to(dev, dtype)
    mu_sq = mu_c.square().sum(dim=1)
    const = torch.tensor(
        [math.log(m) + d * math.log(s * math.sqrt(2 * math.pi)) for s in sigmas],
        dtype=torch.float64,
    )
    out = torch.empty(len(sigmas), x.shape[0], dtype=torch.float64)
    dist_buf = torch.empty(min(batch_size, len(x)), m, dtype=dtype, device=dev)
    work_buf = torch.empty_like(dist_buf)
    for start in range(0, len(x), batch_size):
        xb = (x[start : start + batch_size] - centre).to(dev, dtype)
        dist = torch.addmm(mu_sq, xb, mu_c.T, alpha=-2.0, out=dist_buf[: len(xb)])
        dist.add_(xb.square().sum(dim=1, keepdim=True)).clamp_(min=0.0)  # ||x - mu_j||^2
        lse = _log_sum_exp_kernels(dist, sigmas, work_buf[: len(xb)])
        out[:, start : start + len(xb)] = lse - const[:, None]
    return out


def _log_sum_exp_kernels(
    dist: torch.Tensor, sigmas: Sequence[float], work: torch.Tensor
) -> torch.Tensor:
    """logsumexp_j(-dist_ij / (2 sigma^2)) for every sigma: (len(sigmas), B) float64 on the CPU.

    The stable log-sum-exp, shifted by the nearest sample (min_j dist_ij), which is the maximum
    exponent for every sigma, so the shift is computed once. Overwrites `dist` with the shifted
    distances and `work` with the kernel terms.
    """
    d_min = dist.amin(dim=1, keepdim=True)
    dist.sub_(d_min)
    d_min = d_min[:, 0].to(torch.float64)
    lse = []
    for s in sigmas:
        c = -0.5 / s**2
        terms = torch.mul(dist, c, out=work).clamp_(min=EXP_FLOOR).exp_()
        lse.append(terms.sum(dim=1).log_().to(torch.float64) + c * d_min)
    return torch.stack(lse).cpu()


def select_sigma(
    sigmas: Sequence[float], valid_ll: torch.Tensor
) -> tuple[int, float, tuple[float, ...]]:
    """The authors' criterion: argmax over sigma of the mean validation log-likelihood.

    valid_ll: (len(sigmas), N_valid). Returns (index, sigma, means); ties go to the first.
    """
    means = torch.as_tensor(valid_ll, dtype=torch.float64).mean(dim=1)
    if len(means) != len(sigmas) or not torch.isfinite(means).all():
        raise ValueError(f"need one finite mean per sigma, got {means.tolist()}")
    index = int(np.argmax(means.numpy()))
    return index, float(sigmas[index]), tuple(means.tolist())


def evaluate(
    samples,
    valid,
    test,
    sigmas: Sequence[float],
    *,
    batch_size: int = 500,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> ParzenResult:
    """The whole protocol: choose sigma on `valid` (already sliced), then score `test`."""
    t0 = time.perf_counter()
    kw = {"batch_size": batch_size, "dtype": dtype, "device": device}
    valid_ll = log_likelihood(valid, samples, sigmas, **kw)
    _, sigma, means = select_sigma(sigmas, valid_ll)
    test_ll = log_likelihood(test, samples, [sigma], **kw)[0]
    return ParzenResult(
        sigma=sigma,
        ll_mean=float(test_ll.mean()),
        ll_se=float(test_ll.std(correction=0) / math.sqrt(len(test_ll))),
        n_samples=len(samples),
        n_test=len(test_ll),
        n_valid=valid_ll.shape[1],
        sigmas=tuple(float(s) for s in sigmas),
        valid_means=means,
        dtype=str(dtype).removeprefix("torch."),
        seconds=time.perf_counter() - t0,
    )
