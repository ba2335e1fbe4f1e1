"""The update rule, schedules and dropout against hand arithmetic (paper-settings §0)."""

from __future__ import annotations

import math

import pytest
import torch

from ganrepro import config, training
from ganrepro.models import Discriminator, sample_noise
from ganrepro.runtime import stream


def tiny_experiment(raw_params, **overrides) -> config.Experiment:
    """The MNIST experiment shrunk to 1-D x and z: G(z) = u z + c, D(x) = sigmoid(w x + b)."""
    spec = dict(raw_params["experiments"]["mnist"])
    spec.update(
        z_dim=1,
        G=[{"act": "linear", "units": 1, "irange": 0.5}],
        D=[{"act": "sigmoid", "units": 1, "irange": 0.5}],
        dropout={"input_keep": 1.0, "input_scale": 1.0, "hidden_keep": 1.0, "hidden_scale": 1.0},
        batch_size=1,
        valid_parzen={"n_samples": 4, "n_valid": 2, "sigma_num": 3},
    )
    spec.update(overrides)
    return config.build(config.Experiment, spec, "test")


def test_learning_rate_decays_per_update_and_floors(raw_params):
    exp = config.experiment(raw_params, "mnist")
    assert training.learning_rate(0, exp) == 0.1
    assert training.learning_rate(1, exp) == pytest.approx(0.1 / 1.000004, rel=1e-15)
    assert training.learning_rate(500, exp) == pytest.approx(0.0998002, rel=1e-6)
    t_floor = math.log(0.1 / 1e-6) / math.log(1.000004)  # ~2.88M updates
    assert training.learning_rate(int(t_floor) - 10, exp) > 1e-6
    assert training.learning_rate(int(t_floor) + 10, exp) == 1e-6


def test_momentum_schedule_saturates_at_epoch_250(raw_params):
    exp = config.experiment(raw_params, "mnist")
    assert training.momentum(1, exp) == 0.5
    assert training.momentum(2, exp) == pytest.approx(0.5 + 0.2 / 249)
    assert training.momentum(125, exp) == pytest.approx(0.5 + 0.2 * 124 / 249)
    assert training.momentum(250, exp) == pytest.approx(0.7)
    assert training.momentum(400, exp) == pytest.approx(0.7)


def test_momentum_update_by_hand():
    p, v, g = torch.tensor([1.0]), torch.tensor([0.5]), torch.tensor([2.0])
    training.momentum_update([p], [g], [v], lr=0.1, mu=0.5)
    assert v.item() == pytest.approx(0.5 * 0.5 - 0.1 * 2.0)  # v <- mu v - lr g = 0.05
    assert p.item() == pytest.approx(1.05)  # theta <- theta + v


def _sigmoid(a: float) -> float:
    return 1 / (1 + math.exp(-a))


def _hand_step(w, b, u, c, x, z):
    """Gradients of the D loss wrt (w, b) and of the G loss wrt (u, c), by hand."""
    g = u * z + c
    a_r, a_f = w * x + b, w * g + b
    # D loss 0.5 (softplus(-a_r) + softplus(a_f)): d/da_r = -0.5 s(-a_r), d/da_f = 0.5 s(a_f)
    dw = 0.5 * (-_sigmoid(-a_r) * x + _sigmoid(a_f) * g)
    db = 0.5 * (-_sigmoid(-a_r) + _sigmoid(a_f))
    # G loss softplus(-a_f): d/dg = -s(-a_f) w
    du = -_sigmoid(-a_f) * w * z
    dc = -_sigmoid(-a_f) * w
    return (du, dc), (dw, db)


