//! `allowed_outbound_hosts` rules: `scheme://host:port` with `*` wildcards,
//! `*.suffix` hosts, CIDR ranges, port ranges and scheme default ports.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed_outbound_hosts entry {entry:?}: {reason}")]
pub struct OutboundRuleError {
    pub entry: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com` stored as `.example.com`.
    Subdomain(String),
    Cidr {
        network: IpAddr,
        prefix: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

/// One parsed entry of `allowed_outbound_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRule {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

/// The whole allow-list of one component. Empty means no outbound network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    rules: Vec<OutboundRule>,
}

pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" => 80,
        "https" => 443,
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        _ => return None,
    })
}

impl AllowedHosts {
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, OutboundRuleError> {
        let rules = entries
            .iter()
            .map(|entry| OutboundRule::parse(entry.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.rules
            .iter()
            .any(|rule| rule.allows(&scheme, &host, port))
    }
}

impl OutboundRule {
    pub fn parse(entry: &str) -> Result<Self, OutboundRuleError> {
        let fail = |reason: &str| OutboundRuleError {
            entry: entry.to_string(),
            reason: reason.to_string(),
        };
        if entry == "insecure:allow-all" {
            return Ok(Self {
                scheme: None,
                host: HostPattern::Any,
                port: PortPattern::Any,
            });
        }
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| fail("expected scheme://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*')
        {
            return Err(fail("invalid scheme"));
        }
        let (host, port) = split_host_port(rest);
        let host = parse_host(&host.to_ascii_lowercase()).map_err(fail)?;
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(text) => {
                parse_port_range(text).ok_or_else(|| fail("invalid port or port range"))?
            }
            None => {
                let port = default_port(&scheme)
                    .ok_or_else(|| fail("a port is required for this scheme"))?;
                PortPattern::Range(port, port)
            }
        };
        Ok(Self {
            scheme: (scheme != "*").then_some(scheme),
            host,
            port,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(low, high) => (low..=high).contains(&port),
        };
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Exact(exact) => exact == host,
            HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Cidr { network, prefix } => host
                .parse::<IpAddr>()
                .is_ok_and(|ip| in_cidr(ip, *network, *prefix)),
        };
        scheme_ok && host_ok && port_ok
    }
}

/// Splits at the port colon, leaving IPv6 brackets and CIDR slashes in the host.
fn split_host_port(rest: &str) -> (&str, Option<&str>) {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(after_bracket) = rest.find(']') {
        let (host, tail) = rest.split_at(after_bracket + 1);
        return (host, tail.strip_prefix(':'));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    }
}

fn parse_host(host: &str) -> Result<HostPattern, &'static str> {
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    if let Some(suffix) = host.strip_prefix("*.") {
        if suffix.is_empty() || suffix.contains('*') {
            return Err("invalid wildcard host");
        }
        return Ok(HostPattern::Subdomain(format!(".{suffix}")));
    }
    if host.contains('*') {
        return Err("`*` is only allowed as the whole host or a leading `*.`");
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Some((network, prefix)) = bare.split_once('/') {
        let network: IpAddr = network.parse().map_err(|_| "invalid CIDR address")?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or("invalid CIDR prefix")?;
        return Ok(HostPattern::Cidr { network, prefix });
    }
    if bare.is_empty() || bare.contains(['/', '?', '#', '@']) {
        return Err("invalid host");
    }
    Ok(HostPattern::Exact(bare.to_string()))
}

fn parse_port_range(text: &str) -> Option<PortPattern> {
    let (low, high) = match text.split_once("..") {
        Some((low, high)) => (low.parse().ok()?, high.parse().ok()?),
        None => {
            let port = text.parse().ok()?;
            (port, port)
        }
    };
    (low <= high).then_some(PortPattern::Range(low, high))
}

fn in_cidr(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(entries).unwrap()
    }

    #[test]
    fn exact_entries_use_default_ports() {
        let allowed = hosts(&["http://localhost:3500", "https://api.sendgrid.com"]);
        assert!(allowed.allows("http", "localhost", 3500));
        assert!(!allowed.allows("http", "localhost", 3501));
        assert!(!allowed.allows("http", "127.0.0.1", 3500));
        assert!(allowed.allows("https", "API.SendGrid.com", 443));
        assert!(!allowed.allows("http", "api.sendgrid.com", 443));
    }

    #[test]
    fn wildcards_for_scheme_host_and_port() {
        let allowed = hosts(&["*://db:5432", "https://*.example.com", "http://127.0.0.1:*"]);
        assert!(allowed.allows("postgres", "db", 5432));
        assert!(allowed.allows("https", "a.b.example.com", 443));
        assert!(!allowed.allows("https", "example.com", 443));
        assert!(allowed.allows("http", "127.0.0.1", 9));
        assert!(hosts(&["*://*:*"]).allows("redis", "anything", 1));
    }

    #[test]
    fn cidr_ipv6_and_port_ranges() {
        let allowed = hosts(&["http://10.1.0.0/16:80", "http://[::1]:8000..8100"]);
        assert!(allowed.allows("http", "10.1.200.3", 80));
        assert!(!allowed.allows("http", "10.2.0.1", 80));
        assert!(allowed.allows("http", "[::1]", 8050));
        assert!(!allowed.allows("http", "::1", 8101));
    }

    #[test]
    fn rejects_malformed_entries() {
        for bad in [
            "localhost:80",
            "ftp://host",
            "http://ho*st:80",
            "http://h:99999",
            "http://10.0.0.0/40:80",
        ] {
            assert!(
                OutboundRule::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn empty_list_allows_nothing() {
        assert!(!AllowedHosts::default().allows("http", "localhost", 80));
    }
}
