"""exp, expm1, tanh, log and sin that give the same bits on the CPU and on a CUDA GPU.

`math.exp` and friends compile to the platform's libm inside CPU Numba kernels and to
libdevice inside CUDA kernels, and the two differ in the last bit now and then, so a
network evaluated on the GPU would drift away from the same network on the CPU. The
functions here are ports of fdlibm written with nothing but IEEE-754 double `+ - * /`,
comparisons, `abs`, `math.floor`, `math.ldexp` / `math.frexp` (used only where they are
exact: scaling by a power of two that stays normal, reading an exponent), integer
arithmetic, exact float<->int conversions and powers of two built from their bits. Every
operation is correctly rounded by IEEE-754, so as long as the compiler fuses no multiply-add
(CPU Numba never contracts without fastmath; the CUDA build turns FMA contraction off) both
targets give identical results. They are `@njit` functions; a CUDA kernel calls them as device functions.

Where fdlibm reads or writes the words of a double (GET_HIGH_WORD, SET_HIGH_WORD, ...),
the port uses exactly equivalent comparisons against the double whose high word is the
threshold, `frexp` for exponents, and multiplies by powers of two (`_pow2`: the double
2**k written as bits, no libm call and no branch; exp and expm1 scale by it, an exact
multiplication, or for a subnormal result one rounding of the exact product), so nothing
depends on how a libm rounds inside `ldexp`.

Speed: the network kernels call `exp` (for sigmoid) at every node, so it is written for
their range: one formula for every k (fdlibm's k = 0 and k = +-1 branches compute the same
numbers) and scaling without branches. `exp_inline` is the same function copied into its
caller by Numba, for the kernels' hottest call site (a call costs them ~8%; copying it into
every caller would slow compilation). Both give the bits of fdlibm's exp (a test compares
them with stored reference bits).

Accuracy (fdlibm's bounds): each function is within 1 ulp of the true result (against a
long-double reference the tests measure at most ~0.87 ulp), and within 1 ulp of Python's
`math` (glibc) except tanh: fdlibm's (and glibc's) tanh, -t / (t + 2) with t = expm1(-2|x|),
is up to ~2.1 ulp off below |x| = 1, so `tanh` here evaluates |x| < 2 in double-double
(about 0.7 ulp) and can differ from `math.tanh` by 2 ulp.

`sin` reduces its argument with fdlibm's Cody-Waite reduction by a 3-part pi/2, accurate for
|x| <= 2**20 * pi/2 (about 1.647e6). fdlibm's Payne-Hanek reduction for larger |x| is not
ported: there the argument is first reduced exactly modulo the double nearest 2 pi, so the
result is deterministic and in [-1, 1] but not accurate (its error grows like |x| * 2.4e-16).

Special values follow IEEE and C99 (NaN in, NaN out; exp(-inf) = 0; overflow gives inf;
log(0) = -inf; log of a negative number is NaN; ...) and nothing ever raises.

The algorithms, coefficients and comments come from fdlibm 5.3 (e_exp.c, s_expm1.c,
s_tanh.c, e_log.c, s_sin.c, k_sin.c, k_cos.c, e_rem_pio2.c), whose notice reads:

    ====================================================
    Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.

    Developed at SunSoft, a Sun Microsystems, Inc. business.
    Permission to use, copy, modify, and distribute this
    software is freely granted, provided that this notice
    is preserved.
    ====================================================

(e_exp.c: Copyright (C) 2004 by Sun Microsystems, Inc., with the same permission.)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_jit = njit(cache=True, error_model="numpy")  # numpy error model: no ZeroDivisionError branches
_jit_inline = njit(cache=True, error_model="numpy", inline="always")  # copied into the caller by Numba

_INF = float("inf")
_NAN = float("nan")

# --- shared constants -------------------------------------------------------------------
_HUGE = 1.0e300
_TWOM1000 = 9.33263618503218878990e-302  # 2**-1000
_O_THRESHOLD = 7.09782712893383973096e02  # 0x40862E42 FEFA39EF
_U_THRESHOLD = -7.45133219101941108420e02  # 0xC0874910 D52D3051
_LN2_HI = 6.93147180369123816490e-01  # 0x3FE62E42 FEE00000
_LN2_LO = 1.90821492927058770002e-10  # 0x3DEA39EF 35793C76
_INVLN2 = 1.44269504088896338700e00  # 0x3FF71547 652B82FE

# High-word thresholds of fdlibm as doubles: "high word of |x| >= H" <=> |x| >= _hw(H).
_HW_40862E42 = 709.7822265625  # |x| >= 709.78...
_HW_3FD62E43 = 0.3465735912322998  # |x| > 0.5 ln2  <=>  |x| >= this
_HW_3FF0A2B2 = 1.0397205352783203  # |x| < 1.5 ln2
_HW_3E300000 = 3.725290298461914e-09  # 2**-28
_HW_4043687A = 38.81622314453125  # 56 ln2
_HW_3C900000 = 5.551115123125783e-17  # 2**-54
_HW_40360000 = 22.0
_HW_3C800000 = 2.7755575615628914e-17  # 2**-55
_HW_3FE921FC = 0.7853984832763672  # |x| <= pi/4 (high word <= 0x3FE921FB)
_HW_4002D97C = 2.3561935424804688  # 3 pi/4
_HW_3FF921FB = 1.570796012878418  # high word of pi/2
_HW_413921FC = 1647100.0  # 2**20 * pi/2, end of the medium-size reduction
_HW_3E400000 = 7.450580596923828e-09  # 2**-27
_HW_3FD33333 = 0.2999999523162842  # 0.3
_HW_3FE90001 = 0.7812504768371582  # |x| > 0.78125  <=>  |x| >= this

# exp polynomial
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08

# expm1 polynomial (scaled)
_Q1 = -3.33333333333331316428e-02
_Q2 = 1.58730158725481460165e-03
_Q3 = -7.93650757867487942473e-05
_Q4 = 4.00821782732936239552e-06
_Q5 = -2.01099218183624371326e-07

# log polynomial
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_TWO54 = 1.80143985094819840000e16  # 2**54
_TINY_NORMAL = 2.2250738585072014e-308  # 2**-1022
_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp splitting
# log's mantissa thresholds: "mantissa high 20 bits >= H" <=> 2*frexp mantissa >= 1 + H / 2**20
_M_6A09C = 1.0 + 0x6A09C / 2.0**20  # ~sqrt(2): above it, normalise to [sqrt(2)/2, 1)
_M_00001 = 1.0 + 0x00001 / 2.0**20  # |f| < 2**-20 below this ...
_M_FFFFE = 1.0 + 0xFFFFE / 2.0**20  # ... or at/above this
_M_6147A = 1.0 + 0x6147A / 2.0**20
_M_6B852 = 1.0 + 0x6B852 / 2.0**20

# sin / cos kernels
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11

# pi/2 reduction
_INVPIO2 = 6.36619772367581382433e-01  # 0x3FE45F30 6DC9C883
_PIO2_1 = 1.57079632673412561417e00  # first 33 bits of pi/2
_PIO2_1T = 6.07710050650619224932e-11  # pi/2 - _PIO2_1
_PIO2_2 = 6.07710050630396597660e-11  # second 33 bits of pi/2
_PIO2_2T = 2.02226624879595063154e-21  # pi/2 - (_PIO2_1 + _PIO2_2)
_PIO2_3 = 2.02226624871116645580e-21  # third 33 bits of pi/2
_PIO2_3T = 8.47842766036889956997e-32  # pi/2 - (_PIO2_1 + _PIO2_2 + _PIO2_3)
_TWO_PI = 6.283185307179586  # fl(2 pi)


@_jit
def _pow2(k: int) -> float:
    """2.0**k for -1022 <= k <= 1023, built from its bits (exact; no branch, no libm call)."""
    return np.int64((k + 1023) << 52).view(np.float64)


@_jit
def _scale(y: float, k: int) -> float:
    """y * 2**k for y in [0.5, 2) and -1075 <= k <= 1024, rounded once, as fdlibm does it."""
    if -1022 <= k <= 1023:  # one multiplication: exact, or (k = -1022) one rounding into the subnormals
        return y * _pow2(k)
    if k == 1024:
        return (y * _pow2(1023)) * 2.0  # may overflow to inf, by IEEE rounding
    return (y * _pow2(k + 1000)) * _TWOM1000  # exact, then one rounding into the subnormals


@_jit
def _reduce_ln2(x: float, ax: float) -> tuple[float, float, int]:
    """fdlibm's argument reduction for exp and expm1 (|x| > 0.5 ln2): x = k ln2 + (hi - lo), hi exact."""
    if ax < _HW_3FF0A2B2:  # |x| < 1.5 ln2
        if x > 0.0:
            return x - _LN2_HI, _LN2_LO, 1
        return x + _LN2_HI, -_LN2_LO, -1
    k = int(_INVLN2 * x + (0.5 if x > 0.0 else -0.5))
    t = float(k)
    return x - t * _LN2_HI, t * _LN2_LO, k  # t * ln2_hi is exact here


