"""The measure registry and the scores of a pair (X, Y)."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._inputs import RecordingLike, as_array, measure_list
from .errors import SimscopeError, warn


def measures() -> List[Dict[str, Any]]:
    """The measure registry, one dict per measure, as ``simscope measures --json`` prints it:
    ``id`` (canonical, the authors' spelling), ``aliases`` (e.g. similarity-repository
    names), ``description``, ``range`` ([lo, hi], ``None`` for an unbounded end),
    ``direction`` (``"similarity"`` or ``"distance"``), ``invariances``,
    ``differentiable``, ``citation``, and whatever else the registry declares.

    The ridge family is open: ``ridge-lambda{λ}-r2#{k}folds_cv`` and
    ``ridge-lambda{λ}-r2#no_cv`` resolve for any λ ≥ 0 and k ≥ 2.
    """
    return _core.measures()


def _pair(X: RecordingLike, Y: RecordingLike, ids: List[str], grad: bool) -> list:
    results, warnings = _core.score_pair(as_array(X), as_array(Y), ids, grad)
    warn(warnings, stacklevel=4)
    return results


def _one(X: RecordingLike, Y: RecordingLike, measure: str, grad: bool) -> tuple:
    if not isinstance(measure, str):
        raise TypeError("measure must be one id (a str); scores() takes several")
    results = _pair(X, Y, [measure], grad)
    if len(results) != 1:
        raise SimscopeError(
            f"score() takes one measure, but `{measure}` names {len(results)}; "
            "use scores(X, Y, measures) for several"
        )
    return results[0]


def score(X: RecordingLike, Y: RecordingLike, measure: str) -> float:
    """The score s(X, Y) of one measure (an id or alias from :func:`measures`), exactly as
    ``simscope score X Y --measure ID`` computes it.

    X and Y are recordings with the same number of samples after flattening (T·C rows; a
    3-D array is time × conditions × neurons); their widths may differ. Any NumPy array the
    file readers accept works: bool, int8–int64, uint8–uint64, float16/32/64, C or Fortran
    order, strided views. Each is copied once, straight into the core's column-major float64
    matrix (no copy is made in Python except for a non-native byte order).
    The GIL is released while the core computes.
    """
    return _one(X, Y, measure, False)[1]


def score_and_grad(X: RecordingLike, Y: RecordingLike, measure: str) -> Tuple[float, np.ndarray]:
    """The score and its gradient ∂s/∂Y, an array of Y's shape (``simscope score
    --grad-dir``). The gradient shares the core's buffer (no copy): Fortran-ordered for 2-D Y,
    strided for 3-D."""
    _, value, grad = _one(X, Y, measure, True)
    return value, grad


def scores(
    X: RecordingLike, Y: RecordingLike, measures: Union[str, Sequence[str]] = "all"
) -> Dict[str, float]:
    """Several measures at once (X is prepared once): a dict canonical id → score, in the
    order given (``"all"`` is every listed measure; aliases resolve, duplicates are dropped),
    exactly ``simscope score X Y --measure …``'s ``scores``."""
    ids = measure_list(measures, ["all"])
    return {cid: value for cid, value, _ in _pair(X, Y, ids, False)}
