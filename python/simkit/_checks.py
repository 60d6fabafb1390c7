"""Argument checks shared by the Python API. Each error names the argument and its limits, and is
raised before the engine is called (pybind11 would answer an out-of-range int with an
"incompatible function arguments" dump, and casts would truncate floats)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high] (no upper limit when ``high`` is None); bools are not ints."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be at most {high}, got {value}")
    return int(value)


def check_number(name: str, value: Any) -> float:
    """``value`` as a float, for env parameters (the engine checks the range each parameter takes)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got {value}") from None


def check_float(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
                low_open: bool = False) -> float:
    """``value`` as a finite float in [low, high], or (low, high] when ``low_open``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not (math.isfinite(v) and (v > low if low_open else v >= low) and v <= high):
        lower = f"{'>' if low_open else '>='} {low:g}"
        bounds = lower if high == math.inf else f"{lower} and <= {high:g}"
        raise ValueError(f"{name} must be a finite number {bounds}, got {value}")
    return v


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value
