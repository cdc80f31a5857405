//! Extraction: the sender's name, e-mail, phone (E.164), company, website, budget and timeline,
//! each with a confidence and where it came from. Form fields win over the contact, the contact
//! over the signature, the signature over the text, and the text over the e-mail domain.
//!
//! Form field names are matched after folding (lower case, accents off, separators to `_`)
//! against common names in en, de, es, fr, nl, it, pt (`full_name`, `vorname`, `correo`,
//! `téléphone`, `empresa`, `presupuesto`, …). E-mail addresses and phone numbers in text are found
//! by the PII redactor's detectors (`crate::privacy::redact`); phone numbers are normalised
//! to E.164 with `phonenumber`, using the region of the sender's country-code TLD, else of the
//! language (de, es, fr, nl, it, pt; none for English), else only numbers written with `+`/`00`.
//!
//! JSON shape (the contract's `extracted` object): one flat value per field (`null` when not
//! found), `budget` as `{amount, max, currency, text}`, and two parallel maps over the fields
//! found, `confidence` (0..=1) and `source` (`form`, `contact`, `signature`, `text`,
//! `email_domain`):
//! `{"name": "Maria Lopez", "email": "…", "phone": "+14155550132", "company": null, …,
//!   "confidence": {"name": 0.95, …}, "source": {"name": "form", …}}`.
//!
//! The orchestration and the types are here; each field's recogniser has its own file (`name`,
//! `email`, `phone`, `company`, `website`, `budget`, `timeline`), and the word lists and lookups
//! they share, per language or per domain, are in `tables`.

mod budget;
mod company;
mod email;
mod name;
mod phone;
mod tables;
mod timeline;
mod website;

use serde::Serialize;
use serde_json::{Map, Value, json};

pub use self::phone::to_e164;

pub(crate) use self::budget::{currencies_named, parse_number};
use self::budget::{find_budget, stated_currency};
use self::company::{company_in, company_of_domain};
use self::email::{is_email, is_free_mail};
use self::name::{name_from_signature, name_in_text};
use self::phone::{phone_field, with_area_code};
use self::tables::{
    BUDGET_KEYS, COMPANY_KEYS, EMAIL_KEYS, FIRST_NAME_KEYS, LAST_NAME_KEYS, NAME_KEYS, PHONE_KEYS,
    TIMELINE_KEYS, WEBSITE_KEYS, currency_of_language, currency_of_tld, region_of_language,
    region_of_tld,
};
pub(crate) use self::tables::{MULT, multiplier};
use self::timeline::find_timeline;
use self::website::{first_website, tld_of};
use crate::contract::job::Contact;
use crate::privacy::redact::{EntityType, Redactor};

/// Where an extracted value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Form,
    Contact,
    Signature,
    Text,
    EmailDomain,
}

/// One extracted value with its confidence (0..=1) and source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field<T> {
    pub value: T,
    pub confidence: f32,
    pub source: Source,
}

/// A [`Field`] from its parts.
fn field<T>(value: T, confidence: f32, source: Source) -> Field<T> {
    Field {
        value,
        confidence,
        source,
    }
}

/// A budget: a single amount, or a range from `amount` to `max`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    pub amount: f64,
    /// Upper end of a range ("between 10 and 20k USD"), else `None`.
    pub max: Option<f64>,
    /// ISO 4217 code; inferred from the TLD or language when the text names none.
    pub currency: String,
    /// The text it was read from.
    pub text: String,
}

/// Everything extracted from one lead. Serialises as documented in the module doc.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extracted {
    pub name: Option<Field<String>>,
    pub email: Option<Field<String>>,
    /// E.164 (`+4930123456`) when it parses; a form or contact value that does not parse is
    /// kept as given at confidence 0.4.
    pub phone: Option<Field<String>>,
    pub company: Option<Field<String>>,
    pub website: Option<Field<String>>,
    pub budget: Option<Field<Budget>>,
    /// The phrase as written ("next month", "Q3 2027", "bis Ende März", "in 2 weeks").
    pub timeline: Option<Field<String>>,
}

