"""Errors and warnings: the CLI's ``error: MESSAGE`` is ``SimscopeError(MESSAGE)`` here, and
its ``warning: MESSAGE`` lines are ``SimscopeWarning``s."""

from __future__ import annotations

import warnings
from typing import Sequence

from ._core import SimscopeError

SimscopeError.__module__ = "simscope"
SimscopeError.__doc__ = (
    "Bad input or an analysis that cannot run: a ValueError whose message is the one the "
    "CLI prints after `error: ` (what was found, and what to do)."
)


class SimscopeWarning(UserWarning):
    """A warning from the core (what the CLI prints as ``warning: …`` on stderr)."""

    __module__ = "simscope"


def warn(messages: Sequence[str], stacklevel: int = 3) -> None:
    for m in messages:
        warnings.warn(m, SimscopeWarning, stacklevel=stacklevel)


__all__ = ["SimscopeError", "SimscopeWarning", "warn"]
