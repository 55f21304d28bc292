//! Decoding task variables from a recording or a candidate Y (spec §5).
//!
//! Multinomial logistic regression with an L2 penalty, objective ½‖W‖² + C·Σ log-loss with
//! C = 1 and an unpenalised intercept, fitted by L-BFGS on raw features (no standardisation),
//! scored by stratified k-fold cross-validation with a seeded shuffle. A 3-D recording is
//! decoded separately at each time step on its C × N slice and the accuracies are averaged.
//!
//! Pooling rule: when some class has fewer than k conditions, a time slice cannot be
//! cross-validated; the (time, condition) rows are then pooled as samples (labels repeated over
//! time) and the result says `pooled = true`. When even the pooled rows are too few, decoding
//! fails with [`DecodeError::TooFewSamples`] instead of inventing an accuracy.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::job::{Budget, Job, Progress};
use crate::rng::Rng;

/// Decoder settings (defaults: the paper's C = 1, 5 folds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DecodeOptions {
    pub folds: usize,
    /// Inverse regularisation strength C.
    pub c: f64,
    /// L-BFGS iteration cap.
    pub max_iter: usize,
    /// Stop when ‖∇‖∞ ≤ tol · max(1, number of samples).
    pub tol: f64,
    /// Seed of the fold shuffle.
    pub seed: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            folds: 5,
            c: 1.0,
            max_iter: 500,
            tol: 1e-6,
            seed: 0,
        }
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("variable `{name}` has a class with only {min} sample(s) even after pooling time steps; {folds}-fold cross-validation needs at least {folds}")]
    TooFewSamples {
        name: String,
        min: usize,
        folds: usize,
    },
    #[error("variable `{name}` has a single class: nothing to decode")]
    OneClass { name: String },
    #[error("variable `{name}` has {labels} labels but the recording has {conditions} conditions")]
    Mismatch {
        name: String,
        labels: usize,
        conditions: usize,
    },
}

/// Cross-validated decoding accuracy of one variable.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Decoding {
    /// Mean test accuracy (over folds, then over time steps unless pooled).
    pub accuracy: f64,
    /// Per time step accuracies (empty when pooled).
    pub per_time: Vec<f64>,
    /// Time steps were pooled as samples because a slice had too few samples per class.
    pub pooled: bool,
    /// Chance level: frequency of the most common class.
    pub chance: f64,
    pub classes: usize,
    pub folds: usize,
}

/// A fitted multinomial logistic regression: scores = X W + 1 bᵀ.
#[derive(Clone, Debug)]
pub struct Logistic {
    pub w: DMatrix<f64>,
    pub b: DVector<f64>,
}

impl Logistic {
    /// Fit on rows of `x` with class indices `y` in 0..k.
    pub fn fit(x: &DMatrix<f64>, y: &[usize], k: usize, opts: &DecodeOptions) -> Self {
        let d = x.ncols();
        let dim = d * k + k;
        let mut theta = vec![0.0; dim];
        let onehot = DMatrix::from_fn(x.nrows(), k, |i, j| if y[i] == j { 1.0 } else { 0.0 });
        let mut f = |th: &[f64], g: &mut [f64]| objective(x, &onehot, k, opts.c, th, g);
        lbfgs(
            &mut f,
            &mut theta,
            opts.max_iter,
            opts.tol * (x.nrows().max(1) as f64),
        );
        let w = DMatrix::from_column_slice(d, k, &theta[..d * k]);
        let b = DVector::from_column_slice(&theta[d * k..]);
        Logistic { w, b }
    }

    /// Most probable class of each row.
    pub fn predict(&self, x: &DMatrix<f64>) -> Vec<usize> {
        let z = x * &self.w;
        (0..x.nrows())
            .map(|i| {
                let mut best = 0;
                for j in 1..self.b.len() {
                    if z[(i, j)] + self.b[j] > z[(i, best)] + self.b[best] {
                        best = j;
                    }
                }
                best
            })
            .collect()
    }
}

