//! Distances made from scores, under similarity-repository's names: for any score s in
//! [−1, 1] (a cosine of some kind: CKA, NBS, mean CCA, SVCCA, shape metrics, matching, RSA),
//! `{score}-distance=angular` is the angle arccos(s) (Williams et al. 2021: a metric whenever s is
//! the cosine of an inner product, as for CKA and NBS) and `{score}-distance=one_minus_score` is
//! 1 − s. Both are distances: the optimiser minimises them, and they are exactly as
//! differentiable as their score. `{score}` is any spelling of the score, with or without its
//! `-score` ending (`cka-kernel=linear-hsic=gretton-distance=angular`, `cka-distance=angular`).
//!
//! The shape metrics (NBS, mean CCA, `shape_metric-alpha={α}`, permutation matching) are
//! cosines between X and Y transformed with their variance kept (netrep's `whiten(…,
//! preserve_variance=True)`), so they also have netrep's Euclidean distance
//! d² = ‖X_c‖² + ‖Y_c‖² − 2‖X_c‖‖Y_c‖·s: `{score}-distance=euclidean` and
//! `-distance=squared_euclidean`. Unlike the angle these depend on the scale of X and Y.

use nalgebra::DMatrix;

use super::def::{Built, Ctx, Derived, Dims, Entry, Group, List, Parsed, PcSums, Resolve, Spec};
use super::{Direction, Measure, MeasureError};
use crate::linalg::{center_columns, frob2};

pub const DISTANCE: Derived = Derived {
    pattern: "{score}-distance=angular (arccos of the score) and {score}-distance=one_minus_score, for any score ranging in [−1, 1]; {score}-distance=euclidean and -distance=squared_euclidean for the shape metrics",
    parse,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// arccos(s).
    Angular,
    /// 1 − s.
    OneMinus,
    /// d² = ‖X_c‖² + ‖Y_c‖² − 2‖X_c‖‖Y_c‖·s, and its root.
    SquaredEuclidean,
    Euclidean,
}

const FORMS: [Form; 4] = [
    Form::Angular,
    Form::OneMinus,
    Form::SquaredEuclidean,
    Form::Euclidean,
];

/// Whether the canonical score `id` is a cosine of variance-preserving transforms of X_c and
/// Y_c (netrep's shape metrics), so that its Euclidean distance is defined from it.
fn variance_preserving(id: &str) -> bool {
    matches!(id, "nbs" | "cca-score" | "permutation-score")
        || (id.starts_with("shape_metric-alpha=") && !id.ends_with("-angular-score"))
}

impl Form {
    fn suffix(self) -> &'static str {
        match self {
            Form::Angular => "-distance=angular",
            Form::OneMinus => "-distance=one_minus_score",
            Form::SquaredEuclidean => "-distance=squared_euclidean",
            Form::Euclidean => "-distance=euclidean",
        }
    }

    fn euclidean(self) -> bool {
        matches!(self, Form::SquaredEuclidean | Form::Euclidean)
    }

    /// The distance from the score s, with ‖X_c‖² = a and ‖Y_c‖² = b for the Euclidean forms.
    fn of(self, s: f64, a: f64, b: f64) -> f64 {
        match self {
            Form::Angular => s.clamp(-1.0, 1.0).acos(),
            Form::OneMinus => 1.0 - s,
            Form::SquaredEuclidean => (a + b - 2.0 * (a * b).sqrt() * s).max(0.0),
            Form::Euclidean => Form::SquaredEuclidean.of(s, a, b).sqrt(),
        }
    }

    /// d distance / ds. At s = ±1 the angle has an infinite slope (its minimum or maximum):
    /// the gradient is 0 there rather than infinite.
    fn slope(self, s: f64) -> f64 {
        match self {
            Form::Angular => {
                let den = (1.0 - s.clamp(-1.0, 1.0).powi(2)).sqrt();
                if den < 1e-12 {
                    0.0
                } else {
                    -1.0 / den
                }
            }
            Form::OneMinus => -1.0,
            // The Euclidean forms depend on ‖Y_c‖ too (`DistanceMeasure::score_and_grad`).
            Form::SquaredEuclidean | Form::Euclidean => unreachable!(),
        }
    }
}

fn parse(id: &str, resolve: Resolve) -> Parsed {
    let (form, prefix) = FORMS
        .into_iter()
        .find_map(|f| id.strip_suffix(f.suffix()).map(|p| (f, p)))?;
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    let with_score = format!("{prefix}-score");
    let base = match resolve(&with_score).or_else(|_| resolve(prefix)) {
        Ok(b) => b,
        Err(_) => {
            return Some(Err(bad(format!(
                "neither `{with_score}` nor `{prefix}` is a measure to make a distance of"
            ))))
        }
    };
    let e = base.entry();
    if e.direction != Direction::Similarity {
        return Some(Err(bad(format!("`{}` is already a distance", e.id))));
    }
    if e.id.contains("angular") {
        return Some(Err(bad(format!(
            "`{}` is already an angular score; the distance of the plain score is what similarity-repository calls `…-distance=angular`",
            e.id
        ))));
    }
    if form.euclidean() && !variance_preserving(&e.id) {
        return Some(Err(bad(format!(
            "`{}` is not a shape metric (NBS, mean CCA, `shape_metric-alpha={{α}}`, permutation matching), so it has no Euclidean distance here; its angular distance is `…-distance=angular`",
            e.id
        ))));
    }
    if e.group == Group::Regression {
        return Some(Err(bad(format!(
            "`{}` is a share of variance explained, not a cosine, so it has no angular distance",
            e.id
        ))));
    }
    let bounded = matches!(e.range, [Some(lo), Some(hi)] if lo >= -1.0 && hi <= 1.0);
    if !bounded {
        return Some(Err(bad(format!(
            "`{}` does not range in [−1, 1], so it has no angular distance",
            e.id
        ))));
    }
    Some(Ok(Box::new(Distance { base, form })))
}

