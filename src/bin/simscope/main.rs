//! simscope command-line interface: the same core as the page, for reproducible batch runs.
#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod input;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args_os().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
