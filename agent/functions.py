"""neat-python's activation and aggregation functions as integer ids and Numba code.

Kernels cannot call Python callables, so every function neat-python ships gets an
id here and a branch in `activate` / `aggregate`, written to give the same numbers
as `neat.activations` and `neat.aggregations` (same clamps, same formulas, same
order of operations; exp, tanh, log and sin are `tilerunner.agent.exact_math`'s, within an ulp
or two of Python's and the same bits on the CPU and on a GPU). A network naming anything else is
rejected at load time by `check_supported`, with the name and the supported list.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.agent import exact_math as xm

ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "sin",
    "gauss",
    "relu",
    "elu",
    "lelu",
    "selu",
    "softplus",
    "identity",
    "clamped",
    "inv",
    "log",
    "exp",
    "abs",
    "hat",
    "square",
    "cube",
)
AGGREGATIONS = ("sum", "product", "max", "min", "maxabs", "median", "mean")
ACTIVATION_ID = {name: i for i, name in enumerate(ACTIVATIONS)}
AGGREGATION_ID = {name: i for i, name in enumerate(AGGREGATIONS)}

(
    SIGMOID,
    TANH,
    SIN,
    GAUSS,
    RELU,
    ELU,
    LELU,
    SELU,
    SOFTPLUS,
    IDENTITY,
    CLAMPED,
    INV,
    LOG,
    EXP,
    ABS,
    HAT,
    SQUARE,
    CUBE,
) = range(len(ACTIVATIONS))
SUM, PRODUCT, MAX, MIN, MAXABS, MEDIAN, MEAN = range(len(AGGREGATIONS))

_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


class UnsupportedFunctionError(ValueError):
    """A neat config names an activation or aggregation function the Numba kernels do not have."""


def check_supported(kind: str, names) -> None:
    """Raise `UnsupportedFunctionError` unless every name is a supported `kind` ('activation'/'aggregation')."""
    known = ACTIVATIONS if kind == "activation" else AGGREGATIONS
    for name in names:
        if name not in known:
            raise UnsupportedFunctionError(
                f"{kind} function {name!r} is not supported by tilerunner's Numba networks;"
                f" supported: {', '.join(known)}"
            )


@njit(cache=True, inline="always")
def _clamp(z: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, z))


@njit(cache=True)
def activate(fn: int, z: float) -> float:
    """Apply activation `fn` to `z`, exactly as neat-python's function of that name."""
    if fn == SIGMOID:
        return 1.0 / (1.0 + xm.exp(-_clamp(5.0 * z, -60.0, 60.0)))
    if fn == TANH:
        return xm.tanh(_clamp(2.5 * z, -60.0, 60.0))
    if fn == SIN:
        return xm.sin(_clamp(5.0 * z, -60.0, 60.0))
    if fn == GAUSS:
        z = _clamp(z, -3.4, 3.4)
        return xm.exp(-5.0 * (z * z))
    if fn == RELU:
        return z if z > 0.0 else 0.0
    if fn == ELU:
        return z if z > 0.0 else xm.exp(z) - 1
    if fn == LELU:
        return z if z > 0.0 else 0.005 * z
    if fn == SELU:
        return _SELU_LAMBDA * z if z > 0.0 else _SELU_LAMBDA * _SELU_ALPHA * (xm.exp(z) - 1)
    if fn == SOFTPLUS:
        return 0.2 * xm.log(1 + xm.exp(_clamp(5.0 * z, -60.0, 60.0)))
    if fn == IDENTITY:
        return z
    if fn == CLAMPED:
        return _clamp(z, -1.0, 1.0)
    if fn == INV:
        return 0.0 if z == 0.0 else 1.0 / z
    if fn == LOG:
        return xm.log(max(1e-7, z))
    if fn == EXP:
        return xm.exp(_clamp(z, -60.0, 60.0))
    if fn == ABS:
        return abs(z)
    if fn == HAT:
        return max(0.0, 1 - abs(z))
    if fn == SQUARE:
        return z * z
    return z * z * z  # CUBE


@njit(cache=True)
def aggregate(fn: int, terms: np.ndarray, n: int) -> float:
    """Aggregate the first `n` (>= 1) entries of `terms` as neat-python's function `fn` does.

    `terms` may be reordered (median sorts it in place).
    """
    if fn == SUM or fn == MEAN:
        s = 0.0
        for k in range(n):
            s += terms[k]
        return s if fn == SUM else s / n
    if fn == PRODUCT:
        p = 1.0
        for k in range(n):
            p *= terms[k]
        return p
    if fn == MAX:
        m = terms[0]
        for k in range(1, n):
            if terms[k] > m:
                m = terms[k]
        return m
    if fn == MIN:
        m = terms[0]
        for k in range(1, n):
            if terms[k] < m:
                m = terms[k]
        return m
    if fn == MAXABS:
        # Python's max(key=abs) keeps the first of equal keys.
        m = terms[0]
        for k in range(1, n):
            if abs(terms[k]) > abs(m):
                m = terms[k]
        return m
    # MEDIAN: neat's median2 -- the mean of one or two values, else the middle (or middle pair).
    if n <= 2:
        s = 0.0
        for k in range(n):
            s += terms[k]
        return s / n
    _sort(terms, n)
    if n % 2 == 1:
        return terms[n // 2]
    return (terms[n // 2 - 1] + terms[n // 2]) / 2.0


@njit(cache=True)
def _sort(terms: np.ndarray, n: int) -> None:
    """Sort terms[:n] in place, NaN last, as NumPy's sort orders them (insertion sort: no allocation, so
    that GPU threads can run it too; a node has few inputs)."""
    for i in range(1, n):
        t = terms[i]
        j = i - 1
        while j >= 0 and (terms[j] > t or (terms[j] != terms[j] and t == t)):
            terms[j + 1] = terms[j]
            j -= 1
        terms[j + 1] = t
