//! The page's settings as one declarative table (after TensorFlow Playground's `state.ts`).
//!
//! Each row names a setting, its URL-hash key, its default, whether classroom mode hides its
//! control, and how a value is checked. The same table drives the URL hash (a copied link
//! reproduces the view), "reset to defaults", and classroom mode. Pure Rust, tested natively.

use std::fmt::Write;

/// A value that can live in the URL hash.
pub trait HashValue: Sized {
    fn to_hash(&self) -> String;
    fn from_hash(s: &str) -> Result<Self, String>;
}

impl HashValue for f64 {
    fn to_hash(&self) -> String {
        format!("{self}")
    }
    fn from_hash(s: &str) -> Result<Self, String> {
        let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("`{s}` is not a finite number"))
        }
    }
}

impl HashValue for u64 {
    fn to_hash(&self) -> String {
        self.to_string()
    }
    fn from_hash(s: &str) -> Result<Self, String> {
        s.parse()
            .map_err(|_| format!("`{s}` is not a whole number ≥ 0"))
    }
}

impl HashValue for bool {
    fn to_hash(&self) -> String {
        if *self { "1" } else { "0" }.to_string()
    }
    fn from_hash(s: &str) -> Result<Self, String> {
        match s {
            "1" | "true" | "" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(format!("`{s}` is not 0 or 1")),
        }
    }
}

impl HashValue for String {
    fn to_hash(&self) -> String {
        self.clone()
    }
    fn from_hash(s: &str) -> Result<Self, String> {
        Ok(s.to_string())
    }
}

