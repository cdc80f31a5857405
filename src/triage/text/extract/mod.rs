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

use std::sync::LazyLock;

use phonenumber::country;
use regex::{Captures, Regex};
use serde::Serialize;
use serde_json::{Map, Value, json};

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
            found(signature, &sig_entities, EntityType::Phone)
                .iter()
                .find_map(|p| to_e164(p, region))
                .map(|p| field(p, 0.8, Source::Signature))
        })
        .or_else(|| {
            found(body, &body_entities, EntityType::Phone)
                .iter()
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
        .or_else(|| {
            NAME_IN_TEXT
                .captures(body)
                .map(|c| field(c[1].trim().to_string(), 0.6, Source::Text))
        });

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
    let currency_hint = tld
        .as_deref()
        .and_then(currency_of_tld)
        .or_else(|| currency_of_language(input.language));
    let budget = form
        .get(BUDGET_KEYS, |k| k.contains("budget"))
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

const NAME_KEYS: &[&str] = &[
    "name",
    "full_name",
    "fullname",
    "your_name",
    "contact_name",
    "contact_person",
    "nombre",
    "nombre_completo",
    "nombre_y_apellido",
    "nombre_y_apellidos",
    "su_nombre",
    "tu_nombre",
    "nom",
    "nom_complet",
    "votre_nom",
    "nom_et_prenom",
    "naam",
    "volledige_naam",
    "uw_naam",
    "je_naam",
    "nome",
    "nome_completo",
    "il_tuo_nome",
    "nome_e_cognome",
    "seu_nome",
    "ihr_name",
    "vollstandiger_name",
    "kontaktperson",
    "ansprechpartner",
];
const FIRST_NAME_KEYS: &[&str] = &[
    "first_name",
    "firstname",
    "given_name",
    "fname",
    "vorname",
    "prenom",
    "voornaam",
    "primeiro_nome",
    "nombre_de_pila",
];
const LAST_NAME_KEYS: &[&str] = &[
    "last_name",
    "lastname",
    "surname",
    "family_name",
    "lname",
    "nachname",
    "familienname",
    "apellido",
    "apellidos",
    "nom_de_famille",
    "achternaam",
    "cognome",
    "sobrenome",
    "apelido",
];
const EMAIL_KEYS: &[&str] = &[
    "email",
    "e_mail",
    "mail",
    "email_address",
    "your_email",
    "correo",
    "correo_electronico",
    "courriel",
    "adresse_email",
    "adresse_e_mail",
    "e_mail_adresse",
    "emailadresse",
    "emailadres",
    "e_mailadres",
    "posta_elettronica",
    "indirizzo_email",
    "endereco_de_email",
];
const PHONE_KEYS: &[&str] = &[
    "phone",
    "phone_number",
    "telephone",
    "tel",
    "mobile",
    "mobile_phone",
    "cell",
    "cellphone",
    "telefon",
    "telefonnummer",
    "handy",
    "mobil",
    "mobilnummer",
    "telefono",
    "numero_de_telefono",
    "movil",
    "celular",
    "portable",
    "numero_de_telephone",
    "telefoon",
    "telefoonnummer",
    "mobiel",
    "cellulare",
    "numero_di_telefono",
    "telemovel",
    "whatsapp",
];
const COMPANY_KEYS: &[&str] = &[
    "company",
    "company_name",
    "organization",
    "organisation",
    "org",
    "business",
    "employer",
    "firma",
    "unternehmen",
    "firmenname",
    "empresa",
    "compania",
    "nombre_de_la_empresa",
    "entreprise",
    "societe",
    "nom_de_l_entreprise",
    "bedrijf",
    "bedrijfsnaam",
    "organisatie",
    "azienda",
    "societa",
    "ditta",
    "nome_azienda",
    "nome_da_empresa",
];
const WEBSITE_KEYS: &[&str] = &[
    "website",
    "web",
    "url",
    "site",
    "homepage",
    "web_site",
    "company_website",
    "webseite",
    "internetseite",
    "sitio_web",
    "pagina_web",
    "site_web",
    "site_internet",
    "sito",
    "sito_web",
    "sitio",
    "website_url",
];
const BUDGET_KEYS: &[&str] = &[
    "budget",
    "budget_range",
    "estimated_budget",
    "presupuesto",
    "orcamento",
    "bilancio",
    "budget_eur",
    "budget_usd",
    "investment",
    "budget_estimado",
];
const TIMELINE_KEYS: &[&str] = &[
    "timeline",
    "timeframe",
    "time_frame",
    "deadline",
    "when",
    "start_date",
    "zeitrahmen",
    "zeitraum",
    "zeitplan",
    "termin",
    "plazo",
    "fecha",
    "calendario",
    "delai",
    "echeance",
    "planning",
    "termijn",
    "tijdlijn",
    "tempistica",
    "scadenza",
    "tempi",
    "prazo",
    "cronograma",
];

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

// ---------------------------------------------------------------------------------------------
// e-mail, domains, websites

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !value.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "gmx.com",
    "web.de",
    "t-online.de",
    "freenet.de",
    "posteo.de",
    "mailbox.org",
    "arcor.de",
    "online.de",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "tutanota.com",
    "fastmail.com",
    "hey.com",
    "zoho.com",
    "mail.com",
    "yandex.com",
    "mail.ru",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "neuf.fr",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "alice.it",
    "tim.it",
    "hetnet.nl",
    "ziggo.nl",
    "kpnmail.nl",
    "planet.nl",
    "telenet.be",
    "skynet.be",
    "bluewin.ch",
    "terra.com.br",
    "uol.com.br",
    "bol.com.br",
    "sapo.pt",
    "telefonica.net",
    "movistar.es",
    "btinternet.com",
    "sky.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "qq.com",
    "163.com",
    "126.com",
];

/// True for a free-mail provider's domain (the company is not the domain then).
pub fn is_free_mail(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    FREE_MAIL.contains(&d.as_str())
        || [
            "hotmail.", "yahoo.", "outlook.", "live.", "gmx.", "yandex.", "aol.",
        ]
        .iter()
        .any(|p| d.starts_with(p))
}

/// Second-level suffixes under which the registrable name is one label further left.
const TWO_LEVEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "com.br", "com.mx", "com.ar", "com.au", "co.nz", "co.za", "com.es",
    "com.pt", "co.jp", "com.tr", "co.in",
];

