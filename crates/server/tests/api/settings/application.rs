//! `/v1/settings/application`: reading, patching and resetting the application
//! settings (items 1–15, and `--allow-http-webhooks`).

use super::*;

const NO_VALID_PARAMETERS: &str = "No valid parameters provided";

fn error_details(body: &Value) -> BTreeSet<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"))
        .iter()
        .map(|e| e["details"].as_str().unwrap_or_else(|| panic!("error without details: {body}")).to_owned())
        .collect()
}

/// Item 1, and application settings work in any registration state.
#[tokio::test]
async fn an_unregistered_server_reports_the_documented_defaults_without_wa_id() {
    let (app, admin) = unregistered().await;
    let s = app_settings(&app, &admin).await;
    assert_eq!(s["callback_persist"], json!(true));
    assert!(s["callback_backoff_delay_ms"].is_u64(), "a number: {s}");
    assert_eq!(s["callback_backoff_delay_ms"], json!(3000));
    assert_eq!(s["max_callback_backoff_delay_ms"], json!(900000));
    assert_eq!(s["webhooks"]["max_concurrent_requests"], json!(6));
    assert!(s.get("wa_id").is_none(), "no wa_id while unregistered: {s}");
    assert!(s["webhooks"].get("url").is_none(), "no webhooks.url while unset: {s}");
    assert_eq!(s, defaults(None));

    // Settings, unlike profile or backup, need no registration.
    let (st, b) = app.patch(&admin, APPLICATION, json!({"heartbeat_interval": 10})).await;
    assert_meta_only(st, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["heartbeat_interval"], json!(10));
}

#[tokio::test]
async fn a_registered_server_reports_its_number_and_the_defaults() {
    let (app, admin) = registered().await;
    let s = app_settings(&app, &admin).await;
    assert_eq!(s["wa_id"], json!(NUMBER));
    assert_eq!(s, defaults(Some(NUMBER)));
}

/// Item 2: nested objects merge key by key.
#[tokio::test]
async fn a_webhook_url_patch_keeps_the_other_webhook_settings() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "https://example.com/hook"}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["webhooks"]["url"], "https://example.com/hook");
    assert_eq!(got["webhooks"]["max_concurrent_requests"], json!(6));
    assert_eq!(got["webhooks"]["message"], json!({"sent": true, "delivered": true, "read": true}));

    // And the other way round: a later nested change keeps the URL.
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"max_concurrent_requests": 24}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["webhooks"]["url"], "https://example.com/hook");
    assert_eq!(got["webhooks"]["max_concurrent_requests"], json!(24));
}

/// Item 3.
#[tokio::test]
async fn a_patch_needs_at_least_one_recognised_key() {
    let (app, admin) = registered().await;
    for body in [json!({}), json!({"foo": 1}), json!({"wa_id": "1"}), json!({"tcp_listen_address": "any"}), json!([])] {
        let (s, b) = app.patch(&admin, APPLICATION, body.clone()).await;
        assert_one_error(s, &b, 400, 1009, NO_VALID_PARAMETERS);
    }
    // A JSON body that is not an object at all.
    for raw in ["5", "\"x\"", "null", "true"] {
        let rb = app.authed(Method::PATCH, APPLICATION, &admin).header(CONTENT_TYPE, "application/json").body(raw);
        let (s, b) = send(rb).await;
        assert_one_error(s, &b, 400, 1009, NO_VALID_PARAMETERS);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    // An unknown key next to a recognised one is ignored.
    let (s, b) = app.patch(&admin, APPLICATION, json!({"foo": 1, "sent_status": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert!(got.get("foo").is_none(), "unknown keys are not stored: {got}");

    // `wa_id` is read-only: ignored next to a recognised key.
    let (s, b) = app.patch(&admin, APPLICATION, json!({"wa_id": "1999", "heartbeat_interval": 6})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["wa_id"], json!(NUMBER));
    assert_eq!(got["heartbeat_interval"], json!(6));

    // The Webapp's undocumented keys (§1.5) count as recognised, and change nothing.
    let before = app_settings(&app, &admin).await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"dogfood_user_limit": 5})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await, before);
}

/// Item 4, with the dotted names of nested booleans.
#[tokio::test]
async fn booleans_and_integers_are_strictly_typed() {
    let (app, admin) = registered().await;
    let cases = [
        (json!({"callback_persist": "true"}), invalid_value("callback_persist", "true")),
        (json!({"callback_persist": 1}), invalid_value("callback_persist", "1")),
        (json!({"heartbeat_interval": 5.5}), invalid_value("heartbeat_interval", "5.5")),
        (json!({"heartbeat_interval": "5"}), invalid_value("heartbeat_interval", "5")),
        (json!({"unhealthy_interval": true}), invalid_value("unhealthy_interval", "true")),
        (json!({"verbose_logging": "yes"}), invalid_value("verbose_logging", "yes")),
        (json!({"webhooks": {"message": {"read": "no"}}}), invalid_value("webhooks.message.read", "no")),
        (json!({"garbagecollector_enable": {"media": 1}}), invalid_value("garbagecollector_enable.media", "1")),
    ];
    for (body, details) in cases {
        let (s, b) = app.patch(&admin, APPLICATION, body.clone()).await;
        assert_one_error(s, &b, 400, 1009, &details);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    let (s, b) = app.patch(&admin, APPLICATION, json!({"heartbeat_interval": 60, "unhealthy_interval": 90})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!((got["heartbeat_interval"].clone(), got["unhealthy_interval"].clone()), (json!(60), json!(90)));
}

/// Item 5.
#[tokio::test]
async fn max_concurrent_requests_takes_only_the_documented_values() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"max_concurrent_requests": 12}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(12));

    for (v, shown) in [(json!(7), "7"), (json!("12"), "12"), (json!(0), "0"), (json!(12.5), "12.5")] {
        let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"max_concurrent_requests": v}})).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.max_concurrent_requests", shown));
    }
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(12));
    for n in [6, 18, 24] {
        let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"max_concurrent_requests": n}})).await;
        assert_meta_only(s, &b, 200);
        assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(n));
    }
}

