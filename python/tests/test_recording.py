"""Recordings: the built-ins and files, as the CLI reads and exports them."""

from __future__ import annotations

import numpy as np
import pytest

import simscope


def lists(v):
    if isinstance(v, (tuple, list)):
        return [lists(x) for x in v]
    if isinstance(v, dict):
        return {k: lists(x) for k, x in v.items()}
    return v


def test_datasets_are_the_clis_catalogue(cli):
    assert lists(simscope.datasets()) == cli("datasets", "--json").json


@pytest.mark.parametrize("name", [d["name"] for d in simscope.datasets()])
def test_builtins_equal_the_clis_export(name, cli, tmp_path):
    cli("export-dataset", name, tmp_path / "d.npz")
    saved = np.load(tmp_path / "d.npz")
    rec = simscope.load(name)
    assert rec.name == name and rec.X.dtype == np.float64
    assert rec.X.shape == saved["X"].shape and np.array_equal(rec.X, saved["X"])
    for var, tv in rec.labels.items():
        assert np.array_equal(tv.values.astype(str), saved[f"label_{var}"].astype(str)), var
    assert not rec.X.flags.owndata, "the core's buffer, not a copy"


def test_npz_files_with_labels_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 4, 5)).astype(np.float32)
    np.savez(tmp_path / "r.npz", X=X, label_side=np.array([2, 0, 2, 1]), label_word=np.array(["b", "a", "b", "c"]))
    rec = simscope.load(tmp_path / "r.npz")
    assert rec.name == "r" and rec.shape == (3, 4, 5) and (rec.time_steps, rec.conditions, rec.neurons) == (3, 4, 5)
    assert np.array_equal(rec.X, X.astype(np.float64))
    assert rec.labels["side"].classes == ("0", "1", "2") and rec.labels["side"].class_of.tolist() == [2, 0, 2, 1]
    assert rec.labels["word"].classes == ("b", "a", "c") and rec.labels["word"].values.tolist() == ["b", "a", "b", "c"]
    assert simscope.score(rec, X, "cka") == pytest.approx(1.0)


def test_npz_warnings_are_the_readers(tmp_path, cli):
    np.savez(tmp_path / "r.npz", X=np.ones((4, 2)) + np.arange(8).reshape(4, 2) ** 2, extra=np.arange(3))
    with pytest.warns(simscope.SimscopeWarning) as w:
        simscope.load(tmp_path / "r.npz")
    r = cli("score", tmp_path / "r.npz", tmp_path / "r.npz", "--measure", "cka")
    assert [str(x.message) for x in w] == r.warnings[: len(w)]
