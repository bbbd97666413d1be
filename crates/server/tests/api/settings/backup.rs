//! Backup and restore (items 32–37).

use wabiz_domain::settings::backup;

use super::*;

const UNABLE_TO_DECRYPT: &str = "Unable to decrypt backup data";

/// Items 32 and 37.
#[tokio::test]
async fn backups_need_a_registered_number_and_a_password() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, BACKUP, json!({"password": "pw"})).await;
    assert_code(s, &b, 500, 1011);

    let (app, admin) = registered().await;
    let (s, b) = app.post(&admin, BACKUP, json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = app.post(&admin, BACKUP, json!({"password": ""})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.post(&admin, BACKUP, json!({"password": 123})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("password", "123"));
    let (s, b) = app.post(&admin, BACKUP, json!({"password": "p".repeat(1025)})).await;
    assert_code(s, &b, 400, 1009);
}

/// Item 33, and what a backup holds (§6.1).
#[tokio::test]
async fn a_backup_is_an_encrypted_blob_of_the_settings() {
    let (app, admin) = registered().await;
    let _user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"heartbeat_interval": 33})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);

    let one = make_backup(&app, &admin, "pw").await;
    let two = make_backup(&app, &admin, "pw").await;
    assert_ne!(one, two, "two backups of the same state differ");
    assert!(backup::decrypt("wrong", &one).is_err(), "the password matters");

    let doc = open_backup(&one, "pw");
    assert_eq!(doc["format"], json!(1));
    for key in ["application", "media_providers", "registration", "two_step_pin_hash", "profile", "business_profile"] {
        assert!(doc.get(key).is_some(), "{key} missing from the backup: {doc}");
    }
    assert!(doc["two_step_pin_hash"].is_string(), "{doc}");
    let plain = doc.to_string();
    assert!(plain.contains("33"), "the application settings are in it");
    assert!(!plain.contains("jdoe"), "users are not in a backup");
    assert!(!plain.contains(&admin), "tokens are not in a backup");
    assert!(!plain.contains("123456"), "the PIN only as a hash");
}

/// Item 34.
#[tokio::test]
async fn a_restore_brings_the_backed_up_settings_back() {
    let (app, admin) = registered().await;
    let (s, b) = app
        .patch(&admin, APPLICATION, json!({"heartbeat_interval": 10, "webhooks": {"url": "https://a.example/h"}}))
        .await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "before"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "before@x.co"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(120, 100)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);

    let settings_a = app_settings(&app, &admin).await;
    let photo_a = photo_bytes(&app, &admin, "").await;
    let hash_a = pin_hash(&app, &admin).await;
    let blob = make_backup(&app, &admin, "pw").await;

    // State B.
    let (s, b) = app.patch(&admin, APPLICATION, json!({"heartbeat_interval": 20, "webhooks": {"url": ""}})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.delete(&admin, &format!("{PROVIDERS}/p1")).await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p2", "t")).await;
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "after"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "after@x.co"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.delete(&admin, PHOTO).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    let settings_b = app_settings(&app, &admin).await;
    assert_ne!(settings_a, settings_b);

    // Refused restores change nothing.
    let mut tampered = blob.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for (password, data) in
        [("wrong", blob.as_str()), ("pw", "garbage"), ("pw", tampered.as_str()), ("pw", "WABK1."), ("pw", "")]
    {
        let body = json!({"password": password, "data": data});
        let (s, b) = app.post(&admin, RESTORE, body).await;
        assert_one_error(s, &b, 400, 1009, UNABLE_TO_DECRYPT);
    }
    assert_eq!(app_settings(&app, &admin).await, settings_b);
    assert_eq!(about(&app, &admin).await, "after");
    assert_eq!(providers(&app, &admin).await, provider_bearer("p2", "t"));

    let (s, b) = app.post(&admin, RESTORE, json!({"password": "pw", "data": blob, "x": 1})).await;
    assert_meta_only(s, &b, 200);
    // The admin's token is still valid, and everything is back.
    assert_eq!(app_settings(&app, &admin).await, settings_a);
    assert_eq!(providers(&app, &admin).await, provider_bearer("p1", "t"));
    assert_eq!(about(&app, &admin).await, "before");
    assert_eq!(business(&app, &admin).await["email"], "before@x.co");
    assert_eq!(photo_bytes(&app, &admin, "").await, photo_a);
    assert_eq!(pin_hash(&app, &admin).await, hash_a, "the two-step PIN is restored");
}

