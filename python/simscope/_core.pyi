"""Type stubs of the extension module (python/src/*.rs). Private: use the `simscope` API."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__version__: str
PRUNE_DEMOS: List[str]

class SimscopeError(ValueError): ...

_TaskVariable = Tuple[str, List[int], List[str]]
_Progress = Optional[Callable[[int, int, str], Any]]

def measures() -> List[Dict[str, Any]]: ...
def resolve(ids: Sequence[str]) -> Tuple[List[str], List[str]]: ...
def score_pair(
    x: np.ndarray, y: np.ndarray, ids: Sequence[str], grad: bool
) -> Tuple[List[Tuple[str, float, Optional[np.ndarray]]], List[str]]: ...
def datasets() -> List[Dict[str, Any]]: ...
def load(arg: str) -> Tuple[str, np.ndarray, List[_TaskVariable], List[str]]: ...
def read_labels(path: str, conditions: int) -> Tuple[List[_TaskVariable], List[str]]: ...
def task_variable(
    name: str, values: np.ndarray, conditions: int, text: Optional[List[str]] = None
) -> _TaskVariable: ...
def calibrate_defaults() -> Tuple[int, float, int, float, int]: ...
def calibrate(
    x: np.ndarray,
    labels: List[_TaskVariable],
    ids: List[str],
    seeds: int,
    lr: float,
    steps: int,
    stop: float,
    decode_every: int,
    progress: _Progress = None,
) -> Tuple[Dict[str, Any], List[str], List[str]]: ...
def compare(
    x: np.ndarray,
    labels: List[_TaskVariable],
    models: List[Tuple[str, np.ndarray]],
    ids: List[str],
    bootstrap: int,
    permutations: int,
    seed: int,
    calibrate: bool,
    threads: int,
    progress: _Progress = None,
) -> Tuple[Dict[str, Any], List[str]]: ...
def perturb(
    x: np.ndarray, pc: int, angle: float, scale: float, ids: List[str], seed: int
) -> Tuple[List[float], List[Optional[float]], bool, np.ndarray, List[str]]: ...
def perturb_sweep(
    x: np.ndarray, ids: List[str], max_pcs: Optional[int], seed: int, progress: _Progress = None
) -> Tuple[Dict[str, Any], List[str]]: ...
def prune_features(name: str) -> Optional[Tuple[np.ndarray, List[int]]]: ...
def prune_target_rdm(arg: str) -> np.ndarray: ...
def prune(
    features: np.ndarray,
    planted: Optional[List[int]],
    target_rdm: Optional[np.ndarray],
    target: Optional[np.ndarray],
    folds: int,
    seed: int,
    method: str,
    distance: str,
    compare: str,
    fit: str,
    progress: _Progress = None,
) -> Tuple[Dict[str, Any], List[str]]: ...
def optimize_defaults() -> Tuple[str, float, Optional[int], Optional[float], int, Optional[int], int, int]: ...
def optimize(
    x: np.ndarray,
    labels: List[_TaskVariable],
    measure: str,
    watch: List[str],
    optimizer: str,
    lr: float,
    steps: int,
    stop: Optional[float],
    seed: int,
    snapshot_every: int,
    decode_every: int,
    pc_every: int,
    replicate_nan: bool,
    progress: _Progress = None,
) -> Tuple[Dict[str, Any], List[str]]: ...
def joint(
    x: np.ndarray,
    a: str,
    b: str,
    per_side: int,
    steps: int,
    lr: float,
    seed: int,
    progress: _Progress = None,
) -> Tuple[Dict[str, Any], List[str]]: ...
