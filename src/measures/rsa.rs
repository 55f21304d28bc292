//! Representational similarity analysis (spec §2.13). RDMs over the n flattened rows:
//! * correlation distance R = 1 − ZZᵀ, z_i the row (condition pattern) centred across neurons
//!   and normalised (rsatoolbox "correlation"); the cosine distance, the same without centring;
//! * squared Euclidean distance D = diag(K)1ᵀ + 1diag(K)ᵀ − 2K, K = YYᵀ, and its square root;
//!
//! compared by Pearson r of the upper triangles, their Spearman ρ or Kendall τ-a (score-only:
//! ranks have no gradient) or by the cosine of the full matrices, optionally whitened first
//! (rsatoolbox's `cosine_cov` and `corr_cov`: the double-centred matrices compared). The
//! fixed ids are the authors'; every combination answers to `rsa-rdm={dist}-compare={cmp}`
//! ([`RSA`]). The X RDM is prepared once; a step costs O(n²q) and n² memory.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::def::{built, Built, Ctx, Def, Dims, Entry, Family, Group, List, List::*, PcSums, Spec};
use super::kernel::gram_flops;
use super::{degenerate, Direction, Measure, MeasureError};
use crate::linalg::{center_columns, center_columns_mut, dot, gemm, gram, Op};
use crate::target::Target;

const RSA_CITE: &str = "Kriegeskorte, Mur, Bandettini (2008) Representational similarity analysis, Front. Syst. Neurosci.; rsatoolbox";
/// Correlation-distance RDMs ignore each condition pattern's mean and scale.
const ROW_INVARIANT: &[&str] = &[
    "permutation",
    "isotropic-scaling",
    "row-shift",
    "row-positive-scaling",
];
/// Squared-Euclidean RDMs are distances between condition patterns: rigid motions and
/// isotropic scaling of Y keep their ranks and correlations.
const EUCLID_INVARIANT: &[&str] = &["orthogonal", "isotropic-scaling", "translation"];

pub const RSA_CORRELATION_PEARSON: Def = Def {
    id: "rsa-correlation-pearson",
    aliases: &[
        "rsa-rdm=correlation-similarity=upper_triangular_correlation-score",
        "rsa-rdm=correlation-compare=corr",
        "rsa-rdm=correlation-compare=pearson",
        "rsa",
    ],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Pearson)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Pearson r of their upper triangles",
    rewards: "the same pattern of which conditions are alike (correlation distance between condition patterns), up to a linear relation",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, FIXED[0].1),
    flops: gram_flops,
    theory: None,
    lists: &[(Watch, 6), (Calibrate, 6), (Compare, 7)],
};

