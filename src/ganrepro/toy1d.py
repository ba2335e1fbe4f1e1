"""The 1-D run behind the paper's Figure 1 and numeric checks of its Section 4.

Notation of the paper: p_data = N(data_mean, data_std^2); z ~ U(z_low, z_high); p_g is the law of
x = G(z); D(x) is the probability that x came from p_data; V(G, D) = E_data log D(x) +
E_z log(1 - D(G(z))) (eq. 1); D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1);
C(G) = max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g) (Theorem 1).

The four moments of Figure 1 and how this run reaches them (params ``toy1d``):

(a) "a pair near convergence": G is pre-fitted by least squares (L-BFGS) to the quantile function
    of N(g_init_mean, g_init_std^2) at pretrain_points evenly spaced z (a G that earlier training
    left near p_data, but offset); a fresh D takes a_d_steps steps of Algorithm 1's inner loop,
    so it is only partially accurate.
(b) "after D's inner loop": G frozen, D continues for converge_steps steps (the learning rate
    annealed linearly to 0 so that SGD settles), i.e. the inner loop run to convergence.
(c) "after an update to G": c_g_steps G updates of Algorithm 1 against the D of (b).
(d) "at the end": ``iterations`` iterations of Algorithm 1 (k D steps, then one G step); then D is
    trained to convergence against the final G exactly as in (b).

Updates are Algorithm 1's with momentum (the paper: "We used momentum"), through
:func:`ganrepro.training.momentum_update`; minibatches of m = batch_size fresh draws of x and z.

Estimators (all on a uniform grid of x covering data and initial G by 6 standard deviations):

- p_g: Gaussian kernel density estimate of kde_samples draws G(z), bandwidth by Silverman's rule
  of thumb h = 0.9 min(sd, IQR / 1.34) n^(-1/5) (Silverman 1986, eq. 3.31), computed by linear
  binning on the grid and a discrete Gaussian kernel of unit mass.
- JSD: trapezoid rule over the grid, in nats. D*: from p_data (exact) and the KDE of p_g.
- C(G): V(G, D) by Monte Carlo over mc_samples fresh x and z, with D a copy of the current D
  trained to convergence (as in (b)) against G frozen; with its standard error.
- Noise floors: the same estimators where the answer is known, p_g := p_data (D trained on data
  against data, the KDE of data draws), repeated null_repeats times; each floor is the largest
  deviation over the repeats. A check agrees with the paper within MARGIN x its floors
  (:func:`theory_checks`).

Everything runs on CPU with at most :data:`THREADS` threads and explicit ``torch.Generator``
streams, so a rerun with the same params gives the same numbers.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganrepro.config import Toy1d
from ganrepro.training import momentum_update

THREADS = 1  # tiny nets: one thread is fastest and makes the numbers independent of the machine
LOG4 = math.log(4.0)
MOMENTS = ("a", "b", "c", "d")
# Offsets of the RNG streams derived from toy1d.seed. "measure" feeds every estimate, so measuring
# more often (eval_every) never changes the training trajectory.
STREAMS = {"init": 0, "data": 1, "noise": 2, "measure": 3, "null": 4}
CRITERION_COLUMNS = ("g_updates", "c_g", "c_g_se", "jsd_bound", "v_train")
KDE_METHOD = (
    "Gaussian KDE of {n} draws of G(z), bandwidth by Silverman's rule "
    "h = 0.9 min(sd, IQR/1.34) n^(-1/5)"
)

Sampler = Callable[[int, torch.Generator], Tensor]  # (n, generator) -> (n, 1) draws of x


# ---------------------------------------------------------------- densities and divergences


def gaussian_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def silverman_bandwidth(samples: np.ndarray) -> float:
    """h = 0.9 min(sd, IQR / 1.34) n^(-1/5) (Silverman 1986, eq. 3.31); sd if the IQR is 0."""
    samples = np.asarray(samples, dtype=np.float64)
    sd = float(samples.std(ddof=1))
    q75, q25 = np.percentile(samples, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) if q75 > q25 else sd
    return 0.9 * spread * samples.size ** (-0.2)


def kde_on_grid(samples: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian KDE of ``samples`` at the points of the uniform ``grid``; shape of ``grid``.

    Linear binning onto the grid, then a discrete Gaussian kernel normalised to unit mass (so the
    estimate integrates to the fraction of samples inside the grid, even for h below the spacing).
    """
    samples = np.asarray(samples, dtype=np.float64)
    n_grid, dx = grid.size, float(grid[1] - grid[0])
    pos = (samples - grid[0]) / dx
    left = np.floor(pos).astype(np.int64)
    w = pos - left
    inside = (left >= 0) & (left < n_grid - 1)
    left, w = left[inside], w[inside]
    counts = np.bincount(left, 1 - w, n_grid) + np.bincount(left + 1, w, n_grid)
    half = min(int(math.ceil(6 * bandwidth / dx)), n_grid - 1)
    t = np.arange(-half, half + 1) * dx
    kernel = np.exp(-0.5 * (t / bandwidth) ** 2)
    kernel /= kernel.sum() * dx
    return np.convolve(counts, kernel, "full")[half : half + n_grid] / samples.size


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) (Proposition 1); 1/2 where both densities vanish."""
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """Jensen-Shannon divergence of two densities on the grid ``x`` (nats, in [0, log 2])."""
    m = 0.5 * (p + q)
    return 0.5 * _kl_to(p, m, x) + 0.5 * _kl_to(q, m, x)


def _kl_to(p: np.ndarray, m: np.ndarray, x: np.ndarray) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        integrand = np.where(p > 0, p * np.log(p / np.where(m > 0, m, 1.0)), 0.0)
    return float(np.trapezoid(integrand, x))


def criterion_bound(jsd_value: float) -> float:
    """C(G) = -log 4 + 2 JSD(p_data || p_g) (Theorem 1)."""
    return -LOG4 + 2.0 * jsd_value


def make_grid(cfg: Toy1d) -> np.ndarray:
    lo = min(cfg.data_mean - 6 * cfg.data_std, cfg.g_init_mean - 6 * cfg.g_init_std)
    hi = max(cfg.data_mean + 6 * cfg.data_std, cfg.g_init_mean + 6 * cfg.g_init_std)
    return np.linspace(lo, hi, cfg.grid_points)


def bulk_mask(x: np.ndarray, mean: float, std: float, mass: float) -> np.ndarray:
    """True on the central ``mass`` of N(mean, std^2)."""
    half = NormalDist().inv_cdf(0.5 + mass / 2) * std
    return np.abs(x - mean) <= half


def max_abs(values: np.ndarray, mask: np.ndarray) -> float:
    return float(np.max(np.abs(values[mask])))


# ---------------------------------------------------------------- nets and samplers


def stream(seed: int, name: str) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(seed * 1000 + STREAMS[name])
    return gen


def mlp(hidden: int, activation: str, gen: torch.Generator) -> nn.Sequential:
    """1 -> hidden -> 1; weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's rule)."""
    act = nn.Tanh() if activation == "tanh" else nn.ReLU()
    net = nn.Sequential(nn.Linear(1, hidden), act, nn.Linear(hidden, 1))
    with torch.no_grad():
        for layer in (net[0], net[2]):
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=gen)
            layer.bias.uniform_(-bound, bound, generator=gen)
    return net


