"""Plot functions the report notebooks call: Figures 2 and 3, training curves, sigma sweep.

Figures 2 and 3 are drawn the way the authors' ``pylearn2.gui.patch_viewer.PatchViewer`` draws
them (paper-settings section 3): patches in a grid separated by 5 px of black padding, and for
Figure 2 the nearest training image in the last column, framed by a 1-pixel yellow (1, 1, 0) border
drawn in the padding. Only reshaping and display scaling happen here; samples and neighbours come
from the ``sample`` stage. Matplotlib figures are built with :class:`matplotlib.figure.Figure` (no
pyplot), so nothing is shown twice in a notebook and no backend is needed; PNGs are written without
a ``Software`` entry and are byte-identical for identical inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ganrepro import io

PAD = 5  # px of black padding between patches (PatchViewer default pad=(5, 5))
YELLOW = (1.0, 1.0, 0.0)  # PatchViewer activation shell colour for activation=1
DISPLAYS = ("unit", "max_abs")
PNG_METADATA = {"Software": None}  # no version string in the PNG: bytes depend on pixels only


# ---------------------------------------------------------------- sample grids


def to_display(x: np.ndarray, display: str, scale: float | None = None) -> np.ndarray:
    """Map values to [0, 1] for display.

    ``unit``: values already in [0, 1] (MNIST, TFD: the authors' ``x * 2 - 1`` shown with
    ``rescale=False`` is ``x``). ``max_abs`` (CIFAR-10): divide by ``scale`` (the largest absolute
    sample value of the grid), then map [-1, 1] to [0, 1]. Values outside are clipped, as
    PatchViewer clips negatives to black.
    """
    x = np.asarray(x, dtype=np.float64)
    if display == "unit":
        return np.clip(x, 0.0, 1.0)
    if display == "max_abs":
        if scale is None or not scale > 0:
            raise ValueError(f"max_abs display needs a positive scale, got {scale!r}")
        return np.clip(x / scale * 0.5 + 0.5, 0.0, 1.0)
    raise ValueError(f"display must be one of {DISPLAYS}, got {display!r}")


def to_patches(x: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Flattened CHW images (..., D) -> RGB patches (..., H, W, 3); grey images are repeated."""
    c, h, w = (int(s) for s in image_shape)
    if x.shape[-1] != c * h * w:
        need = c * h * w
        raise ValueError(f"images have {x.shape[-1]} values; image_shape {image_shape}: {need}")
    if c not in (1, 3):
        raise ValueError(f"image_shape must have 1 or 3 channels, got {c}")
    chw = x.reshape(*x.shape[:-1], c, h, w)
    hwc = np.moveaxis(chw, -3, -1)
    return np.repeat(hwc, 3, axis=-1) if c == 1 else hwc


def tile(patches: np.ndarray, pad: int = PAD) -> np.ndarray:
    """(rows, cols, H, W, 3) patches -> one image, ``pad`` px of black around and between them."""
    rows, cols, h, w, _ = patches.shape
    image = np.zeros((rows * h + pad * (rows + 1), cols * w + pad * (cols + 1), 3))
    for r in range(rows):
        for c in range(cols):
            rs, cs = _origin(r, c, h, w, pad)
            image[rs : rs + h, cs : cs + w] = patches[r, c]
    return image


def figure2_grid(
    samples: np.ndarray, neighbours: np.ndarray, image_shape, display: str, pad: int = PAD
) -> np.ndarray:
    """Figure 2: rows of samples, each followed by the nearest training image to its last sample.

    Args:
        samples: (rows, cols, D) flattened CHW samples.
        neighbours: (rows, D) nearest training image to each row's last sample.
        image_shape: [C, H, W] with C * H * W == D.
        display: "unit" or "max_abs" (both samples and neighbours divided by max |samples|).

    Returns:
        RGB float image in [0, 1] of shape (rows*H + pad*(rows+1), (cols+1)*W + pad*(cols+2), 3).
    """
    samples, neighbours = np.asarray(samples), np.asarray(neighbours)
    if samples.ndim != 3 or neighbours.shape != (samples.shape[0], samples.shape[2]):
        raise ValueError(
            f"expected samples (rows, cols, D) and neighbours (rows, D), "
            f"got {samples.shape} and {neighbours.shape}"
        )
    scale = float(np.abs(samples).max()) if display == "max_abs" else None
    grid = np.concatenate([samples, neighbours[:, None, :]], axis=1)  # (rows, cols + 1, D)
    image = tile(to_patches(to_display(grid, display, scale), image_shape), pad)
    _, h, w = (int(s) for s in image_shape)
    for r in range(samples.shape[0]):
        _border(image, *_origin(r, samples.shape[1], h, w, pad), h, w)
    return image


def figure3_grid(frames: np.ndarray, image_shape, display: str, pad: int = PAD) -> np.ndarray:
    """Figure 3: (rows, steps, D) frames of linear interpolation in z, one row per pair of ends."""
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"expected frames (rows, steps, D), got {frames.shape}")
    scale = float(np.abs(frames).max()) if display == "max_abs" else None
    return tile(to_patches(to_display(frames, display, scale), image_shape), pad)


def save_grid_png(image: np.ndarray, path: str | Path, zoom: int = 2, dpi: int = 100) -> Path:
    """Write a grid image as PNG, each pixel a ``zoom`` x ``zoom`` block (no resampling)."""
    from matplotlib.image import imsave

    big = np.kron(image, np.ones((zoom, zoom, 1)))
    with io.atomic_path(path) as tmp:
        imsave(tmp, big, vmin=0.0, vmax=1.0, format="png", dpi=dpi, metadata=PNG_METADATA)
    return Path(path)


