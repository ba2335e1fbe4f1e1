"""Shapes and parameter counts of the paper's MNIST networks (paper-settings §1a)."""

from __future__ import annotations

import math

import pytest
import torch

from ganrepro import config
from ganrepro.models import build_pair, count_parameters, marginal_logit, sample_noise


@pytest.fixture(scope="module")
def mnist(raw_params):
    exp = config.experiment(raw_params, "mnist")
    train_x = torch.rand(64, 784)
    netG, netD = build_pair(exp.z_dim, exp.G, exp.D, exp.dropout, train_x, torch.Generator())
    return exp, netG, netD, train_x


def test_mnist_parameter_counts_match_the_paper_architecture(mnist):
    _, netG, netD = mnist[:3]
    # G: 100 -> 1200 -> 1200 -> 784 (weights + biases), written out by hand
    assert count_parameters(netG) == (100 * 1200 + 1200) + (1200 * 1200 + 1200) + (
        1200 * 784 + 784
    )
    # D: maxout 240 x 5 on 784 inputs, maxout 240 x 5 on 240, sigmoid 1 on 240
    assert count_parameters(netD) == (784 * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)


def test_shapes_and_output_ranges(mnist):
    exp, netG, netD, _ = mnist
    z = sample_noise(7, exp.z_dim, exp.noise, torch.Generator().manual_seed(0), "cpu")
    x = netG(z)
    assert x.shape == (7, 784)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0  # sigmoid output
    assert netD(x).shape == (7,)
    assert netD(x, torch.Generator().manual_seed(1)).shape == (7,)


def test_init_ranges_and_marginal_bias(mnist):
    _, netG, netD, train_x = mnist
    for lin, r in ((netG.layers[0], 0.05), (netG.layers[2], 0.05), (netD.layers[0].linear, 0.005)):
        w = lin.weight
        assert float(w.abs().max()) <= r
        assert float(w.abs().max()) > 0.9 * r  # really spread over (-r, r), not all zero
    assert torch.count_nonzero(netD.layers[0].linear.bias) == 0
    m = train_x.double().mean(0)
    torch.testing.assert_close(
        netG.layers[2].bias.double(), torch.log(m / (1 - m)), rtol=0, atol=1e-6
    )


def test_marginal_logit_clips_constant_pixels():
    x = torch.zeros(5, 3)
    x[:, 1] = 1.0
    b = marginal_logit(x)
    assert b[0] == pytest.approx(math.log(1e-7 / (1 - 1e-7)), rel=1e-5)
    assert b[1] == pytest.approx(-b[0], rel=1e-5)


def test_maxout_takes_the_max_of_contiguous_groups():
    from ganrepro.models import Maxout

    m = Maxout(2, units=2, pieces=3)
    with torch.no_grad():
        m.linear.weight.zero_()
        m.linear.bias.copy_(torch.tensor([1.0, 5.0, 2.0, -1.0, -3.0, 0.5]))
    assert m(torch.zeros(1, 2)).tolist() == [[5.0, 0.5]]


def test_uniform_noise_has_unit_variance_and_bounded_support():
    z = sample_noise(20000, 100, "uniform", torch.Generator().manual_seed(0), "cpu")
    assert float(z.abs().max()) <= math.sqrt(3)
    assert float(z.var()) == pytest.approx(1.0, abs=0.01)
