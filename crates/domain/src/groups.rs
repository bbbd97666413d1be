//! Groups (`groups.md`): the business creates groups, customers join them
//! through the invite link (on the simulated network: the simulator API),
//! admins rename them, promote, demote and remove participants, set the
//! icon; every change is a `system` group event delivered by webhook.
//!
//! A group is one document changed by compare-and-set, so two changes at once
//! cannot lose one another.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::callbacks::{NewCallback, Outbox};
use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::network::Network;
use crate::ports::{GroupRecord, Store};

/// Longest subject (Meta).
pub const MAX_SUBJECT: usize = 25;
/// Most participants, the business included (Recommended).
pub const MAX_PARTICIPANTS: usize = 256;
/// The icon must be smaller than this (Webapp).
pub const MAX_ICON_BYTES: usize = 5 * 1024 * 1024;
/// Where invite links point.
pub const INVITE_BASE: &str = "https://chat.whatsapp.com/";

/// A group's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub subject: String,
    pub creator: String,
    pub creation_time: i64,
    pub admins: Vec<String>,
    pub participants: Vec<String>,
    /// The business left it: it no longer exists for the API.
    #[serde(default)]
    pub left: bool,
}

/// A group's icon: the bytes and their type.
pub struct Icon {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

pub struct GroupService {
    store: Arc<dyn Store>,
    network: Arc<dyn Network>,
    clock: Arc<dyn Clock>,
    outbox: Outbox,
}

/// `subject`: required, a string, not blank, at most 25 characters.
fn subject_of(body: &Map<String, Value>) -> Result<String, WaError> {
    match body.get("subject") {
        None | Some(Value::Null) => Err(WaError::missing_parameter("subject")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(WaError::invalid_value("subject", s)),
        Some(Value::String(s)) if s.chars().count() > MAX_SUBJECT => {
            Err(WaError::invalid(format!("Subject exceeds {MAX_SUBJECT} characters")))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(WaError::invalid_json_value("subject", other)),
    }
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

impl GroupService {
    pub fn new(store: Arc<dyn Store>, network: Arc<dyn Network>, clock: Arc<dyn Clock>, outbox: Outbox) -> Self {
        Self { store, network, clock, outbox }
    }

    fn business(&self) -> Result<String, WaError> {
        self.network.registered_number().ok_or_else(|| WaError::new(ErrorCode::ServiceNotReady, "Service not ready"))
    }

    /// A `system` group event (`groups.md` §5), if callbacks are on:
    /// `group_id` on the message and in `system`, `from` = the operator.
    fn event(&self, group_id: &str, kind: &str, operator: &str, users: &[String], body: String) -> Option<NewCallback> {
        let now = self.clock.now_millis();
        let doc = json!({ "messages": [{
            "from": operator, "group_id": group_id, "id": crate::ids::inbound_message(), "timestamp": (now / 1000).to_string(),
            "type": "system",
            "system": { "type": kind, "body": body, "group_id": group_id, "operator": operator, "users": users },
        }]});
        Outbox::group_event(&self.outbox.policy(), group_id, &doc, now)
    }

    /// The group and its record, if the business is (still) in it.
    async fn load(&self, id: &str) -> Result<(Group, GroupRecord), WaError> {
        let not_found = || WaError::not_found(format!("Group {id} not found"));
        let record = self.store.get_group(id).await?.ok_or_else(not_found)?;
        let group: Group = serde_json::from_str(&record.document).map_err(|_| not_found())?;
        if group.left {
            return Err(not_found());
        }
        Ok((group, record))
    }

    /// Applies `change` to a group with compare-and-set, retrying when another
    /// change came first. `change` may refuse (error) or return the events.
    async fn change<F>(&self, id: &str, mut change: F) -> Result<(), WaError>
    where
        F: FnMut(&mut Group, &mut GroupRecord, &str) -> Result<Vec<NewCallback>, WaError>,
    {
        let own = self.business()?;
        for _ in 0..8 {
            let (mut group, mut record) = self.load(id).await?;
            let expected = record.version;
            let events = change(&mut group, &mut record, &own)?;
            record.document = serde_json::to_string(&group).map_err(|e| WaError::internal(e.to_string()))?;
            record.version = expected + 1;
            if self.store.update_group(&record, expected, events).await? {
                self.outbox.stored();
                return Ok(());
            }
        }
        Err(WaError::new(ErrorCode::TooManyRequests, "The group is changing too often; try again"))
    }

    fn require_admin(group: &Group, own: &str) -> Result<(), WaError> {
        if group.admins.iter().any(|a| a == own) {
            Ok(())
        } else {
            Err(WaError::new(ErrorCode::NotGroupAdmin, "Not a group admin"))
        }
    }

    /// `POST /v1/groups`: `(id, creation_time)`.
    pub async fn create(&self, body: &Map<String, Value>) -> Result<(String, i64), WaError> {
        let subject = subject_of(body)?;
        let own = self.business()?;
        let now = self.clock.now_unix();
        let group = Group {
            subject: subject.clone(),
            creator: own.clone(),
            creation_time: now,
            admins: vec![own.clone()],
            participants: vec![own.clone()],
            left: false,
        };
        let document = serde_json::to_string(&group).map_err(|e| WaError::internal(e.to_string()))?;
        // Ids are `<creator>-<seconds>`: a second group in the same second
        // takes the next free second.
        for offset in 0..60 {
            let id = format!("{own}-{}", now + offset);
            if self.store.get_group(&id).await?.is_some() {
                continue;
            }
            let record = GroupRecord {
                id: id.clone(),
                invite_code: crate::ids::group_invite(),
                document: document.clone(),
                icon: None,
                version: 1,
                created_at: now,
            };
            let events: Vec<NewCallback> = self
                .event(
                    &id,
                    "group_created",
                    &own,
                    std::slice::from_ref(&own),
                    format!("{own} created group \"{subject}\""),
                )
                .into_iter()
                .collect();
            match self.store.insert_group(&record, events).await {
                Ok(()) => {
                    self.outbox.stored();
                    return Ok((id, now));
                }
                // Another create took this id meanwhile: try the next second.
                Err(_) if self.store.get_group(&id).await?.is_some() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(WaError::new(ErrorCode::TooManyRequests, "Too many groups created at once; try again"))
    }

    /// `GET /v1/groups`: `(id, creation_time)` of every group the business is in.
    pub async fn list(&self) -> Result<Vec<(String, i64)>, WaError> {
        Ok(self
            .store
            .list_groups()
            .await?
            .into_iter()
            .filter_map(|r| {
                let g: Group = serde_json::from_str(&r.document).ok()?;
                (!g.left).then_some((r.id, g.creation_time))
            })
            .collect())
    }

    /// `GET /v1/groups/{id}`.
    pub async fn get(&self, id: &str) -> Result<Group, WaError> {
        Ok(self.load(id).await?.0)
    }

    /// A group the business is in, for a message to it or in it:
    /// 404/1012 `Group is unknown` otherwise (not the API's 404/1006).
    pub async fn known(&self, id: &str) -> Result<Group, WaError> {
        self.get(id).await.map_err(|e| {
            if e.code() == Some(ErrorCode::ResourceNotFound) {
                WaError::new(ErrorCode::GroupUnknown, "Group is unknown")
            } else {
                e
            }
        })
    }

    /// Whether the business can send to this group (`recipient_type: group`).
    pub async fn is_member(&self, id: &str) -> Result<bool, WaError> {
        match self.load(id).await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(ErrorCode::ResourceNotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/groups/{id}`.
    pub async fn set_subject(&self, id: &str, body: &Map<String, Value>) -> Result<(), WaError> {
        let subject = subject_of(body)?;
        self.change(id, |g, _, own| {
            Self::require_admin(g, own)?;
            g.subject = subject.clone();
            Ok(self
                .event(id, "group_subject_changed", own, &[], format!("{own} changed the subject to \"{subject}\""))
                .into_iter()
                .collect())
        })
        .await
    }

    /// `GET /v1/groups/{id}/invite`: the current link.
    pub async fn invite_link(&self, id: &str) -> Result<String, WaError> {
        let (group, record) = self.load(id).await?;
        Self::require_admin(&group, &self.business()?)?;
        Ok(format!("{INVITE_BASE}{}", record.invite_code))
    }

    /// `DELETE /v1/groups/{id}/invite`: the old link stops working.
    pub async fn revoke_invite(&self, id: &str) -> Result<(), WaError> {
        self.change(id, |g, r, own| {
            Self::require_admin(g, own)?;
            r.invite_code = crate::ids::group_invite();
            Ok(self
                .event(id, "group_invite_link_revoked", own, &[], format!("{own} reset this group's invite link"))
                .into_iter()
                .collect())
        })
        .await
    }

    /// `POST /v1/groups/{id}/leave`.
    pub async fn leave(&self, id: &str) -> Result<(), WaError> {
        self.change(id, |g, _, own| {
            g.left = true;
            g.participants.retain(|p| p != own);
            g.admins.retain(|p| p != own);
            Ok(self.event(id, "group_user_left", own, &[own.to_owned()], format!("{own} left")).into_iter().collect())
        })
        .await
    }

    /// `wa_ids`: required, a non-empty array of participants' ids.
    fn members_of(body: &Map<String, Value>, group: &Group) -> Result<Vec<String>, WaError> {
        let list = match body.get("wa_ids") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("wa_ids")),
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(other) => return Err(WaError::invalid_json_value("wa_ids", other)),
        };
        let mut out = Vec::with_capacity(list.len());
        for v in list {
            let Some(id) = v.as_str() else { return Err(WaError::invalid_json_value("wa_ids", v)) };
            if !group.participants.iter().any(|p| p == id) {
                return Err(WaError::invalid(format!("{id} is not a participant of the group")));
            }
            if !out.iter().any(|o| o == id) {
                out.push(id.to_owned());
            }
        }
        Ok(out)
    }

    /// `PATCH` (promote) and `DELETE` (demote) `/v1/groups/{id}/admins`.
    pub async fn set_admins(&self, id: &str, body: &Map<String, Value>, promote: bool) -> Result<(), WaError> {
        self.change(id, |g, _, own| {
            Self::require_admin(g, own)?;
            let ids = Self::members_of(body, g)?;
            if !promote && ids.contains(&g.creator) {
                return Err(WaError::invalid("The group's creator cannot be demoted"));
            }
            for i in &ids {
                let is_admin = g.admins.iter().any(|a| a == i);
                match (promote, is_admin) {
                    (true, false) => g.admins.push(i.clone()),
                    (false, true) => g.admins.retain(|a| a != i),
                    _ => {}
                }
            }
            let (kind, verb) =
                if promote { ("group_user_promoted", "made") } else { ("group_user_demoted", "dismissed") };
            let body = format!("{own} {verb} {} {}", ids.join(", "), if promote { "an admin" } else { "as admin" });
            Ok(self.event(id, kind, own, &ids, body).into_iter().collect())
        })
        .await
    }

    /// `DELETE /v1/groups/{id}/participants`.
    pub async fn remove_participants(&self, id: &str, body: &Map<String, Value>) -> Result<(), WaError> {
        self.change(id, |g, _, own| {
            Self::require_admin(g, own)?;
            let ids = Self::members_of(body, g)?;
            if ids.contains(&g.creator) {
                return Err(WaError::invalid("The group's creator cannot be removed"));
            }
            g.participants.retain(|p| !ids.contains(p));
            g.admins.retain(|p| !ids.contains(p));
            let text = format!("{own} removed {}", ids.join(", "));
            Ok(self.event(id, "group_user_left", own, &ids, text).into_iter().collect())
        })
        .await
    }

    /// `POST /v1/groups/{id}/icon`: a JPEG or PNG under 5 MB, kept as sent.
    pub async fn set_icon(&self, id: &str, bytes: Vec<u8>) -> Result<(), WaError> {
        if bytes.is_empty() {
            return Err(WaError::new(ErrorCode::RequiredParameterMissing, "No data found"));
        }
        if bytes.len() >= MAX_ICON_BYTES {
            return Err(WaError::invalid(format!("Photo size too large. Max allowed size: {MAX_ICON_BYTES} bytes")));
        }
        if image_type(&bytes).is_none() {
            return Err(WaError::invalid("The icon must be a JPEG or PNG image"));
        }
        self.change(id, |g, r, own| {
            Self::require_admin(g, own)?;
            r.icon = Some(bytes.clone());
            Ok(self
                .event(id, "group_icon_changed", own, &[], format!("{own} changed this group's icon"))
                .into_iter()
                .collect())
        })
        .await
    }

    /// `GET /v1/groups/{id}/icon`.
    pub async fn icon(&self, id: &str) -> Result<Icon, WaError> {
        let (_, record) = self.load(id).await?;
        let bytes = record.icon.ok_or_else(|| WaError::not_found(format!("Group {id} has no icon")))?;
        let content_type = image_type(&bytes).unwrap_or("image/jpeg");
        Ok(Icon { bytes, content_type })
    }

    /// `DELETE /v1/groups/{id}/icon`.
    pub async fn delete_icon(&self, id: &str) -> Result<(), WaError> {
        self.change(id, |g, r, own| {
            Self::require_admin(g, own)?;
            r.icon = None;
            Ok(self
                .event(id, "group_icon_deleted", own, &[], format!("{own} deleted this group's icon"))
                .into_iter()
                .collect())
        })
        .await
    }

    /// `POST /simulator/groups/join`: a simulated customer joins through an
    /// invite link (or its code). Returns the group id.
    pub async fn join(&self, body: &Map<String, Value>) -> Result<String, WaError> {
        let link = match body.get("invite") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("invite")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(WaError::invalid_json_value("invite", other)),
        };
        let wa_id = match body.get("wa_id") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("wa_id")),
            Some(Value::String(s)) => {
                self.network.wa_id_for_input(s).ok_or_else(|| WaError::invalid_value("wa_id", s))?
            }
            Some(other) => return Err(WaError::invalid_json_value("wa_id", other)),
        };
        let code = link.strip_prefix(INVITE_BASE).unwrap_or(&link).to_owned();
        let record = self
            .store
            .group_by_invite(&code)
            .await?
            .ok_or_else(|| WaError::not_found("The invite link is not valid (revoked or unknown)"))?;
        let id = record.id.clone();
        self.change(&id, |g, _, _| {
            if g.participants.contains(&wa_id) {
                return Ok(Vec::new());
            }
            if g.participants.len() >= MAX_PARTICIPANTS {
                return Err(WaError::invalid(format!("The group is full ({MAX_PARTICIPANTS} participants)")));
            }
            g.participants.push(wa_id.clone());
            let text = format!("{wa_id} joined using this group's invite link");
            Ok(self.event(&id, "group_user_joined", &wa_id, std::slice::from_ref(&wa_id), text).into_iter().collect())
        })
        .await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn subjects() {
        assert_eq!(subject_of(&body(json!({"subject": "Team"}))).unwrap(), "Team");
        assert_eq!(subject_of(&body(json!({}))).unwrap_err().code(), Some(ErrorCode::RequiredParameterMissing));
        let long = "x".repeat(26);
        let e = subject_of(&body(json!({ "subject": long }))).unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::ParameterValueNotValid));
        assert!(subject_of(&body(json!({"subject": "   "}))).is_err());
        assert!(subject_of(&body(json!({"subject": 5}))).is_err());
        assert!(subject_of(&body(json!({ "subject": "é".repeat(25) }))).is_ok(), "characters, not bytes");
    }

    #[test]
    fn invite_codes_and_images() {
        let (a, b) = (crate::ids::group_invite(), crate::ids::group_invite());
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert_eq!(image_type(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"GIF89a"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, failure_persistence: None, ..Default::default() })]

        /// A subject is taken exactly when it is 1 to 25 characters and not
        /// blank, and taken as written; anything else is 1008 or 1009.
        #[test]
        fn a_subject_is_taken_as_written_or_refused(subject in ".{0,40}") {
            let got = subject_of(&body(json!({ "subject": subject })));
            let fits = !subject.trim().is_empty() && subject.chars().count() <= MAX_SUBJECT;
            match got {
                Ok(taken) => proptest::prop_assert!(fits && taken == subject),
                Err(e) => {
                    proptest::prop_assert!(!fits);
                    proptest::prop_assert_eq!(e.code(), Some(ErrorCode::ParameterValueNotValid));
                }
            }
        }

        /// Invite codes are URL-safe and never repeat.
        #[test]
        fn invite_codes_are_link_safe(_n in 0u8..8) {
            let code = crate::ids::group_invite();
            proptest::prop_assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{}", code);
            proptest::prop_assert_ne!(code, crate::ids::group_invite());
        }
    }
}
