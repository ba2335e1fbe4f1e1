"""Run the report notebooks with papermill and assemble one self-contained HTML page.

The page holds, in order: the QUICK RUN banner (quick budget only), the rendered outputs and
markdown of each executed notebook (code hidden; images as base64 ``data:`` URIs, so it opens
offline with no script or stylesheet to fetch), and a provenance section (git commit, params, data
hashes, training device and time, generation time). Knows nothing of DVC; the ``report`` stage
supplies the paths.
"""

from __future__ import annotations

import html
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import yaml

from ganrepro import io

QUICK_BANNER = "QUICK RUN — tiny budget, numbers not comparable to the paper"
TITLE = "Generative Adversarial Nets (Goodfellow et al., 2014): reproduction report"
# Output types shown per display output, most preferred first (as a browser-side notebook would).
MIME_ORDER = ("text/html", "image/png", "text/markdown", "text/plain")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---------------------------------------------------------------- running notebooks


@contextmanager
def _without_env(name: str) -> Iterator[None]:
    """Unset an environment variable for the duration (kernels inherit os.environ at launch)."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


def run_notebook(src: Path, dst: Path, parameters: dict, cwd: Path, timeout_s: int) -> None:
    """Execute ``src`` into ``dst`` with papermill; a failing cell becomes a one-line StageError.

    MPLBACKEND is unset for the kernel: a non-interactive backend inherited from the caller (e.g.
    ``Agg``) would replace the inline backend and the notebook would show no images
    (dvc-notes section 8).
    """
    import papermill

    with _without_env("MPLBACKEND"):
        try:
            papermill.execute_notebook(
                str(src),
                str(dst),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=timeout_s,
                cwd=str(cwd),
            )
        except papermill.PapermillExecutionError as err:
            print(_ANSI.sub("", "\n".join(err.traceback)), file=sys.stderr)
            raise io.StageError(
                f"notebook {src.name} failed in cell {err.cell_index}: {err.ename}: {err.evalue}"
            ) from err


# ---------------------------------------------------------------- notebook -> HTML


def notebook_html(nb) -> str:
    """Markdown cells and code-cell outputs of an executed notebook as HTML; code is hidden."""
    from nbconvert.filters.markdown import markdown2html

    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(markdown2html(cell.source))
        elif cell.cell_type == "code":
            parts += [_output_html(out) for out in cell.get("outputs", [])]
    return "\n".join(p for p in parts if p)


def _output_html(out) -> str:
    from nbconvert.filters.markdown import markdown2html

    kind = out.get("output_type")
    if kind == "stream":
        return f"<pre>{html.escape(out.text)}</pre>" if out.name == "stdout" else ""
    if kind == "error":
        text = _ANSI.sub("", "\n".join(out.traceback))
        return f'<pre class="error">{html.escape(text)}</pre>'
    data = out.get("data", {})
    mime = next((m for m in MIME_ORDER if m in data), None)
    value = data.get(mime, "")
    if isinstance(value, list):
        value = "".join(value)
    if mime == "text/html":
        return f'<div class="output">{value}</div>'
    if mime == "image/png":
        b64 = "".join(value.split())
        return f'<div class="output"><img alt="figure" src="data:image/png;base64,{b64}"></div>'
    if mime == "text/markdown":
        return f'<div class="output">{markdown2html(value)}</div>'
    if mime == "text/plain":
        return f"<pre>{html.escape(value)}</pre>"
    return ""


# ---------------------------------------------------------------- provenance


def git_state(root: Path) -> tuple[str, bool | None]:
    """(commit, dirty) of the git work tree at ``root``; ("unknown", None) outside git."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30
        )
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--verify", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, dirty


