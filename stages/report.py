"""Stage `report`: render the notebooks with papermill and assemble reports/index.html.

Reads:
    params.yaml  base (budget, for the QUICK RUN banner), experiments (names), report (dpi,
                 timeout_s); and, printed verbatim in the provenance section, base, data,
                 experiments, sample, parzen, report and toy1d
    notebooks/{figure1,table1,figure2,figure3,curves}.ipynb  (stripped templates)
    reports/table1.md, reports/table1.csv, metrics/parzen/, metrics/train/, plots/parzen/,
    curves/, samples/, data/raw/*/manifest.json (and SKIPPED.json), toy1d/,
    metrics/toy1d.json, plots/toy1d/criterion.tsv
Writes (each whole; directories built aside and swapped in):
    reports/notebooks/<name>.ipynb  executed notebooks
    reports/figures/*.png           figures saved by the notebooks
    reports/index.html              one self-contained page (images inline, no external files)
Run alone:
    python stages/report.py [--params params.yaml] [--root .]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat

from ganrepro import config, io, report

NOTEBOOK_DIR = "notebooks"
FIGURE_DIR = "reports/figures"
EXECUTED_DIR = "reports/notebooks"
OUT_HTML = "reports/index.html"
TABLE_FILES = ("reports/table1.md", "reports/table1.csv")
# (notebook, title in the page's navigation), in page order
NOTEBOOKS = (
    ("figure1", "Figure 1"),
    ("table1", "Table 1"),
    ("figure2", "Figure 2"),
    ("figure3", "Figure 3"),
    ("curves", "Training curves"),
)
PROVENANCE_SECTIONS = ("base", "data", "experiments", "sample", "parzen", "report", "toy1d")


def notebook_parameters(experiments: list[str], figure_dir: str, dpi: int) -> dict[str, dict]:
    """The papermill parameters of each notebook (paths relative to the project root)."""
    figs = {"experiments": experiments, "figure_dir": figure_dir, "dpi": dpi}
    return {
        "figure1": {
            "snapshots_npz": "toy1d/snapshots.npz",
            "info_json": "toy1d/info.json",
            "metrics_json": "metrics/toy1d.json",
            "criterion_tsv": "plots/toy1d/criterion.tsv",
            "figure_dir": figure_dir,
            "dpi": dpi,
        },
        "table1": {"table_md": TABLE_FILES[0], "table_csv": TABLE_FILES[1]},
        "figure2": {**figs, "samples_root": "samples"},
        "figure3": {**figs, "samples_root": "samples"},
        "curves": {
            **figs,
            "curves_root": "curves",
            "sweep_root": "plots/parzen",
            "train_root": "metrics/train",
            "parzen_root": "metrics/parzen",
        },
    }


def _check_inputs(root: Path) -> None:
    needed = [f"{NOTEBOOK_DIR}/{name}.ipynb" for name, _ in NOTEBOOKS] + list(TABLE_FILES)
    missing = [p for p in needed if not (root / p).exists()]
    if missing:
        raise io.StageError(f"{missing[0]} missing (run the table stage / check out notebooks/)")


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__), argv)

    def body() -> None:
        root = Path(args.root).resolve()
        raw = config.load_params(args.params)
        b = config.base(raw)
        rep = config.build(config.Report, config.section(raw, "report"), "report")
        names = config.experiment_names(raw)
        _check_inputs(root)
        with io.fresh_dir(root / FIGURE_DIR) as figs, io.fresh_dir(root / EXECUTED_DIR) as nbs:
            params = notebook_parameters(names, os.path.relpath(figs, root), rep.dpi)
            sections = []
            for name, title in NOTEBOOKS:
                print(f"report: running {name}.ipynb", file=sys.stderr)
                dst = nbs / f"{name}.ipynb"
                src = root / NOTEBOOK_DIR / f"{name}.ipynb"
                report.run_notebook(src, dst, params[name], root, rep.timeout_s)
                sections.append((name, title, report.notebook_html(nbformat.read(dst, 4))))
            prov = report.collect_provenance(root, raw, PROVENANCE_SECTIONS, names)
            quick = "base.budget = quick: " + "; ".join(
                f"{n} {e.quick.epochs} epoch(s) on {e.quick.train_examples} training images"
                for n, e in ((n, config.experiment(raw, n)) for n in names)
            )
            page = report.assemble_html(
                sections, report.provenance_html(prov), b.budget == "quick", quick
            )
            io.write_text(root / OUT_HTML, page)
        print(f"report: wrote {OUT_HTML}, {FIGURE_DIR}/, {EXECUTED_DIR}/", file=sys.stderr)

    return io.run_main(body)


if __name__ == "__main__":
    sys.exit(main())
