"""End to end: the real dvc.yaml, run by `dvc repro` in a temporary git repository on a
generated MNIST mirror with tiny params; then a second `dvc repro` must run nothing, and no
stage may have written outside its declared outs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pipeline_fixtures import make_tfd_file, write_tiny_project_params

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def run(cmd: list[str], cwd: Path) -> str:
    env = os.environ.copy()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("MPLBACKEND", None)
    env["DVC_NO_ANALYTICS"] = "1"
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def project_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


def copy_project(dest: Path) -> None:
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def declared_outs(repo: Path) -> list[str]:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return [out["path"] for stage in lock.values() for out in stage.get("outs", [])]


def files_outside(repo: Path, allowed_roots: list[str]) -> list[str]:
    """Files in ``repo`` that are neither git-tracked nor inside a declared out."""
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    stray = []
    for path in repo.rglob("*"):
        rel = path.relative_to(repo).as_posix()
        if not path.is_file() or rel.split("/")[0] in (".git", ".dvc") or rel in tracked:
            continue
        if rel == "dvc.lock" or rel.endswith(".gitignore") or "__pycache__" in rel:
            continue
        if not any(rel == out or rel.startswith(out + "/") for out in allowed_roots):
            stray.append(rel)
    return stray


@pytest.fixture(scope="module")
def repo(raw_params, tmp_path_factory) -> Path:
    """Every experiment on generated data; TFD absent (no user file), as for most users."""
    repo = tmp_path_factory.mktemp("repo")
    copy_project(repo)
    write_tiny_project_params(repo / "params.yaml", raw_params, tmp_path_factory.mktemp("mirror"))
    run(["git", "init", "-q", "-b", "main"], repo)
    git_commit(repo, "init")
    run([sys.executable, "-m", "dvc", "repro"], repo)
    return repo


def git_commit(repo: Path, message: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    run(["git", *ident, "add", "-A"], repo)
    run(["git", *ident, "commit", "-qm", message], repo)


def metrics(repo: Path, exp: str) -> dict:
    return json.loads((repo / f"metrics/parzen/{exp}.json").read_text())


def table_row(md: str, model: str) -> list[str]:
    line = next(line for line in md.splitlines() if line.startswith(f"| {model}"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_metrics_table_and_report(repo):
    m = metrics(repo, "mnist")
    assert m["status"] == "ok" and isinstance(m["ll_mean"], float) and m["sigma"] > 0
    md = (repo / "reports/table1.md").read_text()
    assert "**225 ± 2**" in md  # the paper's row
    cells = table_row(md, "Adversarial nets (this reproduction)")
    assert cells[1].startswith(f"{m['ll_mean']:.1f} ± {m['ll_se']:.1f}")  # MNIST column
    html = (repo / "reports/index.html").read_text()
    assert "QUICK RUN" in html and "data:image/png;base64," in html
    assert '<script src="http' not in html


def test_every_experiment_ran_except_the_absent_tfd(repo):
    for exp in ("mnist", "faces", "cifar10_fc", "cifar10_conv"):
        assert metrics(repo, exp)["status"] == "ok", exp
    assert metrics(repo, "fashion_mnist")["status"] == "not run"  # opt-in
    tfd = metrics(repo, "tfd")
    assert tfd["status"] == "not available" and "Josh Susskind" in tfd["reason"]
    md = (repo / "reports/table1.md").read_text()
    assert table_row(md, "Adversarial nets (this reproduction)")[2] == "not available"
    assert "substitute, not comparable to the paper's TFD number" in md
    html = (repo / "reports/index.html").read_text()
    assert "not available" in html and "Josh Susskind" in html


def test_second_repro_runs_nothing(repo):
    out = run([sys.executable, "-m", "dvc", "repro"], repo)
    assert "Running stage" not in out, out
    status = run([sys.executable, "-m", "dvc", "status", "--json"], repo)
    assert json.loads(status.strip().splitlines()[-1]) == {}


def test_no_stage_writes_outside_its_declared_outs(repo):
    assert files_outside(repo, declared_outs(repo)) == []


def test_tfd_present_runs_only_its_chain_and_fills_the_tfd_cell(repo, tmp_path):
    tfd_file = make_tfd_file(tmp_path / "TFD_48x48.mat")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["tfd"]["path"] = str(tfd_file)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = run([sys.executable, "-m", "dvc", "repro"], repo)
    ran = {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}
    chain = {f"{s}@tfd" for s in ("download", "prepare", "train", "sample", "parzen")}
    assert ran == chain | {"table", "report"}, ran
    tfd = metrics(repo, "tfd")
    assert tfd["status"] == "ok" and len(tfd["folds"]) == 5
    fold_means = [f["ll_mean"] for f in tfd["folds"]]
    assert tfd["ll_mean"] == pytest.approx(sum(fold_means) / 5)
    md = (repo / "reports/table1.md").read_text()
    cell = table_row(md, "Adversarial nets (this reproduction)")[2]
    assert cell.startswith(f"{tfd['ll_mean']:.1f} ± {tfd['ll_se']:.1f}")
