"""Scores and gradients: equal to the CLI to the bit, on the authors' conformance fixtures and
on fresh random arrays of every dtype, memory order and stride the readers accept."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simscope
from conftest import FIXTURES

CASES = sorted(p for p in (FIXTURES / "reference" / "cases").iterdir() if p.is_dir())


def bits(v: float) -> str:
    return np.float64(v).tobytes().hex()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_conformance_fixtures_equal_the_cli_and_the_authors(case, cli, tmp_path):
    expected = json.loads((case / "expected.json").read_text())["measures"]
    ids = list(expected)
    X = np.load(case / "X.npy")
    Y = np.load(case / "Y.npy")
    args = [case / "X.npy", case / "Y.npy", "--grad-dir", tmp_path]
    for i in ids:
        args += ["--measure", i]
    ref = cli("score", *args).json["scores"]
    with _no_check():
        got = simscope.scores(X, Y, ids)
    assert sorted(got) == sorted(ref) and len(got) == len(ids), "the same canonical ids"
    for i in got:
        assert bits(got[i]) == bits(ref[i]), f"{case.name} {i}: {got[i]!r} vs CLI {ref[i]!r}"
        want = expected[i]["score"]
        tol = expected[i].get("tolerance", 1e-9)
        assert abs(got[i] - want) <= max(tol * abs(want), 1e-12), (i, got[i], want)
    for (i, m), canon in zip(expected.items(), got):
        with _no_check():
            value, grad = simscope.score_and_grad(X, Y, i)
        assert bits(value) == bits(got[canon])
        assert grad.shape == Y.shape
        cli_grad = np.load(tmp_path / (canon.replace("#", "_").replace("/", "_") + ".npy"))
        assert np.array_equal(grad, cli_grad) and grad.dtype == cli_grad.dtype, i
        if "grad_file" in m:
            want_g = np.load(case / m["grad_file"])
            rel = np.linalg.norm(grad - want_g) / max(np.linalg.norm(want_g), 1e-300)
            assert rel <= 1e-7, (case.name, i, rel)


class _no_check:
    """A context that lets the core's warnings (aliases, trivially saturated scores) pass."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", simscope.SimscopeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


MEASURES = ["cka", "nbs", "procrustes-angular-score", "linreg", "rsa-correlation-pearson", "ensd"]


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture(scope="module")
def pair():
    X = _random((7, 9, 5), 11)  # 3-D: 63 samples after flattening, 5 neurons
    Y = np.round(_random((7, 9, 4), 12) * 20)  # integral, so every integer dtype holds it
    return X, Y


