"""Stage ``train@<exp>``: train one GAN with the authors' settings (paper-settings §0, §1).

Reads:  data/prepared/<dataset>/ (train and valid splits); params ``base`` and
        ``experiments.<exp>``.
Writes: models/<exp>/ (best.pt = best validation Parzen LL, last.pt = latest epoch, info.json),
        curves/<exp>.tsv (per-epoch curves, a DVC plot), metrics/train/<exp>.json (device, time).
A disabled experiment or a skipped dataset writes SKIPPED markers and a "not run" metric instead.

Run alone:  python stages/train.py mnist
Resume a killed run (then `dvc commit train@mnist`):
            python stages/train.py mnist --resume models/mnist/last.pt
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import torch

from ganrepro import config, io, training
from ganrepro.data.prepare import load_prepared
from ganrepro.models import generator_out_dim
from ganrepro.runtime import configure_torch, resolve_device


def paths(root: Path, exp_name: str) -> dict[str, Path]:
    return {
        "models": root / "models" / exp_name,
        "curves": root / "curves" / f"{exp_name}.tsv",
        "metrics": root / "metrics" / "train" / f"{exp_name}.json",
    }


def skip_marker(exp_name: str, exp: config.Experiment, prepared_dir: Path) -> dict | None:
    """Why this experiment does not train ({"status", "reason"}), or None."""
    if not exp.enabled:
        return {"status": io.NOT_RUN, "reason": f"experiments.{exp_name}.enabled is false"}
    return io.skip_marker(prepared_dir)


def write_skipped(out: dict[str, Path], marker: dict) -> None:
    io.write_skipped(out["models"], **marker)
    io.write_text(out["curves"], training.curves_tsv([]))
    io.write_json(out["metrics"], marker)


def model_info(exp_name: str, exp: config.Experiment, b: config.Base, image_shape) -> dict:
    """What downstream stages need to know about the model, without reading params."""
    return {
        "experiment": exp_name,
        "dataset": exp.dataset,
        "table_column": exp.table_column,
        "note": exp.note,
        "budget": b.budget,
        "seed": b.seed,
        "image_shape": list(image_shape),
        "noise": exp.noise,
        "z_dim": exp.z_dim,
        # sigmoid outputs are pixel intensities; a linear output (GCN data) is scaled for display
        "display": "unit" if exp.G[-1].act == "sigmoid" else "max_abs",
    }


def check_generator_fits(exp_name: str, exp: config.Experiment, data_dim: int) -> None:
    g_out = generator_out_dim(exp.z_dim, exp.G)
    if g_out != data_dim:
        raise config.ConfigError(
            f"params.yaml: 'experiments.{exp_name}.G' produces {g_out} values "
            f"but {exp.dataset} images have {data_dim}"
        )


def load_resume(resume: Path | None, device: torch.device, meta: dict) -> dict | None:
    """The checkpoint to continue from; it must come from the same params."""
    if resume is None:
        return None
    ckpt = torch.load(resume, map_location=device, weights_only=False)
    if ckpt["meta"] != meta:
        raise io.StageError(f"{resume}: checkpoint was made with other params than params.yaml")
    return ckpt


def train_metrics(
    state: training.TrainState, device: torch.device, seconds: float, n_train: int, b: config.Base
) -> dict:
    return {
        "status": "ok",
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "wall_seconds": round(seconds, 2),
        "epochs": state.epoch,
        "steps": state.step,
        "train_examples": n_train,
        "best_epoch": state.best_epoch,
        "best_valid_parzen": state.best_valid,
        "budget": b.budget,
        "seed": b.seed,
        "torch": torch.__version__,
    }


def run(exp_name: str, params_path: Path, root: Path, resume: Path | None) -> None:
    raw = config.load_params(params_path)
    b = config.base(raw)
    exp = config.experiment(raw, exp_name)
    prepared_dir = root / "data" / "prepared" / exp.dataset
    out = paths(root, exp_name)
    marker = skip_marker(exp_name, exp, prepared_dir)
    if marker is not None:
        print(f"train@{exp_name}: {marker['status']} ({marker['reason']})", file=sys.stderr)
        write_skipped(out, marker)
        return
    data = load_prepared(prepared_dir)
    check_generator_fits(exp_name, exp, data.train.shape[1])
    device = resolve_device(b.device)
    info = model_info(exp_name, exp, b, data.image_shape)
    meta = {"info": info, "experiment": raw["experiments"][exp_name], "base": raw["base"]}
    ckpt = load_resume(resume, device, meta)  # every check before the outputs are touched
    if resume is None and out["models"].exists():
        shutil.rmtree(out["models"])  # outputs are rewritten whole
    out["models"].mkdir(parents=True, exist_ok=True)

    configure_torch(b.deterministic)
    n_train = config.effective_train_examples(data.train.shape[0], b, exp)
    train_x = torch.from_numpy(data.train[:n_train]).to(device)
    valid_x = torch.from_numpy(data.valid).to(device)
    t0 = time.perf_counter()
    state = training.run_training(
        exp,
        train_x,
        valid_x,
        image_shape=tuple(data.image_shape),
        seed=b.seed,
        epochs=config.effective_epochs(exp.epochs, b, exp),
        pretrain_epochs=config.effective_epochs(exp.pretrain_epochs, b, exp),
        out_dir=out["models"],
        meta=meta,
        resume=ckpt,
    )
    io.write_json(out["models"] / "info.json", info)
    io.write_text(out["curves"], training.curves_tsv(state.rows))
    io.write_json(
        out["metrics"], train_metrics(state, device, time.perf_counter() - t0, n_train, b)
    )


def main(argv: list[str] | None = None) -> int:
    parser = io.stage_parser(__doc__, "experiment", io.EXPERIMENT_HELP)
    parser.add_argument("--resume", type=Path, default=None, help="a last.pt to continue from")
    args = io.parse_stage_args(parser, argv)
    return io.run_main(lambda: run(args.experiment, args.params, args.root, args.resume))


if __name__ == "__main__":
    sys.exit(main())
