"""Named, independent random streams derived from one seed.

Every component draws from its own stream (``stream(seed, "sendgrid", mailing_id)``), so the
output is the same bytes for the same seed, and changing one component does not shift the
random numbers of the others.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *keys: object) -> np.random.Generator:
    """A numpy Generator for ``seed`` and a path of names (strings or ints)."""
    seed = int(seed)
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    words += [zlib.crc32(str(k).encode("utf-8")) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


def bernoulli(rng: np.random.Generator, p: float | np.ndarray, n: int) -> np.ndarray:
    """``n`` booleans, each true with probability ``p`` (scalar or per-row array)."""
    return rng.random(n) < p


def choice_idx(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with the given (unnormalized) weights, via a CDF search."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
