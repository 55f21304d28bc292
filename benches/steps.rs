//! Per-step cost of an optimisation step (score + gradient + Adam update).
//! Run with `cargo bench`; figures go into the README with machine and date.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::sync::Arc;
    use std::time::Instant;

    use simscope::measures::cka::Cka;
    use simscope::optim::session::{initial_y, Session};
    use simscope::target::Target;

    println!("{:<8} {:>6} {:>5} {:>12}", "measure", "n", "p", "median_ms");
    for (n, p) in [(100, 20), (500, 100), (1080, 200), (2000, 500)] {
        let x = initial_y(n, p, 1);
        let target = Arc::new(Target::new(&x).expect("random X is a valid target"));
        let mut s = Session::new(
            target.clone(),
            Box::new(Cka::new(target)),
            initial_y(n, p, 2),
            0.1,
        );
        s.step(3);
        let mut times: Vec<f64> = (0..30)
            .map(|_| {
                let t0 = Instant::now();
                s.step(1);
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{:<8} {:>6} {:>5} {:>12.4}",
            "cka",
            n,
            p,
            times[times.len() / 2]
        );
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