/// Item 35, and non-string fields.
#[tokio::test]
async fn a_restore_needs_a_password_then_data() {
    let (app, admin) = registered().await;
    let (s, b) = app.post(&admin, RESTORE, json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = app.post(&admin, RESTORE, json!({"data": "x"})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = app.post(&admin, RESTORE, json!({"password": "pw"})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'data'");
    let (s, b) = app.post(&admin, RESTORE, json!({"password": 1, "data": "x"})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.post(&admin, RESTORE, json!({"password": "pw", "data": 5})).await;
    assert_code(s, &b, 400, 1009);
}

/// Restores of well-encrypted content that is not a wabiz backup change nothing.
#[tokio::test]
async fn a_restore_refuses_foreign_or_future_content() {
    let (app, admin) = registered().await;
    let blob = make_backup(&app, &admin, "pw").await;
    let mut doc = open_backup(&blob, "pw");
    doc["format"] = json!(2);
    doc["application"]["heartbeat_interval"] = json!(77);
    let future = backup::encrypt("pw", doc.to_string().as_bytes()).expect("encrypt");
    let foreign = backup::encrypt("pw", br#"{"hello":"world"}"#).expect("encrypt");
    for data in [future, foreign] {
        let (s, b) = app.post(&admin, RESTORE, json!({"password": "pw", "data": data})).await;
        assert_code(s, &b, 400, 1009);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
}

/// Item 36: a restore registers a fresh, unregistered server.
#[tokio::test]
async fn a_restore_onto_a_fresh_unregistered_server_registers_it() {
    let (old, old_admin) = registered().await;
    let (s, b) = old
        .patch(
            &old_admin,
            APPLICATION,
            json!({"heartbeat_interval": 12, "webhooks": {"url": "https://example.com/hook"}}),
        )
        .await;
    assert_meta_only(s, &b, 200);
    add_provider(&old, &old_admin, provider_bearer("p1", "t")).await;
    let (s, b) = old.patch(&old_admin, ABOUT, json!({"text": "moved"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = old.post(&old_admin, BUSINESS, json!({"vertical": "OTHER"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&old, &old_admin, picture(150, 150)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = old.post(&old_admin, TWO_STEP, json!({"pin": "246810"})).await;
    assert_meta_only(s, &b, 200);
    let settings = app_settings(&old, &old_admin).await;
    let photo = photo_bytes(&old, &old_admin, "").await;
    let profile = business(&old, &old_admin).await;
    let hash = pin_hash(&old, &old_admin).await;
    assert!(hash.is_some());
    let blob = make_backup(&old, &old_admin, "move-it").await;

    let (app, admin) = unregistered().await;
    let (s, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "unregistered", "{s}: {b}");
    assert!(app_settings(&app, &admin).await.get("wa_id").is_none());

    let (s, b) = app.post(&admin, RESTORE, json!({"password": "move-it", "data": blob})).await;
    assert_meta_only(s, &b, 200);

    let got = app_settings(&app, &admin).await;
    assert_eq!(got["wa_id"], json!(NUMBER));
    assert_eq!(got, settings);
    let (s, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["health"], json!({"gateway_status": "connected"}));
    assert_eq!(providers(&app, &admin).await, provider_bearer("p1", "t"));
    assert_eq!(about(&app, &admin).await, "moved");
    assert_eq!(business(&app, &admin).await, profile);
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);

    // Backup and two-step now work, and the PIN came along.
    assert_eq!(pin_hash(&app, &admin).await, hash);
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "135790"})).await;
    assert_meta_only(s, &b, 200);
    assert_ne!(pin_hash(&app, &admin).await, hash);
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "registered now"})).await;
    assert_meta_only(s, &b, 200);
}
