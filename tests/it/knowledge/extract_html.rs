//! HTML extraction: main content, chrome removal, structure, charsets, language, bad input.

use jambo_worker::knowledge::{BlockKind, Document, extract_html, extract_html_bytes};

use super::support::{fixture_bytes, fixture_text, render_document};

fn extract_fixture(name: &str) -> Document {
    extract_html(
        &fixture_text(name),
        &format!("https://help.example.com/{name}"),
    )
}

#[test]
fn help_center_article_keeps_the_article_and_drops_the_chrome() {
    let document = extract_fixture("help_center_article.html");
    insta::assert_snapshot!(render_document(&document));
    let text = document.plain_text();
    for chrome in [
        "cookie",
        "Accept all",
        "Skip to main content",
        "Search articles",
        "Breadcrumb",
        "Articles in this section",
        "Internal note",
        "enable JavaScript",
        "console.log",
        "tracking",
        "Was this article helpful",
        "All rights reserved",
        "Privacy",
        "Opens in a new window",
        "font-family",
    ] {
        assert!(!text.contains(chrome), "{chrome:?} leaked into {text}");
    }
    assert!(
        text.contains("valid for 24 hours. Check your spam folder if it doesn\u{2019}t arrive.")
    );
    assert_eq!(document.language.as_deref(), Some("en"));
}

#[test]
fn heading_paths_follow_heading_levels() {
    let document = extract_fixture("help_center_article.html");
    let admins_paragraph = document
        .blocks
        .iter()
        .find(|block| block.text.starts_with("Admins can send"))
        .expect("paragraph under Admins");
    assert_eq!(
        admins_paragraph.heading_path,
        [
            "How to reset your password",
            "Reset for a team member",
            "Admins"
        ]
    );
    assert_eq!(
        admins_paragraph.text,
        "Admins can send a reset link from Settings > Members."
    );
}

