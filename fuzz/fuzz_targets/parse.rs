//! Every reader of user files must return (Ok or a DataError) on any input, never panic or
//! hang. The first byte picks the entry point, so one corpus exercises them all.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simscope::data::{npy, npz, read_labels, read_recording};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel % 8 {
        0 => {
            let _ = npy::read_npy(rest);
        }
        1 => {
            let _ = read_recording("x.npy", rest);
        }
        2 => {
            let _ = npz::read_npz(rest);
            let _ = read_recording("x.npz", rest);
        }
        3 => {
            let _ = read_labels("l.npy", rest, 8);
        }
        4 => {
            let _ = read_labels("l.csv", rest, 8);
        }
        5 => {
            let _ = read_recording("x.mat", rest);
            let _ = read_labels("l.mat", rest, 8);
        }
        6 => {
            let _ = read_recording("x.csv", rest);
        }
        _ => {
            let _ = read_labels("l.json", rest, 8);
        }
    }
});