/// Comma-separated list (e.g. watched measures).
impl HashValue for Vec<String> {
    fn to_hash(&self) -> String {
        self.join(",")
    }
    fn from_hash(s: &str) -> Result<Self, String> {
        Ok(s.split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// The page's control for a setting: its element id and, for numbers, the limits the page
/// applies to the element (the table is the only place they are written).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    /// No control of its own (set by the page: the PC bars, the tab bar).
    None,
    /// A `<select>`: with `choices` (value, label) when they are fixed, else filled by the
    /// page from the registry or the dataset table.
    Select {
        id: &'static str,
        choices: &'static [(&'static str, &'static str)],
    },
    /// An `<input type="number">` within [min, max] in steps of `step` (0: any).
    Number {
        id: &'static str,
        min: f64,
        max: f64,
        step: f64,
    },
    /// An `<input type="checkbox">`.
    Checkbox { id: &'static str },
    /// A fieldset of checkboxes the page fills with the choices of a list of measures.
    Checklist { id: &'static str },
}

impl Control {
    /// The element id, if the setting has a control.
    pub fn id(&self) -> Option<&'static str> {
        match *self {
            Control::None => None,
            Control::Select { id, .. }
            | Control::Number { id, .. }
            | Control::Checkbox { id }
            | Control::Checklist { id } => Some(id),
        }
    }
}

/// What the page knows about one setting.
#[derive(Clone, Copy, Debug)]
pub struct FieldInfo {
    /// Key in the URL hash.
    pub key: &'static str,
    /// Hidden in classroom mode (advanced settings).
    pub classroom_hidden: bool,
    /// One-line description (tooltips, docs).
    pub doc: &'static str,
    pub control: Control,
}

impl FieldInfo {
    /// The row of `key`.
    pub fn of(key: &str) -> Option<&'static FieldInfo> {
        FIELDS.iter().find(|f| f.key == key)
    }
}

macro_rules! state_table {
    ($( $field:ident : $ty:ty = $default:expr, key $key:literal, classroom_hidden $hidden:literal,
        control $control:expr, check $check:expr, $doc:literal; )*) => {
        /// Every user setting of the page.
        #[derive(Clone, Debug, PartialEq)]
        pub struct UiState { $( #[doc = $doc] pub $field: $ty, )* }

        impl Default for UiState {
            fn default() -> Self { UiState { $( $field: $default, )* } }
        }

        /// The table, in the order the URL hash lists keys.
        pub const FIELDS: &[FieldInfo] = &[
            $( FieldInfo { key: $key, classroom_hidden: $hidden, doc: $doc, control: $control }, )*
        ];

        impl UiState {
            /// Set one field from its hash text, after checking it (the control's limits and
            /// choices, then the row's own check).
            pub fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
                match key {
                    $( $key => {
                        let v = <$ty as HashValue>::from_hash(text)?;
                        let control: Control = $control;
                        v.within(&control)?;
                        let check: fn(&$ty) -> Result<(), String> = $check;
                        check(&v)?;
                        self.$field = v;
                        Ok(())
                    } )*
                    _ => Err(match did_you_mean(key, FIELDS.iter().map(|f| f.key)) {
                        Some(k) => format!("unknown setting `{key}`; did you mean `{k}`?"),
                        None => format!("unknown setting `{key}`"),
                    }),
                }
            }

            /// A field's value as hash text, or None for an unknown key.
            pub fn get(&self, key: &str) -> Option<String> {
                match key {
                    $( $key => Some(self.$field.to_hash()), )*
                    _ => None,
                }
            }
        }
    };
}

/// Whether a value respects its control's limits and fixed choices.
trait Within {
    fn within(&self, control: &Control) -> Result<(), String>;
}

impl Within for f64 {
    fn within(&self, control: &Control) -> Result<(), String> {
        match *control {
            Control::Number { min, max, .. } if !(min..=max).contains(self) => {
                Err(format!("must be {min} to {max}, got {self}"))
            }
            _ => Ok(()),
        }
    }
}

impl Within for u64 {
    fn within(&self, control: &Control) -> Result<(), String> {
        (*self as f64).within(control)
    }
}

impl Within for bool {
    fn within(&self, _: &Control) -> Result<(), String> {
        Ok(())
    }
}

impl Within for String {
    fn within(&self, control: &Control) -> Result<(), String> {
        match *control {
            Control::Select { choices, .. } if !choices.is_empty() => {
                one_of(self, &choices.iter().map(|c| c.0).collect::<Vec<_>>())
            }
            _ => Ok(()),
        }
    }
}

impl Within for Vec<String> {
    fn within(&self, _: &Control) -> Result<(), String> {
        Ok(())
    }
}

/// The page's panels (tabs), in tab order: the `panel` key names one.
pub const PANELS: &[&str] = &[
    "optimise",
    "perturb",
    "joint",
    "calibrate",
    "compare",
    "prune",
];

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

/// The closest candidate to `input` by edit distance (ignoring case), if it is close enough to
/// be what was meant: at most a third of the input's length, and at least one edit when only
/// the case differs.
pub fn did_you_mean<'a>(input: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let low = input.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = crate::measures::registry::edit_distance(&low, &c.to_lowercase());
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.filter(|&(d, c)| d <= (input.chars().count() / 3).max(1) && c != input)
        .map(|(_, c)| c)
}

fn one_of(v: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&v) {
        return Ok(());
    }
    let hint = did_you_mean(v, allowed.iter().copied())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    Err(
        format!("`{v}` is not one of {}; {hint}", allowed.join(", "))
            .trim_end_matches("; ")
            .to_string(),
    )
}

/// A built-in dataset's name.
#[allow(clippy::ptr_arg)]
fn dataset_name(v: &String) -> Result<(), String> {
    let names = crate::data::datasets::names();
    one_of(v, &names).map_err(|_| {
        let hint = did_you_mean(v, names.iter().copied())
            .map(|c| format!("did you mean `{c}`? "))
            .unwrap_or_default();
        format!(
            "`{v}` is not a built-in dataset; {hint}the built-ins are {} (a file of yours cannot be linked: it never leaves the browser)",
            names.join(", ")
        )
    })
}

/// An id the registry knows, optionally one that can be optimised.
fn measure_id(v: &str, optimised: bool) -> Result<(), String> {
    use crate::measures::registry;
    match registry::entry(v) {
        Ok(_) if optimised => registry::optimisable(v),
        Ok(_) => Ok(()),
        Err(_) => {
            let entries = registry::entries();
            let names = entries.iter().flat_map(|e| {
                std::iter::once(e.id.as_str()).chain(e.aliases.iter().map(String::as_str))
            });
            Err(match did_you_mean(v, names) {
                Some(c) => format!("`{v}` is not a measure; did you mean `{c}`?"),
                None => format!("`{v}` is not a measure (the measure menu lists them)"),
            })
        }
    }
}

#[allow(clippy::ptr_arg)] // the table's checks take `&T` for the field's own type
fn optimisable(v: &String) -> Result<(), String> {
    measure_id(v, true)
}

#[allow(clippy::ptr_arg)]
fn measure_list(v: &Vec<String>) -> Result<(), String> {
    v.iter().try_for_each(|id| measure_id(id, false))
}

/// Choices of the fixed selects, (value, label).
const OPTIMIZERS: &[(&str, &str)] = &[("adam", "Adam"), ("sgd", "SGD")];
const PRUNE_METHODS: &[(&str, &str)] = &[
    ("backward", "backward elimination"),
    ("forward", "forward selection"),
];
const PRUNE_DISTANCES: &[(&str, &str)] = &[
    ("correlation", "correlation"),
    ("sqeuclidean", "squared Euclidean"),
];
const PRUNE_COMPARES: &[(&str, &str)] = &[("pearson", "Pearson"), ("spearman", "Spearman")];
const PRUNE_DEMOS: &[(&str, &str)] = &[
    (
        "prune-demo-mit",
        "96 synthetic features, monkey IT planted → monkey IT RDM",
    ),
    (
        "prune-demo-hit",
        "96 synthetic features, human IT planted → human IT RDM",
    ),
    (
        "prune-categories-mit",
        "12 real category features → monkey IT RDM",
    ),
    (
        "prune-categories-hit",
        "12 real category features → human IT RDM",
    ),
];

const fn select(id: &'static str) -> Control {
    Control::Select { id, choices: &[] }
}

const fn number(id: &'static str, min: f64, max: f64, step: f64) -> Control {
    Control::Number { id, min, max, step }
}

state_table! {
    dataset: String = "toy2d".into(), key "dataset", classroom_hidden false,
        control select("dataset-select"), check dataset_name,
        "Built-in dataset name (a user's file cannot be linked: it never leaves the browser).";
    measure: String = "cka".into(), key "measure", classroom_hidden false,
        control select("measure-select"), check optimisable,
        "The optimised measure (any id or alias of a measure with a gradient).";
    watch: Vec<String> = Vec::new(), key "watch", classroom_hidden true,
        control Control::Checklist { id: "watch-list" }, check measure_list,
        "Other measures scored along the way.";
    lr: f64 = 0.1, key "lr", classroom_hidden true,
        control number("lr-input", 1e-6, 10.0, 0.0), check any, "Learning rate.";
    optimizer: String = "adam".into(), key "optimizer", classroom_hidden true,
        control Control::Select { id: "optimizer-select", choices: OPTIMIZERS }, check any,
        "Optimiser: adam (PyTorch semantics) or sgd.";
    seed: u64 = 0, key "seed", classroom_hidden true,
        control number("seed-input", 0.0, 9007199254740991.0, 1.0), check any,
        "Seed of Y₀ ~ N(0, 1) and of the decoding folds: the same seed gives the same run.";
    stop: f64 = 0.99, key "stop", classroom_hidden true,
        control number("stop-input", -1e12, 1e12, 0.0), check any,
        "Pause once the score is this share of the way to its best: 0.99 stops CKA at 0.99, a distance at 1% of its value at Y₀; a score with no maximum (ENSD) runs until paused.";
    speed: f64 = 1.0, key "speed", classroom_hidden true,
        control number("speed-input", 0.05, 1000.0, 0.0), check any,
        "Optimisation steps per animation frame; below 1, slow motion (0.25: a step every 4 frames).";
    decode_every: u64 = 10, key "decode", classroom_hidden true,
        control number("decode-every-input", 1.0, 10000.0, 1.0), check any,
        "Decode the task variables from Y every this many steps.";
    joint_a: String = "cka".into(), key "ja", classroom_hidden false,
        control select("joint-a-select"), check optimisable,
        "Joint panel: measure A (horizontal axis).";
    joint_b: String = "procrustes-angular-score".into(), key "jb", classroom_hidden false,
        control select("joint-b-select"), check optimisable,
        "Joint panel: measure B (vertical axis).";
    joint_n: u64 = 4, key "jn", classroom_hidden true,
        control number("joint-n-input", 2.0, 20.0, 1.0), check any,
        "Joint panel: target points per side of the unit square (4(N − 1) targets).";
    joint_steps: u64 = 300, key "jsteps", classroom_hidden true,
        control number("joint-steps-input", 1.0, 5000.0, 1.0), check any,
        "Joint panel: Adam steps per target.";
    cal_measures: Vec<String> = crate::measures::registry::listed_ids(crate::measures::def::List::CalibrateTicked),
        key "cal", classroom_hidden false,
        control Control::Checklist { id: "cal-list" },
        check |v| if v.is_empty() { Err("needs at least one measure".into()) } else { measure_list(v) },
        "Calibration report: the measures calibrated.";
    cal_seeds: u64 = 2, key "calseeds", classroom_hidden true,
        control number("cal-seeds-input", 1.0, 10.0, 1.0), check any,
        "Calibration report: seeds per measure.";
    cmp_measures: Vec<String> = crate::measures::registry::listed_ids(crate::measures::def::List::Compare),
        key "cmp", classroom_hidden false,
        control Control::Checklist { id: "cmp-list" },
        check |v| if v.is_empty() { Err("needs at least one measure".into()) } else { measure_list(v) },
        "Compare panel: the measures the model is scored with.";
    cmp_bootstrap: u64 = 200, key "cmpboot", classroom_hidden true,
        control number("cmp-bootstrap-input", 0.0, 10000.0, 1.0), check any,
        "Compare panel: bootstrap resamples of the conditions (0: no interval; the CLI's default is 1000).";
    cmp_permutations: u64 = 200, key "cmpperm", classroom_hidden true,
        control number("cmp-permutations-input", 0.0, 10000.0, 1.0), check any,
        "Compare panel: permutations of the model's conditions for the null (0: no null; the CLI's default is 1000).";
    cmp_seed: u64 = 0, key "cmpseed", classroom_hidden true,
        control number("cmp-seed-input", 0.0, 9007199254740991.0, 1.0), check any,
        "Compare panel: seed of the resampling, the calibration's Y₀ and the folds.";
    cmp_calibrate: bool = true, key "cmpcal", classroom_hidden false,
        control Control::Checkbox { id: "cmp-calibrate-input" }, check any,
        "Compare panel: place each score on this recording's calibration (one optimisation per measure).";
    prune_demo: String = "prune-demo-mit".into(), key "pdemo", classroom_hidden false,
        control Control::Select { id: "prune-demo-select", choices: PRUNE_DEMOS }, check any,
        "Prune panel: the built-in demo (features and target RDM) loaded at start.";
    prune_method: String = "backward".into(), key "pmethod", classroom_hidden false,
        control Control::Select { id: "prune-method-select", choices: PRUNE_METHODS }, check any,
        "Prune panel: greedy backward elimination or forward selection.";
    prune_folds: u64 = 5, key "pfolds", classroom_hidden true,
        control number("prune-folds-input", 2.0, 20.0, 1.0), check any,
        "Prune panel: outer folds of the honest evaluation.";
    prune_seed: u64 = 0, key "pseed", classroom_hidden true,
        control number("prune-seed-input", 0.0, 9007199254740991.0, 1.0), check any,
        "Prune panel: seed of the fold and inner splits.";
    prune_distance: String = "correlation".into(), key "pdist", classroom_hidden true,
        control Control::Select { id: "prune-distance-select", choices: PRUNE_DISTANCES }, check any,
        "Prune panel: distance of the model RDM (and of a target recording's).";
    prune_compare: String = "pearson".into(), key "pcompare", classroom_hidden true,
        control Control::Select { id: "prune-compare-select", choices: PRUNE_COMPARES }, check any,
        "Prune panel: how model and target RDMs are compared (upper triangles).";
    prune_fit: String = "rsa".into(), key "pfit", classroom_hidden true,
        control select("prune-fit-select"),
        check |v| if v == "rsa" { Ok(()) } else { measure_id(v, false) },
        "Prune panel: the fit, `rsa` or a registered measure's id (target recording only).";
    pert: String = String::new(), key "pert", classroom_hidden false,
        control Control::None, check |v| parse_pert(v).map(|_| ()),
        "PC perturbation: `pc_scale_angle` entries (1-based PC, amplitude, degrees), comma-separated.";
    panel: String = "optimise".into(), key "panel", classroom_hidden false,
        control Control::None, check |v| one_of(v, PANELS),
        "The open panel (tab).";
    lesson: String = String::new(), key "lesson", classroom_hidden false,
        control Control::None,
        check |v| if v.is_empty() || crate::lessons::find(v).is_some() { Ok(()) } else {
            Err(format!("no lesson named `{v}` (lessons: {})", crate::lessons::ids()))
        },
        "The guided lesson shown (`crate::lessons`), empty for none.";
    lesson_step: u64 = 1, key "lstep", classroom_hidden false,
        control Control::None, check any,
        "The lesson's step (1-based).";
    classroom: bool = false, key "classroom", classroom_hidden false,
        control Control::Checkbox { id: "classroom-toggle" }, check any,
        "Classroom mode: large type, high contrast, advanced controls hidden.";
}

impl UiState {
    /// The URL hash (without `#`) listing only settings that differ from the defaults.
    pub fn to_hash(&self) -> String {
        let defaults = UiState::default();
        let mut out = String::new();
        for f in FIELDS {
            let (v, d) = (self.get(f.key), defaults.get(f.key));
            if v != d {
                if !out.is_empty() {
                    out.push('&');
                }
                let _ = write!(out, "{}={}", f.key, encode(&v.unwrap_or_default()));
            }
        }
        out
    }

