"""Figure grids as the authors' PatchViewer draws them, and byte-stable PNGs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from ganrepro import figures

P = 28  # MNIST patch size
ROWS, COLS = 4, 5


@pytest.fixture
def mnist_grid():
    rng = np.random.default_rng(0)
    # grey values in [0.1, 0.9]: never black, never yellow, so padding and border are unambiguous
    samples = rng.uniform(0.1, 0.9, (ROWS, COLS, P * P))
    neighbours = rng.uniform(0.1, 0.9, (ROWS, P * P))
    image = figures.figure2_grid(samples, neighbours, [1, P, P], "unit")
    return samples, neighbours, image


def test_figure2_shape(mnist_grid):
    _, _, image = mnist_grid
    # 4 rows of 28 px + 5 pads of 5 px; 5 samples + 1 neighbour of 28 px + 7 pads of 5 px
    assert image.shape == (4 * 28 + 5 * 5, 6 * 28 + 7 * 5, 3) == (137, 203, 3)


def test_figure2_patches_in_place(mnist_grid):
    samples, neighbours, image = mnist_grid
    r, c = 2, 3
    top, left = 5 + r * 33, 5 + c * 33
    patch = image[top : top + 28, left : left + 28]
    np.testing.assert_array_equal(patch[..., 0], samples[r, c].reshape(28, 28))
    np.testing.assert_array_equal(patch[..., 0], patch[..., 2])  # grey: R = G = B
    left = 5 + 5 * 33  # the neighbour column
    np.testing.assert_array_equal(
        image[top : top + 28, left : left + 28, 1], neighbours[r].reshape(28, 28)
    )


def test_yellow_border_exactly_around_each_neighbour(mnist_grid):
    _, _, image = mnist_grid
    yellow = np.all(image == (1.0, 1.0, 0.0), axis=-1)
    expected = np.zeros(image.shape[:2], bool)
    left = 5 + 5 * 33
    for r in range(ROWS):
        top = 5 + r * 33
        expected[top - 1, left - 1 : left + 29] = True  # 30 px: the patch plus one each side
        expected[top + 28, left - 1 : left + 29] = True
        expected[top - 1 : top + 29, left - 1] = True
        expected[top - 1 : top + 29, left + 28] = True
    np.testing.assert_array_equal(yellow, expected)
    assert yellow.sum() == ROWS * (2 * 30 + 2 * 28)
    # everything else outside the patches is black padding
    inside = np.zeros_like(expected)
    for r in range(ROWS):
        for c in range(COLS + 1):
            inside[5 + r * 33 : 5 + r * 33 + 28, 5 + c * 33 : 5 + c * 33 + 28] = True
    assert np.all(image[~inside & ~expected] == 0.0)


def test_unit_display_clips():
    samples = np.full((1, 1, 4), 1.5)
    neighbours = np.full((1, 4), -0.5)
    image = figures.figure2_grid(samples, neighbours, [1, 2, 2], "unit", pad=2)
    assert image[2, 2, 0] == 1.0 and image[2, 6, 0] == 0.0


def test_max_abs_scales_samples_and_neighbours_by_max_abs_sample():
    # one colour patch of 1x1 px per cell: channels (R, G, B)
    samples = np.array([[[4.0, -4.0, 0.0], [2.0, -1.0, 1.0]]])  # (1 row, 2 cols, D = 3)
    neighbours = np.array([[8.0, 2.0, -2.0]])  # scaled by 4 too, then clipped
    image = figures.figure2_grid(samples, neighbours, [3, 1, 1], "max_abs", pad=2)
    px = [image[2, 2 + 3 * c] for c in range(3)]
    np.testing.assert_allclose(px[0], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(px[1], [0.75, 0.375, 0.625])
    np.testing.assert_allclose(px[2], [1.0, 0.75, 0.25])


def test_chw_order_for_colour_images():
    c, h, w = 3, 2, 4
    x = np.arange(c * h * w, dtype=float) / (c * h * w)  # CHW flattened
    image = figures.figure3_grid(x[None, None], [c, h, w], "unit", pad=1)
    np.testing.assert_array_equal(
        image[1 : 1 + h, 1 : 1 + w], x.reshape(c, h, w).transpose(1, 2, 0)
    )


def test_figure3_shape_and_no_border():
    frames = np.full((6, 10, 784), 0.5)
    image = figures.figure3_grid(frames, [1, 28, 28], "unit")
    assert image.shape == (6 * 28 + 7 * 5, 10 * 28 + 11 * 5, 3)
    assert set(np.unique(image)) == {0.0, 0.5}


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="neighbours"):
        figures.figure2_grid(np.zeros((4, 5, 784)), np.zeros((3, 784)), [1, 28, 28], "unit")
    with pytest.raises(ValueError, match="image_shape"):
        figures.figure3_grid(np.zeros((1, 2, 780)), [1, 28, 28], "unit")
    with pytest.raises(ValueError, match="display"):
        figures.figure3_grid(np.zeros((1, 2, 784)), [1, 28, 28], "gamma")


def test_grid_png_is_zoomed_exactly_and_byte_stable(tmp_path, mnist_grid):
    _, _, image = mnist_grid
    a = figures.save_grid_png(image, tmp_path / "a.png", zoom=3)
    b = figures.save_grid_png(image, tmp_path / "b.png", zoom=3)
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes()
    back = imread(a)[..., :3]
    assert back.shape == (137 * 3, 203 * 3, 3)
    np.testing.assert_allclose(back[::3, ::3], image, atol=1 / 255)


CURVES = pd.DataFrame(
    {
        "epoch": [1, 1, 2, 2, 3],
        "step": [50, 100, 150, 200, 250],
        "lr": 0.1,
        "momentum": 0.5,
        "d_loss": [1.4, 1.2, 1.1, 1.0, 0.9],
        "g_loss": [0.7, 0.8, 0.9, 1.0, 1.1],
        "d_real": [0.6, 0.6, 0.55, 0.55, 0.5],
        "d_fake": [0.4, 0.4, 0.45, 0.45, 0.5],
        "valid_parzen": [np.nan, 120.0, np.nan, 150.0, 140.0],
        "seconds": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
)


def test_plot_curves_averages_per_epoch_and_stars_the_best(tmp_path):
    fig = figures.plot_curves(CURVES, title="mnist")
    ax_loss, ax_d, ax_ll = fig.axes
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), [1.3, 1.05, 0.9])
    np.testing.assert_allclose(ax_d.lines[1].get_ydata(), [0.4, 0.45, 0.5])
    np.testing.assert_allclose(ax_ll.lines[0].get_ydata(), [120.0, 150.0, 140.0])
    assert list(ax_ll.lines[1].get_xdata()) == [2]  # the star
    one = figures.save_png(fig, tmp_path / "a.png").read_bytes()
    two = figures.save_png(figures.plot_curves(CURVES, title="mnist"), tmp_path / "b.png")
    assert one == two.read_bytes() and one.startswith(b"\x89PNG")


def test_plot_curves_without_data_says_not_run():
    fig = figures.plot_curves(CURVES.iloc[:0])
    assert all(ax.texts[0].get_text() == "not run" for ax in fig.axes)


def test_plot_sigma_sweep_one_line_per_experiment():
    sigmas = np.logspace(-1, 0, 10)
    df = pd.concat(
        [
            pd.DataFrame({"sigma": sigmas, "valid_ll": -((np.log(sigmas) + 1.5) ** 2)}),
            pd.DataFrame({"sigma": sigmas, "valid_ll": -((np.log(sigmas) + 0.5) ** 2)}),
        ],
        keys=["a", "b"],
        names=["experiment", None],
    ).reset_index(level=0)
    ax = figures.plot_sigma_sweep(df).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert [s.get_xdata()[0] for s in stars] == [sigmas[3], sigmas[7]]  # nearest e^-1.5, e^-0.5
    assert ax.get_xscale() == "log"
