//! Fault injection for the runtime's own tests, from variables no deployment sets: an actor
//! panics in the middle of its work, so the tests can see its supervisor restart it and the
//! work go on. `DEVMENTOR_FAULT_PANIC_MARKER` names a text; `DEVMENTOR_FAULT_PANIC_IN` the
//! places that panic on it (comma-separated: `sandbox` — a job whose code contains it, the
//! default —, `delivery` — delivering such a check's card —, `ingress` — an update whose text
//! contains it); once per place, or every time with `DEVMENTOR_FAULT_PANIC_ALWAYS=1`.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Sandbox,
    Delivery,
    Ingress,
}

impl Site {
    const ALL: [Site; 3] = [Site::Sandbox, Site::Delivery, Site::Ingress];

    fn name(self) -> &'static str {
        match self {
            Site::Sandbox => "sandbox",
            Site::Delivery => "delivery",
            Site::Ingress => "ingress",
        }
    }
}

#[derive(Default, Debug)]
pub struct FaultInjection {
    pub marker: Option<String>,
    /// Where it fires.
    pub sites: Vec<Site>,
    /// Fire on every match, not only the first (a restart storm).
    pub always: bool,
    fired: [AtomicBool; 3],
}

impl FaultInjection {
    pub fn new(marker: Option<String>, sites: Vec<Site>, always: bool) -> FaultInjection {
        FaultInjection {
            marker,
            sites,
            always,
            fired: Default::default(),
        }
    }

    pub fn from_env() -> FaultInjection {
        let marker = std::env::var("DEVMENTOR_FAULT_PANIC_MARKER")
            .ok()
            .filter(|m| !m.is_empty());
        let sites = match std::env::var("DEVMENTOR_FAULT_PANIC_IN") {
            Ok(v) if !v.trim().is_empty() => Site::ALL
                .into_iter()
                .filter(|s| v.split(',').any(|p| p.trim() == s.name()))
                .collect(),
            _ => vec![Site::Sandbox],
        };
        if marker.is_some() {
            tracing::warn!(
                ?sites,
                "fault injection is on (DEVMENTOR_FAULT_PANIC_MARKER): this is a test run"
            );
        }
        let always = std::env::var("DEVMENTOR_FAULT_PANIC_ALWAYS").is_ok_and(|v| v == "1");
        FaultInjection::new(marker, sites, always)
    }

    /// Whether `site` must panic now on `text`.
    pub fn fires(&self, site: Site, text: &str) -> bool {
        let Some(marker) = &self.marker else {
            return false;
        };
        if !self.sites.contains(&site) || !text.contains(marker.as_str()) {
            return false;
        }
        let i = Site::ALL.iter().position(|s| *s == site).unwrap_or(0);
        self.always || !self.fired[i].swap(true, Ordering::SeqCst)
    }

    pub fn armed(&self, site: Site) -> bool {
        self.marker.is_some() && self.sites.contains(&site)
    }
}
