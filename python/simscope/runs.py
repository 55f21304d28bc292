"""Optimisation runs: :func:`optimize` (``simscope optimize``) and :func:`joint`
(``simscope joint``), each the core's job driven to its end with the GIL released."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from . import _core
from ._inputs import LabelsLike, RecordingLike, as_array, as_recording, core_labels, measure_list
from .analyses import Progress
from .errors import warn

# The core's run defaults (RunSpec::default(), the CLI's), read once for the signature.
(
    _MEASURE,
    _LR,
    _STEPS,
    _STOP,
    _SEED,
    _DECODE_EVERY,
    _PC_EVERY,
    _SNAPSHOT_EVERY,
) = _core.optimize_defaults()

# `simscope joint`'s defaults (cmd_joint.rs; a test runs both without arguments).
JOINT_PER_SIDE, JOINT_STEPS, JOINT_LR, JOINT_SEED = 6, 100, 0.1, 0


def _arrays(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: np.asarray(v) for k, v in d.items()}


def optimize(
    X: RecordingLike,
    measure: str = _MEASURE,
    *,
    watch: Union[str, Sequence[str], None] = None,
    labels: Optional[LabelsLike] = None,
    lr: float = _LR,
    steps: int = _STEPS,
    stop: Optional[float] = _STOP,
    seed: int = _SEED,
    optimizer: str = "adam",
    snapshot_every: int = _SNAPSHOT_EVERY,
    decode_every: int = _DECODE_EVERY,
    pc_every: int = _PC_EVERY,
    replicate_nan: bool = False,
    y0: Optional[RecordingLike] = None,
    progress: Progress = None,
) -> Dict[str, Any]:
    """Optimise a synthetic Y to maximise ``measure`` with X (``simscope optimize X --out``).

    Y₀ ~ N(0, 1) is drawn from ``seed``, or is ``y0`` (a model's activations on X's
    conditions, any width: ``simscope optimize --y0``, the page's "optimise from this
    model"); ``optimizer`` (``"adam"``, PyTorch semantics, or
    ``"sgd"``) updates it with learning rate ``lr`` until the score passes ``stop`` (below
    it for a distance; ``None``: no stop rule) or after ``steps`` updates. ``watch`` lists
    measures scored along the way; the R² of each of X's first PCs (up to 100) is computed
    every ``pc_every`` updates, and with task variables (the recording's, or ``labels``)
    each is decoded from Y every ``decode_every`` updates.

    Returns ``steps``, ``final_score``, ``stopped_by`` (``"stop"``, ``"max_steps"`` or
    ``"non_finite"``), ``ids`` (the objective's and the watched measures' canonical ids),
    ``trajectory`` ({"step", "objective", watched id: arrays}: ``trajectory.csv``),
    ``pc_r2`` ({"step", "score": arrays, "r2": steps × PCs}: ``pc_r2.csv``), ``pc_r2_chance``
    (a random Y's in-sample R² on any PC, rank(Y)/(n − 1): 1 means every R² is trivially 1,
    and a warning says so), with labels
    ``decoding`` ({"step", "score", variable: accuracy arrays}) and ``decoding_reference``
    (variable → reference, chance, threshold, pooled, folds), ``Y`` (the final Y in X's
    shape) and ``snapshots`` (step → Y every ``snapshot_every`` updates).
    """
    rec = as_recording(X)
    out, warnings = _core.optimize(
        as_array(rec),
        core_labels(rec, labels),
        measure,
        measure_list(watch, []),
        optimizer,
        lr,
        steps,
        stop,
        seed,
        snapshot_every,
        decode_every,
        pc_every,
        replicate_nan,
        None if y0 is None else as_array(y0),
        progress,
    )
    warn(warnings)
    out["trajectory"] = _arrays(out["trajectory"])
    out["pc_r2"]["step"] = np.asarray(out["pc_r2"]["step"])
    out["pc_r2"]["score"] = np.asarray(out["pc_r2"]["score"])
    if "decoding" in out:
        out["decoding"] = _arrays(out["decoding"])
    return out


def joint(
    X: RecordingLike,
    a: str,
    b: str,
    *,
    per_side: int = JOINT_PER_SIDE,
    steps: int = JOINT_STEPS,
    lr: float = JOINT_LR,
    seed: int = JOINT_SEED,
    progress: Progress = None,
) -> Dict[str, Any]:
    """Which pairs of scores can coexist? (``simscope joint``; spec §7.)

    From one shared Y₀ (``seed``), Adam (``lr``) minimises |A − t_A| + |B − t_B| for
    ``steps`` updates towards each of the 4(``per_side`` − 1) targets (t_A, t_B) on the
    perimeter of the unit square. Returns ``a``, ``b`` (canonical ids), ``targets``,
    ``steps``, ``boundary`` ({"target_a", "target_b", "final_a", "final_b"} arrays:
    ``boundary.csv``), ``trajectories`` (per target: {"target", "step", "a", "b"}) and, for
    CKA against NBS, ``cka_nbs_bounds`` (the analytic sandwich at each final point) and
    ``cka_nbs_bounds_hold``.
    """
    out, warnings = _core.joint(as_array(X), a, b, per_side, steps, lr, seed, progress)
    warn(warnings)
    out["boundary"] = _arrays(out["boundary"])
    out["trajectories"] = [
        {"target": t["target"], **_arrays({k: t[k] for k in ("step", "a", "b")})}
        for t in out["trajectories"]
    ]
    if "cka_nbs_bounds" in out:
        out["cka_nbs_bounds"] = _arrays(out["cka_nbs_bounds"])
    return out
