//! CKA variants that need the n × n Gram matrices (spec §2.4, §2.5): the unbiased HSIC of
//! Song et al. 2012 (`cka-hsic_song`), the zero-diagonal "Lange" CKA (`cka-lange`), and RBF
//! kernel CKA with any of the three estimators ([`RBF_CKA`]).
//! The X side (its transformed Gram matrix and norm) is prepared once.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::cca::format_param;
use super::def::{
    built, Built, Ctx, Def, Dims, Entry, Family, Group, List, List::*, Parsed, PcSums, Spec, OIST,
};
use super::{degenerate, Direction, Measure, MeasureError, DEGENERATE_NORM2};
use crate::linalg::{center_columns, center_columns_mut, dot, frob2, gemm, gram, Op};
use crate::target::Target;

pub const CKA_SONG: Def = Def {
    id: "cka-hsic_song",
    aliases: &["cka-kernel=linear-hsic=song-score", "cka-unbiased"],
    alias_warnings: &[],
    name: "CKA, unbiased HSIC",
    group: Group::Cka,
    description: "linear CKA with the unbiased HSIC estimator of Song et al. (needs n ≥ 4)",
    rewards: "the same as linear CKA (top PCs by variance squared), without the biased estimator's pull towards 1 for few samples",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Song, Smola, Gretton, Bedo, Borgwardt (2012) Feature selection via dependence maximization, JMLR; Kornblith et al. (2019)",
    score_only: None,
    pair: None,
    build: |c| {
        if c.n() < 4 {
            return Err(c.unsupported(format!(
                "the unbiased HSIC needs n ≥ 4 samples, got {}",
                c.n()
            )));
        }
        built(CkaSong::new(c.target()))
    },
    flops: gram_flops,
    theory: None,
    lists: &[(Compare, 8)],
};

pub const CKA_LANGE: Def = Def {
    id: "cka-lange",
    aliases: &[
        "cka-kernel=linear-hsic=lange-score",
        "kernel=linear-similarity=(centered-zero_diagonal-cosine)-score",
    ],
    alias_warnings: &[],
    name: "CKA, zero-diagonal Grams (Lange)",
    group: Group::Cka,
    description: "CKA of double-centred linear Grams with zeroed diagonals (Lange)",
    rewards: "the same as linear CKA, with each sample's similarity to itself (the Gram diagonal) left out",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: OIST,
    citation: "Lange, Kwok, Matelsky, Wang, Rolnick, Kording (2022) Neural networks as paths through the space of representations, arXiv:2206.10999; similarity-repository",
    score_only: None,
    pair: None,
    build: |c| built(CkaLange::new(c.target())),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// One step of a measure on n × n Grams or RDMs of Y: the Gram (n²q) and Γ·Y_c (2n²q).
pub(crate) fn gram_flops(d: Dims) -> f64 {
    let Dims { n, q, .. } = d;
    n * n * q + 2.0 * n * n * q
}

/// U-centring 𝒰(K) in place (spec §2.4): zero the diagonal, then subtract row and column
/// means scaled by 1/(n−2) and add the grand sum over (n−1)(n−2); the diagonal stays 0.
fn u_centre(k: &mut DMatrix<f64>) {
    let n = k.nrows();
    for i in 0..n {
        k[(i, i)] = 0.0;
    }
    let r: Vec<f64> = k.column_iter().map(|c| c.sum()).collect(); // symmetric: col sums = row sums
    let s: f64 = r.iter().sum();
    let (a, c) = (
        1.0 / (n as f64 - 2.0),
        s / ((n as f64 - 1.0) * (n as f64 - 2.0)),
    );
    for j in 0..n {
        for i in 0..n {
            if i != j {
                k[(i, j)] += c - (r[i] + r[j]) * a;
            }
        }
    }
}

/// Linear CKA with the unbiased HSIC estimator of Song et al. 2012 (needs n ≥ 4).
pub struct CkaSong {
    /// 𝒰(K_x) / ‖𝒰(K_x)‖.
    kx: DMatrix<f64>,
}

impl CkaSong {
    /// Needs n ≥ 4 (the registry checks it).
    pub fn new(target: Arc<Target>) -> Self {
        let mut kx = gram(&target.xs, Op::N);
        u_centre(&mut kx);
        let nk = kx.norm();
        if nk > 0.0 {
            kx /= nk;
        }
        CkaSong { kx }
    }

    fn parts(&self, y: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>, f64, f64) {
        let yc = center_columns(y);
        let mut l = gram(&yc, Op::N);
        u_centre(&mut l);
        let nl = l.norm();
        let s = if nl > 0.0 {
            dot(&self.kx, &l) / nl
        } else {
            0.0
        };
        (yc, l, nl, s)
    }
}

impl Measure for CkaSong {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.parts(y).3
    }

    /// Γ = 𝒰(K)/(‖𝒰(K)‖‖𝒰(L)‖) − CKA_u·𝒰(L)/‖𝒰(L)‖², ∂/∂Y = 2ΓY.
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let (yc, mut l, nl, s) = self.parts(y);
        if nl == 0.0 || frob2(&yc) < DEGENERATE_NORM2 {
            return degenerate(y, grad, s);
        }
        l *= -s / (nl * nl);
        l += &self.kx * (1.0 / nl);
        *grad = DMatrix::zeros(y.nrows(), y.ncols());
        gemm(2.0, &l, Op::N, &yc, Op::N, 0.0, grad);
        center_columns_mut(grad);
        s
    }
}

