"""Tests of ganrepro.parzen against an independent float64 oracle (scipy, no shared code)."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from ganrepro.parzen import (
    ParzenResult,
    evaluate,
    log_likelihood,
    peak_bytes,
    select_sigma,
    sigma_grid,
)

SIGMAS = (0.1, 0.3, 1.0)


def oracle_ll(x: np.ndarray, mu: np.ndarray, sigma: float) -> np.ndarray:
    """Mixture of M isotropic Gaussians: per-dimension normal log-pdf, summed, log-mean-exp."""
    log_kernel = norm.logpdf(x[:, None, :], loc=mu[None, :, :], scale=sigma).sum(axis=-1)
    return logsumexp(log_kernel, axis=1) - np.log(len(mu))


@pytest.fixture(scope="module")
def mnist_like():
    """200 samples and 50 points in [0, 1]^784 with the oracle's answer for each sigma."""
    rng = np.random.default_rng(0)
    mu, x = rng.random((200, 784)), rng.random((50, 784))
    return x, mu, np.stack([oracle_ll(x, mu, s) for s in SIGMAS])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_oracle_within_a_hundredth_of_a_nat(mnist_like, dtype):
    x, mu, expected = mnist_like
    got = log_likelihood(x, mu, SIGMAS, dtype=dtype, device="cpu")
    assert got.dtype == torch.float64 and got.shape == (len(SIGMAS), len(x))
    torch.testing.assert_close(got, torch.from_numpy(expected), rtol=0, atol=0.01)


def test_float64_is_exact(mnist_like):
    x, mu, expected = mnist_like
    got = log_likelihood(x, mu, SIGMAS, dtype=torch.float64, device="cpu")
    torch.testing.assert_close(got, torch.from_numpy(expected), rtol=0, atol=1e-8)


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_single_sample_is_a_gaussian_density(sigma):
    rng = np.random.default_rng(1)
    x, mu = rng.normal(size=(6, 10)), rng.normal(size=(1, 10))
    d = x.shape[1]
    expected = -((x - mu) ** 2).sum(1) / (2 * sigma**2) - d / 2 * np.log(2 * np.pi * sigma**2)
    got = log_likelihood(x, mu, [sigma], device="cpu")[0].numpy()
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-10)


@pytest.mark.parametrize("batch_size", [1, 7, 23])
def test_batching_does_not_change_the_result(batch_size):
    rng = np.random.default_rng(2)
    x, mu = rng.random((23, 30)), rng.random((40, 30))
    whole = log_likelihood(x, mu, SIGMAS, batch_size=1000, device="cpu")
    blocks = log_likelihood(x, mu, SIGMAS, batch_size=batch_size, device="cpu")
    torch.testing.assert_close(blocks, whole, rtol=1e-13, atol=1e-10)


