"""Generators and discriminators of the paper's experiments."""

from ganrepro.models.mlp import (
    Discriminator,
    Generator,
    Maxout,
    build_pair,
    count_parameters,
    marginal_logit,
    sample_noise,
)

__all__ = [
    "Discriminator",
    "Generator",
    "Maxout",
    "build_pair",
    "count_parameters",
    "marginal_logit",
    "sample_noise",
]