    /// Parse a URL hash (with or without `#`). Unknown keys and bad values are skipped and
    /// reported, so a damaged link still opens with everything else it carries.
    pub fn from_hash(hash: &str) -> (UiState, Vec<String>) {
        let mut state = UiState::default();
        let mut problems = Vec::new();
        for pair in hash
            .trim_start_matches('#')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            if let Err(e) = state.set(key, &value) {
                problems.push(format!("link setting `{key}` ignored: {e}"));
            }
        }
        (state, problems)
    }
}

/// One perturbed PC of the Perturb panel: PC `pc` (1-based) scaled by `scale` and rotated by
/// `angle` degrees towards a direction orthogonal to every PC.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PertEntry {
    pub pc: usize,
    pub scale: f64,
    pub angle: f64,
}

/// The largest amplitude a PC can be scaled by (the scale input, the drag and links).
pub const PERT_MAX_SCALE: f64 = 10.0;

/// Parse the `pert` setting: `2_0.5_90,3_1_45` (PC, scale ≥ 0, angle in [0, 90]°). Entries
/// come back sorted by PC, one per PC.
pub fn parse_pert(s: &str) -> Result<Vec<PertEntry>, String> {
    let mut out: Vec<PertEntry> = Vec::new();
    for item in s.split(',').filter(|t| !t.is_empty()) {
        let parts: Vec<&str> = item.split('_').collect();
        let bad = || format!("`{item}` is not PC_SCALE_ANGLE (e.g. 2_0.5_90)");
        if parts.len() != 3 {
            return Err(bad());
        }
        let pc: usize = parts[0].parse().map_err(|_| bad())?;
        let scale: f64 = parts[1].parse().map_err(|_| bad())?;
        let angle: f64 = parts[2].parse().map_err(|_| bad())?;
        if pc == 0 || !(0.0..=PERT_MAX_SCALE).contains(&scale) || !(0.0..=90.0).contains(&angle) {
            return Err(format!(
                "`{item}`: PC ≥ 1, scale in [0, {PERT_MAX_SCALE}] and angle in [0, 90] degrees"
            ));
        }
        out.retain(|e| e.pc != pc);
        out.push(PertEntry { pc, scale, angle });
    }
    out.sort_by_key(|e| e.pc);
    Ok(out)
}

