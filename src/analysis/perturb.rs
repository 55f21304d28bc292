//! PC perturbation with exact closed forms (spec §6).
//!
//! With X_c = Σ s_k u_k v_kᵀ, the perturbed copy is Y = Σ a_k s_k u′_k v_kᵀ where
//! u′_k = cos θ_k u_k + sin θ_k z_k and the z_k are orthonormal, centred and orthogonal to
//! every u_j (an exact basis of the centred complement of span U, drawn from a seeded
//! Gaussian and orthogonalised twice). Then Uᵀ U′ = diag(cos θ), and every measure below has a
//! closed form in λ_k = s_k², a_k and θ_k. When the complement is too small (n − 1 − r smaller
//! than the number of rotated PCs, e.g. rank n − 1 data) the z_k are only orthogonal to their
//! own u_k and [`Perturbed::exact`] is false: the theory is then approximate.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use super::job::{Budget, Job, Progress};
use crate::measures::def::PcSums;
use crate::measures::{registry, Measure};
use crate::rng::Rng;
use crate::target::Target;

/// Angle θ_k (radians) and amplitude a_k ≥ 0 for each of the r PCs.
#[derive(Clone, Debug, PartialEq)]
pub struct Perturbation {
    pub angles: Vec<f64>,
    pub scales: Vec<f64>,
}

impl Perturbation {
    /// No change (θ = 0, a = 1) for r PCs.
    pub fn identity(r: usize) -> Self {
        Perturbation {
            angles: vec![0.0; r],
            scales: vec![1.0; r],
        }
    }

    /// PC `k` (0-based) rotated by `angle` and scaled by `scale`, the others unchanged.
    pub fn single(r: usize, k: usize, angle: f64, scale: f64) -> Self {
        let mut p = Self::identity(r);
        p.angles[k] = angle;
        p.scales[k] = scale;
        p
    }
}

/// A perturbed copy of X.
#[derive(Clone, Debug)]
pub struct Perturbed {
    pub y: DMatrix<f64>,
    /// Whether the complement directions are exactly orthogonal to every PC (theory exact).
    pub exact: bool,
}

/// Build Y for `pert`, drawing the complement directions deterministically from `seed`.
pub fn perturb(target: &Target, pert: &Perturbation, seed: u64) -> Perturbed {
    let (n, r) = (target.n, target.rank());
    assert_eq!(pert.angles.len(), r, "one angle per PC");
    assert_eq!(pert.scales.len(), r, "one scale per PC");
    let rotated: Vec<usize> = (0..r).filter(|&k| pert.angles[k] != 0.0).collect();
    let mut rng = Rng::new(seed);
    let exact = n > r + rotated.len();
    let mut zs: Vec<nalgebra::DVector<f64>> = Vec::new();
    let mut uprime = target.u.clone();
    for &k in &rotated {
        let z = loop {
            let mut g = nalgebra::DVector::from_fn(n, |_, _| rng.normal());
            for _ in 0..2 {
                let mean = g.mean();
                g.add_scalar_mut(-mean);
                if exact {
                    let c = target.u.transpose() * &g;
                    g -= &target.u * c;
                    for z in &zs {
                        let d = z.dot(&g);
                        g -= z * d;
                    }
                } else {
                    let d = target.u.column(k).dot(&g);
                    g -= target.u.column(k) * d;
                }
            }
            let norm = g.norm();
            if norm > 1e-8 {
                break g / norm;
            }
        };
        let (c, s) = (pert.angles[k].cos(), pert.angles[k].sin());
        let col = target.u.column(k) * c + &z * s;
        uprime.set_column(k, &col);
        zs.push(z);
    }
    let amp = DMatrix::from_fn(n, r, |i, k| uprime[(i, k)] * pert.scales[k] * target.s[k]);
    Perturbed {
        y: amp * target.v.transpose(),
        exact,
    }
}

/// The sums over the PCs from which every closed form follows (spec §6.1; each measure's
/// formula is in its declaration, `Def::theory`).
pub fn sums(target: &Target, pert: &Perturbation) -> PcSums {
    let lam = target.lambdas();
    let r = target.rank();
    let mut t = PcSums {
        s1: target.s1,
        s2: target.s2,
        rank_x: r,
        ..PcSums::default()
    };
    for k in 0..r {
        let (a, c, l) = (pert.scales[k].abs(), pert.angles[k].cos(), lam[k]);
        t.cross2 += a * a * l * l * c * c;
        t.yy2 += a.powi(4) * l * l;
        t.nuclear += a * l * c.abs();
        t.yy += a * a * l;
        if a != 0.0 {
            t.projected += l * c * c;
            t.rho += c.abs();
            t.rank_y += 1;
        }
    }
    t
}

