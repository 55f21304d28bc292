//! Analyses of an optimisation run (spec §4–§7): which of X's principal components Y has
//! captured, whether X's task variables can be decoded from Y, the closed-form effect of
//! perturbing X's PCs, the allowed range of two scores, a per-dataset calibration report
//! ("what is a good score for my data?") and the comparison of models with a recording
//! (scores with intervals, chance levels and their placement on the calibration).

pub mod calibrate;
pub mod captured;
pub mod compare;
pub mod decode;
pub mod job;
pub mod joint;
pub mod perturb;
pub mod prune;
pub mod run;

pub use captured::{first_crossing, pc_r2, Alignment, LinearChance, Threshold};
pub use job::{run_to_end, Budget, Job, Progress};

/// A share of variance as every face writes it: a percentage, one decimal below 10 %
/// (issue 13: the page wrote 0.71, 71% and 71.0 % for the same thing).
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "—".into();
    }
    let p = 100.0 * share;
    if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}
