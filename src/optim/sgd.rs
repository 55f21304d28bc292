//! Plain stochastic gradient descent with PyTorch semantics (no momentum, no weight decay):
//! Y ← Y − lr·g.

use nalgebra::DMatrix;

#[derive(Clone, Debug)]
pub struct Sgd {
    pub lr: f64,
    t: i32,
}

impl Sgd {
    pub fn new(lr: f64) -> Self {
        Sgd { lr, t: 0 }
    }

    /// Number of updates taken so far.
    pub fn steps_taken(&self) -> i32 {
        self.t
    }

    /// One update of `param` given the gradient of the *loss* (to be minimised).
    pub fn step(&mut self, param: &mut DMatrix<f64>, grad: &DMatrix<f64>) {
        self.t += 1;
        for (p, g) in param.iter_mut().zip(grad.iter()) {
            *p -= self.lr * g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_is_minus_lr_times_gradient() {
        let mut x = DMatrix::from_row_slice(1, 2, &[1.0, -2.0]);
        let g = DMatrix::from_row_slice(1, 2, &[0.5, 4.0]);
        let mut opt = Sgd::new(0.1);
        opt.step(&mut x, &g);
        assert_eq!(x, DMatrix::from_row_slice(1, 2, &[0.95, -2.4]));
        assert_eq!(opt.steps_taken(), 1);
    }
}
