//! Feature pruning after Tarigopula et al. 2023 ("Improved prediction of behavioral and neural
//! similarity spaces using pruned DNNs", Neural Networks): keep the model features whose RDM
//! best explains a brain RDM, with an honest out-of-sample evaluation.
//!
//! * **RDMs** of a feature subset S over stimuli: correlation distance 1 − r(x_i|S, x_j|S)
//!   (rows centred across the kept features) or squared Euclidean Σ_{f∈S}(x_if − x_jf)².
//! * **Fit**: Pearson or Spearman correlation of the upper triangles (pairs among a stimulus set).
//! * **Greedy paths** (backward elimination, forward selection) with exact incremental updates:
//!   squared Euclidean is a sum of per-feature terms, so toggling one feature changes every pair
//!   by one term; correlation distance keeps running sums P_ij = Σ_S x_if x_jf, P_ii and
//!   s_i = Σ_S x_if, from which c_ij = P_ij − s_i s_j/|S| and d_ij = 1 − c_ij/√(c_ii c_jj) follow
//!   in O(1) per pair. Scoring one candidate costs O(pairs) (Pearson) or O(pairs log pairs)
//!   (Spearman, a sort), so a greedy step costs O(features × pairs) (× log pairs for Spearman).
//!   After each committed step the state is recomputed from scratch (O(|S| × pairs), no drift).
//! * **Stopping** on validation fit: the path is also run on inner splits of the training
//!   stimuli and the number of kept features maximising the mean fit on pairs among the inner
//!   validation stimuli is used.
//! * **Honest evaluation**: a seeded k-fold split of stimuli; selection on training stimuli
//!   only; test fit on pairs among held-out stimuli; baselines: all features, and a reweighting
//!   of per-feature squared-difference RDMs by non-negative least squares (Lawson–Hanson).

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use crate::measures::{registry, Direction};
use crate::rng::Rng;
use crate::target::Target;

/// Distance of the model (and of a target recording's) RDM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// 1 − Pearson r between two stimuli's feature vectors (centred across features).
    Correlation,
    /// Σ_f (x_if − x_jf)².
    SqEuclidean,
}

/// How a model RDM is compared with the target RDM (on upper-triangle entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Pearson,
    /// Pearson of the ranks (ties get their average rank).
    Spearman,
}

/// Greedy direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Start from every feature, remove the one whose removal gives the best fit.
    Backward,
    /// Start from none, add the one whose addition gives the best fit.
    Forward,
}

/// Why pruning cannot run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PruneError {
    #[error("the target RDM must be square, got {rows} × {cols}")]
    NotSquare { rows: usize, cols: usize },
    #[error("the target RDM has a non-finite entry at ({i}, {j})")]
    NonFinite { i: usize, j: usize },
    #[error("the target RDM is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ by {diff:e} (tolerance {tol:e})")]
    NotSymmetric {
        i: usize,
        j: usize,
        diff: f64,
        tol: f64,
    },
    #[error("the target RDM's diagonal must be zero, but entry ({i}, {i}) is {value}")]
    NonZeroDiagonal { i: usize, value: f64 },
    #[error("the target RDM is constant off the diagonal: no fit can be computed")]
    ConstantTarget,
    #[error("the features have {features} stimuli (rows) but the target has {target}")]
    Mismatch { features: usize, target: usize },
    #[error("the features matrix has a non-finite value at ({i}, {j})")]
    NonFiniteFeature { i: usize, j: usize },
    #[error("pruning needs at least 2 features, got {0}")]
    TooFewFeatures(usize),
    #[error("pruning needs at least {need} stimuli for {folds} folds (each held-out fold needs 3 stimuli and each training set 6), got {n}")]
    TooFewStimuli { n: usize, folds: usize, need: usize },
    #[error("--folds must be at least 2, got {0}")]
    Folds(usize),
    #[error("cancelled")]
    Cancelled,
    #[error("fit measure: {0}")]
    Measure(String),
    #[error("`{0}` is a distance (lower = more similar); the fit must be a similarity measure")]
    NotSimilarity(String),
    #[error("a measure as the fit needs a target recording X (stimuli × units), not a target RDM")]
    MeasureNeedsRecording,
    #[error("the target recording has a non-finite value at ({i}, {j})")]
    NonFiniteTarget { i: usize, j: usize },
}

/// Validate a target RDM: square, finite, symmetric to `1e-6 × max |entry|` (at least 1e-12;
/// loose enough for RDMs computed in float32), zero diagonal (to the same tolerance). Only the
/// upper triangle is used afterwards.
pub fn validate_rdm(r: &DMatrix<f64>) -> Result<(), PruneError> {
    let (rows, cols) = r.shape();
    if rows != cols {
        return Err(PruneError::NotSquare { rows, cols });
    }
    let mut amax = 0.0f64;
    for j in 0..cols {
        for i in 0..rows {
            let v = r[(i, j)];
            if !v.is_finite() {
                return Err(PruneError::NonFinite { i, j });
            }
            amax = amax.max(v.abs());
        }
    }
    let tol = (1e-6 * amax).max(1e-12);
    for i in 0..rows {
        if r[(i, i)].abs() > tol {
            return Err(PruneError::NonZeroDiagonal {
                i,
                value: r[(i, i)],
            });
        }
        for j in i + 1..rows {
            let diff = (r[(i, j)] - r[(j, i)]).abs();
            if diff > tol {
                return Err(PruneError::NotSymmetric { i, j, diff, tol });
            }
        }
    }
    Ok(())
}

/// The full RDM (stimuli × stimuli) of a recording's rows. Correlation distance of a constant
/// row is 0 to everything (as in `measures::rsa`).
pub fn rdm(x: &DMatrix<f64>, distance: Distance) -> DMatrix<f64> {
    let n = x.nrows();
    let all: Vec<usize> = (0..x.ncols()).collect();
    let stims: Vec<usize> = (0..n).collect();
    let st = SubsetRdm::new(x, &stims, distance, &all);
    let v = st.values();
    let mut r = DMatrix::zeros(n, n);
    for (k, (&i, &j)) in st.pi.iter().zip(&st.pj).enumerate() {
        r[(i as usize, j as usize)] = v[k];
        r[(j as usize, i as usize)] = v[k];
    }
    r
}

/// Pairs (a, b), a < b, of positions in a stimulus list, in row-major order.
fn pairs(m: usize) -> (Vec<u32>, Vec<u32>) {
    let cap = m * m.saturating_sub(1) / 2;
    let (mut pi, mut pj) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    for a in 0..m {
        for b in a + 1..m {
            pi.push(a as u32);
            pj.push(b as u32);
        }
    }
    (pi, pj)
}