def data_sampler(cfg: Toy1d) -> Sampler:
    return lambda n, gen: cfg.data_mean + cfg.data_std * torch.randn(n, 1, generator=gen)


def noise(cfg: Toy1d, n: int, gen: torch.Generator) -> Tensor:
    return cfg.z_low + (cfg.z_high - cfg.z_low) * torch.rand(n, 1, generator=gen)  # (n, 1)


def g_sampler(netG: nn.Module, cfg: Toy1d) -> Sampler:
    return lambda n, gen: netG(noise(cfg, n, gen))


@torch.no_grad()
def on_points(net: nn.Module, x: np.ndarray, sigmoid: bool = False) -> np.ndarray:
    out = net(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1))[:, 0]
    return (torch.sigmoid(out) if sigmoid else out).double().numpy()


def pretrain_g(netG: nn.Module, cfg: Toy1d) -> float:
    """Least-squares fit of G to the quantile function of N(g_init_mean, g_init_std^2).

    Fitted at z_i = z_low + (i + 1/2) / n (z_high - z_low), i < n = pretrain_points; L-BFGS for
    pretrain_iters iterations. Returns the final mean squared error.
    """
    n = cfg.pretrain_points
    u = (np.arange(n) + 0.5) / n
    target = [cfg.g_init_mean + cfg.g_init_std * NormalDist().inv_cdf(float(v)) for v in u]
    z = torch.as_tensor(cfg.z_low + (cfg.z_high - cfg.z_low) * u, dtype=torch.float32)[:, None]
    y = torch.tensor(target, dtype=torch.float32)[:, None]
    opt = torch.optim.LBFGS(
        netG.parameters(),
        max_iter=cfg.pretrain_iters,
        history_size=50,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
    )

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.mse_loss(netG(z), y)
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(F.mse_loss(netG(z), y))


# ---------------------------------------------------------------- Algorithm 1


def d_update(netD, velocity, x: Tensor, x_fake: Tensor, lr: float, mu: float) -> None:
    """Ascend (1/m) sum [log D(x) + log(1 - D(G(z)))] with momentum (Algorithm 1, inner loop)."""
    params = list(netD.parameters())
    loss = F.softplus(-netD(x)).mean() + F.softplus(netD(x_fake)).mean()  # the negated objective
    momentum_update(params, list(torch.autograd.grad(loss, params)), velocity, lr, mu)


def g_update(netG, netD, velocity, z: Tensor, lr: float, mu: float, kind: str) -> None:
    """Descend (1/m) sum log(1 - D(G(z))) (minimax), or ascend log D(G(z)) (paper section 3)."""
    params = list(netG.parameters())
    logit = netD(netG(z))  # (m, 1); log(1 - D) = -softplus(logit), log D = -softplus(-logit)
    loss = -F.softplus(logit).mean() if kind == "minimax" else F.softplus(-logit).mean()
    momentum_update(params, list(torch.autograd.grad(loss, params)), velocity, lr, mu)


