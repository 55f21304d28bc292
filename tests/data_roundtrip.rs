//! Write → read round trips for every dtype, order, endianness and format version.
#![cfg(not(target_arch = "wasm32"))] // native only: reads files and runs the CLI

use simscope::data::npy::{read_npy, write_npy_as, write_npy_strings};
use simscope::data::npz::{read_npz, write_npz};

fn values_for(descr: &str, n: usize) -> Vec<f64> {
    let kind = descr.trim_start_matches(['<', '>', '|']);
    (0..n)
        .map(|i| {
            let i = i as f64;
            match kind {
                "b1" => (i as usize % 2) as f64,
                "i1" => [-128.0, 127.0, -1.0, 0.0][i as usize % 4] + 0.0 * i,
                "u1" => [0.0, 255.0, 7.0][i as usize % 3],
                "i2" => [-32768.0, 32767.0, -5.0][i as usize % 3],
                "u2" => [0.0, 65535.0, 300.0][i as usize % 3],
                "i4" => [-2147483648.0, 2147483647.0, -70000.0][i as usize % 3],
                "u4" => [0.0, 4294967295.0, 70000.0][i as usize % 3],
                "i8" => {
                    [-(2f64.powi(53)), 2f64.powi(53), -(2f64.powi(62)), 12345.0][i as usize % 4]
                }
                "u8" => [0.0, 2f64.powi(53), 2f64.powi(63), 99.0][i as usize % 4],
                "f2" => [65504.0, -2f64.powi(-24), 0.333251953125, -0.0][i as usize % 4],
                "f4" => [
                    f32::MAX as f64,
                    f32::MIN_POSITIVE as f64,
                    0.1f32 as f64,
                    1e-45f32 as f64,
                ][i as usize % 4],
                _ => [f64::MAX, f64::MIN_POSITIVE, 0.1, 5e-324, -1.5][i as usize % 5] - 0.0 * i,
            }
        })
        .collect()
}

#[test]
fn every_dtype_order_endianness_and_version() {
    let codes = [
        "b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8",
    ];
    let shapes: [&[usize]; 4] = [&[3, 4], &[2, 3, 4], &[5], &[1, 2, 1, 3]];
    let mut n_cases = 0;
    for code in codes {
        let orders: &[&str] = if matches!(code, "b1" | "i1" | "u1") {
            &["|"]
        } else {
            &["<", ">"]
        };
        for order in orders {
            let descr = format!("{order}{code}");
            for shape in shapes {
                for fortran in [false, true] {
                    for major in [1u8, 2, 3] {
                        let n: usize = shape.iter().product();
                        let vals = values_for(&descr, n);
                        let bytes = write_npy_as(shape, &vals, &descr, fortran, major).unwrap();
                        assert_eq!(bytes[6], major);
                        let a = read_npy(&bytes)
                            .unwrap_or_else(|e| panic!("{descr} {shape:?} F={fortran}: {e}"));
                        assert_eq!(a.shape, shape);
                        assert_eq!(a.descr, descr);
                        assert_eq!(a.fortran_order, fortran);
                        for (g, w) in a.values.iter().zip(&vals) {
                            assert!(
                                g.to_bits() == w.to_bits(),
                                "{descr} {shape:?} F={fortran}: {g} != {w}"
                            );
                        }
                        n_cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(n_cases, (3 + 9 * 2) * 4 * 2 * 3);
}

#[test]
fn strings_and_npz_round_trip() {
    let s: Vec<String> = ["α", "beta", "", "γγγ"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    let bytes = write_npy_strings(&[2, 2], &s);
    let a = read_npy(&bytes).unwrap();
    assert_eq!(a.descr, "<U4");
    assert_eq!(a.strings, s);
    let f = write_npy_as(&[2, 2], &[1.0, 2.0, 3.0, 4.0], ">f4", true, 1).unwrap();
    let z = write_npz(&[("X", f), ("label_s", bytes)]);
    let (arrays, _) = read_npz(&z).unwrap();
    assert_eq!(arrays[0].array.values, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(arrays[1].array.strings, s);
}
