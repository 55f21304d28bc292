//! Every analysis job gives the same result however it is driven: to the end in one call (the
//! CLI), by small budgets (the page's worker slices), or, for the optimisation run, by the
//! page's way of asking for a few steps at a time and decoding in between.

use std::sync::Arc;

use simscope::analysis::decode::{decode, DecodeAll, DecodeOptions};
use simscope::analysis::job::{run_to_end, Budget, Job};
use simscope::analysis::joint::{JointJob, JointSpec};
use simscope::analysis::perturb::{sweep, SweepJob};
use simscope::analysis::run::{stop_by_measure, PcSchedule, Run, RunSpec, StopScale};
use simscope::data::datasets;
use simscope::measures::{registry, Direction};
use simscope::target::Target;

fn hats() -> (simscope::data::Recording, Arc<Target>) {
    let rec = datasets::builtin("hatsopoulos2007").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    (rec, t)
}

#[test]
fn a_run_driven_like_the_page_equals_the_run_driven_like_the_cli() {
    let (rec, t) = hats();
    let spec = RunSpec {
        measure: "cka".into(),
        watch: vec!["nbs".into(), "cka".into(), "nbs-score".into()],
        seed: 4,
        max_steps: Some(45),
        stop: None,
        pc_schedule: PcSchedule::Steps(3),
        decode_every: Some(10),
        ..RunSpec::default()
    };
    let cli = run_to_end(Run::new(&rec, t.clone(), &spec).unwrap(), |_| {}).unwrap();
    // The page: a few steps per request, decoding in small slices between requests.
    let mut page = Run::new(&rec, t, &spec).unwrap();
    assert_eq!(
        page.ids(),
        ["cka", "nbs"],
        "watched ids canonical, deduplicated"
    );
    while !page.is_done() {
        page.step(7, false);
        while page.has_work() {
            page.work(&mut Budget::units(2)).unwrap();
        }
    }
    let out = page.output();
    assert_eq!(out.report, cli.report);
    assert_eq!(out.pc_rows, cli.pc_rows);
    assert_eq!(out.decoded, cli.decoded);
    assert_eq!(out.reference, cli.reference);
    let steps: Vec<usize> = cli.decoded.iter().map(|r| r.step).collect();
    assert_eq!(
        steps,
        [0, 10, 20, 30, 40, 45],
        "Y₀, every 10 steps and the stop"
    );
    let pc_steps: Vec<usize> = cli.pc_rows.iter().map(|r| r.step).collect();
    assert_eq!(pc_steps.first(), Some(&0));
    assert_eq!(
        pc_steps.last(),
        Some(&45),
        "the last step always has its R²"
    );
    // Each decode row is the decoding of that step's Y, with the run's seed for the folds.
    let mut again = Run::new(
        &rec,
        Arc::new(Target::new(&rec.data).unwrap()),
        &RunSpec {
            max_steps: Some(10),
            decode_every: None,
            ..spec.clone()
        },
    )
    .unwrap();
    again.step(10, false);
    let opts = DecodeOptions {
        seed: 4,
        ..DecodeOptions::default()
    };
    let v = &rec.labels[0];
    let direct = decode(again.y(), rec.time_steps(), &v.name, &v.class_of, &opts).unwrap();
    assert_eq!(cli.decoded[1].accuracy[0], Some(direct.accuracy));
}

#[test]
fn a_pause_decodes_the_y_on_screen() {
    let (rec, t) = hats();
    let spec = RunSpec {
        stop: None,
        max_steps: None,
        decode_every: Some(1000),
        pc_schedule: PcSchedule::TimeShare(0.2),
        ..RunSpec::default()
    };
    let mut run = Run::new(&rec, t, &spec).unwrap();
    run.step(13, false);
    run.decode_now();
    while run.has_work() {
        run.work(&mut Budget::units(5)).unwrap();
    }
    let steps: Vec<usize> = run.decoded().iter().map(|r| r.step).collect();
    assert_eq!(steps, [0, 13]);
    assert!(!run.is_done(), "an endless run never ends");
}