/// The `pert` setting for these entries, leaving out unchanged PCs (scale 1, angle 0).
pub fn format_pert(entries: &[PertEntry]) -> String {
    let mut v: Vec<PertEntry> = entries
        .iter()
        .filter(|e| e.scale != 1.0 || e.angle != 0.0)
        .copied()
        .collect();
    v.sort_by_key(|e| e.pc);
    v.iter()
        .map(|e| format!("{}_{}_{}", e.pc, e.scale, e.angle))
        .collect::<Vec<_>>()
        .join(",")
}

/// Percent-encode what would break the hash syntax.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' | b'=' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_an_empty_hash() {
        assert_eq!(UiState::default().to_hash(), "");
    }

    #[test]
    fn hash_round_trips() {
        let s = UiState {
            dataset: "golub2018".into(),
            measure: "ridge-lambda100-r2#5folds_cv".into(),
            watch: vec!["nbs".into(), "procrustes-angular-score".into()],
            lr: 0.05,
            seed: 42,
            classroom: true,
            ..UiState::default()
        };
        let h = s.to_hash();
        assert!(h.contains("measure=ridge-lambda100-r2%235folds_cv"), "{h}");
        let (back, problems) = UiState::from_hash(&format!("#{h}"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, s);
    }

    #[test]
    fn bad_values_are_reported_and_the_rest_kept() {
        let (s, problems) = UiState::from_hash("lr=-1&seed=7&bogus=3&speed=0&optimizer=rmsprop");
        assert_eq!(s.seed, 7);
        assert_eq!(s.lr, 0.1);
        assert_eq!(s.speed, 1.0);
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn perturbation_setting_round_trips() {
        let e = parse_pert("3_1_45,2_0.5_90,4_1_0").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0],
            PertEntry {
                pc: 2,
                scale: 0.5,
                angle: 90.0
            }
        );
        assert_eq!(format_pert(&e), "2_0.5_90,3_1_45");
        assert!(parse_pert("0_1_0").is_err());
        assert!(parse_pert("2_0.5").is_err());
        assert!(parse_pert("2_1_120").is_err());
        let (s, problems) = UiState::from_hash("pert=2_0.5_90");
        assert!(problems.is_empty());
        assert_eq!(UiState::from_hash(&s.to_hash()).0.pert, "2_0.5_90");
    }

    #[test]
    fn links_with_typos_name_the_key_and_the_fix() {
        let (s, problems) = UiState::from_hash(
            "dataset=Golub2018&measure=CKA&ja=procrustes-angular&jn=50&panle=joint",
        );
        assert_eq!(
            s,
            UiState::default(),
            "every bad value falls back to its default"
        );
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            problems[0].contains("`dataset`") && problems[0].contains("did you mean `golub2018`"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].contains("did you mean `cka`"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].contains("`ja`") && problems[2].contains("procrustes-angular"),
            "{}",
            problems[2]
        );
        assert!(problems[3].contains("2 to 20"), "{}", problems[3]);
        assert!(
            problems[4].contains("did you mean `panel`"),
            "{}",
            problems[4]
        );
        // Aliases are measures too; watching a measure without a gradient is fine.
        let (s, problems) = UiState::from_hash("measure=nbs-angular-score&watch=cka,nbs");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.measure, "nbs-angular-score");
        assert_eq!(
            did_you_mean("toy2D", ["toy2d", "ultrametric"].into_iter()),
            Some("toy2d")
        );
        assert_eq!(
            did_you_mean("xyz", ["toy2d", "ultrametric"].into_iter()),
            None
        );
    }

    #[test]
    fn every_control_id_is_unique_and_numbers_have_limits() {
        let mut ids: Vec<_> = FIELDS.iter().filter_map(|f| f.control.id()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for f in FIELDS {
            if let Control::Number { min, max, .. } = f.control {
                assert!(min < max, "{}", f.key);
                let d = UiState::default();
                let v: f64 = d.get(f.key).unwrap().parse().unwrap();
                assert!(
                    (min..=max).contains(&v),
                    "{}'s default {v} is outside its limits",
                    f.key
                );
            }
        }
    }

    #[test]
    fn every_field_has_a_unique_key() {
        let mut keys: Vec<_> = FIELDS.iter().map(|f| f.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), FIELDS.len());
        assert!(FIELDS.iter().any(|f| f.classroom_hidden));
    }
}
