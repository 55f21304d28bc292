//! The Optimise panel's worker side: holds the [`Run`] (the core job `simscope optimize`
//! loops), takes the steps the page asks for and decodes in slices between them.

use super::decode::{decoding, ReferenceCache};
use super::{attach, loaded, now_ms, row_major_2, slice, Loaded};
use nalgebra::DMatrix;

use crate::analysis::compare::Model;
use crate::analysis::run::{PcSchedule, Run, RunSpec, StopScale};
use crate::data::{self, Recording};
use crate::measures::registry;
use crate::web::protocol::{Report, RunRequest, RunResponse, RunSettings};

/// The per-PC R² (a q × q eigendecomposition) takes at most this share of the stepping time
/// while playing; explicit steps, starts and stops always get it.
const R2_SHARE: f64 = 0.2;

#[derive(Default)]
pub(super) struct RunPanel {
    run: Option<Run>,
    /// X's decoding, kept across runs of the same recording and fold seed.
    reference: ReferenceCache,
    /// Every score at every step as CSV, written as the run goes (the page's plots keep a
    /// thinned copy; this is what "scores CSV" saves).
    trajectory: String,
    /// The run was dropped with its recording (requests still on their way are stale).
    replaced: bool,
}

impl RunPanel {
    /// A new recording: its run and reference are gone.
    pub fn on_loaded(&mut self) {
        self.replaced = self.run.is_some() || self.replaced;
        self.run = None;
        self.reference = ReferenceCache::default();
    }

    /// `model` finds an open Compare model by name (a run may start from one).
    pub fn handle<'m>(
        &mut self,
        l: Option<&Loaded>,
        req: RunRequest,
        model: impl Fn(&str) -> Option<&'m Model>,
    ) -> RunResponse {
        self.try_handle(l, req, model)
            .unwrap_or_else(|message| RunResponse::Failed { message })
    }

    fn try_handle<'m>(
        &mut self,
        l: Option<&Loaded>,
        req: RunRequest,
        model: impl Fn(&str) -> Option<&'m Model>,
    ) -> Result<RunResponse, String> {
        let l = loaded(l)?;
        if let RunRequest::Start(s) = req {
            let y0 = match &s.y0_model {
                Some(name) => Some(
                    model(name)
                        .ok_or_else(|| {
                            format!("model `{name}` is no longer open in the Compare panel")
                        })?
                        .data
                        .clone(),
                ),
                None => None,
            };
            return self.start(l, &s, y0);
        }
        if self.run.is_none() && self.replaced {
            return Ok(RunResponse::Stale);
        }
        let run = self.run.as_mut().ok_or("no run: press Reset")?;
        Ok(match req {
            RunRequest::Start(_) => unreachable!("handled above"),
            RunRequest::Step { n, full } => {
                let r = run.step(n, full);
                write_records(run, &mut self.trajectory);
                RunResponse::Report(report(run, r))
            }
            RunRequest::Pause => {
                run.decode_now();
                decoding(run, &mut self.reference)
            }
            RunRequest::Work => {
                run.work(&mut slice())?;
                decoding(run, &mut self.reference)
            }
            RunRequest::ExportY => export_y(&l.recording, run),
            RunRequest::ExportTrajectory => {
                attach(self.trajectory.clone().into_bytes());
                let name = format!(
                    "simscope-{}-{}-trajectory.csv",
                    l.recording.name,
                    run.ids()[0]
                );
                RunResponse::Download {
                    name: name.replace(['#', '/'], "_"),
                }
            }
        })
    }

    /// A run from `y0` (a model's activations) or, without one, from the seed's random Y₀.
    fn start(
        &mut self,
        l: &Loaded,
        s: &RunSettings,
        y0: Option<DMatrix<f64>>,
    ) -> Result<RunResponse, String> {
        let spec = RunSpec {
            measure: s.measure.clone(),
            watch: s.watch.clone(),
            optimizer: s.optimizer,
            lr: s.lr,
            seed: s.seed,
            stop: s.stop,
            // One "stop at" setting for every measure: read by its range and direction.
            stop_scale: StopScale::ByMeasure,
            // The page plays until its stop rule (or forever) and decides how often to draw.
            max_steps: None,
            pc_schedule: PcSchedule::TimeShare(R2_SHARE),
            decode_every: Some(s.decode_every),
            // Also every 5% of the measure's range, so the accuracy-against-score curve has
            // points spaced in score where the score moves fast (the first steps).
            decode_every_score: registry::entry(&s.measure)
                .ok()
                .and_then(|e| Some(0.05 * (e.range[1]? - e.range[0]?))),
            ..RunSpec::default()
        };
        let run = match y0 {
            Some(y0) => Run::from_y0(&l.recording, l.target.clone(), &spec, y0).map_err(|e| {
                format!(
                    "optimise from model `{}`: {e}",
                    s.y0_model.as_deref().unwrap_or("")
                )
            })?,
            None => Run::new(&l.recording, l.target.clone(), &spec)?,
        };
        let mut run = run.with_clock(now_ms);
        self.reference.hand_over(&mut run);
        let header: Vec<&str> = std::iter::once("step")
            .chain(run.ids().iter().map(String::as_str))
            .collect();
        self.trajectory = data::write::csv(&header, &[]);
        write_records(&mut run, &mut self.trajectory);
        let first = run.report();
        let started = RunResponse::Started {
            ids: run.ids().to_vec(),
            variables: run.variables(),
            warnings: run.warnings().to_vec(),
            pc_chance: run.pc_chance(),
            stop_at: run.session().stop(),
            report: report(&run, first),
        };
        self.run = Some(run);
        self.replaced = false;
        Ok(started)
    }
}

fn report(run: &Run, r: crate::analysis::run::RunReport) -> Report {
    Report {
        run: r,
        y_pcs: row_major_2(&run.target().project(run.y(), 2)),
        work: run.has_work(),
    }
}

/// Append the states recorded since the last call to the trajectory CSV.
fn write_records(run: &mut Run, csv: &mut String) {
    let rows: Vec<Vec<f64>> = run
        .take_records()
        .into_iter()
        .map(|r| {
            std::iter::once(r.step as f64)
                .chain(std::iter::once(r.score))
                .chain(r.watched)
                .collect()
        })
        .collect();
    csv.push_str(&data::write::csv_rows(&rows));
}

/// Y of the run as a `.npy` of the recording's shape (its width may differ from X's).
fn export_y(rec: &Recording, run: &Run) -> RunResponse {
    let y = run.y();
    let mut dims = rec.dims.clone();
    if let Some(last) = dims.last_mut() {
        *last = y.ncols();
    }
    let out = Recording {
        name: "Y".into(),
        dims,
        data: y.clone(),
        labels: Vec::new(),
    };
    attach(data::write::recording_npy(&out));
    RunResponse::Download {
        name: format!("simscope-Y-{}-step{}.npy", rec.name, run.report().step),
    }
}
