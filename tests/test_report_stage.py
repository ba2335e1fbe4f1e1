"""The table and report stages on fabricated upstream files: one papermill run, many checks."""

from __future__ import annotations

import base64
import os
import subprocess
import time

import nbformat
import pytest
from fixtures import REPO, load_stage
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from report_fixtures import copy_notebooks, make_upstream, write_params

from ganrepro import report

table_stage = load_stage("table")
report_stage = load_stage("report")
NOTEBOOKS = [name for name, _ in report_stage.NOTEBOOKS]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run both stages once on a quick-budget fixture, with MPLBACKEND=Agg as DVC might set."""
    root = tmp_path_factory.mktemp("report")
    params = write_params(root, budget="quick")
    make_upstream(root)
    copy_notebooks(root)
    args = ["--params", str(params), "--root", str(root)]
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        start = time.perf_counter()
        assert table_stage.main(args) == 0
        rc = report_stage.main(args)
        seconds = time.perf_counter() - start
        backend_after = os.environ.get("MPLBACKEND")
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved
    html = (root / "reports/index.html").read_text() if rc == 0 else ""
    return {"root": root, "rc": rc, "html": html, "seconds": seconds, "backend": backend_after}


def test_stage_succeeds_and_writes_all_outputs(built):
    assert built["rc"] == 0
    reports = built["root"] / "reports"
    assert sorted(p.name for p in (reports / "notebooks").iterdir()) == sorted(
        f"{n}.ipynb" for n in NOTEBOOKS
    )
    assert not [p.name for p in reports.iterdir() if p.name.startswith(".")]  # no temp dirs left
    assert built["backend"] == "Agg"  # unset only while the kernels ran


def test_figures_saved_for_experiments_with_samples_only(built):
    figs = {p.name for p in (built["root"] / "reports/figures").iterdir()}
    for exp in ("mnist", "fashion_mnist", "cifar10_conv"):
        assert {f"figure2_{exp}.png", f"figure3_{exp}.png", f"curves_{exp}.png"} <= figs
    assert "sigma_sweep.png" in figs
    assert not any("tfd" in name for name in figs)


def test_html_is_self_contained_with_embedded_images(built):
    html = built["html"]
    # Figure 1 and its C(G) plot, 3 + 3 grids, 3 curves, 1 sweep
    assert html.count("data:image/png;base64,") == 12
    png = (built["root"] / "reports/figures/figure2_mnist.png").read_bytes()
    assert base64.b64encode(png).decode() in html  # the saved figure, byte for byte
    assert '<script src="http' not in html and "<script" not in html
    assert "<link" not in html and 'src="http' not in html


def test_quick_banner_comes_first(built):
    html = built["html"]
    body = html.split("<body>", 1)[1]
    assert body.lstrip().startswith('<div class="banner">' + report.QUICK_BANNER)
    assert "mnist 5 epoch(s) on 50000 training images" in html  # the quick budget detail


def test_content_of_the_sections(built):
    html = built["html"]
    assert "<td>231.2 ± 2.1 (quick run)</td>" in html
    assert "<td>138 ± 2</td>" in html
    assert "Samples are fair random draws, not cherry-picked." in html
    assert "Digits obtained by linearly interpolating between coordinates in z space" in html
    assert "b) <code>tfd</code></strong>: not run — dataset tfd is not available" in html
    # code is hidden
    assert "figure2_grid(" not in html and "%matplotlib" not in html


def test_provenance(built):
    prov = built["html"].split('<section id="provenance">', 1)[1]
    assert '<p class="commit">git commit: unknown' in prov
    assert "ab" * 32 in prov and "skipped: tfd is not available" in prov
    assert "<td>mnist</td><td>ok</td><td>1:02:04 (3723.5 s)</td><td>cpu</td><td>5</td>" in prov
    assert "budget: quick" in prov and "figure2_rows: 4" in prov
    assert "Generated: " in prov


def test_report_stage_time(built):
    assert built["seconds"] < 120, f"table + report took {built['seconds']:.0f} s"


# ---------------------------------------------------------------- fast, no kernel


def test_paper_budget_has_no_banner():
    page = report.assemble_html([("a", "A", "<p>x</p>")], "<section></section>", quick=False)
    assert report.QUICK_BANNER not in page and "<p>x</p>" in page


def test_notebook_html_hides_code_and_converts_markdown():
    code = new_code_cell("secret_code()")
    code.outputs = [
        new_output("display_data", {"text/markdown": "**bold**", "text/plain": "<Markdown>"}),
        new_output("stream", name="stderr", text="a warning"),
        new_output("execute_result", {"text/html": "<b>t</b>", "text/plain": "t"}),
        new_output("display_data", {"image/png": "iVBO\nRw0K", "text/plain": "<Image>"}),
    ]
    nb = new_notebook(cells=[new_markdown_cell("# Title"), code])
    out = report.notebook_html(nb)
    assert "secret_code" not in out and "a warning" not in out and "<Markdown>" not in out
    assert "<strong>bold</strong>" in out and "<b>t</b>" in out and "<h1" in out
    assert 'src="data:image/png;base64,iVBORw0K"' in out


def test_git_state(tmp_path):
    assert report.git_state(tmp_path) == ("unknown", None)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("a")
    subprocess.run([*git, "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "m"], cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert report.git_state(tmp_path) == (head, False)
    (tmp_path / "f.txt").write_text("b")
    assert report.git_state(tmp_path) == (head, True)
    html = report.provenance_html(
        {
            "commit": head,
            "dirty": True,
            "params": {},
            "manifests": {},
            "training": {},
            "versions": {},
            "generated": "now",
        }  # fmt: skip
    )
    assert f"git commit: {head} (dirty)" in html


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_are_clean_templates(name):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", 4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source.startswith("%matplotlib inline")
    assert "parameters" in code[1].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    if name != "table1":
        assert "figure_dir" in code[1].source and "dpi" in code[1].source
