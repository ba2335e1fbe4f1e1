"""Smoke tests of the train, sample and parzen stages' main() on tiny generated data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fixtures import load_stage
from pipeline_fixtures import N_TEST, write_tiny_project_params


@pytest.fixture(scope="module")
def trained(raw_params, tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    params = root / "params.yaml"
    write_tiny_project_params(params, raw_params, root / "mirror")
    for stage in ("download", "prepare"):
        for ds in ("mnist", "fashion_mnist"):
            assert load_stage(stage).main([ds, "--params", str(params), "--root", str(root)]) == 0
    args = ["--params", str(params), "--root", str(root)]
    for stage in ("train", "sample", "parzen"):
        for exp in ("mnist", "fashion_mnist"):
            assert load_stage(stage).main([exp, *args]) == 0, f"{stage}@{exp} failed"
    return root


def test_train_writes_checkpoints_curves_and_metrics(trained):
    ckpt = torch.load(trained / "models/mnist/best.pt", weights_only=False)
    assert {"G", "D", "velocity", "rng", "step", "epoch", "meta"} <= set(ckpt)
    curves = (trained / "curves/mnist.tsv").read_text().splitlines()
    assert len(curves) == 1 + 2  # header + quick budget's 2 epochs
    metrics = json.loads((trained / "metrics/train/mnist.json").read_text())
    assert metrics["status"] == "ok" and metrics["budget"] == "quick"
    assert metrics["train_examples"] == 150 and metrics["steps"] == 2 * 2  # 150 / 100 -> 2 batches


def test_sample_writes_parzen_and_figure_draws(trained):
    with np.load(trained / "samples/mnist/samples.npz") as npz:
        assert npz["x"].shape == (120, 784)
        assert npz["x"].min() >= 0.0 and npz["x"].max() <= 1.0
    with np.load(trained / "samples/mnist/figure2.npz") as fig2:
        assert fig2["samples"].shape == (4, 5, 784) and fig2["neighbours"].shape == (4, 784)
        with np.load(trained / "data/prepared/mnist/splits.npz") as splits:
            train = splits["train"]
        for row, idx in enumerate(fig2["neighbour_index"]):
            d = ((train - fig2["samples"][row, -1]) ** 2).sum(1)  # brute force oracle
            assert idx == int(np.argmin(d))
            np.testing.assert_array_equal(fig2["neighbours"][row], train[idx])
    with np.load(trained / "samples/mnist/figure3.npz") as fig3:
        assert fig3["frames"].shape == (6, 10, 784)


def test_parzen_metrics_and_sweep(trained):
    m = json.loads((trained / "metrics/parzen/mnist.json").read_text())
    assert m["status"] == "ok" and m["n_samples"] == 120 and m["n_test"] == N_TEST
    assert m["n_valid"] == 50 and m["table_column"] == "MNIST"
    sweep = (trained / "plots/parzen/mnist.tsv").read_text().splitlines()
    assert sweep[0] == "sigma\tvalid_ll" and len(sweep) == 11
    best = max(sweep[1:], key=lambda line: float(line.split("\t")[1]))
    assert float(best.split("\t")[0]) == pytest.approx(m["sigma"], rel=1e-5)


def test_disabled_dataset_propagates_not_run(trained):
    assert json.loads((trained / "data/raw/fashion_mnist/SKIPPED.json").read_text())["reason"]
    m = json.loads((trained / "metrics/parzen/fashion_mnist.json").read_text())
    assert m["status"] == "not run" and "data.fashion_mnist.enabled is false" in m["reason"]
    assert (trained / "curves/fashion_mnist.tsv").read_text().count("\n") == 1


def test_bad_params_fail_before_work_with_one_line(raw_params, tmp_path, capsys):
    import yaml

    params = raw_params | {
        "experiments": {"mnist": {**raw_params["experiments"]["mnist"], "lr": -1.0}}
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    code = load_stage("train").main(
        ["mnist", "--params", str(tmp_path / "params.yaml"), "--root", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [
        "error: params.yaml: 'experiments.mnist.lr' must be > 0, got -1.0"
    ]
    assert not (tmp_path / "models").exists()


def test_resume_needs_the_same_params_and_completes_from_last(trained, capsys):
    import yaml

    params = trained / "params.yaml"
    curves_before = (trained / "curves/mnist.tsv").read_text()
    args = ["mnist", "--params", str(params), "--root", str(trained),
            "--resume", str(trained / "models/mnist/last.pt")]  # fmt: skip
    assert load_stage("train").main(args) == 0  # all epochs done: nothing to train, same outputs
    assert (trained / "curves/mnist.tsv").read_text() == curves_before

    other = yaml.safe_load(params.read_text())
    other["experiments"]["mnist"]["lr"] = 0.05
    changed = trained / "params_changed.yaml"
    changed.write_text(yaml.safe_dump(other))
    capsys.readouterr()
    args[2] = str(changed)
    assert load_stage("train").main(args) == 2
    assert "checkpoint was made with other params" in capsys.readouterr().err
    assert (trained / "models/mnist/best.pt").exists()  # nothing removed before the check
