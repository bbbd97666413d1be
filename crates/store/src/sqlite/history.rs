//! A message's status history as SQLite keeps it: in the message row, one
//! line per status, each line a JSON array `[status, at, errors]` (schema 16).
//! Appending a line is part of the update that moves the message on, so a
//! status step costs no row of its own.

use wabiz_domain::messages::Failure;
use wabiz_domain::ports::{StatusRecord, Transition};

use crate::columns;

/// The lines a run of one message's steps appends, in order.
pub(super) fn history_lines(run: &[Transition]) -> String {
    let mut out = String::new();
    for t in run {
        if !out.is_empty() {
            out.push('\n');
        }
        // The errors stay JSON text inside the line, as the first rows had them.
        let errors = columns::failure_text(t.errors.as_ref());
        // A tuple of strings and an integer always serialises.
        out.push_str(&serde_json::to_string(&(t.status.as_str(), t.at, errors)).unwrap_or_default());
    }
    out
}

/// The history in time order (statuses of one instant in their order,
/// [`wabiz_domain::messages::MessageStatus::rank`]); a status recorded twice
/// counts once, at its first time. A line that cannot be read (hand-edited)
/// is skipped.
pub(super) fn parse_history(text: &str) -> Vec<StatusRecord> {
    let mut out: Vec<StatusRecord> = Vec::new();
    for line in text.lines() {
        let parsed = serde_json::from_str::<(String, i64, Option<String>)>(line).ok();
        let Some((Ok(status), at, errors)) = parsed.map(|(s, at, e)| (columns::status(&s), at, e)) else {
            tracing::warn!("a message's status history holds an unreadable line");
            continue;
        };
        if !out.iter().any(|s| s.status == status) {
            out.push(StatusRecord { status, at, errors: errors.map(|e| Failure::from_json(&e)) });
        }
    }
    out.sort_by_key(|s| (s.at, s.status.rank()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use wabiz_domain::error::ErrorCode;
    use wabiz_domain::messages::MessageStatus::{self, Accepted, Delivered, Failed, Read, Sent};

    fn step(status: MessageStatus, at: i64, errors: Option<Failure>) -> Transition {
        Transition {
            id: "m".into(),
            from_status: Accepted,
            status,
            at,
            errors,
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: Vec::new(),
        }
    }

    #[test]
    fn lines_round_trip_in_order() {
        let errors = Failure::new(ErrorCode::UserNotValid, "a \"quoted\" detail");
        let text = history_lines(&[step(Sent, 10, None), step(Delivered, 10, None)]);
        let text = format!("{text}\n{}", history_lines(&[step(Failed, 12, Some(errors.clone()))]));
        assert_eq!(text.lines().count(), 3);
        // The errors are JSON text inside the line, as the first rows had them.
        assert!(text.lines().nth(2).is_some_and(|l| l.starts_with(r#"["failed",12,"[{\"code\":1013"#)), "{text}");
        let h = parse_history(&text);
        let got: Vec<(MessageStatus, i64, Option<Failure>)> =
            h.into_iter().map(|s| (s.status, s.at, s.errors)).collect();
        assert_eq!(got, [(Sent, 10, None), (Delivered, 10, None), (Failed, 12, Some(errors))]);
    }

    #[test]
    fn same_instant_sorts_by_the_status_order_and_duplicates_count_once() {
        // As SQLite's json_array wrote the migrated rows; a line with an
        // unknown status is skipped like any unreadable line.
        let text = "[\"read\",5,null]\n[\"delivered\",5,null]\n[\"sent\",5,null]\n[\"sent\",9,null]\nnot json\n[\"deliverd\",5,null]";
        let h = parse_history(text);
        let got: Vec<(MessageStatus, i64)> = h.iter().map(|s| (s.status, s.at)).collect();
        assert_eq!(got, [(Sent, 5), (Delivered, 5), (Read, 5)]);
        assert!(parse_history("").is_empty());
    }
}