def zeros_like(net: nn.Module) -> list[Tensor]:
    return [torch.zeros_like(p) for p in net.parameters()]


def lr_scale(it: int, cfg: Toy1d) -> float:
    """Learning-rate factor of iteration ``it`` (1-based) of (d): linear from 1 to lr_final."""
    return 1.0 - (1.0 - cfg.lr_final) * (it - 1) / max(cfg.iterations - 1, 1)


def d_steps(
    netD, velocity, fake: Sampler, cfg: Toy1d, steps: int, gens, anneal=False, scale=1.0
) -> None:
    """``steps`` D updates against ``fake``; ``gens`` = (data, noise) generators.

    ``anneal``: the learning rate falls linearly from scale * lr_d to 0 over the steps.
    """
    real = data_sampler(cfg)
    for t in range(steps):
        lr = scale * cfg.lr_d * (1 - t / steps if anneal else 1.0)
        with torch.no_grad():
            x_fake = fake(cfg.batch_size, gens[1])
        d_update(netD, velocity, real(cfg.batch_size, gens[0]), x_fake, lr, cfg.momentum)


def g_steps(netG, netD, velocity, cfg: Toy1d, steps: int, gen, scale: float = 1.0) -> None:
    """``steps`` G updates against ``netD`` (frozen), noise from ``gen``, lr = scale * lr_g."""
    for _ in range(steps):
        z = noise(cfg, cfg.batch_size, gen)
        g_update(netG, netD, velocity, z, scale * cfg.lr_g, cfg.momentum, cfg.g_loss)


def converged_d(netD: nn.Module, fake: Sampler, cfg: Toy1d, gens) -> nn.Module:
    """A copy of ``netD`` trained to convergence against ``fake`` (converge_steps, lr annealed)."""
    netD = copy.deepcopy(netD)
    d_steps(netD, zeros_like(netD), fake, cfg, cfg.converge_steps, gens, anneal=True)
    return netD


# ---------------------------------------------------------------- measurements


@torch.no_grad()
def value(netD: nn.Module, fake: Sampler, cfg: Toy1d, gen: torch.Generator) -> tuple[float, float]:
    """Monte Carlo V(G, D) = E log D(x) + E log(1 - D(G(z))) and its standard error (nats)."""
    n = cfg.mc_samples
    log_d_real = -F.softplus(-netD(data_sampler(cfg)(n, gen))).double()  # log D(x)
    log_1m_d_fake = -F.softplus(netD(fake(n, gen))).double()  # log(1 - D(G(z)))
    se = math.sqrt(float(log_d_real.var()) / n + float(log_1m_d_fake.var()) / n)
    return float(log_d_real.mean() + log_1m_d_fake.mean()), se


@torch.no_grad()
def density(fake: Sampler, cfg: Toy1d, grid: np.ndarray, gen) -> tuple[np.ndarray, float]:
    """(p_g on the grid by KDE, bandwidth) from kde_samples draws."""
    samples = fake(cfg.kde_samples, gen)[:, 0].double().numpy()
    h = silverman_bandwidth(samples)
    return kde_on_grid(samples, grid, h), h


@dataclass
class Probe:
    """Where the estimators look: grid, exact p_data, bulk mask, z line, measurement streams."""

    cfg: Toy1d
    grid: np.ndarray
    p_data: np.ndarray
    bulk: np.ndarray
    z_line: np.ndarray
    gen: torch.Generator  # the "measure" stream: KDE draws, Monte Carlo, D re-training

    @classmethod
    def of(cls, cfg: Toy1d, gen: torch.Generator) -> Probe:
        grid = make_grid(cfg)
        return cls(
            cfg,
            grid,
            gaussian_pdf(grid, cfg.data_mean, cfg.data_std),
            bulk_mask(grid, cfg.data_mean, cfg.data_std, cfg.bulk_mass),
            np.linspace(cfg.z_low, cfg.z_high, cfg.z_arrows),
            gen,
        )

    def p_g(self, netG: nn.Module) -> tuple[np.ndarray, float]:
        return density(g_sampler(netG, self.cfg), self.cfg, self.grid, self.gen)

    def converged(self, netD: nn.Module, netG: nn.Module) -> nn.Module:
        return converged_d(netD, g_sampler(netG, self.cfg), self.cfg, (self.gen, self.gen))

    def snapshot(self, netG: nn.Module, netD: nn.Module, p_g: tuple[np.ndarray, float]) -> dict:
        """Everything Figure 1 draws for one moment, and this p_g's JSD to p_data."""
        p, h = p_g
        return {
            "p_g": p,
            "bandwidth": h,
            "d": on_points(netD, self.grid, sigmoid=True),
            "d_star": optimal_discriminator(self.p_data, p),
            "g_of_z": on_points(netG, self.z_line),
            "jsd": jsd(self.p_data, p, self.grid),
            "p_g_mass": float(np.trapezoid(p, self.grid)),
        }

    def criterion(self, netG, netD_now, netD_conv, updates: int, p_g) -> dict:
        """One row of the C(G) curve: C(G) with the converged D, the JSD bound, V with D now."""
        fake = g_sampler(netG, self.cfg)
        c_g, se = value(netD_conv, fake, self.cfg, self.gen)
        v_now, _ = value(netD_now, fake, self.cfg, self.gen)
        bound = criterion_bound(jsd(self.p_data, p_g[0], self.grid))
        return {
            "g_updates": updates,
            "c_g": c_g,
            "c_g_se": se,
            "jsd_bound": bound,
            "v_train": v_now,
        }