/// f = ½‖W‖² + C Σ_i (logsumexp(z_i) − z_{i,y_i}) and its gradient.
fn objective(
    x: &DMatrix<f64>,
    onehot: &DMatrix<f64>,
    k: usize,
    c: f64,
    th: &[f64],
    g: &mut [f64],
) -> f64 {
    let d = x.ncols();
    let w = DMatrix::from_column_slice(d, k, &th[..d * k]);
    let b = &th[d * k..];
    let mut z = x * &w;
    let mut loss = 0.0;
    for i in 0..z.nrows() {
        let mut m = f64::NEG_INFINITY;
        for j in 0..k {
            z[(i, j)] += b[j];
            m = m.max(z[(i, j)]);
        }
        let mut s = 0.0;
        for j in 0..k {
            s += (z[(i, j)] - m).exp();
        }
        let lse = m + s.ln();
        for j in 0..k {
            loss -= onehot[(i, j)] * z[(i, j)];
            // residual P − Y, reusing z
            z[(i, j)] = (z[(i, j)] - lse).exp() - onehot[(i, j)];
        }
        loss += lse;
    }
    let gw = x.transpose() * &z * c + &w;
    g[..d * k].copy_from_slice(gw.as_slice());
    for j in 0..k {
        g[d * k + j] = c * z.column(j).sum();
    }
    0.5 * w.norm_squared() + c * loss
}

/// Minimise with L-BFGS (memory 10, backtracking Armijo line search).
fn lbfgs(f: &mut impl FnMut(&[f64], &mut [f64]) -> f64, x: &mut [f64], max_iter: usize, gtol: f64) {
    let n = x.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let (mut s_hist, mut y_hist, mut rho): (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<f64>) =
        (vec![], vec![], vec![]);
    let mut gnew = vec![0.0; n];
    let mut xnew = vec![0.0; n];
    for iter in 0..max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= gtol {
            break;
        }
        // two-loop recursion
        let mut dir: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut alpha = vec![0.0; s_hist.len()];
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &dir);
            for (dv, yv) in dir.iter_mut().zip(&y_hist[i]) {
                *dv -= alpha[i] * yv;
            }
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / dot(&g, &g).sqrt().max(1e-300),
        };
        for dv in dir.iter_mut() {
            *dv *= gamma;
        }
        for i in 0..s_hist.len() {
            let beta = rho[i] * dot(&y_hist[i], &dir);
            for (dv, sv) in dir.iter_mut().zip(&s_hist[i]) {
                *dv += (alpha[i] - beta) * sv;
            }
        }
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            dir = g.iter().map(|v| -v).collect();
            slope = dot(&g, &dir);
            s_hist.clear();
            y_hist.clear();
            rho.clear();
        }
        let mut step = 1.0;
        let mut fnew;
        let mut tries = 0;
        loop {
            for i in 0..n {
                xnew[i] = x[i] + step * dir[i];
            }
            fnew = f(&xnew, &mut gnew);
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * slope {
                break;
            }
            step *= 0.5;
            tries += 1;
            if tries > 60 {
                return;
            }
        }
        let s: Vec<f64> = (0..n).map(|i| xnew[i] - x[i]).collect();
        let yv: Vec<f64> = (0..n).map(|i| gnew[i] - g[i]).collect();
        let sy = dot(&s, &yv);
        let converged = (fx - fnew).abs() <= 1e-14 * fx.abs().max(1.0) && iter > 0;
        x.copy_from_slice(&xnew);
        g.copy_from_slice(&gnew);
        fx = fnew;
        if sy > 1e-12 * dot(&yv, &yv).max(1e-300) {
            if s_hist.len() == 10 {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(s);
            y_hist.push(yv);
            rho.push(1.0 / sy);
        }
        if converged {
            break;
        }
    }
}

/// Fold index of every sample: classes in order, each class's members shuffled, then dealt
/// round-robin to the folds with one counter over all classes, so every fold gets ⌊m/k⌋ or
/// ⌈m/k⌉ members of each class and the folds have near-equal sizes.
pub fn stratified_folds(
    labels: &[usize],
    classes: usize,
    folds: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    let mut fold_of = vec![0; labels.len()];
    let mut counter = 0;
    for c in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        rng.shuffle(&mut members);
        for i in members {
            fold_of[i] = counter % folds;
            counter += 1;
        }
    }
    fold_of
}

/// Mean test accuracy over the folds given by `fold_of`.
pub fn cv_accuracy(
    x: &DMatrix<f64>,
    labels: &[usize],
    classes: usize,
    fold_of: &[usize],
    opts: &DecodeOptions,
) -> f64 {
    let folds = fold_of.iter().max().map_or(0, |m| m + 1);
    let mut total = 0.0;
    let mut used = 0;
    for f in 0..folds {
        if let Some(a) = fold_accuracy(x, labels, classes, fold_of, f, opts) {
            total += a;
            used += 1;
        }
    }
    total / used.max(1) as f64
}

