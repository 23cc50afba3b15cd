//! Which offset of each assigned partition may be committed: the first
//! record handed out and not yet acknowledged, or past the last one handed
//! out when all are done. Acknowledgements may come in any order; the commit
//! never passes a record the app has not answered.

use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Default)]
pub struct OffsetTracker {
    assigned: HashSet<i32>,
    partitions: HashMap<i32, Partition>,
}

#[derive(Debug, Default)]
struct Partition {
    pending: BTreeSet<i64>,
    /// One past the highest offset handed out.
    next: i64,
    /// The position last committed from this tracker.
    committed: i64,
}

impl OffsetTracker {
    /// The group gave this consumer exactly `partitions`; state of the
    /// others is forgotten.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = i32>) {
        self.assigned = partitions.into_iter().collect();
        let assigned = &self.assigned;
        self.partitions.retain(|p, _| assigned.contains(p));
    }

    /// The group took `partitions` away: their records in flight are
    /// delivered again by the new owner, so nothing more is committed for them.
    pub fn revoke(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for partition in partitions {
            self.assigned.remove(&partition);
            self.partitions.remove(&partition);
        }
    }

    /// A record is handed to delivery. Returns false for a partition this
    /// consumer no longer owns (the record belongs to another member now).
    pub fn handed_out(&mut self, partition: i32, offset: i64) -> bool {
        if !self.assigned.contains(&partition) {
            return false;
        }
        let state = self
            .partitions
            .entry(partition)
            .or_insert_with(|| Partition {
                committed: offset,
                next: offset,
                ..Partition::default()
            });
        state.pending.insert(offset);
        state.next = state.next.max(offset + 1);
        true
    }

    /// The app is done with a record. Returns the position to commit when it
    /// moved forward.
    pub fn acknowledged(&mut self, partition: i32, offset: i64) -> Option<i64> {
        let state = self.partitions.get_mut(&partition)?;
        if !state.pending.remove(&offset) {
            return None;
        }
        let position = state.pending.first().copied().unwrap_or(state.next);
        if position > state.committed {
            state.committed = position;
            Some(position)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_the_contiguous_acknowledged_prefix() {
        let mut tracker = OffsetTracker::default();
        tracker.assign([0, 1]);
        for offset in 10..14 {
            assert!(tracker.handed_out(0, offset));
        }
        assert_eq!(tracker.acknowledged(0, 12), None);
        assert_eq!(tracker.acknowledged(0, 11), None);
        assert_eq!(tracker.acknowledged(0, 10), Some(13));
        assert_eq!(tracker.acknowledged(0, 13), Some(14));
        assert_eq!(tracker.acknowledged(0, 13), None, "a second ack is ignored");
        assert!(tracker.handed_out(1, 0));
        assert_eq!(tracker.acknowledged(1, 0), Some(1));
    }

    #[test]
    fn revoked_partitions_are_not_committed() {
        let mut tracker = OffsetTracker::default();
        tracker.assign([0, 1]);
        assert!(tracker.handed_out(0, 5));
        assert!(tracker.handed_out(1, 7));
        tracker.revoke([0]);
        assert_eq!(tracker.acknowledged(0, 5), None);
        assert!(!tracker.handed_out(0, 6), "another member owns it now");
        assert_eq!(tracker.acknowledged(1, 7), Some(8));
        tracker.assign([1]);
        assert!(tracker.handed_out(1, 8));
        assert!(!tracker.handed_out(0, 7));
    }

    #[test]
    fn a_partition_given_back_starts_from_what_is_fetched_again() {
        let mut tracker = OffsetTracker::default();
        tracker.assign([0]);
        assert!(tracker.handed_out(0, 3));
        tracker.revoke([0]);
        tracker.assign([0]);
        // The old delivery's answer arrives after the partition came back.
        assert_eq!(tracker.acknowledged(0, 3), None);
        assert!(tracker.handed_out(0, 3));
        assert!(tracker.handed_out(0, 4));
        assert_eq!(tracker.acknowledged(0, 4), None);
        assert_eq!(tracker.acknowledged(0, 3), Some(5));
    }
}