def null_floors(cfg: Toy1d, probe: Probe, gen: torch.Generator) -> dict[str, float]:
    """The estimators where the truth is known (p_g = p_data), null_repeats times; the maxima.

    d: max over the bulk of |D - 1/2|, D a fresh net trained to convergence on data vs data;
    kde: max over the bulk of |D* - 1/2| with the KDE of data draws in place of p_g;
    c: |V + log 4| with that D (Monte Carlo); two_jsd: 2 JSD(p_data || KDE of data draws).
    """
    real = data_sampler(cfg)
    floors = {"d": 0.0, "kde": 0.0, "c": 0.0, "two_jsd": 0.0}
    for _ in range(cfg.null_repeats):
        netD = converged_d(mlp(cfg.d_hidden, cfg.activation, gen), real, cfg, (gen, gen))
        v, _ = value(netD, real, cfg, gen)
        p, _ = density(real, cfg, probe.grid, gen)
        d_dev = on_points(netD, probe.grid, sigmoid=True) - 0.5
        kde_dev = optimal_discriminator(probe.p_data, p) - 0.5
        floors["d"] = max(floors["d"], max_abs(d_dev, probe.bulk))
        floors["kde"] = max(floors["kde"], max_abs(kde_dev, probe.bulk))
        floors["c"] = max(floors["c"], abs(v + LOG4))
        floors["two_jsd"] = max(floors["two_jsd"], 2 * jsd(probe.p_data, p, probe.grid))
    return floors


# ---------------------------------------------------------------- the run


@dataclass
class Run:
    """What :func:`run` produces: snapshots per moment, criterion rows, scalars, noise floors."""

    probe: Probe
    snapshots: dict[str, dict] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    scalars: dict[str, float] = field(default_factory=dict)
    floors: dict[str, float] = field(default_factory=dict)


def _log(msg: str) -> None:
    print(f"toy1d: {msg}", file=sys.stderr, flush=True)


def run(cfg: Toy1d, log: Callable[[str], None] = _log) -> Run:
    """Figure 1's four moments, the C(G) curve and the noise floors (see the module docstring)."""
    torch.set_num_threads(min(THREADS, torch.get_num_threads()))
    gens = {name: stream(cfg.seed, name) for name in STREAMS}
    train = (gens["data"], gens["noise"])
    probe = Probe.of(cfg, gens["measure"])
    out = Run(probe)
    netG = mlp(cfg.g_hidden, cfg.activation, gens["init"])
    netD = mlp(cfg.d_hidden, cfg.activation, gens["init"])
    fake = g_sampler(netG, cfg)
    t0 = time.perf_counter()

    out.scalars["pretrain_mse"] = pretrain_g(netG, cfg)
    d_steps(netD, zeros_like(netD), fake, cfg, cfg.a_d_steps, train)  # (a): D trained a little
    p_g = probe.p_g(netG)
    out.snapshots["a"] = probe.snapshot(netG, netD, p_g)
    netD_a, netD = netD, converged_d(netD, fake, cfg, train)  # (b): inner loop to convergence
    out.snapshots["b"] = probe.snapshot(netG, netD, p_g)
    out.rows.append(probe.criterion(netG, netD_a, netD, 0, p_g))

    vel_g = zeros_like(netG)
    g_steps(netG, netD, vel_g, cfg, cfg.c_g_steps, train[1])  # (c): G updates, D of (b) frozen
    p_g = probe.p_g(netG)
    out.snapshots["c"] = probe.snapshot(netG, netD, p_g)
    out.rows.append(probe.criterion(netG, netD, probe.converged(netD, netG), cfg.c_g_steps, p_g))
    log(f"(a), (b), (c) after {time.perf_counter() - t0:.1f} s")

    vel_d = zeros_like(netD)
    conv = None
    for it in range(1, cfg.iterations + 1):  # (d): Algorithm 1, k D steps then one G step
        scale = lr_scale(it, cfg)
        d_steps(netD, vel_d, fake, cfg, cfg.k, train, scale=scale)
        g_steps(netG, netD, vel_g, cfg, 1, train[1], scale)
        if it % cfg.eval_every == 0 or it == cfg.iterations:
            conv, p_g = probe.converged(netD, netG), probe.p_g(netG)
            row = probe.criterion(netG, netD, conv, cfg.c_g_steps + it, p_g)
            out.rows.append(row)
            gap, two_jsd = row["c_g"] + LOG4, row["jsd_bound"] + LOG4
            log(
                f"iteration {it}/{cfg.iterations}: C(G) + log 4 = {gap:.5f}, 2 JSD = {two_jsd:.5f}"
                f" ({time.perf_counter() - t0:.1f} s)"
            )
    if conv is None:  # no iterations: (d) is (c) with D converged
        conv = probe.converged(netD, netG)
    out.snapshots["d"] = probe.snapshot(netG, conv, p_g)
    out.scalars["d_train_minus_half"] = max_abs(
        on_points(netD, probe.grid, True) - 0.5, probe.bulk
    )
    g_line = on_points(netG, np.linspace(cfg.z_low, cfg.z_high, 1001))
    out.scalars["g_min"], out.scalars["g_max"] = float(g_line.min()), float(g_line.max())
    out.floors = null_floors(cfg, probe, gens["null"])
    log(f"noise floors after {time.perf_counter() - t0:.1f} s")
    return out


