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
    with torch.no_grad():
        x = netG(z)
    assert x.shape == (7, 784)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0  # sigmoid output
    assert netD(x).shape == (7,)
    assert netD(x, torch.Generator().manual_seed(1)).shape == (7,)


def test_init_ranges_and_marginal_bias(mnist):
    _, netG, netD, train_x = mnist
    for lin, r in ((netG.layers[0], 0.05), (netG.layers[2], 0.05), (netD.layers[0].linear, 0.005)):
        w = lin.weight.detach()
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


def _on_meta(raw_params, name):
    """G and D of an experiment built on the meta device (shapes only, no memory)."""
    from ganrepro.models import Discriminator, Generator

    exp = config.experiment(raw_params, name)
    shape = {"tfd": (1, 48, 48), "faces": (1, 48, 48)}.get(name, (3, 32, 32))
    with torch.device("meta"):
        return exp, Generator(exp.z_dim, exp.G), Discriminator(shape, exp.D, exp.dropout)


def test_tfd_parameter_counts(raw_params):
    _, netG, netD = _on_meta(raw_params, "tfd")
    assert count_parameters(netG) == (
        (100 * 8000 + 8000)
        + (8000 * 100 + 100)  # the two layers added for stage 2
        + (100 * 8000 + 8000)
        + (8000 * 8000 + 8000)
        + (8000 * 2304 + 2304)
    )
    assert count_parameters(netD) == (2304 * 6000 + 6000) + (1200 * 6000 + 6000) + (1200 + 1)


def test_cifar10_fully_connected_parameter_counts(raw_params):
    _, netG, netD = _on_meta(raw_params, "cifar10_fc")
    assert count_parameters(netG) == (100 * 8000 + 8000) + (8000 * 8000 + 8000) + (
        8000 * 3072 + 3072
    )
    assert count_parameters(netD) == (3072 * 8000 + 8000) + (1600 * 8000 + 8000) + (1600 + 1)


def test_cifar10_conv_parameter_counts_and_spatial_sizes(raw_params):
    from ganrepro.models import output_shape

    exp, netG, netD = _on_meta(raw_params, "cifar10_conv")
    deconv = 80 * 3 * 5 * 5 + 3 * 32 * 32  # transposed conv weights + untied bias (3x32x32)
    assert count_parameters(netG) == (100 * 8000 + 8000) + (8000 * 8000 + 8000) + deconv
    conv = (3 * 64 * 8 * 8 + 64) + (32 * 64 * 8 * 8 + 64) + (32 * 384 * 5 * 5 + 384)
    assert count_parameters(netD) == conv + (4800 * 2500 + 2500) + (500 + 1)
    shapes, shape = [], (3, 32, 32)
    for spec in exp.D[:3]:
        shape = output_shape(shape, spec)
        shapes.append(shape)
    assert shapes == [(32, 16, 16), (32, 7, 7), (192, 5, 5)]  # conv 33, 15, 9 before pooling
    assert output_shape((8000,), exp.G[2]) == (3, 32, 32)  # 3 * (10 - 1) + 5 = 32


def test_conv_nets_run_on_small_widths(raw_params):
    """The conv D/G code path on real shapes with few channels (fast on CPU)."""
    import dataclasses

    exp = config.experiment(raw_params, "cifar10_conv")
    G = (
        dataclasses.replace(exp.G[0], units=16),
        dataclasses.replace(exp.G[1], units=8 * 10 * 10),
        dataclasses.replace(exp.G[2], reshape=(8, 10, 10)),
    )
    D = tuple(dataclasses.replace(s, units=max(1, s.units // 16)) for s in exp.D[:3]) + (
        dataclasses.replace(exp.D[3], units=10, pieces=5),
        exp.D[4],
    )
    train_x = torch.randn(6, 3072)
    netG, netD = build_pair(100, G, D, exp.dropout, train_x, torch.Generator(), (3, 32, 32))
    z = sample_noise(6, 100, "gaussian", torch.Generator().manual_seed(0), "cpu")
    x = netG(z)
    assert x.shape == (6, 3072)
    assert netD(x, torch.Generator().manual_seed(1)).shape == (6,)
    assert netG.layers[2].bias.shape == (3, 32, 32)  # untied


def test_sparse_init_gives_exactly_k_normal_weights_per_unit():
    from ganrepro.models.layers import sparse_weights

    w = sparse_weights(50, 300, 100, torch.Generator().manual_seed(0))
    assert (w != 0).sum(dim=1).tolist() == [100] * 50
    assert float(w[w != 0].std()) == pytest.approx(1.0, abs=0.05)


def test_max_col_norm_rescales_only_long_columns():
    from ganrepro.models.layers import apply_max_col_norm

    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0], [0.3, 0.4]]))  # norms 5 and 0.5
    apply_max_col_norm(lin, 1.9365)
    norms = lin.weight.norm(dim=1)
    assert norms[0].item() == pytest.approx(1.9365 * 5 / (5 + 1e-7), rel=1e-6)
    assert lin.weight[1].tolist() == pytest.approx([0.3, 0.4])  # pylearn2: n / (1e-7 + n)