/// Upper-triangle entries of `r` over pairs among `stims` (in the order of [`pairs`]).
pub fn upper(r: &DMatrix<f64>, stims: &[usize]) -> Vec<f64> {
    let mut v = Vec::with_capacity(stims.len() * stims.len().saturating_sub(1) / 2);
    for a in 0..stims.len() {
        for b in a + 1..stims.len() {
            v.push(r[(stims[a], stims[b])]);
        }
    }
    v
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

/// Compare two upper-triangle vectors.
pub fn compare(a: &[f64], b: &[f64], c: Comparison) -> f64 {
    match c {
        Comparison::Pearson => pearson(a, b),
        Comparison::Spearman => pearson(&ranks(a), &ranks(b)),
    }
}

/// A target prepared for fast comparisons on one pair set: centred, unit norm (of the ranks for
/// Spearman).
struct PreparedTarget {
    t: Vec<f64>,
    cmp: Comparison,
}

impl PreparedTarget {
    fn new(raw: &[f64], cmp: Comparison) -> Self {
        let mut t = match cmp {
            Comparison::Pearson => raw.to_vec(),
            Comparison::Spearman => ranks(raw),
        };
        let m = t.iter().sum::<f64>() / t.len().max(1) as f64;
        t.iter_mut().for_each(|v| *v -= m);
        let nrm = t.iter().map(|v| v * v).sum::<f64>().sqrt();
        if nrm > 0.0 {
            t.iter_mut().for_each(|v| *v /= nrm);
        }
        PreparedTarget { t, cmp }
    }

    fn fit(&self, v: &[f64]) -> f64 {
        if self.cmp == Comparison::Spearman {
            return self.spearman_fit(v);
        }
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let (mut s, mut ss) = (0.0, 0.0);
        for (x, t) in v.iter().zip(&self.t) {
            let d = x - m;
            s += d * t;
            ss += d * d;
        }
        if ss > 0.0 {
            s / ss.sqrt()
        } else {
            0.0
        }
    }
}

impl PreparedTarget {
    /// Spearman fit without materialising the ranks: one sort of (value, index) pairs, ties
    /// grouped as in [`ranks`]; Σ(rank − mean)·t = Σ rank·t since t is centred.
    fn spearman_fit(&self, v: &[f64]) -> f64 {
        let n = v.len();
        if n < 2 {
            return 0.0;
        }
        let mut kv: Vec<(f64, u32)> = v.iter().enumerate().map(|(i, &x)| (x, i as u32)).collect();
        kv.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let tol = 1e-12 * v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mean = (n as f64 + 1.0) / 2.0;
        let (mut num, mut ss) = (0.0, 0.0);
        let mut k = 0;
        while k < n {
            let mut e = k + 1;
            while e < n && kv[e].0 - kv[e - 1].0 <= tol {
                e += 1;
            }
            let r = (k + e + 1) as f64 / 2.0;
            let d = r - mean;
            for &(_, i) in &kv[k..e] {
                num += r * self.t[i as usize];
            }
            ss += d * d * (e - k) as f64;
            k = e;
        }
        if ss > 0.0 {
            num / ss.sqrt()
        } else {
            0.0
        }
    }
}

/// Running state of a subset RDM over pairs among a set of stimuli.
pub struct SubsetRdm {
    distance: Distance,
    /// Features of the stimuli in the set, column-major: `x[f * m + a]`.
    x: Vec<f64>,
    m: usize,
    p: usize,
    pi: Vec<u32>,
    pj: Vec<u32>,
    active: Vec<bool>,
    count: usize,
    /// Squared Euclidean: the RDM; correlation: Σ_S x_a x_b per pair.
    acc: Vec<f64>,
    /// Correlation: Σ_S x_a² and Σ_S x_a per stimulus.
    diag: Vec<f64>,
    sums: Vec<f64>,
}

impl SubsetRdm {
    /// State for the features `active` of `f` over pairs among `stims`.
    pub fn new(f: &DMatrix<f64>, stims: &[usize], distance: Distance, active: &[usize]) -> Self {
        let (m, p) = (stims.len(), f.ncols());
        let mut x = Vec::with_capacity(m * p);
        for c in 0..p {
            for &s in stims {
                x.push(f[(s, c)]);
            }
        }
        let (pi, pj) = pairs(m);
        let mut act = vec![false; p];
        active.iter().for_each(|&c| act[c] = true);
        let mut st = SubsetRdm {
            distance,
            x,
            m,
            p,
            acc: vec![0.0; pi.len()],
            pi,
            pj,
            active: act,
            count: 0,
            diag: vec![0.0; m],
            sums: vec![0.0; m],
        };
        st.resync();
        st
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.p
    }

    /// Whether feature `c` is in the subset.
    pub fn is_active(&self, c: usize) -> bool {
        self.active[c]
    }

    /// The kept features, ascending.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.p).filter(|&c| self.active[c]).collect()
    }

    fn col(&self, c: usize) -> &[f64] {
        &self.x[c * self.m..(c + 1) * self.m]
    }

    /// Recompute the running sums from scratch (O(|S| × pairs)).
    pub fn resync(&mut self) {
        self.acc.iter_mut().for_each(|v| *v = 0.0);
        self.diag.iter_mut().for_each(|v| *v = 0.0);
        self.sums.iter_mut().for_each(|v| *v = 0.0);
        self.count = 0;
        for c in 0..self.p {
            if self.active[c] {
                self.count += 1;
                self.add_terms(c, 1.0);
            }
        }
    }

    fn add_terms(&mut self, c: usize, sign: f64) {
        let m = self.m;
        let col = &self.x[c * m..(c + 1) * m];
        match self.distance {
            Distance::SqEuclidean => {
                for k in 0..self.acc.len() {
                    let d = col[self.pi[k] as usize] - col[self.pj[k] as usize];
                    self.acc[k] += sign * d * d;
                }
            }
            Distance::Correlation => {
                for k in 0..self.acc.len() {
                    self.acc[k] += sign * col[self.pi[k] as usize] * col[self.pj[k] as usize];
                }
                for (a, &v) in col.iter().enumerate() {
                    self.diag[a] += sign * v * v;
                    self.sums[a] += sign * v;
                }
            }
        }
    }

    /// Toggle feature `c` incrementally (O(pairs)); call [`SubsetRdm::resync`] now and then.
    pub fn toggle(&mut self, c: usize) {
        let sign = if self.active[c] { -1.0 } else { 1.0 };
        self.active[c] = !self.active[c];
        if sign > 0.0 {
            self.count += 1;
        } else {
            self.count -= 1;
        }
        self.add_terms(c, sign);
    }

    /// The current RDM entries (pairs among the stimuli).
    pub fn values(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.acc.len()];
        self.write(None, &mut out);
        out
    }

    /// The RDM entries if feature `c` were toggled, without changing the state (O(pairs)).
    pub fn values_toggled(&self, c: usize, out: &mut Vec<f64>) {
        out.resize(self.acc.len(), 0.0);
        self.write(Some(c), out);
    }

    fn write(&self, toggle: Option<usize>, out: &mut [f64]) {
        let (sign, col) = match toggle {
            Some(c) => (if self.active[c] { -1.0 } else { 1.0 }, Some(self.col(c))),
            None => (0.0, None),
        };
        match self.distance {
            Distance::SqEuclidean => match col {
                Some(col) => {
                    for k in 0..out.len() {
                        let d = col[self.pi[k] as usize] - col[self.pj[k] as usize];
                        out[k] = self.acc[k] + sign * d * d;
                    }
                }
                None => out.copy_from_slice(&self.acc),
            },
            Distance::Correlation => {
                let cnt = self.count as f64 + sign;
                let m = self.m;
                // Centred self-products and sums per stimulus after the toggle.
                let mut s = vec![0.0; m];
                let mut inv = vec![0.0; m];
                for a in 0..m {
                    let (xa, ya) = match col {
                        Some(col) => (col[a], sign),
                        None => (0.0, 0.0),
                    };
                    let sa = self.sums[a] + ya * xa;
                    let paa = self.diag[a] + ya * xa * xa;
                    let caa = if cnt > 0.0 { paa - sa * sa / cnt } else { 0.0 };
                    s[a] = sa;
                    // Constant rows (relative to their scale) have no correlation.
                    inv[a] = if caa > 1e-12 * paa.max(f64::MIN_POSITIVE) && caa > 0.0 {
                        1.0 / caa.sqrt()
                    } else {
                        0.0
                    };
                }
                let icnt = if cnt > 0.0 { 1.0 / cnt } else { 0.0 };
                for (k, o) in out.iter_mut().enumerate() {
                    let (a, b) = (self.pi[k] as usize, self.pj[k] as usize);
                    let mut pab = self.acc[k];
                    if let Some(col) = col {
                        pab += sign * col[a] * col[b];
                    }
                    let (ia, ib) = (inv[a], inv[b]);
                    *o = if ia == 0.0 || ib == 0.0 {
                        0.0
                    } else {
                        1.0 - (pab - s[a] * s[b] * icnt) * ia * ib
                    };
                }
            }
        }
    }
}