pub const RSA_CORRELATION_COSINE: Def = Def {
    id: "rsa-correlation-cosine",
    aliases: &["rsa-rdm=correlation-compare=cosine"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, cosine)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, cosine of the matrices",
    rewards: "the same correlation distances between condition patterns, proportionally (the cosine does not subtract the mean distance)",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, FIXED[1].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_CORR: Def = Def {
    id: "rsa-euclidean-corr",
    aliases: &[
        "rsa-rdm=squared_euclidean-compare=corr",
        "rsa-rdm=squared_euclidean-compare=pearson",
    ],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Pearson)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Pearson r of their upper triangles",
    rewards: "the same squared distances between condition patterns, up to a linear relation: dominated by the high-variance PCs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, FIXED[2].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_COSINE: Def = Def {
    id: "rsa-euclidean-cosine",
    aliases: &["rsa-rdm=squared_euclidean-compare=cosine"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, cosine)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, cosine of the matrices",
    rewards: "the same squared distances between condition patterns, proportionally",
    range: [Some(0.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: None,
    pair: None,
    build: |c| build(c, FIXED[3].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// Why the rank-based comparisons cannot be optimised.
const RANK_BASED: &str = "rank-based: the score is piecewise constant in Y (its gradient is zero almost everywhere), so it can be watched, compared and reported but not optimised";

pub const RSA_CORRELATION_SPEARMAN: Def = Def {
    id: "rsa-correlation-spearman",
    aliases: &["rsa-rdm=correlation-compare=spearman"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Spearman)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Spearman ρ of their upper triangles (ties averaged)",
    rewards: "the same order of which conditions are more alike than others (correlation distance), whatever monotonic relation links the two RDMs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: RSA_CITE,
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, FIXED[4].1),
    flops: gram_flops,
    theory: None,
    lists: &[(Watch, 7)],
};

pub const RSA_EUCLIDEAN_SPEARMAN: Def = Def {
    id: "rsa-euclidean-spearman",
    aliases: &["rsa-rdm=squared_euclidean-compare=spearman"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Spearman)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Spearman ρ of their upper triangles (ties averaged)",
    rewards: "the same order of squared distances between condition patterns, whatever monotonic relation links the two RDMs",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: RSA_CITE,
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, FIXED[5].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_CORRELATION_TAU_A: Def = Def {
    id: "rsa-correlation-tau_a",
    aliases: &["rsa-rdm=correlation-compare=tau_a"],
    alias_warnings: &[],
    name: "RSA (correlation RDMs, Kendall τ-a)",
    group: Group::Rsa,
    description: "RSA: correlation-distance RDMs, Kendall's τ-a of their upper triangles (tied pairs count as neither concordant nor discordant; rsatoolbox's default for models with tied predictions)",
    rewards: "the same order of which conditions are more alike than others (correlation distance), pair by pair, penalising a model that predicts ties",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: ROW_INVARIANT,
    citation: "Kendall (1938) Biometrika; Nili et al. (2014) A toolbox for representational similarity analysis, PLoS Comput. Biol.; rsatoolbox",
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, FIXED[6].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

pub const RSA_EUCLIDEAN_TAU_A: Def = Def {
    id: "rsa-euclidean-tau_a",
    aliases: &["rsa-rdm=squared_euclidean-compare=tau_a"],
    alias_warnings: &[],
    name: "RSA (squared-Euclidean RDMs, Kendall τ-a)",
    group: Group::Rsa,
    description: "RSA: squared-Euclidean RDMs, Kendall's τ-a of their upper triangles",
    rewards: "the same order of squared distances between condition patterns, pair by pair, penalising a model that predicts ties",
    range: [Some(-1.0), Some(1.0)],
    direction: Direction::Similarity,
    invariances: EUCLID_INVARIANT,
    citation: "Kendall (1938) Biometrika; Nili et al. (2014) PLoS Comput. Biol.; rsatoolbox",
    score_only: Some(RANK_BASED),
    pair: None,
    build: |c| build(c, FIXED[7].1),
    flops: gram_flops,
    theory: None,
    lists: &[],
};

/// What an RSA measure computes: the RDM, how two RDMs are compared, and whether they are
/// whitened first (rsatoolbox's `cosine_cov` and `corr_cov`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub dist: Dist,
    pub cmp: Compare,
    /// Compare the double-centred RDMs −½HDH (their second-moment matrices) instead of the
    /// RDMs: rsatoolbox's whitening under i.i.d. noise (Diedrichsen et al. 2021). With the
    /// cosine this is `cosine_cov`; with Pearson (off-diagonal entries centred first) `corr_cov`.
    pub whiten: bool,
}

const fn kind(dist: Dist, cmp: Compare) -> Kind {
    Kind {
        dist,
        cmp,
        whiten: false,
    }
}

/// The fixed-id RSA measures and what each computes: the one place an id is mapped to its
/// RDM and comparison (the family resolves these combinations to them, Compare's resampler
/// and the warnings read them from here).
const FIXED: [(&Def, Kind); 8] = [
    (
        &RSA_CORRELATION_PEARSON,
        kind(Dist::Correlation, Compare::Pearson),
    ),
    (
        &RSA_CORRELATION_COSINE,
        kind(Dist::Correlation, Compare::Cosine),
    ),
    (
        &RSA_EUCLIDEAN_CORR,
        kind(Dist::SquaredEuclidean, Compare::Pearson),
    ),
    (
        &RSA_EUCLIDEAN_COSINE,
        kind(Dist::SquaredEuclidean, Compare::Cosine),
    ),
    (
        &RSA_CORRELATION_SPEARMAN,
        kind(Dist::Correlation, Compare::Spearman),
    ),
    (
        &RSA_EUCLIDEAN_SPEARMAN,
        kind(Dist::SquaredEuclidean, Compare::Spearman),
    ),
    (
        &RSA_CORRELATION_TAU_A,
        kind(Dist::Correlation, Compare::KendallTauA),
    ),
    (
        &RSA_EUCLIDEAN_TAU_A,
        kind(Dist::SquaredEuclidean, Compare::KendallTauA),
    ),
];

/// Every RDM and comparison under similarity-repository's names,
/// `rsa-rdm={dist}-compare={cmp}`. The combinations with a fixed id resolve to it.
pub const RSA: Family = Family {
    pattern: "rsa-rdm={correlation|cosine|squared_euclidean|euclidean}-compare={pearson|cosine|spearman|tau_a|cosine_cov|corr_cov}",
    parse: |id| {
        let rest = id.strip_prefix("rsa-rdm=")?;
        Some(parse_kind(id, rest).map(|k| match FIXED.iter().find(|f| f.1 == k) {
            Some((d, _)) => Box::new(*d) as Box<dyn Spec>,
            None => Box::new(RsaSpec(k)),
        }))
    },
    listed: || {
        [
            kind(Dist::Euclidean, Compare::Pearson),
            kind(Dist::Cosine, Compare::Pearson),
            Kind {
                whiten: true,
                ..kind(Dist::Correlation, Compare::Cosine)
            },
            Kind {
                whiten: true,
                ..kind(Dist::Correlation, Compare::Pearson)
            },
        ]
        .into_iter()
        .map(|k| Box::new(RsaSpec(k)) as Box<dyn Spec>)
        .collect()
    },
};

/// `{dist}-compare={cmp}` after `rsa-rdm=`.
fn parse_kind(id: &str, rest: &str) -> Result<Kind, MeasureError> {
    let bad = |why: String| MeasureError::BadId {
        id: id.to_string(),
        why,
    };
    let (d, c) = rest
        .split_once("-compare=")
        .ok_or_else(|| bad("expected `rsa-rdm={dist}-compare={comparison}`".into()))?;
    let dist = Dist::ALL
        .into_iter()
        .find(|x| x.name() == d)
        .ok_or_else(|| {
            bad(format!(
                "unknown RDM `{d}`: one of correlation, cosine, squared_euclidean, euclidean"
            ))
        })?;
    let (cmp, whiten) = match c {
        "pearson" | "corr" => (Compare::Pearson, false),
        "cosine" => (Compare::Cosine, false),
        "spearman" => (Compare::Spearman, false),
        "tau_a" => (Compare::KendallTauA, false),
        "cosine_cov" => (Compare::Cosine, true),
        "corr_cov" => (Compare::Pearson, true),
        "kendall" | "tau_b" | "rho_a" => {
            return Err(bad(format!(
                "the comparison `{c}` is not implemented (it differs from Spearman and τ-a only on ties); use `spearman` or `tau_a`"
            )))
        }
        _ => {
            return Err(bad(format!(
                "unknown comparison `{c}`: one of pearson, cosine, spearman, tau_a, cosine_cov, corr_cov"
            )))
        }
    };
    Ok(Kind { dist, cmp, whiten })
}

/// What the canonical RSA id `id` computes (None: not an RSA measure).
pub fn kind_of(id: &str) -> Option<Kind> {
    if let Some((_, k)) = FIXED.iter().find(|f| f.0.id == id) {
        return Some(*k);
    }
    parse_kind(id, id.strip_prefix("rsa-rdm=")?).ok()
}

impl Kind {
    /// The id: the fixed one where there is one, else similarity-repository's name.
    fn id(&self) -> String {
        if let Some((d, _)) = FIXED.iter().find(|f| f.1 == *self) {
            return d.id.into();
        }
        let cmp = match (self.cmp, self.whiten) {
            (Compare::Pearson, false) => "pearson",
            (Compare::Cosine, false) => "cosine",
            (Compare::Spearman, _) => "spearman",
            (Compare::KendallTauA, _) => "tau_a",
            (Compare::Cosine, true) => "cosine_cov",
            (Compare::Pearson, true) => "corr_cov",
        };
        format!("rsa-rdm={}-compare={cmp}", self.dist.name())
    }

    /// The RDM and comparison Compare's resampler evaluates entry by entry, if it does
    /// (the whitened comparisons and the RDMs that are not sums over units are evaluated in
    /// full on every sample).
    pub fn resampled(&self) -> Option<(Rdm, Compare)> {
        let rdm = match self.dist {
            Dist::Correlation => Rdm::Correlation,
            Dist::SquaredEuclidean => Rdm::SquaredEuclidean,
            Dist::Cosine | Dist::Euclidean => return None,
        };
        (!self.whiten).then_some((rdm, self.cmp))
    }
}

/// A family instance of [`RSA`].
struct RsaSpec(Kind);

impl Spec for RsaSpec {
    fn entry(&self) -> Entry {
        let k = self.0;
        let (dname, drewards) = match k.dist {
            Dist::Correlation => ("correlation", "correlation distances"),
            Dist::Cosine => ("cosine", "cosine distances (angles, means kept)"),
            Dist::SquaredEuclidean => ("squared-Euclidean", "squared distances"),
            Dist::Euclidean => ("Euclidean", "distances"),
        };
        let (cname, how, range, rel) = match (k.cmp, k.whiten) {
            (Compare::Pearson, false) => (
                "Pearson",
                "Pearson r of their upper triangles",
                -1.0,
                "up to a linear relation",
            ),
            (Compare::Cosine, false) => (
                "cosine",
                "cosine of the matrices",
                0.0,
                "proportionally",
            ),
            (Compare::Spearman, _) => (
                "Spearman",
                "Spearman ρ of their upper triangles (ties averaged)",
                -1.0,
                "in order, whatever monotonic relation links them",
            ),
            (Compare::KendallTauA, _) => (
                "Kendall τ-a",
                "Kendall's τ-a of their upper triangles",
                -1.0,
                "in order, pair by pair",
            ),
            (Compare::Cosine, true) => (
                "whitened cosine",
                "cosine of their double-centred matrices −½HDH (rsatoolbox's cosine_cov: the RDMs whitened under i.i.d. noise)",
                -1.0,
                "as second-moment matrices, with every condition's distances weighted as i.i.d. noise would make them",
            ),
            (Compare::Pearson, true) => (
                "whitened Pearson",
                "cosine of the double-centred matrices of the mean-centred RDMs (rsatoolbox's corr_cov)",
                -1.0,
                "up to a linear relation, whitened as rsatoolbox's cosine_cov",
            ),
        };
        let rank = matches!(k.cmp, Compare::Spearman | Compare::KendallTauA);
        Entry {
            id: k.id(),
            aliases: Vec::new(),
            description: format!("RSA: {dname} RDMs, {how}"),
            range: [Some(range), Some(1.0)],
            direction: Direction::Similarity,
            invariances: strings(k.dist.invariances()),
            differentiable: !rank,
            citation: if k.whiten {
                "Diedrichsen, Berlot, Mur, Schütt, Shahbazi, Kriegeskorte (2021) Comparing representational geometries using whitened unbiased-distance-matrix similarity, Neurons, Behavior, Data analysis, and Theory; rsatoolbox".into()
            } else {
                RSA_CITE.into()
            },
            name: format!("RSA ({dname} RDMs, {cname})"),
            group: Group::Rsa,
            rewards: format!("the same {drewards} between condition patterns, {rel}"),
            score_only: rank.then(|| RANK_BASED.to_string()),
            closed_form: false,
            lists: Vec::new(),
        }
    }

    fn build(&self, ctx: &Ctx) -> Built {
        build(ctx, self.0)
    }

    fn flops(&self, dims: Dims) -> f64 {
        gram_flops(dims)
    }

    fn theory(&self, _: &PcSums) -> Option<f64> {
        None
    }

    fn position(&self, _: List) -> Option<u8> {
        None
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The shape checks every RSA score shares, then the measure.
fn build(c: &Ctx, k: Kind) -> Built {
    let (n, p, q) = (c.n(), c.p(), c.q);
    if k.dist == Dist::Correlation && (p < 2 || q < 2) {
        return Err(c.unsupported(format!(
            "correlation-distance RDMs need at least 2 neurons on each side (p = {p}, q = {q})"
        )));
    }
    if n < 3 {
        return Err(c.unsupported(format!("an RDM comparison needs n ≥ 3 conditions, got {n}")));
    }
    let t = c.target();
    let mut warnings = Vec::new();
    // A condition whose correlation (or cosine) with the others is undefined: say so rather
    // than score it silently.
    if let Some(w) = undefined_rows_warning(k.dist, "X", &t.raw()) {
        warnings.push(w);
    }
    if k.dist == Dist::Correlation && p == 2 {
        warnings.push(
            "X has 2 neurons: centred across neurons, every condition pattern is ±(1, −1), so every correlation distance in X's RDM is 0 or 2 and the RSA score can barely move; use a Euclidean RDM".into(),
        );
    }
    let (m, mut w) = built(Rsa::new(t, k))?;
    w.append(&mut warnings);
    Ok((m, w))
}

/// The rows (conditions) of `m` with the same value in every column, where a correlation
/// distance is undefined.
pub fn flat_rows(m: &DMatrix<f64>) -> Vec<usize> {
    (0..m.nrows())
        .filter(|&i| {
            let row = m.row(i);
            let mean = row.mean();
            row.iter()
                .all(|v| (v - mean).abs() <= 1e-12 * mean.abs().max(1.0))
        })
        .collect()
}

/// The warning for `side`'s (X's or Y's) conditions whose distances in a `dist` RDM are
/// undefined, naming them (flattened rows, from 0), or None: flat rows for the correlation
/// distance, all-zero rows for the cosine distance.
pub fn undefined_rows_warning(dist: Dist, side: &str, m: &DMatrix<f64>) -> Option<String> {
    let (rows, what, name) = match dist {
        Dist::Correlation => (
            flat_rows(m),
            "have the same value on every unit",
            "correlation",
        ),
        Dist::Cosine => (
            (0..m.nrows())
                .filter(|&i| m.row(i).iter().all(|v| *v == 0.0))
                .collect(),
            "are zero on every unit",
            "cosine",
        ),
        Dist::SquaredEuclidean | Dist::Euclidean => return None,
    };
    if rows.is_empty() {
        return None;
    }
    let shown: Vec<String> = rows.iter().take(8).map(|i| i.to_string()).collect();
    let more = if rows.len() > 8 { ", …" } else { "" };
    Some(format!(
        "{} of {side}'s {} conditions (flattened rows {}{more}) {what}: their {name} distance to every other condition is undefined, so {name}-RDM RSA is not defined on them (their RDM rows are set to 0)",
        rows.len(),
        m.nrows(),
        shown.join(", ")
    ))
}

/// The warnings for Y's undefined RDM rows under any of the measures `ids` (canonical).
pub fn y_rows_warnings(ids: &[String], y: &DMatrix<f64>) -> Vec<String> {
    let mut dists: Vec<Dist> = ids
        .iter()
        .filter_map(|id| kind_of(id))
        .map(|k| k.dist)
        .collect();
    dists.dedup();
    let mut out: Vec<String> = Dist::ALL
        .into_iter()
        .filter(|d| dists.contains(d))
        .filter_map(|d| undefined_rows_warning(d, "Y", y))
        .collect();
    out.dedup();
    out
}

/// How two RDMs are compared (the vocabulary RSA and feature pruning share).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Pearson r of the upper-triangle vectors (rsatoolbox `compare=corr`).
    Pearson,
    /// Cosine of the full matrices (= of the upper triangles, zero diagonals).
    Cosine,
    /// Pearson r of the upper triangles' ranks, ties averaged ([`ranks`]); rank-based, so
    /// its gradient is zero almost everywhere.
    Spearman,
    /// Kendall's τ-a of the upper triangles ([`kendall_tau_a`]); rank-based.
    KendallTauA,
}

/// The RDMs that are sums over units, which feature pruning updates unit by unit and
/// Compare's resampler evaluates entry by entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rdm {
    /// 1 − Pearson r between two rows (each centred across its columns).
    Correlation,
    /// Σ_j (y_aj − y_bj)².
    SquaredEuclidean,
}

/// Every RDM an RSA measure can build over the n rows (conditions or stimuli).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dist {
    /// 1 − Pearson r between two rows (each centred across its columns).
    Correlation,
    /// 1 − cosine between two rows (not centred).
    Cosine,
    /// Σ_j (y_aj − y_bj)².
    SquaredEuclidean,
    /// √Σ_j (y_aj − y_bj)².
    Euclidean,
}

impl Dist {
    pub const ALL: [Dist; 4] = [
        Dist::Correlation,
        Dist::Cosine,
        Dist::SquaredEuclidean,
        Dist::Euclidean,
    ];

    /// similarity-repository's name.
    fn name(self) -> &'static str {
        match self {
            Dist::Correlation => "correlation",
            Dist::Cosine => "cosine",
            Dist::SquaredEuclidean => "squared_euclidean",
            Dist::Euclidean => "euclidean",
        }
    }

    /// What leaves the RDM unchanged up to a positive factor (every comparison here ignores
    /// one).
    fn invariances(self) -> &'static [&'static str] {
        match self {
            Dist::Correlation => ROW_INVARIANT,
            // Cosines between rows ignore each row's scale and any rotation of the units, not
            // a shift.
            Dist::Cosine => &[
                "orthogonal",
                "permutation",
                "isotropic-scaling",
                "row-positive-scaling",
            ],
            Dist::SquaredEuclidean | Dist::Euclidean => EUCLID_INVARIANT,
        }
    }
}

impl From<Rdm> for Dist {
    fn from(r: Rdm) -> Dist {
        match r {
            Rdm::Correlation => Dist::Correlation,
            Rdm::SquaredEuclidean => Dist::SquaredEuclidean,
        }
    }
}

/// Ranks 1..n with ties averaged. Values within 1e-12 × max |v| of their sorted neighbour count
/// as tied, so rounding differences (e.g. correlation distances of exactly 0 or 2 computed two
/// ways) do not reorder ranks.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let tol = 1e-12 * v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut r = vec![0.0; v.len()];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k + 1;
        while e < idx.len() && v[idx[e]] - v[idx[e - 1]] <= tol {
            e += 1;
        }
        let avg = (k + e + 1) as f64 / 2.0;
        for &i in &idx[k..e] {
            r[i] = avg;
        }
        k = e;
    }
    r
}

