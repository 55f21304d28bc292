//! Small dense linear-algebra helpers shared by the measures and analyses.
//!
//! Everything is f64 and column-major (`nalgebra::DMatrix`). Rows are samples (flattened
//! time × condition), columns are neurons.

use nalgebra::{DMatrix, DVector};

/// Column means (one per neuron).
pub fn column_means(m: &DMatrix<f64>) -> DVector<f64> {
    let n = m.nrows().max(1) as f64;
    DVector::from_iterator(m.ncols(), m.column_iter().map(|c| c.sum() / n))
}

/// Subtract each column's mean: X_c = H X.
pub fn center_columns(m: &DMatrix<f64>) -> DMatrix<f64> {
    let mut c = m.clone();
    center_columns_mut(&mut c);
    c
}

/// In-place column centring. Also used on gradients (spec §1.2: ∂f/∂Y = H ∂f/∂Y_c).
pub fn center_columns_mut(m: &mut DMatrix<f64>) {
    let n = m.nrows().max(1) as f64;
    for mut col in m.column_iter_mut() {
        let mean = col.sum() / n;
        col.add_scalar_mut(-mean);
    }
}

/// Squared Frobenius norm.
pub fn frob2(m: &DMatrix<f64>) -> f64 {
    m.iter().map(|v| v * v).sum()
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

/// The one strided f64 product every other routine here calls: `matrixmultiply` (AVX/FMA
/// kernels natively, scalar in the fallback wasm), or our own simd128 kernel in the SIMD wasm,
/// where `matrixmultiply` has none for f64.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use matrixmultiply::dgemm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd128::dgemm;

/// Whether an operand of [`gemm`] is used as is or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    N,
    T,
}

fn strides(m: &DMatrix<f64>, op: Op) -> (usize, usize, isize, isize) {
    // Column-major storage: element (i, j) at i + j·nrows.
    let (r, c) = m.shape();
    let ld = r.max(1) as isize;
    match op {
        Op::N => (r, c, 1, ld),
        Op::T => (c, r, ld, 1),
    }
}

/// C ← α·op(A)·op(B) + β·C, through [`dgemm`] (blocked, SIMD) with strides, so a
/// transposed operand is never copied. `c` must already have the result's shape.
pub fn gemm(
    alpha: f64,
    a: &DMatrix<f64>,
    ta: Op,
    b: &DMatrix<f64>,
    tb: Op,
    beta: f64,
    c: &mut DMatrix<f64>,
) {
    let (m, k, rsa, csa) = strides(a, ta);
    let (k2, n, rsb, csb) = strides(b, tb);
    assert_eq!(k, k2, "gemm: inner dimensions differ");
    assert_eq!(c.shape(), (m, n), "gemm: output has the wrong shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        *c *= beta;
        return;
    }
    let ldc = m as isize;
    // SAFETY: the pointers and strides describe exactly the column-major storage of `a`, `b`
    // and `c`, whose shapes were checked above; `c` is borrowed mutably and does not alias.
    unsafe {
        dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            1,
            ldc,
        );
    }
}

/// op(A)·op(B) into a new matrix.
pub fn mul(a: &DMatrix<f64>, ta: Op, b: &DMatrix<f64>, tb: Op) -> DMatrix<f64> {
    let m = if ta == Op::N { a.nrows() } else { a.ncols() };
    let n = if tb == Op::N { b.ncols() } else { b.nrows() };
    let mut c = DMatrix::zeros(m, n);
    gemm(1.0, a, ta, b, tb, 0.0, &mut c);
    c
}