/// "mail.acme-corp.co.uk" → "Acme Corp".
fn company_of_domain(domain: &str) -> Option<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return None;
    }
    let last_two = labels[labels.len() - 2..].join(".");
    let idx = if TWO_LEVEL_SUFFIXES.contains(&last_two.as_str()) && labels.len() >= 3 {
        labels.len() - 3
    } else {
        labels.len() - 2
    };
    let name: Vec<String> = labels[idx]
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_uppercase().chain(cs).collect())
                .unwrap_or_default()
        })
        .collect();
    (!name.is_empty()).then(|| name.join(" "))
}

/// The top-level label of a domain or URL, lower case.
fn tld_of(domain_or_url: &str) -> Option<String> {
    let host = domain_or_url
        .split("://")
        .last()
        .unwrap_or("")
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or("");
    let tld = host.rsplit('.').next()?.to_lowercase();
    (tld.len() == 2 && tld.chars().all(|c| c.is_ascii_alphabetic())).then_some(tld)
}

fn region_of_tld(tld: &str) -> Option<country::Id> {
    let code = match tld {
        "uk" => "GB",
        "de" | "at" | "ch" | "es" | "mx" | "ar" | "cl" | "fr" | "be" | "nl" | "it" | "pt"
        | "br" | "ie" | "us" | "ca" | "au" | "lu" => return tld.to_ascii_uppercase().parse().ok(),
        _ => return None,
    };
    code.parse().ok()
}

fn region_of_language(lang: &str) -> Option<country::Id> {
    let code = match lang {
        "de" => "DE",
        "es" => "ES",
        "fr" => "FR",
        "nl" => "NL",
        "it" => "IT",
        "pt" => "PT",
        _ => return None,
    };
    code.parse().ok()
}

