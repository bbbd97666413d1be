//! Two-step verification (`registration.md` §4).

use super::*;

#[tokio::test]
async fn two_step_verification_is_enabled_replaced_and_disabled() {
    let (app, admin) = registered().await;
    assert_eq!(pin_hash(&app, &admin).await, None);

    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);
    let first = pin_hash(&app, &admin).await.expect("two-step on");
    assert!(!first.contains("123456"), "only a hash is kept: {first}");

    // POST while enabled replaces the PIN.
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "000001"})).await;
    assert_meta_only(s, &b, 200);
    let second = pin_hash(&app, &admin).await.expect("two-step on");
    assert_ne!(second, first);

    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(pin_hash(&app, &admin).await, None);
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(pin_hash(&app, &admin).await, None);
}

#[tokio::test]
async fn invalid_two_step_pins_are_refused() {
    let (app, admin) = registered().await;
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);
    let hash = pin_hash(&app, &admin).await;

    let (s, b) = app.post(&admin, TWO_STEP, json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'pin'");
    let (s, b) = send(app.authed(Method::POST, TWO_STEP, &admin)).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'pin'");
    for pin in ["", "0"] {
        let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": pin})).await;
        assert_one_error(s, &b, 400, 1009, "Pin must not be empty");
    }
    for (pin, shown) in [
        (json!("12345"), "12345"),
        (json!("1234567"), "1234567"),
        (json!("12345a"), "12345a"),
        (json!("１２３４５６"), "１２３４５６"),
        (json!(123456), "123456"),
    ] {
        let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": pin})).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("pin", shown));
    }
    assert_eq!(pin_hash(&app, &admin).await, hash, "the PIN is unchanged");
}

#[tokio::test]
async fn two_step_verification_needs_a_registered_number() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
}
