"""Table 1 of Goodfellow et al. (2014): the published rows and this reproduction's, as data.

:func:`build_table` turns the Parzen metrics of every experiment into one tidy (long) table, one
row per (model, column) cell, with the paper's published numbers first. :func:`to_markdown` renders
it wide, the way the paper prints Table 1, plus a small table of the experiments that are not in
the paper. Pure functions: no file access.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

COLUMNS = ("MNIST", "TFD")  # the columns of the paper's Table 1
NO_COLUMN = "-"  # tidy ``column`` of an experiment that is not in Table 1 (table_column: none)
REPRODUCTION = "Adversarial nets (this reproduction)"
NOT_RUN = "not run"
QUICK_MARK = "(quick run)"

# The tidy columns, in order; budget and reason are extra columns after the required ones.
TIDY_COLUMNS = (
    "model",
    "source",
    "experiment",
    "dataset",
    "column",
    "ll_mean",
    "ll_se",
    "sigma",
    "n_samples",
    "status",
    "budget",
    "reason",
    "note",
)


@dataclass(frozen=True)
class PaperCell:
    """One published cell of Table 1 (paper-settings section 4)."""

    model: str
    ref: str  # citation as numbered in the paper ("" for the paper's own model)
    column: str  # MNIST | TFD
    ll_mean: float  # nats
    ll_se: float  # MNIST: s.e. across test examples; TFD: across the 5 folds


PAPER_CELLS = (
    PaperCell("DBN", "[3]", "MNIST", 138.0, 2.0),
    PaperCell("DBN", "[3]", "TFD", 1909.0, 66.0),
    PaperCell("Stacked CAE", "[3]", "MNIST", 121.0, 1.6),
    PaperCell("Stacked CAE", "[3]", "TFD", 2110.0, 50.0),
    PaperCell("Deep GSN", "[6]", "MNIST", 214.0, 1.1),
    PaperCell("Deep GSN", "[6]", "TFD", 1890.0, 29.0),
    PaperCell("Adversarial nets", "", "MNIST", 225.0, 2.0),
    PaperCell("Adversarial nets", "", "TFD", 2057.0, 26.0),
)
PAPER_DATASET = {"MNIST": "mnist", "TFD": "tfd"}


# ---------------------------------------------------------------- tidy table


def build_table(metrics: list[dict]) -> pd.DataFrame:
    """Tidy Table 1: the paper's cells, then one row per experiment's Parzen metrics.

    Args:
        metrics: one ``metrics/parzen/<exp>.json`` dict per experiment, in display order; a
            placeholder ``{"experiment", "dataset", "table_column", "status": "not run",
            "reason"}`` stands for an experiment whose metrics file is missing.

    Returns:
        DataFrame with :data:`TIDY_COLUMNS`; numbers are NaN/NA unless the status is "ok".
    """
    rows = [_paper_row(cell) for cell in PAPER_CELLS]
    rows += [_run_row(m) for m in metrics]
    df = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for name in ("ll_mean", "ll_se", "sigma"):
        df[name] = df[name].astype("float64")
    df["n_samples"] = df["n_samples"].astype("Int64")
    return df


def _paper_row(cell: PaperCell) -> dict:
    return {
        "model": cell.model,
        "source": "paper",
        "experiment": "",
        "dataset": PAPER_DATASET[cell.column],
        "column": cell.column,
        "ll_mean": cell.ll_mean,
        "ll_se": cell.ll_se,
        "sigma": math.nan,  # the paper reports no sigma
        "n_samples": None,
        "status": "ok",
        "budget": "paper",
        "reason": "",
        "note": "",
    }


def _run_row(m: dict) -> dict:
    column = m.get("table_column", "none")
    ok = m.get("status") == "ok"
    return {
        "model": REPRODUCTION,
        "source": "this run",
        "experiment": m["experiment"],
        "dataset": m.get("dataset", ""),
        "column": column if column in COLUMNS else NO_COLUMN,
        "ll_mean": m["ll_mean"] if ok else math.nan,
        "ll_se": m["ll_se"] if ok else math.nan,
        "sigma": m["sigma"] if ok else math.nan,
        "n_samples": m["n_samples"] if ok else None,
        "status": "ok" if ok else m.get("status", NOT_RUN),
        "budget": m.get("budget", ""),
        "reason": "" if ok else m.get("reason", ""),
        "note": m.get("note", ""),
    }


# ---------------------------------------------------------------- markdown


def to_markdown(df: pd.DataFrame) -> str:
    """Render the tidy table wide, as the paper prints Table 1, plus the other experiments."""
    runs = df[df["source"] == "this run"]
    in_table = runs[runs["column"].isin(COLUMNS)]
    lines = [
        "# Table 1: Parzen window-based log-likelihood estimates",
        "",
        "Mean log-likelihood (nats) of the test images, ± standard error; higher is better.",
        "",
        _md_row(["Model", *COLUMNS]),
        _md_row(["---"] * (1 + len(COLUMNS))),
    ]
    lines += _paper_lines(df[df["source"] == "paper"])
    lines += _reproduction_lines(in_table)
    lines += ["", *_cell_notes(in_table), ""]
    lines += [
        "Published rows as in the paper; [3] and [6] are the paper's references. Paper MNIST: "
        "s.e. across test examples; paper TFD: s.e. across the 5 folds. Reproduced MNIST: s.e. "
        "= std / √N across test examples (ddof 0), σ chosen on the first 1,000 validation "
        "images. Reproduced TFD: mean of the 5 folds' test LL ± std of the fold means (ddof 0) "
        "/ √5, σ chosen on each fold's validation set.",
    ]
    if (runs["budget"] == "quick").any():
        lines += ["", f"**{QUICK_MARK}**: tiny budget, numbers not comparable to the paper."]
    others = runs[~runs["column"].isin(COLUMNS)]
    if len(others):
        lines += ["", "## Other experiments (not in the paper)", "", *_other_lines(others)]
    return "\n".join(lines) + "\n"


def format_ll(mean: float, se: float, digits: int = 1) -> str:
    """A cell in the paper's "225 ± 2" style."""
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def _paper_lines(paper: pd.DataFrame) -> list[str]:
    lines = []
    for model in dict.fromkeys(paper["model"]):
        cells = paper[paper["model"] == model].set_index("column")
        ref = next(c.ref for c in PAPER_CELLS if c.model == model)
        texts = [f"{_num(cells.at[c, 'll_mean'])} ± {_num(cells.at[c, 'll_se'])}" for c in COLUMNS]
        if model == "Adversarial nets":  # the paper sets its own row in bold
            lines.append(_md_row([f"**{model}** (paper)", *[f"**{t}**" for t in texts]]))
        else:
            lines.append(_md_row([f"{model} {ref}", *texts]))
    return lines