/// Item 6.
#[tokio::test]
async fn backoff_delays_accept_strings_and_are_shown_as_numbers() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"callback_backoff_delay_ms": "5000"})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["callback_backoff_delay_ms"], json!(5000));
    assert!(got["callback_backoff_delay_ms"].is_u64());

    let (s, b) = app.patch(&admin, APPLICATION, json!({"max_callback_backoff_delay_ms": 60000})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.patch(&admin, APPLICATION, json!({"callback_backoff_delay_ms": 4000})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["max_callback_backoff_delay_ms"], json!(60000));
    assert_eq!(got["callback_backoff_delay_ms"], json!(4000));

    for (v, shown) in [(json!("abc"), "abc"), (json!(-1), "-1"), (json!(0), "0"), (json!(1.5), "1.5")] {
        let (s, b) = app.patch(&admin, APPLICATION, json!({"callback_backoff_delay_ms": v})).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("callback_backoff_delay_ms", shown));
    }
    let (s, b) = app.patch(&admin, APPLICATION, json!({"max_callback_backoff_delay_ms": "abc"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("max_callback_backoff_delay_ms", "abc"));
    assert_eq!(app_settings(&app, &admin).await["callback_backoff_delay_ms"], json!(4000));
}

/// Item 7.
#[tokio::test]
async fn auto_download_is_replaced_whole_and_deduplicated() {
    let (app, admin) = registered().await;
    let (s, b) =
        app.patch(&admin, APPLICATION, json!({"media": {"auto_download": ["image", "sticker", "image"]}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"], json!({"auto_download": ["image", "sticker"]}));

    // Replaced whole, not merged.
    let (s, b) = app.patch(&admin, APPLICATION, json!({"media": {"auto_download": ["audio"]}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"]["auto_download"], json!(["audio"]));

    let (s, b) = app.patch(&admin, APPLICATION, json!({"media": {"auto_download": ["gif"]}})).await;
    assert_code(s, &b, 400, 1009);
    // Nested names are dotted (as for `webhooks.max_concurrent_requests`).
    let details = b["errors"][0]["details"].as_str().unwrap_or_default();
    assert!(
        details.starts_with("Parameter 'media.auto_download' has invalid value '"),
        "the error names media.auto_download: {b}"
    );

    let (s, b) = app.patch(&admin, APPLICATION, json!({"media": {}})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'auto_download'");

    let (s, b) = app.patch(&admin, APPLICATION, json!({"media": {"auto_download": []}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"]["auto_download"], json!([]));
    let (s, b) = app
        .patch(
            &admin,
            APPLICATION,
            json!({"media": {"auto_download": ["image", "video", "voice", "sticker", "audio", "document"]}}),
        )
        .await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["media"]["auto_download"],
        json!(["image", "video", "voice", "sticker", "audio", "document"])
    );
}

/// Item 8.
#[tokio::test]
async fn log_level_takes_the_four_documented_values() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"log_level": "debug"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("log_level", "debug"));
    let (s, b) = app.patch(&admin, APPLICATION, json!({"log_level": "error", "verbose_logging": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["log_level"], "error");
    assert_eq!(got["verbose_logging"], json!(true));
    for level in ["info", "warning", "fatal"] {
        let (s, b) = app.patch(&admin, APPLICATION, json!({"log_level": level})).await;
        assert_meta_only(s, &b, 200);
        assert_eq!(app_settings(&app, &admin).await["log_level"], level);
    }
}

/// Item 9.
#[tokio::test]
async fn garbage_collector_flags_merge_key_by_key() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"garbagecollector_enable": {"messages": false}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["garbagecollector_enable"], json!({"media": false, "messages": false}));
    let (s, b) = app.patch(&admin, APPLICATION, json!({"garbagecollector_enable": {"media": true}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["garbagecollector_enable"], json!({"media": true, "messages": false}));
}

/// Item 10.
#[tokio::test]
async fn webhook_message_flags_merge_key_by_key() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"message": {"read": false}}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["webhooks"]["message"],
        json!({"sent": true, "delivered": true, "read": false})
    );
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"message": {"delivered": false}}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["webhooks"]["message"],
        json!({"sent": true, "delivered": false, "read": false})
    );
}

/// Item 11.
#[tokio::test]
async fn pass_through_can_only_be_off() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"pass_through": true})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("pass_through", "true"));
    let (s, b) = app.patch(&admin, APPLICATION, json!({"pass_through": false})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["pass_through"], json!(false));
}

/// Item 12: `sent_status` writes through to `webhooks.message.sent`.
#[tokio::test]
async fn sent_status_is_a_write_through_alias() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"sent_status": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(true));

    let (s, b) = app.patch(&admin, APPLICATION, json!({"sent_status": false})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(false));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(false));

    // Both in one PATCH: `webhooks.message.sent` wins.
    let (s, b) =
        app.patch(&admin, APPLICATION, json!({"sent_status": true, "webhooks": {"message": {"sent": false}}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(false));
}

/// Item 13.
#[tokio::test]
async fn webhook_urls_must_be_https_by_default() {
    let (app, admin) = registered().await;
    let (s, b) =
        app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "https://example.com/hook?auth=s3cret"}})).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "ftp://x"}})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.url", "ftp://x"));
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "http://x"}})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": 5}})).await;
    assert_code(s, &b, 400, 1009);
    let long = format!("https://example.com/{}", "a".repeat(2048));
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": long}})).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "https://example.com/hook?auth=s3cret");

    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": ""}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert!(got["webhooks"].get("url").is_none(), "\"\" clears the URL: {got}");
    assert_eq!(got, defaults(Some(NUMBER)));
}