impl Extracted {
    /// The contract's `extracted` object.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let mut confidence = Map::new();
        let mut source = Map::new();
        let mut put = |name: &str, value: Option<(Value, f32, Source)>| match value {
            Some((v, c, s)) => {
                out.insert(name.to_string(), v);
                confidence.insert(
                    name.to_string(),
                    json!((f64::from(c) * 100.0).round() / 100.0),
                );
                source.insert(name.to_string(), json!(s));
            }
            None => {
                out.insert(name.to_string(), Value::Null);
            }
        };
        let text = |f: &Option<Field<String>>| {
            f.as_ref().map(|f| (json!(f.value), f.confidence, f.source))
        };
        put("name", text(&self.name));
        put("email", text(&self.email));
        put("phone", text(&self.phone));
        put("company", text(&self.company));
        put("website", text(&self.website));
        put(
            "budget",
            self.budget
                .as_ref()
                .map(|f| (json!(f.value), f.confidence, f.source)),
        );
        put("timeline", text(&self.timeline));
        out.insert("confidence".to_string(), Value::Object(confidence));
        out.insert("source".to_string(), Value::Object(source));
        Value::Object(out)
    }
}

impl Serialize for Extracted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The phone numbers the detector found in `text`, with an area code it left out.
fn phones<'t>(
    text: &'t str,
    entities: &'t [crate::privacy::redact::Entity],
) -> impl Iterator<Item = &'t str> + 't {
    entities
        .iter()
        .filter(|e| e.kind == EntityType::Phone)
        .map(move |e| with_area_code(text, e.start, e.end))
}

/// What extraction reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractInput<'a> {
    /// The cleaned body ([`super::clean::Cleaned::body`]).
    pub body: &'a str,
    /// The signature block found by cleaning.
    pub signature: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub contact: Option<&'a Contact>,
    /// Form fields as the customer's form named them.
    pub fields: Option<&'a Map<String, Value>>,
    /// ISO 639-1 language of the lead (`und` when unknown).
    pub language: &'a str,
}

