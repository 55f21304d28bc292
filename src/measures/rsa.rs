//! Representational similarity analysis (spec §2.13). RDMs over the n flattened rows:
//! * correlation distance R = 1 − ZZᵀ, z_i the row (condition pattern) centred across neurons
//!   and normalised (rsatoolbox "correlation");
//! * squared Euclidean distance D = diag(K)1ᵀ + 1diag(K)ᵀ − 2K, K = YYᵀ.
//!
//! compared by Pearson r of the upper triangles, their Spearman ρ or Kendall τ-a (score-only:
//! ranks have no gradient) or by the cosine of the full matrices. The X
//! RDM is prepared once; a step costs O(n²q) and n² memory.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Built, Ctx, Def, Group, List::*};
use super::kernel::gram_flops;
use super::{degenerate, Direction, Measure};
use crate::linalg::{center_columns, center_columns_mut, dot, gemm, gram, Op};
use crate::target::Target;

const RSA_CITE: &str = "Kriegeskorte, Mur, Bandettini (2008) Representational similarity analysis, Front. Syst. Neurosci.; rsatoolbox";
/// Correlation-distance RDMs ignore each condition pattern's mean and scale.
const ROW_INVARIANT: &[&str] = &[
    "permutation",
    "isotropic-scaling",
    "row-shift",
    "row-positive-scaling",
];
/// Squared-Euclidean RDMs are distances between condition patterns: rigid motions and
/// isotropic scaling of Y keep their ranks and correlations.
const EUCLID_INVARIANT: &[&str] = &["orthogonal", "isotropic-scaling", "translation"];

pub const RSA_CORRELATION_PEARSON: Def = Def {
    id: "rsa-correlation-pearson",
    aliases: &[
        "rsa-rdm=correlation-similarity=upper_triangular_correlation-score",
        "rsa-rdm=correlation-compare=corr",
        "rsa-rdm=correlation-compare=pearson",
        "rsa",
    ],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Pearson)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Pearson r of their upper triangles",
    rewards: "the same pattern of which conditions are alike (correlation distance between condition patterns), up to a linear relation",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Rdm::Correlation, Compare::Pearson),
    flops: gram_flops,
    theory: None,
    lists: &[(Watch, 6), (Calibrate, 6), (Compare, 7)],
};

pub const RSA_CORRELATION_COSINE: Def = Def {
    id: "rsa-correlation-cosine",
    aliases: &["rsa-rdm=correlation-compare=cosine"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, cosine)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, cosine of the matrices",
    rewards: "the same correlation distances between condition patterns, proportionally (the cosine does not subtract the mean distance)",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Rdm::Correlation, Compare::Cosine),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_CORR: Def = Def {
    id: "rsa-euclidean-corr",
    aliases: &[
        "rsa-rdm=squared_euclidean-compare=corr",
        "rsa-rdm=squared_euclidean-compare=pearson",
    ],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Pearson)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Pearson r of their upper triangles",
    rewards: "the same squared distances between condition patterns, up to a linear relation: dominated by the high-variance PCs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Rdm::SquaredEuclidean, Compare::Pearson),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_COSINE: Def = Def {
    id: "rsa-euclidean-cosine",
    aliases: &["rsa-rdm=squared_euclidean-compare=cosine"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, cosine)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, cosine of the matrices",
    rewards: "the same squared distances between condition patterns, proportionally",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Rdm::SquaredEuclidean, Compare::Cosine),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// Why the rank-based comparisons cannot be optimised.
const RANK_BASED: &str = "rank-based: the score is piecewise constant in Y (its gradient is zero almost everywhere), so it can be watched, compared and reported but not optimised";

pub const RSA_CORRELATION_SPEARMAN: Def = Def {
    id: "rsa-correlation-spearman",
    aliases: &["rsa-rdm=correlation-compare=spearman"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Spearman)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Spearman ρ of their upper triangles (ties averaged)",
    rewards: "the same order of which conditions are more alike than others (correlation distance), whatever monotonic relation links the two RDMs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, Rdm::Correlation, Compare::Spearman),
    flops: gram_flops,
    theory: None,
    lists: &[(Watch, 7)],
};

