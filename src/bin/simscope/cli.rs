//! Argument parsing and dispatch. Every command prints JSON on stdout; errors go to stderr as
//! `error: …` with exit code 2, never a panic.

use std::ffi::OsString;
use std::sync::Arc;

use lexopt::prelude::*;
use serde_json::json;
use simscope::data::datasets;
use simscope::measures::cka::Cka;
use simscope::optim::session::{initial_y, Session};
use simscope::target::Target;

const HELP: &str = "\
simscope: what do model-brain similarity scores reward?

usage:
  simscope optimize DATA [--measure cka] [--lr 0.1] [--steps 1000] [--stop 0.99] [--seed 0]
  simscope datasets
  simscope --help | --version

DATA is a built-in dataset name (see `simscope datasets`) or a .npy file.
Output is JSON on stdout; errors print `error: ...` on stderr and exit with status 2.
";

/// A user-facing failure: printed as `error: <message>`, exit status 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

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
            "optimize" => optimize(&mut parser),
            "datasets" => {
                println!("{}", json!(datasets::BUILTIN));
                Ok(())
            }
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

fn optimize(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut measure) = (None, "cka".to_string());
    let (mut lr, mut steps, mut stop, mut seed) = (0.1f64, 1000usize, 0.99f64, 0u64);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("measure") => measure = parser.value()?.string()?,
            Long("lr") => lr = parser.value()?.parse()?,
            Long("steps") => steps = parser.value()?.parse()?,
            Long("stop") => stop = parser.value()?.parse()?,
            Long("seed") => seed = parser.value()?.parse()?,
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| CliError("optimize needs a DATA argument".into()))?;
    if measure != "cka" {
        return Err(CliError(format!(
            "unknown measure `{measure}` (available: cka)"
        )));
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(CliError(format!(
            "--lr must be a positive number, got {lr}"
        )));
    }
    let rec = crate::input::recording(&data)?;
    let target = Arc::new(Target::new(&rec.data)?);
    let y0 = initial_y(rec.data.nrows(), rec.data.ncols(), seed);
    let mut session = Session::new(target.clone(), Box::new(Cka::new(target)), y0, lr);
    let mut report = session.report();
    let mut stopped_by = "max_steps";
    while report.step < steps {
        if report.score > stop {
            stopped_by = "stop";
            break;
        }
        report = session.step(1);
    }
    if report.score > stop {
        stopped_by = "stop";
    }
    println!(
        "{}",
        json!({"steps": report.step, "final_score": report.score, "stopped_by": stopped_by})
    );
    Ok(())
}