def test_two_updates_match_hand_arithmetic(raw_params):
    exp = tiny_experiment(raw_params, lr=0.5, lr_decay=1.5, min_lr=1e-6)
    train_x = torch.tensor([[0.9], [0.2]])
    state = training.init_state(exp, train_x, seed=3, device=torch.device("cpu"))
    theta = {"u": 0.3, "c": 0.1, "w": -0.4, "b": 0.2}
    with torch.no_grad():
        state.netG.layers[0].weight.fill_(theta["u"])
        state.netG.layers[0].bias.fill_(theta["c"])
        state.netD.layers[0].weight.fill_(theta["w"])
        state.netD.layers[0].bias.fill_(theta["b"])

    # replay the streams the epoch will use: the permutation, then one z per update
    order = torch.randperm(2, generator=stream(3, "shuffle")).tolist()
    zs = sample_noise(2, 1, "uniform", stream(3, "noise"), "cpu").flatten().tolist()
    vel = dict.fromkeys(theta, 0.0)
    lrs = [0.5, 0.5 / 1.5]  # lr0, then lr0 / decay after one update
    mu = 0.5  # epoch 1
    for step, (i, z) in enumerate(zip(order, zs, strict=True)):
        (du, dc), (dw, db) = _hand_step(
            theta["w"], theta["b"], theta["u"], theta["c"], float(train_x[i, 0]), z
        )
        for k, grad in zip(("u", "c", "w", "b"), (du, dc, dw, db), strict=True):
            vel[k] = mu * vel[k] - lrs[step] * grad
            theta[k] += vel[k]

    training.train_epoch(state, exp, train_x)
    got = {
        "u": state.netG.layers[0].weight.item(),
        "c": state.netG.layers[0].bias.item(),
        "w": state.netD.layers[0].weight.item(),
        "b": state.netD.layers[0].bias.item(),
    }
    assert got == pytest.approx(theta, rel=1e-5, abs=1e-7)
    assert state.step == 2 and state.epoch == 1


def test_dropout_keeps_and_scales_inputs(raw_params):
    drop = config.build(config.Dropout, raw_params["experiments"]["mnist"]["dropout"], "d")
    layer = config.Layer(act="sigmoid", units=1, irange=0.1)
    netD = Discriminator((784,), (layer,), drop)
    with torch.no_grad():
        netD.layers[0].weight.fill_(1.0)
        netD.layers[0].bias.zero_()
    x = torch.ones(2000, 784)
    with torch.no_grad():
        a = netD(x, torch.Generator().manual_seed(0))  # logit = 1.25 * (number of kept inputs)
    kept = a / 1.25
    torch.testing.assert_close(kept, kept.round(), rtol=0, atol=1e-3)  # whole pixels x 1.25
    assert float(kept.mean()) / 784 == pytest.approx(0.8, abs=0.003)
    assert len(set(kept.round().tolist())) > 10  # masks differ per example
    assert torch.equal(netD(x), torch.full((2000,), 784.0))  # no dropout at evaluation


def test_hidden_dropout_scale_is_two(raw_params):
    drop = config.Dropout(input_keep=1.0, input_scale=1.0, hidden_keep=0.5, hidden_scale=2.0)
    layers = (config.Layer("linear", 100, 0.1), config.Layer("sigmoid", 1, 0.1))
    netD = Discriminator((1,), layers, drop)
    with torch.no_grad():
        netD.layers[0].weight.fill_(1.0)
        netD.layers[0].bias.zero_()
        netD.layers[1].weight.fill_(1.0)
        netD.layers[1].bias.zero_()
    a = netD(torch.ones(4000, 1), torch.Generator().manual_seed(0))  # 2 * kept hidden units
    assert torch.equal(a % 2, torch.zeros_like(a))
    assert float(a.mean()) / 2 / 100 == pytest.approx(0.5, abs=0.01)


def _train(raw_params, tmp_path, epochs, resume_from=None):
    exp = tiny_experiment(
        raw_params,
        z_dim=3,
        G=[
            {"act": "relu", "units": 8, "irange": 0.5},
            {"act": "sigmoid", "units": 4, "irange": 0.5, "init_bias": "marginals"},
        ],
        D=[
            {"act": "maxout", "units": 3, "pieces": 2, "irange": 0.5},
            {"act": "sigmoid", "units": 1, "irange": 0.5},
        ],
        dropout={"input_keep": 0.8, "input_scale": 1.25, "hidden_keep": 0.5, "hidden_scale": 2.0},
        batch_size=5,
    )
    data = torch.rand(23, 4, generator=torch.Generator().manual_seed(0))
    state = training.init_state(exp, data, seed=11, device=torch.device("cpu"))
    if resume_from is not None:
        training.load_state(state, torch.load(resume_from, weights_only=False))
    training.fit(state, exp, data, data[:6], epochs=epochs, seed=11, out_dir=tmp_path, meta={})
    return state


