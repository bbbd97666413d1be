//! The profile's about text (items 21–22), and profile updates before
//! registration.

use super::*;

/// Items 21 and 22.
#[tokio::test]
async fn the_about_text_is_set_and_read_back() {
    let (app, admin) = registered().await;
    let (s, b) = app.get(&admin, ABOUT).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"profile": {"about": {"text": ""}}}, "meta": b["meta"].clone()}));

    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "Hi"})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, "Hi");

    // 139 characters (not bytes) is the limit.
    let longest = "é".repeat(139);
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": longest})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, json!(longest));
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "a".repeat(140)})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": 5})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.patch(&admin, ABOUT, json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'text'");
    assert_eq!(about(&app, &admin).await, json!(longest), "unchanged by the failures");

    let (s, b) = app.patch(&admin, ABOUT, json!({"text": ""})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, "");
}

/// Item 22 (unregistered), and the other profile updates before registration.
#[tokio::test]
async fn profile_updates_need_a_registered_number() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "Hi"})).await;
    assert_code(s, &b, 500, 1011);
    assert_eq!(about(&app, &admin).await, "");
    let (s, b) = upload_photo(&app, &admin, picture(100, 100)).await;
    assert_code(s, &b, 500, 1011);
    let (s, b) = app.get(&admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "a@b.co"})).await;
    assert_code(s, &b, 500, 1011);
    assert_eq!(
        business(&app, &admin).await,
        json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
    );
}