/// CKA of double-centred Gram matrices with zeroed diagonals ("Lange" CKA).
pub struct CkaLange {
    /// offdiag(X_sX_sᵀ) / ‖·‖.
    kx: DMatrix<f64>,
}

fn zero_diag(k: &mut DMatrix<f64>) {
    for i in 0..k.nrows() {
        k[(i, i)] = 0.0;
    }
}

impl CkaLange {
    pub fn new(target: Arc<Target>) -> Self {
        let mut kx = gram(&target.xs, Op::N);
        zero_diag(&mut kx);
        let nk = kx.norm();
        if nk > 0.0 {
            kx /= nk;
        }
        CkaLange { kx }
    }

    fn parts(&self, y: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>, f64, f64) {
        let yc = center_columns(y);
        let mut k = gram(&yc, Op::N);
        zero_diag(&mut k);
        let nk = k.norm();
        let s = if nk > 0.0 {
            dot(&self.kx, &k) / nk
        } else {
            0.0
        };
        (yc, k, nk, s)
    }
}

impl Measure for CkaLange {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.parts(y).3
    }

    /// Γ = H(K̂_x/(‖K̂_x‖‖K̂_y‖) − f·K̂_y/‖K̂_y‖²)H, ∂f/∂Y = 2ΓY = 2H Γ' Y_c.
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let (yc, mut k, nk, s) = self.parts(y);
        if nk == 0.0 || frob2(&yc) < DEGENERATE_NORM2 {
            return degenerate(y, grad, s);
        }
        k *= -s / (nk * nk);
        k += &self.kx * (1.0 / nk);
        *grad = DMatrix::zeros(y.nrows(), y.ncols());
        gemm(2.0, &k, Op::N, &yc, Op::N, 0.0, grad);
        center_columns_mut(grad);
        s
    }
}

/// RBF-kernel CKA (Kornblith et al. 2019): K_ij = exp(−‖x_i − x_j‖²/(2σ²)) on each side, compared
/// by CKA with the biased (Gretton), unbiased (Song) or zero-diagonal (Lange) HSIC. σ is given
/// absolutely (`rbf-sigma=σ`, similarity-repository's spelling) or, as in Kornblith's code, as
/// a multiple of the median distance: σ² = t²·median of the n² squared distances, diagonal
/// included (`rbf-threshold=t`); each side takes its own median.
pub const RBF_CKA: Family = Family {
    pattern: "cka-kernel=(rbf-sigma={σ})-hsic={gretton|song|lange}-score and cka-kernel=(rbf-threshold={t})-hsic=…-score for any σ, t > 0",
    parse: parse_rbf,
    listed: || {
        vec![
            Box::new(RbfCka::new(Sigma::Absolute(1.0), Hsic::Gretton)),
            Box::new(RbfCka::new(Sigma::Median(1.0), Hsic::Gretton)),
        ]
    },
};

/// How σ is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sigma {
    Absolute(f64),
    /// σ² = t²·median(squared distances).
    Median(f64),
}

/// The HSIC estimator inside CKA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hsic {
    /// tr(HKH·HLH) (biased).
    Gretton,
    /// Song et al.'s unbiased estimator (U-centring).
    Song,
    /// Double centring, then the diagonal zeroed.
    Lange,
}

impl Hsic {
    fn name(self) -> &'static str {
        match self {
            Hsic::Gretton => "gretton",
            Hsic::Song => "song",
            Hsic::Lange => "lange",
        }
    }

    /// The estimator's linear map T of a kernel matrix (CKA is the cosine of T(K) and T(L)).
    fn apply(self, k: &mut DMatrix<f64>) {
        match self {
            Hsic::Gretton => double_centre(k),
            Hsic::Song => u_centre(k),
            Hsic::Lange => {
                double_centre(k);
                zero_diag(k);
            }
        }
    }

    /// T's adjoint T* (Gretton's and Song's maps are self-adjoint; Lange's is H·offdiag(·)·H).
    fn adjoint(self, g: &mut DMatrix<f64>) {
        match self {
            Hsic::Gretton => double_centre(g),
            Hsic::Song => u_centre(g),
            Hsic::Lange => {
                zero_diag(g);
                double_centre(g);
            }
        }
    }
}

