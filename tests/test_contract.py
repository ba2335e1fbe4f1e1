"""The pipeline contract: every stage declares what it imports, describes itself, and the DAG
runs download -> prepare -> train -> sample -> parzen -> table -> report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def stage_body(name: str) -> dict:
    return STAGES[name].get("do", STAGES[name])


def imported_package_files(module_path: Path) -> set[str]:
    """Files of the ganrepro package that importing a stage module loads (in a fresh process)."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('stage', {str(module_path)!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "files = [m.__file__ for n, m in list(sys.modules.items())\n"
        "         if n.split('.')[0] == 'ganrepro' and getattr(m, '__file__', None)]\n"
        "print(json.dumps(files))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {str(Path(f).resolve().relative_to(ROOT)) for f in json.loads(out.stdout)}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_declares_every_package_module_it_imports(name):
    module = ROOT / "stages" / f"{name}.py"
    assert module.exists(), f"stage {name} has no module stages/{name}.py"
    deps = set(stage_body(name)["deps"])
    assert f"stages/{name}.py" in deps
    missing = imported_package_files(module) - deps
    assert not missing, f"{name}: imports undeclared package files {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_has_a_description_and_a_module_docstring(name):
    assert stage_body(name).get("desc"), f"stage {name} has no desc"
    text = (ROOT / "stages" / f"{name}.py").read_text()
    assert text.startswith('"""') and "Reads" in text and "Writes" in text and "Run alone" in text


def test_dag_order_for_mnist():
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "dag", "--dot", "report"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    chain = [
        "download@mnist",
        "prepare@mnist",
        "train@mnist",
        "sample@mnist",
        "parzen@mnist",
        "table",
        "report",
    ]
    for upstream, downstream in zip(chain[:-1], chain[1:], strict=True):
        assert f'"{upstream}" -> "{downstream}"' in out, f"missing edge {upstream} -> {downstream}"


def test_default_experiments_are_the_papers(raw_params):
    from ganrepro import config

    enabled = [n for n in raw_params["data"] if config.dataset(raw_params, n).enabled]
    # Fashion-MNIST is opt-in; TFD skips itself (saying how to get the file) without data.tfd.path
    assert enabled == ["mnist", "cifar10", "tfd", "faces"]


def test_params_reject_unknown_keys_and_bad_types(raw_params):
    import copy

    from ganrepro import config

    bad = copy.deepcopy(raw_params)
    bad["experiments"]["mnist"]["lrr"] = 0.1
    with pytest.raises(config.ConfigError, match=r"unknown key 'experiments\.mnist\.lrr'"):
        config.experiment(bad, "mnist")
    bad = copy.deepcopy(raw_params)
    bad["experiments"]["mnist"]["lr"] = "fast"
    with pytest.raises(config.ConfigError, match=r"'experiments\.mnist\.lr' must be a number"):
        config.experiment(bad, "mnist")
    bad = copy.deepcopy(raw_params)
    bad["base"]["device"] = "tpu"
    with pytest.raises(config.ConfigError, match=r"'base\.device' is 'tpu'"):
        config.base(bad)
