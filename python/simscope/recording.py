"""Recordings: arrays with their task variables, from files or the built-in datasets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple, Union

import numpy as np

from . import _core
from .errors import warn


@dataclass(frozen=True)
class TaskVariable:
    """A categorical task variable with one value per condition (e.g. reach direction).

    ``classes`` are the class names in the core's order (numbers sorted by value, text in
    order of first appearance) and ``class_of[c]`` is condition ``c``'s class index: exactly
    the core's ``TaskVariable``, so decoding from Python numbers the classes as the CLI does.
    """

    name: str
    class_of: np.ndarray
    classes: Tuple[str, ...]

    @property
    def values(self) -> np.ndarray:
        """The class name of each condition."""
        return np.asarray(self.classes, dtype=str)[self.class_of]

    def _core(self) -> Tuple[str, List[int], List[str]]:
        return (self.name, [int(k) for k in self.class_of], list(self.classes))


@dataclass
class Recording:
    """A recording X with its shape kept: ``X`` is (conditions, neurons) or
    (time, conditions, neurons), ``labels`` its task variables by name.

    Every function that takes a recording also takes the bare array (then without labels),
    a built-in dataset name or a ``.npy``/``.npz`` path.
    """

    name: str
    X: np.ndarray
    labels: Dict[str, TaskVariable] = field(default_factory=dict)

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.X.shape)

    @property
    def time_steps(self) -> int:
        """T (1 for a 2-D recording)."""
        return self.X.shape[0] if self.X.ndim == 3 else 1

    @property
    def conditions(self) -> int:
        """C, the number of conditions."""
        return self.X.shape[-2]

    @property
    def neurons(self) -> int:
        """N, the number of neurons (units, voxels, features)."""
        return self.X.shape[-1]


def load(path: Union[str, "os.PathLike[str]"]) -> Recording:
    """A built-in dataset by name (see :func:`datasets`) or a ``.npy``/``.npz`` file, with the
    same checks and messages as the page and the CLI (``simscope info`` / any ``DATA``
    argument): files over 256 MiB or 2²⁴ values are refused before they are read, bad files
    raise :class:`SimscopeError` saying what is wrong and how to fix it. An ``.npz`` holds the
    recording as ``X`` and task variables as 1-D ``label_<name>`` arrays (docs/data.md).

    ``X`` comes back as a float64 array of the recording's shape, sharing the core's buffer
    (Fortran-ordered; no copy is made).
    """
    name, x, labels, warnings = _core.load(os.fspath(path))
    warn(warnings)
    return Recording(
        name=name,
        X=x,
        labels={
            n: TaskVariable(n, np.asarray(class_of, dtype=np.intp), tuple(classes))
            for n, class_of, classes in labels
        },
    )


def datasets() -> List[Dict[str, Any]]:
    """The built-in datasets (name, shape, labels, description, citation, provenance,
    licence), as ``simscope datasets --json`` lists them. Load one with :func:`load`."""
    return _core.datasets()
