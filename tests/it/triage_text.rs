//! The triage text engine through its public interface: cleaning snapshots of messy e-mails,
//! language, sentiment and urgency per language, summaries, extraction, the bundled fixture
//! leads against their expected labels, and no panics on arbitrary input.

use std::path::PathBuf;

use jambo_worker::contract::job::{Contact, Lead};
use jambo_worker::triage::{
    Cleaned, ExtractInput, Extracted, Polarity, Source, UrgencyLevel, analyze_lead, clean,
    detect_language, detect_language_among, extract, sentiment, summarize, urgency,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/triage")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn render(c: &Cleaned) -> String {
    format!(
        "--- body ---\n{}\n--- signature ---\n{}\n--- quoted_removed: {} ---",
        c.body,
        c.signature.as_deref().unwrap_or("(none)"),
        c.quoted_removed
    )
}

// ---------------------------------------------------------------------------------------------
// cleaning

#[test]
fn clean_gmail_reply_chain() {
    let c = clean(&fixture("gmail_reply.txt"));
    assert!(c.quoted_removed);
    assert!(!c.body.contains("Happy to set up a demo"));
    insta::assert_snapshot!("clean_gmail_reply_chain", render(&c));
}

#[test]
fn clean_outlook_chain() {
    let c = clean(&fixture("outlook_chain.txt"));
    assert!(c.quoted_removed);
    assert!(!c.body.contains("From:"));
    insta::assert_snapshot!("clean_outlook_chain", render(&c));
}

#[test]
fn clean_german_signature() {
    let c = clean(&fixture("german_signature.txt"));
    assert!(!c.body.contains("Hoffmann Maschinenbau GmbH"));
    assert!(
        c.signature
            .as_deref()
            .is_some_and(|s| s.contains("Jürgen Hoffmann"))
    );
    assert!(
        !c.body.contains("iPhone") && !c.signature.clone().unwrap_or_default().contains("iPhone")
    );
    insta::assert_snapshot!("clean_german_signature", render(&c));
}

#[test]
fn clean_html_remnants() {
    let c = clean(&fixture("html_remnants.html"));
    let all = format!("{}\n{}", c.body, c.signature.clone().unwrap_or_default());
    for junk in [
        "<",
        "&amp;",
        "&nbsp;",
        "utm_",
        "open.gif",
        "Unsubscribe",
        "color: #333",
    ] {
        assert!(!all.contains(junk), "{junk:?} left in {all:?}");
    }
    assert!(
        c.body
            .contains("We'd love to try your chatbot on our shop & help center.")
    );
    insta::assert_snapshot!("clean_html_remnants", render(&c));
}

#[test]
fn clean_spanish_form() {
    let c = clean(&fixture("spanish_form.txt"));
    assert_eq!(c.signature.as_deref(), Some("Lucía"));
    insta::assert_snapshot!("clean_spanish_form", render(&c));
}

#[test]
fn clean_reply_headers_in_every_language() {
    let headers = [
        "On Tue, 3 Nov 2026 at 10:00, Ann <ann@x.example> wrote:",
        "Am 03.11.2026 um 10:00 schrieb Anna Schmidt <anna@x.example>:",
        "El mar, 3 nov 2026 a las 10:00, Ana <ana@x.example> escribió:",
        "Le mar. 3 nov. 2026 à 10:00, Anne <anne@x.example> a écrit :",
        "Op di 3 nov. 2026 om 10:00 schreef Anne <anne@x.example>:",
        "Il giorno mar 3 nov 2026 alle ore 10:00 Anna <anna@x.example> ha scritto:",
        "Em ter., 3 de nov. de 2026 às 10:00, Ana <ana@x.example> escreveu:",
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Mensaje original-----",
        "De : Anne Martin\nEnvoyé : mardi 3 novembre 2026 10:00\nÀ : Support",
        "Von: Anna Schmidt\nGesendet: Dienstag, 3. November 2026 10:00\nAn: Support",
    ];
    for header in headers {
        let text = format!("New text here.\n\n{header}\n\nOld quoted text.");
        let c = clean(&text);
        assert_eq!(c.body, "New text here.", "header {header:?}");
        assert!(c.quoted_removed, "header {header:?}");
    }
}

