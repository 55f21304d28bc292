"""Regenerate the embedded built-in dataset files from the shared recordings.

Run from the repository root with the shared data beside it (../shared/data):
    python3 datasets/make_datasets.py [path/to/shared/data]
Needs only numpy. The build and the tests never run this; the outputs are committed.
"""
import json
import sys
from pathlib import Path

import numpy as np

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path(__file__).resolve().parent


def save(name, a):
    np.save(OUT / name, a, allow_pickle=False)
    print(f"{name}: shape {a.shape}, dtype {a.dtype.str}, {(OUT / name).stat().st_size} bytes")


# --- hatsopoulos2007: 10-ms samples at t = -800 + 10k ms (k = 0..120). 50-ms bin j (j = 0..9)
# averages the five samples k = 70 + 5j .. 74 + 5j, i.e. t in [-100 + 50j, -50 + 50j) ms; the
# +400 ms sample (k = 120) is not used. Sum in sample order, then divide by 5.
fr = np.load(SRC / "hatsopoulos2007_M1_centerout/firing_rate_time_x_cond_x_neuron.npy")
assert fr.shape == (121, 8, 141)
t = -800 + 10 * np.arange(121)
assert t[70] == -100 and t[119] == 390 and t[120] == 400
binned = np.empty((10, 8, 141))
for j in range(10):
    k0 = 70 + 5 * j
    s = fr[k0].copy()
    for k in range(k0 + 1, k0 + 5):
        s = s + fr[k]
    binned[j] = s / 5.0
save("hatsopoulos2007_50ms.npy", binned)

# --- golub2018: before-learning spike counts (integers 0..14) as uint8; the labels are
# 8 blocks of 69 samples at 0, 45, ..., 315 degrees, so they are not stored.
g = np.load(SRC / "golub2018_bci_M1/beforeLearning_spike_counts_samples_x_units.npy")
assert g.shape == (552, 86) and np.all(g == np.round(g)) and g.min() >= 0 and g.max() < 256
d = np.load(SRC / "golub2018_bci_M1/beforeLearning_cursor_to_target_direction_deg.npy")
assert np.array_equal(d, 45.0 * (np.arange(552) // 69))
save("golub2018_before_counts.npy", g.astype(np.uint8))

# --- golub2018 after learning: the example model of `simscope compare` (not a built-in);
# same directions, sample for sample, as before learning.
ga = np.load(SRC / "golub2018_bci_M1/afterLearning_spike_counts_samples_x_units.npy")
assert ga.shape == (552, 86) and (ga == np.round(ga)).all() and 0 <= ga.min() and ga.max() < 256
da = np.load(SRC / "golub2018_bci_M1/afterLearning_cursor_to_target_direction_deg.npy")
assert (da == d).all()
save("golub2018_after_counts.npy", ga.astype(np.uint8))

# --- kriegeskorte2008: classical-MDS embeddings (92, 91) of the monkey IT RDM and of the mean
# human IT RDM, float64 as shipped; category code per image (uint8):
# 0 human body, 1 human face, 2 animal body, 3 animal face, 4 natural object, 5 artificial object.
for tag, f in [("mit", "mIT_674neurons_mds.npy"), ("hit", "hIT_fMRI_mean8_mds.npy")]:
    m = np.load(SRC / "rsatoolbox_92images/mds" / f)
    assert m.shape == (92, 91) and m.dtype == np.float64
    save(f"kriegeskorte2008_{tag}_mds.npy", m)
cv = np.load(SRC / "rsatoolbox_92images/category_vectors_92x12.npy").astype(int)
names = json.load(open(SRC / "manifest.json"))["category_vectors"]["labels"]
col = {n: cv[:, i] for i, n in enumerate(names)}
cat = np.full(92, 255, dtype=np.uint8)
cat[(col["human"] == 1) & (col["body"] == 1)] = 0
cat[(col["human"] == 1) & (col["face"] == 1)] = 1
cat[(col["nonhumani"] == 1) & (col["body"] == 1)] = 2
cat[(col["nonhumani"] == 1) & (col["face"] == 1)] = 3
cat[col["natObj"] == 1] = 4
cat[col["artiObj"] == 1] = 5
assert np.all(cat < 6)
assert np.array_equal(cat < 4, col["animate"] == 1)
save("kriegeskorte2008_category.npy", cat)
# The 12 category-indicator vectors themselves (0/1, uint8 is exact): the pruning demo's real
# feature set (`prune-categories-mit`, `prune-categories-hit`; docs/pruning.md). Columns in
# rsatoolbox's order: animate, inanim, human, nonhumani, body, face, natObj, artiObj, rand24,
# rand48, other48, monkeyape.
assert set(np.unique(cv)) <= {0, 1}
save("kriegeskorte2008_category_vectors.npy", cv.astype(np.uint8))
