//! Helpers shared by the native integration tests.

use std::process::Command;

/// Run the `simscope` binary built for this test run: (exit code, stdout, stderr).
pub fn simscope(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_simscope"))
        .args(args)
        .output()
        .expect("the simscope binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
