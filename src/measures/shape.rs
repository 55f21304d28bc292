//! Generalized shape metrics (Williams et al. 2021, netrep's `LinearMetric`) for any partial
//! whitening α ∈ [0, 1]: each side is mapped by Z = (α I + (1 − α) C^(−1/2)), C = X_cᵀX_c (netrep's
//! `whiten`; its variance-preserving rescale cancels here), and compared by the cosine of the
//! angle of the best rotation, s_α = ‖X_wᵀY_w‖_* / (‖X_w‖‖Y_w‖). On singular values σ this maps
//! σ ↦ ασ + (1 − α): α = 1 is NBS (angular Procrustes), α = 0 mean CCA. Directions below the
//! whitening floor (1e-10 of the largest eigenvalue, as CCA; netrep clips at an absolute 1e-7)
//! are dropped.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::cca::{format_param, WHITEN_RTOL};
use super::def::{Built, Ctx, Dims, Entry, Family, Group, List, Parsed, PcSums, Spec};
use super::{degenerate, Angular, Direction, Measure, MeasureError, DEGENERATE_NORM2};
use crate::linalg::{
    center_columns, center_columns_mut, gemm, gram, mul, scale_columns, sym_eigen, thin_svd, Op,
};
use crate::target::Target;

/// `shape_metric-alpha={α}-score` and `shape_metric-alpha={α}-angular-score`, any α ∈ [0, 1].
pub const SHAPE: Family = Family {
    pattern:
        "shape_metric-alpha={α}-score and shape_metric-alpha={α}-angular-score for any 0 ≤ α ≤ 1",
    parse: parse_shape,
    listed: || {
        vec![Box::new(Shape {
            alpha: 0.5,
            angular: false,
        })]
    },
};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    alpha: f64,
    angular: bool,
}

fn parse_shape(id: &str) -> Parsed {
    let rest = id.strip_prefix("shape_metric-alpha=")?;
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    Some((|| {
        let (a, angular) = if let Some(a) = rest.strip_suffix("-angular-score") {
            (a, true)
        } else if let Some(a) = rest.strip_suffix("-score") {
            (a, false)
        } else {
            return Err(bad(
                "expected `shape_metric-alpha={α}-score` or `shape_metric-alpha={α}-angular-score` (distances are offered as scores)".into(),
            ));
        };
        let alpha: f64 = a
            .parse()
            .map_err(|_| bad(format!("α = `{a}` is not a number")))?;
        if !(0.0..=1.0).contains(&alpha) {
            return Err(bad(format!("α must be in [0, 1], got {a}")));
        }
        Ok(Box::new(Shape { alpha, angular }) as Box<dyn Spec>)
    })())
}

impl Shape {
    fn id(&self) -> String {
        format!(
            "shape_metric-alpha={}-{}",
            format_param(self.alpha),
            if self.angular {
                "angular-score"
            } else {
                "score"
            }
        )
    }
}

impl Spec for Shape {
    fn entry(&self) -> Entry {
        let a = format_param(self.alpha);
        // ασ + (1 − α) mixes a scale with a constant: only the ends are scale invariant.
        let inv: &[&str] = if self.alpha == 0.0 {
            &[
                "invertible-linear",
                "orthogonal",
                "isotropic-scaling",
                "translation",
            ]
        } else if self.alpha == 1.0 {
            &["orthogonal", "isotropic-scaling", "translation"]
        } else {
            &["orthogonal", "translation"]
        };
        Entry {
            id: self.id(),
            aliases: Vec::new(),
            description: if self.angular {
                format!("1 − (2/π)·arccos of the shape metric score at α = {a}")
            } else {
                format!("shape metric score at partial whitening α = {a}: ‖X_wᵀY_w‖_*/(‖X_w‖‖Y_w‖), singular values σ ↦ ασ + (1 − α) (α = 1 NBS, α = 0 mean CCA)")
            },
            range: [Some(0.0), Some(1.0)],
            direction: Direction::Similarity,
            invariances: inv.iter().map(|s| s.to_string()).collect(),
            differentiable: true,
            citation: "Williams, Kunz, Kornblith, Linderman (2021) Generalized shape metrics on neural representations, NeurIPS; netrep".into(),
            name: format!("shape metric (α={a}){}", if self.angular { ", angular" } else { "" }),
            group: Group::Bures,
            rewards: "aligning with X by a rotation after partly equalising the PCs' variances: between Procrustes (α = 1, PCs by standard deviation) and CCA (α = 0, every PC alike)".into(),
            score_only: None,
            closed_form: false,
            lists: Vec::new(),
        }
    }

    fn build(&self, c: &Ctx) -> Built {
        let m = ShapeMeasure::new(c.target(), self.alpha);
        let mut warnings = Vec::new();
        if self.alpha < 1.0 && c.n() < m.xw.ncols() + c.q + 1 {
            warnings.push(format!(
                "{}: n − 1 = {} < rank(X) + q = {}: with α < 1 the weakest directions are boosted towards CCA's trivially perfect correlations, so the score is inflated",
                c.id,
                c.n() - 1,
                m.xw.ncols() + c.q
            ));
        }
        Ok(if self.angular {
            (Box::new(Angular(m)) as Box<dyn Measure>, warnings)
        } else {
            (Box::new(m) as Box<dyn Measure>, warnings)
        })
    }