/// HKH in place, H = I − 11ᵀ/n, for a symmetric K (row means = column means, read down the
/// contiguous columns).
fn double_centre(k: &mut DMatrix<f64>) {
    let n = k.nrows();
    let m: Vec<f64> = k.column_iter().map(|c| c.sum() / n as f64).collect();
    let g = m.iter().sum::<f64>() / n as f64;
    for (j, mut col) in k.column_iter_mut().enumerate() {
        let cj = g - m[j];
        for (v, mi) in col.iter_mut().zip(&m) {
            *v += cj - mi;
        }
    }
}

/// Squared distances ‖y_i − y_j‖² of the rows of a column-centred matrix (diagonal 0).
fn sq_distances(yc: &DMatrix<f64>) -> DMatrix<f64> {
    let mut d = gram(yc, Op::N);
    let diag: Vec<f64> = d.diagonal().iter().copied().collect();
    for (j, mut col) in d.column_iter_mut().enumerate() {
        for (i, (v, di)) in col.iter_mut().zip(&diag).enumerate() {
            *v = if i == j {
                0.0
            } else {
                (di + diag[j] - 2.0 * *v).max(0.0)
            };
        }
    }
    d
}

/// The median of all n² entries of a distance matrix (the n zeros of the diagonal and each
/// off-diagonal entry twice, as `np.median` of the full matrix), with the one or two
/// off-diagonal entries (i, j), i < j, it is the mean of (none when it falls on the zeros).
fn full_median(d: &DMatrix<f64>) -> (f64, Vec<(usize, usize)>) {
    let n = d.nrows();
    let mut up: Vec<f64> = (0..n)
        .flat_map(|j| (0..j).map(move |i| (i, j)))
        .map(|(i, j)| d[(i, j)])
        .collect();
    // The sorted full list is n zeros, then u_1, u_1, u_2, u_2, … (distances are ≥ 0): its
    // p-th entry (from 0) is u_⌊(p − n)/2⌋ for p ≥ n.
    let total = n * n;
    let ps: Vec<usize> = if total % 2 == 1 {
        vec![total / 2]
    } else {
        vec![total / 2 - 1, total / 2]
    };
    let ks: Vec<Option<usize>> = ps.iter().map(|&p| (p >= n).then(|| (p - n) / 2)).collect();
    let mut values = Vec::new();
    if let Some(k0) = ks.iter().flatten().next().copied() {
        let (_, v0, right) = up.select_nth_unstable_by(k0, |a, b| a.total_cmp(b));
        let v0 = *v0;
        values.push((k0, v0));
        if let Some(Some(k1)) = ks.get(1) {
            if *k1 != k0 {
                // The next order statistic is the smallest of the right part.
                let v1 = right.iter().copied().fold(f64::INFINITY, f64::min);
                values.push((*k1, v1));
            }
        }
    }
    let value_of = |k: Option<usize>| -> f64 {
        k.map_or(0.0, |k| {
            values.iter().find(|v| v.0 == k).map_or(0.0, |v| v.1)
        })
    };
    let m = ks.iter().map(|&k| value_of(k)).sum::<f64>() / ks.len() as f64;
    // Where the picked values sit (the first such entry: ties make the median's derivative
    // one-sided anyway).
    let mut at = Vec::new();
    for &k in ks.iter().flatten() {
        let v = value_of(Some(k));
        'find: for j in 0..n {
            for i in 0..j {
                if d[(i, j)] == v {
                    at.push((i, j));
                    break 'find;
                }
            }
        }
    }
    (m, at)
}

/// One RBF CKA: σ rule and HSIC estimator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RbfCka {
    sigma: Sigma,
    hsic: Hsic,
}

