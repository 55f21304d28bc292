//! The measure registry: the one list of every measure declaration ([`MEASURES`]) and the
//! lookups every face uses (resolve an id, build a measure, list the defaults, suggest a fix
//! for a typo).
//!
//! Canonical ids are the authors' hyphenated ids plus `cka-lange` and
//! `rsa-correlation-pearson`. The ridge family is open: `ridge-lambda{λ}-r2#{k}folds_cv` and
//! `ridge-lambda{λ}-r2#no_cv` for any λ ≥ 0 and k ≥ 2, λ written as the shortest decimal
//! (`100`, `0.5`); λ = 0 resolves to `linreg-r2#{k}folds_cv` (CV) or `linreg` (in-sample).
//!
//! To add a measure: declare its [`Def`] in its family file and add one line here
//! (docs/DESIGN.md, "How to add a measure").

use std::sync::Arc;

use super::def::{Ctx, Def, Derived, Dims, Family, PcSums, Spec};
pub use super::def::{Entry, Group, List};
pub use super::regression::{format_lambda, RIDGE_LAMBDAS};
use super::{
    bures, cca, cka, distance, kernel, knn, matching, regression, rsa, shape, Measure, MeasureError,
};
use crate::target::Target;

/// One declaration: a measure with a fixed id, or a family of ids with parameters.
pub enum Decl {
    One(&'static Def),
    Family(&'static Family),
    /// Ids made from other measures' ids (the distances of scores).
    Derived(&'static Derived),
}

use Decl::{Derived as Made, Family as Open, One};

/// Every measure, in the order `simscope measures` lists them (fixed ids first, then each
/// family's listed instances). Resolution tries them in this order.
pub const MEASURES: &[Decl] = &[
    One(&cka::CKA),
    One(&cka::CKA_ANGULAR),
    One(&kernel::CKA_SONG),
    One(&kernel::CKA_LANGE),
    One(&bures::NBS),
    One(&bures::PROCRUSTES_ANGULAR),
    One(&bures::PROCRUSTES_EUCLIDEAN),
    One(&matching::PERMUTATION_SCORE),
    One(&matching::PERMUTATION_ANGULAR),
    One(&cca::CCA_ANGULAR),
    One(&cca::CCA_SCORE),
    One(&cca::CCA_SQUARED),
    One(&regression::LINREG),
    One(&rsa::RSA_CORRELATION_PEARSON),
    One(&rsa::RSA_CORRELATION_COSINE),
    One(&rsa::RSA_EUCLIDEAN_CORR),
    One(&rsa::RSA_EUCLIDEAN_COSINE),
    One(&rsa::RSA_CORRELATION_SPEARMAN),
    One(&rsa::RSA_EUCLIDEAN_SPEARMAN),
    One(&rsa::RSA_CORRELATION_TAU_A),
    One(&rsa::RSA_EUCLIDEAN_TAU_A),
    One(&cka::ENSD),
    // Before the families whose prefixes its ids share (`svcca-…-distance=angular`).
    Made(&distance::DISTANCE),
    Open(&regression::RIDGE),
    Open(&cca::SVCCA),
    Open(&shape::SHAPE),
    Open(&kernel::RBF_CKA),
    Open(&rsa::RSA),
    Open(&knn::MUTUAL_KNN),
];

/// `id` without the `measure/` or `diffscore/` prefix the authors' tools write.
fn strip(id: &str) -> &str {
    let raw = id.trim();
    raw.strip_prefix("measure/")
        .or_else(|| raw.strip_prefix("diffscore/"))
        .unwrap_or(raw)
}

/// The declaration `id` (canonical or alias, prefix already stripped) resolves to.
pub fn spec(id: &str) -> Result<Box<dyn Spec>, MeasureError> {
    let id = strip(id);
    for decl in MEASURES {
        match decl {
            One(d) => {
                if d.id == id || d.aliases.contains(&id) {
                    return Ok(Box::new(*d));
                }
            }
            Open(f) => {
                if let Some(r) = (f.parse)(id) {
                    return r;
                }
            }
            Made(f) => {
                if let Some(r) = (f.parse)(id, spec) {
                    return r;
                }
            }
        }
    }
    Err(MeasureError::Unknown {
        id: id.to_string(),
        hint: hint(id),
    })
}

/// Every listed instance, in [`MEASURES`] order.
fn listed_specs() -> Vec<Box<dyn Spec>> {
    let mut out: Vec<Box<dyn Spec>> = Vec::new();
    for decl in MEASURES {
        match decl {
            One(d) => out.push(Box::new(*d)),
            Open(f) => out.extend((f.listed)()),
            Made(_) => {}
        }
    }
    out
}

/// Resolve an id or alias to its canonical id, with warnings (alias used, misnamed ids).
/// `measure/` and `diffscore/` prefixes are accepted.
pub fn resolve(id: &str) -> Result<(String, Vec<String>), MeasureError> {
    let raw = id.trim();
    let s = spec(raw)?;
    let canon = s.entry().id;
    let mut warnings = Vec::new();
    if canon != raw {
        warnings.push(format!(
            "measure `{raw}` resolved to canonical id `{canon}`"
        ));
    }
    warnings.extend(s.alias_warnings(strip(raw)));
    Ok((canon, warnings))
}

/// Resolve a list of ids (the watch list of a run, the measures of a command) the same way on
/// every face: canonical ids, duplicates dropped (the first kept), `exclude`'s canonical id
/// dropped (the optimised measure, which is not watched twice), and `all` expanded to every
/// listed id. Returns the ids and the warnings of resolving them.
pub fn resolve_list<S: AsRef<str>>(
    ids: &[S],
    exclude: Option<&str>,
) -> Result<(Vec<String>, Vec<String>), MeasureError> {
    let skip = exclude.map(|e| resolve(e).map(|r| r.0).unwrap_or_else(|_| e.to_string()));
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    for id in ids {
        let id = id.as_ref();
        let expanded = if id.trim() == "all" {
            all_ids()
        } else {
            vec![id.to_string()]
        };
        for id in expanded {
            let (c, w) = resolve(&id)?;
            for w in w {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            if Some(&c) != skip.as_ref() && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok((out, warnings))
}

/// The metadata of any resolvable id (canonical or alias).
pub fn entry(id: &str) -> Result<Entry, MeasureError> {
    Ok(spec(id)?.entry())
}

/// What menus, legends and tables call an id (its `name`; the id itself if it resolves to
/// nothing, so a caller can always show something).
pub fn name(id: &str) -> String {
    entry(id).map_or(id.to_string(), |e| e.name)
}

/// Which way an id is better (a similarity for an unknown id: plots then read as today).
pub fn direction(id: &str) -> super::Direction {
    entry(id).map_or(super::Direction::Similarity, |e| e.direction)
}

/// The listed registry: every fixed id, `linreg-r2#5folds_cv`, and the ridge family at
/// λ ∈ [`RIDGE_LAMBDAS`] with 5 folds and in-sample (any other λ ≥ 0 and k ≥ 2 also resolve).
pub fn entries() -> Vec<Entry> {
    listed_specs().iter().map(|s| s.entry()).collect()
}

/// The canonical ids `--measure all` runs (same as [`entries`]).
pub fn all_ids() -> Vec<String> {
    entries().into_iter().map(|e| e.id).collect()
}

/// The entries of a default list, in the list's order.
pub fn listed(list: List) -> Vec<Entry> {
    let mut v: Vec<(u8, Entry)> = listed_specs()
        .iter()
        .filter_map(|s| s.position(list).map(|k| (k, s.entry())))
        .collect();
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().map(|(_, e)| e).collect()
}

/// The canonical ids of a default list, in order.
pub fn listed_ids(list: List) -> Vec<String> {
    listed(list).into_iter().map(|e| e.id).collect()
}

/// The open spellings of the parametric families, as `simscope measures` prints them.
pub fn patterns() -> Vec<&'static str> {
    MEASURES
        .iter()
        .filter_map(|d| match d {
            Open(f) => Some(f.pattern),
            Made(f) => Some(f.pattern),
            One(_) => None,
        })
        .collect()
}

/// Whether `id` (any alias) can be optimised: Err says why not (a score-only measure, or an
/// id that does not resolve), for every job that optimises a measure.
pub fn optimisable(id: &str) -> Result<(), String> {
    let e = entry(id).map_err(|e| e.to_string())?;
    match e.score_only {
        None => Ok(()),
        Some(why) => Err(format!(
            "`{}` cannot be optimised ({why}); watch it or compare with it instead",
            e.id
        )),
    }
}

/// Build the measure `id` (any alias) against a prepared target for a Y of width `q`.
/// Warnings say when the score's meaning changes for these shapes (spec §2.16).
pub fn prepare(
    id: &str,
    target: Arc<Target>,
    q: usize,
) -> Result<(Box<dyn Measure>, Vec<String>), MeasureError> {
    let (canon, mut warnings) = resolve(id)?;
    let s = spec(&canon)?;
    let ctx = Ctx {
        id: &canon,
        target: &target,
        q,
    };
    if q == 0 {
        return Err(ctx.unsupported("Y has no columns".into()));
    }
    let (m, w) = s.build(&ctx)?;
    warnings.extend(w);
    Ok((m, warnings))
}

/// Dominant floating-point operations of one optimisation step of measure `id` for X n×p of
/// rank r and Y n×q (2mnk per m×k·k×n product, n·q² per Gram, q³/3 per Cholesky, 9d³ per
/// symmetric eigen-solve with vectors): each declaration's cost model.
pub fn step_flops(id: &str, n: usize, r: usize, q: usize) -> Result<f64, MeasureError> {
    Ok(spec(id)?.flops(Dims {
        n: n as f64,
        r: r as f64,
        q: q as f64,
    }))
}

/// The PC perturbation closed form of measure `id` from the perturbation's sums (spec §6.1),
/// or None if it has none (or the id does not resolve).
pub fn theory(id: &str, sums: &PcSums) -> Option<f64> {
    spec(id).ok()?.theory(sums)
}

/// Every spelling a user may type, with the canonical id it stands for.
fn spellings() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in entries() {
        out.push((e.id.clone(), e.id.clone()));
        for a in e.aliases {
            out.push((a, e.id.clone()));
        }
    }
    out
}

/// Edit distance with adjacent transpositions (optimal string alignment), over chars: the
/// did-you-mean of measure ids here and of every setting in the page's state table.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, v) in d[0].iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Canonical ids close to a mistyped `id` (did-you-mean), best first, at most 5: compared
/// case-insensitively with every listed id and alias by edit distance (at most one edit per
/// four characters, at least one), or completing it (`procrustes-angular` →
/// `procrustes-angular-score`).
pub fn suggest(id: &str) -> Vec<String> {
    let typed = strip(id).to_lowercase();
    if typed.is_empty() {
        return Vec::new();
    }
    let limit = (typed.chars().count() / 4).max(1);
    let mut scored: Vec<(usize, usize, String)> = Vec::new();
    for (k, (spelling, canon)) in spellings().into_iter().enumerate() {
        let s = spelling.to_lowercase();
        let d = edit_distance(&typed, &s);
        let completes = typed.chars().count() >= 3 && s.starts_with(&typed);
        if d <= limit || completes {
            scored.push((if completes { d.min(limit) } else { d }, k, canon));
        }
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    // A similarity-repository-style `-score` ending on a simscope id (`cka-score`): the id
    // without it is the likeliest meaning, whatever the edit distances say.
    if let Some(Ok(s)) = strip(id).strip_suffix("-score").map(spec) {
        out.push(s.entry().id);
    }
    for (_, _, c) in scored {
        if !out.contains(&c) && out.len() < 5 {
            out.push(c);
        }
    }
    out
}

/// The hint of an unknown id's error message.
fn hint(id: &str) -> String {
    if id.ends_with("-angular") {
        return format!("; distances `…-angular` are offered as scores: try `{id}-score`");
    }
    let close = suggest(id);
    if close.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
        format!("; did you mean {}?", quoted.join(", "))
    }
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
        // A `-score` ending on a simscope id suggests the id first.
        assert_eq!(suggest("cka-score")[0], "cka");
        assert_eq!(
            suggest("rsa-correlation-pearson-score")[0],
            "rsa-correlation-pearson"
        );
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
        assert_eq!(resolve("measure/nbs").unwrap().0, "nbs");
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
        let mut spellings: Vec<String> = Vec::new();
        for e in entries() {
            for a in &e.aliases {
                assert_eq!(resolve(a).unwrap().0, e.id, "alias {a}");
                assert!(!ids.contains(a), "alias {a} is also a canonical id");
                spellings.push(a.clone());
            }
        }
        let n = spellings.len();
        spellings.sort();
        spellings.dedup();
        assert_eq!(spellings.len(), n, "an alias is declared twice");
    }

    #[test]
    fn default_lists_are_ordered_and_name_real_measures() {
        for list in List::ALL {
            let ids = listed_ids(list);
            assert!(!ids.is_empty(), "{list:?} is empty");
            let mut positions: Vec<u8> = listed_specs()
                .iter()
                .filter_map(|s| s.position(list))
                .collect();
            let k = positions.len();
            positions.sort();
            positions.dedup();
            assert_eq!(
                positions.len(),
                k,
                "two measures share a position in {list:?}"
            );
        }
        let watch = [
            "cka",
            "nbs",
            "procrustes-angular-score",
            "linreg",
            "ridge-lambda100-r2#5folds_cv",
            "rsa-correlation-pearson",
            "rsa-correlation-spearman",
        ];
        assert_eq!(listed_ids(List::Watch), watch);
        // A score-only measure is watched, never calibrated (calibrating optimises).
        assert_eq!(listed_ids(List::Calibrate), watch[..6]);
        assert_eq!(listed_ids(List::CalibrateTicked), watch[..3]);
        assert_eq!(listed_ids(List::Perturb), watch[..3]);
        assert_eq!(
            listed_ids(List::PerturbCli),
            [
                "cka",
                "nbs",
                "procrustes-angular-score",
                "linreg",
                "cca-angular-score"
            ]
        );
        assert_eq!(
            listed_ids(List::Bench),
            [
                "cka",
                "cka-angular-score",
                "nbs",
                "procrustes-angular-score",
                "procrustes-euclidean",
                "linreg",
                "ridge-lambda100-r2#5folds_cv",
                "ensd"
            ]
        );
        assert_eq!(listed_ids(List::Compare).len(), 9);
        for e in listed(List::Watch) {
            assert!(e.lists.contains(&List::Watch));
        }
    }

    #[test]
    fn resolve_list_canonicalises_deduplicates_and_excludes() {
        let (ids, w) = resolve_list(
            &[
                "nbs-angular-score",
                "cka",
                "procrustes-angular-score",
                "nbs",
            ],
            Some("cka-kernel=linear-hsic=gretton-score"),
        )
        .unwrap();
        assert_eq!(ids, ["procrustes-angular-score", "nbs"]);
        assert_eq!(w.len(), 1, "{w:?}");
        let (all, _) = resolve_list(&["cka", "all"], None).unwrap();
        assert_eq!(all, all_ids());
        assert!(resolve_list(&["cka", "nope"], None).is_err());
        let empty: [&str; 0] = [];
        assert_eq!(resolve_list(&empty, None).unwrap().0.len(), 0);
    }

    #[test]
    fn typos_get_suggestions() {
        assert_eq!(suggest("CKA")[0], "cka");
        assert_eq!(suggest("nsb")[0], "nbs");
        assert_eq!(suggest("procrustes-angular")[0], "procrustes-angular-score");
        assert_eq!(
            suggest("Procrustes-Angular-Score")[0],
            "procrustes-angular-score"
        );
        assert_eq!(
            suggest("ridge-lambda100-r2#5fold_cv")[0],
            "ridge-lambda100-r2#5folds_cv"
        );
        assert!(suggest("zzzzzzzz").is_empty());
        match resolve("nsb") {
            Err(MeasureError::Unknown { hint, .. }) => assert!(hint.contains("`nbs`"), "{hint}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(edit_distance("nsb", "nbs"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn cost_models_and_closed_forms_come_from_the_declarations() {
        for id in all_ids() {
            let f = step_flops(&id, 1080, 200, 200).unwrap();
            assert!(f.is_finite() && f > 0.0, "{id}: {f}");
        }
        let with_theory: Vec<String> = entries()
            .into_iter()
            .filter(|e| e.closed_form)
            .map(|e| e.id)
            .collect();
        assert_eq!(
            with_theory,
            [
                "cka",
                "cka-angular-score",
                "nbs",
                "procrustes-angular-score",
                "procrustes-euclidean",
                "cca-angular-score",
                "cca-score",
                "linreg",
                "ensd"
            ]
        );
    }
}
