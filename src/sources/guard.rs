//! The SSRF guard for URLs handed over by editors (`/publish`, `/preview`,
//! `/subscribe`…): loopback, private, link-local (cloud metadata),
//! carrier-grade NAT, multicast and unspecified addresses are refused — by
//! the DNS resolver for names, and by a check of every hop for address
//! literals — unless the config allows them (tests do).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// True for addresses on the public internet. IPv6 forms that carry an
/// IPv4 address (mapped, compatible, translated, NAT64, 6to4, Teredo) are
/// judged by the IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if embedded_v4(v6).iter().any(|v4| !is_public_v4(*v4)) {
                return false;
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 0x0001) // local NAT64 64:ff9b:1::/48
                || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0])) // discard-only 100::/64
        }
    }
}

/// The IPv4 addresses an IPv6 address carries, if it is one of the forms
/// that embed one: `::ffff:a.b.c.d` (mapped), `::a.b.c.d` (compatible,
/// deprecated), `::ffff:0:a.b.c.d` (translated), `64:ff9b::a.b.c.d`
/// (NAT64), `2002:AABB:CCDD::/48` (6to4) and Teredo `2001:0::/32` (server
/// and de-obfuscated client).
pub fn embedded_v4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let seg = v6.segments();
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let mut out = Vec::new();
    match seg {
        // ::ffff:a.b.c.d mapped
        [0, 0, 0, 0, 0, 0xffff, _, _] => out.push(tail),
        // ::ffff:0:a.b.c.d translated (SIIT)
        [0, 0, 0, 0, 0xffff, 0, _, _] => out.push(tail),
        // ::a.b.c.d compatible (but not :: and ::1, judged as IPv6)
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => out.push(tail),
        // NAT64 well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => out.push(tail),
        // 6to4 2002:AABB:CCDD::/48
        [0x2002, a, b, ..] => {
            let [a1, a2] = a.to_be_bytes();
            let [b1, b2] = b.to_be_bytes();
            out.push(Ipv4Addr::new(a1, a2, b1, b2));
        }
        // Teredo 2001:0::/32: server in bits 32..64, client obfuscated.
        [0x2001, 0, s1, s2, _, _, c1, c2] => {
            let [a1, a2] = s1.to_be_bytes();
            let [b1, b2] = s2.to_be_bytes();
            out.push(Ipv4Addr::new(a1, a2, b1, b2));
            let [c11, c12] = (c1 ^ 0xffff).to_be_bytes();
            let [c21, c22] = (c2 ^ 0xffff).to_be_bytes();
            out.push(Ipv4Addr::new(c11, c12, c21, c22));
        }
        _ => {}
    }
    out
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, cloud metadata
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT 100.64/10
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240)
}

/// Check a URL before fetching it: http(s) only, and an address literal
/// must be public. Names are checked by [`PublicResolver`].
pub fn check_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("{other}: URLs are not fetched for editors")),
    }
    match url.host() {
        Some(Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => {
            Err(format!("{ip} is not a public address"))
        }
        Some(Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => {
            Err(format!("{ip} is not a public address"))
        }
        Some(_) => Ok(()),
        None => Err("the URL has no host".into()),
    }
}

/// What the guard lets through besides public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Any address (`[commands] allow_private_urls`: trusted set-ups and
    /// tests). The scheme is still checked.
    pub allow_private: bool,
    /// `ip:port` address literals let through although not public
    /// (`[commands] allow_hosts`), e.g. `127.0.0.1:8080`; names are never
    /// exempt (they must resolve to public addresses).
    pub allow_hosts: Vec<String>,
}

impl GuardPolicy {
    /// Checks one hop (the first request, a redirect, a discovered URL).
    pub fn check(&self, url: &Url) -> Result<(), String> {
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(format!("{other}: URLs are not fetched for editors")),
        }
        if self.allow_private || self.exempt(url) {
            return Ok(());
        }
        check_url(url)
    }

    fn exempt(&self, url: &Url) -> bool {
        let literal = matches!(url.host(), Some(Host::Ipv4(_)) | Some(Host::Ipv6(_)));
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let hp = format!("{host}:{port}");
        literal && self.allow_hosts.iter().any(|a| a.trim() == hp)
    }
}

