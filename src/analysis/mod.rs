//! Analyses of an optimisation run (spec §4–§7): which of X's principal components Y has
//! captured, whether X's task variables can be decoded from Y, the closed-form effect of
//! perturbing X's PCs, the allowed range of two scores, and a per-dataset calibration report
//! ("what is a good score for my data?").

pub mod calibrate;
pub mod captured;
pub mod decode;
pub mod job;
pub mod joint;
pub mod perturb;
pub mod prune;
pub mod run;

pub use captured::{first_crossing, pc_r2, Alignment, Threshold};
pub use job::{run_to_end, Budget, Job, Progress};
