//! The business profile (items 28–31).

use super::*;

/// Item 28, and the empty profile.
#[tokio::test]
async fn the_business_profile_is_set_and_read_back() {
    let (app, admin) = registered().await;
    let (s, b) = app.get(&admin, BUSINESS).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b,
        json!({"settings": {"business": {"profile":
            {"address": "", "description": "", "email": "", "vertical": "", "websites": []}}},
            "meta": b["meta"].clone()})
    );

    let profile = json!({
        "address": "1 Main Street",
        "description": "We sell things",
        "email": "shop@example.com",
        "vertical": "Shopping and Retail",
        "websites": ["https://www.whatsapp.com", "http://www.facebook.com"]
    });
    let (s, b) = app.post(&admin, BUSINESS, profile.clone()).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await, profile);

    // `{}` is a no-op; `""` and `[]` clear; unknown keys are ignored.
    let (s, b) = app.post(&admin, BUSINESS, json!({})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await, profile);
    let (s, b) = app.post(&admin, BUSINESS, json!({"address": "", "websites": [], "x": 1})).await;
    assert_meta_only(s, &b, 200);
    let got = business(&app, &admin).await;
    assert_eq!(got["address"], "");
    assert_eq!(got["websites"], json!([]));
    assert_eq!(got["email"], "shop@example.com");
    assert!(got.get("x").is_none());
}

/// Item 29.
#[tokio::test]
async fn the_business_profile_is_not_patched() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, BUSINESS, json!({"email": "a@b.co"})).await;
    assert_error(s, &b, 405, 1014, None);
    assert_eq!(business(&app, &admin).await["email"], "");
}

/// Item 30.
#[tokio::test]
async fn invalid_business_profiles_are_refused() {
    let (app, admin) = registered().await;
    let three = json!({"websites": ["https://a.com", "https://b.com", "https://c.com"]});
    let (s, b) = app.post(&admin, BUSINESS, three).await;
    assert_one_error(s, &b, 400, 1009, "Max number of websites allowed is 2");
    for body in [
        json!({"address": "a".repeat(257)}),
        json!({"description": "d".repeat(257)}),
        json!({"email": "nope"}),
        json!({"email": format!("{}@b.co", "a".repeat(125))}),
        json!({"websites": ["www.x.com"]}),
        json!({"websites": [format!("https://{}", "w".repeat(250))]}),
        json!({"websites": "https://x.com"}),
        json!({"vertical": "Cars"}),
        json!({"vertical": "auto"}),
        json!({"address": 5}),
    ] {
        let (s, b) = app.post(&admin, BUSINESS, body.clone()).await;
        assert_code(s, &b, 400, 1009);
        assert!(b["errors"].as_array().is_some_and(|e| e.len() == 1), "one error for {body}: {b}");
    }
    assert_eq!(
        business(&app, &admin).await,
        json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
    );

    let (s, b) = app.post(&admin, BUSINESS, json!({"address": "a".repeat(256)})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"vertical": "AUTO"})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await["vertical"], "AUTO");
    let (s, b) = app.post(&admin, BUSINESS, json!({"vertical": ""})).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(business(&app, &admin).await["vertical"], "AUTO");
    let (s, b) = app.post(&admin, BUSINESS, json!({"vertical": "Beauty, Spa and Salon"})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await["vertical"], "Beauty, Spa and Salon");
}

/// Item 31.
#[tokio::test]
async fn a_business_profile_update_is_partial() {
    let (app, admin) = registered().await;
    let profile = json!({
        "address": "1 Main Street",
        "description": "desc",
        "email": "old@example.com",
        "vertical": "EDU",
        "websites": ["https://example.com"]
    });
    let (s, b) = app.post(&admin, BUSINESS, profile.clone()).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "a@b.co"})).await;
    assert_meta_only(s, &b, 200);
    let mut want = profile;
    want["email"] = json!("a@b.co");
    assert_eq!(business(&app, &admin).await, want);
}
