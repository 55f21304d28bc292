//! `simscope datasets [--json]`: the built-in datasets.

use serde_json::json;
use simscope::data::datasets;

use crate::common::CliError;

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    use lexopt::prelude::*;
    let mut as_json = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("json") => as_json = true,
            other => return Err(other.unexpected().into()),
        }
    }
    let all = datasets::catalogue();
    if as_json {
        println!("{}", json!(all));
        return Ok(());
    }
    for d in &all {
        let shape: Vec<String> = d.shape.iter().map(|s| s.to_string()).collect();
        println!(
            "{:<22} ({}){}  labels: {}",
            d.name,
            shape.join(", "),
            if d.synthetic { "  [synthetic]" } else { "" },
            d.labels.join(", ")
        );
        println!("    {}", d.description);
    }
    println!("\n(`simscope datasets --json` for citations, provenance and licences)");
    Ok(())
}
