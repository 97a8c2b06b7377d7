//! Which addresses a destination may have: public ones only, unless the
//! operator allows private ones (`TOUCHPOINT_ALERTS_ALLOW_PRIVATE=1`).
//! Otherwise anyone who may edit a site could make the server post to its
//! own network: a database's HTTP port, an admin page on loopback, a
//! cloud's metadata service that hands out credentials.
//!
//! Checked when a site is applied (a literal address, or every address its
//! name resolves to) and again before each send, after resolving, on the
//! very address then connected to: a name that resolved to a public
//! address at apply time and to a private one later (DNS rebinding) is
//! refused too.

use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use touchpoint_wire::AlertDestination;

/// Why an address is not a public one, or `None` when it is.
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, d] = ip.octets();
    Some(match (a, b, c, d) {
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, ..) | (192, 168, ..) => "private",
        (169, 254, ..) => "link-local (where cloud metadata services answer)",
        (100, 64..=127, ..) => "carrier-grade NAT (shared)",
        (0, ..) => "this network",
        // Azure's platform endpoint, public-looking but the host's own.
        (168, 63, 129, 16) => "cloud metadata",
        (192, 0, 0, _) => "IETF protocol assignment",
        (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => "documentation",
        (198, 18..=19, ..) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved or broadcast",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return v4_kind(Ipv4Addr::new(a, b, c, d));
    }
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        if let Some(kind) = v4_kind(Ipv4Addr::new(a, b, c, d)) {
            return Some(kind);
        }
    }
    Some(match s[0] {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        0xfc00..=0xfdff => "unique-local (private; also where cloud metadata answers over IPv6)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "discard",
        // ::a.b.c.d (IPv4-compatible, deprecated) and the rest of ::/8.
        0 => "reserved",
        _ => return None,
    })
}

/// The host and port a destination URL names.
pub fn host_port(url: &str) -> Result<(String, u16, bool)> {
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|_| Error::Internal("an alert destination is not a URL".into()))?;
    let https = uri.scheme_str() == Some("https");
    let authority = uri
        .authority()
        .ok_or_else(|| Error::Internal("an alert destination names no host".into()))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok((host, port, https))
}

/// Every address `host` stands for: itself when it is a literal address,
/// else what DNS answers.
pub async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(std::io::Error::other("the name has no address"));
    }
    Ok(addrs)
}

/// The first non-public address among `addrs`, with why.
pub fn first_private(addrs: &[SocketAddr]) -> Option<(IpAddr, &'static str)> {
    addrs
        .iter()
        .find_map(|a| private_kind(a.ip()).map(|k| (a.ip(), k)))
}

/// Refuses a site's destinations that are, or resolve to, a non-public
/// address (any of its addresses: one is enough to be led there), unless
/// `allow_private`; and names that do not resolve at all. Errors name the
/// field.
pub async fn check_destinations(alerts: &[AlertDestination], allow_private: bool) -> Result<()> {
    let bad = |msg: String| Err(Error::bad_request("invalid_site_file", msg));
    for (i, a) in alerts.iter().enumerate() {
        let (host, port, _) = host_port(&a.url)?;
        let addrs =
            match tokio::time::timeout(std::time::Duration::from_secs(10), resolve(&host, port))
                .await
            {
                Ok(Ok(addrs)) => addrs,
                Ok(Err(_)) | Err(_) => {
                    return bad(format!(
                        "alert[{i}].url: {host:?} does not resolve to an address"
                    ));
                }
            };
        if allow_private {
            continue;
        }
        if let Some((_, kind)) = first_private(&addrs) {
            return bad(format!(
                "alert[{i}].url: {host:?} is a {kind} address; destinations must be public \
                 (an operator can allow private ones by starting the server with TOUCHPOINT_ALERTS_ALLOW_PRIVATE=1)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "168.63.129.16",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(private_kind(ip).is_some(), "{private} passed");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(private_kind(ip), None, "{public} refused");
        }
    }

    #[test]
    fn hosts_and_ports_come_from_the_url() {
        assert_eq!(
            host_port("https://hooks.example/x").unwrap(),
            ("hooks.example".into(), 443, true)
        );
        assert_eq!(
            host_port("http://[::1]:8080/x").unwrap(),
            ("::1".into(), 8080, false)
        );
    }
}
