//! §8: interactive messages.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::MediaRef;
use super::fields::{at, filled, max_chars, opt_obj, opt_str, req_array, req_obj, req_str, unique};
use super::media::header_media;
use crate::error::{ErrorCode, Problems, WaError, shown};

/// Interactive limits (`messages.md` §8).
pub const MAX_INTERACTIVE_BODY: usize = 1024;
pub const MAX_HEADER_TEXT: usize = 60;
pub const MAX_FOOTER_TEXT: usize = 60;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_ID: usize = 256;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_SECTION_TITLE: usize = 24;
pub const MAX_ROWS: usize = 10;
pub const MAX_ROW_ID: usize = 200;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_DESCRIPTION: usize = 72;
pub const MAX_PRODUCTS: usize = 30;

/// `interactive.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interactive {
    Button,
    List,
    Product,
    ProductList,
}

impl Interactive {
    fn as_str(self) -> &'static str {
        match self {
            Interactive::Button => "button",
            Interactive::List => "list",
            Interactive::Product => "product",
            Interactive::ProductList => "product_list",
        }
    }
}

/// §8. Pure count and length checks are answered synchronously (errors.md §3, Recommended):
/// the codes 2015/2016/2023/2036 where the spec names them, 1009 for the rest.
pub(super) fn interactive(p: &mut Problems, o: &Map<String, Value>, media: &mut Vec<MediaRef>) {
    let kind = match req_str(p, o, "", "type") {
        Some("button") => Some(Interactive::Button),
        Some("list") => Some(Interactive::List),
        Some("product") => Some(Interactive::Product),
        Some("product_list") => Some(Interactive::ProductList),
        Some(other) => {
            p.push(WaError::invalid_value("type", other));
            None
        }
        None => None,
    };
    if let Some(kind) = kind {
        header(p, o, kind, media);
    }
    match filled(o, "body") {
        // A single product shows the catalog's own text, so its body is optional.
        None if kind != Some(Interactive::Product) => p.push(WaError::missing_parameter("body.text")),
        None => {}
        Some(Value::Object(b)) => {
            if let Some(text) = req_str(p, b, "body", "text") {
                max_chars(p, "body.text", text, MAX_INTERACTIVE_BODY);
            }
        }
        Some(other) => p.push(WaError::invalid_value("body", &shown(other))),
    }
    if let Some(footer) = opt_obj(p, o, "", "footer")
        && let Some(text) = req_str(p, footer, "footer", "text")
    {
        max_chars(p, "footer.text", text, MAX_FOOTER_TEXT);
    }
    let action = req_obj(p, o, "", "action");
    let (Some(kind), Some(action)) = (kind, action) else { return };
    match kind {
        Interactive::Button => reply_buttons(p, action),
        Interactive::List => list(p, action),
        Interactive::Product => {
            req_str(p, action, "action", "catalog_id");
            req_str(p, action, "action", "product_retailer_id");
        }
        Interactive::ProductList => product_list(p, action),
    }
}

/// The header's structure (2036), its text length (1009) and its media (§4).
fn header(p: &mut Problems, o: &Map<String, Value>, kind: Interactive, media: &mut Vec<MediaRef>) {
    let bad = |details: String| WaError::new(ErrorCode::InvalidHeaderStructure, details);
    let Some(h) = filled(o, "header") else {
        if kind == Interactive::ProductList {
            p.push(WaError::missing_parameter("header"));
        }
        return;
    };
    if kind == Interactive::Product {
        p.push(bad("Parameter 'header' is not allowed for interactive type 'product'".to_owned()));
        return;
    }
    let Value::Object(h) = h else {
        p.push(bad(format!("Parameter 'header' has invalid value '{}'", shown(h))));
        return;
    };
    let ty = match filled(h, "type") {
        Some(Value::String(s)) if matches!(s.as_str(), "text" | "image" | "video" | "document") => s.as_str(),
        Some(other) => {
            p.push(bad(format!("Parameter 'header.type' has invalid value '{}'", shown(other))));
            return;
        }
        None => {
            p.push(bad("Missing mandatory parameter 'header.type'".to_owned()));
            return;
        }
    };
    if ty != "text" && matches!(kind, Interactive::List | Interactive::ProductList) {
        p.push(bad(format!(
            "Parameter 'header.type' has invalid value '{ty}' for interactive type '{}'",
            kind.as_str()
        )));
        return;
    }
    let inner = format!("header.{ty}");
    match filled(h, ty) {
        None => p.push(bad(format!("Missing mandatory parameter '{inner}'"))),
        Some(Value::String(s)) if ty == "text" => max_chars(p, &inner, s, MAX_HEADER_TEXT),
        Some(Value::Object(m)) if ty != "text" => header_media(p, m, &inner, ty, media),
        Some(other) => p.push(bad(format!("Parameter '{inner}' has invalid value '{}'", shown(other)))),
    }
}