/// The Gram matrix AᵀA (`Op::T`, ncols × ncols) or AAᵀ (`Op::N`, nrows × nrows), computing
/// only the lower block triangle (half the flops of a plain product) and mirroring it.
pub fn gram(a: &DMatrix<f64>, side: Op) -> DMatrix<f64> {
    // G = op(A)ᵀ-style: with side T, G_ij = ⟨a_i, a_j⟩ over columns; with N, over rows.
    let d = match side {
        Op::T => a.ncols(),
        Op::N => a.nrows(),
    };
    let inner = if side == Op::T { a.nrows() } else { a.ncols() };
    let mut g = DMatrix::zeros(d, d);
    if d == 0 || inner == 0 {
        return g;
    }
    const BLK: usize = 96;
    let (rsa, csa) = (1isize, a.nrows().max(1) as isize);
    let ldg = d as isize;
    let mut j0 = 0;
    while j0 < d {
        let nb = BLK.min(d - j0);
        // Rows j0.. of G, columns j0..j0+nb: the block column from the diagonal down.
        let m = d - j0;
        // Operand 1 (m × inner): rows j0.. of op = (Aᵀ or A).
        // Operand 2 (inner × nb): columns j0..j0+nb of (A or Aᵀ).
        let (p1, rs1, cs1, p2, rs2, cs2) = match side {
            // op1 = Aᵀ rows j0.. → Aᵀ[(i,k)] = A[(k, j0+i)]: ptr A[0, j0], rs = csa, cs = rsa.
            Op::T => unsafe {
                (
                    a.as_ptr().add(j0 * a.nrows().max(1)),
                    csa,
                    rsa,
                    a.as_ptr().add(j0 * a.nrows().max(1)),
                    rsa,
                    csa,
                )
            },
            // op1 = A rows j0.. : ptr A[j0, 0]; op2 = Aᵀ cols j0.. → Aᵀ[(k, j)] = A[(j0+j, k)].
            Op::N => unsafe { (a.as_ptr().add(j0), rsa, csa, a.as_ptr().add(j0), csa, rsa) },
        };
        // SAFETY: every pointer offset stays inside `a` (j0 < d) and the strides walk only its
        // elements; the output block G[j0.., j0..j0+nb] lies inside `g`.
        unsafe {
            dgemm(
                m,
                inner,
                nb,
                1.0,
                p1,
                rs1,
                cs1,
                p2,
                rs2,
                cs2,
                0.0,
                g.as_mut_ptr().add(j0 + j0 * d),
                1,
                ldg,
            );
        }
        j0 += nb;
    }
    for j in 0..d {
        for i in 0..j {
            g[(i, j)] = g[(j, i)];
        }
    }
    g
}

fn view(m: &DMatrix<f64>) -> faer::MatRef<'_, f64> {
    faer::MatRef::from_column_major_slice(m.as_slice(), m.nrows(), m.ncols())
}

fn from_faer(m: faer::MatRef<'_, f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| *m.get(i, j))
}

