"""Shared fixtures: the native CLI to compare against, and the repository's paths.

The CLI is the release binary (`cargo build --release --bin simscope`, a no-op when it is up
to date; the end-to-end tests use the same one), or `$SIMSCOPE_CLI` if set.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error(self) -> str:
        """The message after `error: ` (the CLI exits with 2 and prints one such line)."""
        lines = [l for l in self.stderr.splitlines() if l.startswith("error: ")]
        assert self.returncode == 2 and len(lines) == 1, (self.returncode, self.stderr)
        return lines[0][len("error: ") :]

    @property
    def warnings(self) -> List[str]:
        return [l[len("warning: ") :] for l in self.stderr.splitlines() if l.startswith("warning: ")]


def _cli_path() -> Path:
    if os.environ.get("SIMSCOPE_CLI"):
        return Path(os.environ["SIMSCOPE_CLI"])
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "simscope"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "release" / "simscope"


@pytest.fixture(scope="session")
def cli():
    exe = _cli_path()

    def run(*args: Any, check: bool = True) -> CliRun:
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        r = CliRun(p.returncode, p.stdout, p.stderr)
        if check:
            assert p.returncode == 0, p.stderr
        return r

    return run
