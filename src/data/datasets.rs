//! Built-in datasets. `toy2d` is the paper's 2-neuron toy (spec §8.1), used for the
//! animations of Fig 1.

use super::{Recording, TaskVariable};

/// Base curve X₀ of `toy2d`: 10 time-ordered 2-D points (spec §8.1).
const TOY2D_BASE: [[f64; 2]; 10] = [
    [0.01, 0.01],
    [0.4, 0.3],
    [0.7, 0.5],
    [0.88, 0.613],
    [1.13, 0.68],
    [1.43, 0.73],
    [1.68, 0.6],
    [1.86, 0.473],
    [1.97, 0.24],
    [2.02, 0.04],
];

/// The paper's toy dataset with stretch `a` (paper default 0.5): shape (T=10, C=6, N=2).
///
/// Conditions: X₀·diag(1, 1+ka) for k = 0, 1, 2, then the same mirrored through the origin
/// (R(π) = −I). Labels: choice (−1 ×3, +1 ×3) and stimulus (−3 … 3).
pub fn toy2d(a: f64) -> Recording {
    let (t_steps, conds) = (10usize, 6usize);
    let mut values = Vec::with_capacity(t_steps * conds * 2);
    for base in &TOY2D_BASE {
        for c in 0..conds {
            let stretch = 1.0 + (c % 3) as f64 * a;
            let sign = if c < 3 { 1.0 } else { -1.0 };
            values.push(sign * base[0]);
            values.push(sign * base[1] * stretch);
        }
    }
    let mut rec = Recording::from_c_order("toy2d", &[t_steps, conds, 2], &values);
    let strs = |v: &[i32]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    rec.labels = vec![
        TaskVariable::from_labels("choice", &strs(&[-1, -1, -1, 1, 1, 1])),
        TaskVariable::from_labels("stimulus", &strs(&[-3, -2, -1, 1, 2, 3])),
    ];
    rec
}

/// Names of the built-in datasets, in the order the page lists them.
pub const BUILTIN: &[&str] = &["toy2d"];

/// Load a built-in dataset by name.
pub fn builtin(name: &str) -> Option<Recording> {
    match name {
        "toy2d" => Some(toy2d(0.5)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toy2d_has_the_paper_shape_and_layout() {
        let r = toy2d(0.5);
        assert_eq!(r.dims, vec![10, 6, 2]);
        assert_eq!(r.data.shape(), (60, 2));
        // row = t·C + c: t = 1, c = 2 is X₀[1]·diag(1, 2).
        assert_eq!(r.data[(6 + 2, 0)], 0.4);
        assert_eq!(r.data[(6 + 2, 1)], 0.6);
        // mirrored condition c = 3 at t = 9.
        assert_eq!(r.data[(54 + 3, 0)], -2.02);
        assert_eq!(r.labels[0].class_of, vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(r.labels[1].classes.len(), 6);
    }
}
