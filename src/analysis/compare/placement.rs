//! Where a model's score sits on the calibration run of its measure, and the verdict in words.
//!
//! The calibration run (`analysis::calibrate`) optimised a synthetic Y from a seeded random
//! start against X; its trajectory says, step by step, the score, the R² of each of X's PCs
//! and (with labels) the decoding accuracy of each task variable. A model's score v is placed
//! at the first step whose score reaches v; the PCs "captured by then" are those whose R² had
//! crossed halfway from its start to 1 (the calibration's rule, spec §4.2) at a score ≤ v, and
//! a variable "decodable" is one whose accuracy had crossed chance + 90 % of the way to X's
//! own accuracy (spec §5.3) at a score ≤ v. A distance is minimised and its values are not on
//! a [0, 1] scale: it is placed by steps only (the PCs and variables reached by that step).

use serde::Serialize;

use crate::analysis::calibrate::{Reference, Trajectory};
use crate::analysis::captured::{first_crossing, Threshold};
use crate::analysis::percent;
use crate::measures::registry;

/// One measure's placement of one model's score.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Placement {
    /// The calibration seed whose run this reads.
    pub seed: u64,
    /// First step at which the synthetic Y scored at least the model (at most, for a
    /// distance); `None` if it never did within the run.
    pub steps_to_reach: Option<usize>,
    /// X's PCs (1-based) captured by then (by the end of the run if never reached).
    pub pcs_captured: Vec<usize>,
    /// Their share of X's variance (NaN, null in JSON, when Y is too wide to tell).
    pub variance_captured: f64,
    /// Per task variable: decodable from the synthetic Y at the model's score.
    #[serde(serialize_with = "super::ordered")]
    pub decodable: Vec<(String, bool)>,
    /// Per task variable: the score at which it became decodable in the run (`None`: never,
    /// or X itself does not decode it above chance).
    #[serde(serialize_with = "super::ordered")]
    pub decodable_at: Vec<(String, Option<f64>)>,
    /// Per task variable: whether X itself decodes it above chance.
    #[serde(serialize_with = "super::ordered")]
    pub x_decodes: Vec<(String, bool)>,
    /// A distance: placed by steps, not by score.
    pub by_steps_only: bool,
    pub verdict: String,
}