#[test]
fn clean_signature_closings_in_every_language() {
    for closing in [
        "Best regards,",
        "Mit freundlichen Grüßen",
        "Saludos,",
        "Cordialement,",
        "Met vriendelijke groet,",
        "Cordiali saluti",
        "Atenciosamente,",
    ] {
        let text =
            format!("Please send me the offer.\n\n{closing}\nKim Jansen\nAcme BV\n+31 20 123 4567");
        let c = clean(&text);
        assert_eq!(c.body, "Please send me the offer.", "closing {closing:?}");
        assert_eq!(
            c.signature.as_deref(),
            Some("Kim Jansen\nAcme BV\n+31 20 123 4567"),
            "closing {closing:?}"
        );
    }
    let c = clean("Text.\n-- \nJohn Doe\nACME");
    assert_eq!(c.signature.as_deref(), Some("John Doe\nACME"));
}

#[test]
fn clean_keeps_plain_text_and_a_lone_forward() {
    let c = clean("Just one line, no chain.");
    assert_eq!(c.body, "Just one line, no chain.");
    assert!(!c.quoted_removed && c.signature.is_none());
    // only quoted text: it is all there is, so it stays (unquoted)
    let c = clean("> Please call me about the offer.");
    assert_eq!(c.body, "Please call me about the offer.");
    // a customer who writes "unsubscribe" in their own words keeps them
    let c = clean("Please unsubscribe me from the weekly newsletter.");
    assert_eq!(c.body, "Please unsubscribe me from the weekly newsletter.");
}

// ---------------------------------------------------------------------------------------------
// language

#[test]
fn language_on_long_texts() {
    let cases = [
        (
            "en",
            "We are a small team looking for a better way to answer customer questions on our website and would like to see a demo next week.",
        ),
        (
            "de",
            "Wir sind ein kleines Team und suchen eine bessere Möglichkeit, Kundenfragen auf unserer Website zu beantworten. Können Sie uns eine Demo zeigen?",
        ),
        (
            "es",
            "Somos un equipo pequeño y buscamos una mejor manera de responder a las preguntas de los clientes en nuestra web. ¿Nos pueden mostrar una demo?",
        ),
        (
            "fr",
            "Nous sommes une petite équipe et nous cherchons une meilleure façon de répondre aux questions des clients sur notre site. Pouvez-vous nous montrer une démo ?",
        ),
        (
            "nl",
            "Wij zijn een klein team en zoeken een betere manier om vragen van klanten op onze website te beantwoorden. Kunnen jullie ons een demo laten zien?",
        ),
        (
            "it",
            "Siamo un piccolo team e cerchiamo un modo migliore per rispondere alle domande dei clienti sul nostro sito. Potete mostrarci una demo?",
        ),
        (
            "pt",
            "Somos uma pequena equipa e procuramos uma forma melhor de responder às perguntas dos clientes no nosso site. Podem mostrar-nos uma demonstração?",
        ),
    ];
    for (code, text) in cases {
        let l = detect_language(text);
        assert_eq!(l.code, code, "{text}");
        assert!(l.confidence >= 0.5, "{text}: {l:?}");
    }
}

