//! What happens in the server, as a stream of events (`GET /simulator/events`):
//! messages accepted, their status steps, customers' messages, contact checks,
//! webhook attempts, and changes of settings, registration, chaos and
//! templates. Scripts and the console follow it instead of polling.
//!
//! From the first reader on, the bus keeps the last [`RETAINED`] events so
//! that a reader that lost its connection resumes where it left off
//! (`Last-Event-ID`); until then nothing is kept or even built, so a server
//! nobody watches pays nothing for the stream. Readers never
//! slow the producers: a reader that falls more than [`READER_BACKLOG`] events
//! behind is dropped and told so, and may resume from the retained events.
//! Events are this node's: they are not shared between the nodes of a
//! multiconnect deployment.

pub mod tokens;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::messages::{Failure, MessageStatus};

/// How many past events a reconnecting reader can resume from.
pub const RETAINED: usize = 10_000;
/// How far a reader may fall behind before it is dropped.
pub const READER_BACKLOG: usize = 4_096;

/// What happened. The JSON of an event is its fields, with `type` (the
/// variant's name in snake case), `at` (Unix milliseconds) and `seq` added.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// `POST /v1/messages` answered 201.
    MessageAccepted {
        id: String,
        /// The recipient's `wa_id` (or the group id).
        wa_id: String,
        #[serde(rename = "message_type")]
        kind: String,
    },
    /// An outbound message moved to `status`.
    MessageStatus {
        id: String,
        wa_id: String,
        status: MessageStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        errors: Option<Failure>,
    },
    /// A customer's message reached the business.
    MessageInbound {
        id: String,
        wa_id: String,
        #[serde(rename = "message_type")]
        kind: String,
    },
    /// `POST /v1/contacts` checked a number.
    ContactCheck { input: String, wa_id: Option<String>, status: &'static str },
    /// A webhook POST ended.
    CallbackAttempt {
        /// The customer (or group) the callbacks are about; absent for
        /// callbacks about no one (errors).
        #[serde(skip_serializing_if = "Option::is_none")]
        wa_id: Option<String>,
        /// The message ids the callbacks are about.
        messages: Vec<String>,
        /// How many stored callbacks went into the POST.
        callbacks: usize,
        delivered: bool,
        /// What the receiver answered, or why there was no answer.
        result: String,
        /// The attempt's number (1 for the first).
        attempt: u32,
    },
    /// The application settings changed.
    SettingsChanged,
    /// The business number's registration changed.
    RegistrationChanged { wa_id: Option<String>, gateway_status: &'static str },
    /// `PUT /simulator/chaos` (or a reconnection at the end of an outage).
    ChaosChanged { chaos: Value },
    /// A template's review status changed.
    TemplateStatus {
        namespace: String,
        name: String,
        language: String,
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A traffic generator started, advanced or ended.
    Traffic { id: String, state: &'static str, generated: u64 },
}

impl Event {
    /// The event's `type`, as `?types=` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Event::MessageAccepted { .. } => "message_accepted",
            Event::MessageStatus { .. } => "message_status",
            Event::MessageInbound { .. } => "message_inbound",
            Event::ContactCheck { .. } => "contact_check",
            Event::CallbackAttempt { .. } => "callback_attempt",
            Event::SettingsChanged => "settings_changed",
            Event::RegistrationChanged { .. } => "registration_changed",
            Event::ChaosChanged { .. } => "chaos_changed",
            Event::TemplateStatus { .. } => "template_status",
            Event::Traffic { .. } => "traffic",
        }
    }

    /// Every `type`, for validating `?types=` and for the documentation.
    pub const NAMES: [&'static str; 10] = [
        "message_accepted",
        "message_status",
        "message_inbound",
        "contact_check",
        "callback_attempt",
        "settings_changed",
        "registration_changed",
        "chaos_changed",
        "template_status",
        "traffic",
    ];

    /// The customer the event is about, as `?wa_id=` matches it.
    pub fn wa_id(&self) -> Option<&str> {
        match self {
            Event::MessageAccepted { wa_id, .. }
            | Event::MessageStatus { wa_id, .. }
            | Event::MessageInbound { wa_id, .. } => Some(wa_id),
            Event::ContactCheck { wa_id, .. } | Event::CallbackAttempt { wa_id, .. } => wa_id.as_deref(),
            Event::RegistrationChanged { wa_id, .. } => wa_id.as_deref(),
            _ => None,
        }
    }
}

/// An event with its place in the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    /// 1, 2, 3… since this process started.
    pub seq: u64,
    /// Unix milliseconds.
    pub at: i64,
    pub event: Event,
}

impl Stamped {
    /// The event's JSON (its fields, `type`, `seq` and `at`).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.insert("seq".into(), self.seq.into());
            map.insert("at".into(), self.at.into());
        }
        v
    }
}

/// Where a reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// With the next event.
    Now,
    /// After the event with this `seq`.
    After(u64),
}

/// What a reader gets when it subscribes: the retained events it asked for,
/// then the live ones.
pub struct Subscription {
    pub backlog: Vec<Arc<Stamped>>,
    /// Some events after the requested one are no longer retained (or the
    /// id is from before a restart): the reader missed them.
    pub gap: bool,
    pub live: broadcast::Receiver<Arc<Stamped>>,
}

struct Ring {
    next_seq: u64,
    events: VecDeque<Arc<Stamped>>,
}

