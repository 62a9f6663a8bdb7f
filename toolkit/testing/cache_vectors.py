"""Unit vectors at exact cosine distances from QUERY, for the cache store tests."""

from __future__ import annotations

import math

import numpy as np

DIM = 384


def at_distance(distance: float, axis: int = 1, dim: int = DIM) -> np.ndarray:
    """A unit vector at cosine distance `distance` from QUERY (e0), in the e0/e_axis plane."""
    cos = 1.0 - distance
    v = np.zeros(dim, dtype=np.float64)
    v[0] = cos
    v[axis] = math.sqrt(max(0.0, 1.0 - cos * cos))
    return v.astype(np.float32)


QUERY = at_distance(0.0)