pub const RSA_EUCLIDEAN_SPEARMAN: Def = Def {
    id: "rsa-euclidean-spearman",
    aliases: &["rsa-rdm=squared_euclidean-compare=spearman"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Spearman)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Spearman ρ of their upper triangles (ties averaged)",
    rewards: "the same order of squared distances between condition patterns, whatever monotonic relation links the two RDMs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, Rdm::SquaredEuclidean, Compare::Spearman),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_CORRELATION_TAU_A: Def = Def {
    id: "rsa-correlation-tau_a",
    aliases: &["rsa-rdm=correlation-compare=tau_a"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Kendall τ-a)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Kendall's τ-a of their upper triangles (tied pairs count as neither concordant nor discordant; rsatoolbox's default for models with tied predictions)",
    rewards: "the same order of which conditions are more alike than others (correlation distance), pair by pair, penalising a model that predicts ties",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: "Kendall (1938) Biometrika; Nili et al. (2014) A toolbox for representational similarity analysis, PLoS Comput. Biol.; rsatoolbox",
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, Rdm::Correlation, Compare::KendallTauA),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_TAU_A: Def = Def {
    id: "rsa-euclidean-tau_a",
    aliases: &["rsa-rdm=squared_euclidean-compare=tau_a"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Kendall τ-a)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Kendall's τ-a of their upper triangles",
    rewards: "the same order of squared distances between condition patterns, pair by pair, penalising a model that predicts ties",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: "Kendall (1938) Biometrika; Nili et al. (2014) PLoS Comput. Biol.; rsatoolbox",
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, Rdm::SquaredEuclidean, Compare::KendallTauA),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// The shape checks every RSA score shares, then the measure.
fn build(c: &Ctx, rdm: Rdm, cmp: Compare) -> Built {
    let (n, p, q) = (c.n(), c.p(), c.q);
    if rdm == Rdm::Correlation && (p < 2 || q < 2) {
        return Err(c.unsupported(format!(
            "correlation-distance RDMs need at least 2 neurons on each side (p = {p}, q = {q})"
        )));
    }
    if n < 3 {
        return Err(c.unsupported(format!("an RDM comparison needs n ≥ 3 conditions, got {n}")));
    }
    let t = c.target();
    let mut warnings = Vec::new();
    if rdm == Rdm::Correlation {
        // A condition whose pattern is the same on every neuron has no correlation with any
        // other: its RDM entries are undefined. Say so rather than score them silently.
        if let Some(w) = flat_rows_warning("X", &t.raw()) {
            warnings.push(w);
        }
        if p == 2 {
            warnings.push(
                "X has 2 neurons: centred across neurons, every condition pattern is ±(1, −1), so every correlation distance in X's RDM is 0 or 2 and the RSA score can barely move; use a Euclidean RDM".into(),
            );
        }
    }
    let (m, mut w) = built(Rsa::new(t, rdm, cmp))?;
    w.append(&mut warnings);
    Ok((m, w))
}

/// Whether a (canonical) RSA id builds correlation-distance RDMs.
pub fn uses_correlation_rdm(id: &str) -> bool {
    id.starts_with("rsa-correlation-")
}

/// The rows (conditions) of `m` with the same value in every column, where a correlation
/// distance is undefined.
pub fn flat_rows(m: &DMatrix<f64>) -> Vec<usize> {
    (0..m.nrows())
        .filter(|&i| {
            let row = m.row(i);
            let mean = row.mean();
            row.iter()
                .all(|v| (v - mean).abs() <= 1e-12 * mean.abs().max(1.0))
        })
        .collect()
}

/// The warning for `side`'s (X's or Y's) flat rows, naming them (flattened, from 0), or None.
pub fn flat_rows_warning(side: &str, m: &DMatrix<f64>) -> Option<String> {
    let flat = flat_rows(m);
    if flat.is_empty() {
        return None;
    }
    let shown: Vec<String> = flat.iter().take(8).map(|i| i.to_string()).collect();
    let more = if flat.len() > 8 { ", …" } else { "" };
    Some(format!(
        "{} of {side}'s {} conditions (flattened rows {}{more}) have the same value on every unit: their correlation distance to every other condition is undefined, so correlation-RDM RSA is not defined on them (their RDM rows are set to 0)",
        flat.len(),
        m.nrows(),
        shown.join(", ")
    ))
}