#[test]
fn tables_code_and_nested_lists_keep_their_structure() {
    let document = extract_fixture("table_code_lists.html");
    insta::assert_snapshot!(render_document(&document));
    let rows: Vec<&str> = document
        .blocks
        .iter()
        .filter(|block| block.kind == BlockKind::TableRow)
        .map(|block| block.text.as_str())
        .collect();
    assert_eq!(
        rows,
        [
            "Plan | Requests per minute | Burst",
            "Free | 60 | 10",
            "Pro | 1,000 | 100",
            "Enterprise | Custom (contact sales) | "
        ]
    );
    let code = document
        .blocks
        .iter()
        .find(|block| {
            block.kind
                == BlockKind::Code {
                    language: Some("bash".to_string()),
                }
        })
        .expect("bash code block");
    assert_eq!(
        code.text,
        "curl https://api.example.com/v1/tickets \\\n  -H \"Authorization: Bearer $TOKEN\"\n\n# the response is JSON"
    );
    let depths: Vec<(u8, &str)> = document
        .blocks
        .iter()
        .filter_map(|block| match block.kind {
            BlockKind::ListItem { depth } => Some((depth, block.text.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        depths,
        [
            (1, "Desktop"),
            (2, "Windows 10 and later"),
            (2, "macOS"),
            (3, "Intel"),
            (3, "Apple silicon"),
            (1, "Mobile"),
            (2, "iOS 16+"),
            (2, "Android 12+"),
        ]
    );
}

#[test]
fn german_page_without_lang_attribute_is_detected_as_german() {
    let document = extract_fixture("german.html");
    assert_eq!(document.language.as_deref(), Some("de"));
    assert_eq!(document.title.as_deref(), Some("Rechnung herunterladen"));
    let text = document.plain_text();
    assert!(text.contains("„Abrechnung“"));
    assert!(!text.contains("Startseite") && !text.contains("Impressum"));
}

#[test]
fn malformed_page_is_extracted_like_a_browser_would() {
    let document = extract_fixture("malformed.html");
    insta::assert_snapshot!(render_document(&document));
    let text = document.plain_text();
    assert!(text.contains("Café owners get free shipping — unclosed link text"));
    assert!(!text.contains("secret") && !text.contains("not text"));
}

#[test]
fn empty_pages_give_empty_documents() {
    for name in ["empty.html", "empty_shell.html"] {
        let document = extract_fixture(name);
        assert!(document.is_empty(), "{name}: {document:?}");
    }
    assert_eq!(
        extract_fixture("empty_shell.html").language.as_deref(),
        Some("fr")
    );
    assert!(extract_html("", "").is_empty());
    assert!(extract_html_bytes(&[], Some("text/html"), "").is_empty());
}

#[test]
fn windows_1252_page_is_decoded_from_meta_header_or_guess() {
    let bytes = fixture_bytes("windows1252.html");
    for content_type in [
        None,
        Some("text/html"),
        Some("text/html; charset=ISO-8859-1"),
        // a wrong label: the bytes are not UTF-8, and not a single multi-byte sequence is valid
        Some("text/html; charset=utf-8"),
    ] {
        let document = extract_html_bytes(&bytes, content_type, "https://example.es/devoluciones");
        assert_eq!(
            document.title.as_deref(),
            Some("Política de devolución"),
            "{content_type:?}"
        );
        let text = document.plain_text();
        assert!(
            text.contains("reembolso de 20 € se hace en la misma tarjeta – sin preguntas"),
            "{content_type:?}: {text}"
        );
        assert!(text.contains("¿Necesita ayuda?"));
        assert_eq!(document.language.as_deref(), Some("es"));
    }
}

#[test]
fn byte_order_marks_win_over_labels() {
    let html = "<html><body><p>Grüße aus Köln</p></body></html>";
    let mut utf8_with_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_with_bom.extend_from_slice(html.as_bytes());
    let document = extract_html_bytes(&utf8_with_bom, Some("text/html; charset=windows-1252"), "");
    assert_eq!(document.plain_text(), "Grüße aus Köln");

    let mut utf16_with_bom = vec![0xFF, 0xFE];
    utf16_with_bom.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
    let document = extract_html_bytes(&utf16_with_bom, None, "");
    assert_eq!(document.plain_text(), "Grüße aus Köln");
}

#[test]
fn unknown_or_garbage_charsets_never_fail() {
    let bytes = b"<meta charset=\"no-such-charset\"><p>caf\xe9 \xff\xfe\x00 ok</p>";
    for content_type in [
        None,
        Some("text/html; charset=\"bogus\""),
        Some("text/html; charset=utf-16"),
    ] {
        let document = extract_html_bytes(bytes, content_type, "");
        assert!(document.plain_text().contains("ok"), "{content_type:?}");
    }
}

#[test]
fn language_detection_covers_the_main_european_languages() {
    let samples = [
        (
            "en",
            "You can change your password at any time from the account settings page.",
        ),
        (
            "de",
            "Sie können Ihr Passwort jederzeit in den Kontoeinstellungen ändern.",
        ),
        (
            "es",
            "Puede cambiar su contraseña en cualquier momento desde la configuración de la cuenta.",
        ),
        (
            "fr",
            "Vous pouvez modifier votre mot de passe à tout moment depuis les paramètres du compte.",
        ),
        (
            "nl",
            "U kunt uw wachtwoord altijd wijzigen in de instellingen van uw account. Het nieuwe wachtwoord moet minstens acht tekens lang zijn en een cijfer bevatten.",
        ),
        (
            "it",
            "Puoi cambiare la tua password in qualsiasi momento dalle impostazioni dell'account.",
        ),
        (
            "pt",
            "Você pode alterar sua senha a qualquer momento nas configurações da conta.",
        ),
    ];
    for (expected, sentence) in samples {
        let document = extract_html(&format!("<p>{sentence}</p>"), "");
        assert_eq!(document.language.as_deref(), Some(expected), "{sentence}");
    }
}

#[test]
fn declared_language_tag_is_reduced_to_iso_639_1() {
    let document = extract_html("<html lang='PT_br'><p>Olá</p></html>", "");
    assert_eq!(document.language.as_deref(), Some("pt"));
    let document = extract_html(
        "<html lang='x-klingon'><p>You can change your password at any time from the account settings page.</p></html>",
        "",
    );
    assert_eq!(document.language.as_deref(), Some("en"));
}

#[test]
fn title_falls_back_to_first_h1_then_url() {
    let document = extract_html(
        "<h1>Getting  started</h1><p>Hi</p>",
        "https://x.example/a/b",
    );
    assert_eq!(document.title.as_deref(), Some("Getting started"));
    let document = extract_html(
        "<p>Hi</p>",
        "https://x.example/docs/reset-your_password.html?x=1",
    );
    assert_eq!(document.title.as_deref(), Some("reset your password"));
    let document = extract_html("<p>Hi</p>", "https://x.example/");
    assert_eq!(document.title, None);
}

#[test]
fn empty_main_falls_back_to_body() {
    let document = extract_html(
        "<body><main> </main><div><p>Real content here</p></div></body>",
        "",
    );
    assert_eq!(document.plain_text(), "Real content here");
}

#[test]
fn adjacent_block_elements_never_glue_words() {
    let document = extract_html(
        "<div>alpha<div>beta</div>gamma<custom-card>delta</custom-card><td>epsilon</td></div>",
        "",
    );
    let texts: Vec<&str> = document
        .blocks
        .iter()
        .map(|block| block.text.as_str())
        .collect();
    assert_eq!(texts, ["alpha", "beta", "gamma", "delta", "epsilon"]);
}

#[test]
fn deeply_nested_pages_do_not_overflow_the_stack() {
    let depth = 5_000;
    let html = format!(
        "{}<p>deep text</p>{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let document = extract_html(&html, "");
    assert!(document.plain_text().contains("deep text"));
    let table = format!(
        "<table><tr><td>{}cell{}</td></tr></table>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    assert_eq!(extract_html(&table, "").plain_text(), "cell");
}

#[test]
fn utf16_without_bom_is_honoured_when_it_really_is_utf16() {
    let html = "<p>Grüße aus Köln</p>";
    let utf16: Vec<u8> = html.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let document = extract_html_bytes(&utf16, Some("text/html; charset=utf-16le"), "");
    assert_eq!(document.plain_text(), "Grüße aus Köln");
}