fn currency_of_tld(tld: &str) -> Option<&'static str> {
    Some(match tld {
        "uk" => "GBP",
        "ch" => "CHF",
        "us" => "USD",
        "ca" => "CAD",
        "au" => "AUD",
        "br" => "BRL",
        "mx" => "MXN",
        "de" | "at" | "es" | "fr" | "be" | "nl" | "it" | "pt" | "ie" | "lu" | "fi" => "EUR",
        _ => return None,
    })
}

fn currency_of_language(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "en" => "USD",
        "de" | "es" | "fr" | "nl" | "it" | "pt" => "EUR",
        _ => return None,
    })
}

static WEB_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]]+"#).expect("static regex")
});

/// Hosts that are never the sender's own website.
const NOT_A_WEBSITE: &[&str] = &[
    "linkedin.",
    "facebook.",
    "twitter.",
    "x.com",
    "instagram.",
    "youtube.",
    "youtu.be",
    "calendly.",
    "zoom.us",
    "teams.microsoft",
    "meet.google",
    "google.",
    "bit.ly",
    "t.co",
    "tiktok.",
    "wa.me",
    "github.com",
];

fn first_website(text: &str) -> Option<String> {
    WEB_URL
        .find_iter(text)
        .map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?'])
                .to_string()
        })
        .find(|url| {
            let lower = url.to_lowercase();
            let host = lower
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.");
            !NOT_A_WEBSITE.iter().any(|n| host.starts_with(n)) && !lower.contains('@')
        })
}

// ---------------------------------------------------------------------------------------------
// phone

fn phone_field(
    raw: &str,
    region: Option<country::Id>,
    confidence: f32,
    source: Source,
) -> Field<String> {
    match to_e164(raw, region) {
        Some(e164) => field(e164, confidence, source),
        None => field(raw.trim().to_string(), 0.4, source),
    }
}

/// E.164 form of a written number: international as written, national in `region`.
pub fn to_e164(raw: &str, region: Option<country::Id>) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 40 {
        return None;
    }
    let (region, text) = if let Some(rest) = trimmed.strip_prefix("00") {
        (None, format!("+{rest}"))
    } else if trimmed.starts_with('+') {
        (None, trimmed.to_string())
    } else {
        (Some(region?), trimmed.to_string())
    };
    let parsed = phonenumber::parse(region, &text).ok()?;
    phonenumber::is_valid(&parsed)
        .then(|| parsed.format().mode(phonenumber::Mode::E164).to_string())
}

// ---------------------------------------------------------------------------------------------
// names and companies

const NAME: &str = r"\p{Lu}[\p{L}'’-]+(?:[ \t]+(?:(?:van|von|de|da|del|di|der|den|la|le|dos|das)[ \t]+)?\p{Lu}[\p{L}'’-]+){0,3}";

static NAME_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b(?:(?i:my name is|i am|i'm|this is|mein name ist|ich bin|ich heiße|me llamo|mi nombre es|soy|je m'appelle|je suis|mon nom est|mijn naam is|ik ben|ik heet|mi chiamo|il mio nome è|sono|meu nome é|chamo-me|eu sou|sou))[ \t]+({NAME})"))
        .expect("static regex")
});
static NAME_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^({NAME})\s*[,|–-]?")).expect("static regex"));

/// Words that make a signature line a title, a team or a company rather than a name.
const NOT_NAME_WORDS: &[&str] = &[
    "manager",
    "director",
    "head",
    "ceo",
    "cto",
    "cfo",
    "coo",
    "founder",
    "sales",
    "team",
    "support",
    "marketing",
    "office",
    "department",
    "customer",
    "service",
    "engineer",
    "consultant",
    "assistant",
    "geschäftsführer",
    "geschäftsführerin",
    "leiter",
    "leiterin",
    "vertrieb",
    "abteilung",
    "einkauf",
    "gerente",
    "director",
    "directora",
    "equipo",
    "ventas",
    "directeur",
    "directrice",
    "responsable",
    "équipe",
    "service",
    "afdeling",
    "directeur",
    "direttore",
    "responsabile",
    "ufficio",
    "diretor",
    "diretora",
    "equipa",
    "equipe",
    "inc",
    "ltd",
    "gmbh",
    "llc",
    "tel",
    "phone",
    "mobile",
    "fax",
    "email",
    "www",
];

