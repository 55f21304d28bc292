//! The CCA family (spec §2.9), from the canonical correlations ρ_k of X and Y over their
//! numerical ranks r_x, r_y (whitening by a pseudo-inverse square root with a *relative*
//! eigenvalue floor, unlike the authors' absolute 1e-7, spec B15):
//! * `cca-score`, mean CCA Σρ/√(r_x·r_y) (netrep's normaliser: the cosine of its angular CCA
//!   distance), and `cca-angular-score`, its angular score;
//! * `cca-squared_score`, Yanai's mean squared canonical correlation Σρ²/min(r_x, r_y);
//! * SVCCA (`svcca-var={v}-score`, `svcca-dim={k}-score` and their `squared_score`): the same
//!   on the top PCs of each side, kept by explained variance or by count (score-only).
//!
//! Whitened X is just U_x (orthonormal, from the prepared SVD); whitened Y is
//! U_y = Y_c Z μ^(−1/2) from the eigen-decomposition of Y_cᵀY_c. ρ = σ(U_xᵀU_y).

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{
    list_names, Built, Ctx, Def, Dims, Entry, Family, Group, List, List::*, Parsed, PcSums, Spec,
    OIST,
};
use super::{angular, degenerate, Angular, Direction, Measure, MeasureError, DEGENERATE_NORM2};
use crate::linalg::{
    center_columns, center_columns_mut, frob2, gemm, gram, mul, scale_columns, sym_eigen, thin_svd,
    Op,
};
use crate::target::Target;

const CCA_CITE: &str =
    "Hotelling (1936) Biometrika; Raghu et al. (2017) SVCCA, NeurIPS; Williams et al. (2021)";
const CCA_INVARIANT: &[&str] = &[
    "invertible-linear",
    "orthogonal",
    "isotropic-scaling",
    "translation",
];

pub const CCA_ANGULAR: Def = Def {
    id: "cca-angular-score",
    aliases: &["cca-angular_score"],
    alias_warnings: &[],
    name: "angular CCA",
    group: Group::Cca,
    description: "1 − (2/π)·arccos(Σρ/√(r_x r_y)), ρ the canonical correlations (trivially 1 when n − 1 < r_x + q)",
    rewards: "correlating with every direction of X equally, whatever its variance: any invertible linear map of Y scores the same",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: CCA_INVARIANT,
    citation: CCA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Kind::Mean, true),
    flops: cca_flops,
    theory: Some(|t| angular(mean_rho(t))),
    lists: &[(PerturbCli, 5), (Compare, 9)],
};

pub const CCA_SCORE: Def = Def {
    id: "cca-score",
    aliases: &["cca-mean", "mean-cca"],
    alias_warnings: &[],
    name: "mean CCA",
    group: Group::Cca,
    description: "mean canonical correlation Σρ/√(r_x r_y) (the cosine of netrep's angular CCA distance; trivially 1 when n − 1 < r_x + q)",
    rewards: "correlating with every direction of X equally, whatever its variance: any invertible linear map of Y scores the same",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: CCA_INVARIANT,
    citation: CCA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, Kind::Mean, false),
    flops: cca_flops,
    theory: Some(mean_rho),
    lists: &[],
};

pub const CCA_SQUARED: Def = Def {
    id: "cca-squared_score",
    aliases: &["cca-mean_sq_corr", "yanai-r2"],
    alias_warnings: &[],
    name: "mean squared CCA (Yanai)",
    group: Group::Cca,
    description: "Yanai's mean squared canonical correlation Σρ²/min(r_x, r_y) = tr(P_X P_Y)/min(r_x, r_y) (trivially 1 when n − 1 < r_x + q)",
    rewards: "sharing X's column space, every direction alike, with weak correlations counting less than in mean CCA",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: CCA_INVARIANT,
    citation: "Yanai (1974) Unification of various techniques of multivariate analysis by means of generalized coefficient of determination, J. Behaviormetrics; Raghu et al. (2017)",
    score_only: None,
    pair: None,
    build: |c| build(c, Kind::Squared, false),
    flops: cca_flops,
    theory: None,
    lists: &[],
};

fn mean_rho(t: &PcSums) -> f64 {
    if t.rank_y > 0 {
        t.rho / ((t.rank_x * t.rank_y) as f64).sqrt()
    } else {
        0.0
    }
}

fn cca_flops(d: Dims) -> f64 {
    let Dims { n, r, q } = d;
    let eig = |d: f64| 9.0 * d * d * d;
    n * q * q
        + eig(q)
        + 2.0 * n * q * r
        + 2.0 * n * r * q
        + 20.0 * r.min(q).powi(3)
        + 4.0 * n * r * q
}

