//! The profile name every simulated customer shows. WhatsApp sends one with
//! every inbound message (`contacts[0].profile.name`), so integrations read
//! it; a customer who was not given one by `/simulator/inbound` gets one
//! derived from its number, the same on every run, machine and restart
//! (CRC-32 of the number, a fixed algorithm, picks a given and a family name).

const GIVEN: [&str; 32] = [
    "Ada", "Bruno", "Chen", "Dalia", "Emeka", "Fatima", "Gustavo", "Hana", "Ivan", "Jaya", "Kofi", "Lucia", "Mateo",
    "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Tala", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zara",
    "Aiko", "Bela", "Carlos", "Dina", "Elif", "Felix",
];

const FAMILY: [&str; 32] = [
    "Almeida", "Banerjee", "Castillo", "Dubois", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Lopez", "Mensah", "Nguyen", "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka", "Umarov", "Varga", "Wang",
    "Xavier", "Yilmaz", "Zhou", "Abbott", "Bianchi", "Costa", "Diallo", "Esposito", "Ferreira",
];

/// The profile name of the customer `wa_id`.
pub fn profile_name(wa_id: &str) -> String {
    let h = crc32fast::hash(wa_id.as_bytes());
    let given = GIVEN[(h % 32) as usize];
    let family = FAMILY[((h >> 16) % 32) as usize];
    format!("{given} {family}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_always_has_the_same_name() {
        // Pinned: a change of algorithm or lists would rename every
        // customer of every user's test data.
        assert_eq!(profile_name("16315551234"), profile_name("16315551234"));
        assert_eq!(profile_name("16315551234"), PINNED);
    }

    #[test]
    fn numbers_get_many_different_names() {
        let names: std::collections::HashSet<String> =
            (0..1000).map(|i| profile_name(&format!("1631555{i:04}"))).collect();
        assert!(names.len() > 500, "{}", names.len());
    }

    const PINNED: &str = "Zara Ferreira";
}