def collect_provenance(
    root: Path, raw_params: dict, sections: tuple[str, ...], experiments: list[str]
) -> dict:
    """Everything the provenance section prints, read from declared inputs only."""
    commit, dirty = git_state(root)
    manifests = {}
    for directory in sorted(p for p in (root / "data/raw").glob("*") if p.is_dir()):
        reason = io.skipped_reason(directory)
        manifest = directory / "manifest.json"
        if reason is not None:
            manifests[directory.name] = f"skipped: {reason}"
        elif manifest.exists():
            manifests[directory.name] = io.read_json(manifest)
    training = {}
    for name in experiments:
        path = root / "metrics/train" / f"{name}.json"
        training[name] = io.read_json(path) if path.exists() else None
    versions = {"python": platform.python_version()}
    for package in ("numpy", "pandas", "matplotlib", "papermill", "nbconvert"):
        versions[package] = metadata.version(package)
    return {
        "commit": commit,
        "dirty": dirty,
        "params": {s: raw_params[s] for s in sections if s in raw_params},
        "manifests": manifests,
        "training": training,
        "versions": versions,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def provenance_html(prov: dict) -> str:
    e = html.escape
    if prov["commit"] == "unknown":
        commit = "git commit: unknown (not a git work tree with commits)"
    else:
        commit = f"git commit: {prov['commit']}" + (" (dirty)" if prov["dirty"] else " (clean)")
    parts = [
        '<section id="provenance"><h2>Provenance</h2>',
        f'<p class="commit">{e(commit)}</p>',
        f"<p>Generated: {e(prov['generated'])}. "
        + ", ".join(f"{e(k)} {e(str(v))}" for k, v in prov["versions"].items())
        + ".</p>",
        "<h3>Training runs (metrics/train)</h3>",
        _training_table(prov["training"]),
        "<h3>Data (data/raw/*/manifest.json)</h3>",
        _manifest_table(prov["manifests"]),
        "<h3>Params (params.yaml)</h3>",
    ]
    for name, value in prov["params"].items():
        text = yaml.safe_dump({name: value}, sort_keys=False, allow_unicode=True)
        parts.append(f"<pre>{e(text)}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


TRAIN_KEYS = ("device", "epochs", "steps", "best_epoch", "budget", "seed", "torch")


def _training_table(training: dict) -> str:
    head = ("experiment", "status", "wall time", *TRAIN_KEYS)
    rows = []
    for name, m in training.items():
        if m is None:
            rows.append([name, "not run (no metrics/train file)", *[""] * (len(head) - 2)])
            continue
        status = f"{m.get('status', '')}: {m['reason']}" if m.get("reason") else m.get("status")
        wall = m.get("wall_seconds")
        wall = _duration(wall) if wall is not None else ""
        rows.append([name, status, wall, *(m.get(k, "") for k in TRAIN_KEYS)])
    return _html_table(head, rows)


def _manifest_table(manifests: dict) -> str:
    head = ("dataset", "file", "sha256", "bytes", "source")
    rows = []
    for dataset, manifest in manifests.items():
        if isinstance(manifest, str):
            rows.append([dataset, manifest, "", "", ""])
            continue
        for name, entry in sorted(manifest.items()):
            rows.append(
                [
                    dataset,
                    name,
                    entry.get("sha256", ""),
                    entry.get("bytes", ""),
                    entry.get("source", ""),
                ]
            )
    if not rows:
        return "<p>No manifests found.</p>"
    return _html_table(head, rows)


def _html_table(head, rows) -> str:
    e = html.escape
    lines = ["<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        lines.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    s = int(round(float(seconds)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d} ({float(seconds):.1f} s)"


# ---------------------------------------------------------------- page


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 1em;
       color: #222; line-height: 1.45; }
.banner { background: #b00020; color: #fff; font-size: 1.4em; font-weight: bold;
          padding: .6em 1em; margin-bottom: 1em; border-radius: 4px; }
.banner small { display: block; font-size: .6em; font-weight: normal; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; }
pre.error { background: #fee; }
img { max-width: 100%; }
nav a { margin-right: 1em; }
section { border-top: 1px solid #ddd; margin-top: 1.5em; }
.anchor-link { display: none; }
"""


def assemble_html(
    sections: list[tuple[str, str, str]], provenance: str, quick: bool, quick_detail: str = ""
) -> str:
    """The whole page. ``sections``: (anchor id, title, body HTML) per notebook, in order."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(TITLE)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
    ]
    if quick:
        detail = f"<small>{e(quick_detail)}</small>" if quick_detail else ""
        parts.append(f'<div class="banner">{e(QUICK_BANNER)}{detail}</div>')
    parts.append(f"<h1>{e(TITLE)}</h1>")
    links = [f'<a href="#{e(a)}">{e(t)}</a>' for a, t, _ in sections]
    parts.append("<nav>" + "".join(links) + '<a href="#provenance">Provenance</a></nav>')
    for anchor, _title, body in sections:
        parts.append(f'<section id="{e(anchor)}">\n{body}\n</section>')
    parts += [provenance, "</body>", "</html>"]
    return "\n".join(parts) + "\n"


__all__ = [
    "QUICK_BANNER",
    "assemble_html",
    "collect_provenance",
    "git_state",
    "notebook_html",
    "provenance_html",
    "run_notebook",
]
