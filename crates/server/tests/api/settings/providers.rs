//! Media providers (items 17–20).

use super::*;

/// Items 17 and 18, plus the empty list and insertion order.
#[tokio::test]
async fn providers_are_added_and_replaced_by_name() {
    let (app, admin) = registered().await;
    let (s, b) = app.get(&admin, PROVIDERS).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"application": {"media": {"providers": []}}}, "meta": b["meta"].clone()}));

    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    assert_eq!(providers(&app, &admin).await, json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}]));

    add_provider(&app, &admin, provider_bearer("p-2_B", "secret2")).await;
    add_provider(
        &app,
        &admin,
        json!([{"name": "p1", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}}]),
    )
    .await;
    // One p1 (in its place), now with basic; secrets come back in clear.
    assert_eq!(
        providers(&app, &admin).await,
        json!([
            {"name": "p1", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}},
            {"name": "p-2_B", "type": "www", "config": {"bearer": "secret2"}}
        ])
    );
}

/// Item 19.
#[tokio::test]
async fn invalid_provider_posts_are_refused() {
    let (app, admin) = registered().await;
    let one = "Can only add 1 config at a time";
    let p = json!({"name": "p1", "type": "www", "config": {"bearer": "t"}});
    for body in [json!([]), json!([p.clone(), p.clone()]), p.clone(), json!("p1"), json!(["p1"])] {
        let (s, b) = app.post(&admin, PROVIDERS, body).await;
        assert_one_error(s, &b, 400, 1009, one);
    }
    let (s, b) = app.post(&admin, PROVIDERS, json!([{"name": "p1", "type": "www"}])).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'config'");
    let (s, b) = app.post(&admin, PROVIDERS, json!([{"type": "www", "config": {"bearer": "t"}}])).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'name'");
    let (s, b) = app.post(&admin, PROVIDERS, json!([{"name": "p1", "config": {"bearer": "t"}}])).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'type'");

    for kind in ["s3", "everstore"] {
        let body = json!([{"name": "p1", "type": kind, "config": {"bearer": "t"}}]);
        let (s, b) = app.post(&admin, PROVIDERS, body).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("type", kind));
    }
    let body = json!([{"name": "bad name!", "type": "www", "config": {"bearer": "t"}}]);
    let (s, b) = app.post(&admin, PROVIDERS, body).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("name", "bad name!"));
    let body = json!([{"name": "n".repeat(201), "type": "www", "config": {"bearer": "t"}}]);
    let (s, b) = app.post(&admin, PROVIDERS, body).await;
    assert_code(s, &b, 400, 1009);

    for config in [
        json!({"basic": {"username": "u", "password": "pw"}, "bearer": "t"}),
        json!({}),
        json!({"bearer": ""}),
        json!({"basic": {"username": "u"}}),
        json!("t"),
    ] {
        let body = json!([{"name": "p1", "type": "www", "config": config}]);
        let (s, b) = app.post(&admin, PROVIDERS, body.clone()).await;
        assert_code(s, &b, 400, 1009);
    }
    assert_eq!(providers(&app, &admin).await, json!([]), "nothing was added");
}

/// Item 20.
#[tokio::test]
async fn providers_are_deleted_by_exact_name() {
    let (app, admin) = registered().await;
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    add_provider(&app, &admin, provider_bearer("p2", "t")).await;

    let (s, b) = app.delete(&admin, &format!("{PROVIDERS}/P1")).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
    let (s, b) = app.delete(&admin, &format!("{PROVIDERS}/p1")).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(providers(&app, &admin).await, provider_bearer("p2", "t"));
    let (s, b) = app.delete(&admin, &format!("{PROVIDERS}/p1")).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
    let (s, b) = app.delete(&admin, &format!("{PROVIDERS}/nobody")).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
}
