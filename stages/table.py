"""Stage `table`: Table 1 of the paper with this reproduction's Parzen estimates.

Reads:
    params.yaml  experiments (the experiment names, each one's table_column and enabled flag)
    metrics/parzen/<exp>.json for every experiment in params.yaml (a missing file = "not run")
Writes (each whole, atomically):
    reports/table1.csv  tidy table, one row per cell: the paper's, then one per experiment
    reports/table1.md   Table 1 as the paper prints it + "Other experiments (not in the paper)"
Run alone:
    python stages/table.py [--params params.yaml] [--root .]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ganrepro import config, io
from ganrepro.table import build_table, to_markdown

METRICS_DIR = "metrics/parzen"
OUT_CSV = "reports/table1.csv"
OUT_MD = "reports/table1.md"
REQUIRED_OK = ("ll_mean", "ll_se", "sigma", "n_samples")  # keys of a metrics file with status ok


def collect_metrics(raw: dict, root: Path) -> list[dict]:
    """One metrics dict per experiment in params order; a placeholder where the file is missing."""
    metrics = []
    for name in config.experiment_names(raw):
        exp = config.experiment(raw, name)
        path = root / METRICS_DIR / f"{name}.json"
        if path.exists():
            m = _read_metrics(path)
        else:
            why = "disabled in params.yaml" if not exp.enabled else f"{path.name} missing"
            m = {"experiment": name, "dataset": exp.dataset, "status": "not run", "reason": why}
        # params.yaml decides which column an experiment reproduces, and on which dataset
        metrics.append(
            {
                **m,
                "experiment": name,
                "dataset": exp.dataset,
                "table_column": exp.table_column,
                "note": exp.note,
            }
        )
    return metrics


def _read_metrics(path: Path) -> dict:
    try:
        m = io.read_json(path)
    except json.JSONDecodeError as err:
        raise io.StageError(f"{path}: not valid JSON ({err})") from err
    missing = [k for k in REQUIRED_OK if m.get("status") == "ok" and k not in m]
    if missing:
        raise io.StageError(f"{path}: status ok but '{missing[0]}' is missing")
    return m


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__), argv)

    def body() -> None:
        root = Path(args.root)
        raw = config.load_params(args.params)
        df = build_table(collect_metrics(raw, root))
        io.write_text(root / OUT_CSV, df.to_csv(index=False))
        io.write_text(root / OUT_MD, to_markdown(df))
        print(f"table: wrote {OUT_CSV} and {OUT_MD}", file=sys.stderr)

    return io.run_main(body)


if __name__ == "__main__":
    sys.exit(main())
