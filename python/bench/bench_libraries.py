"""simscope.score against rsatoolbox and the NumPy textbook formulas, side by side in one run.

Each row times one score of a fresh pair (X, Y), as a user calls it: simscope prepares X
(centring, thin SVD) inside every call; the formulas below compute only what their measure
needs. Every value is checked against simscope's before it is timed. Run in a throwaway venv
(not the test venv):

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install numpy scipy rsatoolbox threadpoolctl ./python
    /tmp/bench-venv/bin/python python/bench/bench_libraries.py

netrep (Williams et al.'s shape metrics) is not on PyPI, so it is not timed here.
"""

from __future__ import annotations

import datetime
import platform
import sys
import time
from importlib.metadata import version

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import simscope


def centre(a):
    return a - a.mean(axis=0)


def cka(X, Y):
    Xc, Yc = centre(X), centre(Y)
    return np.linalg.norm(Xc.T @ Yc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))


def nbs(X, Y):
    Xc, Yc = centre(X), centre(Y)
    return np.linalg.svd(Xc.T @ Yc, compute_uv=False).sum() / (np.linalg.norm(Xc) * np.linalg.norm(Yc))


def procrustes_angular(X, Y):
    return 1 - 2 / np.pi * np.arccos(min(nbs(X, Y), 1.0))


def linreg(X, Y):
    Xc, Yc = centre(X), centre(Y)
    Q, _ = np.linalg.qr(Yc)
    return np.linalg.norm(Q.T @ Xc) ** 2 / np.linalg.norm(Xc) ** 2


def rsa_numpy(X, Y):
    def rdm(a):
        return 1 - np.corrcoef(a)[np.triu_indices(a.shape[0], 1)]

    return np.corrcoef(rdm(X), rdm(Y))[0, 1]


def rsa_rsatoolbox(X, Y):
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm, compare

    a = calc_rdm(Dataset(X), method="correlation")
    b = calc_rdm(Dataset(Y), method="correlation")
    return float(compare(a, b, method="corr")[0, 0])


IMPLEMENTATIONS = {
    "cka": [("numpy", cka)],
    "nbs": [("numpy", nbs)],
    "procrustes-angular-score": [("numpy", procrustes_angular)],
    "linreg": [("numpy", linreg)],
    "rsa-correlation-pearson": [("numpy", rsa_numpy), ("rsatoolbox", rsa_rsatoolbox)],
}


def best_ms(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def main():
    sizes = [(1080, 200), (2000, 500)]
    repeats = 5
    print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, Python {sys.version.split()[0]}")
    print(f"versions: simscope {simscope.__version__}, numpy {np.__version__}, rsatoolbox {version('rsatoolbox')}")
    print("BLAS:", ", ".join(f"{p['internal_api']} {p.get('version')} ({p['num_threads']} threads)" for p in threadpool_info()))
    print(f"best of {repeats}; simscope is single-threaded; 'numpy 1t' limits BLAS to one thread")
    print()
    print(f"{'measure':<26} {'n×p':>9} {'simscope ms':>12} {'other':<11} {'other ms':>9} {'1t ms':>8} {'ratio':>7} {'ratio 1t':>8}")
    for n, p in sizes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, p))
        Y = X @ rng.standard_normal((p, p)) * 0.1 + rng.standard_normal((n, p))
        for m, impls in IMPLEMENTATIONS.items():
            ours = simscope.score(X, Y, m)
            t_ours = best_ms(lambda: simscope.score(X, Y, m), repeats)
            for name, f in impls:
                theirs = f(X, Y)
                assert abs(theirs - ours) <= 1e-9 * max(1.0, abs(ours)), (m, name, theirs, ours)
                t = best_ms(lambda: f(X, Y), repeats)
                with threadpool_limits(1):
                    t1 = best_ms(lambda: f(X, Y), repeats)
                print(f"{m:<26} {f'{n}×{p}':>9} {t_ours:>12.1f} {name:<11} {t:>9.1f} {t1:>8.1f} {t / t_ours:>6.2f}× {t1 / t_ours:>7.2f}×")
        every = list(IMPLEMENTATIONS)
        t_all = best_ms(lambda: simscope.scores(X, Y, every), repeats)
        t_np = best_ms(lambda: [impls[0][1](X, Y) for impls in IMPLEMENTATIONS.values()], repeats)
        print(f"{'all five (scores())':<26} {f'{n}×{p}':>9} {t_all:>12.1f} {'numpy':<11} {t_np:>9.1f} {'':>8} {t_np / t_all:>6.2f}×")
    print("\nratio = other's time / simscope's (above 1: simscope faster)")


if __name__ == "__main__":
    main()
