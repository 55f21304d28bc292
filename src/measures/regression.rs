//! Regression scores (spec §2.10, §2.11): R² of X predicted from Y, in-sample (`linreg`,
//! `ridge-lambda{λ}-r2#no_cv`) or with k contiguous folds and training-mean centring
//! (`ridge-lambda{λ}-r2#{k}folds_cv`, `linreg-r2#{k}folds_cv`). X enters through X_s (exact,
//! spec §1.6), so zero-padding either side changes nothing.
//!
//! Per fold (T = training rows, S = test rows, both centred with the training means):
//! B = (Y_TᵀY_T + λI)⁻¹Y_TᵀX_T, E = X_S − Y_S B, R²_f = 1 − ‖E‖²/‖X_S‖², score = mean over folds.
//! Solvers: Cholesky of the q × q Gram (q ≤ |T|), of the |T| × |T| dual Gram (λ > 0, q > |T|),
//! or, for λ = 0 with a singular Gram, the minimum-norm least-squares solution through a thin
//! SVD (as the authors' lstsq), differentiated with the constant-rank pseudo-inverse derivative.
//!
//! The authors' `pearsonr` variants (`ridge-lambda{λ}-pearsonr#…`, `linreg-pearsonr#…`) score
//! each fold by the cosine ⟨X_S, X̂_S⟩/(‖X_S‖‖X̂_S‖) of the flattened held-out X and its
//! prediction X̂_S = Y_S B instead of R² (spec §2.11: no re-centring, so a cosine rather than a
//! per-neuron Pearson r). Every fold's gradient runs through the same adjoint
//! A = ∂score/∂X̂_S: ∂/∂Y_S = ABᵀ, ∂/∂Y_T = R_TWᵀ − Y_TWBᵀ with W = M⁻¹Y_SᵀA. The `-sym`
//! variants (`…-r2-sym#…`, `…-pearsonr-sym#…`) average the score with that of Y regressed on X
//! ([`Reverse`]).

use std::ops::Range;
use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{
    list_names, Built, Ctx, Def, Dims, Entry, Family, Group, List, List::*, Parsed, PcSums, Spec,
};
use super::{Direction, Measure, MeasureError};
use crate::linalg::{
    center_columns, center_columns_mut, column_means, frob2, gemm, gram, mul, scale_columns,
    sym_eigen, Llt, Op,
};
use crate::target::Target;

const REG_CITE: &str = "Yamins et al. (2014) PNAS; Schrimpf et al. (2018) Brain-Score; fold scheme of Cloos et al. (2024) arXiv:2407.07059";

pub const LINREG: Def = Def {
    id: "linreg",
    aliases: &["linreg-r2#no_cv", "ridge-lambda0-r2#no_cv"],
    alias_warnings: &[],
    name: "linear regression",
    group: Group::Regression,
    description: "in-sample R² of X regressed on Y (least squares; trivially 1 when q ≥ n − 1)",
    rewards: "predicting X linearly from Y on the same samples, by variance explained: X's top PCs count by their variance",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: &["invertible-linear", "orthogonal", "isotropic-scaling", "translation"],
    citation: REG_CITE,
    score_only: None,
    pair: None,
    build: |c| {
        let (n, q) = (c.n(), c.q);
        let mut warnings = Vec::new();
        if q + 1 >= n {
            warnings.push(format!(
                "linreg: Y has q = {q} ≥ n − 1 = {} columns, so the in-sample R² is trivially 1 with zero gradient (spec §2.10)",
                n - 1
            ));
        }
        Ok((
            Box::new(Regression::new(c.target(), 0.0, None, Stat::R2)),
            warnings,
        ))
    },
    flops: |d| regression_flops(d, d.n, d.n, false, false),
    theory: Some(|t: &PcSums| t.projected / t.s1),
    lists: &[(Watch, 4), (Calibrate, 4), (Bench, 6), (PerturbCli, 4), (Compare, 5)],
};

/// Ridge and cross-validated regression: `ridge-lambda{λ}-r2#{k}folds_cv`,
/// `ridge-lambda{λ}-r2#no_cv` and `linreg-r2#{k}folds_cv`, any λ ≥ 0 and k ≥ 2.
pub const RIDGE: Family = Family {
    pattern: "ridge-lambda{λ}-{r2|pearsonr}#{k}folds_cv, ridge-lambda{λ}-{r2|pearsonr}#no_cv and linreg-{r2|pearsonr}#… for any λ ≥ 0, k ≥ 2",
    parse: parse_ridge,
    listed: || {
        let mut out: Vec<Box<dyn Spec>> = vec![Box::new(Ridge::new(0.0, Some(5)))];
        for &l in &RIDGE_LAMBDAS {
            out.push(Box::new(Ridge::new(l, Some(5))));
            out.push(Box::new(Ridge::new(l, None)));
        }
        out.push(Box::new(Ridge {
            stat: Stat::PearsonR,
            ..Ridge::new(100.0, Some(5))
        }));
        out.push(Box::new(Ridge {
            sym: true,
            ..Ridge::new(100.0, Some(5))
        }));
        out
    },
};

/// λ values of the ridge family listed by `simscope measures` and run by `--measure all`.
pub const RIDGE_LAMBDAS: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

