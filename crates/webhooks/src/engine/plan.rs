//! The planner: which held callbacks go into which POST now. Pure: it reads
//! the window and decides; the loop marks and sends.

use std::collections::{BTreeMap, HashMap, HashSet};

use wabiz_domain::callbacks::CallbackKind;

use super::Slot;

/// Most callbacks of one POST (`webhooks.md` §1.2, Recommended).
pub const MAX_BATCH: usize = 50;
/// Most item bytes of one POST with several callbacks (receivers' body limits
/// start around 100 kB).
pub const MAX_BATCH_BYTES: usize = 64 * 1024;

/// A POST ready to go.
pub(super) struct Batch {
    pub(super) kind: CallbackKind,
    pub(super) seqs: Vec<i64>,
    bytes: usize,
    /// Most callbacks it may take.
    cap: usize,
}

/// Chooses the POSTs to start now from the window (oldest first), at most
/// `free` of them. A peer with a callback in flight (or not yet due) is
/// skipped entirely, so its callbacks never overtake each other; a peer's
/// callbacks may share one POST (in order). Callbacks without a peer have no
/// order.
///
/// The backlog that turns batching on counts every undelivered callback the
/// engine holds, in flight ones included: with sends trickling in (zero
/// receipt delays), only a few wait at any moment while the requests in
/// flight are busy, and counting those few alone sent them one per POST
/// (issue 7).
pub(super) fn plan(window: &BTreeMap<i64, Slot>, now: i64, free: usize, limit: usize) -> Vec<Batch> {
    if free == 0 {
        return Vec::new();
    }
    let cap = if window.len() > limit { MAX_BATCH } else { 1 };
    let fits = |b: &Batch, kind: CallbackKind, size: usize| {
        b.kind == kind && b.seqs.len() < b.cap && b.bytes + size <= MAX_BATCH_BYTES
    };
    let mut batches: Vec<Batch> = Vec::new();
    let mut blocked: HashSet<&str> = HashSet::new();
    let mut batch_of: HashMap<&str, usize> = HashMap::new();
    for (seq, slot) in window {
        let peer = slot.cb.peer.as_str();
        let ordered = !peer.is_empty();
        if slot.in_flight || slot.cb.next_attempt_at > now {
            if ordered {
                blocked.insert(peer);
            }
            continue;
        }
        if ordered && blocked.contains(peer) {
            continue;
        }
        let kind = slot.cb.kind;
        let size = slot.cb.item.len() + slot.cb.contact.as_ref().map_or(0, String::len);
        // A callback that failed before goes alone.
        let alone = slot.cb.attempts > 0;
        let open_new = |batches: &mut Vec<Batch>| {
            (batches.len() < free).then(|| {
                batches.push(Batch { kind, seqs: Vec::new(), bytes: 0, cap: if alone { 1 } else { cap } });
                batches.len() - 1
            })
        };
        let target = match batch_of.get(peer).copied().filter(|_| ordered) {
            // A peer's callbacks stay in the POST its first one went into.
            Some(i) => (!alone && fits(&batches[i], kind, size)).then_some(i),
            None if alone => open_new(&mut batches),
            None => match batches.iter().position(|b| fits(b, kind, size)) {
                Some(i) => Some(i),
                None => open_new(&mut batches),
            },
        };
        match target {
            Some(i) => {
                batches[i].seqs.push(*seq);
                // The first item of a batch may exceed the byte budget alone.
                batches[i].bytes += size;
                if ordered {
                    batch_of.insert(peer, i);
                }
            }
            None if ordered => {
                blocked.insert(peer);
            }
            None => {}
        }
        if batches.len() == free && batches.iter().all(|b| b.seqs.len() >= b.cap) {
            break;
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use wabiz_domain::callbacks::PendingCallback;

    use super::*;

    fn slot(seq: i64, peer: &str, kind: CallbackKind, due: i64, in_flight: bool) -> (i64, Slot) {
        let cb = PendingCallback {
            seq,
            kind,
            peer: peer.into(),
            subject: None,
            item: "{}".into(),
            contact: None,
            created_at: 0,
            attempts: 0,
            next_attempt_at: due,
            last_attempt_at: None,
            last_result: None,
        };
        (seq, Slot { cb, in_flight })
    }

    fn seqs(batches: &[Batch]) -> Vec<Vec<i64>> {
        batches.iter().map(|b| b.seqs.clone()).collect()
    }

    const S: CallbackKind = CallbackKind::Status;
    const M: CallbackKind = CallbackKind::Message;

    #[test]
    fn one_callback_per_post_while_the_backlog_is_small() {
        let w: BTreeMap<_, _> =
            [slot(1, "a", S, 0, false), slot(2, "b", S, 0, false), slot(3, "a", S, 0, false)].into();
        let b = plan(&w, 10, 6, 6);
        assert_eq!(seqs(&b), [vec![1], vec![2]], "a's second waits for its first");
    }

    #[test]
    fn callbacks_in_flight_count_toward_the_backlog() {
        // Five requests in flight (limit 6) and three new callbacks: eight
        // undelivered, more than the limit, so the three share the free slot.
        let mut w: BTreeMap<_, _> = (1..=5).map(|seq| slot(seq, &format!("f{seq}"), S, 0, true)).collect();
        w.extend([slot(6, "a", S, 0, false), slot(7, "b", S, 0, false), slot(8, "c", S, 0, false)]);
        assert_eq!(seqs(&plan(&w, 10, 1, 6)), [vec![6, 7, 8]]);
        // With fewer undelivered than the limit, one per POST.
        let small: BTreeMap<_, _> =
            [slot(1, "f", S, 0, true), slot(2, "a", S, 0, false), slot(3, "b", S, 0, false)].into();
        assert_eq!(seqs(&plan(&small, 10, 5, 6)), [vec![2], vec![3]]);
    }

    #[test]
    fn a_peer_waits_behind_its_own_callbacks() {
        // 1 is in flight; 2 is not due yet; 3 (a) and 4 (b) are behind them.
        let w: BTreeMap<_, _> = [
            slot(1, "a", S, 0, true),
            slot(2, "b", S, 500, false),
            slot(3, "a", S, 0, false),
            slot(4, "b", S, 0, false),
            slot(5, "c", S, 0, false),
        ]
        .into();
        assert_eq!(seqs(&plan(&w, 10, 5, 6)), [vec![5]]);
        assert!(plan(&w, 10, 0, 6).is_empty(), "no free slot, no POST");
    }

    #[test]
    fn callbacks_without_a_peer_have_no_order() {
        let w: BTreeMap<_, _> =
            [slot(1, "", CallbackKind::Error, 0, true), slot(2, "", CallbackKind::Error, 0, false)].into();
        assert_eq!(seqs(&plan(&w, 10, 5, 6)), [vec![2]]);
    }

    #[test]
    fn a_large_backlog_is_batched_by_kind_and_in_order() {
        let mut w = BTreeMap::new();
        for seq in 0..120 {
            let (k, v) = slot(seq, &format!("p{}", seq % 7), if seq == 3 { M } else { S }, 0, false);
            w.insert(k, v);
        }
        let b = plan(&w, 10, 2, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].seqs.len(), MAX_BATCH);
        assert_eq!(b[1].kind, M);
        // p3's message went out alone; p3's later statuses must wait for it.
        assert_eq!(b[1].seqs, [3]);
        assert!(!b[0].seqs.iter().any(|s| s % 7 == 3 && *s > 3));
        assert!(b[0].seqs.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn retried_callbacks_go_alone_and_batches_respect_the_byte_budget() {
        let mut w = BTreeMap::new();
        for seq in 0..40 {
            let (k, mut v) = slot(seq, &format!("p{seq}"), S, 0, false);
            if seq == 0 {
                v.cb.attempts = 3;
            }
            v.cb.item = "x".repeat(10_000);
            w.insert(k, v);
        }
        let b = plan(&w, 10, 3, 2);
        assert_eq!(b[0].seqs, [0], "a callback that failed before goes alone");
        assert!(b[1..].iter().all(|b| b.bytes <= MAX_BATCH_BYTES && b.seqs.len() == 6), "{:?}", seqs(&b));
    }
}
