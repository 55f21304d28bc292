//! Guided lessons: the paper's points as short step-by-step tours of the explorer, in the
//! spirit of TensorFlow Playground's tutorial. Each lesson is declared once here; the page
//! reads this list for the Demonstrations drawer, the lesson card and its Previous/Next, and
//! each step is a link: its settings (a URL hash, as the state table reads it) plus
//! `lesson=ID&lstep=K`. A step's settings are complete (what they do not name is the
//! default), so a link to step 3 shows what step 3 shows.

/// What the page does once a step's settings are applied and its recording is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing: the step is read on what is already on screen (a run keeps going).
    None,
    /// A fresh run from the settings' seed, playing.
    Play,
    /// Press the button with this element id (e.g. the Joint panel's Run).
    Click(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// What to look at, in two or three sentences.
    pub text: &'static str,
    /// The step's settings as a URL hash without `#` (the state table's keys).
    pub settings: &'static str,
    pub action: Action,
}

#[derive(Clone, Copy, Debug)]
pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    pub steps: &'static [Step],
}

impl Lesson {
    /// The link (hash without `#`) of step `k` (1-based).
    pub fn link(&self, k: usize) -> String {
        let s = &self.steps[k - 1];
        let sep = if s.settings.is_empty() { "" } else { "&" };
        format!("{}{sep}lesson={}&lstep={k}", s.settings, self.id)
    }
}

/// The lessons, in the order the paper makes its points.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "cka-top-pcs",
        title: "CKA rewards the high-variance PCs first",
        steps: &[
            Step {
                text: "X is toy2d, a small recording. Y starts as random numbers and is changed step by step to raise its linear CKA with X (top left), in slow motion.",
                settings: "dataset=toy2d&measure=cka&speed=0.25",
                action: Action::Play,
            },
            Step {
                text: "Look at \"How much of each PC of X has Y captured?\": PC1's R² rises first, and CKA is already high while the low-variance PC is still poorly captured. CKA weights each PC by its variance squared.",
                settings: "dataset=toy2d&measure=cka&speed=0.25",
                action: Action::None,
            },
            Step {
                text: "The same run, now also scoring angular Procrustes (a second line in the score plot). Compare how far each score has come at a given step.",
                settings: "dataset=toy2d&measure=cka&watch=procrustes-angular-score&speed=0.25",
                action: Action::Play,
            },
        ],
    },
    Lesson {
        id: "procrustes-low-pcs",
        title: "Angular Procrustes needs the low-variance PCs",
        steps: &[
            Step {
                text: "X is golub2018 (monkey motor cortex, 86 units). Y now maximises angular Procrustes, while CKA is watched. Follow both lines in the score plot.",
                settings: "dataset=golub2018&measure=procrustes-angular-score&watch=cka&speed=2",
                action: Action::Play,
            },
            Step {
                text: "The reverse: Y maximises CKA, Procrustes watched. Where CKA stops (0.99), read the Procrustes score, and see in the R² plot how many of X's PCs Y has not captured.",
                settings: "dataset=golub2018&measure=cka&watch=procrustes-angular-score&speed=2",
                action: Action::Play,
            },
        ],
    },
    Lesson {
        id: "decoding",
        title: "A high score does not mean the task is in Y",
        steps: &[
            Step {
                text: "X is hatsopoulos2007 (reaches in 8 directions). Y maximises CKA; scroll down to \"Decoding\": the table says at which score the reach direction becomes decodable from Y.",
                settings: "dataset=hatsopoulos2007&measure=cka&speed=0.5",
                action: Action::Play,
            },
            Step {
                text: "The same with angular Procrustes: compare the score at which the direction becomes decodable with CKA's. A bare score does not say what a model has captured.",
                settings: "dataset=hatsopoulos2007&measure=procrustes-angular-score&speed=0.5",
                action: Action::Play,
            },
        ],
    },
    Lesson {
        id: "perturb",
        title: "Which changes of X does each score notice?",
        steps: &[
            Step {
                text: "Y is X with its PC12 rotated by 90° (decorrelated from X's PC12). The bars show each score: CKA barely moves, because PC12 holds little variance; angular Procrustes notices.",
                settings: "dataset=ultrametric&pert=12_1_90&panel=perturb",
                action: Action::None,
            },
            Step {
                text: "Now Y is golub2018 with its PC1 shrunk to 30%: CKA drops far more than NBS. Try other PCs, amplitudes and angles in the panel.",
                settings: "dataset=golub2018&pert=1_0.3_0&panel=perturb",
                action: Action::None,
            },
        ],
    },
    Lesson {
        id: "joint",
        title: "Two scores are not independent",
        steps: &[
            Step {
                text: "From one random Y, twenty runs each aim at a pair of (CKA, NBS) targets on the edge of the square. Rings are targets reached, crosses targets no Y reached: the green curves are the analytic bounds.",
                settings: "dataset=toy2d&panel=joint&jb=nbs&jn=6",
                action: Action::Click("joint-run"),
            },
        ],
    },
];

/// The lesson with this id.
pub fn find(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id)
}

/// The lesson ids, for messages.
pub fn ids() -> String {
    LESSONS.iter().map(|l| l.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::UiState;

    #[test]
    fn every_step_is_a_valid_link_that_names_its_recording() {
        for l in LESSONS {
            assert!(!l.steps.is_empty(), "{}", l.id);
            for k in 1..=l.steps.len() {
                let link = l.link(k);
                let (state, problems) = UiState::from_hash(&link);
                assert!(problems.is_empty(), "{link}: {problems:?}");
                assert_eq!(state.lesson, l.id);
                assert_eq!(state.lesson_step as usize, k);
                assert!(
                    link.contains("dataset="),
                    "{link}: a step names its recording"
                );
                // The state writes the same link back (the URL a reader shares).
                let (again, _) = UiState::from_hash(&state.to_hash());
                assert_eq!(again, state, "{link}");
            }
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = LESSONS.iter().map(|l| l.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), LESSONS.len());
    }
}
