//! `simscope joint`: the allowed range of two scores (spec §7).

use lexopt::prelude::*;
use serde_json::json;
use simscope::analysis::job::run_to_end;
use simscope::analysis::joint::{nbs_bounds_given_cka, JointJob, JointSpec};

use crate::common::CliError;
use crate::common::{check_lr, measure, num, out_dir, target, write_csv, Progress};

pub fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut data, mut a, mut b, mut per_side, mut steps) = (None, None, None, 6usize, 100usize);
    let (mut seed, mut lr, mut out) = (0u64, 0.1f64, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("a") => a = Some(parser.value()?.string()?),
            Long("b") => b = Some(parser.value()?.string()?),
            Long("per-side") => per_side = parser.value()?.parse()?,
            Long("steps") => steps = parser.value()?.parse()?,
            Long("seed") => seed = parser.value()?.parse()?,
            Long("lr") => lr = parser.value()?.parse()?,
            Long("out") => out = Some(parser.value()?.string()?),
            Value(v) if data.is_none() => data = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let data = data.ok_or_else(|| {
        CliError("joint needs a DATA argument (a file or a built-in dataset name)".into())
    })?;
    let a = a.ok_or_else(|| CliError("joint needs --a ID".into()))?;
    let b = b.ok_or_else(|| CliError("joint needs --b ID".into()))?;
    let out = out.ok_or_else(|| CliError("joint needs --out DIR".into()))?;
    check_lr(lr)?;
    let rec = crate::common::recording(&data)?;
    let t = target(&rec)?;
    let q = t.p;
    // Print both measures' warnings once before the sweep.
    measure(&a, &t, q)?;
    measure(&b, &t, q)?;
    let dir = out_dir(&out)?;
    let spec = JointSpec {
        a,
        b,
        per_side,
        steps,
        lr,
        seed,
    };
    let job = JointJob::new(t.clone(), &spec).map_err(CliError)?;
    let (ca, cb) = (job.spec().a.clone(), job.spec().b.clone());
    let total = job.targets().len();
    let mut progress = Progress::new();
    let runs = run_to_end(job, |p| {
        progress.say(p.done == p.total, || {
            format!("joint: target {}/{}", p.done, p.total)
        })
    })
    .map_err(CliError)?;
    let boundary: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let (fa, fb) = r.last();
            vec![num(r.target.0), num(r.target.1), num(fa), num(fb)]
        })
        .collect();
    let header = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    write_csv(
        &dir.join("boundary.csv"),
        &header(&["target_a", "target_b", "final_a", "final_b"]),
        &boundary,
    )?;
    let traj: Vec<Vec<String>> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.trajectory
                .iter()
                .map(move |&(s, va, vb)| vec![i.to_string(), s.to_string(), num(va), num(vb)])
        })
        .collect();
    write_csv(
        &dir.join("trajectories.csv"),
        &header(&["target", "step", "a", "b"]),
        &traj,
    )?;
    let mut summary = json!({
        "targets": total,
        "steps": steps,
        "boundary": runs.iter().map(|r| { let (fa, fb) = r.last(); json!({"target": [r.target.0, r.target.1], "final": [fa, fb]}) }).collect::<Vec<_>>(),
    });
    if (ca == "cka" && cb == "nbs") || (ca == "nbs" && cb == "cka") {
        // The CKA–NBS sandwich (spec §7.4) at every final point: rerun is unnecessary, the
        // ranks are those of X and of the final Y of each target.
        let rx = t.rank();
        let mut hold = true;
        let mut rows = Vec::new();
        for r in &runs {
            let (fa, fb) = r.last();
            let (cka, nbs) = if ca == "cka" { (fa, fb) } else { (fb, fa) };
            // Y's centred rank is at most min(n − 1, q); the sandwich stays valid (only looser)
            // with that upper bound as r_y.
            let ry = (t.n - 1).min(q).max(1);
            let (lo, hi) = nbs_bounds_given_cka(cka, rx, ry);
            hold &= nbs >= lo - 1e-12 && nbs <= hi + 1e-12;
            rows.push(vec![num(cka), num(nbs), num(lo), num(hi)]);
        }
        write_csv(
            &dir.join("cka_nbs_bounds.csv"),
            &header(&["cka", "nbs", "nbs_lower", "nbs_upper"]),
            &rows,
        )?;
        summary["cka_nbs_bounds_hold"] = json!(hold);
    }
    println!("{summary}");
    Ok(())
}