/// Options of a pruning run.
#[derive(Clone, Debug)]
pub struct Options {
    pub distance: Distance,
    pub compare: Comparison,
    pub method: Method,
    /// Outer folds (k ≥ 2).
    pub folds: usize,
    pub seed: u64,
    /// Fraction of the training stimuli held out as the inner validation set (default 0.25).
    pub inner_fraction: f64,
    /// Number of seeded inner splits whose validation curves are averaged (default 3).
    pub inner_repeats: usize,
    /// Backward elimination removes one feature per step while at most this many remain;
    /// above it, it removes the worst 5% (ranked by their single-removal fits) per step.
    pub exact_below: usize,
    /// Forward selection stops after this many features (default 256: a full forward path costs
    /// O(features² × pairs)).
    pub max_kept: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            distance: Distance::Correlation,
            compare: Comparison::Pearson,
            method: Method::Backward,
            folds: 5,
            seed: 0,
            inner_fraction: 0.25,
            inner_repeats: 3,
            exact_below: 256,
            max_kept: 256,
        }
    }
}

/// A greedy path: `ranking[..n]` are the kept features after the step that left n of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub ranking: Vec<usize>,
    /// Numbers of kept features visited, in path order.
    pub grid: Vec<usize>,
    /// Fit on the pairs the path was built on, per grid entry.
    pub fit: Vec<f64>,
}

impl Path {
    /// Kept features (ascending) with `n` of them.
    pub fn kept(&self, n: usize) -> Vec<usize> {
        let mut k = self.ranking[..n].to_vec();
        k.sort_unstable();
        k
    }
}

/// Fit of a feature subset over pairs among `stims` by full recomputation.
pub fn fit_subset(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    kept: &[usize],
    opts: &Options,
) -> f64 {
    let sub = f.select_columns(kept);
    let sub = DMatrix::from_fn(stims.len(), kept.len(), |a, c| sub[(stims[a], c)]);
    let r = rdm(&sub, opts.distance);
    let all: Vec<usize> = (0..stims.len()).collect();
    compare(&upper(&r, &all), &upper(target, stims), opts.compare)
}

/// Fit of the first-feature candidates in forward selection with correlation distance: a single
/// feature has no correlation structure, so the first feature is the one whose squared-difference
/// RDM fits best.
fn first_forward(f: &SubsetRdm, t: &PreparedTarget) -> usize {
    let mut buf = Vec::new();
    let mut best = (f64::NEG_INFINITY, 0);
    for c in 0..f.p {
        let col = f.col(c);
        buf.clear();
        buf.extend(f.pi.iter().zip(&f.pj).map(|(&a, &b)| {
            let d = col[a as usize] - col[b as usize];
            d * d
        }));
        let v = t.fit(&buf);
        if v > best.0 {
            best = (v, c);
        }
    }
    best.1
}

/// A registered similarity measure as the fit (issue 7 item 2, "optionally any registered
/// measure"): the score between the kept features F[s, S] and the target recording X[s, :] on
/// one set s of stimuli (rows). Unlike RSA it has no incremental update, so a greedy step costs
/// one full measure evaluation per candidate (prepared target shared within a stimulus set,
/// the measure prepared once per subset width).
#[derive(Clone, Debug)]
pub struct MeasureFit {
    /// Canonical registry id.
    pub id: String,
    x: DMatrix<f64>,
}

impl MeasureFit {
    /// Check the id (a similarity: higher = better fits) against the target recording X.
    pub fn new(id: &str, x: DMatrix<f64>) -> Result<Self, PruneError> {
        let entry = registry::entry(id).map_err(|e| PruneError::Measure(e.to_string()))?;
        if entry.direction != Direction::Similarity {
            return Err(PruneError::NotSimilarity(entry.id));
        }
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                if !x[(i, j)].is_finite() {
                    return Err(PruneError::NonFiniteTarget { i, j });
                }
            }
        }
        Ok(MeasureFit { id: entry.id, x })
    }

    /// Stimuli (rows) of the target recording.
    pub fn stimuli(&self) -> usize {
        self.x.nrows()
    }

    /// X's rows `stims`, prepared as a measure target.
    fn target(&self, stims: &[usize]) -> Result<Arc<Target>, PruneError> {
        let xs = self.x.select_rows(stims);
        Target::new(&xs)
            .map(Arc::new)
            .map_err(|e| PruneError::Measure(format!("target X on {} stimuli: {e}", stims.len())))
    }

    /// The measure's score of the features `kept` on the rows `stims` (full recomputation);
    /// NaN when the measure cannot be computed for this width.
    pub fn score(
        &self,
        f: &DMatrix<f64>,
        stims: &[usize],
        kept: &[usize],
    ) -> Result<f64, PruneError> {
        let t = self.target(stims)?;
        let y = f.select_rows(stims).select_columns(kept);
        Ok(score_with(&self.id, &t, &y))
    }
}

