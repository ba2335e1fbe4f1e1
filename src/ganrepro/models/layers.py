"""The layer kinds of the authors' models, with pylearn2 initialisation and constraints.

- dense relu / sigmoid / linear: ``nn.Linear`` plus the nonlinearity;
- maxout (Goodfellow et al. 2013): a linear map to units*pieces detector units, then the max over
  each contiguous group of ``pieces`` (pylearn2 ``Maxout``);
- conv_maxout (pylearn2 ``MaxoutConvC01B``, paper-settings §1d): a convolution to
  units*pieces channels with one bias per channel, the max over each contiguous group of
  ``pieces`` channels, then spatial max pooling in ceil mode (cuda-convnet's output size);
- deconv (the repository's ``Deconv``): the input viewed as [C, H, W], a transposed convolution
  with ``stride``, and an untied bias (one per output channel and pixel).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganrepro.config import Layer


class Maxout(nn.Module):
    """h_j = max_k (W x + b)_{j*pieces + k}; (B, n_in) -> (B, units)."""

    def __init__(self, n_in: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(n_in, units * pieces)

    def forward(self, x: Tensor) -> Tensor:
        z = self.linear(x.flatten(1))  # (B, units * pieces)
        return z.view(-1, self.units, self.pieces).amax(dim=-1)


class ConvMaxout(nn.Module):
    """Convolution, maxout over contiguous channel groups, ceil-mode max pooling."""

    def __init__(self, in_ch: int, spec: Layer) -> None:
        super().__init__()
        self.units, self.pieces = spec.units, spec.pieces
        self.linear = nn.Conv2d(in_ch, spec.units * spec.pieces, spec.kernel, padding=spec.pad)
        self.pool = (
            nn.MaxPool2d(spec.pool, spec.pool_stride, ceil_mode=True) if spec.pool else None
        )

    def forward(self, x: Tensor) -> Tensor:  # (B, C, H, W) -> (B, units, H', W')
        z = self.linear(x)  # (B, units * pieces, Hc, Wc)
        b, _, h, w = z.shape
        z = z.view(b, self.units, self.pieces, h, w).amax(dim=2)
        return self.pool(z) if self.pool is not None else z


class Deconv(nn.Module):
    """View (B, C*H*W) as (B, C, H, W); transposed conv; untied bias; (B, units, H', W')."""

    def __init__(self, spec: Layer) -> None:
        super().__init__()
        c, h, w = spec.reshape
        self.in_shape = (c, h, w)
        self.linear = nn.ConvTranspose2d(
            c, spec.units, spec.kernel, stride=spec.stride, bias=not spec.untied_bias
        )
        out_hw = ((h - 1) * spec.stride + spec.kernel, (w - 1) * spec.stride + spec.kernel)
        self.out_shape = (spec.units, *out_hw)
        self.bias = nn.Parameter(torch.zeros(self.out_shape)) if spec.untied_bias else None

    def forward(self, x: Tensor) -> Tensor:
        y = self.linear(x.reshape(-1, *self.in_shape))
        return y + self.bias if self.bias is not None else y


def output_shape(in_shape: tuple[int, ...], spec: Layer) -> tuple[int, ...]:
    """Shape (without the batch axis) of a layer's output for an input of ``in_shape``."""
    if spec.act == "deconv":
        c, h, w = spec.reshape
        return (
            spec.units,
            (h - 1) * spec.stride + spec.kernel,
            (w - 1) * spec.stride + spec.kernel,
        )
    if spec.act == "conv_maxout":
        _, h, w = in_shape
        h, w = (n + 2 * spec.pad - spec.kernel + 1 for n in (h, w))  # convolution
        if spec.pool:
            h, w = (_ceil_pool(n, spec.pool, spec.pool_stride) for n in (h, w))
        return (spec.units, h, w)
    return (spec.units,)


def _ceil_pool(n: int, size: int, stride: int) -> int:
    """cuda-convnet pooling: ceil((n - size) / stride) + 1 (= PyTorch ceil_mode=True here)."""
    return math.ceil((n - size) / stride) + 1


def make_layer(in_shape: tuple[int, ...], spec: Layer) -> nn.Module:
    n_in = math.prod(in_shape)
    if spec.act == "maxout":
        return Maxout(n_in, spec.units, spec.pieces)
    if spec.act == "conv_maxout":
        return ConvMaxout(in_shape[0], spec)
    if spec.act == "deconv":
        if math.prod(spec.reshape) != n_in:
            raise ValueError(f"deconv reshape {list(spec.reshape)} does not hold {n_in} inputs")
        return Deconv(spec)
    return nn.Linear(n_in, spec.units)


def weight_of(module: nn.Module) -> nn.Parameter:
    return (module.linear if hasattr(module, "linear") else module).weight


@torch.no_grad()
def init_layer(module: nn.Module, spec: Layer, generator: torch.Generator) -> None:
    """pylearn2 init: W ~ U(-irange, irange), or ``sparse_init`` N(0, 1) inputs per unit;
    biases = init_bias (a number; "marginals" is set by the caller)."""
    w = weight_of(module)
    if spec.sparse_init:
        w.copy_(sparse_weights(w.shape[0], w[0].numel(), spec.sparse_init, generator))
    else:
        w.uniform_(-spec.irange, spec.irange, generator=generator)
    value = spec.init_bias if isinstance(spec.init_bias, float) else 0.0
    for name, b in module.named_parameters():
        if name.endswith("bias"):
            b.fill_(value)


def sparse_weights(units: int, n_in: int, k: int, generator: torch.Generator) -> Tensor:
    """Each unit (row) gets N(0, 1) weights on k distinct random inputs, zeros elsewhere."""
    if k > n_in:
        raise ValueError(f"sparse_init {k} exceeds the {n_in} inputs")
    w = torch.zeros(units, n_in)
    for row in w:
        idx = torch.randperm(n_in, generator=generator)[:k]
        row[idx] = torch.randn(k, generator=generator)
    return w


@torch.no_grad()
def apply_max_col_norm(module: nn.Module, limit: float) -> None:
    """pylearn2 ``max_col_norm``: W_j <- W_j * clip(n_j, 0, limit) / (1e-7 + n_j), per unit j."""
    w = weight_of(module)
    rows = w.view(w.shape[0], -1)  # one row per unit (per detector unit for maxout)
    norms = rows.norm(dim=1, keepdim=True)
    rows.mul_(norms.clamp(max=limit) / (1e-7 + norms))