/// A name on one of the first two signature lines: two to four capitalised words (0.75), or
/// one alone on the first line ("John", 0.6).
fn name_from_signature(signature: &str) -> Option<(String, f32)> {
    signature
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(2)
        .enumerate()
        .find_map(|(i, line)| {
            if line.chars().any(|c| c.is_ascii_digit() || c == '@') || line.chars().count() > 60 {
                return None;
            }
            let c = NAME_LINE.captures(line)?;
            let name = c[1].trim().to_string();
            let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
            let is_title = words.iter().any(|w| NOT_NAME_WORDS.contains(&w.as_str()));
            let is_company = COMPANY_SUFFIX_ONLY.is_match(line);
            if is_title || is_company || words.len() > 4 {
                return None;
            }
            match words.len() {
                1 if i == 0 && name == line.trim_end_matches([',', '.']) => Some((name, 0.6)),
                2.. => Some((name, 0.75)),
                _ => None,
            }
        })
}

const COMPANY_SUFFIX: &str = r"(?:GmbH(?:[ \t]*&[ \t]*Co\.?[ \t]*KG)?|AG|KG|UG|e\.V|Ltd|Limited|LLC|Inc|Corp|Corporation|PLC|plc|LLP|SLU|SL|S\.L|S\.A|SA|SAS|SARL|B\.V|BV|N\.V|NV|S\.r\.l|Srl|SRL|S\.p\.A|SpA|Lda|Ltda|Oy|AB|ApS)";

static COMPANY_WITH_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"((?:[\p{{Lu}}\d][\p{{L}}\d&'’.-]*[ \t]+){{1,4}}{COMPANY_SUFFIX}\b\.?)"
    ))
    .expect("static regex")
});
static COMPANY_SUFFIX_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"[ \t]{COMPANY_SUFFIX}\b")).expect("static regex"));
static COMPANY_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*(?:company|firma|unternehmen|empresa|entreprise|société|societe|bedrijf|azienda|società)\s*:\s*(\S.{0,60})$")
        .expect("static regex")
});
static COMPANY_AFTER_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?i:work(?:ing)? (?:at|for)|team (?:of \d+ )?at|here at|on behalf of|arbeite bei|arbeiten bei|trabajo en|trabajamos en|travaille chez|travaillons chez|werk bij|werken bij|lavoro presso|lavoro per|trabalho na|trabalho no|trabalhamos na))[ \t]+((?:[\p{Lu}\d][\p{L}\d&'’-]*)(?:[ \t]+[\p{Lu}\d][\p{L}\d&'’-]*){0,3})")
        .expect("static regex")
});

static TITLE_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<title>[^,|–—@]{2,50}?)\s*(?:,|\||–|—|@|\bat\b|\bbei\b|\bchez\b|\bbij\b|\bpresso\b)\s*(?P<company>\p{Lu}[\p{L}\d&'’. -]{1,50})$")
        .expect("static regex")
});

/// Job titles and departments that may stand before a company on a signature line.
const TITLE_WORDS: &[&str] = &[
    "lead",
    "manager",
    "head",
    "director",
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "founder",
    "owner",
    "partner",
    "engineer",
    "consultant",
    "specialist",
    "officer",
    "president",
    "vp",
    "assistant",
    "sales",
    "marketing",
    "finance",
    "operations",
    "support",
    "purchasing",
    "procurement",
    "geschäftsführer",
    "geschäftsführerin",
    "inhaber",
    "inhaberin",
    "leiter",
    "leiterin",
    "vertrieb",
    "einkauf",
    "gerente",
    "directora",
    "fundador",
    "fundadora",
    "ventas",
    "compras",
    "directeur",
    "directrice",
    "responsable",
    "fondateur",
    "fondatrice",
    "gérant",
    "gérante",
    "eigenaar",
    "oprichter",
    "inkoop",
    "verkoop",
    "direttore",
    "direttrice",
    "titolare",
    "fondatore",
    "responsabile",
    "vendite",
    "diretor",
    "diretora",
    "sócio",
    "sócia",
    "vendas",
];

