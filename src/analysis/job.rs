//! The one shape of every long analysis: a resumable state machine.
//!
//! A job is built with its inputs (`new`), then [`Job::advance`]d by a [`Budget`] until
//! [`Job::is_done`]; [`Job::progress`] says where it is and [`Job::result`] hands over the
//! output. Each face drives the same job: the CLI and the Python package loop it to the end
//! with an unlimited budget ([`run_to_end`]), the page's worker advances it by ~30 ms slices
//! so a Cancel, a Step or another panel's request waits at most one slice. Because the work
//! is cut into units *inside* the job, the faces cannot compute different numbers.
//!
//! Rules for a job (the tests of each job check the first two):
//! * the result does not depend on the budget: advancing by one unit at a time, by slices of
//!   any length or to the end in one call gives the same output bit for bit;
//! * `advance` does at least one unit of work when the job is not done (so any budget makes
//!   progress) and returns as soon as the budget is spent after a unit;
//! * a unit is small: one optimiser update, one cross-validation fold, one greedy step, one
//!   perturbed PC. Nothing inside a unit waits for the clock.

use serde::{Deserialize, Serialize};

/// How much work one call to [`Job::advance`] may do. A job calls [`Budget::spent`] after each
/// unit of work and returns when it says so.
pub struct Budget<'a> {
    units_left: Option<usize>,
    clock: Option<(&'a dyn Fn() -> f64, f64)>,
}

impl<'a> Budget<'a> {
    /// Run to the end (the CLI and Python).
    pub fn unlimited() -> Self {
        Budget {
            units_left: None,
            clock: None,
        }
    }

    /// At most `n` units (n ≥ 1; 0 is taken as 1, since a call always does one unit).
    pub fn units(n: usize) -> Self {
        Budget {
            units_left: Some(n.max(1)),
            clock: None,
        }
    }

    /// Until `ms` milliseconds have passed on `clock` (milliseconds, monotonic), checked
    /// after each unit: the page's worker slices.
    pub fn millis(clock: &'a dyn Fn() -> f64, ms: f64) -> Self {
        Budget {
            units_left: None,
            clock: Some((clock, clock() + ms)),
        }
    }

    /// Whether the budget is spent, without counting a unit (a job that finished within its
    /// slice asks before starting the next piece of work).
    pub fn is_spent(&self) -> bool {
        self.units_left == Some(0)
            || self
                .clock
                .is_some_and(|(clock, deadline)| clock() >= deadline)
    }

    /// One unit was done: whether the budget is now spent.
    pub fn spent(&mut self) -> bool {
        if let Some(n) = self.units_left.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                return true;
            }
        }
        match self.clock {
            Some((clock, deadline)) => clock() >= deadline,
            None => false,
        }
    }
}

/// Where a job is: `done` of `total` units of its own kind (runs, targets, folds, PCs), and
/// what it is doing now in words ("cka seed 1", "target 5/12").
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub what: String,
}

impl Progress {
    /// The fraction done, in [0, 1] (1 for a job of no units).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }
}

/// A resumable analysis. `Output` is what the CLI prints and the page shows.
pub trait Job {
    type Output;

    /// Do units of work until the job is done or `budget` is spent (at least one unit when
    /// not done). An error ends the job: it is then done and has no result.
    fn advance(&mut self, budget: &mut Budget) -> Result<(), String>;

    /// Where the job is.
    fn progress(&self) -> Progress;

    /// Whether there is no work left.
    fn is_done(&self) -> bool;

    /// The output, once done (`None` before).
    fn result(self) -> Option<Self::Output>
    where
        Self: Sized;
}

/// Drive `job` to its end, calling `on_progress` after every unit (the CLI's progress lines
/// throttle themselves), and return its output.
pub fn run_to_end<J: Job>(
    mut job: J,
    mut on_progress: impl FnMut(&Progress),
) -> Result<J::Output, String> {
    while !job.is_done() {
        job.advance(&mut Budget::units(1))?;
        on_progress(&job.progress());
    }
    job.result()
        .ok_or_else(|| "the job ended without a result".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums 1..=n one number per unit.
    struct Sum {
        next: u64,
        n: u64,
        total: u64,
    }

    impl Job for Sum {
        type Output = u64;
        fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
            while !self.is_done() {
                self.total += self.next;
                self.next += 1;
                if budget.spent() {
                    break;
                }
            }
            Ok(())
        }
        fn progress(&self) -> Progress {
            Progress {
                done: (self.next - 1) as usize,
                total: self.n as usize,
                what: String::new(),
            }
        }
        fn is_done(&self) -> bool {
            self.next > self.n
        }
        fn result(self) -> Option<u64> {
            self.is_done().then_some(self.total)
        }
    }

    fn sum(n: u64) -> Sum {
        Sum {
            next: 1,
            n,
            total: 0,
        }
    }

    #[test]
    fn budgets_bound_the_work_and_never_change_the_result() {
        let mut a = sum(10);
        a.advance(&mut Budget::units(3)).unwrap();
        assert_eq!(a.progress().done, 3);
        a.advance(&mut Budget::units(0)).unwrap();
        assert_eq!(a.progress().done, 4, "a call always does one unit");
        a.advance(&mut Budget::unlimited()).unwrap();
        assert_eq!(a.result(), Some(55));
        assert_eq!(run_to_end(sum(10), |_| {}).unwrap(), 55);
        // A clock that is always past the deadline still gives one unit per call.
        let t = std::cell::Cell::new(0.0);
        let clock = || {
            t.set(t.get() + 100.0);
            t.get()
        };
        let mut b = sum(4);
        b.advance(&mut Budget::millis(&clock, 30.0)).unwrap();
        assert_eq!(b.progress().done, 1);
        assert!(sum(3).result().is_none(), "no result before the end");
    }
}
