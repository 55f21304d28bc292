//! `simscope bench [--json] [--measure ID ...] [--size NxP ...] [--budget SECONDS]`: median
//! milliseconds per optimisation step (score + gradient + Adam update) on random X, Y.

use lexopt::prelude::*;
use simscope::bench::{authors_baseline_ms, dgemm_gflops, step_flops, time_steps};
use simscope::measures::registry::{self, List};

use crate::common::CliError;

pub const DEFAULT_SIZES: &[(usize, usize)] = &[(100, 20), (500, 100), (1080, 200), (2000, 500)];

fn parse_size(s: &str) -> Result<(usize, usize), CliError> {
    let (a, b) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| CliError(format!("--size wants NxP (e.g. 1080x200), got `{s}`")))?;
    let n: usize = a
        .parse()
        .map_err(|_| CliError(format!("--size: `{a}` is not a whole number")))?;
    let p: usize = b
        .parse()
        .map_err(|_| CliError(format!("--size: `{b}` is not a whole number")))?;
    if n < 10 || p < 1 || n.saturating_mul(p) > 50_000_000 {
        return Err(CliError(format!(
            "--size {s}: need n ≥ 10, p ≥ 1 and n·p ≤ 5e7"
        )));
    }
    Ok((n, p))
}

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut as_json, mut ids, mut sizes, mut budget) = (false, Vec::new(), Vec::new(), 2.0f64);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("json") => as_json = true,
            Long("measure") | Short('m') => ids.push(parser.value()?.string()?),
            Long("size") => sizes.push(parse_size(&parser.value()?.string()?)?),
            Long("budget") => budget = parser.value()?.parse()?,
            other => return Err(other.unexpected().into()),
        }
    }
    if !(budget.is_finite() && budget > 0.0) {
        return Err(CliError(format!(
            "--budget must be a positive number of seconds, got {budget}"
        )));
    }
    if ids.is_empty() {
        // The authors' baseline set, the paper's ridge and the rest of the kernel family.
        ids = registry::listed_ids(List::Bench);
    }
    let (canon, _) = registry::resolve_list(&ids, None)?;
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    let mut rows = Vec::new();
    let gemm_rate = if as_json { 0.0 } else { dgemm_gflops(1000) };
    if !as_json {
        println!("dgemm (1000×1000, this build, 1 thread): {gemm_rate:.1} GFLOP/s");
        println!(
            "{:<30} {:>6} {:>5} {:>11} {:>6} {:>10} {:>8} {:>9} {:>12} {:>8}",
            "measure",
            "n",
            "p",
            "median_ms",
            "steps",
            "MFLOP/step",
            "GFLOP/s",
            "of dgemm",
            "authors_ms",
            "speedup"
        );
    }
    for &(n, p) in &sizes {
        for id in &canon {
            let row = time_steps(id, n, p, 2, 5, 200, budget).map_err(CliError)?;
            if !as_json {
                let flops = step_flops(id, n, p.min(n - 1), p)?;
                let rate = flops / (row.median_ms * 1e-3) / 1e9;
                let base = authors_baseline_ms(id, n, p);
                println!(
                    "{:<30} {:>6} {:>5} {:>11.3} {:>6} {:>10.1} {:>8.2} {:>8.0}% {:>12} {:>8}",
                    row.measure,
                    n,
                    p,
                    row.median_ms,
                    row.steps,
                    flops / 1e6,
                    rate,
                    100.0 * rate / gemm_rate,
                    base.map(|b| format!("{b:.3}"))
                        .unwrap_or_else(|| "-".into()),
                    base.map(|b| format!("{:.1}x", b / row.median_ms))
                        .unwrap_or_else(|| "-".into()),
                );
            }
            rows.push(row);
        }
    }
    if as_json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}
