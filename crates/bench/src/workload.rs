//! The workloads the bench knows, what each asks of the server (listener,
//! receipt delays, window, history), the traffic wrk makes for it, and the
//! matrix of workloads × engines.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::fixture::History;
use crate::wrk::Load;

/// One kind of traffic, from a user's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// The first bench's case, kept to compare with earlier figures: texts to
    /// 10,000 recipients that repeat, every customer inside the 24-hour
    /// window (`--simulator-open-window`), zero receipt delays, plain HTTP.
    Best,
    /// A marketing campaign: a template (no parameters) to distinct numbers
    /// drawn from a space of 10 million in scattered order, never twice in a
    /// run (`numbers.rs`); default receipt delays and window, HTTPS.
    Campaign,
    /// Customer service: 1,000 customers who wrote in within the last hour,
    /// free-form texts spread over them in turn, on a database that already
    /// holds 1,000,000 earlier messages of theirs (`fixture.rs`); default
    /// delays, HTTPS.
    Chat,
    /// Every send to one customer who wrote in within the last hour and has
    /// 100,000 earlier messages; default delays, HTTPS.
    OneCustomer,
    /// Customers writing in (`POST /simulator/inbound`, 10,000 senders in
    /// turn) as fast as the server takes them, each message delivered to
    /// the webhook; default settings, HTTPS.
    Inbound,
    /// The campaign through the Cloud relay (`--network cloud`): each send
    /// queued and handed to a Graph API stand-in in the bench (`cloud.rs`),
    /// whose signed webhook reports it sent, delivered and read; HTTPS.
    RelayCampaign,
}

/// The store the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The embedded SQLite database in the data dir.
    Sqlite,
    /// A fresh PostgreSQL database, created for the run and dropped after it.
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// How the server's listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    /// The default listener, with its generated self-signed certificate.
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// What the load is made of, and so what the receiver must hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// `POST /v1/messages`: three statuses (sent, delivered, read) per 201.
    Sends,
    /// `POST /simulator/inbound`: one inbound message callback per 201.
    Inbound,
}

/// What the probe sends while the load runs (it times send → `delivered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeMessage {
    /// A text: the probe's recipients are inside the window only with
    /// `--simulator-open-window`.
    Text,
    /// The campaign's template, which a closed window lets through.
    Template,
}

/// The recipients of `best` (`16315560000`–`16315569999`), clear of the
/// simulator's own number `16315550100`, which a send must refuse.
pub const BEST_RECIPIENTS: &str = "1631556";
/// The chat's customers: `16315570000`–`16315570999`.
pub const CHAT_CUSTOMERS: &str = "1631557";
pub const CHAT_CUSTOMER_COUNT: u32 = 1_000;
pub const CHAT_HISTORY_PER_CUSTOMER: u32 = 1_000;
/// The one customer of `one-customer`.
pub const ONE_CUSTOMER: &str = "16315580000";
pub const ONE_CUSTOMER_HISTORY: u32 = 100_000;
/// The customers writing in: `16315590000`–`16315599999`.
pub const INBOUND_SENDERS: &str = "1631559";

/// The template every workload registers: the campaign sends it, and the
/// probe does where the window is closed.
pub const TEMPLATE_NAMESPACE: &str = "wabiz_bench";
pub const TEMPLATE_NAME: &str = "campaign";
pub const TEMPLATE_LANGUAGE: &str = "en";

/// A template send's body to `to`.
pub fn template_body(to: &str) -> String {
    format!(
        r#"{{"to":"{to}","type":"template","template":{{"namespace":"{TEMPLATE_NAMESPACE}","name":"{TEMPLATE_NAME}","language":{{"policy":"deterministic","code":"{TEMPLATE_LANGUAGE}"}}}}}}"#
    )
}

