//! RDMs of feature subsets over pairs among a set of stimuli: the full RDM of a recording,
//! upper triangles, comparisons, and the incremental [`SubsetRdm`] the greedy paths toggle
//! features in.

use nalgebra::DMatrix;

use super::{pearson, ranks, Compare, PruneError, Rdm};
use crate::measures::rsa::kendall_tau_a;

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
pub fn rdm(x: &DMatrix<f64>, distance: Rdm) -> DMatrix<f64> {
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
pub(super) fn pairs(m: usize) -> (Vec<u32>, Vec<u32>) {
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

/// Compare two upper-triangle vectors.
pub fn compare(a: &[f64], b: &[f64], c: Compare) -> f64 {
    match c {
        Compare::Pearson => pearson(a, b),
        Compare::Spearman => pearson(&ranks(a), &ranks(b)),
        Compare::KendallTauA => kendall_tau_a(a, b),
        Compare::Cosine => {
            let (ab, aa, bb) = a.iter().zip(b).fold((0.0, 0.0, 0.0), |(s, p, q), (x, y)| {
                (s + x * y, p + x * x, q + y * y)
            });
            if aa > 0.0 && bb > 0.0 {
                ab / (aa * bb).sqrt()
            } else {
                0.0
            }
        }
    }
}

/// A target prepared for fast comparisons on one pair set: centred (not for the cosine), unit
/// norm (of the ranks for Spearman).
pub(super) struct PreparedTarget {
    t: Vec<f64>,
    cmp: Compare,
}

impl PreparedTarget {
    pub(super) fn new(raw: &[f64], cmp: Compare) -> Self {
        let mut t = match cmp {
            Compare::Pearson | Compare::Cosine => raw.to_vec(),
            Compare::Spearman => ranks(raw),
            // τ-a compares the raw entries pair by pair.
            Compare::KendallTauA => {
                return PreparedTarget {
                    t: raw.to_vec(),
                    cmp,
                }
            }
        };
        if cmp != Compare::Cosine {
            let m = t.iter().sum::<f64>() / t.len().max(1) as f64;
            t.iter_mut().for_each(|v| *v -= m);
        }
        let nrm = t.iter().map(|v| v * v).sum::<f64>().sqrt();
        if nrm > 0.0 {
            t.iter_mut().for_each(|v| *v /= nrm);
        }
        PreparedTarget { t, cmp }
    }

    pub(super) fn fit(&self, v: &[f64]) -> f64 {
        if self.cmp == Compare::Spearman {
            return self.spearman_fit(v);
        }
        if self.cmp == Compare::KendallTauA {
            return kendall_tau_a(&self.t, v);
        }
        let n = v.len() as f64;
        let m = if self.cmp == Compare::Cosine {
            0.0
        } else {
            v.iter().sum::<f64>() / n
        };
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
    distance: Rdm,
    /// Features of the stimuli in the set, column-major: `x[f * m + a]`.
    x: Vec<f64>,
    m: usize,
    pub(super) p: usize,
    pub(super) pi: Vec<u32>,
    pub(super) pj: Vec<u32>,
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
    pub fn new(f: &DMatrix<f64>, stims: &[usize], distance: Rdm, active: &[usize]) -> Self {
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

    pub(super) fn col(&self, c: usize) -> &[f64] {
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
            Rdm::SquaredEuclidean => {
                for k in 0..self.acc.len() {
                    let d = col[self.pi[k] as usize] - col[self.pj[k] as usize];
                    self.acc[k] += sign * d * d;
                }
            }
            Rdm::Correlation => {
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
            Rdm::SquaredEuclidean => match col {
                Some(col) => {
                    for k in 0..out.len() {
                        let d = col[self.pi[k] as usize] - col[self.pj[k] as usize];
                        out[k] = self.acc[k] + sign * d * d;
                    }
                }
                None => out.copy_from_slice(&self.acc),
            },
            Rdm::Correlation => {
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
