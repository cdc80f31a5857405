//! Typed keys of what a job is about. A stored result is filed under the subjects it concerns, so
//! erasing a contact or a source also erases the cached results about it. The key is built in
//! one place ([`SubjectKey`]) and written out in one format (`contact:<id>`, `source:<id>`).

use std::fmt;

/// Who or what a stored result concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKey {
    /// A contact of the tenant (leads and conversations from them).
    Contact(String),
    /// A knowledge source of the tenant.
    Source(String),
}

impl SubjectKey {
    pub fn contact(id: impl Into<String>) -> SubjectKey {
        SubjectKey::Contact(id.into())
    }

    pub fn source(id: impl Into<String>) -> SubjectKey {
        SubjectKey::Source(id.into())
    }
}

/// The stored form: `contact:<id>` or `source:<id>`.
impl fmt::Display for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectKey::Contact(id) => write!(f, "contact:{id}"),
            SubjectKey::Source(id) => write!(f, "source:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_stored_form() {
        assert_eq!(SubjectKey::contact("c-1").to_string(), "contact:c-1");
        assert_eq!(SubjectKey::source("help").to_string(), "source:help");
    }
}