/// A distance of a resolved score.
struct Distance {
    base: Box<dyn Spec>,
    form: Form,
}

impl Spec for Distance {
    fn entry(&self) -> Entry {
        let e = self.base.entry();
        let stem = e.id.strip_suffix("-score").unwrap_or(&e.id);
        let lo = e.range[0].unwrap_or(-1.0);
        let (name, description, range) = match self.form {
            Form::Angular => (
                format!("angular distance, {}", e.name),
                format!("arccos of {}", e.description),
                [Some(0.0), Some(lo.clamp(-1.0, 1.0).acos())],
            ),
            Form::OneMinus => (
                format!("1 − {}", e.name),
                format!("1 minus {}", e.description),
                [Some(0.0), Some(1.0 - lo)],
            ),
            Form::SquaredEuclidean | Form::Euclidean => (
                format!(
                    "{}Euclidean distance, {}",
                    if self.form == Form::Euclidean { "" } else { "squared " },
                    e.name
                ),
                format!(
                    "netrep's {}Euclidean distance ‖X_c‖² + ‖Y_c‖² − 2‖X_c‖‖Y_c‖·s{} of {} (scale-dependent)",
                    if self.form == Form::Euclidean { "" } else { "squared " },
                    if self.form == Form::Euclidean { ", square-rooted," } else { "" },
                    e.description
                ),
                [Some(0.0), None],
            ),
        };
        // A Euclidean distance changes with the scale of Y.
        let invariances = if self.form.euclidean() {
            e.invariances
                .iter()
                .filter(|i| *i != "isotropic-scaling" && *i != "invertible-linear")
                .cloned()
                .collect()
        } else {
            e.invariances.clone()
        };
        Entry {
            id: format!("{stem}{}", self.form.suffix()),
            aliases: Vec::new(),
            description,
            range,
            direction: Direction::Distance,
            citation: format!(
                "{}; Williams, Kunz, Kornblith, Linderman (2021) Generalized shape metrics on neural representations, NeurIPS",
                e.citation
            ),
            name,
            invariances,
            closed_form: e.closed_form && !self.form.euclidean(),
            // Not in the default lists: a distance adds nothing to its score's place there.
            lists: Vec::new(),
            ..e
        }
    }

    fn build(&self, ctx: &Ctx) -> Built {
        let (inner, warnings) = self.base.build(ctx)?;
        Ok((
            Box::new(DistanceMeasure {
                inner,
                form: self.form,
                xc2: ctx.target.s1,
            }),
            warnings,
        ))
    }

    fn flops(&self, dims: Dims) -> f64 {
        self.base.flops(dims)
    }

    fn theory(&self, sums: &PcSums) -> Option<f64> {
        if self.form.euclidean() {
            return None;
        }
        self.base.theory(sums).map(|s| self.form.of(s, 0.0, 0.0))
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

struct DistanceMeasure {
    inner: Box<dyn Measure>,
    form: Form,
    /// ‖X_c‖², for the Euclidean forms.
    xc2: f64,
}

impl Measure for DistanceMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        let yc2 = if self.form.euclidean() {
            frob2(&center_columns(y))
        } else {
            0.0
        };
        self.form.of(self.inner.score(y), self.xc2, yc2)
    }

    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let s = self.inner.score_and_grad(y, grad);
        if !self.form.euclidean() {
            *grad *= self.form.slope(s);
            return self.form.of(s, 0.0, 0.0);
        }
        // d² = a + ‖Y_c‖² − 2√a‖Y_c‖s: ∂d²/∂Y = 2Y_c − 2√a(‖Y_c‖∇s + s·Y_c/‖Y_c‖).
        let yc = center_columns(y);
        let (a, b) = (self.xc2, frob2(&yc));
        let (ra, rb) = (a.sqrt(), b.sqrt());
        let d2 = Form::SquaredEuclidean.of(s, a, b);
        *grad *= -2.0 * ra * rb;
        let along = if rb > 0.0 {
            2.0 - 2.0 * ra * s / rb
        } else {
            2.0
        };
        *grad += &yc * along;
        if self.form == Form::Euclidean {
            let d = d2.sqrt();
            *grad *= if d > 0.0 { 0.5 / d } else { 0.0 };
            return d;
        }
        d2
    }

    fn direction(&self) -> Direction {
        Direction::Distance
    }
}