/// `id`'s score of Y against a prepared target, NaN when it cannot be prepared for Y's width.
fn score_with(id: &str, t: &Arc<Target>, y: &DMatrix<f64>) -> f64 {
    match registry::prepare(id, t.clone(), y.ncols()) {
        Ok((m, _)) => m.score(y),
        Err(_) => f64::NAN,
    }
}

/// Scores feature subsets with a measure on one stimulus set.
struct MeasureScorer {
    id: String,
    target: Arc<Target>,
    /// F's rows of the stimulus set (all features).
    fs: DMatrix<f64>,
    active: Vec<bool>,
    /// The measure prepared for one width (every candidate of a step shares it).
    prepared: Option<(usize, Option<Box<dyn crate::measures::Measure>>)>,
}

impl MeasureScorer {
    fn score_subset(&mut self, subset: &[usize]) -> f64 {
        let q = subset.len();
        if q == 0 {
            return f64::NAN;
        }
        if self.prepared.as_ref().map(|p| p.0) != Some(q) {
            let m = registry::prepare(&self.id, self.target.clone(), q)
                .ok()
                .map(|(m, _)| m);
            self.prepared = Some((q, m));
        }
        let y = self.fs.select_columns(subset);
        match self.prepared.as_ref().and_then(|p| p.1.as_ref()) {
            Some(m) => m.score(&y),
            None => f64::NAN,
        }
    }

    fn subset(&self, toggled: Option<usize>) -> Vec<usize> {
        (0..self.active.len())
            .filter(|&c| self.active[c] != (Some(c) == toggled))
            .collect()
    }
}

/// What scores a candidate subset along a path.
enum Engine {
    /// RSA with exact incremental RDM updates.
    Rsa {
        t: PreparedTarget,
        st: SubsetRdm,
        buf: Vec<f64>,
        first_by_sqdiff: bool,
    },
    /// A registered measure, recomputed per candidate.
    Measure(MeasureScorer),
}

impl Engine {
    fn features(&self) -> usize {
        match self {
            Engine::Rsa { st, .. } => st.p,
            Engine::Measure(m) => m.active.len(),
        }
    }

    fn is_active(&self, c: usize) -> bool {
        match self {
            Engine::Rsa { st, .. } => st.is_active(c),
            Engine::Measure(m) => m.active[c],
        }
    }

    /// Fit if feature `c` were toggled; NaN (from a measure) ranks last.
    fn candidate(&mut self, c: usize) -> f64 {
        let v = match self {
            Engine::Rsa { t, st, buf, .. } => {
                st.values_toggled(c, buf);
                t.fit(buf)
            }
            Engine::Measure(m) => {
                let s = m.subset(Some(c));
                m.score_subset(&s)
            }
        };
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    }

    fn toggle(&mut self, c: usize) {
        match self {
            Engine::Rsa { st, .. } => st.toggle(c),
            Engine::Measure(m) => m.active[c] = !m.active[c],
        }
    }

    fn resync(&mut self) {
        if let Engine::Rsa { st, .. } = self {
            st.resync();
        }
    }

    fn fit(&mut self) -> f64 {
        match self {
            Engine::Rsa { t, st, .. } => t.fit(&st.values()),
            Engine::Measure(m) => {
                let s = m.subset(None);
                m.score_subset(&s)
            }
        }
    }
}

/// A greedy path built one step at a time, so a caller with a time budget (the page's worker,
/// which must answer Cancel within one slice) can interleave it with other work. Running it to
/// the end does exactly what [`greedy_path`] does.
pub struct PathRun {
    engine: Engine,
    method: Method,
    exact_below: usize,
    cap: usize,
    /// Backward: features removed so far, in order; forward: features added so far.
    order: Vec<usize>,
    grid: Vec<usize>,
    fit: Vec<f64>,
    remaining: usize,
    /// Candidates of the current step scored so far (fit, feature), and the next feature to
    /// consider: a measure step is split over several calls (see [`PathRun::step`]).
    scan: Vec<(f64, usize)>,
    cursor: usize,
}

/// Candidates a measure-fit step scores per call: one measure evaluation costs up to a few ms
/// in the browser, so a step over ~100 candidates is split to keep each call short.
const MEASURE_CANDIDATES_PER_CALL: usize = 4;

impl PathRun {
    /// The RSA path on pairs among `stims`, before its first step.
    pub fn new(f: &DMatrix<f64>, target: &DMatrix<f64>, stims: &[usize], opts: &Options) -> Self {
        let p = f.ncols();
        let t = PreparedTarget::new(&upper(target, stims), opts.compare);
        let active: Vec<usize> = match opts.method {
            Method::Backward => (0..p).collect(),
            Method::Forward => Vec::new(),
        };
        let st = SubsetRdm::new(f, stims, opts.distance, &active);
        let engine = Engine::Rsa {
            t,
            st,
            buf: Vec::new(),
            first_by_sqdiff: opts.distance == Distance::Correlation,
        };
        Self::start(engine, p, opts)
    }

    /// The path with a measure as the fit, on the rows `stims`.
    pub fn with_measure(
        f: &DMatrix<f64>,
        m: &MeasureFit,
        stims: &[usize],
        opts: &Options,
    ) -> Result<Self, PruneError> {
        let p = f.ncols();
        let engine = Engine::Measure(MeasureScorer {
            id: m.id.clone(),
            target: m.target(stims)?,
            fs: f.select_rows(stims),
            active: vec![opts.method == Method::Backward; p],
            prepared: None,
        });
        Ok(Self::start(engine, p, opts))
    }

    fn start(mut engine: Engine, p: usize, opts: &Options) -> Self {
        let (grid, fit) = match opts.method {
            Method::Backward => (vec![p], vec![engine.fit()]),
            Method::Forward => (Vec::new(), Vec::new()),
        };
        PathRun {
            engine,
            method: opts.method,
            exact_below: opts.exact_below,
            cap: opts.max_kept.clamp(1, p.max(1)),
            order: Vec::with_capacity(p),
            grid,
            fit,
            remaining: p,
            scan: Vec::new(),
            cursor: 0,
        }
    }

    /// (steps done, steps in all) for progress reports.
    pub fn progress(&self) -> (usize, usize) {
        let p = self.engine.features();
        match self.method {
            Method::Backward => (p - self.remaining, p.saturating_sub(1)),
            Method::Forward => (self.order.len(), self.cap),
        }
    }

