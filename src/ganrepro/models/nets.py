"""Generator G and discriminator D built from params.yaml layer lists (paper section 5).

Notation follows the paper: z ~ p_z(z) is the noise, G(z) a sample, D(x) the probability that x
came from the data rather than from p_g. D returns the *logit* a with D(x) = sigmoid(a), so the
losses can use softplus as pylearn2's ``Sigmoid.cost`` does. Samples and data are flat vectors
(B, C*H*W) in CHW order; convolutional layers view them as images.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganrepro.config import Dropout, Layer
from ganrepro.models.layers import (
    apply_max_col_norm,
    init_layer,
    make_layer,
    output_shape,
)

_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid}


def _stack(in_shape: tuple[int, ...], specs: tuple[Layer, ...]) -> tuple[nn.ModuleList, list]:
    """The layers of ``specs`` and the shape each one receives."""
    layers, shapes = nn.ModuleList(), []
    for spec in specs:
        shapes.append(in_shape)
        layers.append(make_layer(in_shape, spec))
        in_shape = output_shape(in_shape, spec)
    shapes.append(in_shape)
    return layers, shapes


def _activate(h: Tensor, spec: Layer) -> Tensor:
    return _ACT[spec.act](h) if spec.act in _ACT else h  # maxout/linear/deconv: none


class Generator(nn.Module):
    """G(z; theta_g): noise enters only the bottom layer (paper section 5); no dropout."""

    def __init__(self, z_dim: int, layers: tuple[Layer, ...]) -> None:
        super().__init__()
        self.z_dim, self.specs = z_dim, layers
        self.layers, shapes = _stack((z_dim,), layers)
        self.out_dim = math.prod(shapes[-1])

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, D)
        h = z
        for layer, spec in zip(self.layers, self.specs, strict=True):
            h = _activate(layer(h), spec)
        return h.flatten(1)


class Discriminator(nn.Module):
    """D(x; theta_d) with inverted dropout on every layer's input (pylearn2 ``dropout_fprop``).

    The input is kept with probability ``input_keep`` and scaled by ``input_scale``; the inputs of
    every later layer (hidden layers and the sigmoid output) with ``hidden_keep`` and
    ``hidden_scale``. Masks are drawn per example and per element from ``generator``.
    """

    def __init__(
        self, image_shape: tuple[int, ...], layers: tuple[Layer, ...], dropout: Dropout
    ) -> None:
        super().__init__()
        self.specs, self.dropout = layers, dropout
        conv_input = layers[0].act == "conv_maxout"
        self.in_shape = tuple(image_shape) if conv_input else (math.prod(image_shape),)
        self.layers, _ = _stack(self.in_shape, layers)

    def _drop(self, h: Tensor, index: int, generator: torch.Generator) -> Tensor:
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
        h = x.view(-1, *self.in_shape)
        top = len(self.layers) - 1
        for i, (layer, spec) in enumerate(zip(self.layers, self.specs, strict=True)):
            if generator is not None:
                h = self._drop(h, i, generator)
            h = layer(h)
            if i < top:
                h = _activate(h, spec)
        return h.squeeze(-1)  # the top sigmoid is left to the loss (softplus of the logit)


def marginal_logit(train_x: Tensor) -> Tensor:
    """init_sigmoid_bias_from_marginals: b = logit(clip(mean pixel, 1e-7, 1 - 1e-7)); (D,)."""
    m = train_x.double().mean(dim=0).clamp(1e-7, 1 - 1e-7)
    return torch.log(m / (1 - m)).float()


def initialise(
    net: Generator | Discriminator, generator: torch.Generator, train_x: Tensor
) -> None:
    """pylearn2 init of every layer; sigmoid biases from the data marginals where asked."""
    for layer, spec in zip(net.layers, net.specs, strict=True):
        init_layer(layer, spec, generator)
        if spec.init_bias == "marginals":
            with torch.no_grad():
                layer.bias.copy_(marginal_logit(train_x))


def build_pair(
    z_dim: int,
    g_layers: tuple[Layer, ...],
    d_layers: tuple[Layer, ...],
    dropout: Dropout,
    train_x: Tensor,
    generator: torch.Generator,
    image_shape: tuple[int, ...] | None = None,
) -> tuple[Generator, Discriminator]:
    """Build and initialise G and D; ``train_x`` (N, D) supplies the marginals for init_bias."""
    x_dim = train_x.shape[1]
    image_shape = image_shape or (x_dim,)
    netG = Generator(z_dim, g_layers)
    if netG.out_dim != x_dim:
        raise ValueError(f"G produces {netG.out_dim} values but the data have {x_dim}")
    netD = Discriminator(image_shape, d_layers, dropout)
    initialise(netG, generator, train_x)
    initialise(netD, generator, train_x)
    return netG, netD


def constrain(net: Generator | Discriminator) -> None:
    """Apply every layer's max_col_norm (pylearn2 applies it after each update)."""
    for layer, spec in zip(net.layers, net.specs, strict=True):
        if spec.max_col_norm is not None:
            apply_max_col_norm(layer, spec.max_col_norm)


def generator_out_dim(z_dim: int, layers: tuple[Layer, ...]) -> int:
    """Values per sample that G with these layers produces (without building it)."""
    shape: tuple[int, ...] = (z_dim,)
    for spec in layers:
        shape = output_shape(shape, spec)
    return math.prod(shape)


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
