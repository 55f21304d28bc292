//! Per-step cost of an optimisation step (score + gradient + Adam update, lr 0.1) per measure
//! at the four sizes of the issue, on random X, Y ~ N(0, 1), next to the authors' fastest
//! 1-thread per-step time (tests/fixtures/reference/perf_baseline.json) and this build's dgemm
//! rate. Run with `cargo bench` (or `cargo bench -- cka nbs` to pick measures).
//! Same numbers as `simscope bench`; the table is in docs/benchmarks.md.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use simscope::bench::{authors_baseline_ms, dgemm_gflops, step_flops, time_steps};
    use simscope::measures::registry::{listed_ids, List};

    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let ids: Vec<String> = if args.is_empty() {
        listed_ids(List::Bench)
    } else {
        args
    };
    let gemm = dgemm_gflops(1000);
    println!("dgemm 1000×1000 (1 thread): {gemm:.1} GFLOP/s");
    println!(
        "{:<30} {:>6} {:>5} {:>10} {:>6} {:>10} {:>8} {:>11} {:>8}",
        "measure", "n", "p", "median_ms", "steps", "MFLOP", "GFLOP/s", "authors_ms", "speedup"
    );
    for (n, p) in [(100, 20), (500, 100), (1080, 200), (2000, 500)] {
        for id in &ids {
            let row = match time_steps(id, n, p, 2, 5, 200, 1.5) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{id}: {e}");
                    continue;
                }
            };
            let flops = step_flops(&row.measure, n, p.min(n - 1), p).unwrap_or(f64::NAN);
            let base = authors_baseline_ms(&row.measure, n, p);
            println!(
                "{:<30} {:>6} {:>5} {:>10.3} {:>6} {:>10.1} {:>8.2} {:>11} {:>8}",
                row.measure,
                n,
                p,
                row.median_ms,
                row.steps,
                flops / 1e6,
                flops / (row.median_ms * 1e-3) / 1e9,
                base.map(|b| format!("{b:.3}"))
                    .unwrap_or_else(|| "-".into()),
                base.map(|b| format!("{:.1}x", b / row.median_ms))
                    .unwrap_or_else(|| "-".into()),
            );
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