/// Pearson r; 0 when either vector is constant (no fit).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Kendall's τ-a = (concordant − discordant pairs) / (m(m − 1)/2), tied pairs counting as
/// neither, in O(m log m) (Knight 1966: sort by a then b, count b's inversions by merge sort).
/// Ties are those of [`ranks`] (within 1e-12 × max |v|), so both comparisons agree on them.
pub fn kendall_tau_a(a: &[f64], b: &[f64]) -> f64 {
    let m = a.len();
    if m < 2 {
        return 0.0;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|&i, &j| ra[i].total_cmp(&ra[j]).then(rb[i].total_cmp(&rb[j])));
    let pairs = |t: u64| t * t.saturating_sub(1) / 2;
    // Pairs tied in a, and tied in both.
    let (mut tied_a, mut tied_ab) = (0u64, 0u64);
    let mut k = 0;
    while k < m {
        let mut e = k + 1;
        while e < m && ra[idx[e]] == ra[idx[k]] {
            e += 1;
        }
        tied_a += pairs((e - k) as u64);
        let mut j = k;
        while j < e {
            let mut f = j + 1;
            while f < e && rb[idx[f]] == rb[idx[j]] {
                f += 1;
            }
            tied_ab += pairs((f - j) as u64);
            j = f;
        }
        k = e;
    }
    let mut seq: Vec<f64> = idx.iter().map(|&i| rb[i]).collect();
    let mut buf = vec![0.0; m];
    let swaps = merge_count(&mut seq, &mut buf);
    // seq is now b's ranks sorted: count pairs tied in b.
    let mut tied_b = 0u64;
    let mut k = 0;
    while k < m {
        let mut e = k + 1;
        while e < m && seq[e] == seq[k] {
            e += 1;
        }
        tied_b += pairs((e - k) as u64);
        k = e;
    }
    let n0 = pairs(m as u64);
    let s = n0 as i128 - tied_a as i128 - tied_b as i128 + tied_ab as i128 - 2 * swaps as i128;
    s as f64 / n0 as f64
}

