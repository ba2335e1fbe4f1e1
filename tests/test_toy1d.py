"""The 1-D toy of Figure 1: estimators against closed forms, the stage on a tiny budget (twice,
for determinism), and the Figure 1 notebook executed on its outputs."""

from __future__ import annotations

import copy
import math
from statistics import NormalDist

import nbformat
import numpy as np
import pytest
import torch
import yaml
from fixtures import REPO, load_stage
from scipy import integrate

from ganrepro import config, io, report, toy1d

toy_stage = load_stage("toy1d")
LOG2 = math.log(2.0)


def two_gaussians(mu1, s1, mu2, s2, n=4001, lo=-12.0, hi=12.0):
    x = np.linspace(lo, hi, n)
    return x, toy1d.gaussian_pdf(x, mu1, s1), toy1d.gaussian_pdf(x, mu2, s2)


# ---------------------------------------------------------------- closed forms


def test_jsd_of_identical_densities_is_zero():
    x, p, _ = two_gaussians(0.3, 1.2, 0.0, 1.0)
    assert toy1d.jsd(p, p, x) == pytest.approx(0.0, abs=1e-12)


def test_jsd_of_disjoint_densities_is_log2():
    x, p, q = two_gaussians(-6.0, 0.3, 6.0, 0.3)
    assert toy1d.jsd(p, q, x) == pytest.approx(LOG2, abs=1e-9)
    assert toy1d.criterion_bound(toy1d.jsd(p, q, x)) == pytest.approx(0.0, abs=1e-8)


def test_jsd_matches_quadrature_and_is_symmetric_and_bounded():
    x, p, q = two_gaussians(0.0, 1.0, 1.0, 1.5)

    def integrand(t):
        a, b = toy1d.gaussian_pdf(t, 0.0, 1.0), toy1d.gaussian_pdf(t, 1.0, 1.5)
        m = 0.5 * (a + b)
        return 0.5 * a * math.log(a / m) + 0.5 * b * math.log(b / m)

    expected, _ = integrate.quad(integrand, -12, 12, epsabs=1e-12, limit=200)
    value = toy1d.jsd(p, q, x)
    assert value == pytest.approx(expected, abs=1e-6)
    assert value == pytest.approx(toy1d.jsd(q, p, x), abs=1e-12)
    assert 0.0 < value < LOG2


def test_optimal_discriminator_of_equal_variance_gaussians_is_logistic():
    # log p_data/p_g = (mu1 - mu2) x / s^2 - (mu1^2 - mu2^2) / (2 s^2): D* = sigmoid of that
    mu1, mu2, s = 0.0, 0.75, 1.3
    x, p, q = two_gaussians(mu1, s, mu2, s, lo=-6, hi=6)
    logit = (mu1 - mu2) * x / s**2 - (mu1**2 - mu2**2) / (2 * s**2)
    expected = 1.0 / (1.0 + np.exp(-logit))
    np.testing.assert_allclose(toy1d.optimal_discriminator(p, q), expected, atol=1e-12)


def test_optimal_discriminator_is_half_for_equal_densities_and_where_both_vanish():
    p = np.array([0.0, 0.2, 0.0, 0.4])
    q = np.array([0.0, 0.2, 0.3, 0.0])
    np.testing.assert_array_equal(toy1d.optimal_discriminator(p, q), [0.5, 0.5, 0.0, 1.0])


def test_kde_matches_the_direct_sum_and_keeps_unit_mass():
    rng = np.random.default_rng(0)
    samples = rng.normal(0.5, 1.0, 3000)
    x = np.linspace(-6, 7, 1301)
    h = toy1d.silverman_bandwidth(samples)
    direct = np.exp(-0.5 * ((x[:, None] - samples[None]) / h) ** 2).sum(1)
    direct /= samples.size * h * math.sqrt(2 * math.pi)
    binned = toy1d.kde_on_grid(samples, x, h)
    assert np.max(np.abs(binned - direct)) < 1e-3 * direct.max()  # linear binning, dx ~ h / 18
    assert np.trapezoid(binned, x) == pytest.approx(1.0, abs=1e-6)
    # and it estimates the density it was drawn from (KDE error ~ n^(-2/5))
    assert np.max(np.abs(binned - toy1d.gaussian_pdf(x, 0.5, 1.0))) < 0.03


