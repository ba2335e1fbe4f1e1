"""Fabricated upstream files for the table and report stages (no test functions here).

``make_upstream(root, specs)`` writes, for each :class:`Exp`, what download, train, sample and
parzen would have written (``metrics/parzen``, ``plots/parzen``, ``curves``, ``metrics/train``,
``samples``, ``data/raw/*/manifest.json``), in the formats those stages define; an experiment
with ``ok=False`` gets the "not run" / SKIPPED versions. ``write_params`` writes a params.yaml
listing the same experiments; ``copy_notebooks`` copies the notebook templates into the root.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ganrepro import io

REPO = Path(__file__).resolve().parents[1]
# curves/<exp>.tsv header (stage train); d_real = mean D(x), d_fake = mean D(G(z))
CURVE_COLUMNS = ("epoch", "step", "lr", "momentum", "d_loss", "g_loss", "d_real", "d_fake",
                 "valid_parzen", "seconds")  # fmt: skip


@dataclass(frozen=True)
class Exp:
    name: str
    dataset: str
    table_column: str  # MNIST | TFD | none
    ok: bool = True  # False: every upstream stage reports "not run" / skipped
    image_shape: tuple[int, int, int] = (1, 28, 28)
    display: str = "unit"
    budget: str = "quick"
    ll_mean: float = 231.25
    ll_se: float = 2.0625
    sigma: float = 0.17782794100389226
    reason: str = "dataset tfd is not available (TFD_48x48.mat not found)"


DEFAULT_EXPS = (
    Exp("mnist", "mnist", "MNIST"),
    Exp("tfd", "tfd", "TFD", ok=False, image_shape=(1, 48, 48)),
    Exp("fashion_mnist", "fashion_mnist", "none", ll_mean=212.5, ll_se=1.75),
    Exp("cifar10_conv", "cifar10", "none", image_shape=(3, 32, 32), display="max_abs"),
)


# ---------------------------------------------------------------- params and notebooks


def write_params(root: Path, exps=DEFAULT_EXPS, budget: str = "quick") -> Path:
    """params.yaml = the repository's, with ``base.budget`` and ``experiments`` replaced."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    template = raw["experiments"]["mnist"]
    raw["base"]["budget"] = budget
    raw["experiments"] = {}
    for e in exps:
        entry = copy.deepcopy(template)
        entry.update(dataset=e.dataset, table_column=e.table_column)
        raw["experiments"][e.name] = entry
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def copy_notebooks(root: Path) -> None:
    shutil.copytree(REPO / "notebooks", root / "notebooks", dirs_exist_ok=True)


# ---------------------------------------------------------------- upstream outputs