fn parse_rbf(id: &str) -> Parsed {
    let rest = id.strip_prefix("cka-kernel=(rbf-")?;
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    Some((|| {
        let form = "expected `cka-kernel=(rbf-sigma={σ})-hsic={gretton|song|lange}-score` or `cka-kernel=(rbf-threshold={t})-hsic=…-score`";
        let (param, tail) = rest.split_once(")-hsic=").ok_or_else(|| bad(form.into()))?;
        let hsic = match tail
            .strip_suffix("-score")
            .ok_or_else(|| bad(form.into()))?
        {
            "gretton" => Hsic::Gretton,
            "song" => Hsic::Song,
            "lange" => Hsic::Lange,
            other => {
                return Err(bad(format!(
                    "unknown HSIC estimator `{other}`: gretton, song or lange"
                )))
            }
        };
        let (name, v) = param.split_once('=').ok_or_else(|| bad(form.into()))?;
        let x: f64 = v
            .parse()
            .map_err(|_| bad(format!("{name} = `{v}` is not a number")))?;
        if !(x.is_finite() && x > 0.0) {
            return Err(bad(format!("{name} must be a finite number > 0, got {v}")));
        }
        let sigma = match name {
            "sigma" => Sigma::Absolute(x),
            "threshold" => Sigma::Median(x),
            other => {
                return Err(bad(format!(
                    "unknown RBF parameter `{other}`: sigma or threshold"
                )))
            }
        };
        Ok(Box::new(RbfCka::new(sigma, hsic)) as Box<dyn Spec>)
    })())
}

impl RbfCka {
    pub fn new(sigma: Sigma, hsic: Hsic) -> Self {
        RbfCka { sigma, hsic }
    }

    pub fn id(&self) -> String {
        let p = match self.sigma {
            Sigma::Absolute(s) => format!("sigma={}", format_param(s)),
            Sigma::Median(t) => format!("threshold={}", format_param(t)),
        };
        format!("cka-kernel=(rbf-{p})-hsic={}-score", self.hsic.name())
    }

    /// σ² for a matrix of squared distances, with the median's entries when σ follows it.
    fn sigma2(&self, d: &DMatrix<f64>) -> (f64, Vec<(usize, usize)>) {
        match self.sigma {
            Sigma::Absolute(s) => (s * s, Vec::new()),
            Sigma::Median(t) => {
                let (m, at) = full_median(d);
                (t * t * m, at)
            }
        }
    }

    /// T(K) of one side and the pieces its gradient needs: (T(K), K, D, σ², median entries).
    #[allow(clippy::type_complexity)]
    fn side(
        &self,
        yc: &DMatrix<f64>,
    ) -> Option<(
        DMatrix<f64>,
        DMatrix<f64>,
        DMatrix<f64>,
        f64,
        Vec<(usize, usize)>,
    )> {
        let d = sq_distances(yc);
        let (s2, at) = self.sigma2(&d);
        if s2.is_nan() || s2 <= 0.0 {
            return None;
        }
        let c = -1.0 / (2.0 * s2);
        let k = d.map(|v| (v * c).exp());
        let mut t = k.clone();
        self.hsic.apply(&mut t);
        Some((t, k, d, s2, at))
    }
}

impl Spec for RbfCka {
    fn entry(&self) -> Entry {
        let (sig, sig_name) = match self.sigma {
            Sigma::Absolute(s) => (
                format!("σ = {}", format_param(s)),
                format!("σ={}", format_param(s)),
            ),
            Sigma::Median(t) => (
                format!(
                    "σ = {} × the median distance (Kornblith's threshold)",
                    format_param(t)
                ),
                format!("σ={}×median", format_param(t)),
            ),
        };
        let est = match self.hsic {
            Hsic::Gretton => "biased HSIC",
            Hsic::Song => "unbiased HSIC (Song)",
            Hsic::Lange => "zero-diagonal Grams (Lange)",
        };
        Entry {
            id: self.id(),
            aliases: Vec::new(),
            description: format!("CKA of RBF kernels exp(−‖y_i − y_j‖²/(2σ²)), {sig}, {est}"),
            range: [Some(if self.hsic == Hsic::Gretton { 0.0 } else { -1.0 }), Some(1.0)],
            direction: Direction::Similarity,
            // An absolute σ sets a length scale: scaling Y changes the kernel.
            invariances: match self.sigma {
                Sigma::Absolute(_) => vec!["orthogonal".into(), "translation".into()],
                Sigma::Median(_) => OIST.iter().map(|s| s.to_string()).collect(),
            },
            differentiable: true,
            citation: "Kornblith, Norouzi, Lee, Hinton (2019) Similarity of neural network representations revisited, ICML; Gretton et al. (2005); Song et al. (2012)".into(),
            name: format!("RBF CKA ({sig_name}{})", match self.hsic {
                Hsic::Gretton => "",
                Hsic::Song => ", unbiased",
                Hsic::Lange => ", Lange",
            }),
            group: Group::Cka,
            rewards: "the same neighbourhoods: which samples lie close together at the kernel's scale σ, large distances counting little".into(),
            score_only: None,
            closed_form: false,
            lists: Vec::new(),
        }
    }

