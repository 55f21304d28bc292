//! What one measure declaration is. A measure with a fixed id is one [`Def`] in its family file
//! (`cka.rs`, `bures.rs`, …): its id and aliases, the words the page and the CLI show, its
//! metadata, its constructor (with the shape checks and warnings), its cost model, its PC
//! perturbation closed form and the default lists it belongs to. Ids with parameters (ridge
//! λ and folds) are one [`Family`]: a parser that turns an id into a [`Spec`]. The registry
//! (`registry.rs`) collects every declaration in one list, and everything else (menus,
//! checkbox lists, bench defaults, perturbation theory, tests) reads that list.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use super::{Direction, Measure, MeasureError};
use crate::target::Target;

/// Where a measure sits in menus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Linear CKA and its estimators, ENSD's kernel relatives.
    Cka,
    /// NBS, angular Procrustes and the Procrustes (Bures) distance.
    Bures,
    /// Canonical correlations.
    Cca,
    /// Linear and ridge regression of X on Y.
    Regression,
    /// Representational similarity analysis (RDM comparisons).
    Rsa,
    /// Anything else (ENSD).
    Other,
}

impl Group {
    /// Every group, in menu order.
    pub const ALL: [Group; 6] = [
        Group::Cka,
        Group::Bures,
        Group::Cca,
        Group::Regression,
        Group::Rsa,
        Group::Other,
    ];

    /// The menu heading.
    pub fn label(self) -> &'static str {
        match self {
            Group::Cka => "CKA family",
            Group::Bures => "Procrustes / Bures",
            Group::Cca => "CCA",
            Group::Regression => "regression",
            Group::Rsa => "RSA",
            Group::Other => "other",
        }
    }
}

/// The default lists a measure can belong to (each face reads its list from the registry with
/// `registry::listed`). A measure states its position in each list it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum List {
    /// The Optimise panel's "Also watch" checkboxes.
    Watch,
    /// The Calibration panel's checkboxes.
    Calibrate,
    /// The Calibration checkboxes ticked by default.
    CalibrateTicked,
    /// What `simscope bench` and `cargo bench` time without `--measure`.
    Bench,
    /// What the Perturb panel always scores.
    Perturb,
    /// What `simscope perturb` scores without `--measure`: the Perturb panel's three plus
    /// the two other closed forms of the paper's measures.
    PerturbCli,
    /// The Compare panel's and `simscope compare`'s default: the paper's seven measures (the
    /// figure measures of spec §2.0: CKA, angular CKA, NBS, angular Procrustes, linear
    /// regression, ridge CV λ = 100, and RSA, which the authors plotted under a misnamed id)
    /// plus CKA with the unbiased HSIC and the CCA score.
    Compare,
}

impl List {
    /// Every list.
    pub const ALL: [List; 7] = [
        List::Watch,
        List::Calibrate,
        List::CalibrateTicked,
        List::Bench,
        List::Perturb,
        List::PerturbCli,
        List::Compare,
    ];
}

/// One registry entry's metadata, as `simscope measures --json` prints it and the page shows
/// it (the measure card, menus).
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
    /// Whether the score has a gradient the optimiser can follow (`score_only` is None).
    pub differentiable: bool,
    pub citation: String,
    /// The plain-language name menus and checkboxes show ("linear CKA", "ridge CV (λ=100)").
    pub name: String,
    pub group: Group,
    /// What a high score rewards, in one line.
    pub rewards: String,
    /// For a measure that cannot be optimised, why (the page's message when asked to).
    pub score_only: Option<String>,
    /// Whether the PC perturbation theory (spec §6) has a closed form for it.
    pub closed_form: bool,
    /// The default lists it belongs to.
    pub lists: Vec<List>,
}

/// What a constructor gets: the canonical id, the prepared target and Y's width q ≥ 1.
pub struct Ctx<'a> {
    pub id: &'a str,
    pub target: &'a Arc<Target>,
    pub q: usize,
}

