"""Seed corpus for the `parse` fuzz target from the test fixtures (first byte = entry point)."""
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "tests/fixtures"
out = Path(__file__).resolve().parent / "seeds"
out.mkdir(exist_ok=True)
sel = {".npy": [0, 1, 3], ".npz": [2], ".csv": [4], ".json": [5]}
for d in ["valid", "bad"]:
    for f in sorted((root / d).iterdir()):
        b = f.read_bytes()
        if len(b) > 20000 or f.name.lower() == "expected.json":
            continue
        for s in sel.get(f.suffix, []):
            out.joinpath(f"{d}_{f.name}_{s}").write_bytes(bytes([s]) + b)
