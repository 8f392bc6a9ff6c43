"""Argument checks shared by every emtlib module, so that a bad argument is reported the same way
wherever it enters: a ``TypeError`` for a value of the wrong type, a ``ValueError`` for a value of
the right type outside its range, each naming the argument and what was expected.

This module imports no other emtlib module.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["array", "boolean", "choice", "integer", "matrix", "real"]


def _got(value) -> str:
    return f"got {value!r} ({type(value).__name__})"


def _range(minimum, maximum, strict_min: bool = False) -> str:
    low = "" if minimum is None else f"{'>' if strict_min else '>='} {minimum}"
    high = "" if maximum is None else f"<= {maximum}"
    return " and ".join(part for part in (low, high) if part)


def integer(value, name: str, minimum: int | None = 0, maximum: int | None = None) -> int:
    """``value`` as a Python int: a Python or numpy integer (not a bool) in ``[minimum, maximum]``
    (``None``: unbounded on that side)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, {_got(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {_range(minimum, maximum)}, got {value}")
    return value


def real(
    value,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """``value`` as a finite Python float: a Python or numpy real number (not a bool) in
    ``[minimum, maximum]``, or ``(minimum, maximum]`` with ``strict_min``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, {_got(value)}")
    value = float(value)
    low_ok = minimum is None or (value > minimum if strict_min else value >= minimum)
    if not math.isfinite(value) or not low_ok or (maximum is not None and value > maximum):
        bounds = _range(minimum, maximum, strict_min)
        raise ValueError(
            f"{name} must be a finite real number{' ' + bounds if bounds else ''}, got {value}"
        )
    return value


def boolean(value, name: str) -> bool:
    """``value`` itself when it is ``True`` or ``False`` (numpy bools too); anything else is a
    TypeError (a string such as ``"no"`` is not a truth value)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, {_got(value)}")
    return bool(value)


def choice(value, name: str, options):
    """``value`` when it is one of ``options`` (a ValueError listing them otherwise)."""
    if not isinstance(value, str) and any(isinstance(o, str) for o in options):
        raise TypeError(f"{name} must be one of {list(options)}, {_got(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def matrix(value, name: str, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a finite 2-D float64 numpy array (of ``shape`` when given); numpy arrays, torch
    tensors and nested lists of numbers are accepted."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        value = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array: {err}") from None
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {value.shape}")
    if shape is not None and value.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return value


def array(value, name: str) -> np.ndarray:
    """``value`` (a numpy array, torch tensor, list or tuple of numbers) as a float64 numpy array."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    if not isinstance(value, (np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(value).__name__}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must hold real numbers: {err}") from None
