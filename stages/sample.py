"""Stage ``sample@<exp>``: draw from the selected generator (best validation Parzen LL).

Reads:  models/<exp>/ (best.pt, info.json); data/prepared/<dataset>/ (training split, for the
        nearest neighbours of Figure 2); params ``sample``.
Writes: samples/<exp>/ with samples.npz (x: n_samples draws for the Parzen estimate),
        figure2.npz (samples (rows, cols, D), neighbours (rows, D), neighbour_index (rows,)),
        figure3.npz (frames (rows, steps, D)) and info.json; or SKIPPED.json when training was
        skipped.

Run alone:  python stages/sample.py mnist
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ganrepro import config, io, sampling
from ganrepro.data.prepare import load_prepared
from ganrepro.models import Generator
from ganrepro.runtime import resolve_device


def load_generator(models_dir: Path, device: torch.device) -> tuple[Generator, dict]:
    ckpt = torch.load(models_dir / "best.pt", map_location=device, weights_only=False)
    meta = ckpt["meta"]
    exp = config.build(config.Experiment, meta["experiment"], "checkpoint experiment")
    netG = Generator(exp.z_dim, exp.G).to(device)
    netG.load_state_dict(ckpt["G"])
    return netG.eval(), meta["info"]


def figure2(netG, noise, cfg: config.Sample, gen, train_x: torch.Tensor) -> dict[str, np.ndarray]:
    """rows x cols samples and, per row, the nearest training image to the row's last sample."""
    grid = sampling.draw(netG, cfg.figure2_rows * cfg.figure2_cols, noise, gen, cfg.batch_size)
    grid = grid.view(cfg.figure2_rows, cfg.figure2_cols, -1)  # (rows, cols, D)
    index = sampling.nearest_rows(train_x, grid[:, -1])  # (rows,)
    return {
        "samples": grid.numpy(),
        "neighbours": train_x[index].numpy(),
        "neighbour_index": index.numpy(),
    }


def figure3(netG, noise, cfg: config.Sample, gen) -> dict[str, np.ndarray]:
    device = next(netG.parameters()).device
    kind = "gaussian" if cfg.figure3_endpoints == "gaussian" else noise
    starts, stops = sampling.chained_endpoints(cfg.figure3_rows, netG.z_dim, kind, gen)
    z = sampling.interpolation_z(starts, stops, cfg.figure3_steps).to(device)  # (R, steps, z)
    frames = sampling.generate(netG, z.reshape(-1, netG.z_dim), cfg.batch_size)
    return {"frames": frames.view(cfg.figure3_rows, cfg.figure3_steps, -1).numpy()}


def run(exp_name: str, params_path: Path, root: Path) -> None:
    cfg = config.sample(config.load_params(params_path))
    models_dir = root / "models" / exp_name
    out_dir = root / "samples" / exp_name
    marker = io.skip_marker(models_dir)
    if marker is not None:
        io.write_skipped(out_dir, **marker)
        return
    device = resolve_device("auto")  # sampling is deterministic given z; any device will do
    netG, info = load_generator(models_dir, device)
    train_x = torch.from_numpy(load_prepared(root / "data" / "prepared" / info["dataset"]).train)
    gens = [torch.Generator().manual_seed(cfg.seed + i) for i in range(3)]  # CPU: same z anywhere
    x = sampling.draw(netG, cfg.n_samples, info["noise"], gens[0], cfg.batch_size)
    with io.fresh_dir(out_dir) as tmp:
        io.save_npz(tmp / "samples.npz", x=x.numpy())
        io.save_npz(tmp / "figure2.npz", **figure2(netG, info["noise"], cfg, gens[1], train_x))
        io.save_npz(tmp / "figure3.npz", **figure3(netG, info["noise"], cfg, gens[2]))
        io.write_json(
            tmp / "info.json", {**info, "sample_seed": cfg.seed, "n_samples": cfg.n_samples}
        )


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__, "experiment", io.EXPERIMENT_HELP), argv)
    return io.run_main(lambda: run(args.experiment, args.params, args.root))


if __name__ == "__main__":
    sys.exit(main())
