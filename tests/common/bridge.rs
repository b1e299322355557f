//! The host's address as a container on Docker's default bridge sees it: the one real address
//! the network tests try (the sandbox must not reach it) or offer (fake servers the production
//! stack's containers call).
//!
//! It is read from the bridge interface itself (`com.docker.network.bridge.name`, docker0 by
//! default), not from `IPAM.Config[0].Gateway`. A daemon that starts while the interface does
//! not exist yet (its first start on a machine, and every start after a reboot) elects the
//! subnet itself and records no Gateway: Docker 20.10 shows `[{"Subnet":"172.17.0.0/16"}]`
//! while it gives docker0 172.17.0.1. Only a later restart, with the interface already there,
//! fills the field in. So the field is only the fallback, for a machine without `ip`.
//!
//! The engine is assumed to run on this machine, as every test here assumes; an address that is
//! not this machine's (a remote DOCKER_HOST) is refused rather than tried.
//!
//! Shared by both test crates: this crate's `common` declares it, and
//! actors/tests/common/mod.rs includes the same file with `#[path]`, so the two cannot drift.
//! It uses only `std` for that reason.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;

/// The default bridge's interface, subnets and Gateway fields, one line.
const FORMAT: &str =
    r#"{{index .Options "com.docker.network.bridge.name"}}|{{range .IPAM.Config}}{{.Subnet}},{{.Gateway}};{{end}}"#;

/// The host's IPv4 address on Docker's default bridge. Panics, saying what was tried, when there
/// is none: a network test with no address to try must fail, never pass.
pub fn host_address() -> Ipv4Addr {
    find_host_address().unwrap_or_else(|e| panic!("no host address on Docker's default bridge: {e}"))
}

/// [`host_address`] without the panic: the address, or what was tried and why it failed.
pub fn find_host_address() -> Result<Ipv4Addr, String> {
    let out = Command::new("docker")
        .args(["network", "inspect", "bridge", "--format", FORMAT])
        .output()
        .map_err(|e| format!("`docker network inspect bridge` did not run: {e}"))?;
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        return Err(format!(
            "`docker network inspect bridge` failed (is the engine at DOCKER_HOST running?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let (interface, ipam) = printed.split_once('|').unwrap_or(("", ""));
    let interface = interface.trim().trim_start_matches("<no value>");
    let mut subnets = Vec::new();
    let mut gateways = Vec::new();
    for entry in ipam.split(';').filter(|e| !e.trim().is_empty()) {
        let (subnet, gateway) = entry.split_once(',').unwrap_or((entry, ""));
        subnets.extend(parse_cidr(subnet));
        gateways.extend(gateway.trim().parse::<Ipv4Addr>());
    }

    let mut tried = Vec::new();
    if interface.is_empty() {
        tried.push("the bridge network names no interface (com.docker.network.bridge.name)".to_string());
    } else {
        match interface_addresses(interface) {
            Ok(addresses) => {
                // The address in the bridge's own subnet, should the interface carry others.
                let inside = addresses
                    .iter()
                    .find(|(a, _)| subnets.iter().any(|s| contains(*s, *a)))
                    .or(addresses.first());
                match inside {
                    Some((a, _)) => return this_machines(*a, &format!("interface {interface}")),
                    None => tried.push(format!("interface {interface} has no IPv4 address")),
                }
            }
            Err(e) => tried.push(e),
        }
    }
    match gateways.first() {
        Some(g) => this_machines(*g, "the bridge's IPAM Gateway"),
        None => {
            tried.push(format!(
                "the bridge's IPAM config has no Gateway (`docker network inspect bridge` printed {printed:?})"
            ));
            Err(tried.join("; "))
        }
    }
}

/// The IPv4 addresses (with prefix length) of `interface`, from `ip -4 -o addr show dev`.
fn interface_addresses(interface: &str) -> Result<Vec<(Ipv4Addr, u8)>, String> {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", interface])
        .output()
        .map_err(|e| format!("`ip` did not run ({e}): apt-get install iproute2"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip -4 -o addr show dev {interface}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // "5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\ ..."
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet")?;
            parse_cidr(words.next()?)
        })
        .collect())
}

fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, len) = s.trim().split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((a.parse().ok()?, len))
}

fn contains((net, len): (Ipv4Addr, u8), a: Ipv4Addr) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(net) & mask == u32::from(a) & mask
}

/// `a`, if it is an address of this machine (a socket can be bound to it).
fn this_machines(a: Ipv4Addr, from: &str) -> Result<Ipv4Addr, String> {
    match TcpListener::bind((a, 0)) {
        Ok(_) => Ok(a),
        Err(e) => Err(format!(
            "{a} (from {from}) is not an address of this machine ({e}): is DOCKER_HOST an engine elsewhere?"
        )),
    }
}