/// Extracts using `redactor`'s detectors for e-mail addresses and phone numbers in text (the
/// composition root builds it from `RedactorConfig::contact_fields`).
pub fn extract(redactor: &Redactor, input: &ExtractInput) -> Extracted {
    let form = FormFields::new(input.fields);
    let contact = input.contact;
    let signature = input.signature.unwrap_or("");
    let body = input.body;

    let sig_entities = redactor.detect(signature);
    let body_entities = redactor.detect(body);
    let found = |text: &str, entities: &[crate::privacy::redact::Entity], kind: EntityType| {
        entities
            .iter()
            .filter(|e| e.kind == kind)
            .filter_map(|e| text.get(e.start..e.end).map(str::to_string))
            .collect::<Vec<String>>()
    };

    // e-mail
    let email = form
        .get(EMAIL_KEYS, |k| k.contains("email") || k.contains("e_mail"))
        .filter(|v| is_email(v))
        .map(|v| field(v.to_lowercase(), 0.95, Source::Form))
        .or_else(|| {
            contact
                .and_then(|c| c.email.as_deref())
                .map(str::trim)
                .filter(|v| is_email(v))
                .map(|v| field(v.to_lowercase(), 0.9, Source::Contact))
        })
        .or_else(|| {
            found(signature, &sig_entities, EntityType::Email)
                .into_iter()
                .next()
                .map(|v| field(v.to_lowercase(), 0.8, Source::Signature))
        })
        .or_else(|| {
            found(body, &body_entities, EntityType::Email)
                .into_iter()
                .next()
                .map(|v| field(v.to_lowercase(), 0.7, Source::Text))
        });
    let email_domain = email
        .as_ref()
        .and_then(|e| e.value.rsplit_once('@').map(|(_, d)| d.to_string()));

    // website (before the phone: its TLD helps the phone region)
    let website = form
        .get(WEBSITE_KEYS, |_| false)
        .map(|v| field(v, 0.95, Source::Form))
        .or_else(|| first_website(signature).map(|v| field(v, 0.8, Source::Signature)))
        .or_else(|| first_website(body).map(|v| field(v, 0.6, Source::Text)))
        .or_else(|| {
            email_domain
                .as_deref()
                .filter(|d| !is_free_mail(d))
                .map(|d| field(format!("https://{d}"), 0.35, Source::EmailDomain))
        });

    let tld = email_domain
        .as_deref()
        .or_else(|| website.as_ref().map(|w| w.value.as_str()))
        .and_then(tld_of);
    let region = tld
        .as_deref()
        .and_then(region_of_tld)
        .or_else(|| region_of_language(input.language));

    // phone
    let phone = form
        .get(PHONE_KEYS, |k| k.contains("phone") || k.starts_with("tel"))
        .map(|v| phone_field(&v, region, 0.95, Source::Form))
        .or_else(|| {
            contact
                .and_then(|c| c.phone.as_deref())
                .filter(|p| !p.trim().is_empty())
                .map(|p| phone_field(p, region, 0.9, Source::Contact))
        })
        .or_else(|| {
            phones(signature, &sig_entities)
                .find_map(|p| to_e164(p, region))
                .map(|p| field(p, 0.8, Source::Signature))
        })
        .or_else(|| {
            phones(body, &body_entities)
                .find_map(|p| to_e164(p, region))
                .map(|p| field(p, 0.7, Source::Text))
        });

    // name
    let name = form
        .get(NAME_KEYS, |_| false)
        .or_else(|| {
            let first = form.get(FIRST_NAME_KEYS, |_| false);
            let last = form.get(LAST_NAME_KEYS, |_| false);
            match (first, last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (Some(f), None) => Some(f),
                (None, Some(l)) => Some(l),
                (None, None) => None,
            }
        })
        .map(|v| field(v, 0.95, Source::Form))
        .or_else(|| {
            contact
                .and_then(|c| c.name.as_deref())
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| field(n.to_string(), 0.9, Source::Contact))
        })
        .or_else(|| name_from_signature(signature).map(|(n, c)| field(n, c, Source::Signature)))
        .or_else(|| name_in_text(body).map(|n| field(n, 0.6, Source::Text)));

    // company
    let company = form
        .get(COMPANY_KEYS, |k| k.contains("company"))
        .map(|v| field(v, 0.95, Source::Form))
        .or_else(|| company_in(signature, true).map(|(c, _)| field(c, 0.85, Source::Signature)))
        .or_else(|| company_in(body, false).map(|(c, conf)| field(c, conf, Source::Text)))
        .or_else(|| {
            email_domain
                .as_deref()
                .filter(|d| !is_free_mail(d))
                .and_then(company_of_domain)
                .map(|c| field(c, 0.4, Source::EmailDomain))
        });

    // budget and timeline
    let budget_field = form.get(BUDGET_KEYS, |k| k.contains("budget"));
    // a currency the lead states beats one inferred from its domain or language
    let currency_hint = stated_currency(&[
        budget_field.as_deref().unwrap_or(""),
        body,
        input.subject.unwrap_or(""),
    ])
    .or_else(|| tld.as_deref().and_then(currency_of_tld))
    .or_else(|| currency_of_language(input.language));
    let budget = budget_field
        .and_then(|v| {
            find_budget(&v, true, currency_hint).map(|(b, c)| field(b, c.max(0.9), Source::Form))
        })
        .or_else(|| find_budget(body, false, currency_hint).map(|(b, c)| field(b, c, Source::Text)))
        .or_else(|| {
            input
                .subject
                .and_then(|s| find_budget(s, false, currency_hint))
                .map(|(b, c)| field(b, c, Source::Text))
        });
    let timeline = form
        .get(TIMELINE_KEYS, |_| false)
        .map(|v| field(v, 0.95, Source::Form))
        .or_else(|| find_timeline(body).map(|t| field(t, 0.7, Source::Text)))
        .or_else(|| {
            input
                .subject
                .and_then(find_timeline)
                .map(|t| field(t, 0.6, Source::Text))
        });

    Extracted {
        name,
        email,
        phone,
        company,
        website,
        budget,
        timeline,
    }
}

// ---------------------------------------------------------------------------------------------
// form fields

/// Form fields with folded names and non-empty text values.
struct FormFields(Vec<(String, String)>);

impl FormFields {
    fn new(fields: Option<&Map<String, Value>>) -> Self {
        let pairs = fields
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.trim().to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                (!value.is_empty()).then(|| (fold_key(k), value))
            })
            .collect();
        Self(pairs)
    }

    /// The value of the first field named in `keys` (in the order of `keys`), else of the first
    /// field whose folded name satisfies `fallback`.
    fn get(&self, keys: &[&str], fallback: impl Fn(&str) -> bool) -> Option<String> {
        keys.iter()
            .find_map(|key| self.0.iter().find(|(k, _)| k.as_str() == *key))
            .or_else(|| self.0.iter().find(|(k, _)| fallback(k)))
            .map(|(_, v)| v.clone())
    }
}

/// "Téléphone (mobile)" → "telephone_mobile".
fn fold_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.trim().to_lowercase().chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ß' => 's',
            c if c.is_alphanumeric() => c,
            _ => '_',
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keys_fold() {
        assert_eq!(fold_key("Téléphone (mobile)"), "telephone_mobile");
        assert_eq!(fold_key("E-Mail-Adresse"), "e_mail_adresse");
    }
}
