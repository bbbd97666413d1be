//! `wabiz users list` and `wabiz users reset-password`: for the operator who
//! lost the admin's password. They work through the database, so they work
//! on a stopped node and on a running one alike (a running node reads the
//! password at each login).

use std::io::{BufRead as _, IsTerminal as _};

use clap::{Args, Subcommand};
use wabiz_domain::users::password::PasswordHasher;
use wabiz_domain::users::policy;

use super::{Failure, StoreArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// The users, their roles and whether a password is still the factory one.
    List(StoreArgs),
    /// Gives a user a new password: a generated one (printed once), or the
    /// first line of standard input with --password-stdin. The user's
    /// tokens stay valid, as with `PUT /v1/users/{name}`.
    ResetPassword(ResetArgs),
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The user (`admin` for the built-in administrator).
    pub name: String,

    /// Read the new password from the first line of standard input instead
    /// of generating one. It must meet the API's complexity rules.
    #[arg(long)]
    pub password_stdin: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(command: UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::List(args) => list(&args).await,
        UsersCommand::ResetPassword(args) => reset_password(&args).await,
    }
}

async fn list(args: &StoreArgs) -> Result<(), Failure> {
    let store = open_store(args).await?;
    let users = store.list_users().await;
    store.close().await;
    let users = users.map_err(|e| Failure::failed(e.to_string()))?;
    println!("{:<32} {:<11} {:<9} CREATED", "NAME", "ROLE", "PASSWORD");
    for u in users {
        let created = time::OffsetDateTime::from_unix_timestamp(u.created_at)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| u.created_at.to_string());
        let password = if u.password_is_default { "factory" } else { "set" };
        println!("{:<32} {:<11} {:<9} {created}", u.username, u.role.as_str(), password);
    }
    Ok(())
}

async fn reset_password(args: &ResetArgs) -> Result<(), Failure> {
    let (password, generated) = if args.password_stdin {
        if std::io::stdin().is_terminal() {
            return Err(Failure::refused(
                "--password-stdin reads a pipe, not a terminal (it would show the password): \
                 `printf '%s\\n' \"$NEW_PASSWORD\" | wabiz users reset-password …`, or leave it out for a generated one",
            ));
        }
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| Failure::failed(format!("standard input: {e}")))?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if !policy::password_is_complex(&line) {
            return Err(Failure::refused(policy::complexity_message()));
        }
        (line, false)
    } else {
        (generate_password()?, true)
    };
    let store = open_store(&args.store).await?;
    let result = async {
        if store.get_user(&args.name).await.map_err(|e| Failure::failed(e.to_string()))?.is_none() {
            return Err(Failure::refused(format!("there is no user '{}' (`wabiz users list` shows them)", args.name)));
        }
        let hash =
            tokio::task::spawn_blocking(move || PasswordHasher::default().hash(&password).map(|h| (h, password)))
                .await
                .map_err(|e| Failure::failed(e.to_string()))?
                .map_err(Failure::failed)?;
        if !store.set_password(&args.name, &hash.0, false).await.map_err(|e| Failure::failed(e.to_string()))? {
            return Err(Failure::failed(format!("user '{}' was deleted meanwhile", args.name)));
        }
        Ok(hash.1)
    }
    .await;
    store.close().await;
    let password = result?;
    if generated {
        println!("The password of '{}' is now: {password}", args.name);
        println!("It is shown only this once; sign in with it and change it (PUT /v1/users/{}).", args.name);
    } else {
        println!("The password of '{}' was changed.", args.name);
    }
    Ok(())
}

/// 20 random characters that meet the complexity rules.
fn generate_password() -> Result<String, Failure> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!@#%+=";
    // 256 is not a multiple of the alphabet's length: bytes at or above
    // `limit` are dropped, so that no letter is likelier than another.
    let limit = 256 - 256 % ALPHABET.len();
    loop {
        let mut password = String::with_capacity(20);
        while password.len() < 20 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| Failure::failed(format!("no randomness: {e}")))?;
            for b in bytes.iter().map(|b| usize::from(*b)).filter(|b| *b < limit).take(20 - password.len()) {
                password.push(char::from(ALPHABET[b % ALPHABET.len()]));
            }
        }
        if policy::password_is_complex(&password) {
            return Ok(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_rules_and_differ() {
        let a = generate_password().ok().unwrap();
        let b = generate_password().ok().unwrap();
        assert!(policy::password_is_complex(&a) && a.len() == 20, "{a}");
        assert_ne!(a, b);
    }
}