def test_kde_with_a_bandwidth_below_the_grid_spacing_keeps_its_mass():
    x = np.linspace(-1, 1, 21)
    p = toy1d.kde_on_grid(np.array([0.03, 0.5, 2.0]), x, bandwidth=1e-3)  # one sample off-grid
    assert np.trapezoid(p, x) == pytest.approx(2 / 3, rel=0.05)


def test_silverman_bandwidth_formula():
    s = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    sd, iqr = s.std(ddof=1), 3.0 - 1.0
    assert toy1d.silverman_bandwidth(s) == pytest.approx(0.9 * min(sd, iqr / 1.34) * 5**-0.2)


def test_bulk_is_the_central_mass_of_p_data():
    x = np.linspace(-5, 5, 100001)
    inside = x[toy1d.bulk_mask(x, 1.0, 2.0, 0.95)]
    assert inside[0] == pytest.approx(1 - 1.959964 * 2, abs=1e-3)
    assert inside[-1] == pytest.approx(1 + 1.959964 * 2, abs=1e-3)


def test_value_of_the_indifferent_discriminator_is_minus_log4():
    cfg = tiny_cfg()
    netD = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(netD.weight)
    torch.nn.init.zeros_(netD.bias)  # D(x) = 1/2 everywhere
    v, se = toy1d.value(netD, toy1d.data_sampler(cfg), cfg, torch.Generator().manual_seed(0))
    assert v == pytest.approx(-toy1d.LOG4, abs=1e-6)  # log(1/2) in float32
    assert se == pytest.approx(0.0, abs=1e-12)


def test_learning_rate_falls_linearly_to_lr_final():
    cfg = tiny_cfg(iterations=11, lr_final=0.2)
    assert toy1d.lr_scale(1, cfg) == 1.0
    assert toy1d.lr_scale(11, cfg) == pytest.approx(0.2)
    assert toy1d.lr_scale(6, cfg) == pytest.approx(0.6)


def test_params_section_is_validated(raw_params):
    bad = copy.deepcopy(raw_params)
    bad["toy1d"]["kk"] = 5
    with pytest.raises(config.ConfigError, match=r"unknown key 'toy1d\.kk'"):
        config.toy1d(bad)
    bad = copy.deepcopy(raw_params)
    bad["toy1d"]["z_high"] = -1.0
    with pytest.raises(config.ConfigError, match=r"'toy1d\.z_high' must be > z_low"):
        config.toy1d(bad)


# ---------------------------------------------------------------- the stage and the notebook

TINY = {
    "pretrain_points": 128,
    "pretrain_iters": 50,
    "a_d_steps": 2,
    "converge_steps": 40,
    "c_g_steps": 2,
    "iterations": 30,
    "eval_every": 10,
    "kde_samples": 3000,
    "mc_samples": 2000,
    "null_repeats": 2,
    "grid_points": 301,
}


def tiny_cfg(**overrides) -> config.Toy1d:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    return config.build(config.Toy1d, {**raw["toy1d"], **TINY, **overrides}, "toy1d")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The stage's main() twice on a tiny budget, in two roots with the same params."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["toy1d"].update(TINY)
    roots = []
    for name in ("first", "second"):
        root = tmp_path_factory.mktemp(name)
        (root / "params.yaml").write_text(yaml.safe_dump(raw))
        assert toy_stage.main(["--params", str(root / "params.yaml"), "--root", str(root)]) == 0
        roots.append(root)
    return roots