/// One ridge (or cross-validated linear) regression score: λ ≥ 0, folds None = in-sample
/// (λ > 0 only: λ = 0 in-sample is [`LINREG`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ridge {
    pub lambda: f64,
    pub folds: Option<usize>,
    pub stat: Stat,
    /// The mean of both directions: X regressed on Y and Y regressed on X (the authors' `-sym`).
    pub sym: bool,
}

/// How a fold's prediction is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// R² = 1 − ‖E‖²/‖X_S‖².
    R2,
    /// The authors' `pearsonr`: the cosine of X_S and X̂_S, flattened.
    PearsonR,
}

impl Stat {
    fn name(self) -> &'static str {
        match self {
            Stat::R2 => "r2",
            Stat::PearsonR => "pearsonr",
        }
    }

    /// The fold's score from X_S and E = X_S − X̂_S, and (if `grad`) its adjoint
    /// A = ∂score/∂X̂_S. A held-out X with no variance, or a zero prediction for the cosine,
    /// scores 0 with a zero adjoint.
    fn value(self, xs: &DMatrix<f64>, e: &DMatrix<f64>, grad: bool) -> (f64, Option<DMatrix<f64>>) {
        let xs2 = frob2(xs);
        match self {
            Stat::R2 => {
                let c = if xs2 > 0.0 { 1.0 / xs2 } else { 0.0 };
                (1.0 - frob2(e) * c, grad.then(|| e * (2.0 * c)))
            }
            Stat::PearsonR => {
                let xhat = xs - e;
                let h2 = frob2(&xhat);
                if xs2 == 0.0 || h2 == 0.0 {
                    return (0.0, grad.then(|| DMatrix::zeros(e.nrows(), e.ncols())));
                }
                let (a, h) = (xs2.sqrt(), h2.sqrt());
                let s = crate::linalg::dot(xs, &xhat) / (a * h);
                let adj = grad.then(|| xs * (1.0 / (a * h)) - &xhat * (s / h2));
                (s, adj)
            }
        }
    }
}

/// λ as the shortest decimal that round-trips (`100`, `0.5`, `0.001`).
pub fn format_lambda(lambda: f64) -> String {
    let l = if lambda == 0.0 { 0.0 } else { lambda };
    format!("{l}")
}

fn parse_tail(id: &str, tail: &str) -> Result<Option<usize>, MeasureError> {
    if tail == "no_cv" {
        return Ok(None);
    }
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    let k = tail.strip_suffix("folds_cv").ok_or_else(|| {
        bad(format!(
            "expected `#{{k}}folds_cv` or `#no_cv` after `#`, got `#{tail}`"
        ))
    })?;
    let k: usize = k
        .parse()
        .map_err(|_| bad(format!("the number of folds `{k}` is not a whole number")))?;
    if k < 2 {
        return Err(bad(format!(
            "cross-validation needs at least 2 folds, got {k}"
        )));
    }
    Ok(Some(k))
}

fn parse_ridge(id: &str) -> Parsed {
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    let spec = |lambda: f64, folds: Option<usize>, (stat, sym): (Stat, bool)| -> Box<dyn Spec> {
        if lambda == 0.0 && folds.is_none() && stat == Stat::R2 && !sym {
            Box::new(&LINREG)
        } else {
            Box::new(Ridge {
                stat,
                sym,
                ..Ridge::new(lambda, folds)
            })
        }
    };
    // Every score and direction, as the ids spell them (`r2`, `pearsonr-sym`, …).
    let tags = [Stat::R2, Stat::PearsonR]
        .into_iter()
        .flat_map(|st| [(st, false), (st, true)])
        .map(|t| (tag(t.0, t.1), t));
    for (name, t) in tags.clone() {
        if let Some(tail) = id.strip_prefix(&format!("linreg-{name}#")) {
            return Some(parse_tail(id, tail).map(|folds| spec(0.0, folds, t)));
        }
    }
    let rest = id.strip_prefix("ridge-lambda")?;
    Some((|| {
        let (lam, stat, tail) = tags
            .clone()
            .find_map(|(name, t)| rest.split_once(&format!("-{name}#")).map(|(l, r)| (l, t, r)))
            .ok_or_else(|| {
                bad("expected `ridge-lambda{λ}-{r2|pearsonr}[-sym]#{k}folds_cv` or `ridge-lambda{λ}-{r2|pearsonr}[-sym]#no_cv`".into())
            })?;
        let lambda: f64 = lam
            .parse()
            .map_err(|_| bad(format!("λ = `{lam}` is not a number")))?;
        if !lambda.is_finite() || lambda < 0.0 {
            return Err(bad(format!("λ must be a finite number ≥ 0, got {lam}")));
        }
        let folds = parse_tail(id, tail)?;
        Ok(spec(lambda.abs(), folds, stat))
    })())
}

/// How an id spells a score and its direction: `r2`, `r2-sym`, `pearsonr`, `pearsonr-sym`.
fn tag(stat: Stat, sym: bool) -> String {
    format!("{}{}", stat.name(), if sym { "-sym" } else { "" })
}

impl Ridge {
    /// The R² score of X regressed on Y; the `pearsonr` and `-sym` variants set `stat`, `sym`.
    pub fn new(lambda: f64, folds: Option<usize>) -> Self {
        Ridge {
            lambda,
            folds,
            stat: Stat::R2,
            sym: false,
        }
    }

