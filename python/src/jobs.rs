//! Driving the core's jobs from Python: the GIL is released while the job works, and taken
//! back between slices of ~100 ms to answer Ctrl-C (a `KeyboardInterrupt`, as in any NumPy
//! call) and to call the user's `progress(done, total, what)`. A job's result does not
//! depend on how it is sliced (`simscope::analysis::job`), so this gives the CLI's numbers.
//!
//! Binding a new job is one call: `run_to_result(py, progress, || TheJob::new(…))`.

use std::time::Instant;

use pyo3::prelude::*;
use simscope::analysis::{Budget, Job};

use crate::error;

/// Length of one slice of work between two looks at Ctrl-C and progress.
const SLICE_MS: f64 = 100.0;

/// Build the job with `make` and run it to its end with the GIL released. After each slice,
/// `each` may take what the job produced so far (its notes, the steps it recorded); at the
/// end `finish` turns the finished job into the output (most jobs: [`Job::result`]).
pub fn run_job<J, T, F, E, R>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    make: F,
    mut each: E,
    finish: R,
) -> PyResult<T>
where
    J: Job,
    T: Send,
    F: FnOnce() -> Result<J, String> + Send,
    E: FnMut(&mut J) + Send,
    R: FnOnce(J) -> Option<T> + Send,
{
    py.detach(move || {
        let mut job = make().map_err(error)?;
        let start = Instant::now();
        let clock = move || start.elapsed().as_secs_f64() * 1e3;
        while !job.is_done() {
            job.advance(&mut Budget::millis(&clock, SLICE_MS))
                .map_err(error)?;
            each(&mut job);
            let p = job.progress();
            Python::attach(|py| {
                py.check_signals()?;
                if let Some(f) = &progress {
                    f.call1(py, (p.done, p.total, p.what))?;
                }
                Ok::<_, PyErr>(())
            })?;
        }
        finish(job).ok_or_else(|| error("the job ended without a result"))
    })
}

/// [`run_job`] for a job whose output is all that is wanted.
pub fn run_to_result<J, F>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    make: F,
) -> PyResult<J::Output>
where
    J: Job,
    J::Output: Send,
    F: FnOnce() -> Result<J, String> + Send,
{
    run_job(py, progress, make, |_| {}, Job::result)
}

/// A throttle for the callbacks of the core's callback-style analyses (pruning, until it
/// becomes a job in `analysis/`): at most every [`SLICE_MS`], look at Ctrl-C and report
/// progress. The first error is kept for the caller to raise.
pub struct Ticker {
    last: Instant,
    progress: Option<Py<PyAny>>,
    pub failed: Option<PyErr>,
}

impl Ticker {
    pub fn new(progress: Option<Py<PyAny>>) -> Self {
        Ticker {
            last: Instant::now(),
            progress,
            failed: None,
        }
    }

    /// Returns false once Ctrl-C was pressed or the progress callback raised.
    pub fn tick(&mut self, done: usize, total: usize, what: impl FnOnce() -> String) -> bool {
        if self.failed.is_some() {
            return false;
        }
        if self.last.elapsed().as_secs_f64() * 1e3 < SLICE_MS && done < total {
            return true;
        }
        self.last = Instant::now();
        let r = Python::attach(|py| {
            py.check_signals()?;
            if let Some(f) = &self.progress {
                f.call1(py, (done, total, what()))?;
            }
            Ok::<_, PyErr>(())
        });
        match r {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }
}
