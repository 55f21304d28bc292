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

/// What the page knows about one setting.
#[derive(Clone, Copy, Debug)]
pub struct FieldInfo {
    /// Key in the URL hash and id suffix of its control.
    pub key: &'static str,
    /// Hidden in classroom mode (advanced settings).
    pub classroom_hidden: bool,
    /// One-line description (tooltips, docs).
    pub doc: &'static str,
}

macro_rules! state_table {
    ($( $field:ident : $ty:ty = $default:expr, key $key:literal, classroom_hidden $hidden:literal,
        check $check:expr, $doc:literal; )*) => {
        /// Every user setting of the page.
        #[derive(Clone, Debug, PartialEq)]
        pub struct UiState { $( #[doc = $doc] pub $field: $ty, )* }

        impl Default for UiState {
            fn default() -> Self { UiState { $( $field: $default, )* } }
        }

        /// The table, in the order the URL hash lists keys.
        pub const FIELDS: &[FieldInfo] = &[
            $( FieldInfo { key: $key, classroom_hidden: $hidden, doc: $doc }, )*
        ];

        impl UiState {
            /// Set one field from its hash text, after checking it.
            pub fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
                match key {
                    $( $key => {
                        let v = <$ty as HashValue>::from_hash(text)?;
                        let check: fn(&$ty) -> Result<(), String> = $check;
                        check(&v)?;
                        self.$field = v;
                        Ok(())
                    } )*
                    _ => Err(format!("unknown setting `{key}`")),
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

/// The page's panels (tabs), in tab order: the `panel` key names one.
pub const PANELS: &[&str] = &["optimise", "perturb", "joint", "calibrate", "prune"];

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

fn one_of(v: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(format!("`{v}` is not one of {}", allowed.join(", ")))
    }
}

fn positive_at_most(limit: f64) -> impl Fn(&f64) -> Result<(), String> {
    move |v| {
        if *v > 0.0 && *v <= limit {
            Ok(())
        } else {
            Err(format!("must be in (0, {limit}], got {v}"))
        }
    }
}

state_table! {
    dataset: String = "toy2d".into(), key "dataset", classroom_hidden false,
        check |v| if v.is_empty() { Err("is empty".into()) } else { Ok(()) },
        "Built-in dataset name (a user's file cannot be linked: it never leaves the browser).";
    measure: String = "cka".into(), key "measure", classroom_hidden false,
        check any, "Canonical id of the optimised measure.";
    watch: Vec<String> = Vec::new(), key "watch", classroom_hidden true,
        check any, "Other measures scored along the way.";
    lr: f64 = 0.1, key "lr", classroom_hidden true,
        check |v| positive_at_most(10.0)(v), "Learning rate.";
    optimizer: String = "adam".into(), key "optimizer", classroom_hidden true,
        check |v| if v == "adam" || v == "sgd" { Ok(()) } else { Err(format!("`{v}` is not adam or sgd")) },
        "Optimiser: adam (PyTorch semantics) or sgd.";
    seed: u64 = 0, key "seed", classroom_hidden true,
        check any, "Seed of Y₀ ~ N(0, 1): the same seed gives the same run.";
    stop: f64 = 0.99, key "stop", classroom_hidden true,
        check any, "Pause once the score passes this (below it, for a distance).";
    speed: f64 = 1.0, key "speed", classroom_hidden true,
        check |v| if (0.05..=1000.0).contains(v) { Ok(()) } else { Err(format!("must be 0.05 to 1000, got {v}")) },
        "Optimisation steps per animation frame; below 1, slow motion (0.25: a step every 4 frames).";
    decode_every: u64 = 10, key "decode", classroom_hidden true,
        check |v| if (1..=10000).contains(v) { Ok(()) } else { Err(format!("must be 1 to 10000, got {v}")) },
        "Decode the task variables from Y every this many steps.";
    joint_a: String = "cka".into(), key "ja", classroom_hidden false,
        check |v| if v.is_empty() { Err("is empty".into()) } else { Ok(()) },
        "Joint panel: canonical id of measure A (horizontal axis).";
    joint_b: String = "procrustes-angular-score".into(), key "jb", classroom_hidden false,
        check |v| if v.is_empty() { Err("is empty".into()) } else { Ok(()) },
        "Joint panel: canonical id of measure B (vertical axis).";
    joint_n: u64 = 4, key "jn", classroom_hidden true,
        check |v| if (2..=20).contains(v) { Ok(()) } else { Err(format!("must be 2 to 20, got {v}")) },
        "Joint panel: target points per side of the unit square (4(N − 1) targets).";
    joint_steps: u64 = 50, key "jsteps", classroom_hidden true,
        check |v| if (1..=5000).contains(v) { Ok(()) } else { Err(format!("must be 1 to 5000, got {v}")) },
        "Joint panel: Adam steps per target.";
    cal_measures: Vec<String> = vec!["cka".into(), "nbs".into(), "procrustes-angular-score".into()],
        key "cal", classroom_hidden false,
        check |v| if v.is_empty() { Err("needs at least one measure".into()) } else { Ok(()) },
        "Calibration report: the measures calibrated.";
    cal_seeds: u64 = 2, key "calseeds", classroom_hidden true,
        check |v| if (1..=10).contains(v) { Ok(()) } else { Err(format!("must be 1 to 10, got {v}")) },
        "Calibration report: seeds per measure.";
    prune_demo: String = "prune-demo-mit".into(), key "pdemo", classroom_hidden false,
        check |v| one_of(v, crate::analysis::prune::DEMO_FEATURES),
        "Prune panel: the built-in demo (features and target RDM) loaded at start.";
    prune_method: String = "backward".into(), key "pmethod", classroom_hidden false,
        check |v| one_of(v, &["backward", "forward"]),
        "Prune panel: greedy backward elimination or forward selection.";
    prune_folds: u64 = 5, key "pfolds", classroom_hidden true,
        check |v| if (2..=20).contains(v) { Ok(()) } else { Err(format!("must be 2 to 20, got {v}")) },
        "Prune panel: outer folds of the honest evaluation.";
    prune_seed: u64 = 0, key "pseed", classroom_hidden true,
        check any, "Prune panel: seed of the fold and inner splits.";
    prune_distance: String = "correlation".into(), key "pdist", classroom_hidden true,
        check |v| one_of(v, &["correlation", "sqeuclidean"]),
        "Prune panel: distance of the model RDM (and of a target recording's).";
    prune_compare: String = "pearson".into(), key "pcompare", classroom_hidden true,
        check |v| one_of(v, &["pearson", "spearman"]),
        "Prune panel: how model and target RDMs are compared (upper triangles).";
    prune_fit: String = "rsa".into(), key "pfit", classroom_hidden true,
        check |v| if v.is_empty() { Err("is empty".into()) } else { Ok(()) },
        "Prune panel: the fit, `rsa` or a registered measure's id (target recording only).";
    pert: String = String::new(), key "pert", classroom_hidden false,
        check |v| parse_pert(v).map(|_| ()),
        "PC perturbation: `pc_scale_angle` entries (1-based PC, amplitude, degrees), comma-separated.";
    panel: String = "optimise".into(), key "panel", classroom_hidden false,
        check |v| if PANELS.contains(&v.as_str()) { Ok(()) } else { Err(format!("`{v}` is not one of {}", PANELS.join(", "))) },
        "The open panel (tab).";
    classroom: bool = false, key "classroom", classroom_hidden false,
        check any, "Classroom mode: large type, high contrast, advanced controls hidden.";
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
        if pc == 0 || !(0.0..=10.0).contains(&scale) || !(0.0..=90.0).contains(&angle) {
            return Err(format!(
                "`{item}`: PC ≥ 1, scale in [0, 10] and angle in [0, 90] degrees"
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
    fn every_field_has_a_unique_key() {
        let mut keys: Vec<_> = FIELDS.iter().map(|f| f.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), FIELDS.len());
        assert!(FIELDS.iter().any(|f| f.classroom_hidden));
    }
}
