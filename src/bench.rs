//! Timing of one optimisation step (score + gradient + Adam update), shared by `simscope
//! bench`, `cargo bench` and the page's Bench request. It sits above `optim` (it runs Adam);
//! the cost model of each measure (`registry::step_flops`) is in the measure's declaration,
//! so the achieved GFLOP/s can be set against the machine's dgemm rate.

use std::sync::Arc;

use nalgebra::DMatrix;

use crate::measures::registry;
pub use crate::measures::registry::step_flops;
use crate::target::Target;

/// One benchmark row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchRow {
    pub measure: String,
    pub n: usize,
    pub p: usize,
    pub median_ms: f64,
    pub steps: usize,
}

/// Median wall time of one optimisation step (score_and_grad + Adam update, lr 0.1) of
/// measure `id` on random X, Y ~ N(0,1) of shape n×p (seeds 1 and 2), after `warmup` steps;
/// times at least `min_steps` steps and keeps going until `budget_s` seconds or `max_steps`.
#[cfg(not(target_arch = "wasm32"))]
pub fn time_steps(
    id: &str,
    n: usize,
    p: usize,
    warmup: usize,
    min_steps: usize,
    max_steps: usize,
    budget_s: f64,
) -> Result<BenchRow, String> {
    let start = std::time::Instant::now();
    let clock = move || start.elapsed().as_secs_f64() * 1e3;
    time_steps_with(id, n, p, warmup, min_steps, max_steps, budget_s, clock)
}

/// [`time_steps`] with the clock given (milliseconds, monotonic): the browser worker times
/// the very same loop with `performance.now()`, so wasm and native figures compare like for
/// like.
#[allow(clippy::too_many_arguments)]
pub fn time_steps_with(
    id: &str,
    n: usize,
    p: usize,
    warmup: usize,
    min_steps: usize,
    max_steps: usize,
    budget_s: f64,
    now_ms: impl Fn() -> f64,
) -> Result<BenchRow, String> {
    use crate::optim::session::initial_y;
    use crate::optim::Adam;

    let x = initial_y(n, p, 1);
    let target = Arc::new(Target::new(&x).map_err(|e| e.to_string())?);
    let (measure, _) = registry::prepare(id, target, p).map_err(|e| e.to_string())?;
    let (canon, _) = registry::resolve(id).map_err(|e| e.to_string())?;
    let sign = match measure.direction() {
        crate::measures::Direction::Similarity => -1.0,
        crate::measures::Direction::Distance => 1.0,
    };
    let mut y = initial_y(n, p, 2);
    let mut grad = DMatrix::zeros(n, p);
    let mut adam = Adam::new(0.1);
    let mut step = |y: &mut DMatrix<f64>, grad: &mut DMatrix<f64>| {
        measure.score_and_grad(y, grad);
        *grad *= sign;
        adam.step(y, grad);
    };
    for _ in 0..warmup {
        step(&mut y, &mut grad);
    }
    let start = now_ms();
    let mut times = Vec::new();
    while times.len() < max_steps
        && (times.len() < min_steps || (now_ms() - start) * 1e-3 < budget_s)
    {
        let t0 = now_ms();
        step(&mut y, &mut grad);
        times.push(now_ms() - t0);
    }
    times.sort_by(f64::total_cmp);
    let k = times.len();
    if k == 0 {
        return Err("no step was timed (max_steps is 0)".into());
    }
    let median = if !k.is_multiple_of(2) {
        times[k / 2]
    } else {
        0.5 * (times[k / 2 - 1] + times[k / 2])
    };
    Ok(BenchRow {
        measure: canon,
        n,
        p,
        median_ms: median,
        steps: k,
    })
}

/// Measured double-precision matrix-multiply rate (GFLOP/s) of this build on one core, for
/// a d×d·d×d product (median of a few repetitions).
#[cfg(not(target_arch = "wasm32"))]
pub fn dgemm_gflops(d: usize) -> f64 {
    use std::time::Instant;

    use crate::linalg::{gemm, Op};
    use crate::optim::session::initial_y;

    let a = initial_y(d, d, 3);
    let b = initial_y(d, d, 4);
    let mut c = DMatrix::zeros(d, d);
    gemm(1.0, &a, Op::N, &b, Op::N, 0.0, &mut c);
    let mut t: Vec<f64> = (0..5)
        .map(|_| {
            let t0 = Instant::now();
            gemm(1.0, &a, Op::N, &b, Op::N, 0.0, &mut c);
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    2.0 * (d as f64).powi(3) / t[2] / 1e9
}

/// The authors' fastest 1-thread median ms per step from `perf_baseline.json` (float32,
/// PyTorch CPU, same machine kind), for the measures they timed.
pub fn authors_baseline_ms(id: &str, n: usize, p: usize) -> Option<f64> {
    // Extracted from tests/fixtures/reference/perf_baseline.json: min over its runs of the
    // torch_threads = 1 rows (`nbs-angular-score` there is our `procrustes-angular-score`
    // alias; the direct `procrustes-angular-score` row is the faster of the two and is used).
    const ROWS: &[(&str, usize, usize, f64)] = &[
        ("cka", 100, 20, 2.423),
        ("cka", 500, 100, 72.433),
        ("cka", 1080, 200, 609.344),
        ("cka", 2000, 500, 4238.997),
        ("nbs", 100, 20, 2.345),
        ("nbs", 500, 100, 69.036),
        ("nbs", 1080, 200, 619.213),
        ("nbs", 2000, 500, 4214.901),
        ("procrustes-angular-score", 100, 20, 1.159),
        ("procrustes-angular-score", 500, 100, 7.683),
        ("procrustes-angular-score", 1080, 200, 39.869),
        ("procrustes-angular-score", 2000, 500, 363.446),
        ("linreg", 100, 20, 0.826),
        ("linreg", 500, 100, 3.468),
        ("linreg", 1080, 200, 13.494),
        ("linreg", 2000, 500, 127.740),
    ];
    ROWS.iter()
        .find(|r| r.0 == id && r.1 == n && r.2 == p)
        .map(|r| r.3)
}