/// The bus. Publishing costs a lock, a push and a channel send; nothing is
/// serialised until a reader reads.
pub struct EventBus {
    ring: Mutex<Ring>,
    tx: broadcast::Sender<Arc<Stamped>>,
    clock: Arc<dyn Clock>,
    /// Identifies this process's stream: ids from an earlier process do not resume.
    boot: String,
    /// What browsers open the stream with.
    tokens: tokens::StreamTokens,
    /// Set by the first reader: events are kept from then on.
    watched: AtomicBool,
}

impl EventBus {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        let (tx, _) = broadcast::channel(READER_BACKLOG);
        let boot = format!("{:x}", clock.now_millis());
        Arc::new(Self {
            ring: Mutex::new(Ring { next_seq: 1, events: VecDeque::with_capacity(1024) }),
            tx,
            clock,
            boot,
            tokens: tokens::StreamTokens::default(),
            watched: AtomicBool::new(false),
        })
    }

    /// The stream tokens browsers use.
    pub fn tokens(&self) -> &tokens::StreamTokens {
        &self.tokens
    }

    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// This process's stream id, the first part of every event id.
    pub fn boot(&self) -> &str {
        &self.boot
    }

    /// The SSE id of an event: `BOOT-SEQ`.
    pub fn event_id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    /// Reads an SSE id back: `Some(seq)` when it is from this process.
    pub fn parse_id(&self, id: &str) -> Option<u64> {
        let (boot, seq) = id.trim().rsplit_once('-')?;
        (boot == self.boot).then(|| seq.parse().ok()).flatten()
    }

    /// Whether events are kept (someone has read the stream since the start).
    pub fn watched(&self) -> bool {
        self.watched.load(Ordering::Acquire)
    }

    pub fn publish(&self, event: Event) {
        if self.watched() {
            self.record(event);
        }
    }

    /// Publishes what `make` builds, building it only when events are kept
    /// (the request paths use this: no allocation while nobody watches).
    pub fn publish_with(&self, make: impl FnOnce() -> Vec<Event>) {
        if self.watched() {
            for e in make() {
                self.record(e);
            }
        }
    }

    fn record(&self, event: Event) {
        let at = self.clock.now_millis();
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let stamped = Arc::new(Stamped { seq: ring.next_seq, at, event });
        ring.next_seq += 1;
        if ring.events.len() == RETAINED {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::clone(&stamped));
        // Sent under the lock, so that a subscriber sees the ring and the
        // channel agree (nothing twice, nothing missing). No reader: no error worth a word.
        let _ = self.tx.send(stamped);
    }

    pub fn subscribe(&self, from: Resume) -> Subscription {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        self.watched.store(true, Ordering::Release);
        let live = self.tx.subscribe();
        let (backlog, gap) = match from {
            Resume::Now => (Vec::new(), false),
            Resume::After(seq) => {
                let first = ring.events.front().map_or(ring.next_seq, |e| e.seq);
                let gap = seq.saturating_add(1) < first || seq >= ring.next_seq;
                let backlog = ring.events.iter().filter(|e| e.seq > seq).cloned().collect();
                (backlog, gap)
            }
        };
        Subscription { backlog, gap, live }
    }

    /// The `seq` of the last event published (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.ring.lock().unwrap_or_else(|e| e.into_inner()).next_seq - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn inbound(n: u64) -> Event {
        Event::MessageInbound { id: format!("m{n}"), wa_id: "1".into(), kind: "text".into() }
    }

    #[tokio::test]
    async fn a_reader_resumes_after_the_last_event_it_saw() {
        let bus = EventBus::new(Arc::new(SystemClock));
        bus.publish(inbound(0));
        assert_eq!(bus.last_seq(), 0, "nothing is kept before the first reader");
        drop(bus.subscribe(Resume::Now));
        for n in 1..=5 {
            bus.publish(inbound(n));
        }
        let mut sub = bus.subscribe(Resume::After(3));
        assert!(!sub.gap);
        assert_eq!(sub.backlog.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        bus.publish(inbound(6));
        assert_eq!(sub.live.recv().await.unwrap().seq, 6);
        let id = bus.event_id(6);
        assert_eq!(bus.parse_id(&id), Some(6));
        assert_eq!(bus.parse_id("0-6"), None, "another process's id");
    }

    #[test]
    fn only_the_last_events_are_retained() {
        let bus = EventBus::new(Arc::new(SystemClock));
        drop(bus.subscribe(Resume::Now));
        for n in 0..(RETAINED as u64 + 10) {
            bus.publish(inbound(n));
        }
        let sub = bus.subscribe(Resume::After(5));
        assert!(sub.gap, "events 6 to 10 are gone");
        assert_eq!(sub.backlog.len(), RETAINED);
        let sub = bus.subscribe(Resume::After(10));
        assert!(!sub.gap);
        assert_eq!(sub.backlog.len(), RETAINED);
        // An id from the future (another run of the same boot id cannot happen, but a hand-made one can).
        assert!(bus.subscribe(Resume::After(u64::MAX - 1)).gap);
    }

    #[test]
    fn events_render_with_their_type_and_place() {
        let s = Stamped {
            seq: 7,
            at: 1000,
            event: Event::MessageStatus {
                id: "m".into(),
                wa_id: "1".into(),
                status: MessageStatus::Read,
                errors: None,
            },
        };
        let v = s.to_json();
        assert_eq!(v["type"], "message_status");
        assert_eq!(v["status"], "read");
        assert_eq!((v["seq"].as_u64(), v["at"].as_i64()), (Some(7), Some(1000)));
        assert!(Event::NAMES.contains(&s.event.name()));
    }
}
