//! Greedy paths over feature subsets (backward elimination, forward selection), one step at a
//! time ([`PathRun`]), with RSA's exact incremental RDM updates or a registered measure
//! recomputed per candidate.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::fit::{score_with, MeasureFit};
use super::rdm::{rdm, upper, PreparedTarget, SubsetRdm};
use super::{compare, Method, Options, PruneError, Rdm};
use crate::measures::registry;
use crate::target::Target;

/// A greedy path: `ranking[..n]` are the kept features after the step that left n of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub ranking: Vec<usize>,
    /// Numbers of kept features visited, in path order.
    pub grid: Vec<usize>,
    /// Fit on the pairs the path was built on, per grid entry.
    pub fit: Vec<f64>,
}

impl Path {
    /// Kept features (ascending) with `n` of them.
    pub fn kept(&self, n: usize) -> Vec<usize> {
        let mut k = self.ranking[..n].to_vec();
        k.sort_unstable();
        k
    }
}

/// Fit of a feature subset over pairs among `stims` by full recomputation.
pub fn fit_subset(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    kept: &[usize],
    opts: &Options,
) -> f64 {
    let sub = f.select_columns(kept);
    let sub = DMatrix::from_fn(stims.len(), kept.len(), |a, c| sub[(stims[a], c)]);
    let r = rdm(&sub, opts.distance);
    let all: Vec<usize> = (0..stims.len()).collect();
    compare(&upper(&r, &all), &upper(target, stims), opts.compare)
}

/// Fit of the first-feature candidates in forward selection with correlation distance: a single
/// feature has no correlation structure, so the first feature is the one whose squared-difference
/// RDM fits best.
fn first_forward(f: &SubsetRdm, t: &PreparedTarget) -> usize {
    let mut buf = Vec::new();
    let mut best = (f64::NEG_INFINITY, 0);
    for c in 0..f.p {
        let col = f.col(c);
        buf.clear();
        buf.extend(f.pi.iter().zip(&f.pj).map(|(&a, &b)| {
            let d = col[a as usize] - col[b as usize];
            d * d
        }));
        let v = t.fit(&buf);
        if v > best.0 {
            best = (v, c);
        }
    }
    best.1
}

/// Scores feature subsets with a measure on one stimulus set.
struct MeasureScorer {
    id: String,
    target: Arc<Target>,
    /// F's rows of the stimulus set (all features).
    fs: DMatrix<f64>,
    active: Vec<bool>,
    /// The measure prepared for one width (every candidate of a step shares it).
    prepared: Option<(usize, Option<Box<dyn crate::measures::Measure>>)>,
}

impl MeasureScorer {
    fn score_subset(&mut self, subset: &[usize]) -> f64 {
        let q = subset.len();
        if q == 0 {
            return f64::NAN;
        }
        if self.prepared.as_ref().map(|p| p.0) != Some(q) {
            let m = registry::prepare(&self.id, self.target.clone(), q)
                .ok()
                .map(|(m, _)| m);
            self.prepared = Some((q, m));
        }
        let y = self.fs.select_columns(subset);
        match self.prepared.as_ref().and_then(|p| p.1.as_ref()) {
            Some(m) => m.score(&y),
            None => f64::NAN,
        }
    }

    fn subset(&self, toggled: Option<usize>) -> Vec<usize> {
        (0..self.active.len())
            .filter(|&c| self.active[c] != (Some(c) == toggled))
            .collect()
    }
}

/// What scores a candidate subset along a path.
enum Engine {
    /// RSA with exact incremental RDM updates.
    Rsa {
        t: PreparedTarget,
        st: SubsetRdm,
        buf: Vec<f64>,
        first_by_sqdiff: bool,
    },
    /// A registered measure, recomputed per candidate.
    Measure(MeasureScorer),
}

impl Engine {
    fn features(&self) -> usize {
        match self {
            Engine::Rsa { st, .. } => st.p,
            Engine::Measure(m) => m.active.len(),
        }
    }

    fn is_active(&self, c: usize) -> bool {
        match self {
            Engine::Rsa { st, .. } => st.is_active(c),
            Engine::Measure(m) => m.active[c],
        }
    }

    /// Fit if feature `c` were toggled; NaN (from a measure) ranks last.
    fn candidate(&mut self, c: usize) -> f64 {
        let v = match self {
            Engine::Rsa { t, st, buf, .. } => {
                st.values_toggled(c, buf);
                t.fit(buf)
            }
            Engine::Measure(m) => {
                let s = m.subset(Some(c));
                m.score_subset(&s)
            }
        };
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    }