# ---------------------------------------------------------------- checks against the paper

# Agreement = within MARGIN x the noise floor measured where the truth is known. The null case has
# a flat D*, while D* here carries small bumps of p_g (G's imperfect pre-fit) that a smooth D
# averages out: over seeds 1-15 of the default params, |D - D*| after the inner loop was 0.7-2.4
# floors, and 5-14 floors before it (moment a). A real failure shows on that larger scale.
MARGIN = 3.0
# check: (statement of the paper, quantity measured, its key in the metrics)
CHECKS = {
    "prop1": (
        "Proposition 1: for G fixed, the optimal D is D* = p_data / (p_data + p_g)",
        "max |D − D*| over the bulk after the inner loop (b)",
        "max_abs_d_minus_dstar",
    ),
    "theorem1": (
        "Theorem 1: C(G) = −log 4 + 2 JSD(p_data ‖ p_g); minimum −log 4 only at p_g = p_data",
        "C(G) + log 4 at the end (d), C(G) = V(G, D) with D trained to convergence",
        "final_c_plus_log4",
    ),
    "optimum": (
        "Global optimum (Figure 1 d): p_g = p_data and D = 1/2",
        "max |D − 1/2| over the bulk at the end (d), D trained to convergence",
        "max_abs_d_minus_half",
    ),
}


def theory_checks(out: Run, cfg: Toy1d) -> dict:
    """The three numbers the report states, each with its tolerance and verdict (a metrics dict).

    Tolerances are MARGIN x the null floors: on p_g = p_data the estimators deviate from the
    known truth (D = D* = 1/2, C(G) = -log 4) by at most the floor in null_repeats repeats (plus
    three Monte Carlo standard errors for C(G)). A real failure shows on the scale of the starting
    values (moment a: |D - D*|, C(G) + log 4).
    """
    b, d, f = out.snapshots["b"], out.snapshots["d"], out.floors
    bulk = out.probe.bulk
    first, last = out.rows[0], out.rows[-1]
    prop1 = max_abs(b["d"] - b["d_star"], bulk)
    gap = last["c_g"] + LOG4
    half = max_abs(d["d"] - 0.5, bulk)
    tol = {
        "prop1": MARGIN * (f["d"] + f["kde"]),
        "theorem1": MARGIN * f["c"] + 3 * last["c_g_se"],
        "optimum": MARGIN * f["d"],
    }
    lo, hi = out.scalars["g_min"], out.scalars["g_max"]
    dist = NormalDist(cfg.data_mean, cfg.data_std)
    return {
        "prop1": {
            "max_abs_d_minus_dstar": prop1,
            "tolerance": tol["prop1"],
            "agrees": bool(prop1 <= tol["prop1"]),
            "before_inner_loop": max_abs(
                out.snapshots["a"]["d"] - out.snapshots["a"]["d_star"], bulk
            ),
        },
        "theorem1": {
            "final_c_plus_log4": gap,
            "final_c_se": last["c_g_se"],
            "tolerance": tol["theorem1"],
            "agrees": bool(abs(gap) <= tol["theorem1"]),
            "initial_c_plus_log4": first["c_g"] + LOG4,
            "initial_two_jsd": first["jsd_bound"] + LOG4,
            "final_two_jsd": last["jsd_bound"] + LOG4,
            "max_c_minus_bound": max(r["c_g"] - r["jsd_bound"] for r in out.rows),
            "max_c_minus_bound_se": max(
                (r["c_g"] - r["jsd_bound"]) / r["c_g_se"] for r in out.rows
            ),
            "min_c_plus_log4": min(r["c_g"] for r in out.rows) + LOG4,
        },
        "optimum": {
            "max_abs_d_minus_half": half,
            "tolerance": tol["optimum"],
            "agrees": bool(half <= tol["optimum"]),
            "train_d_max_abs_minus_half": out.scalars["d_train_minus_half"],
        },
        "floors": {k: float(v) for k, v in f.items()},
        "g": {
            "min": lo,
            "max": hi,
            "p_data_mass_outside": dist.cdf(lo) + 1.0 - dist.cdf(hi),
            "g_updates": cfg.c_g_steps + cfg.iterations,
        },
    }


# ---------------------------------------------------------------- outputs


