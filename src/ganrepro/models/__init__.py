"""Generators and discriminators of the paper's experiments."""

from ganrepro.models.layers import ConvMaxout, Deconv, Maxout, output_shape
from ganrepro.models.nets import (
    Discriminator,
    Generator,
    build_pair,
    constrain,
    count_parameters,
    generator_out_dim,
    marginal_logit,
    sample_noise,
)

__all__ = [
    "ConvMaxout",
    "Deconv",
    "Discriminator",
    "Generator",
    "Maxout",
    "build_pair",
    "constrain",
    "count_parameters",
    "generator_out_dim",
    "marginal_logit",
    "output_shape",
    "sample_noise",
]
