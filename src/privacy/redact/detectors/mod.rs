//! The fast-tier detectors. Each submodule owns one family of entities and proposes candidates;
//! none of them knows about the others (overlaps are settled in `super::resolve`).

mod address;
mod card;
mod dob;
mod email;
mod iban;
mod ip;
mod national_id;
mod person;
mod phone;
mod secret;
mod url;

use phonenumber::country;
use regex::{Regex, RegexBuilder};

use super::names::NameLists;
use super::resolve::{Candidate, Tier};

/// All detectors, with their patterns compiled once.
pub(super) struct Detectors {
    email: email::EmailDetector,
    phone: phone::PhoneDetector,
    card: card::CardDetector,
    iban: iban::IbanDetector,
    national_id: national_id::NationalIdDetector,
    ip: ip::IpDetector,
    url: url::UrlDetector,
    secret: secret::SecretDetector,
    dob: dob::DobDetector,
    person: person::PersonDetector,
    address: address::AddressDetector,
}

impl Detectors {
    pub fn new(phone_regions: Vec<country::Id>, names: NameLists) -> Self {
        Self {
            email: email::EmailDetector::new(),
            phone: phone::PhoneDetector::new(phone_regions),
            card: card::CardDetector::new(),
            iban: iban::IbanDetector::new(),
            national_id: national_id::NationalIdDetector::new(),
            ip: ip::IpDetector::new(),
            url: url::UrlDetector::new(),
            secret: secret::SecretDetector::new(),
            dob: dob::DobDetector::new(),
            person: person::PersonDetector::new(names),
            address: address::AddressDetector::new(),
        }
    }

    /// Every detector's candidates for `text`, overlapping and unsorted.
    pub fn candidates(&self, text: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        self.email.detect(text, &mut out);
        self.card.detect(text, &mut out);
        self.iban.detect(text, &mut out);
        self.national_id.detect(text, &mut out);
        self.ip.detect(text, &mut out);
        // checksummed entities first, so a greedy phone shape stops where one of them starts
        let validated: Vec<(usize, usize)> = out
            .iter()
            .filter(|c| c.tier == Tier::Validated)
            .map(|c| (c.start, c.end))
            .collect();
        self.phone.detect(text, &validated, &mut out);
        self.url.detect(text, &mut out);
        self.secret.detect(text, &mut out);
        self.dob.detect(text, &mut out);
        self.person.detect(text, &mut out);
        self.address.detect(text, &mut out);
        out
    }
}

/// Compiles one of the detectors' static patterns. The lazy DFA gets a larger cache than the
/// default: the name and address patterns have many states over Unicode classes, and a cache
/// that keeps being cleared and rebuilt costs most of the scan time.
fn compile(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .dfa_size_limit(64 << 20)
        .build()
        .expect("static regex")
}

/// Test helper: the texts of the candidates one detector proposes.
#[cfg(test)]
fn found(text: &str, detect: impl Fn(&str, &mut Vec<Candidate>)) -> Vec<&str> {
    let mut out = Vec::new();
    detect(text, &mut out);
    out.iter()
        .filter_map(|c| text.get(c.start..c.end))
        .collect()
}