/// How two RDMs are compared (the vocabulary RSA and feature pruning share).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Pearson r of the upper-triangle vectors (rsatoolbox `compare=corr`).
    Pearson,
    /// Cosine of the full matrices (= of the upper triangles, zero diagonals).
    Cosine,
    /// Pearson r of the upper triangles' ranks, ties averaged ([`ranks`]); rank-based, so
    /// its gradient is zero almost everywhere.
    Spearman,
    /// Kendall's τ-a of the upper triangles ([`kendall_tau_a`]); rank-based.
    KendallTauA,
}

/// Which RDM is built over the n rows (conditions or stimuli).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rdm {
    /// 1 − Pearson r between two rows (each centred across its columns).
    Correlation,
    /// Σ_j (y_aj − y_bj)².
    SquaredEuclidean,
}

/// Ranks 1..n with ties averaged. Values within 1e-12 × max |v| of their sorted neighbour count
/// as tied, so rounding differences (e.g. correlation distances of exactly 0 or 2 computed two
/// ways) do not reorder ranks.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let tol = 1e-12 * v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut r = vec![0.0; v.len()];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k + 1;
        while e < idx.len() && v[idx[e]] - v[idx[e - 1]] <= tol {
            e += 1;
        }
        let avg = (k + e + 1) as f64 / 2.0;
        for &i in &idx[k..e] {
            r[i] = avg;
        }
        k = e;
    }
    r
}

/// Pearson r; 0 when either vector is constant (no fit).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Kendall's τ-a = (concordant − discordant pairs) / (m(m − 1)/2), tied pairs counting as
/// neither, in O(m log m) (Knight 1966: sort by a then b, count b's inversions by merge sort).
/// Ties are those of [`ranks`] (within 1e-12 × max |v|), so both comparisons agree on them.
pub fn kendall_tau_a(a: &[f64], b: &[f64]) -> f64 {
    let m = a.len();
    if m < 2 {
        return 0.0;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|&i, &j| ra[i].total_cmp(&ra[j]).then(rb[i].total_cmp(&rb[j])));
    let pairs = |t: u64| t * t.saturating_sub(1) / 2;
    // Pairs tied in a, and tied in both.
    let (mut tied_a, mut tied_ab) = (0u64, 0u64);
    let mut k = 0;
    while k < m {
        let mut e = k + 1;
        while e < m && ra[idx[e]] == ra[idx[k]] {
            e += 1;
        }
        tied_a += pairs((e - k) as u64);
        let mut j = k;
        while j < e {
            let mut f = j + 1;
            while f < e && rb[idx[f]] == rb[idx[j]] {
                f += 1;
            }
            tied_ab += pairs((f - j) as u64);
            j = f;
        }
        k = e;
    }
    let mut seq: Vec<f64> = idx.iter().map(|&i| rb[i]).collect();
    let mut buf = vec![0.0; m];
    let swaps = merge_count(&mut seq, &mut buf);
    // seq is now b's ranks sorted: count pairs tied in b.
    let mut tied_b = 0u64;
    let mut k = 0;
    while k < m {
        let mut e = k + 1;
        while e < m && seq[e] == seq[k] {
            e += 1;
        }
        tied_b += pairs((e - k) as u64);
        k = e;
    }
    let n0 = pairs(m as u64);
    let s = n0 as i128 - tied_a as i128 - tied_b as i128 + tied_ab as i128 - 2 * swaps as i128;
    s as f64 / n0 as f64
}

