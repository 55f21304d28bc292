//! The resampling engine of `compare`: the score of every (model, measure) pair on one
//! permutation or one bootstrap sample of the conditions, computed so that thousands of
//! samples stay cheap.
//!
//! * **Permutations** pair condition c of X with condition π(c) of Y (for 3-D data the same π
//!   at every time step: rows (t, c) ↦ (t, π(c)); time is never permuted). X's preparation
//!   (its SVD, PC scores, RDMs) and Y's own statistics (Y_c, ‖Y_cᵀY_c‖, ‖Y_c‖, Y's RDMs) do
//!   not change under a row permutation, so they are computed once: the CKA and NBS families
//!   cost one r × q product B = X_sᵀ(ΠY_c) per sample (plus the small polar factor for NBS),
//!   the RSA family a gather of RDM entries, and only the other measures a full evaluation
//!   (`Measure::score` of the permuted Y against the prepared target).
//! * **Bootstrap samples** draw C conditions with replacement (sorted, so the resampled rows
//!   keep the recording's order and contiguous cross-validation folds keep duplicates
//!   together) and score the resampled pair. The CKA and NBS families use the resampled PC
//!   scores Z = centre(X_s[b]) directly: X_b,c = Z Vᵀ with V orthonormal, so ‖X_b,cᵀX_b,c‖ =
//!   ‖ZᵀZ‖ and X_b,cᵀY = V(ZᵀY) have the norms CKA and NBS need, without an SVD. The RSA
//!   family compares the entries of the full-data RDMs at the resampled pairs and, as
//!   rsatoolbox does, leaves out the pairs of a resampled condition with itself (their
//!   dissimilarity is 0 on both sides and trivially "predicted"): `RDMs.subsample_pattern`
//!   sets them to NaN and the comparisons drop NaN entries (rsatoolbox
//!   `src/rsatoolbox/rdm/rdms.py` and `src/rsatoolbox/util/rdm_utils.py::_parse_input_rdms`,
//!   bootstrap in `src/rsatoolbox/inference/bootstrap.py::bootstrap_sample_pattern`). Every
//!   other measure is evaluated exactly as `simscope score` would on the resampled pair
//!   (a new target from X_b, the registry's measure, its `score`).
//!
//! Each sample draws from its own generator, seeded by (seed, kind, sample index), so the
//! result of a sample never depends on which thread computes it or in which batch.

use std::sync::Arc;

use nalgebra::DMatrix;

use crate::linalg::{center_columns, frob2, gemm, gram, gram_norm, mul, Llt, Op};
use crate::measures::bures::polar;
use crate::measures::rsa::{rdm_matrix, Compare as RdmCompare, Rdm};
use crate::measures::{angular, registry, Measure, DEGENERATE_NORM2};
use crate::rng::Rng;
use crate::target::Target;

/// How a measure is resampled (by canonical id).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Family {
    /// Linear CKA (biased HSIC), optionally through the angular transform.
    Cka { angular: bool },
    /// NBS, optionally angular (= angular Procrustes).
    Nbs { angular: bool },
    /// An RDM comparison.
    Rsa { rdm: Rdm, cmp: RdmCompare },
    /// In-sample linear regression R² of X on Y: under a permutation Y_cᵀY_c is unchanged,
    /// so its Cholesky factor is reused (the bootstrap evaluates it in full).
    LinReg,
    /// Any other measure: evaluated in full on every sample.
    Generic,
}

impl Family {
    pub fn of(id: &str) -> Family {
        match id {
            "cka" => Family::Cka { angular: false },
            "cka-angular-score" => Family::Cka { angular: true },
            "nbs" => Family::Nbs { angular: false },
            "procrustes-angular-score" => Family::Nbs { angular: true },
            "linreg" => Family::LinReg,
            _ => match crate::measures::rsa::kind_of(id).and_then(|k| k.resampled()) {
                Some((rdm, cmp)) => Family::Rsa { rdm, cmp },
                None => Family::Generic,
            },
        }
    }

