"""Demo data generator: a deterministic, numpy-vectorized landing zone for every feed."""

from .generator import generate

__all__ = ["generate"]
