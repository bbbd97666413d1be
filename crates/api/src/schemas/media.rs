//! `/v1/media`, described.

use serde_json::json;

use super::parts::{envelope, meta_example, object, one};
use super::{Answer, Described};

const MEDIA_ID: &str = "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68";

/// `POST /v1/media`: the raw file with its `Content-Type`.
pub fn upload() -> Described {
    Described::answers(
        201,
        envelope(&[("media", one(object(json!({"id": {"type": "string", "minLength": 1}}))))]),
        json!({"media": [{"id": MEDIA_ID}], "meta": meta_example()}),
    )
    .takes_bytes()
    .link("Download", "get_v1_media_id", "id", "/media/0/id")
    .link("Delete", "delete_v1_media_id", "id", "/media/0/id")
}

/// `GET /v1/media/{id}`: the file, with the type it was uploaded with.
pub fn download() -> Described {
    Described::with(200, Answer::Bytes("*/*")).at("id", MEDIA_ID)
}

/// `DELETE /v1/media/{id}`.
pub fn delete() -> Described {
    Described::meta_only(200).at("id", MEDIA_ID)
}