impl Workload {
    pub const ALL: [Workload; 6] = [
        Workload::Best,
        Workload::Campaign,
        Workload::Chat,
        Workload::OneCustomer,
        Workload::Inbound,
        Workload::RelayCampaign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Best => "best",
            Workload::Campaign => "campaign",
            Workload::Chat => "chat",
            Workload::OneCustomer => "one-customer",
            Workload::Inbound => "inbound",
            Workload::RelayCampaign => "relay-campaign",
        }
    }

    pub fn scheme(self) -> Scheme {
        match self {
            Workload::Best => Scheme::Http,
            _ => Scheme::Https,
        }
    }

    /// Zero receipt delays (statuses settled at acceptance); otherwise the
    /// server's defaults (sent after 100 ms, delivered 500 ms later, read
    /// 2 s after that).
    pub fn instant_receipts(self) -> bool {
        self == Workload::Best
    }

    /// `--simulator-open-window`: every customer counts as inside the window.
    pub fn open_window(self) -> bool {
        self == Workload::Best
    }

    /// Through the Cloud relay, on the bench's Graph API stand-in.
    pub fn relay(self) -> bool {
        self == Workload::RelayCampaign
    }

    /// The earlier messages loaded into the database before the run.
    pub fn history(self) -> Option<History> {
        match self {
            Workload::Chat => Some(History {
                customers: (0..CHAT_CUSTOMER_COUNT).map(|i| format!("{CHAT_CUSTOMERS}{i:04}")).collect(),
                per_customer: CHAT_HISTORY_PER_CUSTOMER,
            }),
            Workload::OneCustomer => {
                Some(History { customers: vec![ONE_CUSTOMER.to_owned()], per_customer: ONE_CUSTOMER_HISTORY })
            }
            _ => None,
        }
    }

    pub fn traffic(self) -> Traffic {
        match self {
            Workload::Inbound => Traffic::Inbound,
            _ => Traffic::Sends,
        }
    }

    /// What the probe sends; `None`: no probe (the inbound workload sends
    /// nothing).
    pub fn probe(self) -> Option<ProbeMessage> {
        match self {
            Workload::Best => Some(ProbeMessage::Text),
            Workload::Inbound => None,
            _ => Some(ProbeMessage::Template),
        }
    }

    /// The wrk load against `base`; `slot_base` and `slots` place this wrk
    /// process among the others of a multi-node run (the campaign's numbers
    /// are split by slot).
    pub fn load(self, base: &str, token: &str, slot_base: u64, slots: u64) -> Load {
        match self {
            Workload::Best => Load::rotating_texts(base, token, BEST_RECIPIENTS, 10_000),
            Workload::Campaign | Workload::RelayCampaign => Load::campaign(base, token, slot_base, slots),
            Workload::Chat => Load::rotating_texts(base, token, CHAT_CUSTOMERS, CHAT_CUSTOMER_COUNT),
            Workload::OneCustomer => Load::rotating_texts(base, token, ONE_CUSTOMER, 1),
            Workload::Inbound => Load::inbound(base, token, INBOUND_SENDERS, 10_000),
        }
    }
}

/// One row of the matrix: a workload on an engine, on one node or several
/// multiconnect nodes sharing one PostgreSQL database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub workload: Workload,
    pub engine: Engine,
    pub nodes: u32,
}

impl Case {
    /// `postgres ×3` for three nodes.
    pub fn engine_label(&self) -> String {
        match self.nodes {
            1 => self.engine.name().to_owned(),
            n => format!("{} ×{n} (multiconnect)", self.engine.name()),
        }
    }

    /// Every workload on both engines, and the campaign on three nodes.
    pub fn matrix() -> Vec<Case> {
        let mut cases = Vec::new();
        for workload in Workload::ALL {
            for engine in [Engine::Sqlite, Engine::Postgres] {
                cases.push(Case { workload, engine, nodes: 1 });
            }
            if workload == Workload::Campaign {
                cases.push(Case { workload, engine: Engine::Postgres, nodes: 3 });
            }
        }
        cases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_every_workload_on_both_engines_and_the_campaign_on_three_nodes() {
        let m = Case::matrix();
        assert_eq!(m.len(), 13);
        for w in Workload::ALL {
            for e in [Engine::Sqlite, Engine::Postgres] {
                assert!(m.contains(&Case { workload: w, engine: e, nodes: 1 }), "{w:?} {e:?}");
            }
        }
        assert!(m.contains(&Case { workload: Workload::Campaign, engine: Engine::Postgres, nodes: 3 }));
        assert!(m.iter().all(|c| c.nodes == 1 || c.engine == Engine::Postgres));
    }

    #[test]
    fn the_template_body_is_json_of_a_template_send() {
        let v: serde_json::Value = serde_json::from_str(&template_body("12012200000")).unwrap();
        assert_eq!(v["to"], "12012200000");
        assert_eq!(v["type"], "template");
        assert_eq!(v["template"]["name"], TEMPLATE_NAME);
        assert_eq!(v["template"]["language"]["code"], TEMPLATE_LANGUAGE);
    }

    #[test]
    fn histories_put_the_chat_in_a_million_rows_and_the_one_customer_in_100_000() {
        let chat = Workload::Chat.history().unwrap();
        assert_eq!(chat.customers.len() as u64 * u64::from(chat.per_customer), 1_000_000);
        assert_eq!(chat.customers[999], "16315570999");
        let one = Workload::OneCustomer.history().unwrap();
        assert_eq!((one.customers.len(), one.per_customer), (1, 100_000));
        assert!(Workload::Campaign.history().is_none());
    }
}