def _origin(r: int, c: int, h: int, w: int, pad: int) -> tuple[int, int]:
    return pad + r * (h + pad), pad + c * (w + pad)


def _border(image: np.ndarray, rs: int, cs: int, h: int, w: int) -> None:
    """PatchViewer's activation shell 0: a 1-px frame just outside the patch, in the padding."""
    image[rs - 1, cs - 1 : cs + w + 1] = YELLOW
    image[rs + h, cs - 1 : cs + w + 1] = YELLOW
    image[rs - 1 : rs + h + 1, cs - 1] = YELLOW
    image[rs - 1 : rs + h + 1, cs + w] = YELLOW


def missing_reason(directory: str | Path) -> str | None:
    """Why a ``samples/<exp>/`` directory holds no samples, as "status — reason", else None."""
    directory = Path(directory)
    if not directory.is_dir():
        return f"not run — {directory.as_posix()}/ missing (the sample stage has not run)"
    marker = io.skip_marker(directory)
    return None if marker is None else f"{marker['status']} — {marker['reason']}"


# Figure 2's panels in the paper; other experiments get the letters after d.
PAPER_PANELS = {"mnist": "a", "tfd": "b", "faces": "b", "cifar10_fc": "c", "cifar10_conv": "d"}


def panel_labels(experiments: list[str]) -> dict[str, str]:
    """Panel letter of each experiment: the paper's where it has one, then e, f, ..."""
    extra = (chr(c) for c in range(ord("e"), ord("z") + 1))
    return {e: PAPER_PANELS.get(e) or next(extra) for e in experiments}


# ---------------------------------------------------------------- curves


def plot_curves(df: pd.DataFrame, title: str = "", dpi: int = 100) -> Figure:
    """Training curves from ``curves/<exp>.tsv``: losses, mean D outputs, validation Parzen LL.

    Rows are averaged per epoch; an empty table (experiment not run) gives labelled empty axes.
    """
    fig = Figure(figsize=(12, 3.4), dpi=dpi, layout="constrained")
    ax_loss, ax_d, ax_ll = fig.subplots(1, 3)
    per_epoch = df.groupby("epoch").mean(numeric_only=True) if len(df) else df
    x = per_epoch.index
    if len(df):
        ax_loss.plot(x, per_epoch["d_loss"], label="D loss")
        ax_loss.plot(x, per_epoch["g_loss"], label="G loss")
        ax_d.plot(x, per_epoch["d_real"], label="mean D(x)")
        ax_d.plot(x, per_epoch["d_fake"], label="mean D(G(z))")
        ll = per_epoch["valid_parzen"].dropna()
        ax_ll.plot(ll.index, ll, marker=".", color="C2")
        if len(ll):
            best = ll.idxmax()
            ax_ll.plot([best], [ll[best]], "*", ms=12, color="C3", label=f"best: epoch {best}")
            ax_ll.legend(loc="lower right")
        ax_loss.legend()
        ax_d.legend()
    else:
        for ax in (ax_loss, ax_d, ax_ll):
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
    ax_d.axhline(0.5, color="grey", lw=0.8, ls=":")  # D = 1/2 at the global optimum (Prop. 1)
    ax_d.set_ylim(-0.02, 1.02)
    ax_loss.set(xlabel="epoch", ylabel="loss (nats)", title="losses")
    ax_d.set(xlabel="epoch", ylabel="mean output", title="discriminator outputs")
    ax_ll.set(xlabel="epoch", ylabel="LL (nats)", title="validation Parzen LL")
    if title:
        fig.suptitle(title)
    return fig


def plot_sigma_sweep(df: pd.DataFrame, title: str = "", dpi: int = 100) -> Figure:
    """Validation Parzen LL against sigma (``plots/parzen/<exp>.tsv``); the chosen sigma starred.

    With an ``experiment`` column, one line per experiment.
    """
    fig = Figure(figsize=(5, 3.4), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    groups = df.groupby("experiment", sort=False) if "experiment" in df else [("", df)]
    for i, (name, part) in enumerate(groups):
        if part.empty:
            continue
        part = part.sort_values("sigma")
        ax.plot(part["sigma"], part["valid_ll"], marker=".", color=f"C{i}", label=name or None)
        best = part.iloc[int(np.argmax(part["valid_ll"].to_numpy()))]
        ax.plot([best["sigma"]], [best["valid_ll"]], "*", ms=12, color=f"C{i}")
    if df.empty:
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_xscale("log")
    if "experiment" in df and not df.empty:
        ax.legend()
    ax.set(xlabel="σ (Parzen window width)", ylabel="validation LL (nats)")
    if title:
        ax.set_title(title)
    return fig


def save_png(fig: Figure, path: str | Path) -> Path:
    """Save a matplotlib figure as a byte-deterministic PNG, atomically."""
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=fig.dpi, metadata=PNG_METADATA)
    return Path(path)


__all__ = [
    "DISPLAYS",
    "PAD",
    "YELLOW",
    "figure2_grid",
    "figure3_grid",
    "missing_reason",
    "plot_curves",
    "plot_sigma_sweep",
    "save_grid_png",
    "save_png",
    "tile",
    "to_display",
    "to_patches",
]