    /// The canonical id.
    pub fn id(&self) -> String {
        let tail = match self.folds {
            Some(k) => format!("{k}folds_cv"),
            None => "no_cv".into(),
        };
        let stat = tag(self.stat, self.sym);
        if self.lambda == 0.0 {
            match (self.folds, self.stat, self.sym) {
                (None, Stat::R2, false) => "linreg".into(),
                _ => format!("linreg-{stat}#{tail}"),
            }
        } else {
            format!("ridge-lambda{}-{stat}#{tail}", format_lambda(self.lambda))
        }
    }

    /// The paper's main score, ridge λ = 100 with 5 folds, is in the default lists.
    fn lists(&self) -> &'static [(List, u8)] {
        if self.lambda == 100.0 && self.folds == Some(5) && self.stat == Stat::R2 && !self.sym {
            &[(Watch, 5), (Calibrate, 5), (Bench, 7), (Compare, 6)]
        } else {
            &[]
        }
    }
}

impl Spec for Ridge {
    fn entry(&self) -> Entry {
        let (lambda, folds) = (self.lambda, self.folds);
        let mut aliases = Vec::new();
        if lambda == 0.0 {
            let tail = folds.map_or("no_cv".into(), |k| format!("{k}folds_cv"));
            aliases.push(format!("ridge-lambda0-{}#{tail}", tag(self.stat, self.sym)));
        }
        let what = match folds {
            Some(k) => format!("{k} contiguous folds, training-mean centring"),
            None => "in-sample".into(),
        };
        let stat = match self.stat {
            Stat::R2 => "R²",
            Stat::PearsonR => "cosine of X and its prediction (the authors' `pearsonr`: flattened, not re-centred, so not a per-neuron Pearson r)",
        };
        let description = if lambda == 0.0 {
            format!("{stat} of X regressed on Y, no penalty, {what}")
        } else {
            format!(
                "ridge {stat} of X regressed on Y, λ = {} (absolute), {what}",
                format_lambda(lambda)
            )
        };
        let name = match (lambda == 0.0, folds) {
            (true, Some(k)) => format!("linear regression CV ({k} folds)"),
            (false, Some(5)) => format!("ridge CV (λ={})", format_lambda(lambda)),
            (false, Some(k)) => format!("ridge CV (λ={}, {k} folds)", format_lambda(lambda)),
            (true, None) => "linear regression in-sample".into(),
            (false, None) => format!("ridge in-sample (λ={})", format_lambda(lambda)),
        };
        let name = match self.stat {
            Stat::R2 => name,
            Stat::PearsonR => format!("{name}, pearsonr"),
        };
        let (name, description) = if self.sym {
            (
                format!("{name}, both ways"),
                format!("{description}; averaged with the same score of Y regressed on X (`-sym`)"),
            )
        } else {
            (name, description)
        };
        let rewards = match folds {
            Some(_) => "predicting held-out blocks of samples of X linearly from Y, by variance explained: generalisation, not just fit",
            None => "predicting X linearly from Y on the same samples with a penalty on large weights, by variance explained",
        };
        Entry {
            id: self.id(),
            aliases,
            description,
            range: match self.stat {
                Stat::R2 => [None, Some(1.0)],
                Stat::PearsonR => [Some(-1.0), Some(1.0)],
            },
            direction: Direction::Similarity,
            invariances: vec!["orthogonal".into(), "translation".into()],
            differentiable: true,
            citation: REG_CITE.into(),
            name,
            group: Group::Regression,
            rewards: rewards.into(),
            score_only: None,
            closed_form: false,
            lists: list_names(self.lists()),
        }
    }

    fn build(&self, c: &Ctx) -> Built {
        let (n, q, lambda) = (c.n(), c.q, self.lambda);
        let mut warnings = Vec::new();
        if let Some(k) = self.folds {
            if n < k {
                return Err(c.unsupported(format!(
                    "{k}-fold cross-validation needs n ≥ {k} samples, got {n}"
                )));
            }
            let min_train = n - n.div_ceil(k);
            if lambda == 0.0 && q >= min_train {
                warnings.push(format!(
                    "{}: q = {q} ≥ the smallest training fold ({min_train} rows), so each fold's fit is the minimum-norm interpolant (no penalty): the training fit is exact and the score reflects only generalisation (spec §2.11)",
                    c.id
                ));
            }
        } else if q + 1 >= n && lambda < 1e-8 * c.target.s1 {
            warnings.push(format!(
                "{}: q = {q} ≥ n − 1 with a tiny λ: the in-sample R² is close to 1",
                c.id
            ));
        }
        let fwd = Regression::new(c.target(), lambda, self.folds, self.stat);
        if !self.sym {
            return Ok((Box::new(fwd), warnings));
        }
        let p = c.target.xs.ncols();
        if lambda == 0.0 && p >= n - self.folds.map_or(0, |k| n.div_ceil(k)) {
            warnings.push(format!(
                "{}: X has rank {p} ≥ the rows it is fitted on, so the reverse fit (Y from X) interpolates them exactly (minimum-norm, no penalty)",
                c.id
            ));
        }
        let rev = Reverse::new(&c.target.xs, lambda, self.folds, self.stat);
        Ok((Box::new(Sym { fwd, rev }), warnings))
    }

