//! The steps the simulated network takes with an outbound message — `sent`,
//! `delivered`, `read`, or `failed` — by its customer's rules and the
//! configured delays, and the callbacks that report them.

use std::collections::HashMap;

use wabiz_domain::callbacks::{
    CallbackKind, CallbackPolicy, Conversation, GroupReceipt, NewCallback, Outbox, StatusEvent,
};
use wabiz_domain::error::ErrorCode;
use wabiz_domain::groups::Group;
use wabiz_domain::messages::plan::DeliveryPlan;
use wabiz_domain::messages::{Failure, MessageStatus, PricingCategory, RecipientType};
use wabiz_domain::ports::{DueMessage, Store, StoreError, Transition};

use crate::customers::{Customer, customer, reply_to};

/// Delays between the steps, in milliseconds (all zero for load tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    /// Accepted → `sent`.
    pub sent_ms: u64,
    /// `sent` → `delivered`.
    pub delivered_ms: u64,
    /// `delivered` → `read`.
    pub read_ms: u64,
}

impl Default for Delays {
    fn default() -> Self {
        Self { sent_ms: 100, delivered_ms: 500, read_ms: 2000 }
    }
}

/// Longest chain of steps taken at once (a bound, should a rule loop).
const MAX_CHAIN: usize = 8;