#[test]
fn the_joint_job_is_the_same_in_slices_and_to_the_end() {
    let rec = datasets::builtin("toy2d").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let spec = JointSpec {
        a: "cka".into(),
        b: "nbs-score".into(),
        per_side: 3,
        steps: 12,
        lr: 0.1,
        seed: 1,
    };
    let whole = run_to_end(JointJob::new(t.clone(), &spec).unwrap(), |_| {}).unwrap();
    let mut sliced = JointJob::new(t, &spec).unwrap();
    assert_eq!(sliced.spec().b, "nbs");
    while !sliced.is_done() {
        sliced.advance(&mut Budget::units(5)).unwrap();
    }
    let sliced = sliced.result().unwrap();
    assert_eq!(whole.len(), 8);
    for (a, b) in whole.iter().zip(&sliced) {
        assert_eq!(a.target, b.target);
        assert_eq!(a.trajectory, b.trajectory);
        assert_eq!(a.trajectory.len(), 13, "Y₀ and 12 steps");
    }
}

#[test]
fn the_sweep_job_equals_the_sweep() {
    let rec = datasets::builtin("ultrametric").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let ids: Vec<String> = ["cka", "nbs"].iter().map(|s| s.to_string()).collect();
    let make = || -> Vec<_> {
        ids.iter()
            .map(|id| registry::prepare(id, t.clone(), t.p).unwrap().0)
            .collect()
    };
    let rows = sweep(&t, &ids, &make(), 6, 3, |_, _| {});
    let mut job = SweepJob::new(t.clone(), ids.clone(), make(), 6, 3);
    while !job.is_done() {
        job.advance(&mut Budget::units(4)).unwrap();
    }
    let job_rows = job.result().unwrap();
    assert_eq!(rows.len(), 6);
    for (a, b) in rows.iter().zip(&job_rows) {
        assert_eq!(
            (a.pc, &a.measured, &a.theory),
            (b.pc, &b.measured, &b.theory)
        );
    }
}

#[test]
fn decoding_every_variable_in_slices_equals_decoding_each() {
    let rec = datasets::builtin("toy2d").unwrap();
    let opts = DecodeOptions::default();
    let mut job = DecodeAll::new(rec.data.clone(), rec.time_steps(), &rec.labels, &opts);
    while !job.is_done() {
        job.advance(&mut Budget::units(1)).unwrap();
    }
    let all = job.result().unwrap();
    for (v, d) in rec.labels.iter().zip(&all) {
        let direct = decode(&rec.data, rec.time_steps(), &v.name, &v.class_of, &opts);
        assert_eq!(d, &direct);
    }
}

#[test]
fn the_page_stop_is_read_by_each_measures_range_and_direction() {
    // A [0, 1] similarity stops at the setting itself; a distance 99% of the way from its start
    // to 0; an unbounded similarity (ENSD) never on its score.
    let unit = [Some(0.0), Some(1.0)];
    assert_eq!(
        stop_by_measure(unit, Direction::Similarity, 0.99, 0.1),
        Some(0.99)
    );
    let d = stop_by_measure([Some(0.0), None], Direction::Distance, 0.99, 4.0).unwrap();
    assert!((d - 0.04).abs() < 1e-12);
    assert_eq!(
        stop_by_measure([Some(0.0), None], Direction::Similarity, 0.99, 4.9),
        None
    );
    assert_eq!(
        stop_by_measure([Some(0.0), None], Direction::Distance, 0.99, 0.0),
        None
    );

    // On golub2018 ENSD starts near 4.9: with the absolute 0.99 it "passes" at step 0 (the bug
    // users met); read by the measure, it steps.
    let rec = datasets::builtin("golub2018").unwrap();
    let t = Arc::new(Target::new(&rec.data).unwrap());
    let spec = |scale| RunSpec {
        measure: "ensd".into(),
        stop: Some(0.99),
        stop_scale: scale,
        max_steps: Some(5),
        decode_every: None,
        ..RunSpec::default()
    };
    let mut absolute = Run::new(&rec, t.clone(), &spec(StopScale::Absolute)).unwrap();
    assert_eq!(
        absolute.step(5, false).step,
        0,
        "the absolute 0.99 stops ENSD at once"
    );
    let mut by_measure = Run::new(&rec, t.clone(), &spec(StopScale::ByMeasure)).unwrap();
    assert_eq!(by_measure.session().stop(), None);
    assert_eq!(by_measure.step(5, false).step, 5);
    // A distance in data units: the stop is relative to its start.
    let mut dist = Run::new(
        &rec,
        t,
        &RunSpec {
            measure: "procrustes-euclidean".into(),
            ..spec(StopScale::ByMeasure)
        },
    )
    .unwrap();
    let start = dist.report().score;
    let stop = dist.session().stop().unwrap();
    assert!(
        (stop - 0.01 * start).abs() < 1e-9 * start,
        "{stop} vs start {start}"
    );
    assert_eq!(dist.step(5, false).step, 5);
}

