//! Built-in pruning demos: seeded "DNN-like" features that plant the IT geometry, the real
//! category features of the 92 images, and the exact IT target RDMs.

use nalgebra::DMatrix;

use super::rdm::rdm;
use super::select::permutation;
use super::Rdm;
use crate::rng::Rng;

/// Names of the built-in pruning feature sets.
pub const DEMO_FEATURES: &[&str] = &[
    "prune-demo-mit",
    "prune-demo-hit",
    "prune-categories-mit",
    "prune-categories-hit",
];

/// Names of the 12 category-indicator features of the 92 images, in rsatoolbox's column order
/// (`category_vectors_92x12.npy`: its own abbreviations, kept so results can be looked up).
pub const CATEGORY_FEATURES: [&str; 12] = [
    "animate",
    "inanim",
    "human",
    "nonhumani",
    "body",
    "face",
    "natObj",
    "artiObj",
    "rand24",
    "rand48",
    "other48",
    "monkeyape",
];

const CATEGORY_VECTORS: &[u8] =
    include_bytes!("../../../datasets/kriegeskorte2008_category_vectors.npy");

/// The real 92 × 12 category-indicator features of Kriegeskorte et al. 2008's images
/// (rsatoolbox, MIT licence; datasets/PROVENANCE.md), 0/1 as f64: the legally shippable real
/// model features the pruning demos `prune-categories-*` select from. Three columns (`rand24`,
/// `rand48`, `other48`) are rsatoolbox's random control groupings, which a selection should
/// drop.
pub fn category_features() -> DMatrix<f64> {
    // Embedded and checked by the tests; a failure here is a build defect.
    let a = crate::data::npy::read_npy(CATEGORY_VECTORS)
        .expect("embedded category vectors are a valid .npy");
    DMatrix::from_row_slice(a.shape[0], a.shape[1], &a.values)
}

/// A built-in pruning demo by name: (features, the target RDM it is meant for). The
/// `prune-demo-*` sets plant that IT geometry; `prune-categories-*` use the real category
/// features against that IT RDM.
pub fn builtin_demo(name: &str) -> Option<(DMatrix<f64>, DMatrix<f64>)> {
    let target = match name {
        "prune-demo-mit" | "prune-categories-mit" => "kriegeskorte2008-mit",
        "prune-demo-hit" | "prune-categories-hit" => "kriegeskorte2008-hit",
        _ => return None,
    };
    let (f, _) = builtin_features(name)?;
    Some((f, builtin_target_rdm(target)?))
}

/// Signal features planted in the demo.
pub const DEMO_SIGNAL: usize = 24;
/// Nuisance features in the demo.
pub const DEMO_NUISANCE: usize = 72;

/// The "DNN-like" demo: 92 stimuli × 96 features. `DEMO_SIGNAL` features are the top
/// `DEMO_SIGNAL` classical-MDS dimensions of the IT embedding `embedding` (92 × 91, columns in
/// decreasing variance) mixed by a seeded random rotation (which keeps their squared-Euclidean
/// RDM); `DEMO_NUISANCE` features mix an unrelated seeded 8-dimensional latent, with 3× the
/// signal's total variance; every feature gets iid noise of 5% of the mean signal feature SD.
/// The columns are shuffled; returns (features, planted signal columns ascending).
pub fn demo_features(embedding: &DMatrix<f64>, seed: u64) -> (DMatrix<f64>, Vec<usize>) {
    let n = embedding.nrows();
    let k = DEMO_SIGNAL.min(embedding.ncols());
    let mut rng = Rng::new(seed);
    let g = DMatrix::from_fn(k, k, |_, _| rng.normal());
    let q = g.qr().q();
    let top = embedding.columns(0, k).into_owned();
    let signal = &top * &q;
    let sig_var: f64 = crate::linalg::center_columns(&signal).norm_squared();
    let latent = DMatrix::from_fn(n, 8, |_, _| rng.normal());
    let mix = DMatrix::from_fn(8, DEMO_NUISANCE, |_, _| rng.normal());
    let mut nuis = latent * mix;
    let nv = crate::linalg::center_columns(&nuis).norm_squared();
    nuis *= (3.0 * sig_var / nv).sqrt();
    let noise_sd = 0.05 * (sig_var / (n as f64 * k as f64)).sqrt();
    let p = k + DEMO_NUISANCE;
    let order = permutation(p, seed ^ 0xDE30);
    let mut f = DMatrix::zeros(n, p);
    let mut planted = Vec::with_capacity(k);
    for (src, &dst) in order.iter().enumerate() {
        for i in 0..n {
            let v = if src < k {
                signal[(i, src)]
            } else {
                nuis[(i, src - k)]
            };
            f[(i, dst)] = v + noise_sd * rng.normal();
        }
        if src < k {
            planted.push(dst);
        }
    }
    planted.sort_unstable();
    (f, planted)
}

/// The exact IT target RDM of a built-in 92-image dataset (squared Euclidean of its MDS
/// embedding, which reproduces the published RDM to ~4e-15), by name: `kriegeskorte2008-mit`
/// or `kriegeskorte2008-hit`.
pub fn builtin_target_rdm(name: &str) -> Option<DMatrix<f64>> {
    let rec = match name {
        "kriegeskorte2008-mit" => crate::data::datasets::kriegeskorte2008_mit(),
        "kriegeskorte2008-hit" => crate::data::datasets::kriegeskorte2008_hit(),
        _ => return None,
    };
    let mut r = rdm(&rec.data, Rdm::SquaredEuclidean);
    // Exact zeros on the diagonal and exact symmetry (already so by construction).
    for i in 0..r.nrows() {
        r[(i, i)] = 0.0;
    }
    Some(r)
}

/// A built-in demo feature set by name (seed 0): `prune-demo-mit` plants the monkey IT
/// geometry, `prune-demo-hit` the human IT geometry; `prune-categories-mit`/`-hit` are the
/// real category features ([`category_features`], nothing planted: an empty list). Returns
/// (features, planted columns).
pub fn builtin_features(name: &str) -> Option<(DMatrix<f64>, Vec<usize>)> {
    if matches!(name, "prune-categories-mit" | "prune-categories-hit") {
        return Some((category_features(), Vec::new()));
    }
    let rec = match name {
        "prune-demo-mit" => crate::data::datasets::kriegeskorte2008_mit(),
        "prune-demo-hit" => crate::data::datasets::kriegeskorte2008_hit(),
        _ => return None,
    };
    Some(demo_features(&rec.data, 0))
}