/// Sort `v` ascending by merge sort and return the number of strict inversions (i < j with
/// v_i > v_j).
fn merge_count(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut count =
        merge_count(&mut v[..mid], &mut buf[..mid]) + merge_count(&mut v[mid..], &mut buf[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[j] < v[i] {
            buf[k] = v[j];
            j += 1;
            count += (mid - i) as u64;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    let k = k + mid - i;
    buf[k..n].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    count
}

/// Row norms ‖ỹ_i‖ at or below this count as constant rows (correlation undefined).
const ROW_ATOL: f64 = 1e-300;

/// An RSA score against a prepared target RDM.
pub struct Rsa {
    kind: Kind,
    /// The target RDM transformed for the comparison and normalised to unit norm.
    a: DMatrix<f64>,
    /// Kendall's τ-a: the target RDM's upper triangle as is (empty otherwise).
    upper: Vec<f64>,
}

/// The upper triangle of a square matrix, row by row.
fn upper(m: &DMatrix<f64>) -> Vec<f64> {
    let n = m.nrows();
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| m[(i, j)])
        .collect()
}

/// Rows normalised to unit norm, centred across columns first for the correlation distance,
/// and the norms (0 marks a row whose distance is undefined).
fn unit_rows(y: &DMatrix<f64>, centre: bool) -> (DMatrix<f64>, Vec<f64>) {
    let (n, q) = y.shape();
    let mut z = y.clone();
    let mut norms = vec![0.0; n];
    for i in 0..n {
        if centre {
            let mean = z.row(i).sum() / q as f64;
            for j in 0..q {
                z[(i, j)] -= mean;
            }
        }
        norms[i] = z.row(i).norm();
    }
    for i in 0..n {
        if norms[i] > ROW_ATOL {
            let inv = 1.0 / norms[i];
            for j in 0..q {
                z[(i, j)] *= inv;
            }
        } else {
            norms[i] = 0.0;
            for j in 0..q {
                z[(i, j)] = 0.0;
            }
        }
    }
    (z, norms)
}

fn build_rdm(dist: Dist, y: &DMatrix<f64>) -> (DMatrix<f64>, Aux) {
    match dist {
        Dist::Correlation | Dist::Cosine => {
            let centre = dist == Dist::Correlation;
            let (z, norms) = unit_rows(y, centre);
            let mut r = gram(&z, Op::N);
            r.iter_mut().for_each(|v| *v = 1.0 - *v);
            // A row whose distance is undefined has its RDM row and column set to 0
            // (rsatoolbox's NaN, zeroed), as in the fixtures' textbook values.
            for (i, _) in norms.iter().enumerate().filter(|(_, &nr)| nr == 0.0) {
                r.row_mut(i).fill(0.0);
                r.column_mut(i).fill(0.0);
            }
            (r, Aux::Unit { z, norms, centre })
        }
        Dist::SquaredEuclidean | Dist::Euclidean => {
            let yc = center_columns(y);
            let k = gram(&yc, Op::N);
            let n = k.nrows();
            let mut d = DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    0.0
                } else {
                    (k[(i, i)] + k[(j, j)] - 2.0 * k[(i, j)]).max(0.0)
                }
            });
            if dist == Dist::Euclidean {
                d.iter_mut().for_each(|v| *v = v.sqrt());
            }
            (d, Aux::Euclid { yc })
        }
    }
}

