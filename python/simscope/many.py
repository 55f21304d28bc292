"""Models against one recording (``simscope compare``), serially or on a Dask cluster.

One task per (recording, model) pair; the recording is shipped once per worker
(``client.scatter(X, broadcast=True)``) and each model once, to the worker that scores it.
Every task calls the same core function as the serial loop, and the core is deterministic,
so the results are identical whatever the cluster (tested on a 2-process ``LocalCluster``).
The GIL is released inside the core, so threads of one worker also run in parallel.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

from . import _core
from ._inputs import LabelsLike, RecordingLike, as_array, as_recording, core_labels, measure_list
from .errors import warn

Measures = Union[str, Sequence[str], None]
Progress = Optional[Callable[[int, int, str], Any]]


def compare(
    X: RecordingLike,
    models: Mapping[str, RecordingLike],
    *,
    measures: Measures = None,
    labels: Optional[LabelsLike] = None,
    bootstrap: int = 1000,
    permutations: int = 1000,
    seed: int = 0,
    calibrate: bool = True,
    threads: Optional[int] = None,
    progress: Progress = None,
) -> Dict[str, Any]:
    """"My model gets this score against my recording: is that good?" (``simscope compare``).

    For every model (name → activations on X's conditions, any width) and measure (default:
    the compare list of the registry, ``"default"``): the score (exactly ``simscope score``'s),
    a bootstrap 95 % interval over conditions, a permutation null (its mean, its 95th
    percentile, a p-value), the placement on the calibration (the score a synthetic Y needs
    before X's PCs and task variables become recoverable), the cross-validated R² of each of
    X's PCs from the model, and decoding from the model beside decoding from X.

    Returns the CLI's JSON document as Python values: ``{"models": [{"name", "shape",
    "scores": {id: {...}}, "pc_r2", "decoding"}], "x_explained_variance", "measures",
    "warnings", ...}``. The numbers do not depend on ``threads`` (default: every core).
    """
    rec = as_recording(X)
    pairs = [(str(name), as_array(y)) for name, y in models.items()]
    report, warnings = _core.compare(
        as_array(rec),
        core_labels(rec, labels),
        pairs,
        measure_list(measures, []),
        bootstrap,
        permutations,
        seed,
        calibrate,
        threads if threads is not None else (os.cpu_count() or 1),
        progress,
    )
    warn(warnings)
    return report


def compare_pair(X: Any, Y: Any, measures: Measures = None, **options: Any) -> Dict[str, Any]:
    """One (recording, model) pair: that model's part of :func:`compare`'s report
    (``{"name", "shape", "scores": {id: {"value", "ci_low", "ci_high", "null_mean",
    "null_p95", "p_value", "calibration", ...}}, "pc_r2", "decoding"}``). ``options`` are
    :func:`compare`'s keywords.
    """
    return compare(X, {"Y": Y}, measures=measures, **options)["models"][0]


def compare_many(
    X: RecordingLike,
    models: Mapping[str, RecordingLike],
    measures: Measures = None,
    client: Optional[Any] = None,
    **options: Any,
) -> Dict[str, Dict[str, Any]]:
    """Compare every model (name → activations, same conditions as X) with the recording X,
    one :func:`compare_pair` per model.

    Returns name → that model's result (plain Python values; its ``name`` is the key), in the
    order of ``models``. Serial by default; with a ``distributed.Client`` (a laptop's
    ``LocalCluster``, an HPC ``SLURMCluster`` from dask-jobqueue: docs/python.md), one task
    per model on the cluster, with identical results (each task on one thread unless
    ``threads`` is given: the cluster already uses every core). ``options`` are
    :func:`compare`'s keywords.
    """
    # The recording with its task variables (decoding and the calibration need them): a bare
    # array here would silently drop them.
    x = as_recording(X)
    arrays = {str(name): as_array(y) for name, y in models.items()}

    def named(name: str, r: Dict[str, Any]) -> Dict[str, Any]:
        return {**r, "name": name}

    if client is None:
        return {n: named(n, compare_pair(x, y, measures, **options)) for n, y in arrays.items()}
    options.setdefault("threads", 1)
    x_remote = client.scatter(x, broadcast=True)
    names = list(arrays)
    y_remote = client.scatter([arrays[n] for n in names])
    futures = [
        client.submit(compare_pair, x_remote, y, measures, pure=False, **options) for y in y_remote
    ]
    return {n: named(n, r) for n, r in zip(names, client.gather(futures))}