/// Leading words a capitalised company match may drag in.
const LEADING_NOISE: &[&str] = &[
    "Die",
    "Der",
    "Das",
    "The",
    "La",
    "El",
    "Le",
    "Les",
    "De",
    "Het",
    "Il",
    "Lo",
    "A",
    "O",
    "Firma",
    "Unternehmen",
    "Company",
    "Empresa",
    "Société",
    "Bedrijf",
    "Azienda",
    "Wir",
    "We",
    "Our",
    "Unsere",
    "Unser",
    "Nuestra",
    "Notre",
    "Onze",
    "Nossa",
    "Bei",
    "At",
    "From",
    "Von",
];

fn strip_leading_noise(company: &str) -> String {
    let mut words: Vec<&str> = company.split_whitespace().collect();
    while words.len() > 2 && LEADING_NOISE.contains(&words[0]) {
        words.remove(0);
    }
    words.join(" ")
}

/// A company in a signature (`strict`: only with a legal suffix or a label) or in text (also
/// after "work at", "team at", … at a lower confidence).
fn company_in(text: &str, strict: bool) -> Option<(String, f32)> {
    if let Some(c) = COMPANY_LABEL.captures(text) {
        return Some((c[1].trim().to_string(), 0.85));
    }
    if let Some(c) = COMPANY_WITH_SUFFIX.captures(text) {
        return Some((strip_leading_noise(c[1].trim()), 0.7));
    }
    if strict {
        // "E-commerce Lead, Fernwood Home", "Head of Sales | Acme", "CTO at Brightlane"
        return text.lines().find_map(|line| {
            let c = TITLE_COMPANY.captures(line.trim())?;
            let title = c["title"].to_lowercase();
            let is_title = title
                .split(|ch: char| !ch.is_alphanumeric())
                .any(|w| TITLE_WORDS.contains(&w));
            let company = c["company"].trim();
            (is_title && company.split_whitespace().count() <= 6)
                .then(|| (company.to_string(), 0.7))
        });
    }
    COMPANY_AFTER_CUE
        .captures(text)
        .map(|c: Captures| (c[1].trim().to_string(), 0.5))
}

// ---------------------------------------------------------------------------------------------
// budget

const NUM: &str = r"\d{1,3}(?:[.,'’ \u{202f}]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?";
const MULT: &str = r"k|mil|mio\.?|mill\.?|m|million|millions|millones|milhões|milioni|miljoen|thousand|tausend|tsd\.?|mille|mila";
const CUR: &str = r"us\$|r\$|[$€£]|usd|eur|gbp|chf|cad|aud|brl|mxn|dollars?|euros?|pounds?|dólares|dolares|libras|francs?|reais";

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:(?P<pre>{CUR})[ \t]?)?(?P<num>{NUM})(?:[ \t]?(?P<mult>{MULT})\b)?(?:\.?[ \t]?(?P<post>{CUR})(?:\b|$|[^\p{{L}}]))?"
    ))
    .expect("static regex")
});
static RANGE_JOIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[ \t]*(?:-|–|—|to|and|und|bis|y|a|et|à|en|e|tot)[ \t]*$")
        .expect("static regex")
});
static BUDGET_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)budget|presupuesto|orçamento|orcamento|bilancio|spend|ausgeben|investieren|invertir|investir|investeren|investire|price range|preisrahmen|kostenrahmen|up to|bis zu|hasta|jusqu'à|tot|fino a|até")
        .expect("static regex")
});

/// One amount found in text.
struct Amount {
    start: usize,
    end: usize,
    value: f64,
    raw_number: f64,
    has_mult: bool,
    currency: Option<&'static str>,
}

