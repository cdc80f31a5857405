//! The entity types of the contract (section 5) and the span type the redactor reports.

use serde::{Deserialize, Serialize};

/// A kind of personal or secret data. Serialised with the contract's upper-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    Person,
    Email,
    Phone,
    CreditCard,
    Iban,
    /// US SSN, driver's licence numbers with context, Spanish DNI/NIE, UK NINO.
    NationalId,
    IpAddress,
    StreetAddress,
    /// A URL that carries credentials or tokens (plain URLs are not redacted).
    Url,
    /// API keys, tokens, passwords, private keys.
    Secret,
    DateOfBirth,
}

/// A detected span: UTF-8 byte offsets into the scanned text, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: EntityType,
    pub start: usize,
    pub end: usize,
    /// Confidence in 0..=1; validated detectors score higher than context rules.
    #[serde(serialize_with = "two_decimals")]
    pub score: f32,
}

/// Scores are rough confidences: two decimals, not the float's binary noise (`0.8500000238`).
fn two_decimals<S: serde::Serializer>(score: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((f64::from(*score) * 100.0).round() / 100.0)
}

impl EntityType {
    pub const ALL: [EntityType; 11] = [
        EntityType::Person,
        EntityType::Email,
        EntityType::Phone,
        EntityType::CreditCard,
        EntityType::Iban,
        EntityType::NationalId,
        EntityType::IpAddress,
        EntityType::StreetAddress,
        EntityType::Url,
        EntityType::Secret,
        EntityType::DateOfBirth,
    ];

    /// The contract name, also the placeholder label (`PERSON` in `<PERSON_1>`).
    pub fn name(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Email => "EMAIL",
            EntityType::Phone => "PHONE",
            EntityType::CreditCard => "CREDIT_CARD",
            EntityType::Iban => "IBAN",
            EntityType::NationalId => "NATIONAL_ID",
            EntityType::IpAddress => "IP_ADDRESS",
            EntityType::StreetAddress => "STREET_ADDRESS",
            EntityType::Url => "URL",
            EntityType::Secret => "SECRET",
            EntityType::DateOfBirth => "DATE_OF_BIRTH",
        }
    }

    /// Parses a contract name, case-insensitively (providers change case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// What an unrestorable placeholder of this type is replaced with in restored text.
    pub fn neutral_word(self) -> &'static str {
        match self {
            EntityType::Person => "the person",
            EntityType::Email => "the email address",
            EntityType::Phone => "the phone number",
            EntityType::CreditCard => "the card",
            EntityType::Iban => "the account",
            EntityType::NationalId => "the ID number",
            EntityType::IpAddress => "the IP address",
            EntityType::StreetAddress => "the address",
            EntityType::Url => "the link",
            EntityType::Secret => "the credential",
            EntityType::DateOfBirth => "the date of birth",
        }
    }
}

impl std::fmt::Display for EntityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_contract() {
        for t in EntityType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.name()));
            assert_eq!(EntityType::from_name(&t.name().to_lowercase()), Some(t));
        }
    }
}
