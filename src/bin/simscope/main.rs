//! simscope command-line interface: the same core as the page, for reproducible batch runs.
#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_bench;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_calibrate;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_compare;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_datasets;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_export;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_info;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_joint;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_measures;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_optimize;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_perturb;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_prune;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_score;
#[cfg(not(target_arch = "wasm32"))]
mod common;
#[cfg(not(target_arch = "wasm32"))]
mod svg;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args_os().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