/// The CCA scores' shape check: with n − 1 < r_x + q, some canonical correlations are 1 whatever
/// Y is.
fn build(c: &Ctx, kind: Kind, ang: bool) -> Built {
    let cca = Cca::new(c.target(), kind);
    let (n, p, q, rx) = (c.n(), c.p(), c.q, cca.rank_x());
    let mut warnings = Vec::new();
    if n < rx + q + 1 {
        warnings.push(format!(
            "{}: n − 1 = {} < rank(X) + q = {} (p = {p}), so at least {} canonical correlations are trivially 1 and the score is not informative (spec §2.9)",
            c.id,
            n - 1,
            rx + q,
            (rx + q + 1 - n).min(rx.min(q))
        ));
    }
    let m: Box<dyn Measure> = if ang {
        Box::new(Angular(cca))
    } else {
        Box::new(cca)
    };
    Ok((m, warnings))
}

/// Relative eigenvalue floor of the whitening (spec §2.9: 1e-10·λ_max).
pub const WHITEN_RTOL: f64 = 1e-10;

/// Which summary of the canonical correlations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Σρ/√(r_x r_y).
    Mean,
    /// Σρ²/min(r_x, r_y).
    Squared,
}

/// Y whitened over its numerical rank: Y_c, W_y = Z_k μ_k^(−1/2) (q × r_y) and U_y = Y_c W_y
/// (n × r_y, orthonormal). None when Y is constant.
struct WhiteY {
    yc: DMatrix<f64>,
    wy: DMatrix<f64>,
    uy: DMatrix<f64>,
}

fn whiten(y: &DMatrix<f64>) -> Option<WhiteY> {
    let yc = center_columns(y);
    if frob2(&yc) < DEGENERATE_NORM2 {
        return None;
    }
    let (mu, z) = sym_eigen(gram(&yc, Op::T));
    let ry = mu.iter().take_while(|&&m| m > WHITEN_RTOL * mu[0]).count();
    if ry == 0 {
        return None;
    }
    let inv_sqrt: Vec<f64> = mu.iter().take(ry).map(|m| 1.0 / m.sqrt()).collect();
    let wy = scale_columns(&z, &inv_sqrt);
    let uy = mul(&yc, Op::N, &wy, Op::N);
    Some(WhiteY { yc, wy, uy })
}

/// The number of X's PCs whose variance lies above the whitening floor.
fn numerical_rank(s: &[f64]) -> usize {
    let lmax = s.first().map(|s| s * s).unwrap_or(0.0);
    s.iter()
        .take_while(|s| *s * *s > WHITEN_RTOL * lmax)
        .count()
}

/// Mean or mean squared canonical correlation (a similarity in [0, 1]; wrap in `Angular`).
pub struct Cca {
    /// Orthonormal basis of col(X_c) (n × r_x).
    ux: DMatrix<f64>,
    kind: Kind,
}

impl Cca {
    pub fn new(target: Arc<Target>, kind: Kind) -> Self {
        let rx = numerical_rank(target.s.as_slice());
        Cca {
            ux: target.u.columns(0, rx).into_owned(),
            kind,
        }
    }

    /// Numerical rank of X used in the normaliser.
    pub fn rank_x(&self) -> usize {
        self.ux.ncols()
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let w = match whiten(y) {
            Some(w) if self.ux.ncols() > 0 => w,
            _ => {
                if let Some(g) = grad {
                    degenerate(y, g, 0.0);
                }
                return 0.0;
            }
        };
        let (rx, ry) = (self.ux.ncols(), w.uy.ncols());
        let m = mul(&self.ux, Op::T, &w.uy, Op::N); // r_x × r_y
        match self.kind {
            Kind::Mean => {
                let (p, rho, v) = thin_svd(&m);
                let norm = ((rx * ry) as f64).sqrt();
                let value = rho.iter().sum::<f64>() / norm;
                if let Some(g) = grad {
                    // ∂Σρ/∂Y = U_x P Bᵀ − Y_c B diag(ρ) Bᵀ, B = W_y Q.
                    let b = mul(&w.wy, Op::N, &v, Op::N); // q × k
                    let mut inner = mul(&self.ux, Op::N, &p, Op::N); // n × k
                    let b_rho = scale_columns(&b, rho.as_slice());
                    gemm(-1.0, &w.yc, Op::N, &b_rho, Op::N, 1.0, &mut inner);
                    *g = DMatrix::zeros(y.nrows(), y.ncols());
                    gemm(1.0 / norm, &inner, Op::N, &b, Op::T, 0.0, g);
                    center_columns_mut(g);
                }
                value
            }
            Kind::Squared => {
                // Σρ² = ‖U_xᵀU_y‖² = tr(P_X P_Y).
                let k = rx.min(ry) as f64;
                let value = frob2(&m) / k;
                if let Some(g) = grad {
                    // ∂tr(P_X P_Y)/∂Y_c = 2(I − P_Y)P_X U_y W_yᵀ = 2(U_x M − U_y MᵀM) W_yᵀ.
                    let mut inner = mul(&self.ux, Op::N, &m, Op::N); // n × r_y
                    let mtm = mul(&m, Op::T, &m, Op::N);
                    gemm(-1.0, &w.uy, Op::N, &mtm, Op::N, 1.0, &mut inner);
                    *g = DMatrix::zeros(y.nrows(), y.ncols());
                    gemm(2.0 / k, &inner, Op::N, &w.wy, Op::T, 0.0, g);
                    center_columns_mut(g);
                }
                value
            }
        }
    }
}

