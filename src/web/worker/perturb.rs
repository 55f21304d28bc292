//! The Perturb-PCs panel's worker side: scores a perturbed copy of X against the closed forms,
//! and runs the paper's sweep (`analysis::perturb::SweepJob`) in slices.

use std::sync::Arc;

use super::{loaded, slice, Loaded};
use crate::analysis::job::Job;
use crate::analysis::perturb::{self, Perturbation, SweepJob};
use crate::measures::{registry, Measure};
use crate::target::Target;
use crate::web::protocol::{PerturbRequest, PerturbResponse, PerturbSettings};

#[derive(Default)]
pub(super) struct PerturbPanel {
    sweep: Option<SweepJob>,
}

impl PerturbPanel {
    pub fn on_loaded(&mut self) {
        self.sweep = None;
    }

    pub fn handle(&mut self, l: Option<&Loaded>, req: PerturbRequest) -> PerturbResponse {
        self.try_handle(l, req)
            .unwrap_or_else(|message| PerturbResponse::Failed { message })
    }

    fn try_handle(
        &mut self,
        l: Option<&Loaded>,
        req: PerturbRequest,
    ) -> Result<PerturbResponse, String> {
        match req {
            PerturbRequest::Score(p) => score(&loaded(l)?.target, p),
            PerturbRequest::SweepStart {
                measures,
                max_pcs,
                seed,
            } => {
                let target = loaded(l)?.target.clone();
                let (ids, ms) = prepare_all(&target, &measures);
                self.sweep = Some(SweepJob::new(target, ids, ms, max_pcs, seed));
                self.slice()
            }
            PerturbRequest::SweepSlice => self.slice(),
            PerturbRequest::SweepCancel => {
                self.sweep = None;
                Ok(PerturbResponse::SweepCancelled)
            }
        }
    }

    fn slice(&mut self) -> Result<PerturbResponse, String> {
        // A slice that crosses a cancel (or a new recording) finds no job.
        let Some(job) = self.sweep.as_mut() else {
            return Ok(PerturbResponse::SweepCancelled);
        };
        job.advance(&mut slice())?;
        let p = job.progress();
        let rows = job.rows();
        let response = PerturbResponse::Sweep {
            ids: job.ids().to_vec(),
            exact: rows.iter().all(|r| r.exact),
            rows: rows
                .iter()
                .map(|r| (r.variance_ratio, r.measured.clone(), r.theory.clone()))
                .collect(),
            done: p.done,
            total: p.total,
        };
        if job.is_done() {
            self.sweep = None;
        }
        Ok(response)
    }
}

fn score(target: &Arc<Target>, p: PerturbSettings) -> Result<PerturbResponse, String> {
    let r = target.rank();
    let mut pert = Perturbation::identity(r);
    for &(k, a, deg) in &p.entries {
        if k < r {
            pert.scales[k] = a;
            pert.angles[k] = deg.to_radians();
        }
    }
    let y = perturb::perturb(target, &pert, p.seed);
    let (ids, ms) = prepare_all(target, &p.measures);
    Ok(PerturbResponse::Scored {
        tag: p.tag,
        measured: ms.iter().map(|m| m.score(&y.y)).collect(),
        theory: ids
            .iter()
            .map(|id| perturb::theory(target, &pert, id))
            .collect(),
        ids,
        exact: y.exact,
    })
}

/// The measures among `ids` that apply to Y of X's width, with their canonical ids (the
/// others are left out: the panel shows what can be scored).
fn prepare_all(target: &Arc<Target>, ids: &[String]) -> (Vec<String>, Vec<Box<dyn Measure>>) {
    let (mut canon, mut ms) = (Vec::new(), Vec::new());
    for id in ids {
        let Ok((c, _)) = registry::resolve(id) else {
            continue;
        };
        if canon.contains(&c) {
            continue;
        }
        if let Ok((m, _)) = registry::prepare(&c, target.clone(), target.p) {
            canon.push(c);
            ms.push(m);
        }
    }
    (canon, ms)
}