    fn flops(&self, d: Dims) -> f64 {
        let Dims { n, r, q } = d;
        n * q * q + 9.0 * q.powi(3) + 2.0 * n * r * q + 20.0 * r.min(q).powi(3) + 6.0 * n * q * q
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

struct ShapeMeasure {
    alpha: f64,
    /// X_c partly whitened, up to a rotation on the right: U_x diag(ασ + 1 − α) (n × r_x).
    xw: DMatrix<f64>,
    /// ‖X_w‖.
    nx: f64,
}

impl ShapeMeasure {
    fn new(target: Arc<Target>, alpha: f64) -> Self {
        let lmax = target.s.get(0).map(|s| s * s).unwrap_or(0.0);
        let rx = target
            .s
            .iter()
            .take_while(|s| *s * *s > WHITEN_RTOL * lmax)
            .count();
        let g: Vec<f64> = target
            .s
            .iter()
            .take(rx)
            .map(|s| alpha * s + 1.0 - alpha)
            .collect();
        ShapeMeasure {
            alpha,
            xw: scale_columns(&target.u.columns(0, rx).into_owned(), &g),
            nx: g.iter().map(|v| v * v).sum::<f64>().sqrt(),
        }
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let alpha = self.alpha;
        let yc = center_columns(y);
        let zero = |g: Option<&mut DMatrix<f64>>| {
            if let Some(g) = g {
                degenerate(y, g, 0.0);
            }
            0.0
        };
        if crate::linalg::frob2(&yc) < DEGENERATE_NORM2 || self.xw.ncols() == 0 {
            return zero(grad);
        }
        let (mu, v) = sym_eigen(gram(&yc, Op::T));
        let ry = mu.iter().take_while(|&&m| m > WHITEN_RTOL * mu[0]).count();
        if ry == 0 {
            return zero(grad);
        }
        let vk = v.columns(0, ry).into_owned(); // q × r_y
        let rt: Vec<f64> = mu.iter().take(ry).map(|m| m.sqrt()).collect();
        let d: Vec<f64> = rt.iter().map(|r| alpha + (1.0 - alpha) / r).collect();
        let ny2: f64 = rt.iter().map(|r| (alpha * r + 1.0 - alpha).powi(2)).sum();
        let ny = ny2.sqrt();
        let yv = mul(&yc, Op::N, &vk, Op::N); // n × r_y
        let b = mul(&self.xw, Op::T, &yv, Op::N); // r_x × r_y: X̂ᵀY_cV_k
        let a = scale_columns(&b, &d); // X̂ᵀ Y_w (up to V_kᵀ on the right)
        let (p, sig, q) = thin_svd(&a);
        let nuc: f64 = sig.iter().sum();
        let denom = self.nx * ny;
        let s = nuc / denom;
        let Some(g) = grad else { return s.min(1.0) };
        // ν = ‖M Z‖_*, M = X̂ᵀY_c, Z = V_k D V_kᵀ; polar factor Π = P Qᵀ V_kᵀ.
        // ∂ν/∂Y_c = X̂ Π Z + 2 Y_c V_k T V_kᵀ, T = F ∘ sym(Bᵀ P Qᵀ) (Daleckii–Krein, F the divided
        // differences of λ ↦ α + (1 − α)λ^(−1/2): −(1 − α)/(√λ_i √λ_j (√λ_i + √λ_j))).
        let pq = mul(&p, Op::N, &q, Op::T); // r_x × r_y
        let mut t = mul(&b, Op::T, &pq, Op::N); // r_y × r_y
        let tt = t.transpose();
        t += tt;
        t *= 0.5;
        for j in 0..ry {
            for i in 0..ry {
                t[(i, j)] *= -(1.0 - alpha) / (rt[i] * rt[j] * (rt[i] + rt[j]));
            }
        }
        // The norm: ‖Y_w‖² = Σ h(λ), h' = α² + α(1 − α)/√λ; ∂‖Y_w‖²/∂Y_c = 2 Y_c V_k h'(Λ) V_kᵀ.
        // Together: inner (r_y × r_y) = 2T/denom − s·h'(Λ)/‖Y_w‖² acting on Y_c V_k, plus X̂ Π Z.
        let mut inner = t * (2.0 / denom);
        for (i, r) in rt.iter().enumerate() {
            inner[(i, i)] -= s * (alpha * alpha + alpha * (1.0 - alpha) / r) / ny2;
        }
        let mut left = mul(&yv, Op::N, &inner, Op::N); // n × r_y
                                                       // X̂ Π Z = X̂ P Qᵀ D V_kᵀ.
        let xpq = scale_columns(&mul(&self.xw, Op::N, &pq, Op::N), &d); // n × r_y
        left += xpq * (1.0 / denom);
        *g = DMatrix::zeros(y.nrows(), y.ncols());
        gemm(1.0, &left, Op::N, &vk, Op::T, 0.0, g);
        center_columns_mut(g);
        s.min(1.0)
    }
}

impl Measure for ShapeMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.eval(y, None)
    }
    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.eval(y, Some(grad))
    }
}