/// Test accuracy of fold `f` (fit on the other folds); `None` if the fold is empty.
pub fn fold_accuracy(
    x: &DMatrix<f64>,
    labels: &[usize],
    classes: usize,
    fold_of: &[usize],
    f: usize,
    opts: &DecodeOptions,
) -> Option<f64> {
    let train: Vec<usize> = (0..labels.len()).filter(|&i| fold_of[i] != f).collect();
    let test: Vec<usize> = (0..labels.len()).filter(|&i| fold_of[i] == f).collect();
    if test.is_empty() {
        return None;
    }
    let xt = x.select_rows(&train);
    let yt: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
    let model = Logistic::fit(&xt, &yt, classes, opts);
    let pred = model.predict(&x.select_rows(&test));
    let correct = test
        .iter()
        .zip(&pred)
        .filter(|(&i, &p)| labels[i] == p)
        .count();
    Some(correct as f64 / test.len() as f64)
}

/// `decode` split into units of work, one fold of one time step's cross-validation each (of
/// the pooled rows when pooled), so the browser worker can interleave decoding with
/// optimisation steps and answer a cancel between units instead of blocking for the whole
/// variable. Driving it to the end gives exactly what `decode` gives (the same sums in the
/// same order): `decode` is this loop.
#[derive(Clone, Debug)]
pub struct StagedDecode {
    conditions: usize,
    time_steps: usize,
    /// Per row of the slice being fitted (a time step's conditions, or every row if pooled).
    labels: Vec<usize>,
    classes: usize,
    fold_of: Vec<usize>,
    chance: f64,
    folds: usize,
    pooled: bool,
    opts: DecodeOptions,
    /// Folds in `fold_of`, and the next fold of the time step in progress with the sum and
    /// count of its non-empty folds so far.
    fold_count: usize,
    fold: usize,
    fold_total: f64,
    fold_used: usize,
    /// Accuracy per time step done so far (or the single pooled one).
    done: Vec<f64>,
}

impl StagedDecode {
    /// Check the labels against a matrix of `rows` rows and plan the folds (cheap).
    pub fn new(
        rows: usize,
        time_steps: usize,
        name: &str,
        class_of: &[usize],
        opts: &DecodeOptions,
    ) -> Result<Self, DecodeError> {
        let conditions = class_of.len();
        if conditions * time_steps != rows {
            return Err(DecodeError::Mismatch {
                name: name.into(),
                labels: class_of.len(),
                conditions: rows / time_steps.max(1),
            });
        }
        let classes = class_of.iter().max().map_or(0, |m| m + 1);
        let counts: Vec<usize> = (0..classes)
            .map(|c| class_of.iter().filter(|&&v| v == c).count())
            .collect();
        if counts.iter().filter(|&&n| n > 0).count() < 2 {
            return Err(DecodeError::OneClass { name: name.into() });
        }
        let min = counts.iter().cloned().filter(|&n| n > 0).min().unwrap_or(0);
        let chance = counts.iter().copied().max().unwrap_or(0) as f64 / conditions as f64;
        let k = opts.folds;
        let mut rng = Rng::new(opts.seed);
        let (labels, pooled) = if min >= k {
            (class_of.to_vec(), false)
        } else if min * time_steps < k {
            return Err(DecodeError::TooFewSamples {
                name: name.into(),
                min: min * time_steps,
                folds: k,
            });
        } else {
            let labels: Vec<usize> = (0..time_steps * conditions)
                .map(|i| class_of[i % conditions])
                .collect();
            (labels, true)
        };
        let fold_of = stratified_folds(&labels, classes, k, &mut rng);
        let fold_count = fold_of.iter().max().map_or(0, |m| m + 1);
        Ok(StagedDecode {
            conditions,
            time_steps,
            labels,
            classes,
            fold_of,
            chance,
            folds: k,
            pooled,
            opts: opts.clone(),
            fold_count,
            fold: 0,
            fold_total: 0.0,
            fold_used: 0,
            done: Vec::new(),
        })
    }

    /// Time steps in all (1 when pooled): each takes one `advance` per fold.
    pub fn units(&self) -> usize {
        if self.pooled {
            1
        } else {
            self.time_steps
        }
    }

    /// Time steps done so far.
    pub fn units_done(&self) -> usize {
        self.done.len()
    }

    pub fn is_done(&self) -> bool {
        self.done.len() >= self.units()
    }

    /// Fit and test the next fold on `data` (the same matrix every call; nothing if already
    /// done).
    pub fn advance(&mut self, data: &DMatrix<f64>) {
        if self.is_done() {
            return;
        }
        if self.fold < self.fold_count {
            let (labels, classes, fold_of, f) =
                (&self.labels, self.classes, &self.fold_of, self.fold);
            let acc = if self.pooled {
                fold_accuracy(data, labels, classes, fold_of, f, &self.opts)
            } else {
                let t = self.done.len();
                let slice = data.rows(t * self.conditions, self.conditions).into_owned();
                fold_accuracy(&slice, labels, classes, fold_of, f, &self.opts)
            };
            if let Some(a) = acc {
                self.fold_total += a;
                self.fold_used += 1;
            }
            self.fold += 1;
        }
        if self.fold >= self.fold_count {
            self.done
                .push(self.fold_total / self.fold_used.max(1) as f64);
            self.fold = 0;
            self.fold_total = 0.0;
            self.fold_used = 0;
        }
    }