@_jit_inline
def exp_inline(x: float) -> float:
    """`exp`, copied into the caller by Numba (for the kernels' hottest call site; see the module's notes)."""
    if x != x:
        return x + x
    ax = abs(x)
    if ax >= _HW_40862E42:
        if ax == _INF:
            return x if x > 0.0 else 0.0
        if x > _O_THRESHOLD:
            return _INF
        if x < _U_THRESHOLD:
            return 0.0
    if ax < _HW_3E300000:  # |x| < 2**-28
        return 1.0 + x
    # argument reduction x = k ln2 + (hi - lo); for |x| <= 0.5 ln2 k = 0, hi = x, lo = 0
    k = int(_INVLN2 * x + (0.5 if x > 0.0 else -0.5)) if ax >= _HW_3FD62E43 else 0
    t = float(k)
    hi = x - t * _LN2_HI
    lo = t * _LN2_LO
    x = hi - lo
    t = x * x
    c = x - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi)
    return _scale(y, k)


@_jit
def exp(x: float) -> float:
    """e**x (fdlibm e_exp.c); inf for x > 709.78, 0 below -745.13, NaN for NaN."""
    return exp_inline(x)


@_jit
def expm1(x: float) -> float:
    """e**x - 1, accurate near 0 (fdlibm s_expm1.c); -1 for x -> -inf, inf on overflow."""
    if x != x:
        return x + x
    ax = abs(x)
    if ax >= _HW_4043687A:  # |x| >= 56 ln2
        if ax >= _HW_40862E42:  # |x| >= 709.78...
            if ax == _INF:
                return x if x > 0.0 else -1.0
            if x > _O_THRESHOLD:
                return _INF
        if x < 0.0:
            return -1.0  # x < -56 ln2
    # argument reduction
    k = 0
    c = 0.0
    if ax >= _HW_3FD62E43:  # |x| > 0.5 ln2
        hi, lo, k = _reduce_ln2(x, ax)
        x = hi - lo
        c = (hi - x) - lo
    elif ax < _HW_3C900000:  # |x| < 2**-54: expm1(x) = x
        return x
    # x is now in the primary range
    hfx = 0.5 * x
    hxs = x * hfx
    r1 = 1.0 + hxs * (_Q1 + hxs * (_Q2 + hxs * (_Q3 + hxs * (_Q4 + hxs * _Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)  # c is 0
    e = x * (e - c) - c
    e -= hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        if x < -0.25:
            return -2.0 * (e - (x + 0.5))
        return 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:  # suffices to return exp(x) - 1
        y = 1.0 - (e - x)
        if k == 1024:
            return (y * _pow2(1023)) * 2.0 - 1.0
        return y * _pow2(k) - 1.0  # exact scaling: k >= -57 here
    if k < 20:
        t = 1.0 - _pow2(-k)  # 1 - 2**-k, exact
        y = t - (e - x)
    else:
        t = _pow2(-k)  # 2**-k
        y = x - (e + t)
        y += 1.0
    return y * _pow2(k)  # exact


@_jit
def _two_sum(a: float, b: float) -> tuple[float, float]:
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@_jit
def _two_prod(a: float, b: float) -> tuple[float, float]:
    """(p, e) with p = fl(a * b) and p + e = a * b exactly (Dekker, Veltkamp split; no FMA needed)."""
    p = a * b
    ca = _SPLIT * a
    ahi = ca - (ca - a)
    alo = a - ahi
    cb = _SPLIT * b
    bhi = cb - (cb - b)
    blo = b - bhi
    e = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo
    return p, e


@_jit
def _tanh_mid(ax: float) -> float:
    """tanh(ax) for 2**-55 <= ax < 2, to about 0.7 ulp.

    fdlibm's -t / (t + 2) with t = expm1(-2 ax) loses up to ~2 ulp (t's rounding error is
    magnified where t and tanh lie in different binades), so this evaluates
    (1 - E) / (1 + E), E = exp(-2 ax) = 2**k (1 + p), in double-double: p = expm1(r) comes
    from fdlibm's expm1 kernel as an unrounded pair, and the quotient is rounded once.
    """
    u = 2.0 * ax
    k = 0
    c = 0.0
    if u >= _HW_3FD62E43:  # u > 0.5 ln2: reduce -u = -kk ln2 + r
        kk = int(_INVLN2 * u + 0.5)
        t = float(kk)
        hi = t * _LN2_HI - u  # exact
        lo = -t * _LN2_LO
        r = hi - lo
        c = (hi - r) - lo
        k = -kk
    else:
        r = -u
    # fdlibm expm1 kernel: expm1(r + c) = r - e, |r| <= 0.5 ln2
    hfx = 0.5 * r
    hxs = r * hfx
    r1 = 1.0 + hxs * (_Q1 + hxs * (_Q2 + hxs * (_Q3 + hxs * (_Q4 + hxs * _Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - r * t))
    e = r * (e - c) - c
    e -= hxs
    p_hi = r - e
    p_lo = (r - p_hi) - e
    sk = _pow2(k)  # 2**k, -6 <= k <= 0
    b = sk * p_hi  # exact
    b_lo = sk * p_lo
    n_hi, n_lo = _two_sum(1.0 - sk, -b)  # 1 - E; 1 - sk is exact
    n_lo -= b_lo
    d_hi, d_lo = _two_sum(1.0 + sk, b)  # 1 + E
    d_lo += b_lo
    q = n_hi / d_hi
    ph, pl = _two_prod(q, d_hi)
    rem = ((n_hi - ph) - pl + n_lo) - q * d_lo
    return q + rem / d_hi


@_jit
def tanh(x: float) -> float:
    """Hyperbolic tangent (fdlibm s_tanh.c, made more accurate below 2); +-1 for +-inf, NaN for NaN."""
    if x != x:
        return x + x
    ax = abs(x)
    if ax < _HW_40360000:  # |x| < 22
        if ax < _HW_3C800000:  # |x| < 2**-55: tanh(x) = x
            return x * (1.0 + x)
        if ax >= 2.0:
            t = expm1(2.0 * ax)
            z = 1.0 - 2.0 / (t + 2.0)
        else:
            z = _tanh_mid(ax)
    else:  # |x| >= 22 (inf included): +-1
        z = 1.0
    return z if x >= 0.0 else -z


@_jit
def log(x: float) -> float:
    """Natural logarithm (fdlibm e_log.c); -inf at 0, NaN below 0, inf at inf."""
    if x != x:
        return x + x
    if x <= 0.0:
        return -_INF if x == 0.0 else _NAN
    if x == _INF:
        return x
    k = 0
    if x < _TINY_NORMAL:  # subnormal: scale up exactly
        k = -54
        x *= _TWO54
    m, e = math.frexp(x)  # x = m * 2**e, m in [0.5, 1), both exact
    mant = 2.0 * m  # in [1, 2); fdlibm's hx is the top 20 bits of its fraction
    k += e - 1
    if mant >= _M_6A09C:  # normalise to [sqrt(2)/2, sqrt(2))
        x = m
        k += 1
    else:
        x = mant
    f = x - 1.0
    if mant < _M_00001 or mant >= _M_FFFFE:  # |f| < 2**-20
        if f == 0.0:
            if k == 0:
                return 0.0
            dk = float(k)
            return dk * _LN2_HI + dk * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - r
        dk = float(k)
        return dk * _LN2_HI - ((r - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    if mant >= _M_6147A and mant < _M_6B852:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)


@_jit
def _kernel_sin(x: float, y: float, iy: int) -> float:
    """sin(x + y) for |x| <= pi/4, y the tail of x, iy = 0 when y is 0 (fdlibm k_sin.c)."""
    if abs(x) < _HW_3E400000:  # |x| < 2**-27
        return x
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    if iy == 0:
        return x + v * (_S1 + z * r)
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


@_jit
def _kernel_cos(x: float, y: float) -> float:
    """cos(x + y) for |x| <= pi/4, y the tail of x (fdlibm 5.3 k_cos.c)."""
    ax = abs(x)
    if ax < _HW_3E400000:  # |x| < 2**-27
        return 1.0
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    if ax < _HW_3FD33333:  # |x| < 0.3
        return 1.0 - (0.5 * z - (z * r - x * y))
    if ax >= _HW_3FE90001:  # |x| > 0.78125
        qx = 0.28125
    else:  # |x| / 4 cut to the top 20 bits of its fraction (fdlibm zeroes the low word)
        m, e = math.frexp(0.25 * ax)
        qx = math.ldexp(math.floor(m * 2097152.0), e - 21)  # 2**21
    hz = 0.5 * z - qx
    a = 1.0 - qx
    return a - (hz - (z * r - x * y))


@_jit
def _mod_two_pi(t: float) -> float:
    """t mod fl(2 pi) for t >= 0, computed exactly by binary long division (one step per binade).

    Only used beyond 2**20 pi/2, where the Cody-Waite reduction gives up: the result keeps
    sin bounded and deterministic, but fl(2 pi) differs from 2 pi by ~2.4e-16, so for such t
    it is not the true remainder of t modulo 2 pi.
    """
    r = t
    e_c = math.frexp(_TWO_PI)[1]
    while r >= _TWO_PI:
        d = math.ldexp(_TWO_PI, math.frexp(r)[1] - e_c)  # fl(2 pi) scaled into r's binade, exact
        if d > r:
            d *= 0.5
        r -= d  # exact: d <= r < 2d
    return r


@_jit
def _rem_pio2(x: float) -> tuple[float, float, float]:
    """(n mod 4, y0, y1) with x = n pi/2 + y0 + y1, |y0| <= pi/4, for pi/4 < |x| < inf.

    fdlibm e_rem_pio2.c without the Payne-Hanek branch: accurate for |x| <= 2**20 pi/2;
    beyond that |x| is first reduced modulo fl(2 pi) (see `_mod_two_pi`), which is not accurate.
    """
    ax = abs(x)
    if ax < _HW_4002D97C:  # |x| < 3 pi/4: n = +-1
        near = ax >= _HW_3FF921FB and ax < 1.5707969665527344  # high word == pi/2's
        if x > 0.0:
            z = x - _PIO2_1
            if not near:  # 33+53 bit pi is good enough
                y0 = z - _PIO2_1T
                y1 = (z - y0) - _PIO2_1T
            else:  # near pi/2: use 33+33+53 bit pi
                z -= _PIO2_2
                y0 = z - _PIO2_2T
                y1 = (z - y0) - _PIO2_2T
            return 1.0, y0, y1
        z = x + _PIO2_1
        if not near:
            y0 = z + _PIO2_1T
            y1 = (z - y0) + _PIO2_1T
        else:
            z += _PIO2_2
            y0 = z + _PIO2_2T
            y1 = (z - y0) + _PIO2_2T
        return 3.0, y0, y1
    t = ax
    if t >= _HW_413921FC:  # huge: first t mod fl(2 pi), exactly (no Payne-Hanek here)
        t = _mod_two_pi(t)
    fn = math.floor(t * _INVPIO2 + 0.5)
    r = t - fn * _PIO2_1
    w = fn * _PIO2_1T  # 1st round good to 85 bits
    y0 = r - w
    # fdlibm compares the exponents of x and y0: a large drop means cancellation.
    ex = math.frexp(t)[1]
    ey = math.frexp(y0)[1] if y0 != 0.0 else -2000
    if ex - ey > 16:  # 2nd iteration needed, good to 118 bits
        t = r
        w = fn * _PIO2_2
        r = t - w
        w = fn * _PIO2_2T - ((t - r) - w)
        y0 = r - w
        ey = math.frexp(y0)[1] if y0 != 0.0 else -2000
        if ex - ey > 49:  # 3rd iteration needed, 151 bits
            t = r
            w = fn * _PIO2_3
            r = t - w
            w = fn * _PIO2_3T - ((t - r) - w)
            y0 = r - w
    y1 = (r - y0) - w
    q = fn - 4.0 * math.floor(fn * 0.25)  # n mod 4, exact
    if x < 0.0:
        return (4.0 - q if q != 0.0 else 0.0), -y0, -y1
    return q, y0, y1


@_jit
def sin(x: float) -> float:
    """Sine (fdlibm s_sin.c); within 1 ulp for |x| <= 2**20 pi/2 (~1.647e6), NaN for +-inf/NaN."""
    ax = abs(x)
    if ax < _HW_3FE921FC:  # |x| <= pi/4
        return _kernel_sin(x, 0.0, 0)
    if not ax < _INF:  # inf or NaN
        return x - x
    q, y0, y1 = _rem_pio2(x)
    if q == 0.0:
        return _kernel_sin(y0, y1, 1)
    if q == 1.0:
        return _kernel_cos(y0, y1)
    if q == 2.0:
        return -_kernel_sin(y0, y1, 1)
    return -_kernel_cos(y0, y1)
