//! The measure registry: canonical ids, aliases, metadata and construction.
//!
//! Canonical ids are the authors' hyphenated ids plus `cka-lange` and
//! `rsa-correlation-pearson`. The ridge family is open: `ridge-lambda{λ}-r2#{k}folds_cv` and
//! `ridge-lambda{λ}-r2#no_cv` for any λ ≥ 0 and k ≥ 2, λ written as the shortest decimal
//! (`100`, `0.5`); λ = 0 resolves to `linreg-r2#{k}folds_cv` (CV) or `linreg` (in-sample).

use std::sync::Arc;

use serde::Serialize;

use super::bures::{Nbs, ProcrustesEuclidean};
use super::cca::CcaMean;
use super::cka::{Cka, Ensd};
use super::kernel::{CkaLange, CkaSong};
use super::regression::Regression;
use super::rsa::{Compare, Rdm, Rsa};
use super::{Angular, Direction, Measure, MeasureError};
use crate::target::Target;

/// One registry entry, as `simscope measures --json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entry {
    pub id: String,
    pub aliases: Vec<String>,
    pub description: String,
    /// [lo, hi]; an unbounded end is `null` in JSON (None here).
    pub range: [Option<f64>; 2],
    pub direction: Direction,
    /// Transformations of Y that leave the score unchanged (X fixed): "orthogonal",
    /// "isotropic-scaling", "translation", "invertible-linear", "permutation",
    /// "row-shift", "row-positive-scaling".
    pub invariances: Vec<String>,
    pub differentiable: bool,
    pub citation: String,
}

/// λ values of the ridge family listed by `simscope measures` and run by `--measure all`.
pub const RIDGE_LAMBDAS: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

struct Fixed {
    id: &'static str,
    aliases: &'static [&'static str],
    description: &'static str,
    range: [Option<f64>; 2],
    direction: Direction,
    invariances: &'static [&'static str],
    citation: &'static str,
}

const OIST: &[&str] = &["orthogonal", "isotropic-scaling", "translation"];
const KORNBLITH: &str = "Kornblith, Norouzi, Lee, Hinton (2019) Similarity of neural network representations revisited, ICML";
const WILLIAMS: &str = "Williams, Kunz, Kornblith, Linderman (2021) Generalized shape metrics on neural representations, NeurIPS";
const NBS_CITE: &str = "Tang, Maddox, Dickens, Diethe, Damianou (2020) Similarity of neural networks with gradients, arXiv:2003.11498; Williams et al. (2021)";
const RSA_CITE: &str = "Kriegeskorte, Mur, Bandettini (2008) Representational similarity analysis, Front. Syst. Neurosci.; rsatoolbox";
const REG_CITE: &str = "Yamins et al. (2014) PNAS; Schrimpf et al. (2018) Brain-Score; fold scheme of Cloos et al. (2024) arXiv:2407.07059";

