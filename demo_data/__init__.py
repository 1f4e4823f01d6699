"""Demo data generator: a deterministic, numpy-vectorized landing zone for every feed."""

from .generator import default_start, generate, landing_period

__all__ = ["default_start", "generate", "landing_period"]
