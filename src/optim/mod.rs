//! Optimisers and the optimisation session (spec §3).

pub mod adam;
pub mod session;

pub use adam::Adam;
pub use session::{Session, StepReport};