def make_upstream(root: Path, exps=DEFAULT_EXPS, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for e in exps:
        write_parzen(root, e)
        write_sweep(root, e)
        write_curves(root, e)
        write_train_metrics(root, e)
        write_samples(root, e, rng)
    for dataset in dict.fromkeys(e.dataset for e in exps):
        ok = any(e.ok for e in exps if e.dataset == dataset)
        write_manifest(root, dataset, ok)
    write_toy1d(root)


def write_parzen(root: Path, e: Exp) -> None:
    m = {"experiment": e.name, "dataset": e.dataset, "table_column": e.table_column}
    if e.ok:
        m |= {
            "status": "ok",
            "ll_mean": e.ll_mean,
            "ll_se": e.ll_se,
            "sigma": e.sigma,
            "n_samples": 10000,
            "n_test": 10000,
            "n_valid": 1000,
            "seed": 20140611,
            "precision": "float64",
            "budget": e.budget,
        }
    else:
        m |= {"status": "not run", "reason": e.reason, "budget": e.budget}
    io.write_json(root / "metrics/parzen" / f"{e.name}.json", m)


def write_sweep(root: Path, e: Exp) -> None:
    lines = ["sigma\tvalid_ll"]
    if e.ok:
        for s in np.logspace(-1, 0, 10):
            ll = e.ll_mean - 400 * float(np.log(s / e.sigma)) ** 2
            lines.append(f"{float(s)!r}\t{ll!r}")
    io.write_text(root / "plots/parzen" / f"{e.name}.tsv", "\n".join(lines) + "\n")


def write_curves(root: Path, e: Exp, epochs: int = 5) -> None:
    lines = ["\t".join(CURVE_COLUMNS)]
    for epoch in range(1, epochs + 1) if e.ok else ():
        row = [epoch, 500 * epoch, 0.1 / 1.000004 ** (500 * epoch), 0.5 + 0.01 * epoch,
               1.2 - 0.05 * epoch, 0.8 + 0.1 * epoch, 0.7 - 0.03 * epoch, 0.3 + 0.03 * epoch,
               100.0 + 20 * epoch - 2 * epoch**2, 10.0 * epoch]  # fmt: skip
        lines.append("\t".join(repr(v) for v in row))
    io.write_text(root / "curves" / f"{e.name}.tsv", "\n".join(lines) + "\n")


def write_train_metrics(root: Path, e: Exp) -> None:
    m = {"status": "ok" if e.ok else "not run", "budget": e.budget, "seed": 2014}
    if e.ok:
        m |= {"device": "cpu", "wall_seconds": 3723.5, "epochs": 5, "steps": 2500,
              "best_epoch": 5, "best_valid_parzen": 150.0, "torch": "2.13.0"}  # fmt: skip
    else:
        m |= {"reason": e.reason}
    io.write_json(root / "metrics/train" / f"{e.name}.json", m)


def write_samples(root: Path, e: Exp, rng: np.random.Generator, rows=4, cols=5) -> None:
    out = root / "samples" / e.name
    if not e.ok:
        io.write_skipped(out, e.reason)
        return
    samples = fake_images(rows * cols, e.image_shape, e.display, rng).reshape(rows, cols, -1)
    noise = 0.05 * rng.standard_normal(samples[:, -1].shape)
    neighbours = np.clip(samples[:, -1] + noise, -3, 3).astype(np.float32)
    if e.display == "unit":
        neighbours = np.clip(neighbours, 0, 1)
    ends = fake_images(12, e.image_shape, e.display, rng).reshape(6, 2, -1)
    alpha = np.linspace(0, 1, 10)[None, :, None]
    frames = ((1 - alpha) * ends[:, :1] + alpha * ends[:, 1:]).astype(np.float32)
    with io.fresh_dir(out) as tmp:
        io.save_npz(tmp / "samples.npz", x=samples.reshape(rows * cols, -1))
        io.save_npz(
            tmp / "figure2.npz",
            samples=samples,
            neighbours=neighbours,
            neighbour_index=np.arange(rows),
        )
        io.save_npz(tmp / "figure3.npz", frames=frames)
        info = {
            "experiment": e.name,
            "dataset": e.dataset,
            "image_shape": list(e.image_shape),
            "display": e.display,
        }
        io.write_json(tmp / "info.json", info)


def fake_images(n: int, shape, display: str, rng: np.random.Generator) -> np.ndarray:
    """(n, C*H*W) float32 rings of random centre, size and thickness: digit-like "0"s.

    ``unit``: values in [0, 1]; ``max_abs``: GCN-like values of either sign, per-channel tinted.
    """
    c, h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    out = np.empty((n, c, h, w), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(0.4, 0.6, 2)
        ry, rx = rng.uniform(0.18, 0.32), rng.uniform(0.12, 0.25)
        r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
        ring = np.exp(-(((r - 1.0) / rng.uniform(0.12, 0.25)) ** 2))
        if display == "unit":
            out[i] = ring
        else:
            tint = rng.uniform(-1.0, 1.0, (c, 1, 1))
            out[i] = 2.5 * (ring - 0.3) + tint
    return out.reshape(n, -1)


def write_manifest(root: Path, dataset: str, ok: bool = True) -> None:
    directory = root / "data/raw" / dataset
    if not ok:
        io.write_skipped(directory, f"{dataset} is not available")
        return
    files = {
        f"{dataset}-train.gz": {
            "sha256": "ab" * 32,
            "bytes": 9912422,
            "source": "file:///mirror/",
        },
        f"{dataset}-test.gz": {"sha256": "cd" * 32, "bytes": 1648877, "source": "file:///mirror/"},
    }
    with io.fresh_dir(directory) as tmp:
        io.write_json(tmp / "manifest.json", files)


def write_toy1d(root: Path) -> None:
    """What stage toy1d writes, for closed-form Gaussians: p_g = N(mu, 1), mu 0.75 -> 0 (a)-(d)."""
    from statistics import NormalDist

    from ganrepro import toy1d

    x = np.linspace(-6.75, 6.75, 541)
    p_data = toy1d.gaussian_pdf(x, 0.0, 1.0)
    means = (0.75, 0.75, 0.35, 0.0)
    p_g = np.stack([toy1d.gaussian_pdf(x, mu, 1.0) for mu in means])
    d_star = toy1d.optimal_discriminator(p_data, p_g)
    d = np.stack([0.5 + 0.5 * (d_star[0] - 0.5), d_star[1], d_star[1], np.full_like(x, 0.5)])
    z = np.linspace(0.0, 1.0, 15)
    quantiles = np.array([NormalDist().inv_cdf(min(max(u, 1e-3), 1 - 1e-3)) for u in z])
    two_jsd = [2 * toy1d.jsd(p_data, q, x) for q in p_g]
    with io.fresh_dir(root / "toy1d") as tmp:
        io.save_npz(
            tmp / "snapshots.npz",
            moments=np.array(toy1d.MOMENTS),
            x=x,
            p_data=p_data,
            bulk=toy1d.bulk_mask(x, 0.0, 1.0, 0.95),
            z=z,
            p_g=p_g,
            d=d,
            d_star=d_star,
            g_of_z=np.stack([mu + quantiles for mu in means]),
            bandwidth=np.full(4, 0.1),
            jsd=np.array(two_jsd) / 2,
            data_mean=np.array(0.0),
            data_std=np.array(1.0),
        )
        moments = {m: f"fabricated moment {m}" for m in toy1d.MOMENTS}
        io.write_json(
            tmp / "info.json",
            {"moments": moments, "kde": toy1d.KDE_METHOD.format(n=50000),
             "bandwidth": dict.fromkeys(toy1d.MOMENTS, 0.1), "bulk": [-1.96, 1.96],
             "bulk_mass": 0.95, "null_repeats": 10, "margin": 3.0, "data": [0.0, 1.0],
             "z": [0.0, 1.0], "k": 5, "seed": 1},
        )  # fmt: skip
    rows = [(0, two_jsd[0]), (5, two_jsd[2]), (105, 1e-3), (2005, 1e-4)]
    lines = ["\t".join(toy1d.CRITERION_COLUMNS)]
    for g, gap in rows:
        c = gap - toy1d.LOG4
        lines.append(f"{g}\t{c!r}\t1e-05\t{c + 1e-4!r}\t{c - 1e-3!r}")
    io.write_text(root / "plots/toy1d/criterion.tsv", "\n".join(lines) + "\n")
    floors = {"d": 0.01, "kde": 0.02, "c": 1e-4, "two_jsd": 1e-4}
    check = {"tolerance": 0.09, "agrees": True}
    io.write_json(
        root / "metrics/toy1d.json",
        {
            "prop1": {**check, "max_abs_d_minus_dstar": 0.0423, "before_inner_loop": 0.212},
            "theorem1": {**check, "tolerance": 6e-4, "final_c_plus_log4": 1e-4,
                         "final_c_se": 1e-5, "initial_c_plus_log4": two_jsd[0],
                         "initial_two_jsd": two_jsd[0], "final_two_jsd": 1e-3,
                         "max_c_minus_bound": 1e-4, "max_c_minus_bound_se": 1.0,
                         "min_c_plus_log4": -1e-4},
            "optimum": {**check, "tolerance": 0.03, "max_abs_d_minus_half": 0.004,
                        "train_d_max_abs_minus_half": 0.003},
            "floors": floors,
            "g": {"min": -3.3, "max": 3.3, "p_data_mass_outside": 0.001, "g_updates": 2005},
            "wall_seconds": 20.0,
        },
    )  # fmt: skip