    /// Whether the path is complete.
    pub fn is_done(&self) -> bool {
        match self.method {
            Method::Backward => self.remaining <= 1,
            Method::Forward => self.order.len() >= self.cap,
        }
    }

    /// Work towards one greedy step (a batch of removals above `exact_below`); nothing once
    /// done. With RSA each call is a whole step; with a measure each call scores at most
    /// `MEASURE_CANDIDATES_PER_CALL` candidates and the step is committed by the call that
    /// scores the last one (the path is the same either way).
    pub fn step(&mut self) {
        if self.is_done() {
            return;
        }
        let p = self.engine.features();
        let first_forward_rsa = self.method == Method::Forward
            && self.order.is_empty()
            && matches!(
                self.engine,
                Engine::Rsa {
                    first_by_sqdiff: true,
                    ..
                }
            );
        if !first_forward_rsa {
            let limit = match self.engine {
                Engine::Rsa { .. } => usize::MAX,
                Engine::Measure(_) => MEASURE_CANDIDATES_PER_CALL,
            };
            let mut scored = 0;
            while self.cursor < p && scored < limit {
                let c = self.cursor;
                self.cursor += 1;
                if self.engine.is_active(c) == (self.method == Method::Backward) {
                    self.scan.push((self.engine.candidate(c), c));
                    scored += 1;
                }
            }
            if self.cursor < p {
                return;
            }
        }
        self.cursor = 0;
        let mut cand = std::mem::take(&mut self.scan);
        match self.method {
            Method::Backward => {
                // Best fit after removal first; ties to the lower index.
                cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let drop = if self.remaining <= self.exact_below {
                    1
                } else {
                    (self.remaining / 20).max(1)
                };
                for &(_, c) in &cand[..drop] {
                    self.engine.toggle(c);
                    self.order.push(c);
                }
                self.engine.resync();
                self.remaining -= drop;
                self.grid.push(self.remaining);
                let fit = self.engine.fit();
                self.fit.push(fit);
            }
            Method::Forward => {
                let pick = match &self.engine {
                    Engine::Rsa { t, st, .. } if first_forward_rsa => first_forward(st, t),
                    _ => {
                        // The best addition; ties to the lower index (candidates ascend).
                        let mut best = (f64::NEG_INFINITY, usize::MAX);
                        for &(v, c) in &cand {
                            if v > best.0 || best.1 == usize::MAX {
                                best = (v, c);
                            }
                        }
                        best.1
                    }
                };
                cand.clear();
                self.engine.toggle(pick);
                self.engine.resync();
                self.order.push(pick);
                self.grid.push(self.order.len());
                let fit = self.engine.fit();
                self.fit.push(fit);
            }
        }
    }

    /// The finished path (call once [`PathRun::is_done`]).
    pub fn finish(self) -> Path {
        let p = self.engine.features();
        let ranking = match self.method {
            Method::Backward => {
                let mut ranking: Vec<usize> =
                    (0..p).filter(|&c| self.engine.is_active(c)).collect();
                ranking.extend(self.order.iter().rev());
                ranking
            }
            Method::Forward => {
                let mut ranking = self.order;
                ranking.extend((0..p).filter(|&c| !self.engine.is_active(c)));
                ranking
            }
        };
        Path {
            ranking,
            grid: self.grid,
            fit: self.fit,
        }
    }
}

/// The greedy path on pairs among `stims`. `tick` is called once per step with (done, total)
/// and returns false to cancel.
pub fn greedy_path(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    opts: &Options,
    tick: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Path, PruneError> {
    let mut run = PathRun::new(f, target, stims, opts);
    while !run.is_done() {
        let (done, total) = run.progress();
        if !tick(done, total) {
            return Err(PruneError::Cancelled);
        }
        run.step();
    }
    Ok(run.finish())
}

/// Fits along a path's grid on pairs among other stimuli (replaying the path incrementally).
pub fn path_fits(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    path: &Path,
    opts: &Options,
) -> Vec<f64> {
    let p = f.ncols();
    let t = PreparedTarget::new(&upper(target, stims), opts.compare);
    let mut out = Vec::with_capacity(path.grid.len());
    let mut cur = match opts.method {
        Method::Backward => p,
        Method::Forward => 0,
    };
    let init: Vec<usize> = path.ranking[..cur].to_vec();
    let mut st = SubsetRdm::new(f, stims, opts.distance, &init);
    let mut toggles = 0;
    for &n in &path.grid {
        while cur > n {
            cur -= 1;
            st.toggle(path.ranking[cur]);
            toggles += 1;
        }
        while cur < n {
            st.toggle(path.ranking[cur]);
            cur += 1;
            toggles += 1;
        }
        if toggles >= 32 {
            st.resync();
            toggles = 0;
        }
        out.push(t.fit(&st.values()));
    }
    out
}

/// Index of the largest value (the first, i.e. the earliest path step, on ties).
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// A selection on one stimulus set: the path, the inner validation curve and the chosen size.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Path on all the given stimuli.
    pub path: Path,
    /// Inner splits: validation fit per entry of `path.grid`, averaged over the repeats (each
    /// inner path's subsets of the same sizes; the grids agree because they depend only on the
    /// number of features).
    pub validation: Vec<f64>,
    /// Chosen number of kept features (maximum validation fit).
    pub n_kept: usize,
    /// The kept features, ascending (`path.kept(n_kept)`).
    pub kept: Vec<usize>,
}

/// Seeded permutation of 0..n.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// A selection ([`select`]) run one unit of work at a time: a greedy step, or the bookkeeping
/// between two paths. The inner paths come first (one per repeat, each scored on its
/// validation stimuli), then the path on all of `stims`.
pub struct SelectRun {
    stims: Vec<usize>,
    inner_seed: u64,
    nval: usize,
    repeats: usize,
    /// Inner repeat in progress (`repeats` once the main path runs).
    repeat: usize,
    val: Vec<usize>,
    path: PathRun,
    validation: Vec<f64>,
    /// The fit, when it is a measure rather than RSA.
    measure: Option<MeasureFit>,
}

impl SelectRun {
    /// The RSA selection.
    pub fn new(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        stims: &[usize],
        opts: &Options,
        inner_seed: u64,
    ) -> Self {
        Self::with_fit(f, target, None, stims, opts, inner_seed)
            .expect("an RSA path cannot fail to start")
    }

    /// The selection with `measure` as the fit (RSA when None).
    pub fn with_fit(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        measure: Option<&MeasureFit>,
        stims: &[usize],
        opts: &Options,
        inner_seed: u64,
    ) -> Result<Self, PruneError> {
        let nval = ((stims.len() as f64 * opts.inner_fraction).round() as usize)
            .clamp(3, stims.len().saturating_sub(3));
        let mut run = SelectRun {
            stims: stims.to_vec(),
            inner_seed,
            nval,
            repeats: opts.inner_repeats.max(1),
            repeat: 0,
            val: Vec::new(),
            path: PathRun::new(f, target, &[], opts),
            validation: Vec::new(),
            measure: measure.cloned(),
        };
        run.start_inner(f, target, opts)?;
        Ok(run)
    }