enum Aux {
    Unit {
        z: DMatrix<f64>,
        norms: Vec<f64>,
        centre: bool,
    },
    Euclid {
        yc: DMatrix<f64>,
    },
}

/// Pearson's part of [`transform`]: off-diagonal entries minus their mean, diagonal zero. An
/// orthogonal projection of the symmetric matrices (its own adjoint).
fn centre_off_diagonal(m: &mut DMatrix<f64>) {
    let n = m.nrows();
    let cnt = (n * n.saturating_sub(1)) as f64;
    let mean = (m.sum() - m.diagonal().sum()) / cnt.max(1.0);
    for j in 0..n {
        for i in 0..n {
            m[(i, j)] = if i == j { 0.0 } else { m[(i, j)] - mean };
        }
    }
}

/// HMH, H = I − 11ᵀ/n: the whitening's double centring (the factor −½ cancels in the
/// comparison). Also an orthogonal projection.
fn double_centre(m: &mut DMatrix<f64>) {
    let n = m.nrows() as f64;
    let rows: Vec<f64> = (0..m.nrows()).map(|i| m.row(i).sum() / n).collect();
    let cols: Vec<f64> = (0..m.ncols()).map(|j| m.column(j).sum() / n).collect();
    let all = rows.iter().sum::<f64>() / n;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            m[(i, j)] += all - rows[i] - cols[j];
        }
    }
}

