"""Typed, validated views of the sections of ``params.yaml``.

Every section a stage reads is turned into a frozen dataclass by :func:`build`, which rejects
unknown keys and wrong types with a one-line :class:`ConfigError` naming the offending key, before
any work starts. ``params.yaml`` holds every value (with its unit and source); this module holds
no defaults for knobs, so the two can never drift apart.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A bad value in params.yaml; the message names the key."""


# ---------------------------------------------------------------- generic typed loader


def build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass ``cls`` from the mapping ``raw``; ``where`` is the key path for messages."""
    if not isinstance(raw, dict):
        raise ConfigError(f"params.yaml: '{where}' must be a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise ConfigError(f"params.yaml: unknown key '{where}.{unknown[0]}' (allowed: {allowed})")
    kwargs = {}
    for name, f in fields.items():
        if name not in raw:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise ConfigError(f"params.yaml: missing key '{where}.{name}'")
            continue
        kwargs[name] = _coerce(hints[name], raw[name], f"{where}.{name}")
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(where)
    return obj


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for alt in (a for a in args if a is not type(None)):
            try:
                return _coerce(alt, value, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[-1])
    if origin is Literal:
        if value not in args:
            allowed = " | ".join(map(str, args))
            raise ConfigError(f"params.yaml: '{where}' is {value!r}; expected one of {allowed}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"params.yaml: '{where}' must be a list, got {value!r}")
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"params.yaml: '{where}' must be a mapping, got {value!r}")
        return {k: _coerce(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)
    return _scalar(tp, value, where)


def _scalar(tp: Any, value: Any, where: str) -> Any:
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"params.yaml: '{where}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"params.yaml: '{where}' must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"params.yaml: '{where}' must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"params.yaml: '{where}' must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"params.yaml: '{where}' must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r} at {where}")  # programming error


def _require(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise ConfigError(f"params.yaml: '{where}' {what}")


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class QuickBudget:
    epochs: int
    train_examples: int

    def check(self, where: str) -> None:
        _require(self.epochs >= 1, f"{where}.epochs", "must be >= 1")
        _require(self.train_examples >= 1, f"{where}.train_examples", "must be >= 1")


@dataclass(frozen=True)
class Base:
    budget: Literal["paper", "quick"]
    seed: int
    device: Literal["auto", "cpu", "cuda"]
    deterministic: bool


@dataclass(frozen=True)
class Dataset:
    enabled: bool
    format: Literal["idx", "cifar10_bin", "tfd_mat", "lfw_faces"]
    mirrors: tuple[str, ...]
    files: dict[str, tuple[str, ...]]
    splits: dict[str, tuple[int, ...]]
    licence: str = ""
    path: str | None = None  # tfd_mat: the user's own TFD_48x48.mat (cannot be downloaded)
    gcn_scale: float | None = None  # cifar10_bin: global contrast normalisation scale (55)

    def check(self, where: str) -> None:
        needs_mirror = self.format != "tfd_mat"
        _require(
            len(self.mirrors) > 0 or not needs_mirror,
            f"{where}.mirrors",
            "must list at least one mirror",
        )
        for i, mirror in enumerate(self.mirrors):
            one_file = mirror.lower().startswith(("http://", "https://")) and not mirror.endswith(
                "/"
            )
            _require(
                not one_file or len(self.files) == 1,
                f"{where}.mirrors[{i}]",
                f"is {mirror!r}, the URL of one file (no trailing '/'), but {where}.files lists "
                f"{len(self.files)} files (end a base URL with '/')",
            )
        for name, hashes in self.files.items():
            for h in hashes:
                _require(
                    len(h) == 64 and all(c in "0123456789abcdef" for c in h),
                    f"{where}.files.{name}",
                    f"holds {h!r}, not a lowercase hex SHA-256",
                )
        for name, bounds in self.splits.items():
            _require(
                len(bounds) == 2 and 0 <= bounds[0] < bounds[1],
                f"{where}.splits.{name}",
                f"must be [start, stop) with 0 <= start < stop, got {list(bounds)}",
            )
        _require(
            self.path is None or self.format == "tfd_mat", f"{where}.path", "is only for tfd_mat"
        )
        _require(
            (self.gcn_scale is not None) == (self.format == "cifar10_bin"),
            f"{where}.gcn_scale",
            "is required for cifar10_bin and only for it",
        )
        if self.gcn_scale is not None:
            _require(self.gcn_scale > 0, f"{where}.gcn_scale", "must be > 0")


CONV_ONLY = ("kernel", "pad", "pool", "pool_stride")


@dataclass(frozen=True)
class Layer:
    """One layer of G or D, bottom to top (pylearn2 layer semantics, paper-settings §0, §1).

    Dense kinds: relu | sigmoid | linear | maxout (``units`` x ``pieces``). Convolutional kinds
    (CIFAR-10 conv, §1d): conv_maxout (``units`` channels x ``pieces``, ``kernel``, ``pad``, then
    max pooling ``pool``/``pool_stride`` in ceil mode) and deconv (input viewed as ``reshape``
    = [C, H, W], transposed convolution to ``units`` channels with ``kernel`` and ``stride``).
    """

    act: Literal["relu", "sigmoid", "linear", "maxout", "conv_maxout", "deconv"]
    units: int  # output units (channels for conv_maxout / deconv)
    irange: float = 0.0  # W ~ U(-irange, irange) (pylearn2 ``irange``)
    pieces: int = 1  # maxout pieces (maxout, conv_maxout)
    init_bias: float | Literal["marginals"] = 0.0  # "marginals": logit of the training pixel means
    sparse_init: int = 0  # > 0: that many N(0, 1) incoming weights per unit, others 0 (pylearn2)
    max_col_norm: float | None = None  # rescale each unit's incoming weights to this L2 norm
    kernel: int = 0  # conv_maxout / deconv kernel size (square)
    pad: int = 0  # conv_maxout zero padding
    pool: int = 0  # conv_maxout max-pool size (0 = none)
    pool_stride: int = 0  # conv_maxout max-pool stride
    stride: int = 1  # deconv output stride
    reshape: tuple[int, ...] | None = None  # deconv: view the input as [C, H, W]
    untied_bias: bool = False  # deconv: one bias per output channel and pixel (tied_b: 0)

    def check(self, where: str) -> None:
        _require(self.units >= 1, f"{where}.units", "must be >= 1")
        _require(
            (self.irange > 0) != (self.sparse_init > 0),
            f"{where}",
            "needs exactly one of irange > 0 or sparse_init > 0",
        )
        _require(self.pieces >= 1, f"{where}.pieces", "must be >= 1")
        _require(
            self.act in ("maxout", "conv_maxout") or self.pieces == 1,
            f"{where}.pieces",
            "is only for maxout and conv_maxout",
        )
        conv = self.act in ("conv_maxout", "deconv")
        _require(not conv or self.kernel >= 1, f"{where}.kernel", "must be >= 1 for conv layers")
        for name in CONV_ONLY:
            _require(
                conv or getattr(self, name) == 0, f"{where}.{name}", "is only for conv layers"
            )
        _require(
            (self.act == "deconv") == (self.reshape is not None),
            f"{where}.reshape",
            "is required for deconv and only for deconv",
        )
        if self.max_col_norm is not None:
            _require(self.max_col_norm > 0, f"{where}.max_col_norm", "must be > 0")


@dataclass(frozen=True)
class Dropout:
    input_keep: float  # keep probability of D's input (pylearn2 include_prob)
    input_scale: float  # scale of kept inputs
    hidden_keep: float  # keep probability of every later D layer input
    hidden_scale: float

    def check(self, where: str) -> None:
        for name in ("input_keep", "hidden_keep"):
            p = getattr(self, name)
            _require(0 < p <= 1, f"{where}.{name}", f"must be in (0, 1], got {p}")


@dataclass(frozen=True)
class ValidParzen:
    n_samples: int  # generator samples per epoch (fixed z)
    n_valid: int  # first N validation images
    sigma_num: int  # sigmas of logspace(-1, 0, sigma_num); the best one scores the epoch

    def sigmas(self) -> tuple[float, ...]:
        import numpy as np

        return tuple(float(s) for s in np.logspace(-1.0, 0.0, self.sigma_num))


@dataclass(frozen=True)
class Experiment:
    enabled: bool
    dataset: str
    table_column: Literal["MNIST", "TFD", "none"]
    note: str
    noise: Literal["uniform", "gaussian"]
    z_dim: int
    G: tuple[Layer, ...]
    D: tuple[Layer, ...]
    dropout: Dropout
    batch_size: int
    lr: float
    lr_decay: float
    min_lr: float
    momentum_start: float
    momentum_final: float
    momentum_saturate: int
    epochs: int
    valid_parzen: ValidParzen
    quick: (
        QuickBudget  # used instead of epochs / the full training split when base.budget is quick
    )
    # TFD (paper-settings §1b): first train G without its bottom `pretrain_new_layers` layers for
    # `pretrain_epochs` epochs, then put those layers in front, start a new D and the schedules
    # again, and train `epochs` more. 0 = a single stage (every other experiment).
    pretrain_epochs: int = 0
    pretrain_new_layers: int = 0

    def check(self, where: str) -> None:
        _require(self.z_dim >= 1, f"{where}.z_dim", "must be >= 1")
        _require(self.batch_size >= 1, f"{where}.batch_size", "must be >= 1")
        _require(self.lr > 0, f"{where}.lr", f"must be > 0, got {self.lr}")
        _require(self.lr_decay >= 1, f"{where}.lr_decay", "must be >= 1 (lr is divided by it)")
        _require(0 < self.min_lr <= self.lr, f"{where}.min_lr", "must be in (0, lr]")
        for name in ("momentum_start", "momentum_final"):
            m = getattr(self, name)
            _require(0 <= m < 1, f"{where}.{name}", f"must be in [0, 1), got {m}")
        _require(self.momentum_saturate >= 1, f"{where}.momentum_saturate", "must be >= 1")
        _require(self.epochs >= 1, f"{where}.epochs", "must be >= 1")
        _require(len(self.G) >= 1 and len(self.D) >= 1, where, "needs G and D layers")
        _require(self.D[-1].units == 1, f"{where}.D", "must end in a 1-unit layer")
        _require(self.D[-1].act == "sigmoid", f"{where}.D", "must end in a sigmoid layer")
        two_stage = self.pretrain_epochs > 0
        _require(
            two_stage == (self.pretrain_new_layers > 0),
            f"{where}.pretrain_new_layers",
            "must be > 0 exactly when pretrain_epochs > 0",
        )
        if two_stage:
            k = self.pretrain_new_layers
            _require(k < len(self.G), f"{where}.pretrain_new_layers", "must leave layers of G")
            _require(
                self.G[k - 1].units == self.z_dim,
                f"{where}.G",
                f"layer {k - 1} must have z_dim units: it replaces z after pretraining",
            )


@dataclass(frozen=True)
class Sample:
    n_samples: int  # samples drawn for the Parzen estimate (parzen_ll.py -n)
    seed: int
    batch_size: int
    figure2_rows: int
    figure2_cols: int
    figure3_rows: int
    figure3_steps: int
    figure3_endpoints: Literal["gaussian", "prior"]

    def check(self, where: str) -> None:
        for name in ("n_samples", "batch_size", "figure2_rows", "figure2_cols", "figure3_rows"):
            _require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        _require(self.figure3_steps >= 2, f"{where}.figure3_steps", "must be >= 2")


@dataclass(frozen=True)
class Parzen:
    sigma_log10_start: float
    sigma_log10_stop: float
    sigma_num: int
    n_valid: int  # 0 = every validation image
    batch_size: int
    precision: Literal["float32", "float64"]

    def check(self, where: str) -> None:
        _require(self.sigma_num >= 1, f"{where}.sigma_num", "must be >= 1")
        _require(self.n_valid >= 0, f"{where}.n_valid", "must be >= 0")
        _require(self.batch_size >= 1, f"{where}.batch_size", "must be >= 1")

    def sigmas(self) -> tuple[float, ...]:
        import numpy as np

        grid = np.logspace(self.sigma_log10_start, self.sigma_log10_stop, self.sigma_num)
        return tuple(float(s) for s in grid)


@dataclass(frozen=True)
class Report:
    dpi: int
    timeout_s: int  # per notebook cell


def load_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    with path.open() as fh:
        raw = yaml.safe_load(fh)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return raw


def section(raw: dict, key: str) -> Any:
    """Return ``raw[key]`` for a dotted key, with a one-line error when it is missing."""
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"params.yaml: missing key '{key}'")
        node = node[part]
    return node


def sample(raw: dict) -> Sample:
    return build(Sample, section(raw, "sample"), "sample")


def parzen(raw: dict) -> Parzen:
    return build(Parzen, section(raw, "parzen"), "parzen")


def report(raw: dict) -> Report:
    return build(Report, section(raw, "report"), "report")


def base(raw: dict) -> Base:
    return build(Base, section(raw, "base"), "base")


def dataset(raw: dict, name: str) -> Dataset:
    return build(Dataset, section(raw, f"data.{name}"), f"data.{name}")


def experiment(raw: dict, name: str) -> Experiment:
    return build(Experiment, section(raw, f"experiments.{name}"), f"experiments.{name}")


def experiment_names(raw: dict) -> list[str]:
    exps = section(raw, "experiments")
    if not isinstance(exps, dict):
        raise ConfigError("params.yaml: 'experiments' must be a mapping")
    return list(exps)


def effective_epochs(epochs: int, b: Base, exp: Experiment) -> int:
    """Epochs actually run: the params value, or the quick budget's when that is smaller."""
    return min(epochs, exp.quick.epochs) if b.budget == "quick" else epochs


