"""Seeded analyses equal the CLI's `--out` files and JSON, to the bit."""

from __future__ import annotations

import csv
import json
import math
import warnings

import numpy as np
import pytest

import simscope
from conftest import REPO


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(rows, k, kind=float):
    return [kind(r[k]) if r[k] != "" else math.nan for r in rows]


def same(a, b) -> bool:
    """Equal to the bit, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", simscope.SimscopeWarning)
        yield


def test_calibrate_equals_the_cli_report(cli, tmp_path):
    args = ["calibrate", "toy2d", "--measure", "cka", "nbs", "--seeds", "2", "--steps", "300", "--out", tmp_path]
    ref = cli(*args).json
    got = simscope.calibrate("toy2d", ["cka", "nbs"], seeds=2, steps=300)
    assert got["rows"] == ref
    header, rows = read_csv(tmp_path / "report.csv")
    assert header[:3] == ["measure", "quantity", "variable"] and len(rows) == len(got["rows"])
    assert [r["mean"] for r in got["rows"]] == [float(r[5]) if r[5] else None for r in rows]
    evr = got["explained_variance_ratio"]
    assert evr.shape == (2,) and abs(evr.sum() - 1) < 1e-12


def test_calibrate_with_labels_from_a_file_or_a_dict(cli, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 12, 6))
    side = np.array([3, 1, 2] * 4)  # numbers: sorted into classes
    word = np.array(["up", "down"] * 6)  # text: order of appearance
    np.save(tmp_path / "X.npy", X)
    np.savez(tmp_path / "labels.npz", side=side, word=word)
    args = ["calibrate", tmp_path / "X.npy", "--labels", tmp_path / "labels.npz", "--measure", "cka",
            "--seeds", "1", "--steps", "60", "--decode-every", "7", "--out", tmp_path / "o"]
    ref = cli(*args).json
    from_file = simscope.calibrate(X, "cka", labels=tmp_path / "labels.npz", seeds=1, steps=60, decode_every=7)
    from_dict = simscope.calibrate(X, "cka", labels={"side": side, "word": word}, seeds=1, steps=60, decode_every=7)
    assert from_file["rows"] == ref == from_dict["rows"]
    assert any(r["quantity"] == "decodable" for r in ref)


def test_perturb_equals_the_cli(cli):
    ref = cli("perturb", "ultrametric", "--pc", "3", "--angle", "45", "--scale", "0.5", "--seed", "4").json
    got = simscope.perturb("ultrametric", 3, angle=45, scale=0.5, seed=4)
    assert got["measured"] == ref["measured"] and got["theory"] == ref["theory"]
    assert list(got["measured"]) == list(simscope.PERTURB_MEASURES)
    assert sorted(ref["measured"]) == sorted(simscope.PERTURB_MEASURES), "the CLI's default measures"
    assert got["exact"] and got["Y"].shape == (100, 50)
    rec = simscope.load("ultrametric")
    # `score` takes the measure's pair formula (no preparation of X), the perturb job the
    # prepared measure: equal to rounding, not to the bit.
    for m in ("cka", "nbs"):
        want = simscope.score(rec, got["Y"], m)
        assert abs(got["measured"][m] - want) <= 1e-13 * abs(want), (m, got["measured"][m], want)


def test_perturb_sweep_equals_the_cli_csv(cli, tmp_path):
    ids = ["cka", "procrustes-angular-score", "rsa-correlation-pearson"]
    cli("perturb", "hatsopoulos2007", "--sweep", "--max-pcs", "12", "--seed", "2", "--measure", *ids,
        "--out", tmp_path / "sweep.csv")
    got = simscope.perturb("hatsopoulos2007", sweep=True, max_pcs=12, seed=2, measures=ids)
    header, rows = read_csv(tmp_path / "sweep.csv")
    assert same(got["pc"], column(rows, 0, int)) and len(rows) == 12
    assert same(got["variance"], column(rows, 1)) and same(got["variance_ratio"], column(rows, 2))
    for j, i in enumerate(ids):
        assert same(got["measured"][i], column(rows, 3 + j)), i
        assert same(got["theory"][i], column(rows, 3 + len(ids) + j)), i
    assert np.isnan(got["theory"]["rsa-correlation-pearson"]).all()


def test_prune_equals_the_cli(cli, tmp_path):
    cli("prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--seed", "3", "--out", tmp_path)
    got = simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", seed=3)
    kept = json.loads((tmp_path / "kept.json").read_text())
    for k, v in kept.items():
        g = got[k]
        assert (g.tolist() if isinstance(g, np.ndarray) else g) == v, k
    header, rows = read_csv(tmp_path / "curve.csv")
    assert header == ["n_kept", "train_fit", "test_fit"]
    for j, k in enumerate(header):
        assert same(got["curve"][k], column(rows, j)), k
    assert set(got["kept"]) == set(got["planted"])


def test_prune_with_a_measure_fit_on_arrays(cli, tmp_path):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((24, 5))
    F = np.hstack([X[:, :3] + 0.1 * rng.standard_normal((24, 3)), rng.standard_normal((24, 4))])
    np.save(tmp_path / "F.npy", F)
    np.save(tmp_path / "X.npy", X)
    cli("prune", tmp_path / "F.npy", "--target", tmp_path / "X.npy", "--fit", "cka", "--folds", "3",
        "--method", "forward", "--out", tmp_path / "o")
    got = simscope.prune(F, target=X, fit="cka", folds=3, method="forward")
    kept = json.loads((tmp_path / "o" / "kept.json").read_text())
    assert got["kept"].tolist() == kept["kept"] and got["folds"] == kept["folds"]
    assert got["test_fit_pruned"] == kept["test_fit_pruned"]


def test_optimize_equals_the_cli_out_files(cli, tmp_path):
    args = ["optimize", "toy2d", "--measure", "procrustes-angular-score", "--watch", "cka", "nbs",
            "--seed", "5", "--steps", "120", "--stop", "none", "--snapshot-every", "50",
            "--decode-every", "20", "--pc-every", "3", "--out", tmp_path]
    ref = cli(*args).json
    got = simscope.optimize("toy2d", "procrustes-angular-score", watch=["cka", "nbs"], seed=5, steps=120,
                            stop=None, snapshot_every=50, decode_every=20, pc_every=3)
    assert (got["steps"], got["final_score"], got["stopped_by"]) == (ref["steps"], ref["final_score"], ref["stopped_by"])
    header, rows = read_csv(tmp_path / "trajectory.csv")
    assert header == ["step", "objective", "cka", "nbs"] == ["step"] + list(got["trajectory"])[1:]
    for j, k in enumerate(header):
        assert same(got["trajectory"][k], column(rows, j)), k
    header, rows = read_csv(tmp_path / "pc_r2.csv")
    assert same(got["pc_r2"]["step"], column(rows, 0)) and same(got["pc_r2"]["score"], column(rows, 1))
    assert same(got["pc_r2"]["r2"], np.array([column(rows, j) for j in range(2, len(header))]).T)
    header, rows = read_csv(tmp_path / "decoding.csv")
    for j, k in enumerate(header):
        assert same(got["decoding"][k], column(rows, j)), k
    header, rows = read_csv(tmp_path / "decoding_reference.csv")
    for r in rows:
        d = got["decoding_reference"][r[0]]
        assert [d["reference"], d["chance"], d["threshold"]] == [float(v) for v in r[1:4]]
    assert np.array_equal(got["Y"], np.load(tmp_path / "Y.npy"))
    assert sorted(got["snapshots"]) == [0, 50, 100]
    for step, y in got["snapshots"].items():
        assert np.array_equal(y, np.load(tmp_path / f"Y_step{step:06d}.npy"))


def test_optimize_from_a_model_equals_the_cli_and_starts_at_its_score(cli, tmp_path):
    model = REPO / "datasets" / "golub2018_after_counts.npy"
    ref = cli("optimize", "golub2018", "--y0", model, "--steps", "15", "--stop", "none", "--out", tmp_path).json
    got = simscope.optimize("golub2018", y0=np.load(model), steps=15, stop=None)
    assert (got["steps"], got["final_score"]) == (ref["steps"], ref["final_score"])
    assert np.array_equal(got["Y"], np.load(tmp_path / "Y.npy"))
    # Y₀ is the model: the first objective is the model's own score.
    # (`score` takes CKA's pair formula, the run the prepared measure: equal to rounding.)
    want = simscope.score("golub2018", np.load(model), "cka")
    assert abs(got["trajectory"]["objective"][0] - want) <= 1e-13 * want
    # A transposed model is refused with Compare's message, in both faces.
    with pytest.raises(ValueError, match="transpose"):
        simscope.optimize("golub2018", y0=np.load(model).T, steps=1)
    np.save(tmp_path / "t.npy", np.load(model).T)
    assert "transpose" in cli("optimize", "golub2018", "--y0", tmp_path / "t.npy", check=False).error


def test_optimize_defaults_are_the_clis(cli, tmp_path):
    run = cli("optimize", "hatsopoulos2007", "--out", tmp_path)
    ref = run.json
    # 80 samples, a Y of 141 columns: every PC's in-sample R² is 1, said in both faces.
    with pytest.warns(simscope.SimscopeWarning, match="trivially 1") as said:
        got = simscope.optimize("hatsopoulos2007")
    assert (got["steps"], got["final_score"], got["stopped_by"]) == (ref["steps"], ref["final_score"], ref["stopped_by"])
    assert np.array_equal(got["Y"], np.load(tmp_path / "Y.npy"))
    assert got["pc_r2_chance"] == 1.0 and np.all(np.asarray(got["pc_r2"]["r2"]) > 1 - 1e-9)
    cli_said = [w for w in run.warnings if "trivially 1" in w]
    py_said = [str(w.message) for w in said if "trivially 1" in str(w.message)]
    assert len(cli_said) == len(py_said) == 1 and cli_said[0].split(": ", 1)[1] in py_said[0]
    # golub2018 (552 × 86): a random Y's level is 86/551, and nothing to warn about.
    small = simscope.optimize("golub2018", steps=2, stop=None)
    assert small["pc_r2_chance"] == 86 / 551


def test_joint_equals_the_cli(cli, tmp_path):
    ref = cli("joint", "toy2d", "--a", "cka", "--b", "nbs", "--per-side", "3", "--steps", "25", "--seed", "2",
              "--out", tmp_path).json
    got = simscope.joint("toy2d", "cka", "nbs", per_side=3, steps=25, seed=2)
    assert got["targets"] == ref["targets"] == 8 and got["cka_nbs_bounds_hold"] == ref["cka_nbs_bounds_hold"]
    for name in ("boundary", "cka_nbs_bounds"):
        header, rows = read_csv(tmp_path / f"{name}.csv")
        for j, k in enumerate(header):
            assert same(got[name][k], column(rows, j)), (name, k)
    header, rows = read_csv(tmp_path / "trajectories.csv")
    for i, t in enumerate(got["trajectories"]):
        mine = [r for r in rows if r[0] == str(i)]
        assert same(t["step"], column(mine, 1)) and same(t["a"], column(mine, 2)) and same(t["b"], column(mine, 3))


def test_joint_defaults_are_the_clis(cli, tmp_path):
    ref = cli("joint", "toy2d", "--a", "nbs", "--b", "procrustes-angular-score", "--out", tmp_path).json
    got = simscope.joint("toy2d", "nbs", "procrustes-angular-score")
    assert got["targets"] == ref["targets"] and got["steps"] == ref["steps"]
    assert [[b["target"], b["final"]] for b in ref["boundary"]] == [
        [[ta, tb], [fa, fb]]
        for ta, tb, fa, fb in zip(*(got["boundary"][k] for k in ("target_a", "target_b", "final_a", "final_b")))
    ]


def test_progress_is_reported():
    seen = []
    simscope.calibrate("toy2d", ["cka", "nbs"], seeds=2, steps=50, progress=lambda d, t, w: seen.append((d, t)))
    assert seen and seen[-1] == (4, 4) and all(t == 4 for _, t in seen)


class Stop(Exception):
    pass


@pytest.mark.parametrize(
    "run",
    [
        lambda p: simscope.calibrate("toy2d", ["cka", "nbs"], seeds=3, progress=p),
        lambda p: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", progress=p),
        lambda p: simscope.optimize("golub2018", steps=2000, stop=None, progress=p),
    ],
    ids=["calibrate (a job)", "prune (callbacks)", "optimize (a job)"],
)
def test_an_exception_in_progress_stops_the_analysis(run):
    """What Ctrl-C does too: the exception raised where the GIL is taken back ends the run."""
    calls = []

    def progress(done, total, what):
        calls.append(done)
        raise Stop(what)

    with pytest.raises(Stop):
        run(progress)
    assert len(calls) == 1
