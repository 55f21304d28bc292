#!/usr/bin/env python3
"""`simscope score` against the numpy textbook formula, side by side in one run (issue 16).

Both commands read the same two .npy files from disk and print one score; they run in turn
(A B A B …) so that a drift of the machine's speed hits both. Prints the machine, the command,
the date, the median wall time of each and the median of the pairwise ratios.

    .venv-python/bin/python scripts/bench-score.py [--n 2000] [--p 500] [--runs 5]
"""
import argparse, datetime, os, platform, statistics, subprocess, sys, tempfile, time

import numpy as np

TEXTBOOK = r'''
import sys, numpy as np
x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
x = x - x.mean(0); y = y - y.mean(0)
if sys.argv[3] == "cka":
    s = np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))
else:  # nbs: the nuclear norm of Xᵀ Y over ‖X‖‖Y‖
    s = np.linalg.svd(x.T @ y, compute_uv=False).sum() / (np.linalg.norm(x) * np.linalg.norm(y))
print(s)
'''


def wall(cmd):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--p", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--simscope", default="target/release/simscope")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp()
    x = rng.standard_normal((a.n, a.p)) @ np.diag(np.linspace(3, 0.1, a.p))
    y = x @ rng.standard_normal((a.p, a.p)) + rng.standard_normal((a.n, a.p))
    xf, yf, tb = (os.path.join(tmp, f) for f in ("x.npy", "y.npy", "textbook.py"))
    np.save(xf, x); np.save(yf, y)
    open(tb, "w").write(TEXTBOOK)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"numpy {np.__version__}; X, Y {a.n}×{a.p} f64; {a.runs} runs each after a warm-up")
    for m in ("cka", "nbs"):
        ours = [a.simscope, "score", xf, yf, "--measure", m]
        numpy = [sys.executable, tb, xf, yf, m]
        wall(ours); wall(numpy)
        t_ours, t_np, ratios = [], [], []
        for _ in range(a.runs):
            to, out_o = wall(ours)
            tn, out_n = wall(numpy)
            t_ours.append(to); t_np.append(tn); ratios.append(to / tn)
        print(f"{m}: simscope {statistics.median(t_ours)*1e3:.0f} ms, numpy {statistics.median(t_np)*1e3:.0f} ms, "
              f"ratio simscope/numpy {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
              f"simscope printed {out_o.strip()[:80]!r}, numpy {float(out_n):.12f}")


if __name__ == "__main__":
    main()