def effective_train_examples(n_train: int, b: Base, exp: Experiment) -> int:
    """Training images used: all, or the first quick.train_examples under the quick budget."""
    return min(n_train, exp.quick.train_examples) if b.budget == "quick" else n_train


# ---------------------------------------------------------------- toy1d (Figure 1, Section 4)


@dataclass(frozen=True)
class Toy1d:
    """Stage ``toy1d``: the 1-D run behind Figure 1 and the checks of Section 4."""

    seed: int
    data_mean: float  # p_data = N(data_mean, data_std^2)
    data_std: float
    z_low: float  # z ~ U(z_low, z_high)
    z_high: float
    g_hidden: int  # G: 1 -> g_hidden -> 1
    d_hidden: int  # D: 1 -> d_hidden -> 1 (sigmoid)
    activation: Literal["tanh", "relu"]
    g_init_mean: float  # moment (a): G pre-fitted to the quantiles of N(g_init_mean, g_init_std^2)
    g_init_std: float
    pretrain_points: int
    pretrain_iters: int
    batch_size: int  # m of Algorithm 1
    k: int  # D steps per G step (Algorithm 1)
    lr_d: float
    lr_g: float
    momentum: float
    lr_final: float  # fraction of lr_d and lr_g reached at the last iteration of (d), linearly
    g_loss: Literal["minimax", "non_saturating"]
    a_d_steps: int
    converge_steps: int
    c_g_steps: int
    iterations: int
    eval_every: int
    kde_samples: int
    mc_samples: int
    null_repeats: int
    grid_points: int
    bulk_mass: float
    z_arrows: int

    def check(self, where: str) -> None:
        _require(self.data_std > 0, f"{where}.data_std", "must be > 0")
        _require(self.g_init_std > 0, f"{where}.g_init_std", "must be > 0")
        _require(self.z_low < self.z_high, f"{where}.z_high", "must be > z_low")
        for name in ("lr_d", "lr_g"):
            _require(getattr(self, name) > 0, f"{where}.{name}", "must be > 0")
        _require(0 <= self.momentum < 1, f"{where}.momentum", "must be in [0, 1)")
        _require(0 <= self.lr_final <= 1, f"{where}.lr_final", "must be in [0, 1]")
        _require(0 < self.bulk_mass < 1, f"{where}.bulk_mass", "must be in (0, 1)")
        for name in ("g_hidden", "d_hidden", "batch_size", "k", "converge_steps", "eval_every",
                     "null_repeats", "pretrain_iters"):  # fmt: skip
            _require(getattr(self, name) >= 1, f"{where}.{name}", "must be >= 1")
        for name in ("a_d_steps", "c_g_steps", "iterations"):
            _require(getattr(self, name) >= 0, f"{where}.{name}", "must be >= 0")
        for name in ("pretrain_points", "kde_samples", "mc_samples", "z_arrows"):
            _require(getattr(self, name) >= 2, f"{where}.{name}", "must be >= 2")
        _require(self.grid_points >= 11, f"{where}.grid_points", "must be >= 11")


def toy1d(raw: dict) -> Toy1d:
    return build(Toy1d, section(raw, "toy1d"), "toy1d")


__all__ = [
    "Base",
    "ConfigError",
    "Dataset",
    "Dropout",
    "Experiment",
    "Layer",
    "Parzen",
    "QuickBudget",
    "Report",
    "Sample",
    "ValidParzen",
    "base",
    "build",
    "parzen",
    "report",
    "sample",
    "dataset",
    "effective_epochs",
    "effective_train_examples",
    "experiment",
    "experiment_names",
    "load_params",
    "section",
]
