//! `simscope measures [--json]`: the measure registry.

use lexopt::prelude::*;
use simscope::measures::registry::{self, Group};

use crate::common::CliError;

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let mut as_json = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("json") => as_json = true,
            other => return Err(other.unexpected().into()),
        }
    }
    let entries = registry::entries();
    if as_json {
        println!("{}", serde_json::to_string(&entries)?);
        return Ok(());
    }
    let end =
        |v: Option<f64>, inf: &str| v.map(|x| format!("{x}")).unwrap_or_else(|| inf.to_string());
    // Family by family, in the menus' order; within a family, the registry's.
    for group in Group::ALL {
        let members: Vec<_> = entries.iter().filter(|e| e.group == group).collect();
        if members.is_empty() {
            continue;
        }
        println!("== {} ==", group.label());
        for e in members {
            println!(
                "{:<30} {:<10} [{}, {}]  {}",
                e.id,
                format!("{:?}", e.direction).to_lowercase(),
                end(e.range[0], "-inf"),
                end(e.range[1], "inf"),
                e.description
            );
            if !e.aliases.is_empty() {
                println!("{:<30} aliases: {}", "", e.aliases.join(", "));
            }
            println!("{:<30} invariant to: {}", "", e.invariances.join(", "));
            if let Some(why) = &e.score_only {
                println!("{:<30} score-only: {why}", "");
            }
        }
    }
    println!("\nAlso: {}.", registry::patterns().join("; "));
    Ok(())
}