def test_stage_writes_snapshots_metrics_and_criterion(runs):
    root = runs[0]
    with np.load(root / "toy1d/snapshots.npz") as npz:
        assert list(npz["moments"]) == ["a", "b", "c", "d"]
        n, n_z = npz["x"].size, npz["z"].size
        assert n == TINY["grid_points"] and n_z == 15
        for key in ("p_g", "d", "d_star"):
            assert npz[key].shape == (4, n)
        assert npz["g_of_z"].shape == (4, n_z)
        assert ((npz["d"] >= 0) & (npz["d"] <= 1)).all()
        assert np.trapezoid(npz["p_data"], npz["x"]) == pytest.approx(1.0, abs=1e-6)
    metrics = io.read_json(root / "metrics/toy1d.json")
    for check in ("prop1", "theorem1", "optimum"):
        assert {"tolerance", "agrees"} <= set(metrics[check])
        assert metrics[check]["tolerance"] > 0
    assert set(metrics["floors"]) == {"d", "kde", "c", "two_jsd"}
    rows = (root / "plots/toy1d/criterion.tsv").read_text().splitlines()
    assert rows[0].split("\t") == list(toy1d.CRITERION_COLUMNS)
    assert len(rows) == 1 + 2 + TINY["iterations"] // TINY["eval_every"]  # (a/b), (c), training
    info = io.read_json(root / "toy1d/info.json")
    assert set(info["moments"]) == {"a", "b", "c", "d"} and "Silverman" in info["kde"]


def test_same_seed_gives_identical_numbers(runs):
    first, second = runs
    with np.load(first / "toy1d/snapshots.npz") as a, np.load(second / "toy1d/snapshots.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    m1, m2 = (io.read_json(r / "metrics/toy1d.json") for r in runs)
    m1.pop("wall_seconds"), m2.pop("wall_seconds")
    assert m1 == m2
    for rel in ("plots/toy1d/criterion.tsv", "toy1d/info.json"):
        assert (first / rel).read_text() == (second / rel).read_text()


def test_figure1_notebook_executes_on_the_stage_outputs(runs):
    root = runs[0]
    dst = root / "executed.ipynb"
    params = {"figure_dir": str(root / "figs"), "dpi": 60}  # data paths: the defaults, from root
    report.run_notebook(REPO / "notebooks/figure1.ipynb", dst, params, root, timeout_s=300)
    assert (root / "figs/figure1.png").stat().st_size > 0
    assert (root / "figs/toy1d_criterion.png").stat().st_size > 0
    html = report.notebook_html(nbformat.read(dst, 4))
    assert html.count("data:image/png;base64,") == 2
    assert "Figure 1" in html and "Silverman" in html and "Proposition 1" in html
    assert "What counts as agreement" in html and "not run" not in html


def test_figure1_notebook_says_not_run_without_the_stage(tmp_path):
    dst = tmp_path / "executed.ipynb"
    params = {"figure_dir": str(tmp_path / "figs"), "dpi": 60}
    report.run_notebook(REPO / "notebooks/figure1.ipynb", dst, params, tmp_path, timeout_s=300)
    assert "not run" in report.notebook_html(nbformat.read(dst, 4))


def test_caption_quotes_the_run(runs):
    root = runs[0]
    metrics = io.read_json(root / "metrics/toy1d.json")
    info = io.read_json(root / "toy1d/info.json")
    text = toy1d.caption(metrics, info)
    assert f"{metrics['prop1']['max_abs_d_minus_dstar']:.3f}" in text
    assert "G contracts in regions of high density" in text  # the paper's caption
    lo, hi = info["bulk"]  # the central 95% of p_data, on the grid
    assert f"x ∈ [{lo:.2f}, {hi:.2f}]" in text
    half = NormalDist().inv_cdf(0.975)
    assert -half <= lo < -half + 0.05 and half - 0.05 < hi <= half