    fn flops(&self, d: Dims) -> f64 {
        let Dims { n, r, q } = d;
        let lambda = self.lambda != 0.0;
        // The reverse direction, per fold: X_TᵀY_T, C·, X_S· and the same three back, on
        // prepared X sides (C = (X_TᵀX_T + λI)⁻¹ is r × r).
        let passes = self.folds.unwrap_or(1) as f64;
        let reverse = if self.sym {
            passes * (4.0 * n * r * q + 4.0 * r * r * q)
        } else {
            0.0
        };
        reverse
            + match self.folds {
                None => regression_flops(d, n, n, lambda, false),
                Some(k) => {
                    let k = k as f64;
                    if q <= n * (k - 1.0) / k - 1.0 {
                        // global-sums path (`Regression::cv_fast`)
                        4.0 * n * q * q + 12.0 * n * q * r + k * (q.powi(3) / 3.0 + 6.0 * q * q * r)
                    } else {
                        k * regression_flops(d, n * (k - 1.0) / k, n / k, lambda, true)
                    }
                }
            }
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, list: List) -> Option<u8> {
        self.lists().iter().find(|l| l.0 == list).map(|l| l.1)
    }
}

/// One fit on nt training and ns test rows: Gram, YᵀX, Cholesky, B, the residual and, with a
/// penalty or folds, the extra solve of the gradient.
fn regression_flops(d: Dims, nt: f64, ns: f64, lambda: bool, cv: bool) -> f64 {
    let Dims { r, q, .. } = d;
    let mut f = nt * q * q + 2.0 * nt * q * r + q.powi(3) / 3.0 + 2.0 * q * q * r; // Gram, YᵀX, Cholesky, B
    f += 2.0 * ns * q * r + 2.0 * ns * r * q; // E, E Bᵀ
    if cv || lambda {
        f += if cv { 2.0 * ns * q * r } else { 0.0 } + 2.0 * q * q * r; // W
        f += 4.0 * nt * q * r + 2.0 * q * q * r + 2.0 * nt * q * q; // R_T Wᵀ − Y_T W Bᵀ
    }
    f
}

/// A Cholesky pivot below this fraction of the largest diagonal entry means "singular".
const CHOL_RTOL: f64 = 1e-12;
/// Gram eigenvalues below this fraction of the largest are zero in the minimum-norm solve.
const PINV_RTOL: f64 = 1e-12;

/// R² of regressing X on Y, ridge penalty λ (absolute), in-sample or with k contiguous folds.
pub struct Regression {
    target: Arc<Target>,
    lambda: f64,
    folds: Option<usize>,
    stat: Stat,
}

