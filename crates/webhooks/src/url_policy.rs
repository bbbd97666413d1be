//! Which webhook URLs the server accepts. The On-Premises client refuses plain
//! `http://`; wabiz accepts it only when started with `--allow-http-webhooks`
//! (for local receivers in development and tests).

use wabiz_domain::WaError;

/// Checks a webhook URL. The empty string is accepted: it means "no webhook".
pub fn check_webhook_url(url: &str, allow_http: bool) -> Result<(), WaError> {
    if url.is_empty() {
        return Ok(());
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        if !allow_http {
            return Err(WaError::invalid(
                "Webhook URL must use https (start the server with --allow-http-webhooks to allow http)",
            ));
        }
        r
    } else {
        return Err(WaError::invalid_value("webhooks.url", url));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(WaError::invalid_value("webhooks.url", url));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(check_webhook_url("", false).is_ok());
        assert!(check_webhook_url("https://hooks.example.com/wa?auth=s3cret", false).is_ok());
        assert!(check_webhook_url("http://127.0.0.1:8080/hook", false).is_err());
        assert!(check_webhook_url("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(check_webhook_url("ftp://x", true).is_err());
        assert!(check_webhook_url("https://", false).is_err());
        assert!(check_webhook_url("https:// bad", false).is_err());
    }
}