/// `--allow-http-webhooks` also allows `http://` URLs (but nothing else).
#[tokio::test]
async fn http_webhook_urls_are_allowed_with_the_flag() {
    let (app, admin) = admin_app(Spawn::default().arg("--allow-http-webhooks")).await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "http://x"}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "http://x");
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "https://example.com/hook"}})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.patch(&admin, APPLICATION, json!({"webhooks": {"url": "ftp://x"}})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.url", "ftp://x"));
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "https://example.com/hook");
}

/// Item 14: all or nothing, and every invalid field reported once.
#[tokio::test]
async fn an_invalid_patch_changes_nothing_and_reports_every_bad_field() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({"callback_persist": false, "log_level": "x"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("log_level", "x"));
    assert_eq!(app_settings(&app, &admin).await["callback_persist"], json!(true));

    let (s, b) = app
        .patch(
            &admin,
            APPLICATION,
            json!({
                "callback_persist": "no",
                "heartbeat_interval": 2,
                "webhooks": {"max_concurrent_requests": 7, "url": "https://example.com/x"},
                "log_level": "debug"
            }),
        )
        .await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(
        error_details(&b),
        BTreeSet::from([
            invalid_value("callback_persist", "no"),
            invalid_value("webhooks.max_concurrent_requests", "7"),
            invalid_value("log_level", "debug"),
        ]),
        "{b}"
    );
    assert_eq!(b["errors"].as_array().map(Vec::len), Some(3), "one error per bad field: {b}");
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)), "nothing saved");
}

/// Item 15: a reset restores the whole §1.6 document and touches nothing else.
#[tokio::test]
async fn a_reset_restores_the_documented_defaults_only() {
    let (app, admin) = registered().await;
    let (s, b) = app
        .patch(
            &admin,
            APPLICATION,
            json!({
                "axolotl_context_striping_disabled": true,
                "callback_backoff_delay_ms": "1000",
                "callback_persist": false,
                "garbagecollector_enable": {"media": true, "messages": false},
                "heartbeat_interval": 9,
                "log_level": "fatal",
                "max_callback_backoff_delay_ms": "2000",
                "media": {"auto_download": ["video"]},
                "notify_user_change_number": true,
                "sent_status": true,
                "show_security_notifications": true,
                "skip_referral_media_download": true,
                "unhealthy_interval": 99,
                "verbose_logging": true,
                "webhooks": {"url": "https://example.com/hook", "max_concurrent_requests": 18,
                             "message": {"sent": false, "delivered": false, "read": false}}
            }),
        )
        .await;
    assert_meta_only(s, &b, 200);
    assert_ne!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "kept"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "a@b.co"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(200, 200)).await;
    assert_meta_only(s, &b, 201);
    let photo = photo_bytes(&app, &admin, "").await;
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);
    let hash = pin_hash(&app, &admin).await;
    assert!(hash.is_some(), "two-step is on");

    let (s, b) = app.delete(&admin, APPLICATION).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = app.get(&admin, APPLICATION).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"application": defaults(Some(NUMBER))}, "meta": b["meta"].clone()}));
    assert_meta(&b);

    // Not touched: providers, registration, two-step, profile, business profile.
    assert_eq!(providers(&app, &admin).await, json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}]));
    assert_eq!(about(&app, &admin).await, "kept");
    assert_eq!(business(&app, &admin).await["email"], "a@b.co");
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);
    assert_eq!(pin_hash(&app, &admin).await, hash, "the two-step PIN survives a reset");
}