def snapshot_arrays(out: Run, cfg: Toy1d) -> dict[str, np.ndarray]:
    """The arrays of toy1d/snapshots.npz; per-moment arrays are stacked in MOMENTS order."""
    snaps = [out.snapshots[m] for m in MOMENTS]
    p = out.probe
    return {
        "moments": np.array(MOMENTS),
        "x": p.grid,
        "p_data": p.p_data,
        "bulk": p.bulk,
        "z": p.z_line,
        **{key: np.stack([s[key] for s in snaps]) for key in ("p_g", "d", "d_star", "g_of_z")},
        "bandwidth": np.array([s["bandwidth"] for s in snaps]),
        "jsd": np.array([s["jsd"] for s in snaps]),
        "data_mean": np.array(cfg.data_mean),
        "data_std": np.array(cfg.data_std),
    }


def describe(out: Run, cfg: Toy1d) -> dict:
    """toy1d/info.json: how each moment was reached and how each quantity was estimated."""
    lo, hi = out.probe.grid[out.probe.bulk][[0, -1]]
    return {
        "moments": {
            "a": f"G pre-fitted (L-BFGS, MSE {out.scalars['pretrain_mse']:.2g}) to the quantiles "
            f"of N({cfg.g_init_mean:g}, {cfg.g_init_std:g}²); D after {cfg.a_d_steps} steps",
            "b": f"G frozen; D after {cfg.converge_steps} more steps (lr annealed to 0)",
            "c": f"{cfg.c_g_steps} G update{'' if cfg.c_g_steps == 1 else 's'} "
            "against the D of (b)",
            "d": f"after {cfg.iterations} iterations of Algorithm 1 (k = {cfg.k}); D then "
            f"trained to convergence against the final G",
        },
        "kde": KDE_METHOD.format(n=cfg.kde_samples),
        "bandwidth": {m: out.snapshots[m]["bandwidth"] for m in MOMENTS},
        "p_g_mass_on_grid": {m: out.snapshots[m]["p_g_mass"] for m in MOMENTS},
        "bulk": [float(lo), float(hi)],
        "bulk_mass": cfg.bulk_mass,
        "c_g": f"V(G, D) over {cfg.mc_samples} Monte Carlo draws, D trained to convergence "
        f"({cfg.converge_steps} steps) with G frozen",
        "null_repeats": cfg.null_repeats,
        "margin": MARGIN,
        "data": [cfg.data_mean, cfg.data_std],
        "z": [cfg.z_low, cfg.z_high],
        "k": cfg.k,
        "g_loss": cfg.g_loss,
        "seed": cfg.seed,
    }


def criterion_tsv(rows: list[dict]) -> str:
    """plots/toy1d/criterion.tsv: C(G) (and its s.e.), -log 4 + 2 JSD and V with D now, in nats."""
    lines = ["\t".join(CRITERION_COLUMNS)]
    for row in rows:
        lines.append("\t".join(_fmt(row[c]) for c in CRITERION_COLUMNS))
    return "\n".join(lines) + "\n"


def _fmt(v: float | int) -> str:
    return str(v) if isinstance(v, int) else f"{v:.8g}"


# ---------------------------------------------------------------- rendering (report notebook)

# Figure 1's visual language: black dotted p_data, green solid p_g, blue dashed D
STYLE = {
    "p_data": {"color": "black", "ls": (0, (1, 1.6)), "lw": 2.2, "label": "p_data (data)"},
    "p_g": {"color": "#00a000", "ls": "-", "lw": 1.6, "label": "p_g (generator, KDE)"},
    "d": {"color": "#1030ff", "ls": (0, (5, 3)), "lw": 1.6, "label": "D (discriminator)"},
    "d_star": {"color": "#8fb0ff", "ls": "-", "lw": 0.9, "label": "D* = p_data / (p_data + p_g)"},
}
DENSITY_PEAK = 0.9  # p_data's peak is drawn at this height of D's [0, 1] axis
D_STAR_WHERE = 0.01  # D* is drawn where (p_data + p_g) / 2 exceeds this fraction of p_data's peak
X_LINE, Z_LINE = -0.18, -0.68  # heights of the x and z domains below the curves
PAPER_CAPTION = (
    "Generative adversarial nets are trained by simultaneously updating the discriminative "
    "distribution (D, blue, dashed line) so that it discriminates between samples from the data "
    "generating distribution (black, dotted line) p_x from those of the generative distribution "
    "p_g (G) (green, solid line). The lower horizontal line is the domain from which z is "
    "sampled, in this case uniformly. The horizontal line above is part of the domain of x. The "
    "upward arrows show how the mapping x = G(z) imposes the non-uniform distribution p_g on "
    "transformed samples. G contracts in regions of high density and expands in regions of low "
    "density of p_g."
)