    fn build(&self, c: &Ctx) -> Built {
        if self.hsic == Hsic::Song && c.n() < 4 {
            return Err(c.unsupported(format!(
                "the unbiased HSIC needs n ≥ 4 samples, got {}",
                c.n()
            )));
        }
        if c.n() < 2 {
            return Err(c.unsupported("an RBF kernel needs n ≥ 2 samples".into()));
        }
        let (mut tx, ..) = self.side(&c.target.xs).ok_or_else(|| {
            c.unsupported("the median squared distance between X's samples is 0, so σ is 0".into())
        })?;
        let nx = tx.norm();
        if nx == 0.0 {
            return Err(
                c.unsupported("X's centred RBF kernel is 0 (every sample alike at this σ)".into())
            );
        }
        tx /= nx;
        let mut warnings = Vec::new();
        if let Sigma::Absolute(s) = self.sigma {
            // A σ far from the data's scale makes the kernel 0 or 1 everywhere.
            let (m, _) = full_median(&sq_distances(&c.target.xs));
            let ratio = s * s / m.max(f64::MIN_POSITIVE);
            if !(1e-3..=1e3).contains(&ratio) {
                warnings.push(format!(
                    "{}: σ² = {} is {ratio:.2e} × X's median squared distance {m:.3e}: the kernel is nearly {} everywhere and the score says little; try cka-kernel=(rbf-threshold=1.0)-hsic={}-score",
                    c.id,
                    format_param(s * s),
                    if ratio < 1.0 { "the identity" } else { "constant" },
                    self.hsic.name()
                ));
            }
        }
        built(RbfMeasure { spec: *self, tx })
    }

    fn flops(&self, d: Dims) -> f64 {
        // Gram and distances, the exponentials (~20 flops each), T, and (diag(W1) − W)Y.
        gram_flops(d) + 30.0 * d.n * d.n
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

struct RbfMeasure {
    spec: RbfCka,
    /// T(K_x)/‖T(K_x)‖.
    tx: DMatrix<f64>,
}

impl RbfMeasure {
    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let yc = center_columns(y);
        let Some((mut t, k, d, s2, at)) = self.spec.side(&yc) else {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        };
        let nl = t.norm();
        if nl == 0.0 {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        }
        let s = (dot(&self.tx, &t) / nl).clamp(-1.0, 1.0);
        let Some(g) = grad else { return s };
        // ∂s/∂T(L) = T_x/‖T(L)‖ − s·T(L)/‖T(L)‖²; back through T (its adjoint), then through
        // L = exp(−D/(2σ²)): W = Γ ∘ L, ∂s/∂D = −W/(2σ²).
        let (a, b) = (-s / (nl * nl), 1.0 / nl);
        t.zip_apply(&self.tx, |v, x| *v = a * *v + b * x);
        self.spec.hsic.adjoint(&mut t);
        let mut w = t;
        w.component_mul_assign(&k);
        let n = y.nrows();
        // σ² = t²·median: ∂s/∂σ² = Σ_ij W_ij D_ij/(2σ⁴) (taken before W becomes the Laplacian).
        let ds2 = if at.is_empty() {
            0.0
        } else {
            w.dot(&d) / (2.0 * s2 * s2)
        };
        // Fixed σ: ∂s/∂y_i = −(2/σ²) Σ_j W_ij (y_i − y_j) = −(2/σ²) [(diag(W1) − W) Y]_i;
        // W is symmetric, so its row sums are its (contiguous) column sums.
        let sums: Vec<f64> = w
            .column_iter()
            .enumerate()
            .map(|(j, c)| c.sum() - c[j])
            .collect();
        w.neg_mut();
        for (i, r) in sums.into_iter().enumerate() {
            w[(i, i)] = r;
        }
        *g = DMatrix::zeros(n, y.ncols());
        gemm(-2.0 / s2, &w, Op::N, &yc, Op::N, 0.0, g);
        if !at.is_empty() {
            // The median is the mean of its entries D_ab, ∂D_ab/∂y_a = 2(y_a − y_b).
            let scale = match self.spec.sigma {
                Sigma::Median(th) => th * th,
                Sigma::Absolute(_) => 0.0,
            };
            let coef = ds2 * scale / at.len() as f64 * 2.0;
            for &(a, b) in &at {
                for j in 0..y.ncols() {
                    let diff = yc[(a, j)] - yc[(b, j)];
                    g[(a, j)] += coef * diff;
                    g[(b, j)] -= coef * diff;
                }
            }
        }
        center_columns_mut(g);
        s
    }
}

impl Measure for RbfMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}