/// Prepare an RDM for the comparison: Pearson → [`centre_off_diagonal`]; Spearman → the same
/// on the entries' ranks; cosine → as is; then, whitened, [`double_centre`]. Returns the norm
/// before normalising.
fn transform(k: Kind, m: &mut DMatrix<f64>) -> f64 {
    let n = m.nrows();
    if k.cmp == Compare::Spearman {
        // Ranks of the upper triangle, mirrored: their Pearson r is the Spearman ρ.
        let r = ranks(&upper(m));
        let mut c = 0;
        for i in 0..n {
            for j in i + 1..n {
                m[(i, j)] = r[c];
                m[(j, i)] = r[c];
                c += 1;
            }
        }
    }
    if k.cmp != Compare::Cosine {
        centre_off_diagonal(m);
    }
    if k.whiten {
        double_centre(m);
    }
    m.norm()
}

impl Rsa {
    /// Needs n ≥ 3 (Pearson) or n ≥ 2, and p, q ≥ 2 for the correlation RDM (the registry
    /// checks).
    pub fn new(target: Arc<Target>, kind: Kind) -> Self {
        let x = match kind.dist {
            Dist::Correlation | Dist::Cosine => target.raw(),
            Dist::SquaredEuclidean | Dist::Euclidean => target.xs.clone(),
        };
        let (mut a, _) = build_rdm(kind.dist, &x);
        if kind.cmp == Compare::KendallTauA {
            return Rsa {
                kind,
                upper: upper(&a),
                a,
            };
        }
        let na = transform(kind, &mut a);
        if na > 0.0 {
            a /= na;
        }
        Rsa {
            kind,
            a,
            upper: Vec::new(),
        }
    }

