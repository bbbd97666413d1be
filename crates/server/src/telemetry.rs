//! Structured logging. The filter sits behind a reload handle so the level can
//! change while the server runs (`log_level` / `verbose_logging` settings).

use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

use wabiz_domain::settings::application::{ApplicationSettings, LogLevel};

use crate::config::LogFormat;

/// Changes the active log filter.
pub type FilterHandle = reload::Handle<EnvFilter, Registry>;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber (once per process; later calls return `None`).
pub fn init(format: LogFormat) -> Option<FilterHandle> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false))
            .try_init(),
        LogFormat::Text => {
            registry.with(fmt::layer().with_target(false).with_ansi(std::io::stdout().is_terminal())).try_init()
        }
    };
    result.ok().map(|()| handle)
}

/// The filter that the `log_level` and `verbose_logging` settings ask for
/// (`logging-ops.md` §1). `fatal` keeps only events logged with the target
/// `wabiz::fatal`. Verbose mode keeps the HTTP/TLS libraries at INFO: their
/// DEBUG output would drown everything else.
pub fn filter_for(settings: &ApplicationSettings, trace: bool) -> String {
    const QUIET_LIBS: &str = "h2=info,hyper=info,hyper_util=info,rustls=info,tokio_postgres=info,tower=info";
    if settings.verbose_logging {
        let level = if trace { "trace" } else { "debug" };
        return format!("{level},{QUIET_LIBS}");
    }
    match settings.log_level {
        LogLevel::Info => "info".into(),
        LogLevel::Warning => "warn".into(),
        LogLevel::Error => "error".into(),
        LogLevel::Fatal => "off,wabiz::fatal=error".into(),
    }
}

/// Applies the log settings to the running process, now and on every change.
/// When `RUST_LOG` is set it wins: the operator asked for that filter.
pub fn follow_settings(
    handle: FilterHandle,
    mut settings: tokio::sync::watch::Receiver<std::sync::Arc<ApplicationSettings>>,
    trace: bool,
    shutdown: tokio_util::sync::CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing::info!("RUST_LOG is set: it decides the log level; the log_level setting is not applied");
        return None;
    }
    Some(tokio::spawn(async move {
        let mut applied = String::new();
        loop {
            let wanted = filter_for(&settings.borrow_and_update(), trace);
            if wanted != applied {
                match EnvFilter::try_new(&wanted) {
                    Ok(f) => {
                        if handle.reload(f).is_ok() {
                            applied = wanted;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "invalid log filter"),
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = settings.changed() => if changed.is_err() { return },
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let mut s = ApplicationSettings::default();
        assert_eq!(filter_for(&s, false), "info");
        s.log_level = LogLevel::Warning;
        assert_eq!(filter_for(&s, false), "warn");
        s.log_level = LogLevel::Fatal;
        assert_eq!(filter_for(&s, false), "off,wabiz::fatal=error");
        s.verbose_logging = true;
        assert!(filter_for(&s, false).starts_with("debug,"));
        assert!(filter_for(&s, true).starts_with("trace,"));
        for v in [false, true] {
            s.verbose_logging = v;
            assert!(EnvFilter::try_new(filter_for(&s, v)).is_ok());
        }
    }
}
