//! Username and password rules (`users-auth.md` §3), with the Webapp's wording.

use crate::error::WaError;

/// The special characters a password may (and must) use.
pub const PASSWORD_SPECIALS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

pub const USERNAME_MIN: usize = 4;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 64;

/// The 1009 details for a password that fails the complexity rules.
pub fn complexity_message() -> String {
    format!(
        "Password doesn't meet complexity requirements: length between {PASSWORD_MIN} and {PASSWORD_MAX} characters, at least 1 each of upper-case character, lower-case character, digit, special character ({PASSWORD_SPECIALS}) are required"
    )
}

/// Full complexity: 8–64 characters from letters, digits and the special set,
/// with at least one of each class. Anything else (space, non-ASCII) fails.
pub fn password_is_complex(pw: &str) -> bool {
    let len = pw.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return false;
    }
    let (mut lower, mut upper, mut digit, mut special) = (false, false, false, false);
    for c in pw.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            c if PASSWORD_SPECIALS.contains(c) => special = true,
            _ => return false,
        }
    }
    lower && upper && digit && special
}

/// `Err(400/1009 complexity message)` unless the password is complex enough.
pub fn check_password_complexity(pw: &str) -> Result<(), WaError> {
    if password_is_complex(pw) { Ok(()) } else { Err(WaError::invalid(complexity_message())) }
}

/// The create-user checks on the name, in the Webapp's order (§7, rows 2–4).
pub fn check_new_username(name: &str) -> Result<(), WaError> {
    if name == super::API_USERNAME {
        return Err(WaError::invalid("Invalid Username"));
    }
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(WaError::invalid("Username doesn't meet length requirements"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(WaError::invalid("Username contains prohibited characters"));
    }
    Ok(())
}

/// The create-user length check on the password (§7, row 5).
pub fn check_password_length(pw: &str) -> Result<(), WaError> {
    let len = pw.chars().count();
    if (PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        Ok(())
    } else {
        Err(WaError::invalid("Password doesn't meet length requirements"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complexity() {
        assert!(password_is_complex("Passw0rd!"));
        assert!(password_is_complex("N3w-Passw0rd"));
        for bad in [
            "Short1!",
            "alllower1!",
            "ALLUPPER1!",
            "NoDigits!!",
            "NoSpecial12",
            "Has Space1!",
            "Ünicode1!a",
            "tab\tTab1!x",
            "",
        ] {
            assert!(!password_is_complex(bad), "{bad:?} accepted");
        }
        let long = format!("Aa1!{}", "x".repeat(61));
        assert_eq!(long.len(), 65);
        assert!(!password_is_complex(&long));
        assert!(password_is_complex(&long[..64]));
    }

    #[test]
    fn usernames() {
        assert!(check_new_username("jdoe").is_ok());
        assert!(check_new_username("a.b_c-D9").is_ok());
        let msg = |r: Result<(), WaError>| r.unwrap_err().errors[0].details.clone().unwrap().into_owned();
        assert_eq!(msg(check_new_username("_apiuser")), "Invalid Username");
        assert_eq!(msg(check_new_username("abc")), "Username doesn't meet length requirements");
        assert_eq!(msg(check_new_username(&"a".repeat(33))), "Username doesn't meet length requirements");
        assert_eq!(msg(check_new_username("j doe")), "Username contains prohibited characters");
        assert_eq!(msg(check_new_username("jdoé1")), "Username contains prohibited characters");
        assert!(check_new_username(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn message_lists_the_special_set() {
        assert!(complexity_message().contains("(!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)"));
    }
}
