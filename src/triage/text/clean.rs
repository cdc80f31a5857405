//! Cleaning first: a message's own words, without the quoted reply chain, the signature (kept
//! apart for extraction), HTML remnants and tracking junk.
//!
//! Order: HTML to text (tags, entities, tracking pixels, `<blockquote>`), then the quoted chain
//! (`>` lines; "On … wrote:", "Am … schrieb", "El … escribió:", "Le … a écrit :", "Op …
//! schreef", "Il … ha scritto:", "Em … escreveu:"; "-----Original Message-----" in the seven
//! languages; Outlook `From:`/`Sent:` header blocks), then footer lines (unsubscribe, "Sent from
//! my iPhone", `[cid:…]`), then the signature ("-- " delimiter, or a closing such as "Best
//! regards," / "Mit freundlichen Grüßen" / "Saludos" / "Cordialement" followed by a short block,
//! or an inline "Thanks, Maria Lopez" at the very end), and last tracking query parameters
//! (`utm_*`, `fbclid`, …) in URLs.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;

use crate::text::html::decode_entities;

/// A message after cleaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cleaned {
    /// The sender's own words: no quoted chain, no signature, no markup, no footer junk.
    pub body: String,
    /// The signature block, without its closing line ("Best regards,"), when one was found.
    pub signature: Option<String>,
    /// True when a quoted reply chain (or `>` lines) was removed.
    pub quoted_removed: bool,
}

/// Cleans one message (plain text or HTML). Never panics; empty input gives an empty body.
pub fn clean(text: &str) -> Cleaned {
    let mut quoted_removed = false;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = if looks_like_html(&text) {
        let (plain, had_blockquote) = html_to_text(&text);
        quoted_removed |= had_blockquote;
        plain
    } else {
        decode_entities(&text).into_owned()
    };
    let text = normalize_spaces(&text);
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();

    let (lines, had_quotes) = strip_quoted(lines);
    quoted_removed |= had_quotes;
    let lines = drop_junk_lines(lines);
    let (body, signature) = split_signature(lines);

    let body = tidy(&strip_tracking_params(&body.join("\n")));
    let signature = signature
        .map(|s| tidy(&strip_tracking_params(&s.join("\n"))))
        .filter(|s| !s.is_empty());
    Cleaned {
        body,
        signature,
        quoted_removed,
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

// ---------------------------------------------------------------------------------------------
// HTML

static HTML_HINT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)<(?:html|body|div|p|br|span|table|img|a|font|b|strong|em|ul|ol|li|td|tr|meta|style|head|blockquote)(?:\s[^<>]*)?/?>",
    )
});
static HTML_DROP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<head\b.*?</head\s*>|<title\b.*?</title\s*>",
    )
});
static BLOCKQUOTE: LazyLock<Regex> = LazyLock::new(|| re(r"(?is)<blockquote\b.*?</blockquote\s*>"));
static GMAIL_QUOTE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?is)<div[^>]*class="[^"]*gmail_quote[^"]*"[^>]*>.*$"#));
static WHITESPACE: LazyLock<Regex> = LazyLock::new(|| re(r"\s+"));
static BLOCK_TAG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)<\s*/?\s*(?:br|p|div|li|tr|h[1-6]|hr|table|ul|ol|blockquote|center|section|article|header|footer)\b[^<>]*>",
    )
});
static ANY_TAG: LazyLock<Regex> =
    LazyLock::new(|| re(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>|<![^<>]*>"));

fn looks_like_html(text: &str) -> bool {
    HTML_HINT.is_match(text)
}

/// HTML to plain lines; the flag says a `<blockquote>` or Gmail quote block was dropped.
fn html_to_text(html: &str) -> (String, bool) {
    let mut text = HTML_DROP.replace_all(html, " ").into_owned();
    let mut quoted = false;
    if GMAIL_QUOTE.is_match(&text) {
        quoted = true;
        text = GMAIL_QUOTE.replace_all(&text, " ").into_owned();
    }
    if BLOCKQUOTE.is_match(&text) {
        quoted = true;
        text = BLOCKQUOTE.replace_all(&text, " ").into_owned();
    }
    let text = WHITESPACE.replace_all(&text, " ");
    let text = BLOCK_TAG.replace_all(&text, "\n");
    let text = ANY_TAG.replace_all(&text, "");
    let text = decode_entities(&text);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    (lines.join("\n"), quoted)
}

/// No-break and odd spaces become spaces; zero-width characters and other controls go.
fn normalize_spaces(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2009}' | '\t' => Some(' '),
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => None,
            '\n' => Some('\n'),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// quoted reply chains

static ORIGINAL_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|ursprungliche nachricht|mensaje original|message d'origine|message original|oorspronkelijk bericht|origineel bericht|messaggio originale|messaggio inoltrato originale|mensagem original)\s*-{2,}\s*$",
    )
});
static WROTE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:wrote|writes|schrieb|escribió|escribio|a écrit|a ecrit|schreef|ha scritto|escreveu)\b",
    )
});
static REPLY_OPENER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*(?:on|am|el|le|op|il|em)\s"));
static HEADER_FROM: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*\*?(?:from|von|de|van|da|expéditeur|remetente)\s*:\*?\s*\S"));
static HEADER_NEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*\*?(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|enviado|enviada|fecha|para|asunto|envoyé|date d'envoi|à|objet|verzonden|aan|onderwerp|inviato|data|a|oggetto|assunto)\s*:",
    )
});
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(?:_{5,}|-{5,}|={5,})\s*$"));

