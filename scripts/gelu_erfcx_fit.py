#!/usr/bin/python3
"""Fit the polynomial R of the erf GELU kernels (pkg/engine/kernels/gelu.go).

  scripts/gelu_erfcx_fit.py [--degree 9]

R(t) approximates erfcx(a/√2) = exp(a²/2)·erfc(a/√2) for a ∈ [0, 14] as a
polynomial in t = k/(k + a), k = float32(2√2) (the kernels' constant, so the
fit is of the mapping they compute). The fit minimises the largest relative
error (Lawson's iteratively reweighted least squares on Chebyshev nodes in
t), then rounds the coefficients to float32 from the top down, refitting the
lower ones after each rounding so they absorb its error.

Prints the fit's error before and after rounding and each coefficient as
float32 bits (internal/gen's geluConst) and as a Go literal (gelu.go).
Needs only NumPy; erfcx comes from math.erfc in float64 (relative error
~1e-15 where it matters, far below the fit's ~3e-8).
"""

import argparse
import math

import numpy as np


def erfcx(z):
    return np.array([math.erfc(v) * math.exp(v * v) for v in z])


def lawson(t, y, degree, fixed, iters=400):
    """Relative minimax fit of y by sum c_i t^i, c_i given for i in fixed."""
    vander = np.vander(t, degree + 1, increasing=True)
    free = [i for i in range(degree + 1) if i not in fixed]
    rhs = y - sum(c * t**i for i, c in fixed.items())
    w = np.full(len(t), 1 / len(t))
    for _ in range(iters):
        sw = np.sqrt(w) / np.abs(y)
        sol, *_ = np.linalg.lstsq(vander[:, free] * sw[:, None], sw * rhs, rcond=None)
        coef = np.zeros(degree + 1)
        coef[free] = sol
        for i, c in fixed.items():
            coef[i] = c
        err = (vander @ coef - y) / y
        w = w * np.abs(err) + 1e-300
        w /= w.sum()
    return coef, np.max(np.abs(err))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--degree", type=int, default=9)
    args = ap.parse_args()
    k = float(np.float32(2 * math.sqrt(2)))
    tmin = k / (k + 14)
    nodes = np.cos(np.pi * (np.arange(4000) + 0.5) / 4000)
    t = np.sort(tmin + (1 - tmin) * (nodes + 1) / 2)
    y = erfcx((k / t - k) / math.sqrt(2))
    _, err = lawson(t, y, args.degree, {})
    print(f"float64 coefficients: relative error {err:.3g}")
    fixed = {}
    for i in range(args.degree, -1, -1):
        coef, _ = lawson(t, y, args.degree, fixed)
        fixed[i] = float(np.float32(coef[i]))
    coef = np.array([fixed[i] for i in range(args.degree + 1)])
    vander = np.vander(t, args.degree + 1, increasing=True)
    print(f"float32 coefficients: relative error {np.max(np.abs((vander @ coef - y) / y)):.3g}")
    for i in range(args.degree, -1, -1):
        c = np.float32(coef[i])
        print(f"r{i} 0x{c.view(np.uint32):08x} {c:.9g}")


if __name__ == "__main__":
    main()
