//! SSRF guard: decides which IP addresses a crawl may connect to, and builds the one HTTP client
//! every crawl request goes through (a DNS resolver that drops forbidden addresses, a redirect
//! policy that screens IP-literal targets, and no proxy, so nothing bypasses the resolver).
//!
//! It knows nothing about scope, robots or pages; it only answers "may we connect there".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use spider::reqwest;
use spider::reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Error message the redirect policy and resolver attach, so failures can be classified.
pub const BLOCKED_MARKER: &str = "blocked by ssrf guard";

/// Too many redirects, as reported by our redirect policy.
pub const TOO_MANY_REDIRECTS_MARKER: &str = "too many redirects";

/// Redirect back to an already visited URL.
pub const REDIRECT_LOOP_MARKER: &str = "redirect loop";

/// Whether the guard is enforced. Off only for trusted setups and for tests against 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkPolicy {
    /// Refuse loopback, private, link-local, metadata and other non-public addresses.
    PublicOnly,
    /// `--allow-private-network`: connect anywhere.
    AllowPrivate,
}

/// True when `ip` is not a public unicast address a customer crawl may reach.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()            // 127/8
        || ip.is_private()      // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()   // 169.254/16, includes 169.254.169.254 metadata
        || ip.is_unspecified()  // 0.0.0.0
        || ip.is_broadcast()    // 255.255.255.255
        || ip.is_multicast()    // 224/4
        || ip.is_documentation()
        || a == 0               // 0/8 "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10 carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18/15 benchmarking
        || a >= 240 // 240/4 reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    let first = ip.segments()[0];
    let is_nat64_or_compat = ip.segments()[..6] == [0, 0, 0, 0, 0, 0] // ::a.b.c.d (deprecated)
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]); // 64:ff9b::/96 NAT64
    if is_nat64_or_compat && !ip.is_loopback() && !ip.is_unspecified() {
        let [.., g, h] = ip.segments();
        let v4 = Ipv4Addr::new((g >> 8) as u8, g as u8, (h >> 8) as u8, h as u8);
        return is_forbidden_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (first & 0xffc0) == 0xfe80 // fe80::/10 link local
        || (first & 0xffc0) == 0xfec0 // fec0::/10 site local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
}

/// Checks a URL whose host is an IP literal (reqwest does not resolve those, so the resolver
/// never sees them). Hostnames pass here and are checked by [`GuardedResolver`] instead.
pub fn url_is_blocked(url: &Url, policy: NetworkPolicy) -> bool {
    if policy == NetworkPolicy::AllowPrivate {
        return false;
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => is_forbidden_v4(ip),
        Some(Host::Ipv6(ip)) => is_forbidden_v6(ip),
        Some(Host::Domain(domain)) => {
            // "localhost" never needs DNS in some resolvers; refuse it outright.
            let domain = domain.trim_end_matches('.');
            domain.eq_ignore_ascii_case("localhost") || domain.ends_with(".localhost")
        }
        None => true,
    }
}

/// A reqwest resolver that resolves with the system resolver (on a blocking thread) and drops
/// every forbidden address; a name with only forbidden addresses fails to resolve.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = tokio::task::spawn_blocking(move || {
                // The port is irrelevant; reqwest substitutes the URL's port.
                (host.as_str(), 0u16)
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Vec<SocketAddr>>())
            })
            .await;
            let addrs = match lookup {
                Ok(Ok(addrs)) => addrs,
                Ok(Err(err)) => {
                    return Err(Box::new(err) as Box<dyn std::error::Error + Send + Sync>);
                }
                Err(join) => return Err(Box::new(join) as Box<dyn std::error::Error + Send + Sync>),
            };
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|addr| !is_forbidden_ip(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(BLOCKED_MARKER.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Settings the client is built from.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub policy: NetworkPolicy,
    pub user_agent: String,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub redirect_limit: usize,
}

/// Builds the guarded client. Every crawl request (pages, robots.txt, sitemaps) uses it.
pub fn build_client(settings: &ClientSettings) -> Result<reqwest::Client, reqwest::Error> {
    let policy = settings.policy;
    let limit = settings.redirect_limit;
    let redirect = reqwest::redirect::Policy::custom(move |attempt| {
        if url_is_blocked(attempt.url(), policy) {
            return attempt.error(BLOCKED_MARKER);
        }
        if attempt.previous().iter().any(|seen| seen == attempt.url()) {
            return attempt.error(REDIRECT_LOOP_MARKER);
        }
        if attempt.previous().len() > limit {
            return attempt.error(TOO_MANY_REDIRECTS_MARKER);
        }
        attempt.follow()
    });
    let builder = reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .timeout(settings.request_timeout)
        .connect_timeout(settings.connect_timeout)
        .redirect(redirect)
        // A proxy would resolve names itself and bypass the guard.
        .no_proxy()
        .pool_max_idle_per_host(16);
    let builder = match policy {
        NetworkPolicy::PublicOnly => builder.dns_resolver(Arc::new(GuardedResolver)),
        NetworkPolicy::AllowPrivate => builder,
    };
    builder.build()
}

/// True when a reqwest error (or any error in its source chain) came from the guard.
pub fn error_chain_contains(err: &(dyn std::error::Error + 'static), marker: &str) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.to_string().contains(marker) {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        match s.parse::<IpAddr>() {
            Ok(ip) => is_forbidden_ip(ip),
            Err(_) => false,
        }
    }

    #[test]
    fn forbidden_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn ip_literal_urls() {
        let blocked = |u: &str| match Url::parse(u) {
            Ok(url) => url_is_blocked(&url, NetworkPolicy::PublicOnly),
            Err(_) => true,
        };
        assert!(blocked("http://127.0.0.1:8080/"));
        assert!(blocked("http://[::ffff:7f00:1]/"));
        assert!(blocked("http://169.254.169.254/latest/meta-data/"));
        assert!(blocked("http://localhost/"));
        assert!(!blocked("http://example.com/"));
        assert!(!blocked("http://93.184.216.34/"));
    }
}
