"""Fully connected generator G and maxout discriminator D (paper section 5; paper-settings §1a).

Both are built from the layer lists of ``params.yaml`` (``experiments.<e>.G`` and ``.D``) with
pylearn2 semantics: ``irange r`` means W ~ U(-r, r), biases start at 0 unless ``init_bias`` is
given, and a maxout layer of ``units`` x ``pieces`` is a linear map to units*pieces detector units
followed by a max over each contiguous group of ``pieces``.

Notation follows the paper: z ~ p_z(z) is the noise, G(z) a sample, D(x) the probability that x
came from the data rather than from p_g. D returns the *logit* a with D(x) = sigmoid(a), so the
losses can use softplus as pylearn2's ``Sigmoid.cost`` does.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganrepro.config import Dropout, Layer


class Maxout(nn.Module):
    """h_j = max_k (W x + b)_{j*pieces + k}: Goodfellow et al. (2013), pylearn2 ``Maxout``."""

    def __init__(self, n_in: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(n_in, units * pieces)

    def forward(self, x: Tensor) -> Tensor:  # (B, n_in) -> (B, units)
        z = self.linear(x)  # (B, units * pieces)
        return z.view(-1, self.units, self.pieces).amax(dim=-1)


def _linear_of(module: nn.Module) -> nn.Linear:
    return module.linear if isinstance(module, Maxout) else module


def _make_layer(n_in: int, spec: Layer) -> nn.Module:
    if spec.act == "maxout":
        return Maxout(n_in, spec.units, spec.pieces)
    return nn.Linear(n_in, spec.units)


def init_uniform(module: nn.Module, spec: Layer, generator: torch.Generator) -> None:
    """pylearn2 init: W ~ U(-irange, irange); bias = init_bias (0 unless given)."""
    lin = _linear_of(module)
    with torch.no_grad():
        lin.weight.uniform_(-spec.irange, spec.irange, generator=generator)
        lin.bias.fill_(spec.init_bias if isinstance(spec.init_bias, float) else 0.0)


def marginal_logit(train_x: Tensor) -> Tensor:
    """init_sigmoid_bias_from_marginals: b = logit(clip(mean pixel, 1e-7, 1 - 1e-7)); (D,)."""
    m = train_x.double().mean(dim=0).clamp(1e-7, 1 - 1e-7)
    return torch.log(m / (1 - m)).float()


_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda h: h}


class Generator(nn.Module):
    """G(z; theta_g): noise enters only the bottom layer (paper section 5); no dropout."""

    def __init__(self, z_dim: int, layers: tuple[Layer, ...]) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.specs = layers
        sizes = [z_dim] + [spec.units for spec in layers]
        self.layers = nn.ModuleList(
            _make_layer(n_in, spec) for n_in, spec in zip(sizes[:-1], layers, strict=True)
        )

    @property
    def out_dim(self) -> int:
        return self.specs[-1].units

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, D)
        h = z
        for layer, spec in zip(self.layers, self.specs, strict=True):
            h = layer(h)
            h = h if spec.act == "maxout" else _ACT[spec.act](h)
        return h


class Discriminator(nn.Module):
    """D(x; theta_d) with inverted dropout on every layer's input (pylearn2 ``dropout_fprop``).

    The input is kept with probability ``input_keep`` and scaled by ``input_scale``; the inputs of
    every later layer (hidden maxout layers and the sigmoid output) with ``hidden_keep`` and
    ``hidden_scale``. Masks are drawn per example and per element from ``generator``.
    """

    def __init__(self, x_dim: int, layers: tuple[Layer, ...], dropout: Dropout) -> None:
        super().__init__()
        self.specs = layers
        self.dropout = dropout
        sizes = [x_dim] + [spec.units for spec in layers]
        self.layers = nn.ModuleList(
            _make_layer(n_in, spec) for n_in, spec in zip(sizes[:-1], layers, strict=True)
        )

    def _drop(self, h: Tensor, index: int, generator: torch.Generator | None) -> Tensor:
        keep, scale = (
            (self.dropout.input_keep, self.dropout.input_scale)
            if index == 0
            else (self.dropout.hidden_keep, self.dropout.hidden_scale)
        )
        if keep >= 1.0 and scale == 1.0:
            return h
        mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
        return h * mask * scale

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Logit a of D(x) = sigmoid(a); (B, D) -> (B,). Dropout only with a ``generator``."""
        h = x
        top = len(self.layers) - 1
        for i, (layer, spec) in enumerate(zip(self.layers, self.specs, strict=True)):
            if generator is not None:
                h = self._drop(h, i, generator)
            h = layer(h)
            if i < top and spec.act != "maxout":
                h = _ACT[spec.act](h)
        return h.squeeze(-1)  # the top sigmoid is left to the loss (softplus of the logit)


def build_pair(
    z_dim: int,
    g_layers: tuple[Layer, ...],
    d_layers: tuple[Layer, ...],
    dropout: Dropout,
    train_x: Tensor,
    generator: torch.Generator,
) -> tuple[Generator, Discriminator]:
    """Build and initialise G and D; ``train_x`` (N, D) supplies the marginals for init_bias."""
    x_dim = train_x.shape[1]
    if g_layers[-1].units != x_dim:
        raise ValueError(f"G's last layer has {g_layers[-1].units} units but data has {x_dim}")
    netG = Generator(z_dim, g_layers)
    netD = Discriminator(x_dim, d_layers, dropout)
    for net in (netG, netD):
        for layer, spec in zip(net.layers, net.specs, strict=True):
            init_uniform(layer, spec, generator)
    for layer, spec in zip(netG.layers, netG.specs, strict=True):
        if spec.init_bias == "marginals":
            with torch.no_grad():
                _linear_of(layer).bias.copy_(marginal_logit(train_x))
    return netG, netD


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def sample_noise(
    n: int, z_dim: int, kind: str, generator: torch.Generator, device: torch.device | str
) -> Tensor:
    """z ~ p_z: "uniform" U(-sqrt 3, sqrt 3) (unit variance) or "gaussian" N(0, 1); (n, z_dim)."""
    if kind == "uniform":
        u = torch.rand((n, z_dim), generator=generator, device=device)
        return (2 * u - 1) * math.sqrt(3.0)
    if kind == "gaussian":
        return torch.randn((n, z_dim), generator=generator, device=device)
    raise ValueError(f"unknown noise kind {kind!r}")
