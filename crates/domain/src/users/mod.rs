//! Users, roles, passwords and bearer tokens (`users-auth.md`).

pub mod apikey;
pub mod password;
pub mod policy;
pub mod service;
pub mod token;

pub use service::{IssuedToken, LoginFailure, Principal, UserService, UserServiceConfig};

/// The Webapp's roles. The order is the hierarchy: `Admin` ⊃ `User` ⊃ `Api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The API-key principal (`_apiuser`): health, metrics and stats only.
    Api,
    User,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Api => "ROLE_API",
            Role::User => "ROLE_USER",
            Role::Admin => "ROLE_ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "ROLE_API" => Some(Role::Api),
            "ROLE_USER" => Some(Role::User),
            "ROLE_ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether this role may do what `required` allows.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

/// The built-in administrator.
pub const ADMIN_USERNAME: &str = "admin";
/// The factory password of `admin`, which must be changed at first login.
pub const FACTORY_ADMIN_PASSWORD: &str = "secret";
/// The reserved name of the API-key principal.
pub const API_USERNAME: &str = "_apiuser";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy() {
        assert!(Role::Admin.includes(Role::User));
        assert!(Role::User.includes(Role::Api));
        assert!(!Role::User.includes(Role::Admin));
        assert!(!Role::Api.includes(Role::User));
        for r in [Role::Api, Role::User, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