impl Ctx<'_> {
    /// Samples n of X (and Y).
    pub fn n(&self) -> usize {
        self.target.n
    }

    /// Neurons p of X.
    pub fn p(&self) -> usize {
        self.target.p
    }

    /// A new handle on the target, for the measure to keep.
    pub fn target(&self) -> Arc<Target> {
        self.target.clone()
    }

    /// The error for shapes the measure cannot handle.
    pub fn unsupported(&self, why: String) -> MeasureError {
        MeasureError::Unsupported {
            id: self.id.to_string(),
            why,
        }
    }
}

/// A built measure and the warnings that say when its meaning changes for these shapes.
pub type Built = Result<(Box<dyn Measure>, Vec<String>), MeasureError>;

/// A built measure without warnings.
pub fn built(m: impl Measure + 'static) -> Built {
    Ok((Box::new(m), Vec::new()))
}

/// Sizes of one optimisation step, as floats for the cost models: X n × p of rank r, Y n × q.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub n: f64,
    pub r: f64,
    pub q: f64,
}

/// The closed-form ingredients of a perturbed copy of X (spec §6.1): with X_c = Σ s_k u_k v_kᵀ
/// and Y = Σ a_k s_k u′_k v_kᵀ, u′_k = cos θ_k u_k + sin θ_k z_k, every measure with a closed form
/// is a function of these sums over the PCs (λ_k = s_k², c_k = cos θ_k, a_k ≥ 0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PcSums {
    /// S₁ = Σλ and S₂ = Σλ² of X.
    pub s1: f64,
    pub s2: f64,
    /// Σ a²λ²c² (= ‖X_cᵀY_c‖²).
    pub cross2: f64,
    /// Σ a⁴λ² (= ‖Y_cᵀY_c‖²).
    pub yy2: f64,
    /// Σ aλ|c| (= ‖X_cᵀY_c‖_*).
    pub nuclear: f64,
    /// Σ a²λ (= ‖Y_c‖²).
    pub yy: f64,
    /// Σ over the PCs kept (a ≠ 0) of λc² (= ‖P_Y X_c‖²).
    pub projected: f64,
    /// Σ over the PCs kept of |c| (= Σ canonical correlations).
    pub rho: f64,
    /// Rank of X and number of PCs kept in Y.
    pub rank_x: usize,
    pub rank_y: usize,
}

/// Whether a measure can be optimised.
pub type ScoreOnly = Option<&'static str>;

/// One measure with a fixed id: everything about it in one declaration.
pub struct Def {
    /// Canonical id (the authors' where they have one).
    pub id: &'static str,
    /// Other spellings that resolve to it (similarity-repository's standardized names first).
    pub aliases: &'static [&'static str],
    /// Extra warnings for particular aliases: (alias, warning).
    pub alias_warnings: &'static [(&'static str, &'static str)],
    pub name: &'static str,
    pub group: Group,
    pub description: &'static str,
    pub rewards: &'static str,
    pub range: [Option<f64>; 2],
    pub direction: Direction,
    pub invariances: &'static [&'static str],
    pub citation: &'static str,
    /// None for a differentiable measure; Some(why) for a score-only one.
    pub score_only: ScoreOnly,
    /// Build against a prepared target (shape checks, warnings).
    pub build: fn(&Ctx) -> Built,
    /// A one-off score from the raw pair (X, Y), for a measure whose closed form costs less
    /// than preparing X (`Target::new`'s thin SVD): what `pair::score_pair` uses when no
    /// gradient is asked. Equal to `build(..).score(y)` to rounding (a registry test).
    pub pair: Option<PairFn>,
    /// Dominant floating-point operations of one step (score + gradient), see `bench`.
    pub flops: fn(Dims) -> f64,
    /// The PC perturbation closed form, if there is one.
    pub theory: Option<fn(&PcSums) -> f64>,
    /// The default lists it is in, with its position in each.
    pub lists: &'static [(List, u8)],
}

/// A score of the raw pair (X, Y): X n × p, Y n × q, neither centred.
pub type PairFn = fn(&DMatrix<f64>, &DMatrix<f64>) -> f64;

