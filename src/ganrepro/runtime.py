"""Device choice, RNG streams and torch settings shared by the training and sampling stages."""

from __future__ import annotations

import os

import torch

# Offsets of the independent RNG streams derived from base.seed (one seed is the only knob).
STREAMS = {"init": 0, "shuffle": 1, "noise": 2, "dropout": 3, "valid_noise": 4}


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from ganrepro.io import StageError

        raise StageError("base.device is 'cuda' but torch sees no CUDA device")
    return torch.device(name)


def configure_torch(deterministic: bool) -> None:
    """Flush subnormals (a 6x CPU slowdown otherwise, same numbers) and set determinism."""
    torch.set_flush_denormal(True)
    torch.backends.cudnn.benchmark = False
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)


def stream(
    seed: int, name: str, device: torch.device | str = "cpu", phase: int = 0
) -> torch.Generator:
    """An independent torch.Generator for one purpose (see STREAMS) of one training phase."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed * 1000 + 100 * phase + STREAMS[name])
    return gen
