"""simscope: exact similarity measures between a model and the brain, for NumPy arrays.

The same Rust core as the simscope explorer page and the ``simscope`` CLI, so every number
equals the CLI's for the same inputs and seeds, to the bit.

* :func:`measures` — the registry (CKA, angular Procrustes, NBS, CCA, regression, RSA, ENSD…)
* :func:`score`, :func:`score_and_grad`, :func:`scores` — one pair (X, Y)
* :func:`load`, :func:`datasets` — ``.npy``/``.npz`` files and the built-in recordings
* :func:`optimize`, :func:`joint`, :func:`calibrate`, :func:`perturb`, :func:`prune` — the
  analyses, with the CLI's arguments and defaults
* :func:`compare` — your model against your recording: intervals, null, calibration placement
* :func:`compare_many` — many models against one recording, serially or on Dask

Errors raise :class:`SimscopeError` (a ``ValueError``) with the CLI's message; the core's
warnings are :class:`SimscopeWarning`. See docs/python.md.
"""

from ._core import __version__
from .analyses import PERTURB_MEASURES, calibrate, perturb, prune
from .errors import SimscopeError, SimscopeWarning
from .many import compare, compare_many, compare_pair
from .recording import Recording, TaskVariable, datasets, load
from .runs import joint, optimize
from .scores import measures, score, score_and_grad, scores

__all__ = [
    "PERTURB_MEASURES",
    "Recording",
    "SimscopeError",
    "SimscopeWarning",
    "TaskVariable",
    "__version__",
    "calibrate",
    "compare",
    "compare_many",
    "compare_pair",
    "datasets",
    "joint",
    "load",
    "measures",
    "optimize",
    "perturb",
    "prune",
    "score",
    "score_and_grad",
    "scores",
]