    /// Whether an RDM-based measure (bootstrap leaves out self-pairs).
    pub fn is_rdm(&self) -> bool {
        matches!(self, Family::Rsa { .. })
    }
}

/// Which resampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Permutation,
    Bootstrap,
}

/// One side's statistics that every sample reuses.
struct Side {
    data: DMatrix<f64>,
    yc: DMatrix<f64>,
    yc2: f64,
    /// ‖Y_cᵀY_c‖_F.
    yy: f64,
    rdm_corr: Option<DMatrix<f64>>,
    rdm_euclid: Option<DMatrix<f64>>,
    /// Cholesky factor of Y_cᵀY_c for linreg (None: not needed, or Y_c rank-deficient or too
    /// wide, where the registry's measure takes its own path).
    chol: Option<Llt>,
}

/// The measures of one job and the statistics of X and of every model, read-only and shared
/// by every thread.
pub struct Engine {
    target: Arc<Target>,
    x: DMatrix<f64>,
    time_steps: usize,
    conditions: usize,
    ids: Vec<String>,
    families: Vec<Family>,
    x_rdm_corr: Option<DMatrix<f64>>,
    x_rdm_euclid: Option<DMatrix<f64>>,
    models: Vec<Side>,
}

/// Measures prepared against the full target for the permutation null of the generic family
/// (`None` where a family has its own path), per model then per measure, shared by the
/// threads.
pub type Prepared = Vec<Vec<Option<Box<dyn Measure>>>>;

