//! Argument parsing and dispatch. Every command prints JSON on stdout; errors go to stderr as
//! `error: …` with exit code 2, never a panic.

use std::ffi::OsString;

use lexopt::prelude::*;

use crate::common::CliError;

const HELP: &str = "\
simscope: what do model-brain similarity scores reward?

usage:
  simscope optimize DATA --measure ID [--lr 0.1] [--steps 1000] [--stop 0.99|none] [--seed 0]
           [--optimizer adam|sgd] [--watch ID ...] [--labels FILE] [--snapshot-every K]
           [--decode-every 10] [--pc-every 1] [--replicate-nan] [--y0 MODEL] [--out DIR [--svg]]
           (--y0: start from a model's activations on X's conditions instead of a random Y0)
  simscope perturb DATA --pc K [--angle 90] [--scale 1] [--measure ID ...] [--seed 0]
  simscope perturb DATA --sweep --out FILE.csv [--measure ID ...] [--max-pcs M] [--seed 0]
  simscope joint DATA --a ID --b ID [--per-side 6] [--steps 100] [--seed 0] [--lr 0.1] --out DIR
  simscope calibrate DATA [--labels FILE] --measure ID ... [--seeds 3] [--steps 1000]
           [--stop 0.99] [--decode-every 5] [--threads N] --out DIR
           (--threads: (measure, seed) runs at once, default every core; the report is the
           same for any N)
  simscope compare X Y... [--measure ID]... [--bootstrap 1000] [--permutations 1000] [--seed 0]
           [--labels FILE] [--no-calibrate] [--threads N] [--out DIR]
           (each model Y against the recording X: score, bootstrap 95% interval over conditions,
           permutation null mean/95th percentile/p, calibration placement and verdict, per-PC
           cross-validated R²; a file with several arrays: FILE.npz:NAME or FILE.mat:NAME;
           --out DIR: scores.csv, pc_r2.csv, decoding.csv and profile.svg)
  simscope prune F (--target-rdm R | --target X) [--folds 5] [--seed 0]
           [--method backward|forward] [--distance correlation|sqeuclidean]
           [--compare pearson|spearman] --out DIR   (F: file or prune-demo-mit|-hit)
  simscope datasets [--json]
  simscope info FILE
  simscope export-dataset NAME OUT.npz
  simscope score X Y --measure ID [--measure ID ...] [--grad-dir DIR]   (--measure all: every id)
  simscope measures [--json]
  simscope bench [--json] [--measure ID ...] [--size NxP ...] [--budget SECONDS]
  simscope --help | --version

DATA is a built-in dataset name (see `simscope datasets`) or a .npy/.npz, MATLAB .mat (v5/v7)
or .csv/.tsv/.txt file (docs/data.md).
Output is JSON on stdout; errors print `error: ...` on stderr and exit with status 2.
";

pub fn run(args: Vec<OsString>) -> i32 {
    match dispatch(args) {
        Ok(()) => 0,
        Err(CliError(msg)) => {
            eprintln!("error: {msg}");
            2
        }
    }
}

fn dispatch(args: Vec<OsString>) -> Result<(), CliError> {
    let mut parser = lexopt::Parser::from_args(args);
    match parser.next()? {
        Some(Value(cmd)) => match cmd.to_string_lossy().as_ref() {
            "optimize" => crate::cmd_optimize::run(&mut parser),
            "perturb" => crate::cmd_perturb::run(&mut parser),
            "joint" => crate::cmd_joint::run(&mut parser),
            "calibrate" => crate::cmd_calibrate::run(&mut parser),
            "compare" => crate::cmd_compare::run(&mut parser),
            "datasets" => crate::cmd_datasets::run(&mut parser),
            "info" => crate::cmd_info::run(&mut parser),
            "export-dataset" => crate::cmd_export::run(&mut parser),
            "prune" => crate::cmd_prune::run(&mut parser),
            "score" => crate::cmd_score::run(&mut parser),
            "measures" => crate::cmd_measures::run(&mut parser),
            "bench" => crate::cmd_bench::run(&mut parser),
            other => Err(CliError(format!(
                "unknown command `{other}` (try `simscope --help`)"
            ))),
        },
        Some(Long("help")) | Some(Short('h')) | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(Long("version")) => {
            println!("simscope {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(arg) => Err(arg.unexpected().into()),
    }
}