    fn new_path(
        &self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        stims: &[usize],
        opts: &Options,
    ) -> Result<PathRun, PruneError> {
        match &self.measure {
            Some(m) => PathRun::with_measure(f, m, stims, opts),
            None => Ok(PathRun::new(f, target, stims, opts)),
        }
    }

    /// Inner split `self.repeat`: validation stimuli and the path on the rest.
    fn start_inner(
        &mut self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        opts: &Options,
    ) -> Result<(), PruneError> {
        let perm = permutation(
            self.stims.len(),
            self.inner_seed
                .wrapping_add(0x2545_F491_4F6C_DD1D_u64.wrapping_mul(self.repeat as u64)),
        );
        let mut val: Vec<usize> = perm[..self.nval].iter().map(|&a| self.stims[a]).collect();
        let mut inner: Vec<usize> = perm[self.nval..].iter().map(|&a| self.stims[a]).collect();
        val.sort_unstable();
        inner.sort_unstable();
        self.val = val;
        self.path = self.new_path(f, target, &inner, opts)?;
        Ok(())
    }

    /// Progress of the current path: (done, total) steps.
    pub fn progress(&self) -> (usize, usize) {
        self.path.progress()
    }

    /// Whether the next [`SelectRun::advance`] is a greedy step (where cancelling is checked).
    pub fn at_step(&self) -> bool {
        !self.path.is_done()
    }

    /// One unit of work; the selection once the main path is finished.
    pub fn advance(
        &mut self,
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        opts: &Options,
    ) -> Result<Option<Selection>, PruneError> {
        if !self.path.is_done() {
            self.path.step();
            return Ok(None);
        }
        let done = std::mem::replace(&mut self.path, PathRun::new(f, target, &[], opts)).finish();
        if self.repeat < self.repeats {
            let v = match &self.measure {
                Some(m) => measure_path_fits(f, m, &self.val, &done)?,
                None => path_fits(f, target, &self.val, &done, opts),
            };
            if self.validation.is_empty() {
                self.validation = vec![0.0; v.len()];
            }
            let repeats = self.repeats as f64;
            self.validation
                .iter_mut()
                .zip(&v)
                .for_each(|(a, b)| *a += b / repeats);
            self.repeat += 1;
            if self.repeat < self.repeats {
                self.start_inner(f, target, opts)?;
            } else {
                self.path = self.new_path(f, target, &self.stims, opts)?;
            }
            return Ok(None);
        }
        let n_kept = done.grid[argmax(&self.validation)];
        let kept = done.kept(n_kept);
        Ok(Some(Selection {
            path: done,
            validation: std::mem::take(&mut self.validation),
            n_kept,
            kept,
        }))
    }
}

/// Select features on the stimuli `stims` only: the greedy path on all of them, the number of
/// features chosen on an inner validation split (seeded by `inner_seed`).
pub fn select(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    opts: &Options,
    inner_seed: u64,
    tick: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Selection, PruneError> {
    let mut run = SelectRun::new(f, target, stims, opts, inner_seed);
    loop {
        if run.at_step() {
            let (done, total) = run.progress();
            if !tick(done, total) {
                return Err(PruneError::Cancelled);
            }
        }
        if let Some(sel) = run.advance(f, target, opts)? {
            return Ok(sel);
        }
    }
}

/// Lawson–Hanson non-negative least squares on the normal equations: minimise ‖Ax − b‖² over
/// x ≥ 0 given G = AᵀA and h = Aᵀb.
pub fn nnls_gram(g: &DMatrix<f64>, h: &DVector<f64>) -> DVector<f64> {
    let p = h.len();
    let mut x = DVector::zeros(p);
    let mut passive = vec![false; p];
    let scale = (0..p).map(|i| g[(i, i)]).fold(0.0f64, f64::max).max(1e-300);
    let tol = 1e-12 * scale * (1.0 + h.amax());
    let solve = |set: &[usize]| -> DVector<f64> {
        let k = set.len();
        let mut a = DMatrix::from_fn(k, k, |i, j| g[(set[i], set[j])]);
        let rhs = DVector::from_fn(k, |i, _| h[set[i]]);
        if let Some(ch) = a.clone().cholesky() {
            return ch.solve(&rhs);
        }
        for i in 0..k {
            a[(i, i)] += 1e-10 * scale;
        }
        match a.clone().cholesky() {
            Some(ch) => ch.solve(&rhs),
            None => a.lu().solve(&rhs).unwrap_or_else(|| DVector::zeros(k)),
        }
    };
    for _ in 0..3 * p + 10 {
        let w = h - g * &x;
        let mut j = None;
        let mut wmax = tol;
        for i in 0..p {
            if !passive[i] && w[i] > wmax {
                wmax = w[i];
                j = Some(i);
            }
        }
        let Some(j) = j else { break };
        passive[j] = true;
        loop {
            let set: Vec<usize> = (0..p).filter(|&i| passive[i]).collect();
            let s = solve(&set);
            if s.iter().all(|&v| v > 0.0) {
                for (k, &i) in set.iter().enumerate() {
                    x[i] = s[k];
                }
                break;
            }
            let mut alpha = f64::INFINITY;
            for (k, &i) in set.iter().enumerate() {
                if s[k] <= 0.0 {
                    let d = x[i] - s[k];
                    if d > 0.0 {
                        alpha = alpha.min(x[i] / d);
                    }
                }
            }
            if !alpha.is_finite() {
                alpha = 0.0;
            }
            for (k, &i) in set.iter().enumerate() {
                x[i] += alpha * (s[k] - x[i]);
                if x[i] <= 1e-15 * (1.0 + x.amax()) || (s[k] <= 0.0 && alpha == 0.0) {
                    x[i] = 0.0;
                    passive[i] = false;
                }
            }
            if !passive.iter().any(|&b| b) {
                break;
            }
        }
    }
    x
}

/// Non-negative least squares: minimise ‖Ax − b‖ over x ≥ 0 (Lawson–Hanson).
pub fn nnls(a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    let g = crate::linalg::gram(a, crate::linalg::Op::T);
    let h = a.transpose() * b;
    nnls_gram(&g, &h)
}

/// Per-feature squared-difference RDM columns over pairs among `stims` (pairs × features).
fn per_feature(f: &DMatrix<f64>, stims: &[usize]) -> DMatrix<f64> {
    let (pi, pj) = pairs(stims.len());
    DMatrix::from_fn(pi.len(), f.ncols(), |k, c| {
        let d = f[(stims[pi[k] as usize], c)] - f[(stims[pj[k] as usize], c)];
        d * d
    })
}

/// The reweighting baseline: weights w ≥ 0 of the per-feature squared-difference RDMs fitting
/// the target on pairs among `train` (with a free intercept: columns and target centred).
pub fn reweight(f: &DMatrix<f64>, target: &DMatrix<f64>, train: &[usize]) -> DVector<f64> {
    let mut a = per_feature(f, train);
    let mut b = DVector::from_vec(upper(target, train));
    let nb = b.len() as f64;
    let mb = b.sum() / nb;
    b.iter_mut().for_each(|v| *v -= mb);
    for mut col in a.column_iter_mut() {
        let m = col.sum() / nb;
        col.iter_mut().for_each(|v| *v -= m);
    }
    nnls(&a, &b)
}

/// Fit of the reweighted model RDM Σ w_f (x_if − x_jf)² on pairs among `stims`.
pub fn reweighted_fit(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    w: &DVector<f64>,
    cmp: Comparison,
) -> f64 {
    let a = per_feature(f, stims);
    let v = a * w;
    compare(v.as_slice(), &upper(target, stims), cmp)
}

/// One outer fold's results.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// Held-out stimuli (ascending).
    pub test: Vec<usize>,
    pub selection: Selection,
    /// Test fit along `selection.path.grid`.
    pub test_curve: Vec<f64>,
    pub test_fit_pruned: f64,
    pub test_fit_full: f64,
    pub test_fit_reweighted: f64,
}