/// `PC1–2, PC4`.
pub fn pc_list(pcs: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < pcs.len() {
        let mut j = i;
        while j + 1 < pcs.len() && pcs[j + 1] == pcs[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            format!("PC{}", pcs[i])
        } else {
            format!("PC{}–{}", pcs[i], pcs[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Place `value` of measure `id` on the run `traj`. `evr` holds X's explained-variance ratios,
/// `refs` the reference decodings of X (in the trajectory's accuracy order) and `x_above`
/// whether each is above chance.
pub fn place(
    id: &str,
    value: f64,
    traj: &Trajectory,
    evr: &[f64],
    refs: &[Reference],
    x_above: &[bool],
) -> Placement {
    // Sentences name the measure in words, as the menus (the id is the JSON key).
    let measure = registry::name(id);
    let scores = &traj.scores;
    let last = scores.len().saturating_sub(1);
    let dist = traj.distance;
    // A relative tolerance of 1e-12: a saturated score (1 up to rounding) reaches a model's 1.
    let tol = 1e-12 * value.abs().max(1.0);
    let reaches = |s: f64| {
        if dist {
            s <= value + tol
        } else {
            s >= value - tol
        }
    };
    let reach = scores.iter().position(|&s| reaches(s));
    let by = reach.unwrap_or(last);
    // PCs: the first step at which each crosses its half threshold.
    let k = traj.r2.first().map_or(0, |r| r.len());
    let mut pcs = Vec::new();
    // A Y as wide as n − 1 fits every PC from the start: no PC is captured *by* any score.
    let k_told = if traj.pc_saturated { 0 } else { k };
    for i in 0..k_told {
        let tr: Vec<f64> = traj.r2.iter().map(|r| r[i]).collect();
        let thr = Threshold::Half.resolve(tr[0]);
        let captured = if dist {
            tr.iter().position(|&v| v >= thr).is_some_and(|s| s <= by)
        } else {
            first_crossing(&tr, scores, thr).is_some_and(|c| c <= value)
        };
        if captured {
            pcs.push(i + 1);
        }
    }
    let variance: f64 = if traj.pc_saturated {
        f64::NAN
    } else {
        pcs.iter()
            .map(|&i| evr.get(i - 1).copied().unwrap_or(0.0))
            .sum()
    };
    let mut decodable = Vec::new();
    let mut decodable_at = Vec::new();
    let mut x_decodes = Vec::new();
    let mut clauses = Vec::new();
    for (j, r) in refs.iter().enumerate() {
        let name = r.variable.clone();
        let above = x_above.get(j).copied().unwrap_or(false);
        x_decodes.push((name.clone(), above));
        if !above {
            decodable.push((name.clone(), false));
            decodable_at.push((name.clone(), None));
            clauses.push(format!(
                "X itself does not decode {name} above chance (accuracy {:.2}, chance {:.2}), so no score makes it decodable",
                r.reference.accuracy, r.reference.chance
            ));
            continue;
        }
        let acc = &traj.accuracies[j];
        let (at, yes) = if dist {
            match acc.iter().position(|&a| a >= r.threshold) {
                Some(kk) => (Some(traj.decode_scores[kk]), traj.decode_steps[kk] <= by),
                None => (None, false),
            }
        } else {
            let at = first_crossing(acc, &traj.decode_scores, r.threshold);
            (at, at.is_some_and(|a| a <= value))
        };
        decodable.push((name.clone(), yes));
        decodable_at.push((name.clone(), at));
        clauses.push(match (yes, at) {
            (true, Some(a)) if dist => format!("{name} was decodable by then (from {measure} {a:.3})"),
            (true, Some(a)) => format!("{name} was decodable by then (from {measure} {a:.3} on)"),
            (false, Some(a)) if dist => {
                format!("{name} becomes decodable only later, at {measure} {a:.3}")
            }
            (false, Some(a)) => format!("{name} becomes decodable only at {measure} {a:.3}"),
            _ => format!(
                "{name} never became decodable in the synthetic run (which ended at {measure} {:.3})",
                scores[last]
            ),
        });
    }
    let captured = if traj.pc_saturated {
        "every PC of X, as any Y this wide does (in-sample R² is trivially 1 once Y has n − 1 columns, so this says nothing)".to_string()
    } else if pcs.is_empty() {
        "none of X's PCs".to_string()
    } else if pcs.len() > 6 {
        format!(
            "{} of the {k} PCs that hold ≥ 1% of X's variance ({} of the variance)",
            pcs.len(),
            percent(variance)
        )
    } else {
        format!("{} ({} of the variance)", pc_list(&pcs), percent(variance))
    };
    let head = match reach {
        Some(0) => format!(
            "A random Y, before any optimisation, already scores {measure} {:.3}, {} your {value:.3}: on this recording your score is what an unrelated Y gets",
            scores[0],
            if dist { "at or below" } else { "at or above" }
        ),
        Some(t) if dist => format!(
            "{measure} is a distance, so it is placed by steps only: a synthetic Y reaches your {value:.3} after {t} steps, having captured {captured}"
        ),
        Some(t) => format!(
            "A synthetic Y reaches your {measure} of {value:.3} after {t} steps, having captured {captured}"
        ),
        None if last == 0 => format!(
            "The synthetic run stopped at once: a random Y already scores {measure} {:.3}, past the calibration's stop score, so {measure} is saturated on this recording and your {value:.3} cannot be placed",
            scores[0]
        ),
        None => format!(
            "The synthetic Y never reached your {measure} of {value:.3} in its {last} steps (it ended at {:.3}, having captured {captured})",
            scores[last]
        ),
    };
    let mut verdict = head;
    for c in clauses {
        verdict.push_str("; ");
        verdict.push_str(&c);
    }
    verdict.push('.');
    Placement {
        seed: traj.seed,
        steps_to_reach: reach,
        pcs_captured: pcs,
        variance_captured: variance,
        decodable,
        decodable_at,
        x_decodes,
        by_steps_only: dist,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r_at_chance() -> Reference {
        Reference {
            variable: "direction".into(),
            reference: crate::analysis::decode::Decoding {
                accuracy: 0.13,
                per_time: vec![],
                pooled: false,
                chance: 0.125,
                classes: 8,
                folds: 5,
            },
            threshold: 0.13,
        }
    }

    #[test]
    fn pc_lists_are_ranges() {
        assert_eq!(pc_list(&[1, 2, 4]), "PC1–2, PC4");
        assert_eq!(pc_list(&[3]), "PC3");
        assert_eq!(pc_list(&[]), "");
    }

    #[test]
    fn a_score_is_placed_at_its_first_step_with_the_pcs_captured_by_then() {
        let traj = Trajectory {
            measure: "cka".into(),
            seed: 0,
            distance: false,
            scores: vec![0.1, 0.5, 0.8, 0.95],
            // PC1 crosses half (0.5 from 0) between steps 0 and 1, PC2 at step 3.
            r2: vec![
                vec![0.0, 0.0],
                vec![0.6, 0.1],
                vec![0.9, 0.2],
                vec![0.95, 0.7],
            ],
            decode_steps: vec![0, 2, 3],
            decode_scores: vec![0.1, 0.8, 0.95],
            accuracies: vec![vec![0.1, 0.3, 0.9]],
            reached_stop: true,
            pc_saturated: false,
        };
        let r = Reference {
            variable: "direction".into(),
            reference: crate::analysis::decode::Decoding {
                accuracy: 1.0,
                per_time: vec![],
                pooled: false,
                chance: 0.125,
                classes: 8,
                folds: 5,
            },
            threshold: 0.8875,
        };
        let p = place("cka", 0.8, &traj, &[0.6, 0.3], &[r], &[true]);
        assert_eq!(p.steps_to_reach, Some(2));
        assert_eq!(p.pcs_captured, vec![1]);
        assert!((p.variance_captured - 0.6).abs() < 1e-15);
        assert_eq!(p.decodable, vec![("direction".into(), false)]);
        assert!(p.verdict.starts_with("A synthetic Y reaches your linear CKA of 0.800 after 2 steps, having captured PC1 (60% of the variance); direction becomes decodable only at linear CKA 0.9"), "{}", p.verdict);
        // X at chance: no threshold is reported, the verdict says why.
        let q = place("cka", 0.8, &traj, &[0.6, 0.3], &[r_at_chance()], &[false]);
        assert_eq!(q.decodable_at, vec![("direction".into(), None)]);
        assert!(
            q.verdict
                .contains("X itself does not decode direction above chance"),
            "{}",
            q.verdict
        );
        // A distance is placed by steps.
        let d = Trajectory {
            distance: true,
            scores: vec![9.0, 5.0, 2.0, 1.0],
            ..traj.clone()
        };
        let p = place("procrustes-euclidean", 3.0, &d, &[0.6, 0.3], &[], &[]);
        assert_eq!(p.steps_to_reach, Some(2));
        assert!(p.by_steps_only && p.verdict.contains("placed by steps only"));
        // A Y as wide as n − 1: every R² is 1 from step 0, so no PC counts as captured by a
        // score, and the verdict says why rather than "captured PC1–2 (100%)".
        let wide = Trajectory {
            r2: vec![vec![1.0, 1.0]; 4],
            pc_saturated: true,
            ..traj.clone()
        };
        let w = place("cka", 0.8, &wide, &[0.6, 0.3], &[], &[]);
        assert!(w.pcs_captured.is_empty() && w.variance_captured.is_nan());
        assert!(
            w.verdict.contains("as any Y this wide does"),
            "{}",
            w.verdict
        );
    }
}