def test_translation_invariance():
    rng = np.random.default_rng(3)
    x, mu = rng.random((15, 50)), rng.random((60, 50))
    shift = rng.normal(scale=100.0, size=50)
    moved = log_likelihood(x + shift, mu + shift, SIGMAS, device="cpu")
    torch.testing.assert_close(
        moved, log_likelihood(x, mu, SIGMAS, device="cpu"), rtol=0, atol=1e-8
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_huge_distances_stay_finite(dtype):
    rng = np.random.default_rng(4)
    mu = rng.random((3, 784))
    x = mu[:1] + 1000.0  # ||x - mu||^2 ~ 7.8e8: exp(-D / 2 sigma^2) underflows to 0 naively
    sigma = 0.1
    sq = ((x - mu) ** 2).sum(1)
    expected = (
        logsumexp(-sq / (2 * sigma**2)) - np.log(3) - 784 * np.log(sigma * np.sqrt(2 * np.pi))
    )
    got = log_likelihood(x, mu, [sigma], dtype=dtype, device="cpu")
    assert torch.isfinite(got).all()
    assert got.item() == pytest.approx(expected, rel=1e-6 if dtype == torch.float32 else 1e-12)


def test_images_are_flattened_and_inputs_may_be_tensors():
    rng = np.random.default_rng(5)
    x, mu = rng.random((4, 1, 28, 28)), rng.random((9, 1, 28, 28))
    flat = log_likelihood(x.reshape(4, -1), mu.reshape(9, -1), SIGMAS, device="cpu")
    torch.testing.assert_close(
        log_likelihood(torch.from_numpy(x), mu, SIGMAS, device="cpu"), flat, rtol=0, atol=1e-12
    )


def test_dimension_mismatch_is_rejected():
    with pytest.raises(ValueError, match="dimensions"):
        log_likelihood(np.zeros((2, 3)), np.zeros((2, 4)), SIGMAS, device="cpu")


def test_select_sigma_picks_the_argmax_of_the_means():
    sigmas = (0.1, 0.2, 0.4, 0.8)
    # means -3, 5, 4, -1; the max row is not the one with the largest single value
    valid_ll = torch.tensor([[-3.0, -3.0], [4.0, 6.0], [-2.0, 10.0], [-1.0, -1.0]])
    index, sigma, means = select_sigma(sigmas, valid_ll)
    assert (index, sigma) == (1, 0.2)
    assert means == pytest.approx((-3.0, 5.0, 4.0, -1.0), abs=1e-15)


def test_select_sigma_ties_go_to_the_first_like_numpy_argmax():
    index, sigma, _ = select_sigma((1.0, 2.0, 3.0), torch.tensor([[0.0], [7.0], [7.0]]))
    assert (index, sigma) == (1, 2.0)


def test_select_sigma_rejects_non_finite_means():
    with pytest.raises(ValueError, match="finite"):
        select_sigma((1.0, 2.0), torch.tensor([[0.0], [float("nan")]]))


def test_evaluate_runs_the_protocol_with_ddof_zero_standard_error():
    rng = np.random.default_rng(6)
    samples, valid, test = rng.random((80, 20)), rng.random((30, 20)), rng.random((40, 20))
    sigmas = sigma_grid(-1.0, 0.0, 5)
    valid_means = [oracle_ll(valid, samples, s).mean() for s in sigmas]
    best = sigmas[int(np.argmax(valid_means))]
    test_ll = oracle_ll(test, samples, best)
    se = np.std(test_ll, ddof=0) / np.sqrt(len(test_ll))

    result = evaluate(samples, valid, test, sigmas, batch_size=7, device="cpu")

    assert isinstance(result, ParzenResult)
    assert result.sigma == best
    assert 0.1 < best < 1.0  # the choice is an interior point, so a wrong argmax would show
    assert result.valid_means == pytest.approx(valid_means, rel=1e-12)
    assert result.ll_mean == pytest.approx(test_ll.mean(), rel=1e-12)
    assert result.ll_se == pytest.approx(se, rel=1e-9)
    assert result.ll_se != pytest.approx(np.std(test_ll, ddof=1) / np.sqrt(40), rel=1e-3)
    assert (result.n_samples, result.n_valid, result.n_test) == (80, 30, 40)
    assert result.sigmas == sigmas and result.dtype == "float64" and result.seconds > 0


def test_sigma_grid_is_the_authors_logspace():
    grid = sigma_grid(-1.0, 0.0, 10)
    paper = (0.1, 0.12915, 0.16681, 0.21544, 0.27826, 0.35938, 0.46416, 0.59948, 0.77426, 1.0)
    assert grid == pytest.approx(paper, abs=5e-6)
    assert grid == tuple(np.logspace(-1, 0, 10))


def test_peak_bytes_counts_two_blocks():
    assert peak_bytes(500, 10_000, torch.float64) == 2 * 500 * 10_000 * 8
    assert peak_bytes(500, 10_000, torch.float32) == 2 * 500 * 10_000 * 4
    assert math.isclose(peak_bytes(500, 10_000) / 1e6, 80.0)