/// One row of the train/test curve (fits averaged over folds).
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub n_kept: usize,
    pub train_fit: f64,
    pub test_fit: f64,
}

/// The whole honest evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub folds: Vec<Fold>,
    pub curve: Vec<CurvePoint>,
    pub test_fit_pruned: f64,
    pub test_fit_full: f64,
    pub test_fit_reweighted: f64,
    /// Final selection on all stimuli (what `kept` reports).
    pub final_selection: Selection,
}

/// What a progress callback is told.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Current stage (0-based) of `stages`: one per fold plus the final selection.
    pub stage: usize,
    pub stages: usize,
    /// Greedy steps done / total in the current path.
    pub step: usize,
    pub steps: usize,
}

/// Seeded k-fold split of 0..n: fold sizes differ by at most one; each fold ascending.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let perm = permutation(n, seed);
    let mut out = vec![Vec::new(); k];
    for (r, &s) in perm.iter().enumerate() {
        out[r % k].push(s);
    }
    out.iter_mut().for_each(|f| f.sort_unstable());
    out
}

/// Check the inputs of [`evaluate`].
pub fn check_inputs(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    opts: &Options,
) -> Result<(), PruneError> {
    validate_rdm(target)?;
    let n = f.nrows();
    if target.nrows() != n {
        return Err(PruneError::Mismatch {
            features: n,
            target: target.nrows(),
        });
    }
    for j in 0..f.ncols() {
        for i in 0..n {
            if !f[(i, j)].is_finite() {
                return Err(PruneError::NonFiniteFeature { i, j });
            }
        }
    }
    if f.ncols() < 2 {
        return Err(PruneError::TooFewFeatures(f.ncols()));
    }
    if opts.folds < 2 {
        return Err(PruneError::Folds(opts.folds));
    }
    // Each test fold needs ≥ 3 stimuli; each training set needs ≥ 6 (3 inner + 3 validation).
    let need = (3 * opts.folds).max(12);
    if n < need {
        return Err(PruneError::TooFewStimuli {
            n,
            folds: opts.folds,
            need,
        });
    }
    let all: Vec<usize> = (0..n).collect();
    let u = upper(target, &all);
    if u.iter().all(|&v| v == u[0]) {
        return Err(PruneError::ConstantTarget);
    }
    Ok(())
}

/// The honest evaluation ([`evaluate`]) run one unit of work at a time, owning its inputs, so
/// the page's worker can run it in slices of a few milliseconds and drop it on Cancel. Each
/// [`EvaluationRun::advance`] is one greedy step or the bookkeeping around one path or fold
/// (at most an NNLS fit on the training pairs); running it to the end gives exactly
/// [`evaluate`]'s result.
pub struct EvaluationRun {
    f: DMatrix<f64>,
    target: DMatrix<f64>,
    opts: Options,
    split: Vec<Vec<usize>>,
    /// Stage in progress: fold k < folds, or the final selection (k = folds).
    stage: usize,
    selection: SelectRun,
    folds: Vec<Fold>,
    /// The fit, when it is a measure rather than RSA.
    measure: Option<MeasureFit>,
}

impl EvaluationRun {
    /// Check the inputs ([`check_inputs`]) and set up the first fold.
    pub fn new(f: DMatrix<f64>, target: DMatrix<f64>, opts: &Options) -> Result<Self, PruneError> {
        Self::build(f, target, None, opts)
    }

    /// The evaluation with a registered measure between F[:, S] and the target recording X as
    /// the fit (selection, validation and test scores on the stimuli's rows). The reweighting
    /// baseline keeps its NNLS fit of per-feature squared-difference RDMs to X's RDM (with
    /// `opts.distance`) on the training pairs, and is scored by the measure as the features
    /// scaled by √w (whose squared-Euclidean RDM is that reweighted RDM).
    pub fn with_measure(
        f: DMatrix<f64>,
        measure: MeasureFit,
        opts: &Options,
    ) -> Result<Self, PruneError> {
        if measure.x.nrows() != f.nrows() {
            return Err(PruneError::Mismatch {
                features: f.nrows(),
                target: measure.x.nrows(),
            });
        }
        let target = rdm(&measure.x, opts.distance);
        Self::build(f, target, Some(measure), opts)
    }

    fn build(
        f: DMatrix<f64>,
        target: DMatrix<f64>,
        measure: Option<MeasureFit>,
        opts: &Options,
    ) -> Result<Self, PruneError> {
        check_inputs(&f, &target, opts)?;
        let split = folds(f.nrows(), opts.folds, opts.seed);
        let selection = Self::stage_selection(&f, &target, measure.as_ref(), opts, &split, 0)?;
        Ok(EvaluationRun {
            f,
            target,
            opts: opts.clone(),
            split,
            stage: 0,
            selection,
            folds: Vec::with_capacity(opts.folds),
            measure,
        })
    }

    /// Training stimuli of fold `k` (all stimuli for the final stage).
    fn train(n: usize, split: &[Vec<usize>], k: usize) -> Vec<usize> {
        match split.get(k) {
            Some(test) => (0..n).filter(|s| test.binary_search(s).is_err()).collect(),
            None => (0..n).collect(),
        }
    }

