"""Table 1: the paper's rows verbatim, "not run" never shows a number, quick runs are marked."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from fixtures import load_stage
from report_fixtures import DEFAULT_EXPS, Exp, make_upstream, write_params

from ganrepro.table import (
    NOT_RUN,
    QUICK_MARK,
    REPRODUCTION,
    TIDY_COLUMNS,
    build_table,
    to_markdown,
)

table_stage = load_stage("table")

REQUIRED = ["model", "source", "experiment", "dataset", "column", "ll_mean", "ll_se", "sigma",
            "n_samples", "status"]  # fmt: skip


def metrics(name="mnist", column="MNIST", budget="paper", ok=True, **numbers) -> dict:
    m = {"experiment": name, "dataset": name, "table_column": column, "budget": budget}
    if not ok:
        return m | {"status": "not run", "reason": "training was skipped"}
    values = {"ll_mean": 226.75, "ll_se": 1.875, "sigma": 0.2, "n_samples": 10000} | numbers
    return m | {"status": "ok", **values}


def row_of(md: str, label: str) -> list[str]:
    """Cells of the markdown table row whose first cell is ``label``."""
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in\n{md}")


def test_paper_rows_exact():
    md = to_markdown(build_table([]))
    assert row_of(md, "DBN [3]") == ["DBN [3]", "138 ± 2", "1909 ± 66"]
    assert row_of(md, "Stacked CAE [3]") == ["Stacked CAE [3]", "121 ± 1.6", "2110 ± 50"]
    assert row_of(md, "Deep GSN [6]") == ["Deep GSN [6]", "214 ± 1.1", "1890 ± 29"]
    label = "**Adversarial nets** (paper)"
    assert row_of(md, label) == [label, "**225 ± 2**", "**2057 ± 26**"]


def test_paper_rows_in_tidy_table():
    df = build_table([])
    paper = df[df["source"] == "paper"]
    got = {(r.model, r.column): (r.ll_mean, r.ll_se) for r in paper.itertuples()}
    assert got == {
        ("DBN", "MNIST"): (138, 2),
        ("DBN", "TFD"): (1909, 66),
        ("Stacked CAE", "MNIST"): (121, 1.6),
        ("Stacked CAE", "TFD"): (2110, 50),
        ("Deep GSN", "MNIST"): (214, 1.1),
        ("Deep GSN", "TFD"): (1890, 29),
        ("Adversarial nets", "MNIST"): (225, 2),
        ("Adversarial nets", "TFD"): (2057, 26),
    }


def test_reproduced_cell_shows_mean_and_se():
    md = to_markdown(build_table([metrics()]))
    assert row_of(md, REPRODUCTION) == [REPRODUCTION, "226.8 ± 1.9", NOT_RUN]
    assert "σ = 0.2, 10000 generator samples" in md


def test_not_run_mnist_shows_no_number():
    # even a stale number left in a not-run file must not reach the table
    stale = metrics(ok=False) | {"ll_mean": 999.5, "ll_se": 9.5}
    df = build_table([stale])
    md = to_markdown(df)
    cells = row_of(md, REPRODUCTION)
    assert cells[1] == NOT_RUN
    assert not re.search(r"\d", cells[1] + cells[2])
    assert "999" not in md
    run = df[df["source"] == "this run"].iloc[0]
    assert run["status"] == NOT_RUN and math.isnan(run["ll_mean"]) and pd.isna(run["n_samples"])
    assert "training was skipped" in md


def test_quick_budget_is_marked_and_paper_budget_is_not():
    quick = to_markdown(build_table([metrics(budget="quick")]))
    assert row_of(quick, REPRODUCTION)[1] == f"226.8 ± 1.9 {QUICK_MARK}"
    assert "tiny budget" in quick
    paper = to_markdown(build_table([metrics(budget="paper")]))
    assert QUICK_MARK not in paper


def test_other_experiments_table():
    fashion = metrics("fashion_mnist", column="none", ll_mean=212.5, ll_se=1.25)
    fashion["note"] = "not in the paper"
    md = to_markdown(build_table([metrics(), fashion]))
    table1, other = md.split("## Other experiments (not in the paper)")
    assert "fashion_mnist" not in table1
    assert row_of(other, "`fashion_mnist`") == [
        "`fashion_mnist`", "fashion_mnist", "212.5 ± 1.2", "0.2", "10000", "not in the paper"
    ]  # fmt: skip
    assert "## Other experiments" not in to_markdown(build_table([metrics()]))


def test_not_available_is_shown_as_such_with_its_reason():
    tfd = {
        "experiment": "tfd",
        "dataset": "tfd",
        "table_column": "TFD",
        "status": "not available",
        "reason": "TFD is not publicly downloadable",
    }
    md = to_markdown(build_table([metrics(), tfd]))
    assert row_of(md, REPRODUCTION)[2] == "not available"
    assert "- TFD: experiment `tfd`, not available — TFD is not publicly downloadable" in md


def test_two_experiments_in_one_column_get_one_row_each():
    md = to_markdown(build_table([metrics("a"), metrics("b", ll_mean=100.0)]))
    assert row_of(md, f"{REPRODUCTION}, `a`")[1:] == ["226.8 ± 1.9", "–"]
    assert row_of(md, f"{REPRODUCTION}, `b`")[1:] == ["100.0 ± 1.9", "–"]


@pytest.fixture
def staged_root(tmp_path):
    params = write_params(tmp_path)
    make_upstream(tmp_path)
    return tmp_path, params


def test_stage_writes_csv_and_md(staged_root):
    root, params = staged_root
    (root / "metrics/parzen/fashion_mnist.json").unlink()  # listed but never evaluated
    assert table_stage.main(["--params", str(params), "--root", str(root)]) == 0
    df = pd.read_csv(root / "reports/table1.csv", keep_default_na=False)
    assert list(df.columns[: len(REQUIRED)]) == REQUIRED
    assert list(df.columns) == list(TIDY_COLUMNS)
    runs = df[df["source"] == "this run"].set_index("experiment")
    assert list(runs.index) == [e.name for e in DEFAULT_EXPS]
    assert runs.loc["mnist", "status"] == "ok" and runs.loc["mnist", "column"] == "MNIST"
    assert runs.loc["tfd", "status"] == NOT_RUN and runs.loc["tfd", "ll_mean"] == ""
    assert runs.loc["fashion_mnist", "status"] == NOT_RUN
    assert "fashion_mnist.json missing" in runs.loc["fashion_mnist", "reason"]
    md = (root / "reports/table1.md").read_text()
    assert row_of(md, REPRODUCTION)[1:] == [f"231.2 ± 2.1 {QUICK_MARK}", NOT_RUN]


def test_stage_takes_the_column_from_params(tmp_path):
    exps = (Exp("mnist", "mnist", "none"),)  # metrics say MNIST, params say none
    params = write_params(tmp_path, exps)
    make_upstream(tmp_path, (Exp("mnist", "mnist", "MNIST"),))
    assert table_stage.main(["--params", str(params), "--root", str(tmp_path)]) == 0
    md = (tmp_path / "reports/table1.md").read_text()
    assert row_of(md, REPRODUCTION)[1:] == [NOT_RUN, NOT_RUN]
    assert "`mnist`" in md.split("## Other experiments")[1]


def test_stage_rejects_a_broken_metrics_file(staged_root, capsys):
    root, params = staged_root
    (root / "metrics/parzen/mnist.json").write_text('{"status": "ok"}')
    assert table_stage.main(["--params", str(params), "--root", str(root)]) == 2
    assert "mnist.json: status ok but 'll_mean' is missing" in capsys.readouterr().err
    assert not (root / "reports/table1.csv").exists()