fn reply_buttons(p: &mut Problems, action: &Map<String, Value>) {
    let Some(buttons) = req_array(p, action, "action", "buttons") else { return };
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        p.push(WaError::invalid(format!(
            "Parameter 'action.buttons' must hold 1 to {MAX_BUTTONS} buttons, not {}",
            buttons.len()
        )));
    }
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for (i, b) in buttons.iter().enumerate() {
        let prefix = format!("action.buttons[{i}]");
        let Value::Object(b) = b else {
            p.push(WaError::invalid_value(&prefix, &shown(b)));
            continue;
        };
        if let Some(ty) = req_str(p, b, &prefix, "type")
            && ty != "reply"
        {
            p.push(WaError::invalid_value(&at(&prefix, "type"), ty));
        }
        let Some(reply) = req_obj(p, b, &prefix, "reply") else { continue };
        let reply_path = at(&prefix, "reply");
        if let Some(id) = req_str(p, reply, &reply_path, "id") {
            let name = at(&reply_path, "id");
            max_chars(p, &name, id, MAX_BUTTON_ID);
            unique(p, &mut ids, &name, id);
        }
        if let Some(title) = req_str(p, reply, &reply_path, "title") {
            let name = at(&reply_path, "title");
            max_chars(p, &name, title, MAX_BUTTON_TITLE);
            unique(p, &mut titles, &name, title);
        }
    }
}

/// 2015 unless there are 1 to 10 sections.
fn section_count(p: &mut Problems, n: usize) {
    if n == 0 || n > MAX_SECTIONS {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfSections,
            format!("Parameter 'action.sections' must hold 1 to {MAX_SECTIONS} sections, not {n}"),
        ));
    }
}

/// A section title: required once there are several sections (the user picks between them by
/// title), at most 24 characters.
fn section_title(p: &mut Problems, s: &Map<String, Value>, prefix: &str, required: bool) {
    let title = if required { req_str(p, s, prefix, "title") } else { opt_str(p, s, prefix, "title") };
    if let Some(title) = title {
        max_chars(p, &at(prefix, "title"), title, MAX_SECTION_TITLE);
    }
}

fn list(p: &mut Problems, action: &Map<String, Value>) {
    if let Some(label) = req_str(p, action, "action", "button") {
        max_chars(p, "action.button", label, MAX_LIST_BUTTON);
    }
    let Some(sections) = req_array(p, action, "action", "sections") else { return };
    section_count(p, sections.len());
    let mut ids = HashSet::new();
    let mut total = 0;
    for (i, s) in sections.iter().enumerate() {
        let prefix = format!("action.sections[{i}]");
        let Value::Object(s) = s else {
            p.push(WaError::invalid_value(&prefix, &shown(s)));
            continue;
        };
        section_title(p, s, &prefix, sections.len() > 1);
        let Some(rows) = req_array(p, s, &prefix, "rows") else { continue };
        if rows.is_empty() {
            p.push(WaError::new(
                ErrorCode::InvalidNumberOfRows,
                format!("Parameter '{prefix}.rows' must hold at least one row"),
            ));
        }
        total += rows.len();
        for (j, r) in rows.iter().enumerate() {
            let row_path = format!("{prefix}.rows[{j}]");
            let Value::Object(r) = r else {
                p.push(WaError::invalid_value(&row_path, &shown(r)));
                continue;
            };
            // Row ids come back in the reply webhook, so they must tell rows apart list-wide.
            if let Some(id) = req_str(p, r, &row_path, "id") {
                let name = at(&row_path, "id");
                max_chars(p, &name, id, MAX_ROW_ID);
                unique(p, &mut ids, &name, id);
            }
            if let Some(title) = req_str(p, r, &row_path, "title") {
                max_chars(p, &at(&row_path, "title"), title, MAX_ROW_TITLE);
            }
            if let Some(description) = opt_str(p, r, &row_path, "description") {
                max_chars(p, &at(&row_path, "description"), description, MAX_ROW_DESCRIPTION);
            }
        }
    }
    if total > MAX_ROWS {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfRows,
            format!("A list message holds at most {MAX_ROWS} rows in total, not {total}"),
        ));
    }
}

