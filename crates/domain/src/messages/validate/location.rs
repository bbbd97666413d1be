//! §5: location messages.

use serde_json::{Map, Value};

use super::fields::{filled, opt_str};
use crate::error::{Problems, WaError, shown};

/// §5: coordinates are numbers or numeric strings within range.
pub(super) fn location(p: &mut Problems, o: &Map<String, Value>) {
    coordinate(p, o, "longitude", 180.0);
    coordinate(p, o, "latitude", 90.0);
    opt_str(p, o, "", "name");
    opt_str(p, o, "", "address");
}

fn coordinate(p: &mut Problems, o: &Map<String, Value>, key: &str, limit: f64) {
    let Some(v) = filled(o, key) else {
        p.push(WaError::missing_parameter(key));
        return;
    };
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    // `parse` accepts "NaN" and "inf"; neither is a place.
    if !x.is_some_and(|x| x.is_finite() && (-limit..=limit).contains(&x)) {
        p.push(WaError::invalid_value(key, &shown(v)));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::MessageType;
    use crate::messages::validate::test_support::*;

    #[test]
    fn location_coordinates() {
        let m = ok(of(
            "location",
            json!({"longitude": -122.425332, "latitude": 37.758056, "name": "Facebook HQ", "address": "1 Hacker Way"}),
        ));
        assert_eq!(m.kind, MessageType::Location);
        ok(of("location", json!({"longitude": "-122.4", "latitude": "37.7"})));
        ok(of("location", json!({"longitude": 0, "latitude": 0})));
        ok(of("location", json!({"longitude": 180, "latitude": -90})));
        assert_eq!(
            errs(of("location", json!({"name": "x"}))),
            [
                (1008, "Missing mandatory parameter 'longitude'".to_owned()),
                (1008, "Missing mandatory parameter 'latitude'".to_owned())
            ]
        );
        assert_eq!(
            errs(of("location", json!({"longitude": 180.5, "latitude": "north"}))),
            [
                (1009, "Parameter 'longitude' has invalid value '180.5'".to_owned()),
                (1009, "Parameter 'latitude' has invalid value 'north'".to_owned())
            ]
        );
        assert_eq!(codes(of("location", json!({"longitude": "NaN", "latitude": 1}))), [1009]);
        assert_eq!(codes(of("location", json!({"longitude": 1, "latitude": 1, "address": 5}))), [1009]);
    }
}