    fn eval(&self, y: &DMatrix<f64>, grad: Option<&mut DMatrix<f64>>) -> f64 {
        let k = self.kind;
        let (mut c, aux) = build_rdm(k.dist, y);
        if k.cmp == Compare::KendallTauA {
            let s = kendall_tau_a(&self.upper, &upper(&c));
            return match grad {
                Some(g) => degenerate(y, g, s),
                None => s,
            };
        }
        // The Euclidean RDM's chain rule needs its entries before the transform.
        let e = (k.dist == Dist::Euclidean && grad.is_some()).then(|| c.clone());
        let nc = transform(k, &mut c);
        if nc == 0.0 {
            if let Some(g) = grad {
                degenerate(y, g, 0.0);
            }
            return 0.0;
        }
        // A correlation or cosine of unit vectors: rounding may not leave [−1, 1].
        let s = (dot(&self.a, &c) / nc).clamp(-1.0, 1.0);
        let Some(g) = grad else { return s };
        if k.cmp == Compare::Spearman {
            // Ranks are piecewise constant in Y.
            return degenerate(y, g, s);
        }
        // Γ = ∂s/∂T(RDM) = A/‖C‖ − s·C/‖C‖² (G3), then back through the transform T. Each of
        // its steps is an orthogonal projection (self-adjoint) and Γ lies in the range of the
        // last one, so nothing is left to undo: after a whitening of Pearson's centred RDMs,
        // Γ's off-diagonal mean is already 0 (tr HMH = 0 when M has zero diagonal and sum),
        // and the chain rule below ignores the diagonal (the RDM's diagonal is fixed at 0).
        c *= -s / (nc * nc);
        c += &self.a * (1.0 / nc);
        let mut gamma = c;
        let n = y.nrows();
        match aux {
            Aux::Euclid { yc } => {
                if let Some(e) = e {
                    // E = √D off the diagonal: Γ_D = Γ_E/(2E); a pair at distance 0 (the
                    // root's kink) contributes nothing. The diagonal is fixed at 0.
                    for j in 0..n {
                        for i in 0..n {
                            let v = e[(i, j)];
                            gamma[(i, j)] = if i == j || v <= 0.0 {
                                0.0
                            } else {
                                gamma[(i, j)] / (2.0 * v)
                            };
                        }
                    }
                }
                // Γ_K = diag(2Γ_D 1) − 2Γ_D; ∂s/∂Y = 2Γ_K Y (Γ_K has zero row sums).
                let mut gk = gamma * -2.0;
                for i in 0..n {
                    let rs: f64 = gk.row(i).sum();
                    gk[(i, i)] -= rs;
                }
                *g = DMatrix::zeros(n, y.ncols());
                gemm(2.0, &gk, Op::N, &yc, Op::N, 0.0, g);
                center_columns_mut(g);
            }
            Aux::Unit { z, norms, centre } => {
                // R = 1 − ZZᵀ: ∂s/∂Z = −2ΓZ; back through normalisation (and row centring).
                let q = y.ncols();
                let mut gz = DMatrix::zeros(n, q);
                gemm(-2.0, &gamma, Op::N, &z, Op::N, 0.0, &mut gz);
                for i in 0..n {
                    if norms[i] == 0.0 {
                        gz.row_mut(i).fill(0.0);
                        continue;
                    }
                    let proj: f64 = (0..q).map(|j| z[(i, j)] * gz[(i, j)]).sum();
                    for j in 0..q {
                        gz[(i, j)] = (gz[(i, j)] - proj * z[(i, j)]) / norms[i];
                    }
                    if centre {
                        let mean = gz.row(i).sum() / q as f64;
                        for j in 0..q {
                            gz[(i, j)] -= mean;
                        }
                    }
                }
                *g = gz;
            }
        }
        s
    }
}