fn product_list(p: &mut Problems, action: &Map<String, Value>) {
    req_str(p, action, "action", "catalog_id");
    let Some(sections) = req_array(p, action, "action", "sections") else { return };
    section_count(p, sections.len());
    let mut total = 0;
    // The total is only meaningful when every section's items could be counted.
    let mut counted = !sections.is_empty();
    for (i, s) in sections.iter().enumerate() {
        let prefix = format!("action.sections[{i}]");
        let Value::Object(s) = s else {
            p.push(WaError::invalid_value(&prefix, &shown(s)));
            counted = false;
            continue;
        };
        section_title(p, s, &prefix, sections.len() > 1);
        let Some(items) = req_array(p, s, &prefix, "product_items") else {
            counted = false;
            continue;
        };
        total += items.len();
        for (j, item) in items.iter().enumerate() {
            let item_path = format!("{prefix}.product_items[{j}]");
            match item {
                Value::Object(item) => {
                    req_str(p, item, &item_path, "product_retailer_id");
                }
                other => p.push(WaError::invalid_value(&item_path, &shown(other))),
            }
        }
    }
    if counted && (total == 0 || total > MAX_PRODUCTS) {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfProducts,
            format!("A product list message holds 1 to {MAX_PRODUCTS} products in total, not {total}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::messages::validate::test_support::*;
    use crate::messages::validate::{MediaRef, MessageType};

    fn button_message() -> Value {
        json!({
            "type": "button",
            "header": {"type": "text", "text": "Order 123"},
            "body": {"text": "Confirm your order?"},
            "footer": {"text": "Reply below"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}}]}
        })
    }

    fn list_message(sections: Value) -> Value {
        of(
            "interactive",
            json!({"type": "list", "body": {"text": "pick"}, "action": {"button": "Choose", "sections": sections}}),
        )
    }

    #[test]
    fn b15_interactive_counts() {
        let buttons: Vec<Value> = (0..4)
            .map(|i| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("B{i}")}}))
            .collect();
        let four = json!({"type": "button", "body": {"text": "pick"}, "action": {"buttons": buttons}});
        assert_eq!(codes(of("interactive", four)), [1009]);

        let rows: Vec<Value> = (0..11).map(|i| json!({"id": format!("r{i}"), "title": format!("R{i}")})).collect();
        let eleven = json!({"type": "list", "body": {"text": "pick"},
            "action": {"button": "Choose", "sections": [{"title": "All", "rows": rows}]}});
        assert_eq!(codes(of("interactive", eleven)), [2016]);
    }

    #[test]
    fn interactive_button_example_is_accepted() {
        let m = ok(of("interactive", button_message()));
        assert_eq!(m.kind, MessageType::Interactive);
        assert!(m.kind.is_free_form());
        assert!(m.media.is_empty());
    }

    #[test]
    fn interactive_type_body_footer() {
        let mut b = button_message();
        b["type"] = json!("carousel");
        assert_eq!(errs(of("interactive", b)), one(1009, "Parameter 'type' has invalid value 'carousel'"));
        let mut b = button_message();
        b.as_object_mut().unwrap().remove("body");
        assert_eq!(errs(of("interactive", b)), one(1008, "Missing mandatory parameter 'body.text'"));
        let mut b = button_message();
        b["body"]["text"] = json!("x".repeat(1025));
        assert_eq!(codes(of("interactive", b.clone())), [1009]);
        b["body"]["text"] = json!("x".repeat(1024));
        ok(of("interactive", b));
        let mut b = button_message();
        b["footer"]["text"] = json!("f".repeat(61));
        assert_eq!(
            errs(of("interactive", b)),
            one(1009, "Parameter 'footer.text' is too long: 61 characters, at most 60 allowed")
        );
        let mut b = button_message();
        b.as_object_mut().unwrap().remove("action");
        assert_eq!(errs(of("interactive", b)), one(1008, "Missing mandatory parameter 'action'"));
    }

    #[test]
    fn interactive_headers() {
        let with_header = |kind: &str, header: Value| {
            let mut b = button_message();
            b["type"] = json!(kind);
            b["header"] = header;
            b
        };
        let mut b = with_header("button", json!({"type": "text", "text": "h".repeat(61)}));
        assert_eq!(codes(of("interactive", b.clone())), [1009]);
        b["header"]["text"] = json!("h".repeat(60));
        ok(of("interactive", b));
        let m = ok(of("interactive", with_header("button", json!({"type": "image", "image": {"id": "m1"}}))));
        assert_eq!(m.media, [MediaRef::Id("m1".into())]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "video", "video": {}})))), [1008]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "location"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "image"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"text": "x"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!("Order"))))[..], [2036]);

        let list = |header: Value| {
            let mut l = list_message(json!([{"rows": [{"id": "r", "title": "R"}]}]));
            l["interactive"]["header"] = header;
            l
        };
        ok(list(json!({"type": "text", "text": "Menu"})));
        assert_eq!(
            errs(list(json!({"type": "image", "image": {"id": "m"}}))),
            one(2036, "Parameter 'header.type' has invalid value 'image' for interactive type 'list'")
        );
    }

    #[test]
    fn interactive_buttons() {
        let with_buttons = |buttons: Value| {
            let mut b = button_message();
            b["action"]["buttons"] = buttons;
            of("interactive", b)
        };
        assert_eq!(
            errs(with_buttons(json!([]))),
            one(1009, "Parameter 'action.buttons' must hold 1 to 3 buttons, not 0")
        );
        assert_eq!(
            codes(with_buttons(
                json!([{"type": "reply", "reply": {"id": "a", "title": "A"}}, {"type": "reply", "reply": {"id": "a", "title": "A"}}])
            )),
            [1009, 1009]
        );
        assert_eq!(
            errs(with_buttons(json!([{"type": "reply", "reply": {"id": "a", "title": "t".repeat(21)}}]))),
            one(1009, "Parameter 'action.buttons[0].reply.title' is too long: 21 characters, at most 20 allowed")
        );
        assert_eq!(
            codes(with_buttons(json!([{"type": "reply", "reply": {"id": "i".repeat(257), "title": "A"}}]))),
            [1009]
        );
        ok(with_buttons(json!([{"type": "reply", "reply": {"id": "i".repeat(256), "title": "t".repeat(20)}}])));
        assert_eq!(codes(with_buttons(json!([{"type": "url", "reply": {"id": "a", "title": "A"}}]))), [1009]);
        assert_eq!(
            errs(with_buttons(json!([{"type": "reply", "reply": {"title": "A"}}]))),
            one(1008, "Missing mandatory parameter 'action.buttons[0].reply.id'")
        );
        assert_eq!(codes(with_buttons(json!("yes")))[..], [1009]);
    }

    #[test]
    fn interactive_lists() {
        let row = |i: usize| json!({"id": format!("r{i}"), "title": format!("R{i}"), "description": "d"});
        ok(list_message(json!([{"rows": [row(0)]}])));
        ok(list_message(
            json!([{"title": "A", "rows": (0..5).map(row).collect::<Vec<_>>()}, {"title": "B", "rows": (5..10).map(row).collect::<Vec<_>>()}]),
        ));
        assert_eq!(
            errs(list_message(json!([]))),
            one(2015, "Parameter 'action.sections' must hold 1 to 10 sections, not 0")
        );
        let eleven: Vec<Value> = (0..11).map(|i| json!({"title": format!("S{i}"), "rows": [row(i)]})).collect();
        assert_eq!(codes(list_message(json!(eleven))), [2015, 2016]);
        assert_eq!(codes(list_message(json!([{"rows": []}]))), [2016]);
        assert_eq!(codes(list_message(json!([{"title": "A"}]))), [1008]);
        assert_eq!(
            errs(list_message(json!([{"rows": [row(0)]}, {"title": "B", "rows": [row(1)]}]))),
            one(1008, "Missing mandatory parameter 'action.sections[0].title'")
        );
        assert_eq!(codes(list_message(json!([{"title": "t".repeat(25), "rows": [row(0)]}]))), [1009]);
        assert_eq!(
            errs(list_message(json!([{"rows": [row(0), row(0)]}]))),
            one(1009, "Parameter 'action.sections[0].rows[1].id' has invalid value 'r0': it must be unique")
        );
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "i".repeat(201), "title": "R"}]}]))), [1009]);
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "a", "title": "t".repeat(25)}]}]))), [1009]);
        assert_eq!(
            codes(list_message(json!([{"rows": [{"id": "a", "title": "T", "description": "d".repeat(73)}]}]))),
            [1009]
        );
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "a"}]}]))), [1008]);

        let mut no_label = list_message(json!([{"rows": [row(0)]}]));
        no_label["interactive"]["action"].as_object_mut().unwrap().remove("button");
        assert_eq!(errs(no_label), one(1008, "Missing mandatory parameter 'action.button'"));
        let mut long_label = list_message(json!([{"rows": [row(0)]}]));
        long_label["interactive"]["action"]["button"] = json!("b".repeat(21));
        assert_eq!(codes(long_label), [1009]);
    }

    #[test]
    fn interactive_products() {
        let product = |extra: Value| {
            let mut o = map(json!({"type": "product", "action": {"catalog_id": "c1", "product_retailer_id": "p1"}}));
            o.extend(map(extra));
            of("interactive", Value::Object(o))
        };
        // A single product needs no body.
        ok(product(json!({})));
        ok(product(json!({"body": {"text": "Look"}, "footer": {"text": "f"}})));
        assert_eq!(
            errs(product(json!({"header": {"type": "text", "text": "h"}}))),
            one(2036, "Parameter 'header' is not allowed for interactive type 'product'")
        );
        assert_eq!(
            errs(product(json!({"action": {"catalog_id": "c1"}}))),
            one(1008, "Missing mandatory parameter 'action.product_retailer_id'")
        );
    }

    #[test]
    fn interactive_product_lists() {
        let items = |n: usize| (0..n).map(|i| json!({"product_retailer_id": format!("p{i}")})).collect::<Vec<_>>();
        let plist = |header: Option<Value>, sections: Value| {
            let mut o = map(
                json!({"type": "product_list", "body": {"text": "b"}, "action": {"catalog_id": "c1", "sections": sections}}),
            );
            if let Some(h) = header {
                o.insert("header".into(), h);
            }
            of("interactive", Value::Object(o))
        };
        let text_header = || Some(json!({"type": "text", "text": "Our picks"}));
        ok(plist(text_header(), json!([{"title": "A", "product_items": items(30)}])));
        assert_eq!(
            errs(plist(None, json!([{"title": "A", "product_items": items(1)}]))),
            one(1008, "Missing mandatory parameter 'header'")
        );
        assert_eq!(
            codes(plist(
                Some(json!({"type": "image", "image": {"id": "m"}})),
                json!([{"title": "A", "product_items": items(1)}])
            )),
            [2036]
        );
        assert_eq!(
            errs(plist(
                text_header(),
                json!([{"title": "A", "product_items": items(20)}, {"title": "B", "product_items": items(11)}])
            )),
            one(2023, "A product list message holds 1 to 30 products in total, not 31")
        );
        assert_eq!(codes(plist(text_header(), json!([{"title": "A", "product_items": []}]))), [2023]);
        assert_eq!(codes(plist(text_header(), json!([]))), [2015]);
        assert_eq!(codes(plist(text_header(), json!([{"title": "A", "product_items": [{}]}]))), [1008]);
        assert_eq!(codes(plist(text_header(), json!([{"title": "A"}]))), [1008]);
    }
}