fn currency_code(symbol: &str) -> Option<&'static str> {
    let s = symbol.to_lowercase();
    Some(match s.as_str() {
        "$" | "us$" | "usd" | "dollar" | "dollars" | "dólares" | "dolares" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "£" | "gbp" | "pound" | "pounds" | "libras" => "GBP",
        "chf" | "franc" | "francs" => "CHF",
        "r$" | "brl" | "reais" => "BRL",
        "cad" => "CAD",
        "aud" => "AUD",
        "mxn" => "MXN",
        _ => return None,
    })
}

fn multiplier(mult: &str) -> f64 {
    let m = mult.to_lowercase();
    let m = m.trim_end_matches('.');
    match m {
        "k" | "mil" | "thousand" | "tausend" | "tsd" | "mille" | "mila" => 1e3,
        "m" | "mio" | "mill" | "million" | "millions" | "millones" | "milhões" | "milioni"
        | "miljoen" => 1e6,
        _ => 1.0,
    }
}

/// "5.000" → 5000, "12,500" → 12500, "1.234,56" → 1234.56, "5.5" → 5.5, "12,5" → 12.5.
pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\'' | '’' | '\u{202f}'))
        .collect();
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let normalized = if dots > 0 && commas > 0 {
        let last_dot = s.rfind('.').unwrap_or(0);
        let last_comma = s.rfind(',').unwrap_or(0);
        if last_dot > last_comma {
            s.replace(',', "")
        } else {
            s.replace('.', "").replace(',', ".")
        }
    } else if dots + commas == 0 {
        s
    } else {
        let sep = if dots > 0 { '.' } else { ',' };
        let after = s.rsplit(sep).next().unwrap_or("");
        if dots + commas > 1 || after.len() == 3 {
            s.replace(sep, "")
        } else {
            s.replace(sep, ".")
        }
    };
    normalized.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn amounts(text: &str) -> Vec<Amount> {
    AMOUNT
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            // not inside a longer number, a word or a date ("A4", "2026-03-01", "10.0.0.1")
            let before = text[..whole.start()].chars().next_back();
            if before.is_some_and(|b| b.is_alphanumeric() || matches!(b, '/' | '.' | '+' | ',')) {
                return None;
            }
            let raw_number = parse_number(c.name("num")?.as_str())?;
            let mult = c
                .name("mult")
                .map(|m| multiplier(m.as_str()))
                .unwrap_or(1.0);
            let currency = c
                .name("pre")
                .or(c.name("post"))
                .and_then(|m| currency_code(m.as_str()));
            let end = c
                .name("post")
                .or(c.name("mult"))
                .or(c.name("num"))
                .map_or(whole.end(), |m| m.end());
            Some(Amount {
                start: whole.start(),
                end,
                value: raw_number * mult,
                raw_number,
                has_mult: c.name("mult").is_some(),
                currency,
            })
        })
        .collect()
}

/// The budget in `text` and its confidence. `is_field`: the text is a budget form field, so a
/// bare number counts.
fn find_budget(text: &str, is_field: bool, currency_hint: Option<&str>) -> Option<(Budget, f32)> {
    let found = amounts(text);
    let mut best: Option<(Budget, f32)> = None;
    let mut i = 0;
    while i < found.len() {
        let a = &found[i];
        // a range: "between 10 and 20k USD", "€10k–€20k", "10-20k EUR"
        let next = found.get(i + 1).filter(|b| {
            text.get(a.end..b.start)
                .is_some_and(|between| RANGE_JOIN.is_match(between))
        });
        let (low, high, end, currency, has_mult) = match next {
            Some(b) => {
                let low = if !a.has_mult && b.has_mult && a.raw_number < b.raw_number {
                    a.raw_number * (b.value / b.raw_number)
                } else {
                    a.value
                };
                (low, Some(b.value), b.end, a.currency.or(b.currency), true)
            }
            None => (a.value, None, a.end, a.currency, a.has_mult),
        };
        i += if next.is_some() { 2 } else { 1 };

        let sentence_start = text[..a.start]
            .rfind(['.', '!', '?', '\n'])
            .map_or(0, |p| p + 1);
        let cue = BUDGET_CUE.is_match(&text[sentence_start..end.min(text.len())]);
        let is_year =
            high.is_none() && !has_mult && currency.is_none() && (1900.0..=2100.0).contains(&low);
        let confidence = match (currency.is_some(), cue || is_field) {
            (true, true) => 0.85,
            (true, false) => 0.7,
            (false, true) if (has_mult || low >= 100.0) && !is_year => 0.5,
            _ => continue,
        };
        if low <= 0.0 {
            continue;
        }
        let (currency, confidence) = match currency {
            Some(c) => (c.to_string(), confidence),
            None => match currency_hint {
                Some(h) => (h.to_string(), confidence),
                None => continue,
            },
        };
        let start = range_start(text, a.start);
        let budget = Budget {
            amount: low,
            max: high.filter(|h| *h > low),
            currency,
            text: text.get(start..end).unwrap_or("").trim().to_string(),
        };
        if best.as_ref().is_none_or(|(_, c)| confidence > *c) {
            best = Some((budget, confidence));
        }
    }
    best
}

