//! f64 matrix product for the `+simd128` wasm build.
//!
//! `matrixmultiply` has wasm SIMD kernels only for f32, and faer's f64 simd128 kernel measured no
//! faster than that scalar path, so this is a small BLIS-order GEMM of our own: B packed into
//! KC × NR panels (L1-sized), A into MC × KC blocks of MR-row panels, and a 4 × 4 micro-kernel
//! holding C in eight `f64x2` registers. A 4 × 6 tile ran 40 % slower, presumably spilling
//! (V8 has 16 vector registers on x86-64). Measured in Node on this machine (2026-12-03):
//! 15–17 GFLOP/s against matrixmultiply's 5.5–7.9 for 200×1080×200, 500×2000×500 and
//! 1080×200×1080 (docs/benchmarks.md, section (b)). There is no FMA in simd128, so every product rounds as
//! `a·b` then `+`, like the scalar path; only the summation order differs from it.

use core::arch::wasm32::{f64x2_add, f64x2_mul, f64x2_splat, v128, v128_load, v128_store};

const MR: usize = 4;
const NR: usize = 4;
const KC: usize = 256;
const MC: usize = 64;
const NC: usize = 1024;

/// C ← α·A·B + β·C with the contract of `matrixmultiply::dgemm`: element (i, j) of A is at
/// `a + i·rsa + j·csa`, and likewise for B and C. β = 0 overwrites C without reading it.
///
/// # Safety
/// The pointers and strides must describe an m × k A, a k × n B and an m × n C that lie in
/// live allocations; C must not alias A or B.
#[allow(clippy::too_many_arguments)]
pub unsafe fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: *const f64,
    rsa: isize,
    csa: isize,
    b: *const f64,
    rsb: isize,
    csb: isize,
    beta: f64,
    c: *mut f64,
    rsc: isize,
    csc: isize,
) {
    let at = |i: usize, j: usize| i as isize * rsc + j as isize * csc;
    if k == 0 {
        for j in 0..n {
            for i in 0..m {
                let d = c.offset(at(i, j));
                *d = if beta == 0.0 { 0.0 } else { beta * *d };
            }
        }
        return;
    }
    // Buffers sized to this product, not to the block limits: most calls are small (a 2 MiB
    // zeroed B buffer would cost more than a 10 × 10 product itself).
    let kb = KC.min(k);
    let mut pa = vec![0.0; MC.min(m.div_ceil(MR) * MR) * kb];
    let mut pb = vec![0.0; NC.min(n.div_ceil(NR) * NR) * kb];
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let first = pc == 0;
            pack(
                kc,
                nc,
                NR,
                b.offset(pc as isize * rsb + jc as isize * csb),
                csb,
                rsb,
                &mut pb,
            );
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack(
                    kc,
                    mc,
                    MR,
                    a.offset(ic as isize * rsa + pc as isize * csa),
                    rsa,
                    csa,
                    &mut pa,
                );
                for jr in (0..nc).step_by(NR) {
                    let nr = NR.min(nc - jr);
                    for ir in (0..mc).step_by(MR) {
                        let mr = MR.min(mc - ir);
                        let t = kernel(kc, pa.as_ptr().add(ir * kc), pb.as_ptr().add(jr * kc));
                        for j in 0..nr {
                            for i in 0..mr {
                                let d = c.offset(at(ic + ir + i, jc + jr + j));
                                let v = alpha * t[i + j * MR];
                                *d = if !first {
                                    *d + v
                                } else if beta == 0.0 {
                                    v
                                } else {
                                    beta * *d + v
                                };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Packs `len` lines (rows of A, or columns of B) of a kc-long operand into panels of `w`
/// lines, each panel kc × w with the w entries of one inner index contiguous, zero-padded
/// past `len`. `line` steps between lines, `inner` along the inner dimension.
unsafe fn pack(
    kc: usize,
    len: usize,
    w: usize,
    p: *const f64,
    line: isize,
    inner: isize,
    out: &mut [f64],
) {
    let mut o = 0;
    for l0 in (0..len).step_by(w) {
        let lw = w.min(len - l0);
        for q in 0..kc {
            let src = p.offset(q as isize * inner + l0 as isize * line);
            for l in 0..w {
                out[o + l] = if l < lw {
                    *src.offset(l as isize * line)
                } else {
                    0.0
                };
            }
            o += w;
        }
    }
}

/// The MR × NR block Σ_q a_q b_qᵀ of two packed panels, column-major.
#[inline(always)]
unsafe fn kernel(kc: usize, mut a: *const f64, mut b: *const f64) -> [f64; MR * NR] {
    let z = f64x2_splat(0.0);
    let mut acc = [[z; 2]; NR];
    for _ in 0..kc {
        let a0 = v128_load(a as *const v128);
        let a1 = v128_load(a.add(2) as *const v128);
        for (j, cj) in acc.iter_mut().enumerate() {
            let bj = f64x2_splat(*b.add(j));
            cj[0] = f64x2_add(cj[0], f64x2_mul(a0, bj));
            cj[1] = f64x2_add(cj[1], f64x2_mul(a1, bj));
        }
        a = a.add(MR);
        b = b.add(NR);
    }
    let mut t = [0.0; MR * NR];
    for (j, cj) in acc.iter().enumerate() {
        v128_store(t.as_mut_ptr().add(j * MR) as *mut v128, cj[0]);
        v128_store(t.as_mut_ptr().add(j * MR + 2) as *mut v128, cj[1]);
    }
    t
}
