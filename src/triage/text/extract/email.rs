//! E-mail addresses: what counts as one, and whether a domain is a free-mail provider's.

use super::tables::FREE_MAIL;

/// True for something shaped like an address (`local@domain.tld`, no spaces).
pub(super) fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !value.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// True for a free-mail provider's domain (the company is not the domain then).
pub(super) fn is_free_mail(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    FREE_MAIL.contains(&d.as_str())
        || [
            "hotmail.", "yahoo.", "outlook.", "live.", "gmx.", "yandex.", "aol.",
        ]
        .iter()
        .any(|p| d.starts_with(p))
}
