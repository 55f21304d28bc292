"""Bad input: every SimscopeError carries the message the CLI prints after `error: `."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import simscope
from conftest import FIXTURES

BAD = sorted(p for p in (FIXTURES / "bad").iterdir() if p.suffix in (".npy", ".npz", ".csv"))


def message(excinfo) -> str:
    assert isinstance(excinfo.value, ValueError)
    return str(excinfo.value)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_files_give_the_clis_message(path, cli):
    want = cli("score", path, "toy2d", "--measure", "cka", check=False).error
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.load(path)
    assert message(e) == want


def _bad_arrays():
    rng = np.random.default_rng(7)
    nan = rng.standard_normal((4, 3, 2))
    nan[2, 0, 1] = np.nan
    nan[1, 2, 0] = np.inf  # first in C order, but later in the column-major scan
    nanf = np.asfortranarray(rng.standard_normal((5, 4)))
    nanf[3, 0] = -np.inf
    nanf[1, 3] = np.nan
    return {
        "one_d": np.arange(5.0),
        "zero_d": np.array(3.0),
        "four_d": np.zeros((2, 2, 2, 2)),
        "empty_axis": np.zeros((3, 0)),
        "empty_3d": np.zeros((2, 0, 4)),
        "nan_3d": nan,
        "nan_fortran": nanf,
        "text": np.array([["a", "b"], ["c", "d"]]),
        "bytes": np.array([[b"a", b"b"], [b"c", b"d"]]),
        "complex": np.ones((3, 2), dtype=complex),
        "datetime": np.zeros((3, 2), dtype="datetime64[s]"),
        "timedelta": np.zeros((3, 2), dtype="timedelta64[ms]"),
        "longdouble": np.ones((3, 2), dtype=np.longdouble),
        "structured": np.zeros((3, 2), dtype=[("a", "<f8"), ("b", "<i4")]),
        "object": np.array([[1.0, None], [2.0, 3.0]], dtype=object),
    }


@pytest.mark.parametrize("kind", list(_bad_arrays()))
def test_bad_arrays_give_the_message_of_the_same_array_saved(kind, cli, tmp_path):
    a = _bad_arrays()[kind]
    path = tmp_path / f"{kind}.npy"
    np.save(path, a, allow_pickle=True)
    want = cli("score", "toy2d", path, "--measure", "cka", check=False).error
    assert want.startswith(f"{path}: ")
    X = np.zeros((60, 2))
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.score(X, a, "cka")
    assert message(e) == "Y: " + want[len(f"{path}: "):]
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.score(a, X, "cka")
    assert message(e) == "X: " + want[len(f"{path}: "):]


def test_shape_mismatch_and_unknown_measures(cli, tmp_path):
    X, Y = np.random.default_rng(1).standard_normal((2, 10, 6, 3))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y[:5])
    want = cli("score", tmp_path / "X.npy", tmp_path / "Y.npy", "--measure", "cka", check=False).error
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.score(X, Y[:5], "cka")
    assert message(e) == want
    for bad in ("ckaa", "procrustes-angular", "ridge-lambda-1-r2#5folds_cv"):
        want = cli("score", "toy2d", "toy2d", "--measure", bad, check=False).error
        with pytest.raises(simscope.SimscopeError) as e:
            simscope.score("toy2d", "toy2d", bad)
        assert message(e) == want


def test_constant_and_tiny_recordings(cli, tmp_path):
    for name, X in {"constant": np.ones((5, 3)), "one_row": np.ones((1, 3))}.items():
        np.save(tmp_path / f"{name}.npy", X)
        want = cli("score", tmp_path / f"{name}.npy", tmp_path / f"{name}.npy", "--measure", "cka", check=False).error
        with pytest.raises(simscope.SimscopeError) as e:
            simscope.score(X, X, "cka")
        assert message(e) == want


def test_files_that_cannot_be_read(cli, tmp_path):
    huge = tmp_path / "huge.npy"
    with open(huge, "wb") as f:
        f.truncate(300 * 1024 * 1024)  # sparse: refused from its size, never read
    cases = [tmp_path / "missing.npy", tmp_path, huge]
    for path in cases:
        want = cli("score", path, "toy2d", "--measure", "cka", check=False).error
        with pytest.raises(simscope.SimscopeError) as e:
            simscope.load(path)
        assert message(e) == want
        with pytest.raises(simscope.SimscopeError) as e:
            simscope.score(str(path), "toy2d", "cka")
        assert message(e) == want


def test_labels_errors(cli, tmp_path):
    wrong = tmp_path / "labels.npy"
    np.save(wrong, np.arange(5))
    for labels in (tmp_path / "nope.npy", wrong):
        want = cli("calibrate", "toy2d", "--measure", "cka", "--labels", labels, "--out", tmp_path / "o", check=False).error
        with pytest.raises(simscope.SimscopeError) as e:
            simscope.calibrate("toy2d", "cka", labels=labels)
        assert message(e) == want
    with pytest.raises(simscope.SimscopeError) as e:
        simscope.calibrate("toy2d", "cka", labels={"labels": np.arange(5)})
    assert message(e) == "labels: " + want[len(f"{wrong}: "):]
    continuous = {"c": np.linspace(0, 1, 6)}
    simscope.calibrate("toy2d", "cka", labels=continuous, seeds=1, steps=5)  # 6 values: classes


@pytest.mark.parametrize(
    "args, call",
    [
        (["calibrate", "toy2d", "--measure", "cka", "--seeds", "0"], lambda: simscope.calibrate("toy2d", "cka", seeds=0)),
        (["calibrate", "toy2d", "--measure", "cka", "--lr", "-1"], lambda: simscope.calibrate("toy2d", "cka", lr=-1.0)),
        (["calibrate", "toy2d", "--measure", "nope"], lambda: simscope.calibrate("toy2d", "nope")),
        (["perturb", "toy2d", "--pc", "0"], lambda: simscope.perturb("toy2d", 0)),
        (["perturb", "toy2d", "--pc", "3"], lambda: simscope.perturb("toy2d", 3)),
        (["perturb", "toy2d", "--pc", "1", "--scale", "-1"], lambda: simscope.perturb("toy2d", 1, scale=-1.0)),
        (["perturb", "toy2d", "--pc", "1", "--angle", "inf"], lambda: simscope.perturb("toy2d", 1, angle=float("inf"))),
        (["perturb", "toy2d"], lambda: simscope.perturb("toy2d")),
        (["perturb", "toy2d", "--pc", "1", "--measure", "cka", "nope"], lambda: simscope.perturb("toy2d", 1, measures=["cka", "nope"])),
        (["prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--method", "sideways"],
         lambda: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", method="sideways")),
        (["prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--distance", "cosine"],
         lambda: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", distance="cosine")),
        (["prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--compare", "kendall"],
         lambda: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", compare="kendall")),
        (["prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--fit", "cka"],
         lambda: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", fit="cka")),
        (["prune", "prune-demo-mit"], lambda: simscope.prune("prune-demo-mit")),
        (["prune", "prune-demo-mit", "--target-rdm", "kriegeskorte2008-mit", "--folds", "1"],
         lambda: simscope.prune("prune-demo-mit", target_rdm="kriegeskorte2008-mit", folds=1)),
        (["prune", "nonsense", "--target-rdm", "kriegeskorte2008-mit"], lambda: simscope.prune("nonsense", target_rdm="kriegeskorte2008-mit")),
        (["prune", "prune-demo-mit", "--target-rdm", "nope.npy"], lambda: simscope.prune("prune-demo-mit", target_rdm="nope.npy")),
        (["prune", "prune-demo-mit", "--fit", "procrustes-euclidean", "--target", "kriegeskorte2008-hit"],
         lambda: simscope.prune("prune-demo-mit", target="kriegeskorte2008-hit", fit="procrustes-euclidean")),
        (["optimize", "toy2d", "--optimizer", "lbfgs"], lambda: simscope.optimize("toy2d", optimizer="lbfgs")),
        (["optimize", "toy2d", "--lr", "0"], lambda: simscope.optimize("toy2d", lr=0.0)),
        (["optimize", "toy2d", "--measure", "nope"], lambda: simscope.optimize("toy2d", "nope")),
        (["joint", "toy2d", "--a", "cka", "--b", "nbs", "--per-side", "1"], lambda: simscope.joint("toy2d", "cka", "nbs", per_side=1)),
        (["joint", "toy2d", "--a", "cka", "--b", "nope"], lambda: simscope.joint("toy2d", "cka", "nope")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_analysis_arguments_give_the_clis_message(args, call, cli, tmp_path):
    if args[0] in ("calibrate", "prune", "joint"):
        args = args + ["--out", str(tmp_path / "out")]
    want = cli(*args, check=False).error
    with pytest.raises(simscope.SimscopeError) as e:
        call()
    assert message(e) == want