DTYPES = ["<f8", ">f8", "<f4", ">f4", "<f2", "<i8", ">i4", "<i2", "|i1", "<u8", "<u4", "|u1", "|b1"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_scores_as_the_cli_reads_the_same_file(dtype, pair, cli, tmp_path):
    X, Y = pair
    y = (np.abs(Y) if dtype[1] in "ub" else Y).astype(dtype)
    if dtype == "|b1":
        y = Y > 0
    path = tmp_path / "Y.npy"
    np.save(path, y)
    np.save(tmp_path / "X.npy", X)
    args = ["score", tmp_path / "X.npy", path, "--grad-dir", tmp_path / "g"]
    ref = cli(*args, *sum((["--measure", m] for m in MEASURES), [])).json["scores"]
    got = simscope.scores(X, y, MEASURES)
    assert {k: bits(v) for k, v in got.items()} == {k: bits(v) for k, v in ref.items()}
    _, g = simscope.score_and_grad(X, y, "nbs")
    assert np.array_equal(g, np.load(tmp_path / "g" / "nbs.npy"))


def _layouts(a):
    """The same values in other memory layouts: Fortran order, a transposed copy viewed
    back, reversed axes (negative strides), a strided slice of a bigger array."""
    big = np.zeros((a.shape[0] * 2,) + a.shape[1:] + (3,), dtype=a.dtype)
    big[::2, ..., 1] = a
    return {
        "C": np.ascontiguousarray(a),
        "F": np.asfortranarray(a),
        "transposed view": np.ascontiguousarray(np.moveaxis(a, 0, -1)).transpose(
            (a.ndim - 1,) + tuple(range(a.ndim - 1))
        ),
        "negative strides": np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
        "strided slice": big[::2, ..., 1],
    }


@pytest.mark.parametrize("layout", ["C", "F", "transposed view", "negative strides", "strided slice"])
@pytest.mark.parametrize("dtype", ["<f8", "<f4", "<i4"])
def test_memory_order_and_strides_never_change_a_bit(layout, dtype, pair):
    X, Y = pair
    y = Y.astype(dtype)
    want = simscope.scores(X, np.ascontiguousarray(y), MEASURES)
    for x_layout in (layout, "C"):
        xv = _layouts(X)[x_layout]
        yv = _layouts(y)[layout]
        assert np.array_equal(yv, y) and np.array_equal(xv, X)
        got = simscope.scores(xv, yv, MEASURES)
        assert {k: bits(v) for k, v in got.items()} == {k: bits(v) for k, v in want.items()}
        _, g = simscope.score_and_grad(xv, yv, "cka")
        _, g0 = simscope.score_and_grad(X, y, "cka")
        assert g.shape == y.shape and np.array_equal(g, g0)


def test_two_dimensional_gradients_match_the_cli_files(cli, tmp_path):
    X, Y = _random((30, 6), 21), _random((30, 8), 22)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    cli("score", tmp_path / "X.npy", tmp_path / "Y.npy", "--measure", "procrustes-angular-score",
        "--measure", "cka", "--grad-dir", tmp_path)
    for m in ("procrustes-angular-score", "cka"):
        value, g = simscope.score_and_grad(X, Y, m)
        assert g.shape == (30, 8)
        assert np.array_equal(g, np.load(tmp_path / f"{m}.npy"))
        assert value == simscope.score(X, Y, m)


def test_measures_are_the_registry_the_cli_lists(cli):
    ours = simscope.measures()
    theirs = cli("measures", "--json").json
    assert [m["id"] for m in ours] == [m["id"] for m in theirs]
    for a, b in zip(ours, theirs):
        assert {k: (list(v) if isinstance(v, tuple) else v) for k, v in a.items()} == b


def test_aliases_and_all_resolve_as_the_cli_does(cli):
    X, Y = _random((12, 4), 31), _random((12, 3), 32)
    with pytest.warns(simscope.SimscopeWarning, match="resolved to canonical id `cka`"):
        s = simscope.score(X, Y, "linear-cka")
    assert s == simscope.score(X, Y, "cka")
    with _no_check():
        every = simscope.scores(X, Y, "all")
    assert list(every) == [m["id"] for m in simscope.measures()]


def test_a_constant_y_warns_like_the_cli(cli, tmp_path):
    X, Y = _random((10, 3), 41), np.ones((10, 2))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    ref = cli("score", tmp_path / "X.npy", tmp_path / "Y.npy", "--measure", "cka").json
    with pytest.warns(simscope.SimscopeWarning) as w:
        s = simscope.score(X, Y, "cka")
    assert [str(x.message) for x in w] == ref["warnings"]
    assert s == ref["scores"]["cka"] == 0.0


def test_int64_beyond_2_53_warns_as_the_reader_does(cli, tmp_path):
    X = _random((6, 2), 51)
    Y = np.arange(12, dtype=np.int64).reshape(6, 2)
    Y[4, 1] = 2**53 + 1
    Y[5, 0] = -(2**60)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    r = cli("score", tmp_path / "X.npy", tmp_path / "Y.npy", "--measure", "cka")
    with pytest.warns(simscope.SimscopeWarning) as w:
        s = simscope.score(X, Y, "cka")
    prefix = f"{tmp_path / 'Y.npy'}: "
    assert [str(x.message) for x in w] == [m[len(prefix):] for m in r.warnings]
    assert bits(s) == bits(r.json["scores"]["cka"])


def test_lists_and_recordings_are_accepted():
    rec = simscope.load("toy2d")
    Y = _random(rec.shape, 61)
    assert simscope.score(rec, Y.tolist(), "cka") == simscope.score("toy2d", Y, "cka")
