"""compare, compare_pair and compare_many: equal to simscope compare; serial and on a Dask cluster
of 2 worker processes, identical results."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest

import simscope

MEASURES = ["cka", "nbs", "procrustes-angular-score", "linreg", "rsa-correlation-pearson", "ensd"]
# Small resamplings and no calibration runs: the statistics are tested in the core; here the
# faces must agree.
FAST = {"bootstrap": 20, "permutations": 20, "calibrate": False}


def _models(X, k=8):
    rng = np.random.default_rng(17)
    n = X.shape[0]
    models = {}
    for i in range(k):
        W = rng.standard_normal((X.shape[1], 5 + i))
        noise = rng.standard_normal((n, 5 + i))
        models[f"layer{i}"] = X @ W * (i / k) + noise  # from unrelated to X-like
    return models


def test_compare_equals_simscope_compare(cli, tmp_path):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 6))
    Y = X @ rng.standard_normal((6, 5)) + rng.standard_normal((40, 5))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    ref = cli("compare", tmp_path / "X.npy", tmp_path / "Y.npy", "--measure", "cka", "--measure", "nbs",
              "--bootstrap", "50", "--permutations", "50", "--seed", "3", "--no-calibrate").json
    got = simscope.compare(X, {"Y": Y}, measures=["cka", "nbs"], bootstrap=50, permutations=50, seed=3,
                           calibrate=False, threads=1)
    assert got == ref, "the whole document, to the bit"
    for m in ("cka", "nbs"):
        assert ref["models"][0]["scores"][m]["value"] == simscope.score(X, Y, m)
    assert set(got["models"][0]["scores"]["cka"]) >= {"value", "ci_low", "ci_high", "null_mean", "null_p95", "p_value"}


def test_compare_refuses_a_model_on_other_conditions_with_the_cli_message(cli, tmp_path):
    X = np.random.default_rng(1).standard_normal((40, 6))
    Y = np.random.default_rng(2).standard_normal((39, 6))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    ref = cli("compare", tmp_path / "X.npy", tmp_path / "Y.npy", "--no-calibrate", check=False)
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.compare(X, {"Y": Y}, calibrate=False)
    assert ref.returncode == 2 and f"error: {e.value}" in ref.stderr


def test_serial_is_the_per_pair_compare():
    rec = simscope.load("golub2018")
    models = _models(rec.X, 3)
    got = simscope.compare_many(rec, models, MEASURES, **FAST)
    assert list(got) == list(models)
    for name, Y in models.items():
        assert got[name]["name"] == name
        values = {m: s["value"] for m, s in got[name]["scores"].items()}
        assert values == simscope.scores(rec, Y, MEASURES), "the values are simscope score's"
        assert {k: v for k, v in got[name].items() if k != "name"} == \
            {k: v for k, v in simscope.compare_pair(rec, Y, MEASURES, **FAST).items() if k != "name"}


def test_dask_local_cluster_equals_serial():
    distributed = pytest.importorskip("distributed")
    rec = simscope.load("golub2018")
    models = _models(rec.X, 8)
    serial = simscope.compare_many(rec, models, MEASURES, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's own start-up notices
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, distributed.Client(cluster) as client:
            on_dask = simscope.compare_many(rec, models, MEASURES, client=client, **FAST)
            workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2, "two worker processes"
    assert on_dask == serial
    assert list(on_dask) == list(models)


def test_the_gil_is_released_while_the_core_computes():
    """While one thread scores a large pair, another thread keeps running Python: with the GIL
    held for the whole call it could not run a single iteration until the call returned."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((1200, 250)), rng.standard_normal((1200, 250))
    done = threading.Event()
    ticks_during = []

    def work():
        simscope.scores(X, Y, ["nbs", "procrustes-angular-score", "cca-angular-score", "linreg"] * 1)
        done.set()

    t = threading.Thread(target=work)
    ticks = 0
    t.start()
    time.sleep(0.01)
    while not done.is_set():
        ticks += 1
        time.sleep(0)
    ticks_during.append(ticks)
    t.join()
    assert ticks_during[0] > 50, f"the main thread ran {ticks_during[0]} times during the call"