/// The error a redirect refused by the guard carries (see
/// `SourceError::Refused`).
#[derive(Debug)]
pub(crate) struct GuardRefusal(pub String);

impl std::fmt::Display for GuardRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GuardRefusal {}

/// A DNS resolver that only returns public addresses.
#[derive(Debug, Default, Clone)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("refused: {host} resolves only to non-public addresses").into();
                return Err(e);
            }
            let it: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(it)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = bad.parse().expect("ip");
            assert!(!is_public(ip), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = good.parse().expect("ip");
            assert!(is_public(ip), "{good} is public");
        }
    }

    #[test]
    fn ipv6_forms_are_judged_by_the_ipv4_they_carry() {
        let refused = |s: &str| {
            let ip: IpAddr = s.parse().expect("ip");
            !is_public(ip)
        };
        // mapped ::ffff:0:0/96
        assert!(refused("::ffff:127.0.0.1"));
        assert!(refused("::ffff:10.0.0.1"));
        // compatible ::a.b.c.d
        assert!(refused("::127.0.0.1"));
        assert!(refused("::10.1.2.3"));
        // translated ::ffff:0:0:0/96 ([::ffff:0:7f00:1] is 127.0.0.1)
        assert!(refused("::ffff:0:7f00:1"));
        assert!(refused("::ffff:0:a9fe:a9fe"));
        // NAT64 64:ff9b::/96 (64:ff9b::a00:1 is 10.0.0.1) and 64:ff9b:1::/48
        assert!(refused("64:ff9b::7f00:1"));
        assert!(refused("64:ff9b::a00:1"));
        assert!(refused("64:ff9b:1::5db8:d822"));
        // 6to4 2002::/16 with a private IPv4
        assert!(refused("2002:7f00:1::1"));
        assert!(refused("2002:c0a8:101::1"));
        // Teredo 2001::/32: server 10.0.0.1, or client 127.0.0.1 (obfuscated)
        assert!(refused("2001:0:a00:1::5db8:d822"));
        assert!(refused("2001:0:5db8:d822:0:0:80ff:fffe"));
        // deprecated site-local fec0::/10
        assert!(refused("fec0::1"));
        assert!(refused("feff::1"));
        // the same forms carrying a public IPv4 pass
        for ok in [
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2001:0:5db8:d822::a247:29dd",
        ] {
            let ip: IpAddr = ok.parse().expect("ip");
            assert!(is_public(ip), "{ok} carries a public address");
        }
    }

    #[test]
    fn bracketed_embedding_literals_are_refused_in_urls() {
        let u = |s: &str| Url::parse(s).expect("url");
        for bad in [
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[fec0::1]/",
            "http://[2002:a00:1::]/",
        ] {
            assert!(check_url(&u(bad)).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn the_policy_allows_only_the_listed_address_and_port() {
        let u = |s: &str| Url::parse(s).expect("url");
        let p = GuardPolicy {
            allow_private: false,
            allow_hosts: vec!["127.0.0.1:8080".into()],
        };
        assert!(p.check(&u("http://127.0.0.1:8080/feed")).is_ok());
        assert!(p.check(&u("http://127.0.0.1:8081/feed")).is_err());
        assert!(p.check(&u("http://10.0.0.1:8080/feed")).is_err());
        assert!(p.check(&u("file:///etc/passwd")).is_err());
        let open = GuardPolicy {
            allow_private: true,
            allow_hosts: Vec::new(),
        };
        assert!(open.check(&u("http://127.0.0.1:1/")).is_ok());
        assert!(open.check(&u("file:///etc/passwd")).is_err());
    }

    #[test]
    fn urls_are_checked_before_fetching() {
        let u = |s: &str| Url::parse(s).expect("url");
        assert!(check_url(&u("http://127.0.0.1:8080/x")).is_err());
        assert!(check_url(&u("http://[::1]/x")).is_err());
        assert!(check_url(&u("http://169.254.169.254/latest/meta-data/")).is_err());
        assert!(check_url(&u("file:///etc/passwd")).is_err());
        assert!(check_url(&u("https://news.example/a")).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_hosts() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let r = PublicResolver.resolve(name).await;
        assert!(r.is_err(), "localhost resolves to loopback only");
    }
}