/// The next step of a due message at `now_ms`, or `None` when it has none.
/// A message's own plan (chaos) comes before the configured delays.
pub fn next_step(due: &DueMessage, now_ms: i64, delays: Delays) -> Option<Transition> {
    use MessageStatus::{Accepted, Delivered, Failed, Read, Sent};
    let plan = due.plan.as_ref();
    let delays = plan.and_then(|p| p.delays_ms).map_or(delays, |d| Delays {
        sent_ms: d.sent,
        delivered_ms: d.delivered,
        read_ms: d.read,
    });
    let stop_at = plan.and_then(|p| p.stop_at);
    let planned_failure = plan.and_then(|p| p.fail.as_ref()).filter(|f| f.from == due.status);
    let who = customer(&due.peer);
    let after = |ms: u64| Some(now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
    let delivered_delay = match who {
        Customer::Slow => delays.delivered_ms.saturating_mul(10).max(5_000),
        _ => delays.delivered_ms,
    };
    // A message still undelivered at its `ttl` expires (410) instead.
    let expired = due.expires_at.is_some_and(|at| now_ms >= at);
    let (status, errors, next) = match (due.status, who) {
        (Accepted | Sent, _) if expired => (
            Failed,
            Some(Failure::new(ErrorCode::MessageExpired, "Message was not delivered within its time-to-live")),
            None,
        ),
        // A recipient who is not on WhatsApp fails first; then a failure decided
        // at acceptance (a template that does not fit, the 24-hour window).
        (Accepted, Customer::NotOnWhatsApp) => {
            (Failed, Some(Failure::new(ErrorCode::UserNotValid, "Recipient is not a valid WhatsApp user")), None)
        }
        (Accepted, _) if due.failure.is_some() => (Failed, due.failure.clone(), None),
        (Accepted | Sent, _) if planned_failure.is_some() => (Failed, planned_failure.map(|f| f.errors.clone()), None),
        // Never delivered: it waits for its expiry.
        (Accepted, _) if stop_at == Some(Sent) => (Sent, None, due.expires_at),
        // Delivery later than the expiry: the next step happens at the expiry.
        (Accepted, _) => {
            let next = after(delivered_delay).map(|at| due.expires_at.map_or(at, |exp| at.min(exp)));
            (Sent, None, next)
        }
        (Sent, Customer::Incapable) => (
            Failed,
            Some(Failure::new(ErrorCode::ReceiverIncapable, "Receiver is incapable of receiving this message")),
            None,
        ),
        (Sent, _) if stop_at == Some(Sent) => return None,
        (Sent, Customer::NeverReads) => (Delivered, None, None),
        (Sent, _) if stop_at == Some(Delivered) => (Delivered, None, None),
        (Sent, _) => (Delivered, None, after(delays.read_ms)),
        (Delivered, _) => (Read, None, None),
        _ => return None,
    };
    Some(Transition {
        id: due.id.clone(),
        from_status: due.status,
        status,
        at: now_ms / 1000,
        errors,
        next_event_at: next,
        reply: None,
        conversation: None,
        callbacks: Vec::new(),
    })
}

/// The steps of `d` due at `now`: the next one, and those after it that
/// are due at once (zero delays).
pub fn chain(d: &DueMessage, now: i64, delays: Delays, business: &str) -> Vec<Transition> {
    let mut chain = Vec::new();
    let mut cur = d.clone();
    while let Some(mut t) = next_step(&cur, now, delays) {
        // A reply is stored with the step that triggers it.
        if t.status == MessageStatus::Read {
            t.reply = reply_to(d, business, now);
        }
        let again = t.next_event_at.is_some_and(|at| at <= now) && chain.len() < MAX_CHAIN;
        cur.status = t.status;
        chain.push(t);
        if !again {
            return chain;
        }
    }
    if chain.is_empty() {
        // Nothing left to do: just stop scheduling it.
        chain.push(Transition {
            id: d.id.clone(),
            from_status: d.status,
            status: d.status,
            at: now / 1000,
            errors: None,
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: Vec::new(),
        });
    }
    chain
}

/// The statuses of one message's steps stored in one transaction become one
/// callback (one row, one POST) instead of one each: a third of the queue
/// writes with zero delays. It goes with the last step that carries a status,
/// or before any other callback (a reply) so that the customer's order holds.
fn merge_status_callbacks(chain: &mut [Transition]) {
    let Some(last_with_status) = chain.iter().rposition(|t| t.callbacks.iter().any(|c| c.kind == CallbackKind::Status))
    else {
        return;
    };
    let mut pending: Option<NewCallback> = None;
    for (i, t) in chain.iter_mut().enumerate() {
        let mut out = Vec::with_capacity(t.callbacks.len());
        for cb in std::mem::take(&mut t.callbacks) {
            if cb.kind == CallbackKind::Status {
                match &mut pending {
                    Some(p) => p.append(&cb),
                    None => {
                        // Room for the usual three statuses, grown once.
                        let mut cb = cb;
                        cb.item.reserve(2 * (cb.item.len() + 1));
                        pending = Some(cb);
                    }
                }
            } else {
                out.extend(pending.take());
                out.push(cb);
            }
        }
        if i == last_with_status {
            out.extend(pending.take());
        }
        t.callbacks = out;
    }
}

/// The next steps of each due message, with the callbacks that report
/// them. A `sent` step opens (or joins) the customer's pricing conversation
/// first, so that its status can name it.
pub async fn build_steps(
    store: &dyn Store,
    outbox: &Outbox,
    business: &str,
    delays: Delays,
    due: &[DueMessage],
    now: i64,
) -> Result<Vec<Transition>, StoreError> {
    let policy = outbox.policy();
    // Each message's steps that are due now, in order: with zero delays
    // `sent`, `delivered` and `read` are stored in one transaction.
    let chains: Vec<Vec<Transition>> = due.iter().map(|d| chain(d, now, delays, business)).collect();

    // The messages becoming `sent` and their conversations.
    let sending: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, chain)| chain.iter().any(|t| t.status == MessageStatus::Sent && t.moves()))
        .map(|(i, _)| i)
        .collect();
    let wanted: Vec<(String, PricingCategory)> =
        sending.iter().map(|&i| (due[i].peer.clone(), due[i].category.unwrap_or(PricingCategory::Service))).collect();
    let opened = if wanted.is_empty() { Vec::new() } else { store.open_conversations(wanted, now / 1000).await? };
    let mut conversation_of: HashMap<usize, Conversation> = sending.into_iter().zip(opened).collect();

    // The participants of the groups messaged, read once per batch (group
    // messages are few): each one's receipt is a status of its own.
    let mut members: HashMap<&str, Vec<String>> = HashMap::new();
    for d in due.iter().filter(|d| d.recipient_type == RecipientType::Group) {
        if !members.contains_key(d.peer.as_str()) {
            let group = store.get_group(&d.peer).await?;
            let others = group
                .and_then(|r| serde_json::from_str::<Group>(&r.document).ok())
                .map(|g| g.participants.into_iter().filter(|p| p != business).collect())
                .unwrap_or_default();
            members.insert(&d.peer, others);
        }
    }

    let mut steps = Vec::with_capacity(chains.iter().map(Vec::len).sum());
    for (i, (d, chain)) in due.iter().zip(chains).enumerate() {
        let first = steps.len();
        // The conversation the message is in, once known.
        let mut current: Option<Conversation> = d.conversation.as_ref().map(Conversation::joined);
        for mut t in chain {
            if !t.moves() {
                steps.push(t);
                continue;
            }
            let conversation = if t.status == MessageStatus::Sent {
                let c = conversation_of.remove(&i);
                t.conversation.clone_from(&c);
                current = c.as_ref().map(Conversation::joined);
                c
            } else {
                // Only the `sent` status tells that the conversation opened here.
                current.clone()
            };
            let event = StatusEvent {
                message_id: &d.id,
                recipient_id: &d.peer,
                status: t.status,
                at: t.at,
                errors: t.errors.as_ref(),
                conversation: conversation.as_ref(),
                group: None,
            };
            match members.get(d.peer.as_str()) {
                None => t.callbacks.extend(Outbox::status(&policy, &event, now)),
                Some(members) => t.callbacks.extend(group_statuses(&policy, &event, members, now)),
            }
            if let Some(reply) = &t.reply {
                let doc = serde_json::from_str::<serde_json::Value>(&reply.content).ok();
                t.callbacks.extend(doc.and_then(|doc| Outbox::inbound(&policy, &doc, now)));
            }
            steps.push(t);
        }
        merge_status_callbacks(&mut steps[first..]);
        if let Some(plan) = &d.plan {
            disorder_callbacks(&mut steps[first..], plan);
        }
    }
    Ok(steps)
}