/// Eigen-decomposition of a symmetric matrix (lower triangle read), eigenvalues in decreasing
/// order with the matching eigenvectors as columns. Uses faer's blocked tridiagonal solver
/// (about 4× faster than nalgebra's at 500 × 500, docs/benchmarks.md); nalgebra if it fails.
pub fn sym_eigen(m: DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let n = m.nrows();
    if n == 0 {
        return (DVector::zeros(0), DMatrix::zeros(0, 0));
    }
    if m.iter().any(|v| !v.is_finite()) {
        // Non-finite input has no decomposition: NaN eigenvalues, never a hang or a panic.
        return (DVector::from_element(n, f64::NAN), DMatrix::identity(n, n));
    }
    if let Ok(e) = view(&m).self_adjoint_eigen(faer::Side::Lower) {
        let (s, u) = (e.S().column_vector(), e.U());
        // faer returns ascending eigenvalues: reverse.
        let vals = DVector::from_fn(n, |j, _| *s.get(n - 1 - j));
        let vecs = DMatrix::from_fn(n, n, |i, j| *u.get(i, n - 1 - j));
        return (vals, vecs);
    }
    let eig = m.symmetric_eigen();
    let mut order: Vec<usize> = (0..eig.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let vals = DVector::from_iterator(order.len(), order.iter().map(|&k| eig.eigenvalues[k]));
    let vecs = DMatrix::from_fn(n, order.len(), |i, j| eig.eigenvectors[(i, order[j])]);
    (vals, vecs)
}

/// ‖AᵀA‖_F (= ‖AAᵀ‖_F) from the smaller of the two Gram matrices.
pub fn gram_norm(a: &DMatrix<f64>) -> f64 {
    if a.ncols() <= a.nrows() {
        gram(a, Op::T).norm()
    } else {
        gram(a, Op::N).norm()
    }
}

/// The singular values of A (decreasing), without the vectors (faer; NaN if A is not finite).
pub fn singular_values(a: &DMatrix<f64>) -> Vec<f64> {
    let k = a.nrows().min(a.ncols());
    if a.iter().any(|v| !v.is_finite()) {
        return vec![f64::NAN; k];
    }
    match view(a).singular_values() {
        Ok(s) => s,
        Err(_) => thin_svd(a).1.iter().copied().collect(),
    }
}

/// Thin SVD A = U diag(s) Vᵀ (k = min(m, n) columns), singular values in decreasing order.
pub fn thin_svd(a: &DMatrix<f64>) -> (DMatrix<f64>, DVector<f64>, DMatrix<f64>) {
    let k = a.nrows().min(a.ncols());
    if k == 0 {
        return (
            DMatrix::zeros(a.nrows(), 0),
            DVector::zeros(0),
            DMatrix::zeros(a.ncols(), 0),
        );
    }
    if a.iter().any(|v| !v.is_finite()) {
        let (u, v) = (
            DMatrix::identity(a.nrows(), k),
            DMatrix::identity(a.ncols(), k),
        );
        return (u, DVector::from_element(k, f64::NAN), v);
    }
    if let Ok(svd) = view(a).thin_svd() {
        let s = svd.S().column_vector();
        return (
            from_faer(svd.U()),
            DVector::from_fn(k, |i, _| *s.get(i)),
            from_faer(svd.V()),
        );
    }
    let svd = a.clone().svd(true, true);
    let (u, vt) = (svd.u.expect("requested U"), svd.v_t.expect("requested Vᵀ"));
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&x, &y| svd.singular_values[y].total_cmp(&svd.singular_values[x]));
    (
        DMatrix::from_fn(a.nrows(), k, |i, j| u[(i, order[j])]),
        DVector::from_fn(k, |j, _| svd.singular_values[order[j]]),
        DMatrix::from_fn(a.ncols(), k, |i, j| vt[(order[j], i)]),
    )
}

/// Cholesky factorisation M = LLᵀ of a symmetric positive-definite matrix (faer's blocked
/// kernel: about 20× faster than nalgebra's at 500 × 500 with 500 right-hand sides).
pub struct Llt(faer::linalg::solvers::Llt<f64>);

impl Llt {
    /// Factorise `m`; `None` if it is not positive definite or a pivot L_ii² falls below
    /// `rtol` times the largest diagonal entry (numerically singular).
    pub fn new(m: &DMatrix<f64>, rtol: f64) -> Option<Self> {
        let dmax = m.diagonal().iter().cloned().fold(0.0, f64::max);
        if !dmax.is_finite() || dmax <= 0.0 {
            return None;
        }
        let llt = view(m).llt(faer::Side::Lower).ok()?;
        let l = llt.L();
        let ok = (0..l.nrows()).all(|i| {
            let d = *l.get(i, i);
            d * d > rtol * dmax
        });
        ok.then_some(Llt(llt))
    }

    /// M⁻¹·rhs.
    pub fn solve(&self, rhs: &DMatrix<f64>) -> DMatrix<f64> {
        use faer::linalg::solvers::SolveCore;
        let mut x = rhs.clone();
        let (r, c) = x.shape();
        self.0.solve_in_place_with_conj(
            faer::Conj::No,
            faer::MatMut::from_column_major_slice_mut(x.as_mut_slice(), r, c),
        );
        x
    }
}