/// A calibration's report is the same to the bit however its (measure, seed) runs are run:
/// here in slices, on threads (`simscope calibrate --threads`), or handed out and delivered
/// out of order with one lost and run here after all (the page's helper workers).
#[test]
fn a_calibration_is_the_same_on_threads_and_with_its_runs_run_elsewhere_out_of_order() {
    use simscope::analysis::calibrate::{calibrate, CalRun, CalibrateOptions, Calibration};
    let (rec, t) = hats();
    assert!(!rec.labels.is_empty(), "a recording with task variables");
    let ids = ["cka", "nbs", "cka-distance=angular"].map(String::from);
    let opts = CalibrateOptions {
        seeds: 2,
        max_steps: 30,
        decode_every: 10,
        ..CalibrateOptions::default()
    };
    let new = || {
        Calibration::new(
            t.clone(),
            &rec.data,
            rec.time_steps(),
            &rec.labels,
            &ids,
            &opts,
        )
    };
    // Debug prints every f64 exactly (and NaN as NaN), so equal text is an equal report.
    let one = format!("{:?}", run_to_end(new(), |_| {}).unwrap());
    for threads in [2, 4] {
        let mut notes = Vec::new();
        let r = calibrate(
            &t,
            &rec.data,
            rec.time_steps(),
            &rec.labels,
            &ids,
            &CalibrateOptions {
                threads,
                ..opts.clone()
            },
            |n| notes.push(n.to_string()),
        )
        .unwrap();
        assert_eq!(format!("{r:?}"), one, "{threads} threads");
        assert_eq!(
            notes.iter().filter(|n| n.contains(" seed ")).count(),
            6,
            "every run is told of: {notes:?}"
        );
    }
    // Runs go out at once, while the job still decodes X; one comes back before X is decoded
    // (it waits to be folded), the job runs the last one itself, and one helper is lost.
    let mut c = new();
    let spec = Arc::new(c.run_spec().unwrap());
    let mut out: Vec<usize> = (0..5).map(|_| c.checkout().unwrap()).collect();
    assert_eq!(out, [0, 1, 2, 3, 4]);
    let run = |i| run_to_end(CalRun::new(t.clone(), spec.clone(), i).unwrap(), |_| {}).unwrap();
    c.deliver(run(out.remove(0))).unwrap();
    assert_eq!(
        (c.runs_done(), c.rows().len()),
        (1, 0),
        "folded once X is decoded"
    );
    while !c.is_waiting() {
        c.advance(&mut Budget::units(7)).unwrap();
    }
    assert_eq!(c.runs_done(), 2, "run 5 here");
    c.advance(&mut Budget::units(5)).unwrap();
    assert_eq!(c.runs_done(), 2, "a waiting job does nothing");
    let lost = out.remove(1);
    c.release(lost);
    assert!(!c.is_waiting(), "a released run is run here");
    for i in out.into_iter().rev() {
        let o = run(i);
        c.deliver(o.clone()).unwrap();
        assert!(c.deliver(o).is_err(), "a run is taken back once");
    }
    while !c.is_done() {
        c.advance(&mut Budget::units(4)).unwrap();
    }
    assert_eq!(format!("{:?}", c.result().unwrap()), one);
    // A variable X cannot be decoded by (one class) is decoded by no run's count: the
    // report is the one without it, on threads too.
    let mut labels = rec.labels.clone();
    let conditions = labels[0].class_of.len();
    labels.insert(
        0,
        simscope::data::TaskVariable {
            name: "constant".into(),
            class_of: vec![0; conditions],
            classes: vec!["a".into()],
        },
    );
    let four = CalibrateOptions {
        threads: 4,
        ..opts.clone()
    };
    let r = calibrate(
        &t,
        &rec.data,
        rec.time_steps(),
        &labels,
        &ids,
        &four,
        |_| {},
    )
    .unwrap();
    assert_eq!(format!("{r:?}"), one, "a skipped variable changes nothing");
}
