//! Decoding on the worker side: the run decodes Y (and X once, the neural reference) in its
//! own job (`analysis::run`); this module keeps X's decoding across runs and turns the run's
//! decoding state into the page's message.

use crate::analysis::decode::{DecodeError, Decoding};
use crate::analysis::run::Run;
use crate::web::protocol::{ReferenceRow, RunResponse};

/// X's decoding for one fold seed: decoding X can take seconds on the larger recordings, and a
/// Reset with the same seed needs the same reference.
#[derive(Default)]
pub(super) struct ReferenceCache {
    kept: Option<(u64, Vec<Result<Decoding, DecodeError>>)>,
}

impl ReferenceCache {
    /// Give a new run the reference of its seed, if it was decoded already.
    pub fn hand_over(&self, run: &mut Run) {
        if let (Some((seed, rows)), Some(s)) = (&self.kept, run.decode_seed()) {
            if *seed == s {
                run.set_reference(rows.clone());
            }
        }
    }

    /// Keep the run's reference once it is decoded.
    fn keep(&mut self, run: &Run) {
        if let (Some(r), Some(seed)) = (run.reference(), run.decode_seed()) {
            if self.kept.as_ref().is_none_or(|(s, _)| *s != seed) {
                self.kept = Some((seed, r.to_vec()));
            }
        }
    }
}

/// The reference as the page shows it: accuracy from X and chance per variable, and why a
/// variable cannot be decoded or was decoded with time steps pooled.
pub(super) fn reference_rows(
    names: &[String],
    r: &[Result<Decoding, DecodeError>],
    above: &[bool],
) -> Vec<ReferenceRow> {
    names
        .iter()
        .zip(r)
        .zip(above.iter().chain(std::iter::repeat(&false)))
        .map(|((name, d), &above_chance)| match d {
            Ok(d) => ReferenceRow {
                name: name.clone(),
                accuracy: Some(d.accuracy),
                chance: d.chance,
                above_chance,
                note: if d.pooled {
                    format!(
                        "too few samples per class in a time step for {}-fold CV: time steps pooled as samples",
                        d.folds
                    )
                } else {
                    String::new()
                },
            },
            Err(e) => ReferenceRow {
                name: name.clone(),
                accuracy: None,
                chance: f64::NAN,
                above_chance: false,
                note: e.to_string(),
            },
        })
        .collect()
}

/// The decoding finished since the last message, and what is left.
pub(super) fn decoding(run: &mut Run, cache: &mut ReferenceCache) -> RunResponse {
    cache.keep(run);
    let p = run.decode_progress();
    let names = run.variables();
    RunResponse::Decoding {
        rows: run.take_decoded(),
        reference: run.reference().map(|r| {
            let above = run.reference_above_chance().unwrap_or_default();
            reference_rows(&names, r, &above)
        }),
        pending: run.decode_pending(),
        done: p.done,
        total: p.total,
    }
}
