"""Fit the float32 tanh approximation used by seqforecast.cells.activations.

``tanh(x) ~ x P(x^2) / Q(x^2)`` on ``|x| <= 9`` (``tanh(9)`` rounds to 1 in
float32), ``P`` of degree 6 and ``Q`` of degree 3 with ``Q(0) = 1``, fitted by
iteratively reweighted linear least squares on the relative error
(Sanathanan-Koerner with Lawson-style weights towards minimax).  Prints the
coefficients and the largest error of the float32 evaluation on [-12, 12].

    python benchmarks/fit_tanh.py
"""
import argparse

import numpy as np

CLAMP = 9.0
N_P, N_Q = 7, 4


def fit():
    x = np.concatenate([np.linspace(1e-4, 1, 3000), np.linspace(1, CLAMP, 6000)])
    t, u = np.tanh(x), (x / CLAMP) ** 2  # u in [0, 1] for conditioning
    weights, best = np.ones_like(x), None
    for _ in range(60):
        a = np.hstack([x[:, None] * u[:, None] ** np.arange(N_P),
                       -t[:, None] * u[:, None] ** np.arange(1, N_Q)])
        w = weights / t
        coef, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
        p, q = coef[:N_P], np.concatenate([[1.0], coef[N_P:]])
        q_u = np.polyval(q[::-1], u)
        rel = np.abs(x * np.polyval(p[::-1], u) / q_u - t) / t
        if best is None or rel.max() < best[0]:
            best = (rel.max(), p, q)
        weights = (1 + 50 * rel / rel.max()) / np.abs(q_u)
    _, p, q = best
    scale = CLAMP ** (2 * np.arange(max(N_P, N_Q)))
    return p / scale[:N_P], q / scale[:N_Q]  # coefficients of powers of x^2


def evaluate_float32(p, q, x):
    x = np.clip(x.astype(np.float32), -CLAMP, CLAMP)
    s = x * x
    num, den = np.float32(0), np.float32(0)
    for c in p[::-1]:
        num = num * s + np.float32(c)
    for c in q[::-1]:
        den = den * s + np.float32(c)
    return x * num / den


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help
    p, q = fit()
    grid = np.linspace(-12, 12, 2_000_001)
    err = np.abs(evaluate_float32(p, q, grid) - np.tanh(grid)).max()
    print("P:", ", ".join(repr(float(c)) for c in p))
    print("Q:", ", ".join(repr(float(c)) for c in q))
    print(f"largest float32 error on [-12, 12]: {err:.2g}")
