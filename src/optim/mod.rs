//! Optimisers and the optimisation session (spec §3).

pub mod adam;
pub mod history;
pub mod session;
pub mod sgd;

pub use adam::Adam;
pub use session::{Objective, OptimizerKind, Session, SessionOptions, StepReport, StopReason};
pub use sgd::Sgd;
