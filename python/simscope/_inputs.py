"""Argument normalisation shared by every public function (no numerics here)."""

from __future__ import annotations

import os
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .errors import warn
from .recording import Recording, TaskVariable, load

#: What the functions accept as a recording: an array (2-D conditions × neurons or 3-D
#: time × conditions × neurons), a :class:`Recording`, or a built-in dataset name / file path.
RecordingLike = Union[np.ndarray, Recording, str, "os.PathLike[str]", Sequence[Any]]

#: Task variables: a labels file (``.npy``/``.npz``/``.csv``/``.json``, as ``--labels FILE``)
#: or a mapping of name to one label per condition (or to a :class:`TaskVariable`).
LabelsLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]

_Core = Tuple[str, List[int], List[str]]


def native(a: Any) -> np.ndarray:
    """``a`` as an ndarray in native byte order: no copy for an ndarray (any dtype, order or
    strides: the core's conversion reads them all), a copy only for a non-native byte order."""
    arr = np.asarray(a)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def as_recording(x: RecordingLike) -> Recording:
    """A :class:`Recording` from any accepted form (a name or path is loaded)."""
    if isinstance(x, Recording):
        return x
    if isinstance(x, (str, os.PathLike)):
        return load(x)
    return Recording(name="X", X=native(x), labels={})


def as_array(x: RecordingLike) -> np.ndarray:
    return native(x.X) if isinstance(x, Recording) else as_recording(x).X


def _text(arr: np.ndarray) -> List[str]:
    flat = arr.ravel()
    if arr.dtype.kind == "S":
        return [b.decode("utf-8", "replace") for b in flat]
    return [str(s) for s in flat]


def core_labels(rec: Recording, labels: Optional[LabelsLike]) -> List[_Core]:
    """The task variables for the core: the recording's own, or ``labels`` replacing them."""
    if labels is None or rec.X.ndim not in (2, 3):
        # (A recording of the wrong shape gets the core's message, not a label count's.)
        return [v._core() for v in rec.labels.values()]
    c = rec.conditions
    if labels is None:
        return [v._core() for v in rec.labels.values()]
    if isinstance(labels, (str, os.PathLike)):
        out, w = _core.read_labels(os.fspath(labels), c)
        warn(w, stacklevel=4)
        return out
    out = []
    for name, v in labels.items():
        if isinstance(v, TaskVariable):
            out.append((str(name), list(v.class_of), list(v.classes)))
            continue
        arr = native(v)
        if arr.dtype.kind in "US":
            out.append(_core.task_variable(str(name), arr, c, _text(arr)))
        else:
            out.append(_core.task_variable(str(name), arr, c))
    return out


def measure_list(measures: Union[str, Sequence[str], None], default: Sequence[str]) -> List[str]:
    if measures is None:
        return list(default)
    if isinstance(measures, str):
        return [measures]
    return [str(m) for m in measures]