/// The RDM of the rows of `y` exactly as the RSA measures build it (correlation distance:
/// constant rows zeroed), for analyses that resample conditions and compare RDM entries
/// directly (`analysis::compare`'s bootstrap and permutations).
pub fn rdm_matrix(rdm: Rdm, y: &DMatrix<f64>) -> DMatrix<f64> {
    build_rdm(rdm.into(), y).0
}

impl Measure for Rsa {
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

    /// τ-a by its definition, over every pair of pairs.
    fn tau_a_slow(a: &[f64], b: &[f64]) -> f64 {
        let (ra, rb) = (ranks(a), ranks(b));
        let m = a.len();
        let mut s = 0.0;
        for i in 0..m {
            for j in i + 1..m {
                s += (ra[i] - ra[j]).signum()
                    * (rb[i] - rb[j]).signum()
                    * f64::from(ra[i] != ra[j] && rb[i] != rb[j]);
            }
        }
        s / (m * (m - 1) / 2) as f64
    }

    #[test]
    fn kendall_tau_a_is_the_pair_count_with_ties_as_neither() {
        let mut r = crate::rng::Rng::new(7);
        for case in 0..40 {
            let m = 2 + case * 3;
            // Few distinct values on either side: many ties, some tied in both.
            let levels = 1 + case % 5;
            let a: Vec<f64> = (0..m)
                .map(|_| (r.uniform() * levels as f64).floor())
                .collect();
            let b: Vec<f64> = (0..m)
                .map(|i| {
                    if case % 3 == 0 {
                        r.normal()
                    } else {
                        (a[i] + (r.uniform() * 3.0).floor()).min(4.0)
                    }
                })
                .collect();
            let (fast, slow) = (kendall_tau_a(&a, &b), tau_a_slow(&a, &b));
            assert!((fast - slow).abs() < 1e-14, "case {case}: {fast} vs {slow}");
        }
        assert_eq!(kendall_tau_a(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(kendall_tau_a(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0);
        // All tied: no concordant or discordant pair.
        assert_eq!(kendall_tau_a(&[1.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]), 0.0);
    }
}
