"""The walk-through of docs/python.md, as one script (its printed output is pasted there).

Scores a toy model's layers against the built-in monkey M1 recording (hatsopoulos2007),
compares the measures, places the scores on the recording's calibration and runs the same
sweep on a local Dask cluster. The "model" is synthetic: each layer is a random linear read-out
of the recording plus noise that shrinks with depth, so later layers carry more of X.
"""

import warnings

import numpy as np

import simscope

warnings.simplefilter("ignore", simscope.SimscopeWarning)


def main():
    # 1. A built-in recording: 10 time bins × 8 reach directions × 141 units, with its labels.
    rec = simscope.load("hatsopoulos2007")
    print(rec.name, rec.shape, {k: v.classes for k, v in rec.labels.items()})

    # 2. A model's layers: same conditions (10 × 8), any width.
    rng = np.random.default_rng(0)
    T, C, N = rec.shape
    layers = {}
    for depth, width in enumerate([64, 128, 128, 256], start=1):
        W = rng.standard_normal((N, width)) / np.sqrt(N)
        noise = rng.standard_normal((T, C, width)) * rec.X.std() * (3.0 / depth)
        layers[f"layer{depth}"] = rec.X @ W + noise

    # 3. Score every layer with the paper's headline measures.
    measures = ["cka", "nbs", "procrustes-angular-score", "linreg", "rsa-correlation-pearson"]
    table = {name: simscope.scores(rec, Y, measures) for name, Y in layers.items()}
    print(f"{'':8}" + "".join(f"{m[:16]:>18}" for m in measures))
    for name, row in table.items():
        print(f"{name:8}" + "".join(f"{row[m]:>18.4f}" for m in measures))

    # 4. One score with its gradient (∂s/∂Y has Y's shape).
    s, g = simscope.score_and_grad(rec, layers["layer1"], "cka")
    print("cka(layer1) =", round(s, 4), "gradient", g.shape)

    # 5. What do these numbers mean on this recording? The calibration optimises a synthetic Y
    #    from random starts and reports the score at which each quantity is reached.
    cal = simscope.calibrate(rec, ["cka", "procrustes-angular-score"], seeds=2)
    for r in cal["rows"]:
        label = r["quantity"] + (f" ({r['variable']})" if r["variable"] else "")
        print(f"{r['measure']:>26}  {label:<28} mean {r['mean']}  reached {r['reached']}/{r['seeds']}")

    # 6. The same sweep, one task per (recording, layer), on a local Dask cluster.
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        on_dask = simscope.compare_many(rec, layers, measures, client=client)
    print("Dask equals serial:", on_dask == {k: {"scores": v} for k, v in table.items()})


# Dask starts its workers as new processes, which import this file: keep the work in main().
if __name__ == "__main__":
    main()