/// Contiguous folds as sklearn's `KFold(k, shuffle=False)`: the first n mod k folds have
/// ⌈n/k⌉ rows, the others ⌊n/k⌋.
pub fn kfold_ranges(n: usize, k: usize) -> Vec<Range<usize>> {
    let (base, extra) = (n / k, n % k);
    let mut start = 0;
    (0..k)
        .map(|f| {
            let len = base + usize::from(f < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// Gradients of one fold's R² with respect to its (centred) training and test rows.
type FoldGrad = (DMatrix<f64>, DMatrix<f64>);

/// The solved regression of one fold, enough to form the gradient.
enum Solve {
    /// Cholesky of M = Y_TᵀY_T + λI (q × q).
    Primal(Llt),
    /// Cholesky of K = Y_TY_Tᵀ + λI (|T| × |T|), λ > 0: M⁻¹v = (v − Y_Tᵀ K⁻¹ Y_T v)/λ.
    Dual(Llt),
    /// λ = 0, singular Gram: A⁺ = V S⁻¹ Uᵀ of A = Y_T with its range bases.
    Pinv {
        pinv: DMatrix<f64>,
        u: DMatrix<f64>,
        v: DMatrix<f64>,
    },
}

fn try_cholesky(m: DMatrix<f64>) -> Option<Llt> {
    Llt::new(&m, CHOL_RTOL)
}

impl Regression {
    /// `lambda` ≥ 0; `folds` = None for in-sample, Some(k ≥ 2) for k-fold CV (the registry
    /// validates both and that n ≥ k).
    pub fn new(target: Arc<Target>, lambda: f64, folds: Option<usize>, stat: Stat) -> Self {
        Regression {
            target,
            lambda,
            folds,
            stat,
        }
    }

    fn solve(&self, yt: &DMatrix<f64>) -> Solve {
        let (nt, q) = yt.shape();
        let lam = self.lambda;
        if q <= nt {
            let mut m = gram(yt, Op::T);
            for i in 0..q {
                m[(i, i)] += lam;
            }
            if let Some(ch) = try_cholesky(m) {
                return Solve::Primal(ch);
            }
        } else if lam > 0.0 {
            let mut k = gram(yt, Op::N);
            for i in 0..nt {
                k[(i, i)] += lam;
            }
            if let Some(ch) = try_cholesky(k) {
                return Solve::Dual(ch);
            }
        }
        // λ = 0 with a singular Gram (λ > 0 always factorises): minimum-norm solution.
        // Thin SVD A = U S Vᵀ from the eigen-decomposition of the smaller Gram matrix
        // (nalgebra's SVD of a wide matrix is not accurate enough here); singular values
        // below 1e-6·s_max count as zero (their squares are round-off of the Gram).
        let wide = nt <= q;
        let (mu, w) = sym_eigen(if wide {
            gram(yt, Op::N)
        } else {
            gram(yt, Op::T)
        });
        let mu_max = mu.get(0).cloned().unwrap_or(0.0).max(0.0);
        let k = mu
            .iter()
            .take_while(|&&m| m > PINV_RTOL * mu_max && m > 0.0)
            .count();
        let sv: Vec<f64> = mu.iter().take(k).map(|m| m.sqrt()).collect();
        let inv: Vec<f64> = sv.iter().map(|s| 1.0 / s).collect();
        let wk = w.columns(0, k).into_owned();
        // the other side's singular vectors: Aᵀ U / s (wide) or A V / s (tall)
        let other = if wide {
            mul(yt, Op::T, &scale_columns(&wk, &inv), Op::N)
        } else {
            mul(yt, Op::N, &scale_columns(&wk, &inv), Op::N)
        };
        let (uk, vk) = if wide { (wk, other) } else { (other, wk) };
        let pinv = mul(&scale_columns(&vk, &inv), Op::N, &uk, Op::T);
        Solve::Pinv { pinv, u: uk, v: vk }
    }

    /// One fold: returns (R²_f, gradient of R²_f w.r.t. (the centred) Y_T and Y_S rows).
    /// `xt`, `yt`, `xs`, `ys` are already centred with the training means. If `in_sample`,
    /// T and S are the same rows and the two gradients must be added.
    fn fold(
        &self,
        xt: &DMatrix<f64>,
        yt: &DMatrix<f64>,
        xs: &DMatrix<f64>,
        ys: &DMatrix<f64>,
        in_sample: bool,
        want_grad: bool,
    ) -> (f64, Option<FoldGrad>) {
        let sol = self.solve(yt);
        let ytx = mul(yt, Op::T, xt, Op::N); // q × r
        let b = match &sol {
            Solve::Primal(ch) => ch.solve(&ytx),
            Solve::Dual(ch) => {
                // B = Y_Tᵀ K⁻¹ X_T
                let kx = ch.solve(xt);
                mul(yt, Op::T, &kx, Op::N)
            }
            Solve::Pinv { pinv, .. } => mul(pinv, Op::N, xt, Op::N),
        };
        let mut e = xs.clone();
        gemm(-1.0, ys, Op::N, &b, Op::N, 1.0, &mut e);
        let (value, adj) = self.stat.value(xs, &e, want_grad);
        let Some(adj) = adj else {
            return (value, None);
        };
        // The fold's adjoint A = ∂score/∂X̂_S, X̂_S = Y_S B: ∂/∂Y_S = ABᵀ, and through B.
        let gs = mul(&adj, Op::N, &b, Op::T);
        let gt = match &sol {
            Solve::Primal(_) | Solve::Dual(_) => {
                // W = M⁻¹ Y_SᵀA; G_T = R_T Wᵀ − Y_T W Bᵀ, R_T = X_T − Y_T B.
                let rhs = match (in_sample, self.stat) {
                    // In-sample R², A = 2E/‖X‖²: Y_cᵀE = λB by the normal equations (0 at
                    // λ = 0), exactly rather than by cancellation.
                    (true, Stat::R2) if self.lambda > 0.0 => {
                        let xs2 = frob2(xs);
                        let c = if xs2 > 0.0 { 1.0 / xs2 } else { 0.0 };
                        Some(&b * (2.0 * c * self.lambda))
                    }
                    (true, Stat::R2) => None,
                    _ => Some(mul(ys, Op::T, &adj, Op::N)),
                };
                match rhs {
                    None => DMatrix::zeros(yt.nrows(), yt.ncols()),
                    Some(rhs) => {
                        let w = match &sol {
                            Solve::Primal(ch) => ch.solve(&rhs),
                            Solve::Dual(ch) => {
                                let ytv = mul(yt, Op::N, &rhs, Op::N);
                                let kv = ch.solve(&ytv);
                                let mut w = rhs.clone();
                                gemm(-1.0, yt, Op::T, &kv, Op::N, 1.0, &mut w);
                                w / self.lambda
                            }
                            Solve::Pinv { .. } => unreachable!(),
                        };
                        let mut rt = xt.clone();
                        gemm(-1.0, yt, Op::N, &b, Op::N, 1.0, &mut rt);
                        let mut g = mul(&rt, Op::N, &w, Op::T);
                        let wbt = mul(&w, Op::N, &b, Op::T);
                        gemm(-1.0, yt, Op::N, &wbt, Op::N, 1.0, &mut g);
                        g
                    }
                }
            }
            Solve::Pinv { pinv, u, v } => {
                // d score = ⟨Ŵ, dA⁺⟩ with Ŵ = Y_SᵀA X_Tᵀ (q × |T|); the constant-rank
                // derivative of A⁺ gives ∂/∂A = −A⁺ᵀŴA⁺ᵀ + (I−AA⁺)ŴᵀA⁺A⁺ᵀ + A⁺ᵀA⁺Ŵᵀ(I−A⁺A).
                let ysa = mul(ys, Op::T, &adj, Op::N);
                let what = mul(&ysa, Op::N, xt, Op::T); // q × nt
                let pt_w = mul(pinv, Op::T, &what, Op::N); // nt × nt
                let mut g = mul(&pt_w, Op::N, pinv, Op::T) * -1.0; // −A⁺ᵀŴA⁺ᵀ (nt × q)
                                                                   // (I − UUᵀ) Ŵᵀ A⁺A⁺ᵀ
                let ppt = mul(pinv, Op::N, pinv, Op::T); // q × q
                let mut t1 = mul(&what, Op::T, &ppt, Op::N); // nt × q
                let ut1 = mul(u, Op::T, &t1, Op::N);
                gemm(-1.0, u, Op::N, &ut1, Op::N, 1.0, &mut t1);
                g += t1;
                // A⁺ᵀA⁺ Ŵᵀ (I − VVᵀ)
                let ptp = mul(pinv, Op::T, pinv, Op::N); // nt × nt
                let mut t2 = mul(&ptp, Op::N, &what, Op::T); // nt × q
                let t2v = mul(&t2, Op::N, v, Op::N);
                gemm(-1.0, &t2v, Op::N, v, Op::T, 1.0, &mut t2);
                g += t2;
                g
            }
        };
        (value, Some((gt, gs)))
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let t = &self.target;
        let want = grad.is_some();
        let (n, q) = y.shape();
        match self.folds {
            None => {
                let yc = center_columns(y);
                let (r2, g) = self.fold(&t.xs, &yc, &t.xs, &yc, true, want);
                if let (Some(out), Some((gt, gs))) = (grad, g) {
                    *out = gt + gs;
                    center_columns_mut(out);
                }
                r2
            }
            Some(k) => {
                let ranges = kfold_ranges(n, k);
                let min_train = n - ranges.iter().map(|r| r.len()).max().unwrap_or(0);
                if q <= min_train {
                    let mut g_fast = want.then(|| DMatrix::zeros(n, q));
                    if let Some(v) = self.cv_fast(y, &ranges, g_fast.as_mut()) {
                        if let (Some(out), Some(gf)) = (grad, g_fast) {
                            *out = gf;
                        }
                        return v;
                    }
                }
                let mut total = 0.0;
                let mut acc = want.then(|| DMatrix::zeros(n, q));
                for test in &ranges {
                    let train: Vec<usize> = (0..n).filter(|i| !test.contains(i)).collect();
                    let mut xt = t.xs.select_rows(train.iter());
                    let mut yt = y.select_rows(train.iter());
                    let (mx, my) = (column_means(&xt), column_means(&yt));
                    let sub = |m: &mut DMatrix<f64>, mean: &nalgebra::DVector<f64>| {
                        for (mut col, mu) in m.column_iter_mut().zip(mean.iter()) {
                            col.add_scalar_mut(-mu);
                        }
                    };
                    sub(&mut xt, &mx);
                    sub(&mut yt, &my);
                    let mut xs = t.xs.rows(test.start, test.len()).into_owned();
                    let mut ys = y.rows(test.start, test.len()).into_owned();
                    sub(&mut xs, &mx);
                    sub(&mut ys, &my);
                    let (r2, g) = self.fold(&xt, &yt, &xs, &ys, false, want);
                    total += r2;
                    if let (Some(acc), Some((gt, gs))) = (acc.as_mut(), g) {
                        // Back through the training-mean centring: training rows get
                        // G_T − (1/|T|)·1·(1ᵀG_T + 1ᵀG_S); test rows G_S.
                        let colsum: Vec<f64> = (0..q)
                            .map(|j| (gt.column(j).sum() + gs.column(j).sum()) / train.len() as f64)
                            .collect();
                        for (a, &i) in train.iter().enumerate() {
                            for j in 0..q {
                                acc[(i, j)] += gt[(a, j)] - colsum[j];
                            }
                        }
                        for (a, i) in test.clone().enumerate() {
                            for j in 0..q {
                                acc[(i, j)] += gs[(a, j)];
                            }
                        }
                    }
                }
                if let (Some(out), Some(acc)) = (grad, acc) {
                    *out = acc / k as f64;
                }
                total / k as f64
            }
        }
    }
}

impl Regression {
    /// k-fold CV through global sums (primal solver, q ≤ every training size): the training
    /// Gram and cross-products of each fold are the global ones minus the test block minus the
    /// mean correction, and the training-row gradients of all folds are accumulated into one
    /// pass over the data, so a step costs O(nq² + nqr + k(q³ + q²r)) instead of k full fits.
    /// Returns `None` (caller falls back to the per-fold path) if a fold's Gram is singular.
    fn cv_fast(
        &self,
        y: &DMatrix<f64>,
        ranges: &[Range<usize>],
        grad: Option<&mut DMatrix<f64>>,
    ) -> Option<f64> {
        let (n, q) = y.shape();
        let x = &self.target.xs; // globally centred; training-mean centring removes offsets
        let r = x.ncols();
        let yc = center_columns(y); // likewise exact, and keeps the Gram downdates accurate
        let k = ranges.len();
        let g_all = gram(&yc, Op::T);
        let c_all = mul(&yc, Op::T, x, Op::N);
        let want = grad.is_some();
        let mut total = 0.0;
        // Per fold: α_f (−½, see below), W_f, S_f = B Wᵀ + W Bᵀ, the constant row v_f, G_S.
        let mut wsum = DMatrix::<f64>::zeros(q, r);
        let mut ssum = DMatrix::<f64>::zeros(q, q);
        let mut vsum = nalgebra::RowDVector::<f64>::zeros(q);
        let mut per_fold = Vec::with_capacity(k);
        for test in ranges {
            let ns = test.len();
            let nt = n - ns;
            let ys = yc.rows(test.start, ns).into_owned();
            let xs = x.rows(test.start, ns).into_owned();
            // Training means from the global sums (global sums of centred data are 0).
            let my: Vec<f64> = (0..q).map(|j| -ys.column(j).sum() / nt as f64).collect();
            let mx: Vec<f64> = (0..r).map(|j| -xs.column(j).sum() / nt as f64).collect();
            let mut m = &g_all - gram(&ys, Op::T);
            let mut cxy = &c_all - mul(&ys, Op::T, &xs, Op::N);
            for j in 0..q {
                for i in 0..q {
                    m[(i, j)] -= nt as f64 * my[i] * my[j];
                }
                m[(j, j)] += self.lambda;
                for l in 0..r {
                    cxy[(j, l)] -= nt as f64 * my[j] * mx[l];
                }
            }
            let chol = Llt::new(&m, CHOL_RTOL)?;
            let b = chol.solve(&cxy);
            let ys_t = DMatrix::from_fn(ns, q, |i, j| ys[(i, j)] - my[j]);
            let xs_t = DMatrix::from_fn(ns, r, |i, j| xs[(i, j)] - mx[j]);
            let mut e = xs_t.clone();
            gemm(-1.0, &ys_t, Op::N, &b, Op::N, 1.0, &mut e);
            let (value, adj) = self.stat.value(&xs_t, &e, want);
            total += value;
            let Some(adj) = adj else {
                continue;
            };
            // The fold's adjoint weighted 1/k, and W = M⁻¹Y_SᵀA/k. The terms below are written
            // as αW; with α = −½ they are the general ones (for R², A = 2E/‖X_S‖² and this is
            // the αW of α = −1/(k‖X_S‖²) and W = M⁻¹Y_SᵀE).
            let adj = adj / k as f64;
            let alpha = -0.5;
            let ysa = mul(&ys_t, Op::T, &adj, Op::N);
            let w = chol.solve(&ysa);
            let bwt = mul(&b, Op::N, &w, Op::T);
            let sf = &bwt + bwt.transpose();
            let gs = mul(&adj, Op::N, &b, Op::T); // test rows
                                                  // Training-row constant: 2α(m_x Wᵀ − m_y S_f) − colsum(G_S)/|T| (scaled G_S).
            let mut v = nalgebra::RowDVector::<f64>::zeros(q);
            for j in 0..q {
                let mw: f64 = (0..r).map(|l| mx[l] * w[(j, l)]).sum();
                let ms: f64 = (0..q).map(|i| my[i] * sf[(i, j)]).sum();
                v[j] = 2.0 * alpha * (mw - ms) - gs.column(j).sum() / nt as f64;
            }
            wsum += &w * alpha;
            ssum += &sf * alpha;
            vsum += &v;
            per_fold.push((alpha, w, sf, v, gs));
        }
        if let Some(out) = grad {
            // Row i in fold g: −2(x_i (Wsum − α_g W_g)ᵀ − y_i (Ssum − α_g S_g)) + (vsum − v_g) + G_S(g)_i.
            *out = DMatrix::zeros(n, q);
            for (test, (alpha, w, sf, v, gs)) in ranges.iter().zip(per_fold) {
                let ns = test.len();
                let wg = &wsum - w * alpha;
                let sg = &ssum - sf * alpha;
                let xs = x.rows(test.start, ns).into_owned();
                let ys = yc.rows(test.start, ns).into_owned();
                let mut block = gs;
                gemm(-2.0, &xs, Op::N, &wg, Op::T, 1.0, &mut block);
                gemm(2.0, &ys, Op::N, &sg, Op::N, 1.0, &mut block);
                let row = &vsum - v;
                for (j, mut col) in block.column_iter_mut().enumerate() {
                    col.add_scalar_mut(row[j]);
                }
                out.rows_mut(test.start, ns).copy_from(&block);
            }
        }
        Some(total / k as f64)
    }
}

/// The reverse direction of a `-sym` score: Y regressed on X. X is fixed, so each fold's
/// prediction is a fixed linear map of Y: Ŷ_S = X_S C X_Tᵀ Y_T (all training-mean centred,
/// C = (X_TᵀX_T + λI)⁻¹, a pseudo-inverse at λ = 0: the minimum-norm fit), prepared once.
struct Reverse {
    stat: Stat,
    folds: Vec<ReverseFold>,
    in_sample: bool,
}

struct ReverseFold {
    test: Range<usize>,
    /// The other rows (all of them in-sample).
    train: Vec<usize>,
    /// X_T and X_S centred with the training means, and C.
    xt: DMatrix<f64>,
    xs: DMatrix<f64>,
    c: DMatrix<f64>,
}

impl Reverse {
    fn new(x: &DMatrix<f64>, lambda: f64, folds: Option<usize>, stat: Stat) -> Self {
        let (n, in_sample) = (x.nrows(), folds.is_none());
        let splits: Vec<(Range<usize>, Vec<usize>)> = match folds {
            None => vec![(0..n, (0..n).collect())],
            Some(k) => kfold_ranges(n, k)
                .into_iter()
                .map(|t| {
                    let train = (0..n).filter(|i| !t.contains(i)).collect();
                    (t, train)
                })
                .collect(),
        };
        let folds = splits
            .into_iter()
            .map(|(test, train)| {
                let mut xt = x.select_rows(train.iter());
                let mx = column_means(&xt);
                let mut xs = x.rows(test.start, test.len()).into_owned();
                for (j, mu) in mx.iter().enumerate() {
                    xt.column_mut(j).add_scalar_mut(-mu);
                    xs.column_mut(j).add_scalar_mut(-mu);
                }
                let mut g = gram(&xt, Op::T);
                for i in 0..g.nrows() {
                    g[(i, i)] += lambda;
                }
                let (mu, v) = sym_eigen(g);
                let top = mu.iter().cloned().fold(0.0f64, f64::max);
                let inv: Vec<f64> = mu
                    .iter()
                    .map(|&m| {
                        if m > PINV_RTOL * top && m > 0.0 {
                            1.0 / m
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let c = mul(&scale_columns(&v, &inv), Op::N, &v, Op::T);
                ReverseFold {
                    test,
                    train,
                    xt,
                    xs,
                    c,
                }
            })
            .collect();
        Reverse {
            stat,
            folds,
            in_sample,
        }
    }

    fn eval(&self, y: &DMatrix<f64>, mut grad: Option<&mut DMatrix<f64>>) -> f64 {
        let (n, q) = y.shape();
        if let Some(g) = grad.as_deref_mut() {
            *g = DMatrix::zeros(n, q);
        }
        let k = self.folds.len() as f64;
        let mut total = 0.0;
        for f in &self.folds {
            let mut yt = y.select_rows(f.train.iter());
            let my = column_means(&yt);
            let mut ys = y.rows(f.test.start, f.test.len()).into_owned();
            for (j, mu) in my.iter().enumerate() {
                yt.column_mut(j).add_scalar_mut(-mu);
                ys.column_mut(j).add_scalar_mut(-mu);
            }
            // Ŷ_S = X_S C X_Tᵀ Y_T; the fold's score of (Y_S, Ŷ_S) and its two adjoints.
            let cxy = mul(&f.c, Op::N, &mul(&f.xt, Op::T, &yt, Op::N), Op::N);
            let yhat = mul(&f.xs, Op::N, &cxy, Op::N);
            let (value, adj) = self.stat.both(&ys, &yhat, grad.is_some());
            total += value;
            let (Some(g), Some((a_s, a_h))) = (grad.as_deref_mut(), adj) else {
                continue;
            };
            // ∂/∂Y_T = X_T C X_Sᵀ A_Ŷ; then back through the training-mean centring.
            let gt = mul(
                &f.xt,
                Op::N,
                &mul(&f.c, Op::N, &mul(&f.xs, Op::T, &a_h, Op::N), Op::N),
                Op::N,
            );
            if self.in_sample {
                // T = S = every row, centred by the global mean.
                let mut all = gt + a_s;
                center_columns_mut(&mut all);
                *g += all / k;
                continue;
            }
            let nt = f.train.len() as f64;
            for j in 0..q {
                let mean = (gt.column(j).sum() + a_s.column(j).sum()) / nt;
                for (a, &i) in f.train.iter().enumerate() {
                    g[(i, j)] += (gt[(a, j)] - mean) / k;
                }
                for (a, i) in f.test.clone().enumerate() {
                    g[(i, j)] += a_s[(a, j)] / k;
                }
            }
        }
        total / k
    }
}

impl Stat {
    /// The fold's score of the target T and its prediction P, and (if `grad`) the adjoints
    /// (∂/∂T, ∂/∂P): the reverse direction's target is Y, so both move.
    #[allow(clippy::type_complexity)]
    fn both(
        self,
        t: &DMatrix<f64>,
        p: &DMatrix<f64>,
        grad: bool,
    ) -> (f64, Option<(DMatrix<f64>, DMatrix<f64>)>) {
        let t2 = frob2(t);
        let zero = || {
            (
                DMatrix::zeros(t.nrows(), t.ncols()),
                DMatrix::zeros(p.nrows(), p.ncols()),
            )
        };
        if t2 == 0.0 {
            return (0.0, grad.then(zero));
        }
        match self {
            Stat::R2 => {
                let e = t - p;
                let e2 = frob2(&e);
                // R² = 1 − ‖T − P‖²/‖T‖².
                let adj = grad.then(|| {
                    (
                        &e * (-2.0 / t2) + t * (2.0 * e2 / (t2 * t2)),
                        &e * (2.0 / t2),
                    )
                });
                (1.0 - e2 / t2, adj)
            }
            Stat::PearsonR => {
                let p2 = frob2(p);
                if p2 == 0.0 {
                    return (0.0, grad.then(zero));
                }
                let (a, b) = (t2.sqrt(), p2.sqrt());
                let s = crate::linalg::dot(t, p) / (a * b);
                let adj = grad.then(|| {
                    (
                        p * (1.0 / (a * b)) - t * (s / t2),
                        t * (1.0 / (a * b)) - p * (s / p2),
                    )
                });
                (s, adj)
            }
        }
    }
}

/// A `-sym` score: the mean of both directions.
struct Sym {
    fwd: Regression,
    rev: Reverse,
}

impl Measure for Sym {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        0.5 * (self.fwd.eval(y, None) + self.rev.eval(y, None))
    }

    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let mut g = DMatrix::zeros(0, 0);
        let s = self.fwd.eval(y, Some(grad)) + self.rev.eval(y, Some(&mut g));
        *grad += g;
        *grad *= 0.5;
        0.5 * s
    }
}

impl Measure for Regression {
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

    #[test]
    fn folds_are_contiguous_like_sklearn() {
        let f = kfold_ranges(13, 5);
        assert_eq!(f, vec![0..3, 3..6, 6..9, 9..11, 11..13]);
        assert_eq!(
            kfold_ranges(10, 5).iter().map(|r| r.len()).sum::<usize>(),
            10
        );
    }
}
