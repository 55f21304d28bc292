//! Adam with PyTorch semantics (spec §3.3): β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias-corrected
//! moments, ε added to √v̂ (not to v̂), no weight decay; t counts steps actually taken.

use nalgebra::DMatrix;

#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    m: DMatrix<f64>,
    v: DMatrix<f64>,
    t: i32,
}

impl Adam {
    /// Adam with PyTorch's default β and ε.
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: DMatrix::zeros(0, 0),
            v: DMatrix::zeros(0, 0),
            t: 0,
        }
    }

    /// Number of updates taken so far.
    pub fn steps_taken(&self) -> i32 {
        self.t
    }

    /// One update of `param` given the gradient of the *loss* (to be minimised).
    pub fn step(&mut self, param: &mut DMatrix<f64>, grad: &DMatrix<f64>) {
        if self.m.shape() != param.shape() {
            self.m = DMatrix::zeros(param.nrows(), param.ncols());
            self.v = DMatrix::zeros(param.nrows(), param.ncols());
        }
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let bc1 = 1.0 - b1.powi(self.t);
        let bc2 = 1.0 - b2.powi(self.t);
        for ((p, g), (m, v)) in param
            .iter_mut()
            .zip(grad.iter())
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let m_hat = *m / bc1;
            let v_hat = *v / bc2;
            *p -= self.lr * m_hat / (v_hat.sqrt() + self.eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three steps on f(x) = x² from x = 1 with lr 0.1, worked by hand (g = 2x):
    /// t=1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4 → x = 1 − 0.1·2/(2 + 1e-8) = 0.9000000005
    /// t=2: g = 1.800000001, m = 0.3600000001, v = 0.0072360000036,
    ///      m̂ = 1.89473684263, v̂ = 3.61980990675 → x = 0.80041222869179
    /// t=3: g = 1.60082445738, m = 0.48408244583, v = 0.00979140294695,
    ///      m̂ = 1.78628208793, v̂ = 3.26706696026 → x = 0.70158627294603
    #[test]
    fn three_steps_match_a_hand_computation() {
        let mut x = DMatrix::from_element(1, 1, 1.0);
        let mut opt = Adam::new(0.1);
        for want in [0.9000000005, 0.800_412_228_691_79, 0.701_586_272_946_03] {
            let g = DMatrix::from_element(1, 1, 2.0 * x[(0, 0)]);
            opt.step(&mut x, &g);
            assert!(
                (x[(0, 0)] - want).abs() < 1e-12,
                "{} vs {}",
                x[(0, 0)],
                want
            );
        }
        assert_eq!(opt.steps_taken(), 3);
    }
}