#[test]
fn language_on_short_texts() {
    let cases = [
        ("en", "Hi, thanks!"),
        ("en", "Can you call me?"),
        ("de", "Hallo, danke!"),
        ("de", "Bitte um Rückruf"),
        ("es", "Hola, muchas gracias"),
        ("es", "¿Qué precio tiene?"),
        ("fr", "Bonjour, merci !"),
        ("fr", "C'est combien ?"),
        ("nl", "Hoi, bedankt!"),
        ("nl", "Wat kost het?"),
        ("it", "Ciao, grazie!"),
        ("it", "Buongiorno, vorrei info"),
        ("pt", "Olá, obrigado!"),
        ("pt", "Bom dia, preciso de ajuda"),
    ];
    let mut wrong = Vec::new();
    for (code, text) in cases {
        let l = detect_language(text);
        if l.code != code {
            wrong.push(format!("{text:?}: expected {code}, got {l:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn language_undetermined_and_allow_list() {
    assert_eq!(detect_language("").code, "und");
    assert_eq!(detect_language("12345 +++ ###").code, "und");
    assert_eq!(detect_language("").confidence, 0.0);
    // outside the allow-list a text falls to an allowed language or und, never another code
    let l = detect_language_among(
        "Dzień dobry, chciałbym zamówić ofertę dla firmy",
        &["en", "de"],
    );
    assert!(["en", "de", "und"].contains(&l.code.as_str()), "{l:?}");
}

// ---------------------------------------------------------------------------------------------
// sentiment and urgency

#[test]
fn sentiment_per_language() {
    let cases = [
        (
            "en",
            "The new inbox is great, thank you so much!",
            Polarity::Positive,
        ),
        (
            "en",
            "This is terrible, the app keeps crashing and support is useless.",
            Polarity::Negative,
        ),
        ("en", "The export is not bad at all.", Polarity::Positive),
        (
            "en",
            "Please send the invoice for October.",
            Polarity::Neutral,
        ),
        (
            "de",
            "Vielen Dank, das funktioniert super!",
            Polarity::Positive,
        ),
        (
            "de",
            "Ich bin sehr enttäuscht, der Export funktioniert nicht.",
            Polarity::Negative,
        ),
        (
            "de",
            "Bitte schicken Sie mir die Rechnung.",
            Polarity::Neutral,
        ),
        (
            "es",
            "¡Excelente servicio, muchas gracias!",
            Polarity::Positive,
        ),
        (
            "es",
            "Estoy muy decepcionado, no funciona nada.",
            Polarity::Negative,
        ),
        ("fr", "Merci beaucoup, c'est parfait !", Polarity::Positive),
        (
            "fr",
            "C'est inacceptable, l'application ne fonctionne pas.",
            Polarity::Negative,
        ),
        ("nl", "Geweldig, heel erg bedankt!", Polarity::Positive),
        (
            "nl",
            "Het werkt niet en ik ben erg teleurgesteld.",
            Polarity::Negative,
        ),
        ("it", "Ottimo lavoro, grazie mille!", Polarity::Positive),
        (
            "it",
            "Pessimo servizio, non funziona niente.",
            Polarity::Negative,
        ),
        ("pt", "Excelente, muito obrigado!", Polarity::Positive),
        ("pt", "Péssimo, o sistema não funciona.", Polarity::Negative),
        ("en", "Love it 😍", Polarity::Positive),
        ("en", "still waiting 😡", Polarity::Negative),
        (
            "en",
            "See https://example.com/pricing at 10:30 :)",
            Polarity::Positive,
        ),
        (
            "en",
            "See https://example.com/pricing at 10:30",
            Polarity::Neutral,
        ),
    ];
    let mut wrong = Vec::new();
    for (lang, text, expected) in cases {
        let s = sentiment(text, lang);
        assert!((-1.0..=1.0).contains(&s.score));
        if s.label != expected {
            wrong.push(format!("{text:?}: expected {expected:?}, got {s:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn urgency_per_language() {
    let cases = [
        ("Our website is down, please help ASAP!", UrgencyLevel::High),
        ("We need the quote by Friday.", UrgencyLevel::Normal),
        ("Could you send me a brochure? No rush.", UrgencyLevel::Low),
        (
            "Das ist dringend, der Login funktioniert nicht!",
            UrgencyLevel::High,
        ),
        (
            "Keine Eile, melden Sie sich wenn Sie Zeit haben.",
            UrgencyLevel::Low,
        ),
        (
            "Es urgente, la web no funciona desde hoy.",
            UrgencyLevel::High,
        ),
        (
            "Sin prisa, cuando pueda me manda el catálogo.",
            UrgencyLevel::Low,
        ),
        ("C'est urgent : le site est en panne !", UrgencyLevel::High),
        (
            "Pouvez-vous m'envoyer la documentation ?",
            UrgencyLevel::Normal,
        ),
        (
            "Spoed: de app werkt niet sinds vandaag.",
            UrgencyLevel::High,
        ),
        ("Geen haast, stuur maar een offerte.", UrgencyLevel::Low),
        ("Urgente! Il sito non funziona.", UrgencyLevel::High),
        ("Nessuna fretta, grazie.", UrgencyLevel::Low),
        (
            "Urgente: o sistema está fora do ar desde hoje.",
            UrgencyLevel::High,
        ),
        ("Sem pressa, obrigado.", UrgencyLevel::Low),
        (
            "Guten Morgen, ich hätte gern ein Angebot.",
            UrgencyLevel::Normal,
        ),
        (
            "This is not urgent, just curious about pricing.",
            UrgencyLevel::Low,
        ),
    ];
    let mut wrong = Vec::new();
    for (text, expected) in cases {
        let u = urgency(text, None);
        if u.level != expected {
            wrong.push(format!("{text:?}: expected {expected:?}, got {u:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let u = urgency("Please call me", Some("URGENT: server down"));
    assert_eq!(u.level, UrgencyLevel::High);
    assert!(u.reasons.iter().any(|r| r == "keyword:urgent"), "{u:?}");
    assert!(u.reasons.iter().any(|r| r == "outage"), "{u:?}");
}

// ---------------------------------------------------------------------------------------------
// summary

const GREETING_STARTS: &[&str] = &[
    "hi",
    "hello",
    "dear",
    "hallo",
    "sehr geehrte",
    "hola",
    "bonjour",
    "hoi",
    "buongiorno",
    "olá",
];

#[test]
fn summary_is_never_the_greeting_or_the_signature() {
    for name in [
        "gmail_reply.txt",
        "outlook_chain.txt",
        "german_signature.txt",
        "html_remnants.html",
        "spanish_form.txt",
    ] {
        let c = clean(&fixture(name));
        let s = summarize(&c.body, None);
        assert!(!s.is_empty(), "{name}");
        assert!(s.chars().count() <= 160, "{name}: {s}");
        let lower = s.to_lowercase();
        assert!(
            !GREETING_STARTS.iter().any(|g| lower.starts_with(g)),
            "{name}: greeting chosen: {s}"
        );
        if let Some(sig) = &c.signature {
            for line in sig.lines().filter(|l| l.trim().len() > 3) {
                assert!(
                    !s.contains(line.trim()),
                    "{name}: signature line {line:?} in {s}"
                );
            }
        }
    }
}

#[test]
fn summary_picks_the_request_and_trims() {
    let s = summarize(
        "Hi team,\n\nI hope you are well.\n\nWe are a travel agency with 12 agents. Could you send us a quote for the Business plan?\n\nThanks!",
        Some("Quote for the Business plan"),
    );
    assert_eq!(s, "Could you send us a quote for the Business plan?");
    let long = format!(
        "We need {} in our shop.",
        "a very long list of features ".repeat(12)
    );
    let s = summarize(&long, None);
    assert!(s.chars().count() <= 160 && s.ends_with('…'), "{s}");
    assert!(!s.ends_with(" …"));
    assert_eq!(summarize("", Some("Subject only")), "Subject only");
    assert_eq!(summarize("", None), "");
}

// ---------------------------------------------------------------------------------------------
// extraction

fn extract_text(body: &str, lang: &str) -> Extracted {
    extract(
        &contacts(),
        &ExtractInput {
            body,
            language: lang,
            ..ExtractInput::default()
        },
    )
}

#[test]
fn budget_variants() {
    let cases: &[(&str, &str, f64, Option<f64>, &str)] = &[
        ("Our budget is $5k.", "en", 5000.0, None, "USD"),
        ("Budget: 5.000 € per year", "de", 5000.0, None, "EUR"),
        (
            "We can spend EUR 12,500 on this.",
            "en",
            12500.0,
            None,
            "EUR",
        ),
        (
            "The budget is between 10 and 20k USD.",
            "en",
            10000.0,
            Some(20000.0),
            "USD",
        ),
        (
            "Unser Budget liegt bei 1,5 Mio. Euro.",
            "de",
            1_500_000.0,
            None,
            "EUR",
        ),
        (
            "Tenemos un presupuesto de entre 10 y 20 mil euros.",
            "es",
            10000.0,
            Some(20000.0),
            "EUR",
        ),
        ("Notre budget est de 8 000 €.", "fr", 8000.0, None, "EUR"),
        ("Budget ongeveer €7.500", "nl", 7500.0, None, "EUR"),
        (
            "Abbiamo un budget di 3.000 euro.",
            "it",
            3000.0,
            None,
            "EUR",
        ),
        ("O orçamento é de R$ 50 mil.", "pt", 50000.0, None, "BRL"),
        ("around £2,000-£3,000", "en", 2000.0, Some(3000.0), "GBP"),
        ("Our budget is about 5k.", "en", 5000.0, None, "USD"),
    ];
    let mut wrong = Vec::new();
    for &(text, lang, amount, max, currency) in cases {
        let e = extract_text(text, lang);
        match &e.budget {
            Some(b)
                if b.value.amount == amount
                    && b.value.max == max
                    && b.value.currency == currency => {}
            other => wrong.push(format!("{text:?}: got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // no currency and no budget word: not a budget
    assert!(
        extract_text("We are a team of 20 and have 300 customers.", "en")
            .budget
            .is_none()
    );
    assert!(
        extract_text("Our budget for 2026 is not fixed.", "en")
            .budget
            .is_none()
    );
}

#[test]
fn timeline_variants() {
    let cases = [
        ("We want to start next month.", "next month"),
        ("Go-live is planned for Q3 2027.", "Q3 2027"),
        ("We need it by March.", "by March"),
        ("Can we launch in 2 weeks?", "in 2 weeks"),
        ("Wir möchten nächsten Monat starten.", "nächsten Monat"),
        ("Start bis Ende März.", "bis Ende März"),
        ("Queremos empezar el próximo mes.", "el próximo mes"),
        (
            "Nous voulons démarrer le mois prochain.",
            "le mois prochain",
        ),
        ("We willen binnen 3 weken live.", "binnen 3 weken"),
        ("Vorremmo partire entro giugno.", "entro giugno"),
        ("Precisamos disso em 2 semanas.", "em 2 semanas"),
        ("Please answer asap.", "asap"),
    ];
    let mut wrong = Vec::new();
    for (text, expected) in cases {
        let e = extract_text(text, "und");
        let got = e.timeline.as_ref().map(|t| t.value.as_str());
        if got.map(str::to_lowercase) != Some(expected.to_lowercase()) {
            wrong.push(format!("{text:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn form_fields_win_over_text() {
    let fields: Map<String, Value> = json!({
        "Full Name": "Maria Lopez",
        "E-Mail": "maria@northwind.example",
        "Teléfono": "+34 612 345 678",
        "Empresa": "Northwind Traders",
        "Budget": "EUR 9.000",
        "Timeline": "June",
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let contact = Contact {
        id: "c-1".into(),
        name: Some("M. Lopez".into()),
        email: Some("other@example.org".into()),
        phone: None,
    };
    let body =
        "My name is Pedro Ruiz from Acme GmbH, call me at +49 30 1234567. Budget $5k, next month.";
    let e = extract(
        &contacts(),
        &ExtractInput {
            body,
            signature: Some("Pedro Ruiz\nAcme GmbH"),
            subject: None,
            contact: Some(&contact),
            fields: Some(&fields),
            language: "en",
        },
    );
    let v = |f: &Option<jambo_worker::triage::Field<String>>| {
        f.as_ref().map(|f| (f.value.clone(), f.source))
    };
    assert_eq!(v(&e.name), Some(("Maria Lopez".into(), Source::Form)));
    assert_eq!(
        v(&e.email),
        Some(("maria@northwind.example".into(), Source::Form))
    );
    assert_eq!(v(&e.phone), Some(("+34612345678".into(), Source::Form)));
    assert_eq!(
        v(&e.company),
        Some(("Northwind Traders".into(), Source::Form))
    );
    assert_eq!(v(&e.timeline), Some(("June".into(), Source::Form)));
    let budget = e
        .budget
        .as_ref()
        .map(|b| (b.value.amount, b.value.currency.as_str(), b.source));
    assert_eq!(budget, Some((9000.0, "EUR", Source::Form)));

    // without the form: contact, then signature, then text
    let e = extract(
        &contacts(),
        &ExtractInput {
            body,
            signature: Some("Pedro Ruiz\nAcme GmbH"),
            subject: None,
            contact: Some(&contact),
            fields: None,
            language: "en",
        },
    );
    assert_eq!(v(&e.name), Some(("M. Lopez".into(), Source::Contact)));
    assert_eq!(
        v(&e.email),
        Some(("other@example.org".into(), Source::Contact))
    );
    assert_eq!(v(&e.phone), Some(("+49301234567".into(), Source::Text)));
    assert_eq!(v(&e.company), Some(("Acme GmbH".into(), Source::Signature)));
    let e = extract_text(body, "en");
    assert_eq!(v(&e.name), Some(("Pedro Ruiz".into(), Source::Text)));
}

#[test]
fn company_from_email_domain_unless_free_mail() {
    let contact = |email: &str| Contact {
        id: "c".into(),
        name: None,
        email: Some(email.into()),
        phone: None,
    };
    let run = |c: &Contact| {
        extract(
            &contacts(),
            &ExtractInput {
                body: "Please send a quote.",
                contact: Some(c),
                language: "en",
                ..ExtractInput::default()
            },
        )
    };
    let e = run(&contact("anna@blue-harbor.co.uk"));
    let company = e.company.as_ref().map(|c| (c.value.as_str(), c.source));
    assert_eq!(company, Some(("Blue Harbor", Source::EmailDomain)));
    for free in [
        "anna@gmail.com",
        "anna@web.de",
        "anna@gmx.net",
        "anna@yahoo.fr",
        "anna@outlook.com",
    ] {
        let e = run(&contact(free));
        assert!(e.company.is_none() && e.website.is_none(), "{free}: {e:?}");
    }
}

#[test]
fn phone_region_from_tld_or_language_else_plus() {
    let run = |body: &str, lang: &str, email: Option<&str>| {
        let contact = email.map(|e| Contact {
            id: "c".into(),
            name: None,
            email: Some(e.into()),
            phone: None,
        });
        extract(
            &contacts(),
            &ExtractInput {
                body,
                contact: contact.as_ref(),
                language: lang,
                ..ExtractInput::default()
            },
        )
        .phone
        .map(|p| p.value)
    };
    assert_eq!(
        run("Rufen Sie mich an: 030 1234567", "de", None).as_deref(),
        Some("+49301234567")
    );
    assert_eq!(
        run("Call me on 020 7946 0958", "en", Some("a@b.co.uk")).as_deref(),
        Some("+442079460958")
    );
    // English without a country TLD: a national number cannot be placed
    assert_eq!(run("Call me on 020 7946 0958", "en", None), None);
    assert_eq!(
        run("Call me on +44 20 7946 0958", "en", None).as_deref(),
        Some("+442079460958")
    );
}

#[test]
fn extracted_serialises_flat_with_confidence_and_source() {
    let e = extract_text("My name is Pedro Ruiz. Our budget is $5k.", "en");
    let v = serde_json::to_value(&e).unwrap_or_default();
    assert_eq!(v["name"], "Pedro Ruiz");
    assert_eq!(v["email"], Value::Null);
    assert_eq!(v["budget"]["amount"], 5000.0);
    assert_eq!(v["budget"]["currency"], "USD");
    assert_eq!(v["source"]["name"], "text");
    assert!(v["confidence"]["name"].as_f64().is_some());
    assert!(v["confidence"].get("email").is_none());
}

// ---------------------------------------------------------------------------------------------
// the bundled fixture leads

#[test]
fn fixture_leads_meet_their_expected_labels() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/leads");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    let leads = expected["leads"].as_object().cloned().unwrap_or_default();
    assert!(leads.len() >= 12);
    let mut wrong = Vec::new();
    for (id, exp) in &leads {
        let file = exp["file"].as_str().unwrap_or_default();
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let lead: Lead = match serde_json::from_str(&text) {
            Ok(lead) => lead,
            Err(err) => {
                wrong.push(format!("{file}: not a lead: {err}"));
                continue;
            }
        };
        assert_eq!(&lead.id, id);
        assert!(
            ["sales", "support", "billing", "spam"]
                .contains(&exp["category"].as_str().unwrap_or(""))
        );
        let got = analyze_lead(&lead, &contacts());
        let mut check = |what: &str, got: Value, want: &Value| {
            if &got != want {
                wrong.push(format!("{id} {what}: expected {want}, got {got}"));
            }
        };
        check("language", json!(got.language.code), &exp["language"]);
        check("sentiment", json!(got.sentiment.label), &exp["sentiment"]);
        check("urgency", json!(got.urgency.level), &exp["urgency"]);
        let extracted = serde_json::to_value(&got.extracted).unwrap_or_default();
        for (field, want) in exp["extracted"].as_object().cloned().unwrap_or_default() {
            let have = &extracted[&field];
            let have = if field == "budget" {
                json!({"amount": have["amount"], "currency": have["currency"], "max": have["max"]})
            } else {
                have.clone()
            };
            let want = if field == "budget" {
                json!({"amount": want["amount"].as_f64(), "currency": want["currency"], "max": want.get("max").and_then(Value::as_f64)})
            } else {
                want
            };
            check(&format!("extracted.{field}"), have, &want);
        }
        let lower = got.summary.to_lowercase();
        if got.summary.is_empty() || GREETING_STARTS.iter().any(|g| lower.starts_with(g)) {
            wrong.push(format!("{id} summary: {:?}", got.summary));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// no panics on arbitrary input

fn run_everything(text: &str) {
    let c = clean(text);
    let l = detect_language(text);
    assert!((0.0..=1.0).contains(&l.confidence));
    let s = sentiment(text, &l.code);
    assert!((-1.0..=1.0).contains(&s.score));
    let _ = urgency(text, Some(text));
    let summary = summarize(text, Some(text));
    assert!(summary.chars().count() <= 160);
    let fields: Map<String, Value> = [
        ("budget", text),
        ("phone", text),
        ("name", text),
        ("timeline", text),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
    .collect();
    let contact = Contact {
        id: "c".into(),
        name: Some(text.into()),
        email: Some(text.into()),
        phone: Some(text.into()),
    };
    let _ = extract(
        &contacts(),
        &ExtractInput {
            body: text,
            signature: Some(text),
            subject: Some(text),
            contact: Some(&contact),
            fields: Some(&fields),
            language: &l.code,
        },
    );
    let _ = extract(
        &contacts(),
        &ExtractInput {
            body: &c.body,
            signature: c.signature.as_deref(),
            language: "und",
            ..ExtractInput::default()
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_panic_on_arbitrary_strings(text in any::<String>()) {
        run_everything(&text);
    }

    #[test]
    fn no_panic_on_mail_like_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("> ".to_string()), Just("\n".to_string()), Just("-- \n".to_string()),
                Just("On Mon wrote:".to_string()), Just("From: x\nSent: y\n".to_string()),
                Just("<p>".to_string()), Just("&amp;".to_string()), Just("&#99999999;".to_string()),
                Just("€".to_string()), Just("$5k".to_string()), Just("between 1 and".to_string()),
                Just("Best regards,".to_string()), Just("Q3".to_string()), Just("+49 30".to_string()),
                Just("https://x.example/?utm_source=a&".to_string()), Just("!".to_string()),
                Just("Hi,".to_string()), Just("😀".to_string()), "[a-zA-Zäöü0-9 .,?]{0,20}",
            ],
            0..40,
        )
    ) {
        run_everything(&parts.concat());
    }
}

/// The e-mail and phone detector the worker hands the text engine.
fn contacts() -> jambo_worker::privacy::redact::Redactor {
    jambo_worker::privacy::redact::Redactor::new(
        jambo_worker::privacy::redact::RedactorConfig::contact_fields(),
    )
}
