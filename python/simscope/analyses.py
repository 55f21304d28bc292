"""The analyses, each a thin call into the core's function or job, with the CLI's arguments
as keyword arguments and the CLI's defaults. Each returns a plain dict of arrays and Python
values; errors are :class:`SimscopeError` with the CLI's messages.

Long analyses release the GIL and look at Ctrl-C every ~100 ms (``KeyboardInterrupt``);
``progress(done, total, what)``, if given, is called then too.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Sequence, Union

import numpy as np

from . import _core
from ._inputs import LabelsLike, RecordingLike, as_array, as_recording, core_labels, measure_list
from .errors import SimscopeError, warn

Progress = Optional[Callable[[int, int, str], Any]]

# The core's defaults (CalibrateOptions::default()), read once so they show in the signature.
_SEEDS, _LR, _STEPS, _STOP, _DECODE_EVERY = _core.calibrate_defaults()

#: The measures ``simscope perturb`` scores when none is given (cmd_perturb.rs DEFAULT): the
#: three of the paper's Fig 6 and the two other closed forms.
PERTURB_MEASURES = ("cka", "nbs", "procrustes-angular-score", "linreg", "cca-angular-score")


def calibrate(
    X: RecordingLike,
    measures: Union[str, Sequence[str]],
    *,
    labels: Optional[LabelsLike] = None,
    seeds: int = _SEEDS,
    lr: float = _LR,
    steps: int = _STEPS,
    stop: float = _STOP,
    decode_every: int = _DECODE_EVERY,
    progress: Progress = None,
) -> Dict[str, Any]:
    """"What is a good score for this recording?" (``simscope calibrate``).

    For every measure and seed, a synthetic Y is optimised from a seeded random start (Adam,
    learning rate ``lr``, until the score passes ``stop`` or after ``steps`` updates). The
    report gives, over seeds, the score at which each task variable becomes decodable from Y
    (decoded every ``decode_every`` updates), the score needed to capture X's PCs holding
    ≥ 10 % and ≥ 1 % of the variance, and the updates to pass ``stop``.

    ``labels`` replaces the recording's own task variables (a labels file, or a dict of
    name → one label per condition); without any, decodability is not reported.

    Returns ``{"rows": [...], "references": [...], "explained_variance_ratio": ndarray,
    "notes": [...]}``: ``rows`` are the CLI's JSON rows (``report.csv``'s columns:
    measure, quantity, variable, seeds, reached, mean, sd, min, max, values, note),
    ``references`` the decoding of each variable from X itself.
    """
    rec = as_recording(X)
    report, notes, warnings = _core.calibrate(
        as_array(rec),
        core_labels(rec, labels),
        measure_list(measures, []),
        seeds,
        lr,
        steps,
        stop,
        decode_every,
        progress,
    )
    warn(warnings)
    warn([n for n in notes if n.startswith("skipping")])
    report["explained_variance_ratio"] = np.asarray(report["explained_variance_ratio"])
    report["notes"] = notes
    return report


def perturb(
    X: RecordingLike,
    pc: Optional[int] = None,
    *,
    angle: float = 90.0,
    scale: float = 1.0,
    measures: Union[str, Sequence[str], None] = None,
    seed: int = 0,
    sweep: bool = False,
    max_pcs: Optional[int] = None,
    progress: Progress = None,
) -> Dict[str, Any]:
    """Perturb X's principal components and compare measured scores with the closed forms
    (``simscope perturb``; spec §6).

    Single perturbation (``pc`` given, 1-based): PC ``pc`` rotated by ``angle`` degrees
    towards a direction orthogonal to every PC (decorrelation; 90 = fully) and scaled by
    ``scale``. Returns ``{"measured": {id: score}, "theory": {id: closed form or None},
    "exact": bool, "Y": the perturbed copy in X's shape}``.

    ``sweep=True``: the paper's Fig 6, each PC in turn decorrelated (the first ``max_pcs``).
    Returns columns: ``{"pc", "variance", "variance_ratio", "exact"}`` arrays and
    ``"measured"``/``"theory"`` as {id: array} (NaN where a measure has no closed form).

    ``measures`` defaults to :data:`PERTURB_MEASURES`; the complement directions are drawn
    from ``seed`` (PC i of the sweep from ``seed + i``). ``exact`` is False when X has too
    few samples for a direction orthogonal to every PC: the theory is then approximate.
    """
    ids = measure_list(measures, PERTURB_MEASURES)
    x = as_array(X)
    if sweep:
        if pc is not None:
            raise SimscopeError("perturb(sweep=True) decorrelates every PC in turn: leave pc out")
        cols, warnings = _core.perturb_sweep(x, ids, max_pcs, seed, progress)
        warn(warnings)
        out: Dict[str, Any] = {k: np.asarray(cols[k]) for k in ("pc", "variance", "variance_ratio", "exact")}
        out["measured"] = {i: np.asarray(v) for i, v in zip(ids, cols["measured"])}
        out["theory"] = {i: np.asarray(v) for i, v in zip(ids, cols["theory"])}
        return out
    if pc is None:
        raise SimscopeError("perturb needs --pc K (1-based) or --sweep")
    if pc < 0:
        raise SimscopeError(f"--pc must be between 1 and the rank of X, got {pc}")
    measured, theory, exact, y, warnings = _core.perturb(x, pc, angle, scale, ids, seed)
    warn(warnings)
    return {
        "measured": dict(zip(ids, measured)),
        "theory": dict(zip(ids, theory)),
        "exact": exact,
        "Y": y,
    }


def _features(features: Union[RecordingLike, str]):
    if isinstance(features, str):
        demo = _core.prune_features(features)
        if demo is not None:
            f, planted = demo
            return f, (planted or None)
        try:
            return as_array(features), None
        except SimscopeError as e:
            demos = ", ".join(_core.PRUNE_DEMOS)
            raise SimscopeError(f"{e} (built-in pruning demos: {demos})") from None
    return as_array(features), None


def prune(
    features: Union[RecordingLike, str],
    *,
    target_rdm: Union[np.ndarray, str, "os.PathLike[str]", None] = None,
    target: Optional[RecordingLike] = None,
    folds: int = 5,
    seed: int = 0,
    method: str = "backward",
    distance: str = "correlation",
    compare: str = "pearson",
    fit: str = "rsa",
    progress: Progress = None,
) -> Dict[str, Any]:
    """Which of a model's features explain a brain RDM? (``simscope prune``; Tarigopula et
    al. 2023; docs/pruning.md.)

    ``features``: stimuli × features (an array, a file, or a demo: ``prune-demo-mit``,
    ``prune-demo-hit``, ``prune-categories-mit``, ``prune-categories-hit``). Exactly one of
    ``target_rdm`` (stimuli × stimuli: an array, a ``.npy`` file or ``kriegeskorte2008-mit``/
    ``-hit``) and ``target`` (a recording whose rows are the stimuli; its RDM uses
    ``distance``). ``fit="rsa"`` compares RDMs (``compare``: pearson or spearman); any
    similarity measure's id makes that measure between the kept features and ``target`` the
    fit. Greedy ``method`` (backward or forward) with a seeded ``folds``-fold honest
    evaluation: features are selected on training stimuli only and scored on pairs of
    held-out stimuli.

    Returns ``kept.json``'s content (``kept``, ``planted``, ``n_features``, ``n_stimuli``,
    ``test_fit_pruned``, ``test_fit_full``, ``test_fit_reweighted``, ``folds``) and
    ``curve`` (``n_kept``, ``train_fit``, ``test_fit`` arrays: ``curve.csv``).
    """
    f, planted = _features(features)
    rdm = None
    if target_rdm is not None:
        if isinstance(target_rdm, (str, os.PathLike)):
            rdm = _core.prune_target_rdm(os.fspath(target_rdm))
        else:
            rdm = as_array(target_rdm)
    x = None if target is None else as_array(target)
    out, warnings = _core.prune(
        f, planted, rdm, x, folds, seed, method, distance, compare, fit, progress
    )
    warn(warnings)
    out["kept"] = np.asarray(out["kept"], dtype=np.intp)
    out["curve"] = {k: np.asarray(v) for k, v in out["curve"].items()}
    return out