def _reproduction_lines(runs: pd.DataFrame) -> list[str]:
    """One row when each column has at most one experiment, else one row per experiment."""
    per_column = runs.groupby("column").size()
    if per_column.empty or per_column.max() <= 1:
        cells = [_run_cell(runs[runs["column"] == c]) for c in COLUMNS]
        return [_md_row([REPRODUCTION, *cells])]
    lines = []
    for row in runs.itertuples():
        cells = [_run_cell(runs.loc[[row.Index]]) if c == row.column else "–" for c in COLUMNS]
        lines.append(_md_row([f"{REPRODUCTION}, `{row.experiment}`", *cells]))
    return lines


def _run_cell(rows: pd.DataFrame) -> str:
    if rows.empty:
        return NOT_RUN
    if rows.iloc[0]["status"] != "ok":
        return rows.iloc[0]["status"]  # "not run" or "not available"
    row = rows.iloc[0]
    text = format_ll(row["ll_mean"], row["ll_se"])
    return f"{text} {QUICK_MARK}" if row["budget"] == "quick" else text


def _cell_notes(runs: pd.DataFrame) -> list[str]:
    notes = []
    for column in COLUMNS:
        rows = runs[runs["column"] == column]
        if rows.empty:
            notes.append(f"- {column}: not run — no experiment has table_column {column}")
        for row in rows.itertuples():
            notes.append(f"- {column}: experiment `{row.experiment}`, {_run_note(row)}")
    return notes


def _run_note(row) -> str:
    if row.status != "ok":
        return f"{row.status} — {row.reason}" if row.reason else row.status
    quick = f" {QUICK_MARK}" if row.budget == "quick" else ""
    return f"σ = {row.sigma:.3g}, {row.n_samples} generator samples{quick}"


def _other_lines(others: pd.DataFrame) -> list[str]:
    lines = [
        _md_row(["Experiment", "Dataset", "Log-likelihood", "σ", "Samples", "Note"]),
        _md_row(["---"] * 6),
    ]
    for row in others.itertuples():
        name = f"`{row.experiment}`"
        if row.status != "ok":
            why = f" — {row.reason}" if row.reason else ""
            lines.append(_md_row([name, row.dataset, row.status + why, "–", "–", row.note]))
            continue
        cell = format_ll(row.ll_mean, row.ll_se)
        if row.budget == "quick":
            cell = f"{cell} {QUICK_MARK}"
        sigma, n = f"{row.sigma:.3g}", str(row.n_samples)
        lines.append(_md_row([name, row.dataset, cell, sigma, n, row.note]))
    return lines


def _num(x: float) -> str:
    return f"{x:g}"  # 138.0 -> "138", 1.6 -> "1.6", as printed in the paper


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


__all__ = [
    "COLUMNS",
    "NOT_RUN",
    "PAPER_CELLS",
    "QUICK_MARK",
    "REPRODUCTION",
    "TIDY_COLUMNS",
    "build_table",
    "format_ll",
    "to_markdown",
]