/// The statuses of a group message's step: `sent` and `failed` once for the
/// group, `delivered` and `read` once per participant (`groups.md` §5,
/// Recommended), all in one callback.
fn group_statuses(
    policy: &CallbackPolicy,
    event: &StatusEvent<'_>,
    members: &[String],
    now: i64,
) -> Option<NewCallback> {
    let per_participant = matches!(event.status, MessageStatus::Delivered | MessageStatus::Read);
    if !per_participant || members.is_empty() {
        let e = StatusEvent { group: Some(GroupReceipt { participant_id: None }), ..*event };
        return Outbox::status(policy, &e, now);
    }
    let mut out: Option<NewCallback> = None;
    for member in members {
        let e = StatusEvent { group: Some(GroupReceipt { participant_id: Some(member) }), ..*event };
        let Some(cb) = Outbox::status(policy, &e, now) else { continue };
        match &mut out {
            Some(first) => first.append(&cb),
            None => out = Some(cb),
        }
    }
    out
}

/// A plan's webhook disorder: status callbacks stored twice, or held back
/// so that the customer's later callbacks overtake them. Everything is still
/// stored with the step, so a crash loses nothing.
fn disorder_callbacks(steps: &mut [Transition], plan: &DeliveryPlan) {
    if !plan.duplicate && plan.disorder_ms.is_none() {
        return;
    }
    for t in steps {
        let mut out = Vec::with_capacity(t.callbacks.len() * 2);
        for mut cb in std::mem::take(&mut t.callbacks) {
            if cb.kind == CallbackKind::Status {
                if let Some(ms) = plan.disorder_ms {
                    cb.hold_back(ms);
                }
                if plan.duplicate {
                    out.push(cb.clone());
                }
            }
            out.push(cb);
        }
        t.callbacks = out;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use MessageStatus::{Accepted, Delivered, Failed, Read, Sent};

    fn step(status: MessageStatus, callbacks: &[(CallbackKind, &str)]) -> Transition {
        Transition {
            id: "m".into(),
            from_status: Accepted,
            status,
            at: 0,
            errors: None,
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: callbacks
                .iter()
                .map(|(kind, item)| NewCallback {
                    kind: *kind,
                    peer: "1555".into(),
                    subject: Some("m".into()),
                    item: (*item).into(),
                    contact: None,
                    created_at: 0,
                })
                .collect(),
        }
    }

    fn items(chain: &[Transition]) -> Vec<Vec<String>> {
        chain.iter().map(|t| t.callbacks.iter().map(|c| c.item.clone()).collect()).collect()
    }

    #[test]
    fn a_chain_of_statuses_becomes_one_callback_in_order() {
        let s = CallbackKind::Status;
        let mut chain = vec![step(Sent, &[(s, "1")]), step(Delivered, &[(s, "2")]), step(Read, &[(s, "3")])];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec![], vec!["1,2,3".to_owned()]]);

        // A reply keeps its place after the statuses before it.
        let mut chain =
            vec![step(Sent, &[(s, "1")]), step(Read, &[(s, "2"), (CallbackKind::Message, "reply")]), step(Read, &[])];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec!["1,2".to_owned(), "reply".to_owned()], vec![]]);

        // Filtered statuses (no callback) leave the others alone.
        let mut chain = vec![step(Sent, &[]), step(Delivered, &[(s, "2")]), step(Read, &[])];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec!["2".to_owned()], vec![]]);
    }

    /// A text to `peer` in `status` (`{"body":"hello"}`).
    pub(crate) fn due(peer: &str, status: MessageStatus) -> DueMessage {
        DueMessage {
            id: "m".into(),
            peer: peer.into(),
            recipient_type: RecipientType::Individual,
            status,
            failure: None,
            kind: "text".into(),
            content: r#"{"body":"hello"}"#.into(),
            category: None,
            conversation: None,
            expires_at: None,
            plan: None,
        }
    }

    fn walk(peer: &str, delays: Delays) -> Vec<(MessageStatus, Option<i64>)> {
        let mut status = Accepted;
        let mut now = 1_000_000;
        let mut out = Vec::new();
        while let Some(t) = next_step(&due(peer, status), now, delays) {
            out.push((t.status, t.next_event_at.map(|n| n - now)));
            status = t.status;
            match t.next_event_at {
                Some(n) => now = n,
                None => break,
            }
        }
        out
    }

    #[test]
    fn customers_follow_their_rules() {
        let d = Delays { sent_ms: 10, delivered_ms: 20, read_ms: 30 };
        assert_eq!(walk("16315551234", d), [(Sent, Some(20)), (Delivered, Some(30)), (Read, None)]);
        assert_eq!(walk("15550000001", d), [(Failed, None)]);
        assert_eq!(walk("15550000002", d), [(Sent, Some(20)), (Failed, None)]);
        assert_eq!(walk("15550000003", d), [(Sent, Some(20)), (Delivered, None)]);
        assert_eq!(walk("15550000004", d), [(Sent, Some(5_000)), (Delivered, Some(30)), (Read, None)]);
        let zero = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        assert_eq!(walk("16315551234", zero).len(), 3);
        assert!(next_step(&due("1", Read), 0, d).is_none());
        let template = Failure::new(ErrorCode::TemplateMissing, "no such template");
        let doomed = DueMessage { failure: Some(template.clone()), ..due("16315551234", Accepted) };
        let t = next_step(&doomed, 0, d).unwrap();
        assert_eq!((t.status, t.errors, t.next_event_at), (Failed, Some(template), None));
    }

    #[test]
    fn the_read_step_of_an_answering_customer_carries_the_reply() {
        let zero = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        let echo = chain(&due("15550000005", Accepted), 7, zero, "1");
        assert_eq!(echo[2].status, Read);
        assert!(echo[2].reply.is_some(), "the reply comes with the read step");
        assert!(echo[..2].iter().all(|t| t.reply.is_none()));
    }

    #[test]
    fn steps_due_at_once_are_chained() {
        let zero = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        let statuses = |c: Vec<Transition>| c.into_iter().map(|t| (t.from_status, t.status)).collect::<Vec<_>>();
        assert_eq!(
            statuses(chain(&due("16315551234", Accepted), 7, zero, "1")),
            [(Accepted, Sent), (Sent, Delivered), (Delivered, Read)]
        );
        // With delays, one step at a time.
        assert_eq!(statuses(chain(&due("16315551234", Accepted), 7, Delays::default(), "1")), [(Accepted, Sent)]);
        // Nothing left: one step that only stops the schedule.
        assert_eq!(statuses(chain(&due("16315551234", Read), 7, zero, "1")), [(Read, Read)]);
    }

    #[test]
    fn undelivered_messages_expire_at_their_ttl() {
        let d = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        let slow = DueMessage { expires_at: Some(1_000), ..due("15550000004", Accepted) };
        let sent = next_step(&slow, 0, d).unwrap();
        assert_eq!((sent.status, sent.next_event_at), (Sent, Some(1_000)), "wakes at the expiry");
        let expired = next_step(&DueMessage { status: Sent, ..slow.clone() }, 1_000, d).unwrap();
        assert_eq!(expired.status, Failed);
        assert_eq!(expired.errors.and_then(|f| f.code()), Some(ErrorCode::MessageExpired));
        // Delivered in time: the ttl changes nothing.
        let quick = DueMessage { expires_at: Some(1_000), ..due("16315551234", Sent) };
        assert_eq!(next_step(&quick, 10, d).unwrap().status, Delivered);
    }

    #[test]
    fn failures_carry_their_error() {
        let t = next_step(&due("15550000001", Accepted), 5_000, Delays::default()).unwrap();
        assert_eq!(t.at, 5);
        let errors = serde_json::to_value(t.errors.unwrap()).unwrap();
        assert_eq!(errors[0]["code"], 1013);
        assert_eq!(errors[0]["title"], "User is not valid");
    }
}