/// Frobenius inner product ⟨A, B⟩ = tr(AᵀB).
pub fn dot(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// The first `k` columns of `m` with column j scaled by `w[j]`.
pub fn scale_columns(m: &DMatrix<f64>, w: &[f64]) -> DMatrix<f64> {
    let mut out = m.columns(0, w.len()).into_owned();
    for (mut col, &wj) in out.column_iter_mut().zip(w) {
        col *= wj;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
        let mut r = Rng::new(seed);
        DMatrix::from_fn(n, p, |_, _| r.normal())
    }

    #[test]
    fn gemm_and_gram_agree_with_nalgebra() {
        let a = random(37, 211, 1);
        let b = random(37, 5, 2);
        assert!((mul(&a, Op::T, &b, Op::N) - a.transpose() * &b).norm() < 1e-11);
        let c = random(5, 211, 3);
        assert!((mul(&b, Op::N, &c, Op::N) - &b * &c).norm() < 1e-11);
        assert!((mul(&c, Op::T, &b, Op::T) - c.transpose() * b.transpose()).norm() < 1e-11);
        assert!((gram(&a, Op::T) - a.transpose() * &a).norm() < 1e-10);
        assert!((gram(&a, Op::N) - &a * a.transpose()).norm() < 1e-10);
        let mut acc = b.clone();
        gemm(2.0, &a, Op::N, &c, Op::T, -1.0, &mut acc);
        assert!((acc - (&a * c.transpose() * 2.0 - &b)).norm() < 1e-10);
    }

    /// Every operand layout, alpha and beta, with shapes that cross each blocking edge of the
    /// SIMD kernel (MC = 64 rows, KC = 256 inner, NC = 1024 columns, 4 × 4 tiles), against the
    /// textbook triple loop. Runs natively and in the wasm test layer, which is built with
    /// `+simd128` so it checks our own kernel there.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn gemm_matches_the_triple_loop_across_block_edges() {
        let naive = |a: &DMatrix<f64>, ta: Op, b: &DMatrix<f64>, tb: Op| {
            let a = if ta == Op::T {
                a.transpose()
            } else {
                a.clone()
            };
            let b = if tb == Op::T {
                b.transpose()
            } else {
                b.clone()
            };
            DMatrix::from_fn(a.nrows(), b.ncols(), |i, j| {
                (0..a.ncols()).map(|q| a[(i, q)] * b[(q, j)]).sum::<f64>()
            })
        };
        let shaped = |rows: usize, cols: usize, op: Op, seed: u64| match op {
            Op::N => random(rows, cols, seed),
            Op::T => random(cols, rows, seed),
        };
        for (m, k, n) in [(66, 260, 9), (5, 7, 1030), (3, 1, 5), (1, 513, 1)] {
            for ta in [Op::N, Op::T] {
                for tb in [Op::N, Op::T] {
                    let a = shaped(m, k, ta, 10);
                    let b = shaped(k, n, tb, 11);
                    let want = naive(&a, ta, &b, tb);
                    let c0 = random(m, n, 12);
                    let mut c = c0.clone();
                    gemm(0.7, &a, ta, &b, tb, -1.3, &mut c);
                    let err = (&c - (&want * 0.7 - &c0 * 1.3)).amax();
                    assert!(
                        err < 1e-12 * (k as f64).sqrt() * 10.0,
                        "{m}×{k}×{n} {ta:?}{tb:?}: {err}"
                    );
                    // β = 0 overwrites: NaN already in C must not leak into the result.
                    let mut c = DMatrix::from_element(m, n, f64::NAN);
                    gemm(1.0, &a, ta, &b, tb, 0.0, &mut c);
                    assert!((&c - &want).amax() < 1e-11, "{m}×{k}×{n} {ta:?}{tb:?} β=0");
                }
            }
        }
        let mut c = random(4, 3, 13);
        let want = &c * 2.0;
        gemm(
            1.0,
            &DMatrix::zeros(4, 0),
            Op::N,
            &DMatrix::zeros(0, 3),
            Op::N,
            2.0,
            &mut c,
        );
        assert_eq!(c, want);
    }

    #[test]
    fn sym_eigen_is_sorted_and_reconstructs() {
        let a = random(9, 6, 4);
        let g = a.transpose() * &a;
        let (vals, vecs) = sym_eigen(g.clone());
        assert!(vals.as_slice().windows(2).all(|w| w[0] >= w[1]));
        let rec = &vecs * DMatrix::from_diagonal(&vals) * vecs.transpose();
        assert!((rec - g).norm() < 1e-10);
    }
}