impl Engine {
    /// `ids` canonical; `models` with X's row count (checked by the caller).
    pub fn new(
        target: Arc<Target>,
        x: &DMatrix<f64>,
        time_steps: usize,
        ids: &[String],
        models: &[DMatrix<f64>],
    ) -> Self {
        let families: Vec<Family> = ids.iter().map(|id| Family::of(id)).collect();
        let needs = |r: Rdm| {
            families
                .iter()
                .any(|f| matches!(f, Family::Rsa { rdm, .. } if *rdm == r))
        };
        let (corr, euclid) = (needs(Rdm::Correlation), needs(Rdm::SquaredEuclidean));
        let linreg = families.contains(&Family::LinReg);
        // The same inputs as `Rsa::new` (raw rows for correlation, PC scores for Euclidean).
        let x_rdm_corr = corr.then(|| rdm_matrix(Rdm::Correlation, &target.raw()));
        let x_rdm_euclid = euclid.then(|| rdm_matrix(Rdm::SquaredEuclidean, &target.xs));
        let models = models
            .iter()
            .map(|y| {
                let yc = center_columns(y);
                let (n, q) = yc.shape();
                // As `Regression::solve` (λ = 0): the primal Cholesky when it factorises.
                let chol = (linreg && q + 1 < n)
                    .then(|| Llt::new(&gram(&yc, Op::T), 1e-12))
                    .flatten();
                Side {
                    chol,
                    yc2: frob2(&yc),
                    yy: gram_norm(&yc),
                    rdm_corr: corr.then(|| rdm_matrix(Rdm::Correlation, y)),
                    rdm_euclid: euclid.then(|| rdm_matrix(Rdm::SquaredEuclidean, y)),
                    yc,
                    data: y.clone(),
                }
            })
            .collect();
        Engine {
            conditions: x.nrows() / time_steps.max(1),
            target,
            x: x.clone(),
            time_steps: time_steps.max(1),
            ids: ids.to_vec(),
            families,
            x_rdm_corr,
            x_rdm_euclid,
            models,
        }
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The registry's measures against the full target, for the generic family.
    pub fn prepare(&self) -> Prepared {
        self.models
            .iter()
            .map(|m| {
                self.ids
                    .iter()
                    .zip(&self.families)
                    .map(|(id, f)| {
                        (*f == Family::Generic || (*f == Family::LinReg && m.chol.is_none()))
                            .then(|| {
                                registry::prepare(id, self.target.clone(), m.data.ncols())
                                    .ok()
                                    .map(|(m, _)| m)
                            })
                            .flatten()
                    })
                    .collect()
            })
            .collect()
    }

    /// The rows of sample `index`: X's row r is paired with Y's row `rows[r]` (permutation),
    /// or both sides take row `rows[r]` (bootstrap).
    pub fn rows(&self, kind: Kind, seed: u64, index: usize) -> Vec<usize> {
        let mut rng = sample_rng(seed, kind, index);
        let c = self.conditions;
        let map: Vec<usize> = match kind {
            Kind::Permutation => {
                let mut p: Vec<usize> = (0..c).collect();
                rng.shuffle(&mut p);
                p
            }
            Kind::Bootstrap => {
                let mut d: Vec<usize> = (0..c).map(|_| rng.below(c as u64) as usize).collect();
                d.sort_unstable();
                d
            }
        };
        condition_rows(self.time_steps, &map)
    }

    /// Scores of sample `index`, `[model][measure]` (NaN where undefined on the sample).
    pub fn sample(
        &self,
        kind: Kind,
        seed: u64,
        index: usize,
        prepared: &Prepared,
    ) -> Vec<Vec<f64>> {
        let rows = self.rows(kind, seed, index);
        match kind {
            Kind::Permutation => self.permuted(&rows, prepared),
            Kind::Bootstrap => self.resampled(&rows),
        }
    }

    fn rdm_x(&self, rdm: Rdm) -> &DMatrix<f64> {
        match rdm {
            Rdm::Correlation => self.x_rdm_corr.as_ref(),
            Rdm::SquaredEuclidean => self.x_rdm_euclid.as_ref(),
        }
        .expect("prepared in new")
    }

    fn permuted(&self, rows: &[usize], prepared: &Prepared) -> Vec<Vec<f64>> {
        let identity: Vec<usize> = (0..rows.len()).collect();
        let t = &self.target;
        self.models
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                // B = X_sᵀ(ΠY_c), shared by the CKA and NBS families; Y_c's norms are reused.
                let kernel = self
                    .families
                    .iter()
                    .any(|f| matches!(f, Family::Cka { .. } | Family::Nbs { .. }));
                let b = kernel.then(|| mul(&t.xs, Op::T, &m.yc.select_rows(rows), Op::N));
                self.families
                    .iter()
                    .enumerate()
                    .map(|(k, f)| match f {
                        Family::Cka { angular: ang } => {
                            kernel_cka(b.as_ref().unwrap(), t.s2.sqrt(), m.yy, m.yc2, *ang)
                        }
                        Family::Nbs { angular: ang } => {
                            kernel_nbs(b.as_ref().unwrap(), t.s1, m.yc2, *ang)
                        }
                        Family::Rsa { rdm, cmp } => {
                            let my = side_rdm(m, *rdm);
                            rdm_compare(self.rdm_x(*rdm), my, &identity, rows, *cmp)
                        }
                        Family::LinReg if m.chol.is_some() => {
                            // B = (Y_cᵀY_c)⁻¹(ΠY_c)ᵀX_s, R² = 1 − ‖X_s − ΠY_c B‖²/‖X_s‖².
                            let yp = m.yc.select_rows(rows);
                            let b = m
                                .chol
                                .as_ref()
                                .unwrap()
                                .solve(&mul(&yp, Op::T, &t.xs, Op::N));
                            let mut e = t.xs.clone();
                            gemm(-1.0, &yp, Op::N, &b, Op::N, 1.0, &mut e);
                            let xs2 = frob2(&t.xs);
                            if xs2 > 0.0 {
                                1.0 - frob2(&e) / xs2
                            } else {
                                f64::NAN
                            }
                        }
                        Family::Generic | Family::LinReg => match &prepared[mi][k] {
                            Some(measure) => measure.score(&m.data.select_rows(rows)),
                            None => f64::NAN,
                        },
                    })
                    .collect()
            })
            .collect()
    }

    fn resampled(&self, rows: &[usize]) -> Vec<Vec<f64>> {
        let t = &self.target;
        let kernel = self
            .families
            .iter()
            .any(|f| matches!(f, Family::Cka { .. } | Family::Nbs { .. }));
        let z = kernel.then(|| center_columns(&t.xs.select_rows(rows)));
        let (zz, z2) = z
            .as_ref()
            .map_or((0.0, 0.0), |z| (gram(z, Op::T).norm(), frob2(z)));
        // A new target only if a generic measure needs one (an SVD per sample).
        let generic = self
            .families
            .iter()
            .any(|f| matches!(f, Family::Generic | Family::LinReg));
        let target_b = generic.then(|| Target::new(&self.x.select_rows(rows)).ok().map(Arc::new));
        self.models
            .iter()
            .map(|m| {
                let yb = m.data.select_rows(rows);
                let (yb2, ybyy, b) = if kernel {
                    let c = center_columns(&yb);
                    let b = mul(z.as_ref().unwrap(), Op::T, &c, Op::N);
                    (frob2(&c), gram_norm(&c), Some(b))
                } else {
                    (0.0, 0.0, None)
                };
                self.ids
                    .iter()
                    .zip(&self.families)
                    .map(|(id, f)| match f {
                        _ if (matches!(f, Family::Cka { .. } | Family::Nbs { .. }))
                            && z2 < DEGENERATE_NORM2 =>
                        {
                            f64::NAN // X constant on this sample: undefined
                        }
                        Family::Cka { angular: ang } => {
                            kernel_cka(b.as_ref().unwrap(), zz, ybyy, yb2, *ang)
                        }
                        Family::Nbs { angular: ang } => {
                            kernel_nbs(b.as_ref().unwrap(), z2, yb2, *ang)
                        }
                        Family::Rsa { rdm, cmp } => {
                            rdm_compare(self.rdm_x(*rdm), side_rdm(m, *rdm), rows, rows, *cmp)
                        }
                        Family::Generic | Family::LinReg => {
                            match target_b.as_ref().and_then(|t| t.as_ref()) {
                                Some(tb) => registry::prepare(id, tb.clone(), yb.ncols())
                                    .map(|(measure, _)| measure.score(&yb))
                                    .unwrap_or(f64::NAN),
                                None => f64::NAN,
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

fn side_rdm(m: &Side, rdm: Rdm) -> &DMatrix<f64> {
    match rdm {
        Rdm::Correlation => m.rdm_corr.as_ref(),
        Rdm::SquaredEuclidean => m.rdm_euclid.as_ref(),
    }
    .expect("prepared in new")
}

/// CKA = ‖B‖²/(‖X_cᵀX_c‖·‖Y_cᵀY_c‖), 0 for a constant Y (as `Cka::score`).
fn kernel_cka(b: &DMatrix<f64>, xx: f64, yy: f64, yc2: f64, ang: bool) -> f64 {
    let v = if yc2 < DEGENERATE_NORM2 {
        0.0
    } else {
        frob2(b) / (xx * yy)
    };
    if ang {
        angular(v)
    } else {
        v
    }
}

/// NBS = ‖B‖_*/(‖X_c‖‖Y_c‖) capped at 1, 0 for a constant Y (as `Nbs::score`).
fn kernel_nbs(b: &DMatrix<f64>, xc2: f64, yc2: f64, ang: bool) -> f64 {
    let v = if yc2 < DEGENERATE_NORM2 {
        0.0
    } else {
        (polar(b).0 / (xc2.sqrt() * yc2.sqrt())).min(1.0)
    };
    if ang {
        angular(v)
    } else {
        v
    }
}

/// Compare two full RDMs at the pairs (k, l), k < l, of the sample: X's entry
/// `a[xi[k], xi[l]]` against Y's `b[yi[k], yi[l]]`, leaving out the pairs whose two rows are
/// the same row of the recording (a resampled condition with itself). Pearson r of the
/// entries or their cosine, in two passes (means first) for accuracy; 0 when a side has no
/// variance (as the RSA measures).
pub fn rdm_compare(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    xi: &[usize],
    yi: &[usize],
    cmp: RdmCompare,
) -> f64 {
    let n = xi.len();
    let (na, nb) = (a.nrows(), b.nrows());
    let (sa_, sb_) = (a.as_slice(), b.as_slice());
    // Column-major storage: entry (i, j) at i + j·rows; the inner loop walks one column.
    let visit = |f: &mut dyn FnMut(f64, f64)| {
        for l in 0..n {
            let (ca, cb) = (&sa_[xi[l] * na..][..na], &sb_[yi[l] * nb..][..nb]);
            for k in 0..l {
                if xi[k] != xi[l] {
                    f(ca[xi[k]], cb[yi[k]]);
                }
            }
        }
    };
    let (ma, mb) = match cmp {
        RdmCompare::Spearman | RdmCompare::KendallTauA => {
            // Ranks need every entry at once.
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            visit(&mut |x, y| {
                ea.push(x);
                eb.push(y);
            });
            if ea.len() < 2 {
                return f64::NAN;
            }
            use crate::measures::rsa::{kendall_tau_a, pearson, ranks};
            return if cmp == RdmCompare::Spearman {
                pearson(&ranks(&ea), &ranks(&eb))
            } else {
                kendall_tau_a(&ea, &eb)
            };
        }
        RdmCompare::Pearson => {
            let (mut sa, mut sb, mut m) = (0.0, 0.0, 0usize);
            visit(&mut |x, y| {
                sa += x;
                sb += y;
                m += 1;
            });
            if m < 2 {
                return f64::NAN;
            }
            (sa / m as f64, sb / m as f64)
        }
        RdmCompare::Cosine => (0.0, 0.0),
    };
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    visit(&mut |x, y| {
        let (x, y) = (x - ma, y - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    });
    if saa == 0.0 || sbb == 0.0 {
        return 0.0;
    }
    sab / (saa.sqrt() * sbb.sqrt())
}

/// Rows of a (T·C)-row matrix when condition c is replaced by `map[c]` at every time step:
/// row t·C + c ↦ t·C + map[c]. Time steps are never mixed.
pub fn condition_rows(time_steps: usize, map: &[usize]) -> Vec<usize> {
    let c = map.len();
    (0..time_steps)
        .flat_map(|t| map.iter().map(move |&m| t * c + m))
        .collect()
}

/// The generator of sample `index` of `kind`: independent of batching and threads.
fn sample_rng(seed: u64, kind: Kind, index: usize) -> Rng {
    let stream = match kind {
        Kind::Permutation => 0x5045_524d_u64, // "PERM"
        Kind::Bootstrap => 0x424f_4f54_u64,   // "BOOT"
    };
    let base = Rng::new(seed ^ stream.rotate_left(40)).next_u64();
    Rng::new(base ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Scores of samples `range` of `kind`, `[sample][model][measure]`, on `threads` threads
/// (contiguous chunks; 1 = this thread) sharing `prepared` ([`Engine::prepare`]). The output
/// does not depend on `threads`.
pub fn evaluate(
    engine: &Engine,
    kind: Kind,
    seed: u64,
    range: std::ops::Range<usize>,
    threads: usize,
    prepared: &Prepared,
) -> Vec<Vec<Vec<f64>>> {
    if threads <= 1 || range.len() < 2 {
        return range
            .map(|i| engine.sample(kind, seed, i, prepared))
            .collect();
    }
    let len = range.len();
    let per = len.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let lo = range.start + (w * per).min(len);
                let hi = range.start + ((w + 1) * per).min(len);
                s.spawn(move || {
                    (lo..hi)
                        .map(|i| engine.sample(kind, seed, i, prepared))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a resampling thread panicked"))
            .collect()
    })
}

/// The `q`-quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly between order
/// statistics (NumPy's default `linear` method). `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let m = sorted.len();
    if m == 0 {
        return None;
    }
    let h = (m - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(m - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_rows_keep_time() {
        assert_eq!(condition_rows(2, &[2, 0, 1]), vec![2, 0, 1, 5, 3, 4]);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