impl Measure for Cca {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None).min(1.0)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad)).min(1.0)
    }
}

/// SVCCA (Raghu et al. 2017): each side reduced to its top PCs, then the mean (or mean
/// squared) of the min(k_x, k_y) canonical correlations between them. PCs are kept by
/// explained variance, as scikit-learn's `PCA(n_components=v)` (the fewest whose cumulative
/// share exceeds v), or by count. `svcca-var={v}-score`, `svcca-dim={k}-score` and their
/// `-squared_score`.
pub const SVCCA: Family = Family {
    pattern: "svcca-var={v}-score, svcca-dim={k}-score and their -squared_score, for any 0 < v ≤ 1 and k ≥ 1",
    parse: parse_svcca,
    listed: || {
        vec![
            Box::new(Svcca::new(Cut::Var(0.99), Kind::Mean)),
            Box::new(Svcca::new(Cut::Var(0.99), Kind::Squared)),
            Box::new(Svcca::new(Cut::Dim(10), Kind::Mean)),
        ]
    },
};

/// Why SVCCA is not optimised.
const SVCCA_SCORE_ONLY: &str = "the PCs it keeps are recomputed from Y at every step, and its gradient through Y's truncated SVD is not implemented here";

/// How SVCCA chooses the PCs it keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cut {
    /// The fewest PCs whose cumulative explained variance exceeds v (0 < v ≤ 1).
    Var(f64),
    /// The top k PCs.
    Dim(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Svcca {
    cut: Cut,
    kind: Kind,
}

/// A parameter as similarity-repository writes it: the shortest decimal, with `.0` on whole
/// numbers (`1.0`, `0.99`).
pub fn format_param(v: f64) -> String {
    let s = format!("{v}");
    if s.contains(['.', 'e', 'E']) || !v.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

fn parse_svcca(id: &str) -> Parsed {
    let rest = id.strip_prefix("svcca-")?;
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    Some((|| {
        let (cut, kind) = if let Some(c) = rest.strip_suffix("-squared_score") {
            (c, Kind::Squared)
        } else if let Some(c) = rest.strip_suffix("-score") {
            (c, Kind::Mean)
        } else {
            return Err(bad(
                "expected `svcca-var={v}-score`, `svcca-dim={k}-score` or their `-squared_score`"
                    .into(),
            ));
        };
        let cut = if let Some(v) = cut.strip_prefix("var=") {
            let v: f64 = v
                .parse()
                .map_err(|_| bad(format!("the variance share `{v}` is not a number")))?;
            if !(v > 0.0 && v <= 1.0) {
                return Err(bad(format!(
                    "the variance share must be in (0, 1], got {v}"
                )));
            }
            Cut::Var(v)
        } else if let Some(k) = cut.strip_prefix("dim=") {
            let k: usize = k
                .parse()
                .map_err(|_| bad(format!("the number of PCs `{k}` is not a whole number")))?;
            if k == 0 {
                return Err(bad("SVCCA needs at least 1 PC".into()));
            }
            Cut::Dim(k)
        } else {
            return Err(bad(format!(
                "expected `var={{v}}` or `dim={{k}}` after `svcca-`, got `{cut}`"
            )));
        };
        Ok(Box::new(Svcca::new(cut, kind)) as Box<dyn Spec>)
    })())
}

impl Svcca {
    pub fn new(cut: Cut, kind: Kind) -> Self {
        Svcca { cut, kind }
    }

    pub fn id(&self) -> String {
        let cut = match self.cut {
            Cut::Var(v) => format!("var={}", format_param(v)),
            Cut::Dim(k) => format!("dim={k}"),
        };
        let tail = match self.kind {
            Kind::Mean => "score",
            Kind::Squared => "squared_score",
        };
        format!("svcca-{cut}-{tail}")
    }

    /// How many of the leading singular values `s` (descending) the cut keeps, at most the
    /// numerical rank.
    fn keep(&self, s: &[f64]) -> usize {
        let rank = numerical_rank(s);
        match self.cut {
            Cut::Dim(k) => k.min(rank),
            Cut::Var(v) => {
                let total: f64 = s.iter().map(|s| s * s).sum();
                let mut cum = 0.0;
                let mut k = 0;
                // scikit-learn: searchsorted(cumsum(ratio), v, side="right") + 1.
                for s in s {
                    if cum / total > v {
                        break;
                    }
                    cum += s * s;
                    k += 1;
                }
                k.min(rank).max(1)
            }
        }
    }
}

impl Spec for Svcca {
    fn entry(&self) -> Entry {
        let (what, name) = match self.cut {
            Cut::Var(v) => (
                format!(
                    "the fewest PCs of each side explaining more than {} of its variance",
                    format_param(v)
                ),
                format!(
                    "SVCCA ({}% variance)",
                    format_param(v * 100.0).trim_end_matches(".0")
                ),
            ),
            Cut::Dim(k) => (
                format!("the top {k} PCs of each side"),
                format!("SVCCA ({k} PCs)"),
            ),
        };
        let (stat, name) = match self.kind {
            Kind::Mean => ("mean canonical correlation", name),
            Kind::Squared => (
                "mean squared canonical correlation",
                format!("{name}, squared"),
            ),
        };
        Entry {
            id: self.id(),
            aliases: Vec::new(),
            description: format!("SVCCA: {stat} between {what}"),
            range: [Some(0.0), Some(1.0)],
            direction: Direction::Similarity,
            invariances: OIST.iter().map(|s| s.to_string()).collect(),
            differentiable: false,
            citation: "Raghu, Gilmer, Yosinski, Sohl-Dickstein (2017) SVCCA, NeurIPS".into(),
            name,
            group: Group::Cca,
            rewards: "correlating with each of X's dominant PCs, every kept PC alike: low-variance directions are cut off first".into(),
            score_only: Some(SVCCA_SCORE_ONLY.into()),
            closed_form: false,
            lists: list_names(&[]),
        }
    }

    fn build(&self, c: &Ctx) -> Built {
        let kx = self.keep(c.target.s.as_slice());
        if kx == 0 {
            return Err(c.unsupported("X has no variance".into()));
        }
        let mut warnings = Vec::new();
        let most = (c.n() - 1).min(c.q);
        if let Cut::Dim(k) = self.cut {
            if k > kx || k > most {
                warnings.push(format!(
                    "{}: asks for {k} PCs but X has rank {kx} and Y at most {most}: fewer PCs are kept",
                    c.id
                ));
            }
            let ky = k.min(most);
            if c.n() - 1 < kx + ky {
                warnings.push(format!(
                    "{}: n − 1 = {} < k_x + k_y = {}, so at least {} canonical correlations are trivially 1 and the score is not informative",
                    c.id,
                    c.n() - 1,
                    kx + ky,
                    (kx + ky + 1 - c.n()).min(kx.min(ky))
                ));
            }
        }
        Ok((
            Box::new(SvccaMeasure {
                svcca: *self,
                ux: c.target.u.columns(0, kx).into_owned(),
            }),
            warnings,
        ))
    }

    fn flops(&self, d: Dims) -> f64 {
        let Dims { n, q, r } = d;
        4.0 * n * q * q + 9.0 * q.powi(3) + 2.0 * n * r * q + 20.0 * r.min(q).powi(3)
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

struct SvccaMeasure {
    svcca: Svcca,
    /// X's top k_x PCs (n × k_x).
    ux: DMatrix<f64>,
}

impl Measure for SvccaMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        let yc = center_columns(y);
        if frob2(&yc) < DEGENERATE_NORM2 {
            return 0.0;
        }
        let (uy, s, _) = thin_svd(&yc);
        let ky = self.svcca.keep(s.as_slice());
        let m = mul(&self.ux, Op::T, &uy.columns(0, ky).into_owned(), Op::N);
        let (_, rho, _) = thin_svd(&m);
        let k = self.ux.ncols().min(ky) as f64;
        let v = match self.svcca.kind {
            Kind::Mean => rho.iter().sum::<f64>() / k,
            Kind::Squared => rho.iter().map(|r| r * r).sum::<f64>() / k,
        };
        v.min(1.0)
    }

    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let s = self.score(y);
        degenerate(y, grad, s)
    }
}