    fn toggle(&mut self, c: usize) {
        match self {
            Engine::Rsa { st, .. } => st.toggle(c),
            Engine::Measure(m) => m.active[c] = !m.active[c],
        }
    }

    fn resync(&mut self) {
        if let Engine::Rsa { st, .. } = self {
            st.resync();
        }
    }

    fn fit(&mut self) -> f64 {
        match self {
            Engine::Rsa { t, st, .. } => t.fit(&st.values()),
            Engine::Measure(m) => {
                let s = m.subset(None);
                m.score_subset(&s)
            }
        }
    }
}

/// A greedy path built one step at a time, so a caller with a time budget (the page's worker,
/// which must answer Cancel within one slice) can interleave it with other work. Running it to
/// the end does exactly what [`greedy_path`] does.
pub struct PathRun {
    engine: Engine,
    method: Method,
    exact_below: usize,
    cap: usize,
    /// Backward: features removed so far, in order; forward: features added so far.
    order: Vec<usize>,
    grid: Vec<usize>,
    fit: Vec<f64>,
    remaining: usize,
    /// Candidates of the current step scored so far (fit, feature), and the next feature to
    /// consider: a measure step is split over several calls (see [`PathRun::step`]).
    scan: Vec<(f64, usize)>,
    cursor: usize,
}

/// Candidates a measure-fit step scores per call: one measure evaluation costs up to a few ms
/// in the browser, so a step over ~100 candidates is split to keep each call short.
const MEASURE_CANDIDATES_PER_CALL: usize = 4;

impl PathRun {
    /// The RSA path on pairs among `stims`, before its first step.
    pub fn new(f: &DMatrix<f64>, target: &DMatrix<f64>, stims: &[usize], opts: &Options) -> Self {
        let p = f.ncols();
        let t = PreparedTarget::new(&upper(target, stims), opts.compare);
        let active: Vec<usize> = match opts.method {
            Method::Backward => (0..p).collect(),
            Method::Forward => Vec::new(),
        };
        let st = SubsetRdm::new(f, stims, opts.distance, &active);
        let engine = Engine::Rsa {
            t,
            st,
            buf: Vec::new(),
            first_by_sqdiff: opts.distance == Rdm::Correlation,
        };
        Self::start(engine, p, opts)
    }

    /// The path with a measure as the fit, on the rows `stims`.
    pub fn with_measure(
        f: &DMatrix<f64>,
        m: &MeasureFit,
        stims: &[usize],
        opts: &Options,
    ) -> Result<Self, PruneError> {
        let p = f.ncols();
        let engine = Engine::Measure(MeasureScorer {
            id: m.id.clone(),
            target: m.target(stims)?,
            fs: f.select_rows(stims),
            active: vec![opts.method == Method::Backward; p],
            prepared: None,
        });
        Ok(Self::start(engine, p, opts))
    }

    fn start(mut engine: Engine, p: usize, opts: &Options) -> Self {
        let (grid, fit) = match opts.method {
            Method::Backward => (vec![p], vec![engine.fit()]),
            Method::Forward => (Vec::new(), Vec::new()),
        };
        PathRun {
            engine,
            method: opts.method,
            exact_below: opts.exact_below,
            cap: opts.max_kept.clamp(1, p.max(1)),
            order: Vec::with_capacity(p),
            grid,
            fit,
            remaining: p,
            scan: Vec::new(),
            cursor: 0,
        }
    }

    /// (steps done, steps in all) for progress reports.
    pub fn progress(&self) -> (usize, usize) {
        let p = self.engine.features();
        match self.method {
            Method::Backward => (p - self.remaining, p.saturating_sub(1)),
            Method::Forward => (self.order.len(), self.cap),
        }
    }

    /// Whether the path is complete.
    pub fn is_done(&self) -> bool {
        match self.method {
            Method::Backward => self.remaining <= 1,
            Method::Forward => self.order.len() >= self.cap,
        }
    }

