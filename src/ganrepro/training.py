"""Adversarial training exactly as the authors' released code ran it (paper-settings §0).

Algorithm 1 of the paper with k = 1, in the form pylearn2's SGD gives it: one forward pass per
minibatch (the same x, z and dropout masks) yields the gradient of the D loss with respect to
theta_d and of the G loss with respect to theta_g, and both nets are updated at once.

- D loss: 0.5 * (BCE(D(x), 1) + BCE(D(G(z)), 0)), from the logit with softplus (paper eq. 1).
- G loss: BCE(D(G(z)), 1) = -log D(G(z)), the non-saturating loss of paper section 3.
- Update (pylearn2 ``Momentum``): v <- mu v - lr g, theta <- theta + v.
- lr after t updates: lr0 / lr_decay^t, floored at min_lr (``ExponentialDecay``).
- mu during epoch e (1-indexed): mu0 + (mu1 - mu0) * min(1, (e - 1) / (saturate - 1))
  (``MomentumAdjustor`` with start 1).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganrepro import parzen
from ganrepro.config import Experiment
from ganrepro.io import atomic_path
from ganrepro.models import Discriminator, Generator, build_pair, constrain, sample_noise
from ganrepro.runtime import stream

PHASES = {"train": 0, "pretrain": 1, "final": 2}  # RNG stream offsets of each training phase
CURVE_COLUMNS = (
    *("epoch", "step", "lr", "momentum"),
    *("d_loss", "g_loss", "d_real", "d_fake", "valid_parzen", "seconds", "phase"),
)


# ---------------------------------------------------------------- schedules


def learning_rate(step: int, exp: Experiment) -> float:
    """lr used by update number ``step`` (0-indexed): lr0 / decay^step, at least min_lr."""
    return max(exp.lr / exp.lr_decay**step, exp.min_lr)


def momentum(epoch: int, exp: Experiment) -> float:
    """mu during ``epoch`` (1-indexed), linear from momentum_start to momentum_final."""
    width = exp.momentum_saturate - 1
    alpha = 1.0 if width == 0 else min(1.0, max(0.0, (epoch - 1) / width))
    return exp.momentum_start * (1 - alpha) + alpha * exp.momentum_final


# ---------------------------------------------------------------- one step


STAT_NAMES = ("d_loss", "g_loss", "d_real", "d_fake")  # d_real: mean D(x), d_fake: mean D(G(z))


def gan_gradients(
    netG: Generator, netD: Discriminator, x: Tensor, z: Tensor, dropout_gen: torch.Generator
) -> tuple[list[Tensor], list[Tensor], Tensor]:
    """Gradients of the D loss wrt theta_d and of the G loss wrt theta_g, one forward pass.

    Also returns the detached batch statistics STAT_NAMES as a (4,) tensor (no device sync).
    """
    a_real = netD(x, dropout_gen)  # (B,) logits; real and fake batches get their own masks
    a_fake = netD(netG(z), dropout_gen)  # (B,)
    d_loss = 0.5 * (F.softplus(-a_real).mean() + F.softplus(a_fake).mean())
    g_loss = F.softplus(-a_fake).mean()  # -log D(G(z)), non-saturating
    grads_d = torch.autograd.grad(d_loss, list(netD.parameters()), retain_graph=True)
    grads_g = torch.autograd.grad(g_loss, list(netG.parameters()))
    with torch.no_grad():
        stats = torch.stack(
            [d_loss, g_loss, torch.sigmoid(a_real).mean(), torch.sigmoid(a_fake).mean()]
        )
    return list(grads_d), list(grads_g), stats


@torch.no_grad()
def momentum_update(
    params: list[Tensor], grads: list[Tensor], velocity: list[Tensor], lr: float, mu: float
) -> None:
    """Classic momentum with the learning rate inside the velocity (pylearn2 ``Momentum``)."""
    torch._foreach_mul_(velocity, mu)
    torch._foreach_add_(velocity, grads, alpha=-lr)
    torch._foreach_add_(params, velocity)


# ---------------------------------------------------------------- state and checkpoints


@dataclass
class TrainState:
    netG: Generator
    netD: Discriminator
    velocity: list[Tensor]  # one per parameter, G's then D's
    rng: dict[str, torch.Generator]
    step: int = 0  # updates done
    epoch: int = 0  # epochs completed
    best_epoch: int = 0
    best_valid: float = -math.inf
    rows: list[dict] = field(default_factory=list)  # one curve row per completed epoch
    phase: str = "train"  # "pretrain" | "final" for the two-stage TFD protocol
    epoch_offset: int = 0  # epochs of earlier phases, for the curves' epoch axis

    def params(self) -> list[Tensor]:
        return list(self.netG.parameters()) + list(self.netD.parameters())


def init_state(
    exp: Experiment,
    train_x: Tensor,
    seed: int,
    device: torch.device,
    image_shape: tuple[int, ...] | None = None,
    phase: str = "train",
) -> TrainState:
    """Fresh nets (pylearn2 init), zero velocities, and RNG streams for one training phase."""
    phase_no = PHASES[phase]
    netG, netD = build_pair(
        exp.z_dim,
        exp.G,
        exp.D,
        exp.dropout,
        train_x.cpu(),
        stream(seed, "init", phase=phase_no),
        image_shape,
    )
    netG, netD = netG.to(device), netD.to(device)
    state = TrainState(netG, netD, velocity=[], rng={}, phase=phase)
    state.velocity = [torch.zeros_like(p) for p in state.params()]
    state.rng = {
        "shuffle": stream(seed, "shuffle", phase=phase_no),
        "noise": stream(seed, "noise", device, phase=phase_no),
        "dropout": stream(seed, "dropout", device, phase=phase_no),
    }
    return state


def state_dict(state: TrainState, meta: dict) -> dict:
    """Everything needed to resume: nets, momentum buffers, counters, RNG states, params."""
    return {
        "G": state.netG.state_dict(),
        "D": state.netD.state_dict(),
        "velocity": [v.detach().cpu() for v in state.velocity],
        "rng": {k: g.get_state() for k, g in state.rng.items()},
        "step": state.step,
        "epoch": state.epoch,
        "best_epoch": state.best_epoch,
        "best_valid": state.best_valid,
        "rows": state.rows,
        "phase": state.phase,
        "epoch_offset": state.epoch_offset,
        "meta": meta,
        "versions": {"torch": torch.__version__},
    }


def load_state(state: TrainState, ckpt: dict) -> None:
    state.netG.load_state_dict(ckpt["G"])
    state.netD.load_state_dict(ckpt["D"])
    for v, saved in zip(state.velocity, ckpt["velocity"], strict=True):
        v.copy_(saved)
    for k, g in state.rng.items():
        g.set_state(ckpt["rng"][k])
    state.step, state.epoch = ckpt["step"], ckpt["epoch"]
    state.best_epoch, state.best_valid = ckpt["best_epoch"], ckpt["best_valid"]
    state.rows = list(ckpt["rows"])
    state.phase, state.epoch_offset = ckpt["phase"], ckpt["epoch_offset"]


def save_checkpoint(path: Path, ckpt: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


# ---------------------------------------------------------------- epochs


def train_epoch(state: TrainState, exp: Experiment, train_x: Tensor) -> dict[str, float]:
    """One pass over a fresh permutation of ``train_x``; the last partial batch is kept.

    Returns the epoch means of STAT_NAMES over minibatches.
    """
    mu = momentum(state.epoch + 1, exp)
    order = torch.randperm(train_x.shape[0], generator=state.rng["shuffle"])
    totals = torch.zeros(len(STAT_NAMES), dtype=torch.float64, device=train_x.device)
    batches = order.split(exp.batch_size)
    for idx in batches:
        x = train_x[idx.to(train_x.device)]  # (B, D)
        z = sample_noise(len(idx), exp.z_dim, exp.noise, state.rng["noise"], x.device)
        grads_d, grads_g, stats = gan_gradients(state.netG, state.netD, x, z, state.rng["dropout"])
        lr = learning_rate(state.step, exp)
        momentum_update(state.params(), grads_g + grads_d, state.velocity, lr, mu)
        constrain(state.netG)  # max_col_norm after every update (TFD only)
        constrain(state.netD)
        state.step += 1
        totals += stats
    state.epoch += 1
    return dict(zip(STAT_NAMES, (totals / len(batches)).tolist(), strict=True))


@torch.no_grad()
def valid_parzen(netG: Generator, z: Tensor, valid_x: Tensor, sigmas: tuple[float, ...]) -> float:
    """Cheap validation Parzen LL: best mean LL over ``sigmas`` of G(z) on ``valid_x``."""
    mu = netG(z)
    ll = parzen.log_likelihood(valid_x, mu, sigmas, device=valid_x.device)  # (S, N)
    return float(ll.mean(dim=1).max())


def fit(
    state: TrainState,
    exp: Experiment,
    train_x: Tensor,
    valid_x: Tensor,
    *,
    epochs: int,
    seed: int,
    out_dir: Path,
    meta: dict,
) -> TrainState:
    """Train until ``epochs`` epochs are complete, saving last.pt every epoch and best.pt."""
    device = train_x.device
    z_valid = sample_noise(
        exp.valid_parzen.n_samples,
        exp.z_dim,
        exp.noise,
        stream(seed, "valid_noise", device),
        device,
    )
    valid_x = valid_x[: exp.valid_parzen.n_valid]
    while state.epoch < epochs:
        t0 = time.perf_counter()
        stats = train_epoch(state, exp, train_x)
        score = valid_parzen(state.netG, z_valid, valid_x, exp.valid_parzen.sigmas())
        row = {
            "epoch": state.epoch + state.epoch_offset,
            "step": state.step,
            "lr": learning_rate(state.step, exp),
            "momentum": momentum(state.epoch, exp),
            **stats,
            "valid_parzen": score,
            "seconds": time.perf_counter() - t0,
            "phase": state.phase,
        }
        state.rows.append(row)
        improved = score > state.best_valid
        if improved:
            state.best_epoch, state.best_valid = row["epoch"], score
        ckpt = state_dict(state, meta)
        save_checkpoint(out_dir / "last.pt", ckpt)
        if improved:
            save_checkpoint(out_dir / "best.pt", ckpt)
        print(_progress(row, epochs + state.epoch_offset, improved), file=sys.stderr, flush=True)
    return state


def pretrain_view(exp: Experiment) -> Experiment:
    """Stage 1 of the TFD protocol: G without its bottom ``pretrain_new_layers`` layers."""
    k = exp.pretrain_new_layers
    return dataclasses.replace(exp, G=exp.G[k:], pretrain_epochs=0, pretrain_new_layers=0)


def graft(final: TrainState, pre: TrainState, k: int) -> None:
    """Stage 2 (``adversarial.add_layers``): the pretrained G layers continue on top of the k new
    ones; D is new and the schedules restart. The curves go on from stage 1."""
    for new, old in zip(final.netG.layers[k:], pre.netG.layers, strict=True):
        new.load_state_dict(old.state_dict())
    final.rows, final.epoch_offset = list(pre.rows), pre.epoch


def run_training(
    exp: Experiment,
    train_x: Tensor,
    valid_x: Tensor,
    *,
    image_shape: tuple[int, ...],
    seed: int,
    epochs: int,
    pretrain_epochs: int,
    out_dir: Path,
    meta: dict,
    resume: dict | None = None,
) -> TrainState:
    """One phase, or the two-stage TFD protocol when ``exp.pretrain_epochs`` > 0.

    ``resume`` is a checkpoint dict (from last.pt of either phase) to continue from.
    """
    kw = {"seed": seed, "meta": meta}
    if exp.pretrain_epochs == 0:
        state = init_state(exp, train_x, seed, train_x.device, image_shape)
        if resume is not None:
            load_state(state, resume)
        return fit(state, exp, train_x, valid_x, epochs=epochs, out_dir=out_dir, **kw)
    final = init_state(exp, train_x, seed, train_x.device, image_shape, phase="final")
    if resume is not None and resume["phase"] == "final":
        load_state(final, resume)
    else:
        pre_exp = pretrain_view(exp)
        pre = init_state(pre_exp, train_x, seed, train_x.device, image_shape, phase="pretrain")
        if resume is not None:
            load_state(pre, resume)
        fit(
            pre,
            pre_exp,
            train_x,
            valid_x,
            epochs=pretrain_epochs,
            out_dir=out_dir / "pretrain",
            **kw,
        )
        graft(final, pre, exp.pretrain_new_layers)
    return fit(final, exp, train_x, valid_x, epochs=epochs, out_dir=out_dir, **kw)


def _progress(row: dict, epochs: int, improved: bool) -> str:
    return (
        f"epoch {row['epoch']}/{epochs} step {row['step']} d_loss {row['d_loss']:.4f} "
        f"g_loss {row['g_loss']:.4f} D(x) {row['d_real']:.3f} D(G(z)) {row['d_fake']:.3f} "
        f"valid_parzen {row['valid_parzen']:.2f}{' *' if improved else ''} "
        f"({row['seconds']:.1f}s)"
    )


def curves_tsv(rows: list[dict]) -> str:
    """The per-epoch curves as TSV text (header only when there are no rows)."""
    lines = ["\t".join(CURVE_COLUMNS)]
    for row in rows:
        lines.append("\t".join(_fmt(row[c]) for c in CURVE_COLUMNS))
    return "\n".join(lines) + "\n"


def _fmt(value: float | int | str) -> str:
    return f"{value:.8g}" if isinstance(value, float) else str(value)
