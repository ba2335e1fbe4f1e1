"""Drawing from a trained G: Parzen samples, Figure 2 grids and Figure 3 interpolations.

All draws use G's own prior p_z and no dropout (G has none), as ``generator.sample`` in the
authors' code (paper-settings §2 step 2 and §3).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganrepro.models import Generator, sample_noise


@torch.no_grad()
def generate(netG: Generator, z: Tensor, batch_size: int) -> Tensor:
    """G(z) in blocks of ``batch_size`` (memory only); (n, z_dim) -> (n, D) on CPU."""
    return torch.cat([netG(block).cpu() for block in z.split(batch_size)])


def draw(
    netG: Generator, n: int, noise: str, generator: torch.Generator, batch_size: int
) -> Tensor:
    """n samples from p_g: z ~ p_z, x = G(z); (n, D).

    z is drawn with ``generator`` on its own device (CPU in the stages, so that the same seed
    gives the same z on every machine) and moved to G's device.
    """
    device = next(netG.parameters()).device
    z = sample_noise(n, netG.z_dim, noise, generator, generator.device).to(device)
    return generate(netG, z, batch_size)


def nearest_rows(train_x: Tensor, queries: Tensor, batch_size: int = 4096) -> Tensor:
    """Index of the training row with the least squared distance to each query; (Q,).

    ``argmin_i ||x_i - q||^2 = argmin_i (||x_i||^2 - 2 x_i . q)``, computed in float64 so that
    near-ties are decided as the authors' exact numpy sum would decide them.
    """
    q = queries.double()
    best_d = torch.full((q.shape[0],), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(q.shape[0], dtype=torch.long)
    for start in range(0, train_x.shape[0], batch_size):
        block = train_x[start : start + batch_size].double().cpu()  # (b, D)
        d = (block * block).sum(1)[:, None] - 2 * block @ q.T  # (b, Q), up to ||q||^2
        d_min, i_min = d.min(dim=0)
        better = d_min < best_d
        best_d[better], best_i[better] = d_min[better], i_min[better] + start
    return best_i


def interpolation_z(starts: Tensor, stops: Tensor, steps: int) -> Tensor:
    """z = alpha * stop + (1 - alpha) * start, alpha = s / (steps - 1); (R, steps, z_dim)."""
    alpha = torch.linspace(0.0, 1.0, steps, dtype=starts.dtype, device=starts.device)
    alpha = alpha[None, :, None]  # (1, steps, 1)
    return alpha * stops[:, None, :] + (1 - alpha) * starts[:, None, :]


def chained_endpoints(
    rows: int, z_dim: int, kind: str, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """rows + 1 endpoints, chained so each row's stop is the next row's start (video_mnist.py)."""
    ends = sample_noise(rows + 1, z_dim, kind, generator, generator.device)  # (R + 1, z_dim)
    return ends[:-1], ends[1:]
