//! The vocabularies of extraction: form field names, free-mail and social hosts, the words of
//! names, titles and companies, currency and multiplier words, the words of timelines (en, de,
//! es, fr, nl, it, pt), and the region and currency of a country-code TLD or a language.

use phonenumber::country;

// ---------------------------------------------------------------------------------------------
// form field names (folded: lower case, accents off, separators to `_`)

pub(super) const NAME_KEYS: &[&str] = &[
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
pub(super) const FIRST_NAME_KEYS: &[&str] = &[
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
pub(super) const LAST_NAME_KEYS: &[&str] = &[
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
pub(super) const EMAIL_KEYS: &[&str] = &[
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
pub(super) const PHONE_KEYS: &[&str] = &[
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
pub(super) const COMPANY_KEYS: &[&str] = &[
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
pub(super) const WEBSITE_KEYS: &[&str] = &[
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
pub(super) const BUDGET_KEYS: &[&str] = &[
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
pub(super) const TIMELINE_KEYS: &[&str] = &[
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

// ---------------------------------------------------------------------------------------------
// e-mail and web hosts

/// Free-mail providers' domains (see [`super::email::is_free_mail`] for the prefixes).
pub(super) const FREE_MAIL: &[&str] = &[
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

/// Second-level suffixes under which the registrable name is one label further left.
pub(super) const TWO_LEVEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "com.br", "com.mx", "com.ar", "com.au", "co.nz", "co.za", "com.es",
    "com.pt", "co.jp", "com.tr", "co.in",
];

/// Hosts that are never the sender's own website.
pub(super) const NOT_A_WEBSITE: &[&str] = &[
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

// ---------------------------------------------------------------------------------------------
// regions and currencies by TLD and language

/// The phone region of a country-code TLD (`uk` is GB).
pub(super) fn region_of_tld(tld: &str) -> Option<country::Id> {
    let code = match tld {
        "uk" => "GB",
        "de" | "at" | "ch" | "es" | "mx" | "ar" | "cl" | "fr" | "be" | "nl" | "it" | "pt"
        | "br" | "ie" | "us" | "ca" | "au" | "lu" => return tld.to_ascii_uppercase().parse().ok(),
        _ => return None,
    };
    code.parse().ok()
}

/// The phone region assumed for a language (`de` is DE, …; none for English).
pub(super) fn region_of_language(lang: &str) -> Option<country::Id> {
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

/// The currency of a country-code TLD.
pub(super) fn currency_of_tld(tld: &str) -> Option<&'static str> {
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

/// The currency a budget without one is most likely in, by the lead's language.
pub(super) fn currency_of_language(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "en" => "USD",
        "de" | "es" | "fr" | "nl" | "it" | "pt" => "EUR",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// names, titles and companies

/// Words that make a signature line a title, a team or a company rather than a name.
pub(super) const NOT_NAME_WORDS: &[&str] = &[
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

/// Job titles and departments that may stand before a company on a signature line.
pub(super) const TITLE_WORDS: &[&str] = &[
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
pub(super) const LEADING_NOISE: &[&str] = &[
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

// ---------------------------------------------------------------------------------------------
// budget: multipliers and currencies

/// Multiplier words after a number ("20k", "1,5 Mio.", "dos mil"); [`multiplier`] gives their value.
pub(crate) const MULT: &str = r"k|mil|mio\.?|mill\.?|m|million|millions|millones|milhões|milioni|miljoen|thousand|tausend|tsd\.?|mille|mila|bn|billion|billions";
/// Currency symbols and words; [`currency_code`] gives their ISO 4217 code.
pub(super) const CUR: &str = r"us\$|r\$|[$€£¥₹₺₦₽₩]|usd|eur|gbp|chf|cad|aud|nzd|sgd|hkd|brl|mxn|aed|sar|qar|kwd|omr|bhd|egp|jpy|cny|rmb|inr|sek|nok|dkk|pln|zł|zar|kes|ksh|ngn|krw|tl|dirhams?|riyals?|yen|yuan|rupees?|lira|dollars?|euros?|pounds?|dólares|dolares|libras|francs?|franken|reais";

/// The ISO 4217 code of a [`CUR`] symbol or word.
pub(super) fn currency_code(symbol: &str) -> Option<&'static str> {
    let s = symbol.to_lowercase();
    Some(match s.as_str() {
        "$" | "us$" | "usd" | "dollar" | "dollars" | "dólares" | "dolares" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "£" | "gbp" | "pound" | "pounds" | "libras" => "GBP",
        "chf" | "franc" | "francs" | "franken" => "CHF",
        "r$" | "brl" | "reais" => "BRL",
        "cad" => "CAD",
        "aud" => "AUD",
        "nzd" => "NZD",
        "sgd" => "SGD",
        "hkd" => "HKD",
        "mxn" => "MXN",
        "aed" | "dirham" | "dirhams" => "AED",
        "sar" | "riyal" | "riyals" => "SAR",
        "qar" => "QAR",
        "kwd" => "KWD",
        "omr" => "OMR",
        "bhd" => "BHD",
        "egp" => "EGP",
        "¥" | "jpy" | "yen" => "JPY",
        "cny" | "rmb" | "yuan" => "CNY",
        "₹" | "inr" | "rupee" | "rupees" => "INR",
        "₺" | "lira" | "tl" => "TRY",
        "₦" | "ngn" => "NGN",
        "₽" => "RUB",
        "₩" | "krw" => "KRW",
        "sek" => "SEK",
        "nok" => "NOK",
        "dkk" => "DKK",
        "pln" | "zł" => "PLN",
        "zar" => "ZAR",
        "kes" | "ksh" => "KES",
        _ => return None,
    })
}

/// The value of a [`MULT`] word (1 for anything else).
pub(crate) fn multiplier(mult: &str) -> f64 {
    let m = mult.to_lowercase();
    let m = m.trim_end_matches('.');
    match m {
        "k" | "mil" | "thousand" | "tausend" | "tsd" | "mille" | "mila" => 1e3,
        "m" | "mio" | "mill" | "million" | "millions" | "millones" | "milhões" | "milioni"
        | "miljoen" => 1e6,
        "bn" | "billion" | "billions" => 1e9,
        _ => 1.0,
    }
}

// ---------------------------------------------------------------------------------------------
// timeline words

/// Month names.
pub(super) const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|januar|februar|märz|maerz|mai|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|januari|februari|maart|mei|augustus|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro";
/// Small counts, in digits or words ("in two weeks", "dentro de dos semanas").
pub(super) const NUM_WORDS: &str = r"\d+|a|one|two|three|four|five|six|a couple of|a few|few|ein|einer|einem|zwei|drei|vier|sechs|un|una|uno|dos|tres|cuatro|seis|deux|trois|quatre|een|twee|drie|zes|due|tre|quattro|sei|um|uma|dois|duas|três";
/// Units of time after a count, singular and plural.
pub(super) const UNITS: &str = r"days?|weeks?|months?|years?|tagen?|wochen?|monaten?|jahren?|días|dias|semanas?|mes|meses|años?|jours?|semaines?|mois|ans?|années?|dagen|weken|week|maanden|maand|jaar|jaren|giorni|settimane|settimana|mesi|mese|anni|anno|anos?";
/// Periods after "next"/"this" ("next quarter", "nächste Woche").
pub(super) const PERIODS: &str = r"week|month|quarter|year|woche|monat|quartal|jahr|semana|mes|trimestre|año|semaine|mois|année|maand|kwartaal|jaar|settimana|mese|anno|ano";
