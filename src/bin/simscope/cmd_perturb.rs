//! `simscope perturb`: rotate/scale one PC of X and compare measured scores with the closed
//! forms (spec §6), or run the paper's Fig 6 sweep.

use lexopt::prelude::*;
use serde_json::{json, Map, Value as Json};
use simscope::analysis::perturb::{perturb, sweep, theory, Perturbation};
use simscope::measures::registry::{self, List};

use crate::common::CliError;
use crate::common::{field, measure, num, out_dir, target, write_csv, Progress};

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut pc, mut angle, mut scale, mut seed) = (None, None, 90.0f64, 1.0f64, 0u64);
    let (mut ids, mut do_sweep, mut out, mut max_pcs) =
        (Vec::<String>::new(), false, None, usize::MAX);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("pc") => pc = Some(parser.value()?.parse::<usize>()?),
            Long("angle") => angle = parser.value()?.parse()?,
            Long("scale") => scale = parser.value()?.parse()?,
            Long("seed") => seed = parser.value()?.parse()?,
            Long("measure") => {
                for v in parser.values()? {
                    ids.push(v.string()?);
                }
            }
            Long("sweep") => do_sweep = true,
            Long("max-pcs") => max_pcs = parser.value()?.parse()?,
            Long("out") => out = Some(parser.value()?.string()?),
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| {
        CliError("perturb needs a DATA argument (a file or a built-in dataset name)".into())
    })?;
    if ids.is_empty() {
        // The three of Fig 6 plus the two other closed forms.
        ids = registry::listed_ids(List::PerturbCli);
    }
    let rec = crate::common::recording(&data)?;
    let t = target(&rec)?;
    let (r, p) = (t.rank(), t.p);
    if do_sweep && out.is_none() {
        return Err(CliError("perturb --sweep needs --out FILE.csv".into()));
    }
    let k = if do_sweep {
        1
    } else {
        pc.ok_or_else(|| CliError("perturb needs --pc K (1-based) or --sweep".into()))?
    };
    if k == 0 || k > r {
        return Err(CliError(format!(
            "--pc must be between 1 and the rank of X ({r}), got {k}"
        )));
    }
    if !angle.is_finite() || !scale.is_finite() || scale < 0.0 {
        return Err(CliError(format!(
            "--angle must be finite and --scale finite and ≥ 0 (got {angle}, {scale})"
        )));
    }
    // Canonical ids, each once (aliases resolved with a warning), as on every face.
    let (ids, warnings) = registry::resolve_list(&ids, None)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let measures = ids
        .iter()
        .map(|id| measure(id, &t, p))
        .collect::<Result<Vec<_>, _>>()?;
    if do_sweep {
        let out = out.ok_or_else(|| CliError("perturb --sweep needs --out FILE.csv".into()))?;
        if let Some(parent) = std::path::Path::new(&out)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            out_dir(&parent.to_string_lossy())?;
        }
        let mut progress = Progress::new();
        let rows = sweep(&t, &ids, &measures, max_pcs, seed, |i, m| {
            progress.say(i == m, || format!("perturb sweep: PC {i}/{m}"))
        });
        if rows.iter().any(|r| !r.exact) {
            eprintln!("warning: X has rank {r} with n = {}: no centred direction is orthogonal to every PC, so the decorrelating directions are only orthogonal to the perturbed PC and the theory is approximate", t.n);
        }
        let mut header = vec![
            "pc".to_string(),
            "variance".to_string(),
            "variance_ratio".to_string(),
        ];
        header.extend(ids.iter().map(|id| field(&format!("measured_{id}"))));
        header.extend(ids.iter().map(|id| field(&format!("theory_{id}"))));
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                let mut v = vec![
                    row.pc.to_string(),
                    num(row.variance),
                    num(row.variance_ratio),
                ];
                v.extend(row.measured.iter().map(|x| num(*x)));
                v.extend(row.theory.iter().map(|x| x.map_or(String::new(), num)));
                v
            })
            .collect();
        write_csv(std::path::Path::new(&out), &header, &table)?;
        println!(
            "{}",
            json!({"pcs": rows.len(), "out": out, "exact": rows.iter().all(|r| r.exact)})
        );
        return Ok(());
    }
    let pert = Perturbation::single(r, k - 1, angle.to_radians(), scale);
    let py = perturb(&t, &pert, seed);
    if !py.exact {
        eprintln!("warning: X has rank {r} with n = {}: no centred direction is orthogonal to every PC, so the theory is approximate", t.n);
    }
    let (mut measured, mut th) = (Map::new(), Map::new());
    for (id, m) in ids.iter().zip(&measures) {
        measured.insert(id.clone(), json!(m.score(&py.y)));
        th.insert(
            id.clone(),
            theory(&t, &pert, id).map_or(Json::Null, |v| json!(v)),
        );
    }
    println!("{}", json!({"measured": measured, "theory": th}));
    Ok(())
}
