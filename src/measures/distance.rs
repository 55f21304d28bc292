//! Distances made from scores, under similarity-repository's names: for any score s in
//! [−1, 1] (a cosine of some kind: CKA, NBS, mean CCA, SVCCA, shape metrics, matching, RSA),
//! `{score}-distance=angular` is the angle arccos(s) (Williams et al. 2021: a metric whenever s is
//! the cosine of an inner product, as for CKA and NBS) and `{score}-distance=one_minus_score` is
//! 1 − s. Both are distances: the optimiser minimises them, and they are exactly as
//! differentiable as their score. `{score}` is any spelling of the score, with or without its
//! `-score` ending (`cka-kernel=linear-hsic=gretton-distance=angular`, `cka-distance=angular`).

use nalgebra::DMatrix;

use super::def::{Built, Ctx, Dims, Entry, Family, Group, List, Parsed, PcSums, Spec};
use super::{registry, Direction, Measure, MeasureError};

pub const DISTANCE: Family = Family {
    pattern: "{score}-distance=angular (arccos of the score) and {score}-distance=one_minus_score, for any score ranging in [−1, 1]",
    parse,
    // The distances add no information to their scores' lists; they are resolved on demand.
    listed: Vec::new,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// arccos(s).
    Angular,
    /// 1 − s.
    OneMinus,
}

impl Form {
    fn suffix(self) -> &'static str {
        match self {
            Form::Angular => "-distance=angular",
            Form::OneMinus => "-distance=one_minus_score",
        }
    }

    fn of(self, s: f64) -> f64 {
        match self {
            Form::Angular => s.clamp(-1.0, 1.0).acos(),
            Form::OneMinus => 1.0 - s,
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
        }
    }
}

fn parse(id: &str) -> Parsed {
    let (form, prefix) = [Form::Angular, Form::OneMinus]
        .into_iter()
        .find_map(|f| id.strip_suffix(f.suffix()).map(|p| (f, p)))?;
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    let with_score = format!("{prefix}-score");
    let base = match registry::spec(&with_score).or_else(|_| registry::spec(prefix)) {
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
            closed_form: e.closed_form,
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
            }),
            warnings,
        ))
    }

    fn flops(&self, dims: Dims) -> f64 {
        self.base.flops(dims)
    }

    fn theory(&self, sums: &PcSums) -> Option<f64> {
        self.base.theory(sums).map(|s| self.form.of(s))
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

struct DistanceMeasure {
    inner: Box<dyn Measure>,
    form: Form,
}

impl Measure for DistanceMeasure {
    fn score(&self, y: &DMatrix<f64>) -> f64 {
        self.form.of(self.inner.score(y))
    }

    fn score_and_grad(&self, y: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let s = self.inner.score_and_grad(y, grad);
        *grad *= self.form.slope(s);
        self.form.of(s)
    }

    fn direction(&self) -> Direction {
        Direction::Distance
    }
}