const FIXED: &[Fixed] = &[
    Fixed {
        id: "cka",
        aliases: &[
            "rsa-correlation-corr",
            "rsa-euclidean-centered-cosine",
            "cka-kernel=linear-hsic=gretton-score",
            "kernel=linear-similarity=(centered-cosine)-score",
            "linear-cka",
        ],
        description: "linear CKA, biased HSIC (Gretton): ‖X_cᵀY_c‖²/(‖X_cᵀX_c‖‖Y_cᵀY_c‖)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: KORNBLITH,
    },
    Fixed {
        id: "cka-angular-score",
        aliases: &["cka-angular_score", "cka-kernel=linear-hsic=gretton-angular_score"],
        description: "angular CKA score 1 − (2/π)·arccos(CKA)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: KORNBLITH,
    },
    Fixed {
        id: "cka-hsic_song",
        aliases: &["cka-kernel=linear-hsic=song-score", "cka-unbiased"],
        description: "linear CKA with the unbiased HSIC estimator of Song et al. (needs n ≥ 4)",
        range: [Some(-1.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: "Song, Smola, Gretton, Bedo, Borgwardt (2012) Feature selection via dependence maximization, JMLR; Kornblith et al. (2019)",
    },
    Fixed {
        id: "cka-lange",
        aliases: &[
            "cka-kernel=linear-hsic=lange-score",
            "kernel=linear-similarity=(centered-zero_diagonal-cosine)-score",
        ],
        description: "CKA of double-centred linear Grams with zeroed diagonals (Lange)",
        range: [Some(-1.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: "Lange, Kwok, Matelsky, Wang, Rolnick, Kording (2022) Neural networks as paths through the space of representations, arXiv:2206.10999; similarity-repository",
    },
    Fixed {
        id: "nbs",
        aliases: &["kernel=linear-similarity=(centered-bures)-score", "nbs-score"],
        description: "normalised Bures similarity ‖X_cᵀY_c‖_*/(‖X_c‖‖Y_c‖)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: NBS_CITE,
    },
    Fixed {
        id: "procrustes-angular-score",
        aliases: &[
            "nbs-angular-score",
            "procrustes-angular_score",
            "nbs-angular_score",
            "kernel=linear-similarity=(centered-bures)-angular_score",
        ],
        description: "angular Procrustes score 1 − (2/π)·arccos(NBS)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: WILLIAMS,
    },
    Fixed {
        id: "procrustes-euclidean",
        aliases: &["bures-distance", "procrustes-euclidean-distance"],
        description: "Procrustes / Bures distance min_Q ‖X_c − Y_cQ‖ (a distance: minimised)",
        range: [Some(0.0), None],
        direction: Direction::Distance,
        invariances: &["orthogonal", "translation"],
        citation: WILLIAMS,
    },
    Fixed {
        id: "cca-angular-score",
        aliases: &["cca-angular_score"],
        description: "1 − (2/π)·arccos(Σρ/√(r_x r_y)), ρ the canonical correlations (trivially 1 when n − 1 < r_x + q)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["invertible-linear", "orthogonal", "isotropic-scaling", "translation"],
        citation: "Hotelling (1936) Biometrika; Raghu et al. (2017) SVCCA, NeurIPS; Williams et al. (2021)",
    },
    Fixed {
        id: "linreg",
        aliases: &["linreg-r2#no_cv", "ridge-lambda0-r2#no_cv"],
        description: "in-sample R² of X regressed on Y (least squares; trivially 1 when q ≥ n − 1)",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["invertible-linear", "orthogonal", "isotropic-scaling", "translation"],
        citation: REG_CITE,
    },
    Fixed {
        id: "rsa-correlation-pearson",
        aliases: &[
            "rsa-rdm=correlation-similarity=upper_triangular_correlation-score",
            "rsa-rdm=correlation-compare=corr",
            "rsa",
        ],
        description: "RSA: correlation-distance RDMs, Pearson r of their upper triangles",
        range: [Some(-1.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["permutation", "isotropic-scaling", "row-shift", "row-positive-scaling"],
        citation: RSA_CITE,
    },
    Fixed {
        id: "rsa-correlation-cosine",
        aliases: &["rsa-rdm=correlation-compare=cosine"],
        description: "RSA: correlation-distance RDMs, cosine of the matrices",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["permutation", "isotropic-scaling", "row-shift", "row-positive-scaling"],
        citation: RSA_CITE,
    },
    Fixed {
        id: "rsa-euclidean-corr",
        aliases: &["rsa-rdm=squared_euclidean-compare=corr"],
        description: "RSA: squared-Euclidean RDMs, Pearson r of their upper triangles",
        range: [Some(-1.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["orthogonal", "isotropic-scaling", "translation"],
        citation: RSA_CITE,
    },
    Fixed {
        id: "rsa-euclidean-cosine",
        aliases: &["rsa-rdm=squared_euclidean-compare=cosine"],
        description: "RSA: squared-Euclidean RDMs, cosine of the matrices",
        range: [Some(0.0), Some(1.0)],
        direction: Direction::Similarity,
        invariances: &["orthogonal", "isotropic-scaling", "translation"],
        citation: RSA_CITE,
    },
    Fixed {
        id: "ensd",
        aliases: &["effective-number-of-shared-dimensions"],
        description: "effective number of shared dimensions CKA·√(PR_x PR_y) (not a [0,1] score)",
        range: [Some(0.0), None],
        direction: Direction::Similarity,
        invariances: OIST,
        citation: "Giaffar, Rojas Buján, Rodgers, Sompolinsky, Zylberberg (2023) The effective number of shared dimensions, bioRxiv",
    },
];

/// A resolved id: which measure and with which parameters.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Fixed(&'static str),
    /// λ ≥ 0, folds None = in-sample (λ > 0 only: λ = 0 in-sample is `linreg`).
    Ridge {
        lambda: f64,
        folds: Option<usize>,
    },
}

/// λ as the shortest decimal that round-trips (`100`, `0.5`, `0.001`).
pub fn format_lambda(lambda: f64) -> String {
    let l = if lambda == 0.0 { 0.0 } else { lambda };
    format!("{l}")
}

fn canonical(kind: &Kind) -> String {
    match kind {
        Kind::Fixed(id) => id.to_string(),
        Kind::Ridge { lambda, folds } => {
            let tail = match folds {
                Some(k) => format!("{k}folds_cv"),
                None => "no_cv".into(),
            };
            if *lambda == 0.0 {
                match folds {
                    Some(_) => format!("linreg-r2#{tail}"),
                    None => "linreg".into(),
                }
            } else {
                format!("ridge-lambda{}-r2#{tail}", format_lambda(*lambda))
            }
        }
    }
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

fn parse(id: &str) -> Result<Kind, MeasureError> {
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    if let Some(f) = FIXED.iter().find(|f| f.id == id || f.aliases.contains(&id)) {
        return Ok(Kind::Fixed(f.id));
    }
    if let Some(tail) = id.strip_prefix("linreg-r2#") {
        return match parse_tail(id, tail)? {
            None => Ok(Kind::Fixed("linreg")),
            Some(k) => Ok(Kind::Ridge {
                lambda: 0.0,
                folds: Some(k),
            }),
        };
    }
    if let Some(rest) = id.strip_prefix("ridge-lambda") {
        let (lam, tail) = rest.split_once("-r2#").ok_or_else(|| {
            bad("expected `ridge-lambda{λ}-r2#{k}folds_cv` or `ridge-lambda{λ}-r2#no_cv`".into())
        })?;
        let lambda: f64 = lam
            .parse()
            .map_err(|_| bad(format!("λ = `{lam}` is not a number")))?;
        if !lambda.is_finite() || lambda < 0.0 {
            return Err(bad(format!("λ must be a finite number ≥ 0, got {lam}")));
        }
        let folds = parse_tail(id, tail)?;
        if lambda == 0.0 && folds.is_none() {
            return Ok(Kind::Fixed("linreg"));
        }
        return Ok(Kind::Ridge {
            lambda: lambda.abs(),
            folds,
        });
    }
    let hint = suggestions(id);
    Err(MeasureError::Unknown {
        id: id.to_string(),
        hint,
    })
}

fn suggestions(id: &str) -> String {
    let stem = id.split(['-', '#', '=']).next().unwrap_or("");
    let close: Vec<&str> = FIXED
        .iter()
        .map(|f| f.id)
        .filter(|c| !stem.is_empty() && c.starts_with(stem))
        .collect();
    if id.ends_with("-angular") {
        return format!("; distances `…-angular` are offered as scores: try `{id}-score`");
    }
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// Resolve an id or alias to its canonical id, with warnings (alias used, misnamed ids).
/// `measure/` and `diffscore/` prefixes are accepted.
pub fn resolve(id: &str) -> Result<(String, Vec<String>), MeasureError> {
    let raw = id.trim();
    let stripped = raw
        .strip_prefix("measure/")
        .or_else(|| raw.strip_prefix("diffscore/"))
        .unwrap_or(raw);
    let kind = parse(stripped)?;
    let canon = canonical(&kind);
    let mut warnings = Vec::new();
    if canon != raw {
        warnings.push(format!(
            "measure `{raw}` resolved to canonical id `{canon}`"
        ));
    }
    if stripped == "rsa-correlation-corr" {
        warnings.push(
            "`rsa-correlation-corr` is the authors' id for what is in fact linear CKA (spec §2.13, bug B1); it is computed as `cka` so their numbers reproduce. For real RSA use `rsa-correlation-pearson`".into(),
        );
    }
    Ok((canon, warnings))
}

fn fixed_entry(f: &Fixed) -> Entry {
    Entry {
        id: f.id.into(),
        aliases: f.aliases.iter().map(|s| s.to_string()).collect(),
        description: f.description.into(),
        range: f.range,
        direction: f.direction,
        invariances: f.invariances.iter().map(|s| s.to_string()).collect(),
        differentiable: true,
        citation: f.citation.into(),
    }
}

fn ridge_entry(lambda: f64, folds: Option<usize>) -> Entry {
    let id = canonical(&Kind::Ridge { lambda, folds });
    let mut aliases = Vec::new();
    if lambda == 0.0 {
        if let Some(k) = folds {
            aliases.push(format!("ridge-lambda0-r2#{k}folds_cv"));
        }
    }
    let what = match folds {
        Some(k) => format!("{k} contiguous folds, training-mean centring"),
        None => "in-sample".into(),
    };
    let description = if lambda == 0.0 {
        format!("R² of X regressed on Y, no penalty, {what}")
    } else {
        format!(
            "ridge R² of X regressed on Y, λ = {} (absolute), {what}",
            format_lambda(lambda)
        )
    };
    Entry {
        id,
        aliases,
        description,
        range: [None, Some(1.0)],
        direction: Direction::Similarity,
        invariances: vec!["orthogonal".into(), "translation".into()],
        differentiable: true,
        citation: REG_CITE.into(),
    }
}

/// The metadata of any resolvable id (canonical or alias).
pub fn entry(id: &str) -> Result<Entry, MeasureError> {
    let (canon, _) = resolve(id)?;
    Ok(match parse(&canon)? {
        Kind::Fixed(f) => fixed_entry(FIXED.iter().find(|e| e.id == f).expect("fixed id")),
        Kind::Ridge { lambda, folds } => ridge_entry(lambda, folds),
    })
}

/// The listed registry: every fixed id, `linreg-r2#5folds_cv`, and the ridge family at
/// λ ∈ [`RIDGE_LAMBDAS`] with 5 folds and in-sample (any other λ ≥ 0 and k ≥ 2 also resolve).
pub fn entries() -> Vec<Entry> {
    let mut out: Vec<Entry> = FIXED.iter().map(fixed_entry).collect();
    out.push(ridge_entry(0.0, Some(5)));
    for &l in &RIDGE_LAMBDAS {
        out.push(ridge_entry(l, Some(5)));
        out.push(ridge_entry(l, None));
    }
    out
}

/// The canonical ids `--measure all` runs (same as [`entries`]).
pub fn all_ids() -> Vec<String> {
    entries().into_iter().map(|e| e.id).collect()
}

/// Build the measure `id` (any alias) against a prepared target for a Y of width `q`.
/// Warnings say when the score's meaning changes for these shapes (spec §2.16).
pub fn prepare(
    id: &str,
    target: Arc<Target>,
    q: usize,
) -> Result<(Box<dyn Measure>, Vec<String>), MeasureError> {
    let (canon, mut warnings) = resolve(id)?;
    let kind = parse(&canon)?;
    let (n, p, r) = (target.n, target.p, target.rank());
    let unsupported = |why: String| MeasureError::Unsupported {
        id: canon.clone(),
        why,
    };
    if q == 0 {
        return Err(unsupported("Y has no columns".into()));
    }
    let m: Box<dyn Measure> = match kind {
        Kind::Fixed(f) => match f {
            "cka" => Box::new(Cka::new(target)),
            "cka-angular-score" => Box::new(Angular(Cka::new(target))),
            "cka-hsic_song" => {
                if n < 4 {
                    return Err(unsupported(format!(
                        "the unbiased HSIC needs n ≥ 4 samples, got {n}"
                    )));
                }
                Box::new(CkaSong::new(target))
            }
            "cka-lange" => Box::new(CkaLange::new(target)),
            "nbs" => Box::new(Nbs::new(target)),
            "procrustes-angular-score" => Box::new(Angular(Nbs::new(target))),
            "procrustes-euclidean" => Box::new(ProcrustesEuclidean::new(target)),
            "cca-angular-score" => {
                let cca = CcaMean::new(target);
                let rx = cca.rank_x();
                if n < rx + q + 1 {
                    warnings.push(format!(
                        "cca-angular-score: n − 1 = {} < rank(X) + q = {} (p = {p}), so at least {} canonical correlations are trivially 1 and the score is not informative (spec §2.9)",
                        n - 1,
                        rx + q,
                        (rx + q + 1 - n).min(rx.min(q))
                    ));
                }
                Box::new(Angular(cca))
            }
            "linreg" => {
                if q + 1 >= n {
                    warnings.push(format!(
                        "linreg: Y has q = {q} ≥ n − 1 = {} columns, so the in-sample R² is trivially 1 with zero gradient (spec §2.10)",
                        n - 1
                    ));
                }
                Box::new(Regression::new(target, 0.0, None))
            }
            "rsa-correlation-pearson" | "rsa-correlation-cosine" => {
                if p < 2 || q < 2 {
                    return Err(unsupported(format!(
                        "correlation-distance RDMs need at least 2 neurons on each side (p = {p}, q = {q})"
                    )));
                }
                if n < 3 {
                    return Err(unsupported(format!(
                        "an RDM comparison needs n ≥ 3 conditions, got {n}"
                    )));
                }
                let cmp = if f.ends_with("pearson") {
                    Compare::Pearson
                } else {
                    Compare::Cosine
                };
                Box::new(Rsa::new(target, Rdm::Correlation, cmp))
            }
            "rsa-euclidean-corr" | "rsa-euclidean-cosine" => {
                if n < 3 {
                    return Err(unsupported(format!(
                        "an RDM comparison needs n ≥ 3 conditions, got {n}"
                    )));
                }
                let cmp = if f.ends_with("corr") {
                    Compare::Pearson
                } else {
                    Compare::Cosine
                };
                Box::new(Rsa::new(target, Rdm::SquaredEuclidean, cmp))
            }
            "ensd" => Box::new(Ensd::new(target)),
            other => unreachable!("fixed id {other} has no constructor"),
        },
        Kind::Ridge { lambda, folds } => {
            if let Some(k) = folds {
                if n < k {
                    return Err(unsupported(format!(
                        "{k}-fold cross-validation needs n ≥ {k} samples, got {n}"
                    )));
                }
                let min_train = n - n.div_ceil(k);
                if lambda == 0.0 && q >= min_train {
                    warnings.push(format!(
                        "{canon}: q = {q} ≥ the smallest training fold ({min_train} rows), so each fold's fit is the minimum-norm interpolant (no penalty): the training fit is exact and the score reflects only generalisation (spec §2.11)"
                    ));
                }
            } else if q + 1 >= n && lambda < 1e-8 * target.s1 {
                warnings.push(format!(
                    "{canon}: q = {q} ≥ n − 1 with a tiny λ: the in-sample R² is close to 1"
                ));
            }
            let _ = r;
            Box::new(Regression::new(target, lambda, folds))
        }
    };
    Ok((m, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ridge_ids() {
        assert_eq!(
            resolve("ridge-lambda100-r2#5folds_cv").unwrap().0,
            "ridge-lambda100-r2#5folds_cv"
        );
        assert_eq!(
            resolve("ridge-lambda100.0-r2#5folds_cv").unwrap().0,
            "ridge-lambda100-r2#5folds_cv"
        );
        assert_eq!(
            resolve("ridge-lambda1e2-r2#no_cv").unwrap().0,
            "ridge-lambda100-r2#no_cv"
        );
        assert_eq!(
            resolve("ridge-lambda0.50-r2#3folds_cv").unwrap().0,
            "ridge-lambda0.5-r2#3folds_cv"
        );
        assert_eq!(
            resolve("ridge-lambda0-r2#5folds_cv").unwrap().0,
            "linreg-r2#5folds_cv"
        );
        assert_eq!(resolve("ridge-lambda0-r2#no_cv").unwrap().0, "linreg");
        assert_eq!(resolve("linreg-r2#no_cv").unwrap().0, "linreg");
        assert!(resolve("ridge-lambda-1-r2#5folds_cv").is_err());
        assert!(resolve("ridge-lambda1-r2#1folds_cv").is_err());
        assert!(resolve("ridge-lambdanan-r2#5folds_cv").is_err());
        assert!(resolve("ridge-lambdainf-r2#5folds_cv").is_err());
        assert!(resolve("nope").is_err());
    }

    #[test]
    fn aliases_resolve_with_warnings() {
        let (id, w) = resolve("rsa-correlation-corr").unwrap();
        assert_eq!(id, "cka");
        assert_eq!(w.len(), 2);
        assert_eq!(
            resolve("nbs-angular-score").unwrap().0,
            "procrustes-angular-score"
        );
        assert_eq!(
            resolve("cka-kernel=linear-hsic=lange-score").unwrap().0,
            "cka-lange"
        );
        assert_eq!(
            resolve("cka-kernel=linear-hsic=gretton-score").unwrap().0,
            "cka"
        );
        assert!(resolve("cka").unwrap().1.is_empty());
    }

    #[test]
    fn every_listed_id_is_canonical_and_unique() {
        let ids = all_ids();
        for id in &ids {
            assert_eq!(&resolve(id).unwrap().0, id);
            assert_eq!(&entry(id).unwrap().id, id);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        for e in entries() {
            for a in &e.aliases {
                assert_eq!(resolve(a).unwrap().0, e.id, "alias {a}");
            }
        }
    }
}