/// Sort `v` ascending by merge sort and return the number of strict inversions (i < j with
/// v_i > v_j).
fn merge_count(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut count =
        merge_count(&mut v[..mid], &mut buf[..mid]) + merge_count(&mut v[mid..], &mut buf[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[j] < v[i] {
            buf[k] = v[j];
            j += 1;
            count += (mid - i) as u64;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    let k = k + mid - i;
    buf[k..n].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    count
}

/// Row norms ‖ỹ_i‖ at or below this count as constant rows (correlation undefined).
const ROW_ATOL: f64 = 1e-300;

/// An RSA score against a prepared target RDM.
pub struct Rsa {
    rdm: Rdm,
    cmp: Compare,
    /// The target RDM transformed for the comparison and normalised to unit norm.
    a: DMatrix<f64>,
    /// Kendall's τ-a: the target RDM's upper triangle as is (empty otherwise).
    upper: Vec<f64>,
}

/// The upper triangle of a square matrix, row by row.
fn upper(m: &DMatrix<f64>) -> Vec<f64> {
    let n = m.nrows();
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| m[(i, j)])
        .collect()
}

/// Row-centred, row-normalised Z and the row norms (0 marks a constant row).
fn corr_rows(y: &DMatrix<f64>) -> (DMatrix<f64>, Vec<f64>) {
    let (n, q) = y.shape();
    let mut z = y.clone();
    let mut norms = vec![0.0; n];
    for i in 0..n {
        let mean = z.row(i).sum() / q as f64;
        for j in 0..q {
            z[(i, j)] -= mean;
        }
        norms[i] = z.row(i).norm();
    }
    for i in 0..n {
        if norms[i] > ROW_ATOL {
            let inv = 1.0 / norms[i];
            for j in 0..q {
                z[(i, j)] *= inv;
            }
        } else {
            norms[i] = 0.0;
            for j in 0..q {
                z[(i, j)] = 0.0;
            }
        }
    }
    (z, norms)
}

fn build_rdm(rdm: Rdm, y: &DMatrix<f64>) -> (DMatrix<f64>, Aux) {
    match rdm {
        Rdm::Correlation => {
            let (z, norms) = corr_rows(y);
            let mut r = gram(&z, Op::N);
            r.iter_mut().for_each(|v| *v = 1.0 - *v);
            // A constant row has no correlation with anything: its RDM row and column are
            // set to 0 (rsatoolbox's NaN, zeroed), as in the fixtures' textbook values.
            for (i, _) in norms.iter().enumerate().filter(|(_, &nr)| nr == 0.0) {
                r.row_mut(i).fill(0.0);
                r.column_mut(i).fill(0.0);
            }
            (r, Aux::Corr { z, norms })
        }
        Rdm::SquaredEuclidean => {
            let yc = center_columns(y);
            let k = gram(&yc, Op::N);
            let n = k.nrows();
            let d = DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    0.0
                } else {
                    (k[(i, i)] + k[(j, j)] - 2.0 * k[(i, j)]).max(0.0)
                }
            });
            (d, Aux::Euclid { yc })
        }
    }
}

enum Aux {
    Corr { z: DMatrix<f64>, norms: Vec<f64> },
    Euclid { yc: DMatrix<f64> },
}

/// Prepare an RDM for the comparison: Pearson → off-diagonal entries minus their mean, diagonal
/// zero; Spearman → the same on the entries' ranks; cosine → as is. Returns the norm before normalising.
fn transform(cmp: Compare, m: &mut DMatrix<f64>) -> f64 {
    let n = m.nrows();
    if cmp == Compare::Spearman {
        // Ranks of the upper triangle, mirrored: their Pearson r is the Spearman ρ.
        let r = ranks(&upper(m));
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                m[(i, j)] = r[k];
                m[(j, i)] = r[k];
                k += 1;
            }
        }
    }
    if cmp != Compare::Cosine {
        let cnt = (n * n.saturating_sub(1)) as f64;
        let mean = (m.sum() - m.diagonal().sum()) / cnt.max(1.0);
        for j in 0..n {
            for i in 0..n {
                m[(i, j)] = if i == j { 0.0 } else { m[(i, j)] - mean };
            }
        }
    }
    m.norm()
}