    /// The result, once every unit is done (`None` before).
    pub fn finish(self) -> Option<Decoding> {
        if !self.is_done() {
            return None;
        }
        let (accuracy, per_time) = if self.pooled {
            (self.done[0], Vec::new())
        } else {
            let accuracy = self.done.iter().sum::<f64>() / self.time_steps as f64;
            (accuracy, self.done)
        };
        Some(Decoding {
            accuracy,
            per_time,
            pooled: self.pooled,
            chance: self.chance,
            classes: self.classes,
            folds: self.folds,
        })
    }
}

/// Decode a variable (one class index per condition) from the flattened (T·C) × q matrix
/// `data` with row = t·C + c.
pub fn decode(
    data: &DMatrix<f64>,
    time_steps: usize,
    name: &str,
    class_of: &[usize],
    opts: &DecodeOptions,
) -> Result<Decoding, DecodeError> {
    let mut staged = StagedDecode::new(data.nrows(), time_steps, name, class_of, opts)?;
    while !staged.is_done() {
        staged.advance(data);
    }
    Ok(staged.finish().expect("every unit is done"))
}

/// The score at which a variable becomes decodable: the first crossing of
/// chance + 0.9·(reference − chance) by the accuracy curve (spec §5.3, first-crossing rule).
pub fn decodable_threshold(chance: f64, reference: f64) -> f64 {
    chance + 0.9 * (reference - chance)
}

/// Decode every task variable from one matrix (X for the neural reference, or a copy of Y),
/// one cross-validation fold per unit of work: [`decode`] for each variable in turn, as a
/// [`Job`]. A variable that cannot be decoded (one class, too few samples) gets its error.
pub struct DecodeAll {
    data: DMatrix<f64>,
    time_steps: usize,
    variables: Vec<crate::data::TaskVariable>,
    opts: DecodeOptions,
    stage: Option<StagedDecode>,
    out: Vec<Result<Decoding, DecodeError>>,
}

impl DecodeAll {
    pub fn new(
        data: DMatrix<f64>,
        time_steps: usize,
        variables: &[crate::data::TaskVariable],
        opts: &DecodeOptions,
    ) -> Self {
        DecodeAll {
            data,
            time_steps,
            variables: variables.to_vec(),
            opts: opts.clone(),
            stage: None,
            out: Vec::new(),
        }
    }

    /// The decodings finished so far, in variable order.
    pub fn finished(&self) -> &[Result<Decoding, DecodeError>] {
        &self.out
    }

    /// Units (time steps of one variable) done and in all, counting a variable not started
    /// yet as one time step per step of the recording.
    fn units(&self) -> (usize, usize) {
        let per = self.time_steps.max(1);
        let partial = self.stage.as_ref().map_or(0, |s| s.units_done());
        (self.out.len() * per + partial, self.variables.len() * per)
    }
}

impl Job for DecodeAll {
    type Output = Vec<Result<Decoding, DecodeError>>;

    fn advance(&mut self, budget: &mut Budget) -> Result<(), String> {
        while !self.is_done() {
            let j = self.out.len();
            if self.stage.is_none() {
                let v = &self.variables[j];
                match StagedDecode::new(
                    self.data.nrows(),
                    self.time_steps,
                    &v.name,
                    &v.class_of,
                    &self.opts,
                ) {
                    Ok(st) => self.stage = Some(st),
                    Err(e) => {
                        self.out.push(Err(e));
                        continue;
                    }
                }
            }
            let st = self.stage.as_mut().expect("just set");
            st.advance(&self.data);
            if st.is_done() {
                let d = self.stage.take().and_then(StagedDecode::finish);
                self.out.push(Ok(d.expect("every unit is done")));
            }
            if budget.spent() {
                break;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        let (done, total) = self.units();
        Progress {
            done,
            total,
            what: self
                .variables
                .get(self.out.len())
                .map(|v| v.name.clone())
                .unwrap_or_default(),
        }
    }

    fn is_done(&self) -> bool {
        self.out.len() >= self.variables.len()
    }

    fn result(self) -> Option<Self::Output> {
        self.is_done().then_some(self.out)
    }
}
