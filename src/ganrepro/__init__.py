"""ganrepro: a reproduction of Goodfellow et al. (2014), "Generative Adversarial Nets".

The library knows nothing about DVC; `stages/` are the thin pipeline entry points.
"""

__version__ = "0.1.0"
