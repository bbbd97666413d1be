//! A message's status history as SQLite keeps it: in the message row, one
//! line per status, each line a JSON array `[status, at, errors]` (schema 16).
//! Appending a line is part of the update that moves the message on, so a
//! status step costs no row of its own.

use wabiz_domain::ports::{StatusRecord, Transition};

/// The lines a run of one message's steps appends, in order.
pub(super) fn history_lines(run: &[Transition]) -> String {
    let mut out = String::new();
    for t in run {
        if !out.is_empty() {
            out.push('\n');
        }
        // A tuple of strings and an integer always serialises.
        out.push_str(&serde_json::to_string(&(&t.status, t.at, &t.errors)).unwrap_or_default());
    }
    out
}

/// The history in time order (`sent` before `delivered` before `read` at the
/// same instant); a status recorded twice counts once, at its first time.
/// A line that cannot be read (hand-edited) is skipped.
pub(super) fn parse_history(text: &str) -> Vec<StatusRecord> {
    let mut out: Vec<StatusRecord> = Vec::new();
    for line in text.lines() {
        let Ok((status, at, errors)) = serde_json::from_str::<(String, i64, Option<String>)>(line) else {
            tracing::warn!("a message's status history holds an unreadable line");
            continue;
        };
        if !out.iter().any(|s| s.status == status) {
            out.push(StatusRecord { status, at, errors });
        }
    }
    out.sort_by_key(|s| (s.at, rank(&s.status)));
    out
}

fn rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(status: &str, at: i64, errors: Option<&str>) -> Transition {
        Transition {
            id: "m".into(),
            from_status: "accepted".into(),
            status: status.into(),
            at,
            errors: errors.map(str::to_owned),
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: Vec::new(),
        }
    }

    #[test]
    fn lines_round_trip_in_order() {
        let errors = r#"[{"code":1013,"title":"User is not valid \"x\""}]"#;
        let text = history_lines(&[step("sent", 10, None), step("delivered", 10, None)]);
        let text = format!("{text}\n{}", history_lines(&[step("failed", 12, Some(errors))]));
        assert_eq!(text.lines().count(), 3);
        let h = parse_history(&text);
        let got: Vec<(&str, i64, Option<&str>)> =
            h.iter().map(|s| (s.status.as_str(), s.at, s.errors.as_deref())).collect();
        assert_eq!(got, [("sent", 10, None), ("delivered", 10, None), ("failed", 12, Some(errors))]);
    }

    #[test]
    fn same_instant_sorts_by_the_status_order_and_duplicates_count_once() {
        // As SQLite's json_array wrote the migrated rows.
        let text = "[\"read\",5,null]\n[\"delivered\",5,null]\n[\"sent\",5,null]\n[\"sent\",9,null]\nnot json";
        let h = parse_history(text);
        let got: Vec<(&str, i64)> = h.iter().map(|s| (s.status.as_str(), s.at)).collect();
        assert_eq!(got, [("sent", 5), ("delivered", 5), ("read", 5)]);
        assert!(parse_history("").is_empty());
    }
}