/// Where the quoted chain starts, if line `i` opens one.
fn is_reply_header(lines: &[String], i: usize) -> bool {
    let line = lines[i].as_str();
    if ORIGINAL_MESSAGE.is_match(line) {
        return true;
    }
    // "On Mon, 2 Nov 2026 at 10:00, Jane <jane@x.com> wrote:", often wrapped over two lines
    let wrote_line = |text: &str| {
        let t = text.trim_end();
        t.chars().count() < 300
            && t.ends_with(':')
            && WROTE.is_match(t)
            && (REPLY_OPENER.is_match(t)
                || t.contains('@')
                || t.chars().any(|c| c.is_ascii_digit()))
    };
    if wrote_line(line) {
        return true;
    }
    if REPLY_OPENER.is_match(line)
        && !line.trim_end().ends_with(':')
        && let Some(next) = lines.get(i + 1)
        && wrote_line(&format!("{line} {next}"))
    {
        return true;
    }
    // Outlook: "From: …" followed by "Sent: …" / "To: …" / "Subject: …" lines
    if HEADER_FROM.is_match(line) {
        let following = lines.iter().skip(i + 1).take(5);
        let headers = following.filter(|l| HEADER_NEXT.is_match(l)).count();
        return headers >= 1;
    }
    false
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quote_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Cuts the chain below the first reply header (when the sender wrote something above it) and
/// drops `>` lines (when something else remains).
fn strip_quoted(mut lines: Vec<String>) -> (Vec<String>, bool) {
    let mut removed = false;
    let header = (0..lines.len()).find(|&i| is_reply_header(&lines, i));
    if let Some(h) = header {
        let has_own_words = lines[..h]
            .iter()
            .any(|l| !is_blank(l) && !is_quote_line(l) && !SEPARATOR.is_match(l));
        if has_own_words {
            lines.truncate(h);
            while lines
                .last()
                .is_some_and(|l| is_blank(l) || SEPARATOR.is_match(l))
            {
                lines.pop();
            }
            removed = true;
        }
    }
    let own = lines
        .iter()
        .filter(|l| !is_blank(l) && !is_quote_line(l))
        .count();
    if lines.iter().any(|l| is_quote_line(l)) {
        if own > 0 {
            lines.retain(|l| !is_quote_line(l));
        } else {
            // only quoted text: it is all there is (a forwarded lead), keep it unquoted
            lines = lines
                .into_iter()
                .map(|l| l.trim_start().trim_start_matches(['>', ' ']).to_string())
                .collect();
        }
        removed = true;
    }
    (lines, removed)
}

// ---------------------------------------------------------------------------------------------
// footer junk

static MOBILE_FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:sent from my\b|sent from mail for\b|sent from outlook\b|get outlook for\b|von meinem .{1,30} gesendet|gesendet von meinem\b|enviado desde mi\b|envoyé de mon\b|envoyé depuis mon\b|verzonden vanaf mijn\b|verstuurd vanaf mijn\b|inviato da\s+(?:il mio\s+)?(?:iphone|ipad|android|samsung|outlook)|enviado do meu\b)",
    )
});
static CID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*\[(?:cid|image|inline image)[^\]]*\]\s*$"));
static UNSUBSCRIBE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)unsubscribe|opt[- ]out|abmelden|abbestellen|darse de baja|darte de baja|cancelar (?:la |su |tu )?suscripción|désinscri|desinscri|désabonn|desabonn|uitschrijven|afmelden|disiscriv|cancellare l'iscrizione|cancelar (?:a )?inscrição|descadastr|no longer wish to receive",
    )
});
static FOOTER_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)https?://|www\.|click|klicken|clic|klik|clicca|clique|\bhere\b|\bhier\b|aquí|\bici\b|\bqui\b|\baqui\b|receiving this|received this|erhalten diese|recibe este|recibido este|recevez cet|ontvangt deze|ricevi questa|ricevendo|recebe este|preferences|einstellungen|preferencias|préférences|voorkeuren|preferenze|preferências",
    )
});
static VIEW_IN_BROWSER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)view (?:this (?:e-?mail|message) )?(?:in|on) (?:your |a )?(?:web )?browser|im browser (?:ansehen|anzeigen|öffnen)|ver (?:en el|en tu) navegador|voir (?:dans|sur) (?:le|votre) navigateur|bekijk (?:in|online in) (?:je|uw) browser|visualizza nel browser|ver no navegador",
    )
});