/// Takes "between"/"zwischen"/"entre"/… right before a range into its text.
fn range_start(text: &str, start: usize) -> usize {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:between|from|zwischen|von|entre|tussen|tra|fra|de)[ \t]+$")
            .expect("static regex")
    });
    BEFORE.find(&text[..start]).map_or(start, |m| m.start())
}

// ---------------------------------------------------------------------------------------------
// timeline

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|januar|februar|märz|maerz|mai|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|januari|februari|maart|mei|augustus|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro";
const NUM_WORDS: &str = r"\d+|a|one|two|three|four|five|six|a couple of|a few|few|ein|einer|einem|zwei|drei|vier|sechs|un|una|uno|dos|tres|cuatro|seis|deux|trois|quatre|een|twee|drie|zes|due|tre|quattro|sei|um|uma|dois|duas|três";
const UNITS: &str = r"days?|weeks?|months?|years?|tagen?|wochen?|monaten?|jahren?|días|dias|semanas?|mes|meses|años?|jours?|semaines?|mois|ans?|années?|dagen|weken|week|maanden|maand|jaar|jaren|giorni|settimane|settimana|mesi|mese|anni|anno|anos?";
const PERIODS: &str = r"week|month|quarter|year|woche|monat|quartal|jahr|semana|mes|trimestre|año|semaine|mois|année|maand|kwartaal|jaar|settimana|mese|anno|ano";