impl Rsa {
    /// Needs n ≥ 3 (Pearson) or n ≥ 2, and p, q ≥ 2 for the correlation RDM (the registry
    /// checks).
    pub fn new(target: Arc<Target>, rdm: Rdm, cmp: Compare) -> Self {
        let x = match rdm {
            Rdm::Correlation => target.raw(),
            Rdm::SquaredEuclidean => target.xs.clone(),
        };
        let (mut a, _) = build_rdm(rdm, &x);
        if cmp == Compare::KendallTauA {
            return Rsa {
                rdm,
                cmp,
                upper: upper(&a),
                a,
            };
        }
        let na = transform(cmp, &mut a);
        if na > 0.0 {
            a /= na;
        }
        Rsa {
            rdm,
            cmp,
            a,
            upper: Vec::new(),
        }
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let (mut c, aux) = build_rdm(self.rdm, y);
        if self.cmp == Compare::KendallTauA {
            let s = kendall_tau_a(&self.upper, &upper(&c));
            return match grad {
                Some(g) => degenerate(y, g, s),
                None => s,
            };
        }
        let nc = transform(self.cmp, &mut c);
        if nc == 0.0 {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        }
        // A correlation or cosine of unit vectors: rounding may not leave [−1, 1].
        let s = (dot(&self.a, &c) / nc).clamp(-1.0, 1.0);
        let Some(g) = grad else { return s };
        if self.cmp == Compare::Spearman {
            // Ranks are piecewise constant in Y.
            return degenerate(y, g, s);
        }
        // Γ = ∂s/∂RDM (symmetric): A/‖C‖ − s·C/‖C‖² (G3; for Pearson on the centred
        // off-diagonal matrices, whose centring projection is self-adjoint).
        c *= -s / (nc * nc);
        c += &self.a * (1.0 / nc);
        let gamma = c;
        let n = y.nrows();
        match aux {
            Aux::Euclid { yc } => {
                // Γ_K = diag(2Γ_D 1) − 2Γ_D; ∂s/∂Y = 2Γ_K Y (Γ_K has zero row sums).
                let mut gk = gamma * -2.0;
                for i in 0..n {
                    let rs: f64 = gk.row(i).sum();
                    gk[(i, i)] -= rs;
                }
                *g = DMatrix::zeros(n, y.ncols());
                gemm(2.0, &gk, Op::N, &yc, Op::N, 0.0, g);
                center_columns_mut(g);
            }
            Aux::Corr { z, norms } => {
                // R = 1 − ZZᵀ: ∂s/∂Z = −2ΓZ; back through normalisation and row centring.
                let q = y.ncols();
                let mut gz = DMatrix::zeros(n, q);
                gemm(-2.0, &gamma, Op::N, &z, Op::N, 0.0, &mut gz);
                for i in 0..n {
                    if norms[i] == 0.0 {
                        gz.row_mut(i).fill(0.0);
                        continue;
                    }
                    let proj: f64 = (0..q).map(|j| z[(i, j)] * gz[(i, j)]).sum();
                    for j in 0..q {
                        gz[(i, j)] = (gz[(i, j)] - proj * z[(i, j)]) / norms[i];
                    }
                    let mean = gz.row(i).sum() / q as f64;
                    for j in 0..q {
                        gz[(i, j)] -= mean;
                    }
                }
                *g = gz;
            }
        }
        s
    }
}

/// The RDM of the rows of `y` exactly as the RSA measures build it (correlation distance:
/// constant rows zeroed), for analyses that resample conditions and compare RDM entries
/// directly (`analysis::compare`'s bootstrap and permutations).
pub fn rdm_matrix(rdm: Rdm, y: &DMatrix<f64>) -> DMatrix<f64> {
    build_rdm(rdm, y).0
}

impl Measure for Rsa {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// τ-a by its definition, over every pair of pairs.
    fn tau_a_slow(a: &[f64], b: &[f64]) -> f64 {
        let (ra, rb) = (ranks(a), ranks(b));
        let m = a.len();
        let mut s = 0.0;
        for i in 0..m {
            for j in i + 1..m {
                s += (ra[i] - ra[j]).signum()
                    * (rb[i] - rb[j]).signum()
                    * f64::from(ra[i] != ra[j] && rb[i] != rb[j]);
            }
        }
        s / (m * (m - 1) / 2) as f64
    }

    #[test]
    fn kendall_tau_a_is_the_pair_count_with_ties_as_neither() {
        let mut r = crate::rng::Rng::new(7);
        for case in 0..40 {
            let m = 2 + case * 3;
            // Few distinct values on either side: many ties, some tied in both.
            let levels = 1 + case % 5;
            let a: Vec<f64> = (0..m)
                .map(|_| (r.uniform() * levels as f64).floor())
                .collect();
            let b: Vec<f64> = (0..m)
                .map(|i| {
                    if case % 3 == 0 {
                        r.normal()
                    } else {
                        (a[i] + (r.uniform() * 3.0).floor()).min(4.0)
                    }
                })
                .collect();
            let (fast, slow) = (kendall_tau_a(&a, &b), tau_a_slow(&a, &b));
            assert!((fast - slow).abs() < 1e-14, "case {case}: {fast} vs {slow}");
        }
        assert_eq!(kendall_tau_a(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(kendall_tau_a(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0);
        // All tied: no concordant or discordant pair.
        assert_eq!(kendall_tau_a(&[1.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]), 0.0);
    }
}
