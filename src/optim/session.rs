//! An optimisation session: a prepared target, a candidate Y, a measure and an optimiser.
//!
//! The session always holds the score and gradient of its *current* Y, so the score shown
//! after `step(n)` belongs to the Y shown, and each step costs exactly one score-and-gradient
//! evaluation.

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;

use super::Adam;
use crate::measures::{Direction, Measure};
use crate::rng::Rng;
use crate::target::Target;

/// What one call to [`Session::step`] reports.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepReport {
    /// Optimiser updates taken since the start (0 = the initial Y₀).
    pub step: usize,
    /// The optimised measure at the current Y.
    pub score: f64,
}

pub struct Session {
    pub target: Arc<Target>,
    measure: Box<dyn Measure>,
    optimizer: Adam,
    y: DMatrix<f64>,
    grad: DMatrix<f64>,
    score: f64,
    step: usize,
}

/// Y₀ ~ N(0, 1) i.i.d. with X's flattened shape, drawn row by row (C order) from `seed`.
pub fn initial_y(n: usize, q: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Rng::new(seed);
    let values: Vec<f64> = (0..n * q).map(|_| rng.normal()).collect();
    DMatrix::from_row_slice(n, q, &values)
}

impl Session {
    /// Start from a given Y₀ (n × q, the same n as the target).
    pub fn new(target: Arc<Target>, measure: Box<dyn Measure>, y0: DMatrix<f64>, lr: f64) -> Self {
        let mut grad = DMatrix::zeros(0, 0);
        let score = measure.score_and_grad(&y0, &mut grad);
        Session {
            target,
            measure,
            optimizer: Adam::new(lr),
            y: y0,
            grad,
            score,
            step: 0,
        }
    }

    /// Take `n` optimiser updates and report the state after the last one.
    pub fn step(&mut self, n: usize) -> StepReport {
        let sign = match self.measure.direction() {
            Direction::Similarity => -1.0, // maximise: loss = −score
            Direction::Distance => 1.0,
        };
        for _ in 0..n {
            self.grad *= sign;
            self.optimizer.step(&mut self.y, &self.grad);
            self.score = self.measure.score_and_grad(&self.y, &mut self.grad);
            self.step += 1;
        }
        self.report()
    }

    pub fn report(&self) -> StepReport {
        StepReport {
            step: self.step,
            score: self.score,
        }
    }

    /// The current candidate Y (flattened n × q).
    pub fn y(&self) -> &DMatrix<f64> {
        &self.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::datasets::toy2d;
    use crate::measures::cka::Cka;

    #[test]
    fn cka_on_toy2d_rises_past_0_99_and_is_deterministic() {
        let x = toy2d(0.5);
        let target = Arc::new(Target::new(&x.data).unwrap());
        let run = |seed| {
            let y0 = initial_y(60, 2, seed);
            let mut s = Session::new(target.clone(), Box::new(Cka::new(target.clone())), y0, 0.1);
            let first = s.report().score;
            (first, s.step(200))
        };
        let (first, last) = run(0);
        assert!(first < 0.9, "initial CKA {first}");
        assert!(last.score > 0.99, "CKA after 200 steps {}", last.score);
        assert_eq!(last.step, 200);
        assert_eq!(run(0).1, last);
    }
}