/// The closed-form value of measure `id` (any spelling the registry resolves) for `pert`
/// (spec §6.1), or `None` if it has no closed form: the registry entries with `closed_form`
/// (cka, cka-angular-score, nbs, procrustes-angular-score, procrustes-euclidean,
/// cca-angular-score, linreg, ensd).
pub fn theory(target: &Target, pert: &Perturbation, id: &str) -> Option<f64> {
    registry::theory(id, &sums(target, pert))
}

/// One row of the paper's Fig 6 sweep: PC `pc` (1-based) decorrelated (θ = π/2, a = 1).
#[derive(Clone, Debug, Serialize)]
pub struct SweepRow {
    pub pc: usize,
    /// λ/(n − 1), the PC's variance in data units.
    pub variance: f64,
    pub variance_ratio: f64,
    pub measured: Vec<f64>,
    pub theory: Vec<Option<f64>>,
    pub exact: bool,
}

/// Decorrelate each PC in turn (the first `max_pcs`) and score the result with every measure
/// (`measures[j]`) next to its closed form for `ids[j]`. PC i uses the complement
/// direction drawn from seed `seed + i`. ([`SweepJob`] is the same, one PC per unit.)
pub fn sweep(
    target: &Target,
    ids: &[String],
    measures: &[Box<dyn Measure>],
    max_pcs: usize,
    seed: u64,
    mut progress: impl FnMut(usize, usize),
) -> Vec<SweepRow> {
    let m = max_pcs.min(target.rank());
    (0..m)
        .map(|i| {
            progress(i + 1, m);
            sweep_row(target, ids, measures, i, seed)
        })
        .collect()
}

/// Row `i` of the sweep: PC i + 1 decorrelated (θ = π/2, a = 1), measured and in theory.
fn sweep_row(
    target: &Target,
    ids: &[String],
    measures: &[Box<dyn Measure>],
    i: usize,
    seed: u64,
) -> SweepRow {
    let (r, lam) = (target.rank(), target.lambdas());
    let pert = Perturbation::single(r, i, std::f64::consts::FRAC_PI_2, 1.0);
    let p = perturb(target, &pert, seed.wrapping_add(i as u64));
    SweepRow {
        pc: i + 1,
        variance: lam[i] / (target.n as f64 - 1.0),
        variance_ratio: lam[i] / target.s1,
        measured: measures.iter().map(|m| m.score(&p.y)).collect(),
        theory: ids.iter().map(|id| theory(target, &pert, id)).collect(),
        exact: p.exact,
    }
}

/// The paper's sweep as a job, one decorrelated PC per unit of work (the page's worker
/// slices it; [`sweep`] gives the same rows).
pub struct SweepJob {
    target: Arc<Target>,
    ids: Vec<String>,
    measures: Vec<Box<dyn Measure>>,
    pcs: usize,
    seed: u64,
    rows: Vec<SweepRow>,
}

impl SweepJob {
    /// A sweep over the first `max_pcs` PCs (at most the rank), scoring `measures` (whose
    /// canonical ids are `ids`, for the closed forms).
    pub fn new(
        target: Arc<Target>,
        ids: Vec<String>,
        measures: Vec<Box<dyn Measure>>,
        max_pcs: usize,
        seed: u64,
    ) -> Self {
        SweepJob {
            pcs: max_pcs.min(target.rank()),
            target,
            ids,
            measures,
            seed,
            rows: Vec::new(),
        }
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The rows so far (all of them once done).
    pub fn rows(&self) -> &[SweepRow] {
        &self.rows
    }
}

impl Job for SweepJob {
    type Output = Vec<SweepRow>;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() {
            let i = self.rows.len();
            let row = sweep_row(&self.target, &self.ids, &self.measures, i, self.seed);
            self.rows.push(row);
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.rows.len(),
            total: self.pcs,
            what: format!("PC {}", (self.rows.len() + 1).min(self.pcs)),
        }
    }

    fn is_done(&self) -> bool {
        self.rows.len() >= self.pcs
    }

    fn result(self) -> Option<Vec<SweepRow>> {
        self.is_done().then_some(self.rows)
    }
}
