//! Node identity (`health-stats.md` §1.3): `<hostname>:<12-hex instance id>`,
//! stable for the life of the process.

use std::fmt;

/// How the deployment is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentMode {
    /// One process does everything (the embedded default).
    Single,
    /// Several nodes on one PostgreSQL database.
    Multiconnect,
}

impl DeploymentMode {
    /// Reads the original containers' `WA_APP_MULTICONNECT`: only `0` and `1` are
    /// valid. The original failed every cluster-aware request on other values;
    /// wabiz refuses to start instead, naming the variable.
    pub fn from_wa_app_multiconnect(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("0") => Ok(DeploymentMode::Single),
            Some("1") => Ok(DeploymentMode::Multiconnect),
            Some(other) => Err(format!("WA_APP_MULTICONNECT must be 0 or 1, not '{other}'")),
        }
    }
}

/// This node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    pub hostname: String,
    pub instance_id: String,
}

impl NodeIdentity {
    /// A new identity: the given host name (or the machine's) and a random
    /// 12-hex-character instance id.
    pub fn new(hostname: Option<String>) -> Self {
        let hostname = hostname.filter(|h| !h.trim().is_empty()).unwrap_or_else(machine_hostname);
        let instance_id = wabiz_domain::ids::node_instance();
        Self { hostname, instance_id }
    }
}

impl fmt::Display for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.hostname, self.instance_id)
    }
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_shape() {
        let n = NodeIdentity::new(Some("wacore1".into()));
        let s = n.to_string();
        let (host, id) = s.split_once(':').unwrap();
        assert_eq!(host, "wacore1");
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(NodeIdentity::new(None).instance_id, n.instance_id);
    }

    #[test]
    fn multiconnect_env() {
        assert_eq!(DeploymentMode::from_wa_app_multiconnect(None), Ok(DeploymentMode::Single));
        assert_eq!(DeploymentMode::from_wa_app_multiconnect(Some("0")), Ok(DeploymentMode::Single));
        assert_eq!(DeploymentMode::from_wa_app_multiconnect(Some("1")), Ok(DeploymentMode::Multiconnect));
        assert!(DeploymentMode::from_wa_app_multiconnect(Some("yes")).unwrap_err().contains("WA_APP_MULTICONNECT"));
    }
}
