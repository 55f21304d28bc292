//! # simscope
//!
//! What does a model–brain similarity score reward? simscope optimises a synthetic dataset Y,
//! step by step, to maximise a similarity score (CKA, Procrustes, NBS, regression, RSA, …) with
//! a recording X, and shows which parts of X the score makes Y capture (Cloos et al. 2024,
//! arXiv 2407.07059).
//!
//! One core, three faces: the numerics below are plain Rust; the page (`web`, wasm32 only),
//! the CLI (`src/bin/simscope`) and the tests are thin layers over them.
//!
//! | module | job |
//! | --- | --- |
//! | [`rng`] | seeded, platform-independent random numbers |
//! | [`linalg`] | centring and small dense helpers |
//! | [`target`] | X prepared once: centred, thin SVD, PC scores |
//! | [`measures`] | scores with closed-form gradients |
//! | [`optim`] | Adam and the optimisation session |
//! | [`bench`] | timing of one optimisation step per measure |
//! | [`data`] | recordings, task variables, built-in datasets |
//! | [`plot`] | drawing over any `plotters` backend |
//!
//! ```
//! use std::sync::Arc;
//! use simscope::{data::datasets::toy2d, measures::cka::Cka, optim::session::{initial_y, Session}, target::Target};
//!
//! let x = toy2d(0.5);
//! let target = Arc::new(Target::new(&x.data).unwrap());
//! let y0 = initial_y(x.data.nrows(), x.data.ncols(), 0);
//! let mut session = Session::new(target.clone(), Box::new(Cka::new(target)), y0, 0.1);
//! let report = session.step(100);
//! assert!(report.score > 0.9);
//! ```

pub mod analysis;
pub mod bench;
pub mod data;
pub mod lessons;
pub mod linalg;
pub mod measures;
pub mod optim;
pub mod plot;
pub mod rng;
pub mod state;
pub mod target;

#[cfg(target_arch = "wasm32")]
pub mod web;