    fn stage_selection(
        f: &DMatrix<f64>,
        target: &DMatrix<f64>,
        measure: Option<&MeasureFit>,
        opts: &Options,
        split: &[Vec<usize>],
        k: usize,
    ) -> Result<SelectRun, PruneError> {
        let train = Self::train(f.nrows(), split, k);
        let inner_seed = if k < split.len() {
            opts.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(k as u64 + 1))
        } else {
            opts.seed ^ 0xF1A1
        };
        SelectRun::with_fit(f, target, measure, &train, opts, inner_seed)
    }

    /// Where the run is (the current path's step).
    pub fn progress(&self) -> Progress {
        let (step, steps) = self.selection.progress();
        Progress {
            stage: self.stage,
            stages: self.opts.folds + 1,
            step,
            steps,
        }
    }

    /// Whether the next [`EvaluationRun::advance`] is a greedy step.
    pub fn at_step(&self) -> bool {
        self.selection.at_step()
    }

    /// One unit of work; the evaluation once the final selection is done.
    pub fn advance(&mut self) -> Result<Option<Evaluation>, PruneError> {
        let (f, target, opts) = (&self.f, &self.target, &self.opts);
        let Some(selection) = self.selection.advance(f, target, opts)? else {
            return Ok(None);
        };
        let k = self.stage;
        if k < opts.folds {
            let test = &self.split[k];
            let train = Self::train(f.nrows(), &self.split, k);
            let measure = self.measure.as_ref();
            let test_curve = match measure {
                Some(m) => measure_path_fits(f, m, test, &selection.path)?,
                None => path_fits(f, target, test, &selection.path, opts),
            };
            let i = selection
                .path
                .grid
                .iter()
                .position(|&g| g == selection.n_kept)
                .unwrap_or(0);
            let w = reweight(f, target, &train);
            let all_features: Vec<usize> = (0..f.ncols()).collect();
            let (test_fit_full, test_fit_reweighted) = match measure {
                Some(m) => (
                    m.score(f, test, &all_features)?,
                    measure_reweighted_fit(f, m, test, &w)?,
                ),
                None => (
                    fit_subset(f, target, test, &all_features, opts),
                    reweighted_fit(f, target, test, &w, opts.compare),
                ),
            };
            self.folds.push(Fold {
                test: test.clone(),
                test_fit_pruned: test_curve[i],
                test_fit_full,
                test_fit_reweighted,
                selection,
                test_curve,
            });
            self.stage += 1;
            self.selection =
                Self::stage_selection(f, target, measure, opts, &self.split, self.stage)?;
            return Ok(None);
        }
        let out = std::mem::take(&mut self.folds);
        let grid = out[0].selection.path.grid.clone();
        let kf = out.len() as f64;
        let curve = grid
            .iter()
            .enumerate()
            .map(|(i, &n_kept)| CurvePoint {
                n_kept,
                train_fit: out.iter().map(|fo| fo.selection.path.fit[i]).sum::<f64>() / kf,
                test_fit: out.iter().map(|fo| fo.test_curve[i]).sum::<f64>() / kf,
            })
            .collect();
        let mean = |g: fn(&Fold) -> f64| out.iter().map(g).sum::<f64>() / kf;
        Ok(Some(Evaluation {
            test_fit_pruned: mean(|f| f.test_fit_pruned),
            test_fit_full: mean(|f| f.test_fit_full),
            test_fit_reweighted: mean(|f| f.test_fit_reweighted),
            curve,
            folds: out,
            final_selection: selection,
        }))
    }
}

/// [`evaluate`] with a registered measure as the fit ([`EvaluationRun::with_measure`]).
pub fn evaluate_measure(
    f: &DMatrix<f64>,
    measure: &MeasureFit,
    opts: &Options,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Evaluation, PruneError> {
    let mut run = EvaluationRun::with_measure(f.clone(), measure.clone(), opts)?;
    loop {
        if run.at_step() && !progress(run.progress()) {
            return Err(PruneError::Cancelled);
        }
        if let Some(ev) = run.advance()? {
            return Ok(ev);
        }
    }
}

/// A measure's fits along a path's grid on the rows `stims` (the target prepared once).
pub fn measure_path_fits(
    f: &DMatrix<f64>,
    m: &MeasureFit,
    stims: &[usize],
    path: &Path,
) -> Result<Vec<f64>, PruneError> {
    let t = m.target(stims)?;
    let fs = f.select_rows(stims);
    Ok(path
        .grid
        .iter()
        .map(|&n| score_with(&m.id, &t, &fs.select_columns(&path.kept(n))))
        .collect())
}

/// The reweighting baseline scored by a measure: the features scaled by √w on the rows `stims`.
pub fn measure_reweighted_fit(
    f: &DMatrix<f64>,
    m: &MeasureFit,
    stims: &[usize],
    w: &DVector<f64>,
) -> Result<f64, PruneError> {
    let t = m.target(stims)?;
    let mut y = f.select_rows(stims);
    for (c, mut col) in y.column_iter_mut().enumerate() {
        col *= w[c].max(0.0).sqrt();
    }
    Ok(score_with(&m.id, &t, &y))
}

/// Honest evaluation: for each seeded outer fold, select on the training stimuli only, score on
/// pairs among the held-out stimuli; then a final selection on all stimuli. `progress` is
/// called before every greedy step and returns false to cancel.
pub fn evaluate(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    opts: &Options,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Evaluation, PruneError> {
    let mut run = EvaluationRun::new(f.clone(), target.clone(), opts)?;
    loop {
        if run.at_step() && !progress(run.progress()) {
            return Err(PruneError::Cancelled);
        }
        if let Some(ev) = run.advance()? {
            return Ok(ev);
        }
    }
}

/// The summary `simscope prune` prints on stdout (and the page exports): kept features
/// (0-based) and the three mean test fits, as compact JSON with sorted keys.
pub fn summary_json(ev: &Evaluation) -> String {
    serde_json::json!({"kept": ev.final_selection.kept, "test_fit_pruned": ev.test_fit_pruned,
        "test_fit_full": ev.test_fit_full, "test_fit_reweighted": ev.test_fit_reweighted})
    .to_string()
}

/// The curve as `simscope prune` writes `DIR/curve.csv`: `n_kept,train_fit,test_fit`, full
/// precision (shortest round-trip form), a non-finite fit as an empty field.
pub fn curve_csv(ev: &Evaluation) -> String {
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v}")
        } else {
            String::new()
        }
    };
    let mut out = String::from("n_kept,train_fit,test_fit\n");
    for c in &ev.curve {
        out.push_str(&format!(
            "{},{},{}\n",
            c.n_kept,
            num(c.train_fit),
            num(c.test_fit)
        ));
    }
    out
}

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
    include_bytes!("../../datasets/kriegeskorte2008_category_vectors.npy");

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
    let mut r = rdm(&rec.data, Distance::SqEuclidean);
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
