//! A bounded record of a long run: every point while the run is short, then every 2nd, 4th, …
//! point, so memory and drawing time stay flat over an endless Play while the plot keeps the
//! run's whole shape. The newest point is always kept, so a plot ends where the run is.

/// Points tagged by step, thinned by halving once more than `cap` are held.
#[derive(Clone, Debug)]
pub struct Decimated<T> {
    /// Points whose step is a multiple of `stride`, oldest first, then (if it is not one) the
    /// newest point.
    items: Vec<(usize, T)>,
    stride: usize,
    cap: usize,
    /// Whether the last item is the off-stride newest point (replaced by the next push).
    tail: bool,
}

impl<T> Default for Decimated<T> {
    /// Room for 2048 points, as the page's plots keep.
    fn default() -> Self {
        Self::new(2048)
    }
}

impl<T> Decimated<T> {
    /// Keep at most about `cap` points (at least 4).
    pub fn new(cap: usize) -> Self {
        Decimated {
            items: Vec::new(),
            stride: 1,
            cap: cap.max(4),
            tail: false,
        }
    }

    /// Record the point of `step` (steps must not decrease).
    pub fn push(&mut self, step: usize, item: T) {
        if self.tail {
            self.items.pop();
            self.tail = false;
        }
        let on_stride = step.is_multiple_of(self.stride);
        self.items.push((step, item));
        if !on_stride {
            self.tail = true;
            return;
        }
        if self.items.len() > self.cap {
            let keep = 2 * self.stride;
            let mut k = 0usize;
            let last = self.items.len() - 1;
            self.items.retain(|(s, _)| {
                let kept = s.is_multiple_of(keep) || k == last;
                k += 1;
                kept
            });
            self.stride = keep;
            self.tail = !self
                .items
                .last()
                .is_some_and(|(s, _)| s.is_multiple_of(keep));
        }
    }

    /// The kept points, oldest first (the newest always last).
    pub fn items(&self) -> &[(usize, T)] {
        &self.items
    }

    /// Mutable access to the newest point.
    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.items.last_mut().map(|(_, t)| t)
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last().map(|(_, t)| t)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Forget every point (the stride starts again at 1).
    pub fn clear(&mut self) {
        self.items.clear();
        self.stride = 1;
        self.tail = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_runs_are_kept_whole_and_long_ones_thinned_evenly() {
        let mut h = Decimated::new(8);
        for s in 0..8 {
            h.push(s, s);
        }
        assert_eq!(h.len(), 8);
        for s in 8..1000 {
            h.push(s, s);
            assert!(h.len() <= 10, "{} points at step {s}", h.len());
            assert_eq!(h.items().last().unwrap().0, s, "the newest point is kept");
            assert_eq!(h.items()[0].0, 0, "the first point is kept");
        }
        let steps: Vec<usize> = h.items().iter().map(|p| p.0).collect();
        let gaps: Vec<usize> = steps.windows(2).map(|w| w[1] - w[0]).collect();
        let stride = gaps[0];
        assert!(
            gaps[..gaps.len() - 1].iter().all(|&g| g == stride),
            "{steps:?}"
        );
        h.clear();
        assert!(h.is_empty());
    }
}