def display_range(snap) -> tuple[float, float]:
    """x range where p_data or any p_g exceeds 0.2% of p_data's peak, padded by 5%."""
    x, top = snap["x"], snap["p_data"].max()
    keep = (snap["p_data"] > 2e-3 * top) | (snap["p_g"] > 2e-3 * top).any(axis=0)
    lo, hi = float(x[keep][0]), float(x[keep][-1])
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def plot_figure1(snap, dpi: int = 100):
    """Figure 1 (a)-(d) from toy1d/snapshots.npz (any mapping of its arrays)."""
    from matplotlib.figure import Figure

    x, p_data = snap["x"], snap["p_data"]
    scale = DENSITY_PEAK / p_data.max()
    lo, hi = display_range(snap)
    z = snap["z"]
    width = hi - lo  # the z domain is drawn under the middle 80% of the x domain
    z_pos = lo + 0.1 * width + 0.8 * width * (z - z[0]) / (z[-1] - z[0])
    fig = Figure(figsize=(13, 3.9), dpi=dpi, layout="constrained")
    axes = fig.subplots(1, len(snap["moments"]), sharey=True)
    for i, (ax, moment) in enumerate(zip(axes, snap["moments"], strict=True)):
        ax.plot(x, scale * p_data, **STYLE["p_data"])
        ax.plot(x, scale * snap["p_g"][i], **STYLE["p_g"])
        mixture = 0.5 * (p_data + snap["p_g"][i])
        d_star = np.where(mixture > D_STAR_WHERE * p_data.max(), snap["d_star"][i], np.nan)
        ax.plot(x, d_star, **STYLE["d_star"])
        ax.plot(x, snap["d"][i], **STYLE["d"])
        for y, name in ((X_LINE, "x"), (Z_LINE, "z")):
            ax.plot([lo, hi], [y, y], color="black", lw=1.0)
            ax.text(lo - 0.02 * width, y, name, ha="right", va="center", style="italic")
        for zp, gx in zip(z_pos, snap["g_of_z"][i], strict=True):
            ax.annotate(
                "",
                xy=(gx, X_LINE),
                xytext=(zp, Z_LINE),
                arrowprops={
                    "arrowstyle": "-|>",
                    "lw": 0.7,
                    "color": "black",
                    "shrinkA": 0,
                    "shrinkB": 0,
                    "mutation_scale": 7,
                },
            )
        ax.set_xlim(lo - 0.06 * width, hi)
        ax.set_ylim(Z_LINE - 0.08, 1.05)
        ax.set_xlabel(f"({moment})", fontsize=12)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.spines["left"].set_bounds(0, 1)
    axes[0].set_yticks([0, 0.5, 1], ["0", "½", "1"])
    axes[0].set_ylabel("D", rotation=0, labelpad=8)
    handles, labels = axes[0].get_legend_handles_labels()
    order = [0, 1, 3, 2]  # p_data, p_g, D, D*
    fig.legend(
        [handles[j] for j in order],
        [labels[j] for j in order],
        loc="outside lower center",
        ncol=4,
        frameon=False,
    )
    return fig


def plot_criterion(df, dpi: int = 100):
    """C(G) (with D trained to convergence) and -log 4 + 2 JSD along training, plots/toy1d."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.4), dpi=dpi, layout="constrained")
    left, right = fig.subplots(1, 2)
    g = df["g_updates"]
    left.fill_between(
        g, df["c_g"] - 2 * df["c_g_se"], df["c_g"] + 2 * df["c_g_se"], color="C0", alpha=0.25, lw=0
    )
    left.plot(g, df["c_g"], "o-", ms=3, color="C0", label="C(G) estimate: V(G, D), D converged")
    left.plot(g, df["jsd_bound"], "s--", ms=3, color="C3", label="-log 4 + 2 JSD(p_data || p_g)")
    left.axhline(-LOG4, color="grey", lw=0.8, ls=":", label="-log 4 (global minimum)")
    left.set(xlabel="G updates", ylabel="nats", title="Theorem 1 along training")
    left.set_xscale("symlog", linthresh=10)
    left.set_xlim(0, 1.1 * max(float(g.max()), 10.0))
    left.legend(fontsize=8)
    right.fill_between(
        g,
        df["c_g"] + LOG4 - 2 * df["c_g_se"],
        df["c_g"] + LOG4 + 2 * df["c_g_se"],
        color="C0",
        alpha=0.25,
        lw=0,
        label="± 2 s.e.",
    )
    right.plot(g, df["c_g"] + LOG4, "o-", ms=3, color="C0", label="C(G) + log 4")
    right.plot(g, df["jsd_bound"] + LOG4, "s--", ms=3, color="C3", label="2 JSD")
    right.axhline(0.0, color="grey", lw=0.8, ls=":")
    right.set_yscale("symlog", linthresh=1e-4)
    right.set_xscale("symlog", linthresh=10)
    right.set_xlim(left.get_xlim())
    right.set(xlabel="G updates", ylabel="nats above -log 4", title="distance to the minimum")
    right.legend(fontsize=8)
    return fig


def caption(metrics: dict, info: dict) -> str:
    """Figure 1's caption (the paper's, then this run's numbers), as Markdown."""
    t, p, o = metrics["theorem1"], metrics["prop1"], metrics["optimum"]
    h = info["bandwidth"]
    lo, hi = info["bulk"]
    mv = info["moments"]
    return (
        f"**Figure 1** (computed from a run of Algorithm 1, not drawn). {PAPER_CAPTION}\n\n"
        f"*This run:* p_data = N({info['data'][0]:g}, {info['data'][1]:g}²), "
        f"z ~ U({info['z'][0]:g}, {info['z'][1]:g}), seed {info['seed']}. "
        f"**(a)** {mv['a']}: max |D − D*| = {p['before_inner_loop']:.3f}, "
        f"C(G) + log 4 = {t['initial_c_plus_log4']:.3f}. "
        f"**(b)** {mv['b']}: max |D − D*| = {p['max_abs_d_minus_dstar']:.3f} "
        f"(Proposition 1). **(c)** {mv['c']}. "
        f"**(d)** {mv['d']}: C(G) + log 4 = {t['final_c_plus_log4']:.1e} ± {t['final_c_se']:.0e}, "
        f"2 JSD = {t['final_two_jsd']:.1e}, max |D − 1/2| = {o['max_abs_d_minus_half']:.3f}. "
        f"Maxima are over the central {100 * info['bulk_mass']:g}% of p_data, "
        f"x ∈ [{lo:.2f}, {hi:.2f}]. "
        f"p_g: {info['kde']}, h = {h['a']:.3f} (a, b), {h['c']:.3f} (c), {h['d']:.3f} (d). "
        f"Densities are drawn to one common vertical scale; D on [0, 1]; the thin light-blue line "
        f"is D* from p_data and the KDE of p_g, drawn where (p_data + p_g) / 2 exceeds "
        f"{100 * D_STAR_WHERE:g}% of p_data's peak."
    )