fn drop_junk_lines(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .filter(|l| {
            let footer = UNSUBSCRIBE.is_match(l) && FOOTER_CUE.is_match(l);
            !(MOBILE_FOOTER.is_match(l) || CID.is_match(l) || footer || VIEW_IN_BROWSER.is_match(l))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// signatures

/// Closings in en, de, es, fr, nl, it, pt; longer ones first.
const CLOSINGS: &str = r"with best regards|best regards|kind regards|warm regards|warmest regards|many thanks|thanks in advance|thanks again|thank you|best wishes|all the best|yours sincerely|yours truly|yours faithfully|sincerely|respectfully|regards|cheers|thanks|thx|best|take care|mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichem gruß|mit freundlichem gruss|freundliche grüße|freundliche grüsse|viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse|herzliche grüße|herzliche grüsse|schöne grüße|schöne grüsse|besten dank|vielen dank|danke schön|danke|gruß|gruss|grüße|grüsse|mfg|lg|saludos cordiales|un cordial saludo|reciba un cordial saludo|un saludo|saludos|atentamente|cordialmente|muchas gracias|gracias|un abrazo|bien cordialement|cordialement|bien à vous|meilleures salutations|sincères salutations|salutations|merci d'avance|merci beaucoup|merci|bonne journée|amicalement|met vriendelijke groeten|met vriendelijke groet|vriendelijke groeten|vriendelijke groet|hartelijke groeten|hartelijke groet|groeten|groet|mvg|alvast bedankt|bedankt|cordiali saluti|distinti saluti|un saluto|saluti|grazie mille|grazie|buona giornata|com os melhores cumprimentos|melhores cumprimentos|cumprimentos|atenciosamente|um abraço|abraços|abraço|muito obrigado|muito obrigada|obrigado|obrigada|saudações";

static CLOSING_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)^\s*(?:{CLOSINGS})\s*[,.!:;]*\s*$")));
const NAME: &str = r"\p{Lu}[\p{L}'’.-]*(?:[ \t]+(?:(?:van|von|de|da|del|di|der|den|la|le|dos|das)[ \t]+)?\p{Lu}[\p{L}'’.-]*){0,3}";
static CLOSING_WITH_NAME: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^\s*(?i:{CLOSINGS})\s*[,.!]?[ \t]+({NAME})\s*$")));
static TRAILING_CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^(.*[.!?])[ \t]+(?i:{CLOSINGS})\s*[,.!]?[ \t]+({NAME})\s*$"
    ))
});
static SIG_DELIMITER: LazyLock<Regex> = LazyLock::new(|| re(r"^-- ?$"));

/// Lines of a short block that may follow a closing: few, short, no questions.
fn is_signature_block(block: &[String]) -> bool {
    let filled: Vec<&String> = block.iter().filter(|l| !is_blank(l)).collect();
    filled.len() <= 8
        && filled.iter().all(|l| {
            let t = l.trim();
            let words: Vec<&str> = t.split_whitespace().collect();
            // a sentence ("Let me know if you have questions."), not "Northwind Traders Inc."
            let last = words.last().copied().unwrap_or("");
            let abbreviation = last.chars().count() <= 5 && last.starts_with(char::is_uppercase);
            let sentence = t.ends_with('.') && words.len() >= 5 && !abbreviation;
            t.chars().count() <= 80 && !t.ends_with('?') && words.len() <= 10 && !sentence
        })
}