/// A resolved measure id: a declaration with its parameters. What `registry::resolve` finds.
pub trait Spec: Send + Sync {
    /// Metadata (the canonical id included).
    fn entry(&self) -> Entry;
    /// Warnings that the spelling `given` (an alias) carries.
    fn alias_warnings(&self, _given: &str) -> Vec<String> {
        Vec::new()
    }
    /// Build against a prepared target for a Y of width `ctx.q`.
    fn build(&self, ctx: &Ctx) -> Built;
    /// Dominant FLOPs of one step.
    fn flops(&self, dims: Dims) -> f64;
    /// The one-off pair formula, if the measure has one (see `Def::pair`).
    fn pair(&self) -> Option<PairFn> {
        None
    }
    /// The PC perturbation closed form, if there is one.
    fn theory(&self, sums: &PcSums) -> Option<f64>;
    /// Position in `list`, if it is in it.
    fn position(&self, list: List) -> Option<u8>;
}

/// What a family's parser answers: None (not this family's id), or the resolved instance or why
/// the id is malformed.
pub type Parsed = Option<Result<Box<dyn Spec>, MeasureError>>;

/// How a [`Derived`] family resolves the measures it is made of: the registry's `spec`.
pub type Resolve = fn(&str) -> Result<Box<dyn Spec>, MeasureError>;

/// A family of ids made from other measures' ids (`{score}-distance=angular`): its parser is
/// handed the registry's resolver, so the family file need not import the registry that lists
/// it. It lists no instances of its own.
pub struct Derived {
    /// The open spellings, as `simscope measures` prints them after the list.
    pub pattern: &'static str,
    /// Resolve `id` if it is one of this family's spellings (None: not this family's).
    pub parse: fn(&str, Resolve) -> Parsed,
}

/// A family of ids with parameters, declared once: its parser and the instances it lists.
pub struct Family {
    /// The open spellings, as `simscope measures` prints them after the list.
    pub pattern: &'static str,
    /// Resolve `id` if it is one of this family's spellings (None: not this family's).
    pub parse: fn(&str) -> Parsed,
    /// The instances `simscope measures` lists and `--measure all` runs.
    pub listed: fn() -> Vec<Box<dyn Spec>>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The lists an instance is in, from its (list, position) pairs.
pub fn list_names(lists: &[(List, u8)]) -> Vec<List> {
    lists.iter().map(|l| l.0).collect()
}

impl Spec for &'static Def {
    fn entry(&self) -> Entry {
        Entry {
            id: self.id.into(),
            aliases: strings(self.aliases),
            description: self.description.into(),
            range: self.range,
            direction: self.direction,
            invariances: strings(self.invariances),
            differentiable: self.score_only.is_none(),
            citation: self.citation.into(),
            name: self.name.into(),
            group: self.group,
            rewards: self.rewards.into(),
            score_only: self.score_only.map(str::to_string),
            closed_form: self.theory.is_some(),
            lists: list_names(self.lists),
        }
    }

    fn alias_warnings(&self, given: &str) -> Vec<String> {
        self.alias_warnings
            .iter()
            .filter(|(a, _)| *a == given)
            .map(|(_, w)| w.to_string())
            .collect()
    }

    fn build(&self, ctx: &Ctx) -> Built {
        (self.build)(ctx)
    }

    fn flops(&self, dims: Dims) -> f64 {
        (self.flops)(dims)
    }

    fn pair(&self) -> Option<PairFn> {
        self.pair
    }

    fn theory(&self, sums: &PcSums) -> Option<f64> {
        self.theory.map(|f| f(sums))
    }

    fn position(&self, list: List) -> Option<u8> {
        self.lists.iter().find(|l| l.0 == list).map(|l| l.1)
    }
}

/// Invariances shared by the kernel and Bures families: orthogonal maps, isotropic scaling and
/// translation of Y.
pub const OIST: &[&str] = &["orthogonal", "isotropic-scaling", "translation"];