def test_same_seed_same_numbers_and_resume_is_exact(raw_params, tmp_path):
    a = _train(raw_params, tmp_path / "a", epochs=3)
    b = _train(raw_params, tmp_path / "b", epochs=3)
    _train(raw_params, tmp_path / "c", epochs=2)
    c = _train(raw_params, tmp_path / "c2", epochs=3, resume_from=tmp_path / "c" / "last.pt")
    for other in (b, c):
        for p, q in zip(a.params(), other.params(), strict=True):
            assert torch.equal(p, q)
        assert other.step == a.step == 15  # 3 epochs x ceil(23 / 5), the partial batch kept
        assert [r["d_loss"] for r in other.rows] == [r["d_loss"] for r in a.rows]
    assert (tmp_path / "a" / "best.pt").exists()
    best = torch.load(tmp_path / "a" / "best.pt", weights_only=False)
    assert best["epoch"] == a.best_epoch
    assert best["best_valid"] == max(r["valid_parzen"] for r in a.rows)


def test_curves_tsv_has_header_and_one_row_per_epoch():
    rows = [dict.fromkeys(training.CURVE_COLUMNS, 1.5) | {"epoch": 1, "step": 5}]
    text = training.curves_tsv(rows)
    lines = text.splitlines()
    assert lines[0].split("\t") == list(training.CURVE_COLUMNS)
    assert lines[1].split("\t")[:3] == ["1", "5", "1.5"]
    assert training.curves_tsv([]).count("\n") == 1


def _two_stage(raw_params):
    return tiny_experiment(
        raw_params,
        z_dim=3,
        G=[
            {"act": "relu", "units": 6, "irange": 0.5, "max_col_norm": 1.9365},
            {"act": "sigmoid", "units": 3, "irange": 0.5, "init_bias": -2.0},
            {"act": "relu", "units": 8, "irange": 0.5, "max_col_norm": 1.9365},
            {"act": "sigmoid", "units": 4, "sparse_init": 2, "init_bias": "marginals"},
        ],
        D=[
            {"act": "maxout", "units": 3, "pieces": 2, "irange": 0.5, "max_col_norm": 0.5},
            {"act": "sigmoid", "units": 1, "irange": 0.5},
        ],
        batch_size=5,
        pretrain_epochs=2,
        pretrain_new_layers=2,
        noise="gaussian",
    )


def test_graft_keeps_the_pretrained_layers_and_starts_a_new_d(raw_params):
    exp = _two_stage(raw_params)
    data = torch.rand(12, 4, generator=torch.Generator().manual_seed(0))
    pre = training.init_state(
        training.pretrain_view(exp), data, 5, torch.device("cpu"), phase="pretrain"
    )
    assert len(pre.netG.layers) == 2 and pre.netG.z_dim == 3
    training.train_epoch(pre, training.pretrain_view(exp), data)
    final = training.init_state(exp, data, 5, torch.device("cpu"), phase="final")
    training.graft(final, pre, 2)
    for new, old in zip(final.netG.layers[2:], pre.netG.layers, strict=True):
        assert torch.equal(new.weight, old.weight) and torch.equal(new.bias, old.bias)
    assert not torch.equal(final.netD.layers[0].linear.weight, pre.netD.layers[0].linear.weight)
    assert all(float(v.abs().sum()) == 0 for v in final.velocity)  # schedules restart
    assert final.epoch_offset == 1 and final.step == 0


def test_two_stage_run_curves_constraint_and_resume(raw_params, tmp_path):
    exp = _two_stage(raw_params)
    data = torch.rand(12, 4, generator=torch.Generator().manual_seed(0))
    kw = dict(image_shape=(4,), seed=5, epochs=1, pretrain_epochs=2, meta={})
    a = training.run_training(exp, data, data[:6], out_dir=tmp_path / "a", **kw)
    assert [(r["epoch"], r["phase"]) for r in a.rows] == [
        (1, "pretrain"),
        (2, "pretrain"),
        (3, "final"),
    ]
    assert a.step == 3 and a.best_epoch == 3  # the best is chosen among final-stage epochs
    assert float(a.netD.layers[0].linear.weight.norm(dim=1).max()) <= 0.5 + 1e-6
    assert (tmp_path / "a" / "pretrain" / "last.pt").exists()
    ckpt = torch.load(tmp_path / "a" / "pretrain" / "last.pt", weights_only=False)
    ckpt_mid = dict(ckpt)
    training.run_training(
        exp, data, data[:6], out_dir=tmp_path / "b", **(kw | {"pretrain_epochs": 1})
    )
    mid = torch.load(tmp_path / "b" / "pretrain" / "last.pt", weights_only=False)
    c = training.run_training(exp, data, data[:6], out_dir=tmp_path / "c", resume=mid, **kw)
    assert ckpt_mid["epoch"] == 2 and mid["epoch"] == 1
    for p, q in zip(a.params(), c.params(), strict=True):
        assert torch.equal(p, q)