static TIMELINE: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        // quarters
        r"\bq[1-4](?:[ \t]*/?[ \t]*(?:20)?\d{2})?\b".to_string(),
        r"\b(?:first|second|third|fourth|1st|2nd|3rd|4th|ersten|zweiten|dritten|vierten|primer|segundo|tercer|cuarto|premier|deuxième|troisième|quatrième|eerste|tweede|derde|vierde|primo|secondo|terzo|quarto|primeiro|terceiro)[ \t]+(?:quarter|quartal|trimestre|kwartaal)\b(?:[ \t]+(?:of[ \t]+)?(?:20)?\d{2})?".to_string(),
        // in/within N units
        format!(r"\b(?:in|within|innerhalb von|innerhalb|binnen|in den nächsten|en|dentro de|en los próximos|en las próximas|dans|d'ici|sous|over|tra|fra|entro|em|nos próximos|nas próximas)[ \t]+(?:the next[ \t]+)?(?:{NUM_WORDS})[ \t]+(?:{UNITS})\b"),
        // next/this period
        format!(r"\b(?:next|this|coming|nächste[nrms]?|kommende[nrms]?|diese[nrms]?|im nächsten|la próxima|el próximo|este|esta|la prochaine|le prochain|cette|ce|volgende|komende|deze|il prossimo|la prossima|questo|questa|na próxima|no próximo|próxima|próximo|neste|nesta)[ \t]+(?:{PERIODS})\b"),
        r"\b(?:la semana|el mes|el año|el trimestre)[ \t]+(?:que viene|próximo|próxima)\b".to_string(),
        r"\b(?:la semaine|le mois|l'année|le trimestre)[ \t]+prochaine?\b".to_string(),
        r"\b(?:la settimana|il mese|l'anno|il trimestre)[ \t]+prossim[oa]\b".to_string(),
        // end of the month/year
        format!(r"\b(?:(?:by[ \t]+)?(?:the[ \t]+)?end of (?:the )?(?:month|year|quarter|{MONTHS})|(?:bis[ \t]+)?(?:zum[ \t]+)?ende (?:des monats|des jahres|des quartals|{MONTHS})|monatsende|jahresende|(?:a|para)[ \t]+finales de (?:mes|año|{MONTHS})|(?:d'ici (?:la )?)?fin (?:du mois|de l'année|{MONTHS})|eind (?:van de maand|van het jaar|{MONTHS})|(?:entro[ \t]+)?(?:la[ \t]+)?fine (?:del mese|dell'anno|mese|anno|{MONTHS})|(?:até[ \t]+)?(?:o[ \t]+)?f(?:im|inal) do (?:mês|ano))\b"),
        // by/in a month
        format!(r"\b(?:by|before|until|in|from|starting|early|mid|late|bis|vor|im|ab|anfang|mitte|para|antes de|en|desde|a partir de|principios de|mediados de|d'ici|avant|dès|début|voor|vanaf|begin|half|entro|prima di|da|inizio|até|em|início|meados de)[ \t]+(?:{MONTHS})\b(?:[ \t]+(?:20)?\d{{2}})?"),
        // by/in a year
        r"\b(?:in|by|bis|im jahr|en|para|dans|d'ici|voor|nel|entro|em|até)[ \t]+20[2-9]\d\b".to_string(),
        // as soon as possible
        r"\b(?:asap|as soon as possible|immediately|right away|so schnell wie möglich|sofort|umgehend|lo antes posible|cuanto antes|inmediatamente|dès que possible|au plus vite|immédiatement|zo snel mogelijk|z\.s\.m|onmiddellijk|il prima possibile|al più presto|subito|o mais rápido possível|o quanto antes|imediatamente)\b".to_string(),
        // by a day
        r"\b(?:by|before|bis|vor|para el|antes del|avant|d'ici|voor|entro|até)[ \t]+(?:tomorrow|morgen|mañana|demain|domani|amanhã|monday|tuesday|wednesday|thursday|friday|montag|dienstag|mittwoch|donnerstag|freitag|lunes|martes|miércoles|jueves|viernes|lundi|mardi|mercredi|jeudi|vendredi|maandag|dinsdag|woensdag|donderdag|vrijdag|lunedì|martedì|mercoledì|giovedì|venerdì|segunda|terça|quarta|quinta|sexta)\b".to_string(),
    ];
    Regex::new(&format!("(?i)(?:{})", patterns.join("|"))).expect("static regex")
});

/// The first timeline phrase in `text`.
fn find_timeline(text: &str) -> Option<String> {
    TIMELINE.find(text).map(|m| m.as_str().trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_in_both_conventions() {
        assert_eq!(parse_number("5.000"), Some(5000.0));
        assert_eq!(parse_number("12,500"), Some(12500.0));
        assert_eq!(parse_number("1.234,56"), Some(1234.56));
        assert_eq!(parse_number("1,234.56"), Some(1234.56));
        assert_eq!(parse_number("5.5"), Some(5.5));
        assert_eq!(parse_number("12,5"), Some(12.5));
    }

    #[test]
    fn form_keys_fold() {
        assert_eq!(fold_key("Téléphone (mobile)"), "telephone_mobile");
        assert_eq!(fold_key("E-Mail-Adresse"), "e_mail_adresse");
    }

    #[test]
    fn domain_to_company() {
        assert_eq!(
            company_of_domain("mail.acme-corp.co.uk").as_deref(),
            Some("Acme Corp")
        );
        assert!(is_free_mail("GMX.de"));
    }
}