fn split_signature(lines: Vec<String>) -> (Vec<String>, Option<Vec<String>>) {
    let has_content = |ls: &[String]| ls.iter().any(|l| !is_blank(l));
    // a "-- " delimiter line: everything below is the signature
    if let Some(d) = lines.iter().rposition(|l| SIG_DELIMITER.is_match(l))
        && has_content(&lines[..d])
    {
        let sig = lines[d + 1..].to_vec();
        let mut body = lines;
        body.truncate(d);
        // a closing right above the delimiter belongs to the signature too
        let (body, sig_above) = split_by_closing(body);
        let sig = match sig_above {
            Some(mut above) => {
                above.extend(sig);
                above
            }
            None => sig,
        };
        return (body, Some(sig));
    }
    split_by_closing(lines)
}

fn split_by_closing(mut lines: Vec<String>) -> (Vec<String>, Option<Vec<String>>) {
    let has_content = |ls: &[String]| ls.iter().any(|l| !is_blank(l));
    let window_start = lines.len().saturating_sub(15);
    // the last closing wins: "Thanks!" in the text above "Best, John" is not the signature
    for i in (window_start..lines.len()).rev() {
        let line = &lines[i];
        if !has_content(&lines[..i]) {
            continue;
        }
        if CLOSING_LINE.is_match(line) && is_signature_block(&lines[i + 1..]) {
            let sig = lines[i + 1..].to_vec();
            lines.truncate(i);
            return (lines, has_content(&sig).then_some(sig));
        }
        if let Some(c) = CLOSING_WITH_NAME.captures(line)
            && is_signature_block(&lines[i + 1..])
        {
            let mut sig = vec![c[1].to_string()];
            sig.extend_from_slice(&lines[i + 1..]);
            lines.truncate(i);
            return (lines, Some(sig));
        }
    }
    // "… call me next week? Thanks, Maria Lopez" at the very end of a one-paragraph message
    if let Some(last) = lines.iter().rposition(|l| !is_blank(l))
        && let Some(c) = TRAILING_CLOSING.captures(&lines[last])
    {
        let (keep, name) = (c[1].to_string(), c[2].to_string());
        lines.truncate(last);
        lines.push(keep);
        return (lines, Some(vec![name]));
    }
    (lines, None)
}

// ---------------------------------------------------------------------------------------------
// tracking parameters

static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"https?://[^\s<>"'()\[\]]+"#));

const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "trk",
    "trkid",
    "trkcampaign",
    "ref_src",
    "_ga",
    "_gl",
    "s_cid",
    "sc_cid",
    "vero_id",
    "vero_conv",
    "oly_enc_id",
    "oly_anon_id",
    "wickedid",
    "ss_source",
    "ss_campaign_id",
    "spm",
    "si",
];

/// Longest query kept once the known tracking parameters are gone: longer ones are opaque
/// tracking redirects, not something a person reads.
const MAX_QUERY: usize = 100;

fn strip_tracking_params(text: &str) -> String {
    URL.replace_all(text, |c: &Captures| clean_url(&c[0]))
        .into_owned()
}

fn clean_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("").to_ascii_lowercase();
            !name.is_empty()
                && !name.starts_with("utm_")
                && !TRACKING_PARAMS.contains(&name.as_str())
        })
        .collect();
    let query = kept.join("&");
    let mut out = base.to_string();
    if !query.is_empty() && query.len() <= MAX_QUERY {
        out.push('?');
        out.push_str(&query);
    }
    if let Some(f) = fragment.filter(|f| !f.is_empty() && !f.contains('=')) {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Trims lines and the whole, and keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_parameters_go_and_others_stay() {
        assert_eq!(
            clean_url("https://x.com/p?id=3&utm_source=news&utm_medium=mail"),
            "https://x.com/p?id=3"
        );
        assert_eq!(clean_url("https://x.com/p?utm_source=a"), "https://x.com/p");
    }

    #[test]
    fn gmail_two_line_header() {
        let c = clean(
            "Yes please.\n\nOn Mon, Nov 2, 2026 at 10:00 AM Jane Doe <\njane@x.com> wrote:\n> old",
        );
        assert_eq!(c.body, "Yes please.");
        assert!(c.quoted_removed);
    }

    #[test]
    fn inline_closing_with_name() {
        let c = clean("Could someone call me next week? Thanks, Maria Lopez");
        assert_eq!(c.body, "Could someone call me next week?");
        assert_eq!(c.signature.as_deref(), Some("Maria Lopez"));
    }
}