def theory_table(metrics: dict):
    """One row per check: statement, quantity, this run, agreement rule, verdict (a DataFrame)."""
    import pandas as pd

    rows = []
    for key, (statement, quantity, name) in CHECKS.items():
        m = metrics[key]
        value = m[name]
        rows.append(
            {
                "statement (paper)": statement,
                "quantity": quantity,
                "this run": f"{value:.2e}" if abs(value) < 1e-3 else f"{value:.4f}",
                "agreement if": f"|value| ≤ {m['tolerance']:.2g}",
                "verdict": "agrees" if m["agrees"] else "does not agree",
            }
        )
    return pd.DataFrame(rows)


def agreement_notes(metrics: dict, info: dict) -> str:
    """Why each tolerance is what it is, with this run's floors (Markdown)."""
    f, t, o, p, g = (metrics[k] for k in ("floors", "theorem1", "optimum", "prop1", "g"))
    m, r = info["margin"], info["null_repeats"]
    return (
        f"**What counts as agreement, and why.** Section 4's statements are about exact optima; "
        f"here D is a finite net trained by SGD and p_g is estimated from samples. Each tolerance "
        f"is {m:g} × the noise floor of the estimators involved, measured in {r} repeats of the "
        f"case where the answer is known (p_g := p_data, so D* = 1/2 and C(G) = −log 4): "
        f"D trained to convergence on data against data deviates from 1/2 by up to "
        f"{f['d']:.4f}; D* from the KDE of data draws by up to {f['kde']:.4f}; "
        f"V(G, D) from −log 4 by up to {f['c']:.1e}. "
        f"Proposition 1: D and D* are both estimates, so |D − D*| ≤ {m:g} × ({f['d']:.4f} + "
        f"{f['kde']:.4f}); before the inner loop it was {p['before_inner_loop']:.3f}. "
        f"Theorem 1: C(G) + log 4 ≥ 0 with equality only at p_g = p_data; the final estimate "
        f"must be 0 within {m:g} × {f['c']:.1e} + 3 standard errors "
        f"(it was {t['initial_c_plus_log4']:.3f} at (a)). "
        f"Optimum: D ≈ 1/2 within {m:g} × {f['d']:.4f}, i.e. D cannot tell the final G from data "
        f"much better than it tells data from data (the D of Algorithm 1 itself, not re-trained: "
        f"{o['train_d_max_abs_minus_half']:.4f}). "
        f"The margin {m:g} allows for D*'s small bumps (p_g of a finite G is not exactly "
        f"Gaussian), which a smooth D averages out: with the default params, seeds 1-15 gave "
        f"|D − D*| of 0.7-2.4 floors after the inner loop and 5-14 floors before it.\n\n"
        f"**Not covered by the tolerance:** 2 JSD(p_data ‖ p_g) at the end is "
        f"{t['final_two_jsd']:.1e} (KDE floor {f['two_jsd']:.1e}) while C(G) + log 4 is "
        f"{t['final_c_plus_log4']:.1e}: G(z) only reaches x ∈ [{g['min']:.2f}, {g['max']:.2f}] "
        f"(z is bounded), so the {100 * g['p_data_mass_outside']:.2f}% of p_data beyond has "
        f"p_g = 0, which the integral counts and a smooth D trained on samples hardly sees. "
        f"Along training the estimate exceeds the bound by at most {t['max_c_minus_bound']:.1e} "
        f"nats ({t['max_c_minus_bound_se']:.1f} standard errors), as V(G, D) ≤ C(G) requires up "
        f"to noise."
    )