    /// Work towards one greedy step (a batch of removals above `exact_below`); nothing once
    /// done. With RSA each call is a whole step; with a measure each call scores at most
    /// `MEASURE_CANDIDATES_PER_CALL` candidates and the step is committed by the call that
    /// scores the last one (the path is the same either way).
    pub fn step(&mut self) {
        if self.is_done() {
            return;
        }
        let p = self.engine.features();
        let first_forward_rsa = self.method == Method::Forward
            && self.order.is_empty()
            && matches!(
                self.engine,
                Engine::Rsa {
                    first_by_sqdiff: true,
                    ..
                }
            );
        if !first_forward_rsa {
            let limit = match self.engine {
                Engine::Rsa { .. } => usize::MAX,
                Engine::Measure(_) => MEASURE_CANDIDATES_PER_CALL,
            };
            let mut scored = 0;
            while self.cursor < p && scored < limit {
                let c = self.cursor;
                self.cursor += 1;
                if self.engine.is_active(c) == (self.method == Method::Backward) {
                    self.scan.push((self.engine.candidate(c), c));
                    scored += 1;
                }
            }
            if self.cursor < p {
                return;
            }
        }
        self.cursor = 0;
        let mut cand = std::mem::take(&mut self.scan);
        match self.method {
            Method::Backward => {
                // Best fit after removal first; ties to the lower index.
                cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let drop = if self.remaining <= self.exact_below {
                    1
                } else {
                    (self.remaining / 20).max(1)
                };
                for &(_, c) in &cand[..drop] {
                    self.engine.toggle(c);
                    self.order.push(c);
                }
                self.engine.resync();
                self.remaining -= drop;
                self.grid.push(self.remaining);
                let fit = self.engine.fit();
                self.fit.push(fit);
            }
            Method::Forward => {
                let pick = match &self.engine {
                    Engine::Rsa { t, st, .. } if first_forward_rsa => first_forward(st, t),
                    _ => {
                        // The best addition; ties to the lower index (candidates ascend).
                        let mut best = (f64::NEG_INFINITY, usize::MAX);
                        for &(v, c) in &cand {
                            if v > best.0 || best.1 == usize::MAX {
                                best = (v, c);
                            }
                        }
                        best.1
                    }
                };
                cand.clear();
                self.engine.toggle(pick);
                self.engine.resync();
                self.order.push(pick);
                self.grid.push(self.order.len());
                let fit = self.engine.fit();
                self.fit.push(fit);
            }
        }
    }

    /// The finished path (call once [`PathRun::is_done`]).
    pub fn finish(self) -> Path {
        let p = self.engine.features();
        let ranking = match self.method {
            Method::Backward => {
                let mut ranking: Vec<usize> =
                    (0..p).filter(|&c| self.engine.is_active(c)).collect();
                ranking.extend(self.order.iter().rev());
                ranking
            }
            Method::Forward => {
                let mut ranking = self.order;
                ranking.extend((0..p).filter(|&c| !self.engine.is_active(c)));
                ranking
            }
        };
        Path {
            ranking,
            grid: self.grid,
            fit: self.fit,
        }
    }
}

/// The greedy path on pairs among `stims`. `tick` is called once per step with (done, total)
/// and returns false to cancel.
pub fn greedy_path(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    opts: &Options,
    tick: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Path, PruneError> {
    let mut run = PathRun::new(f, target, stims, opts);
    while !run.is_done() {
        let (done, total) = run.progress();
        if !tick(done, total) {
            return Err(PruneError::Cancelled);
        }
        run.step();
    }
    Ok(run.finish())
}

/// Fits along a path's grid on pairs among other stimuli (replaying the path incrementally).
pub fn path_fits(
    f: &DMatrix<f64>,
    target: &DMatrix<f64>,
    stims: &[usize],
    path: &Path,
    opts: &Options,
) -> Vec<f64> {
    let p = f.ncols();
    let t = PreparedTarget::new(&upper(target, stims), opts.compare);
    let mut out = Vec::with_capacity(path.grid.len());
    let mut cur = match opts.method {
        Method::Backward => p,
        Method::Forward => 0,
    };
    let init: Vec<usize> = path.ranking[..cur].to_vec();
    let mut st = SubsetRdm::new(f, stims, opts.distance, &init);
    let mut toggles = 0;
    for &n in &path.grid {
        while cur > n {
            cur -= 1;
            st.toggle(path.ranking[cur]);
            toggles += 1;
        }
        while cur < n {
            st.toggle(path.ranking[cur]);
            cur += 1;
            toggles += 1;
        }
        if toggles >= 32 {
            st.resync();
            toggles = 0;
        }
        out.push(t.fit(&st.values()));
    }
    out
}

/// A measure's fits along a path's grid on the rows `stims` (the target prepared once).
pub fn measure_path_fits(
    f: &DMatrix<f64>,
    m: &MeasureFit,
    stims: &[usize],
    path: &Path,
) -> Result<Vec<f64>, PruneError> {
    let t = m.target(stims)?;
    let fs = f.select_rows(stims);
    Ok(path
        .grid
        .iter()
        .map(|&n| score_with(&m.id, &t, &fs.select_columns(&path.kept(n))))
        .collect())
}
