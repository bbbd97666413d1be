//! Who the client is, for the per-address limits (failed logins, user
//! writes). By default it is the TCP peer: a header is the client's word
//! and anyone can write one. Behind a reverse proxy every request comes from
//! the proxy, so the operator names the proxies (`--trusted-proxies`), and
//! for requests from them the client is read from `X-Forwarded-For`: the
//! right-most address that is not itself a trusted proxy. Addresses to its
//! left were written by the client and are not believed.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From `10.0.0.0/8,2001:db8::/32,192.0.2.7` (a bare address is one host).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("'{item}' is neither an IP address nor a network (10.0.0.0/8)"))?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            // A hop that does not parse ends the walk: what is left of it
            // cannot be trusted, and the last trusted hop stands.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An IPv4 client reached over an IPv6 socket is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443` or `192.0.2.1:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.2"), &headers(&["203.0.113.9"])), ip("10.0.0.2"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // The client forged the first entry; the proxy appended the real one.
        let h = headers(&["198.51.100.1, 203.0.113.9"]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        // Two proxies, in two headers.
        let h = headers(&["203.0.113.9", "192.0.2.7"]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        // A request from outside the trusted networks: its header is ignored.
        assert_eq!(t.client(ip("198.51.100.5"), &headers(&["203.0.113.9"])), ip("198.51.100.5"));
        // No header, or only garbage: the proxy itself.
        assert_eq!(t.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        assert_eq!(t.client(ip("10.0.0.2"), &headers(&["not-an-ip"])), ip("10.0.0.2"));
        // Ports and IPv4 behind an IPv6 socket.
        assert_eq!(t.client(ip("::ffff:10.0.0.2"), &headers(&["[2001:db8::5]:443"])), ip("2001:db8::5"));
    }

    #[test]
    fn the_list_names_what_it_cannot_read() {
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(TrustedProxies::parse("10.0.0.0/8,proxy.local").unwrap_err().contains("proxy.local"));
    }
}
