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

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
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
    speed: u64 = 1, key "speed", classroom_hidden true,
        check |v| if (1..=1000).contains(v) { Ok(()) } else { Err(format!("must be 1 to 1000, got {v}")) },
        "Optimisation steps per animation frame.";
    panel: String = "optimise".into(), key "panel", classroom_hidden false,
        check any, "The open panel.";
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
        assert_eq!(s.speed, 1);
        assert_eq!(problems.len(), 4, "{problems:?}");
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
