//! Markdown, plain text and PDF extraction, and the dispatch by file extension / content type.

use jambo_worker::knowledge::{
    BlockKind, ExtractError, extract_bytes, extract_file, extract_markdown, extract_pdf,
    extract_text,
};

use super::support::{fixture_path, fixture_text, render_document};

#[test]
fn markdown_guide_becomes_structured_blocks() {
    let document = extract_markdown(&fixture_text("guide.md"));
    insta::assert_snapshot!(render_document(&document));
    assert_eq!(document.title.as_deref(), Some("Webhooks guide"));
    assert!(!document.plain_text().contains("Raw HTML"));
    assert!(document.blocks.iter().any(|block| block.kind
        == BlockKind::Code {
            language: Some("json".into())
        }));
}

#[test]
fn plain_text_paragraphs_are_split_on_blank_lines() {
    let document = extract_text(&fixture_text("notes.txt"));
    let texts: Vec<&str> = document
        .blocks
        .iter()
        .map(|block| block.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "Opening hours",
            "Our support team answers from Monday to Friday, 9:00 to 18:00 CET.",
            "On public holidays the chat is closed; email is answered the next working day."
        ]
    );
    assert_eq!(document.language.as_deref(), Some("en"));
}

#[test]
fn files_are_dispatched_by_extension_and_titled_by_file_name() {
    let html = extract_file(&fixture_path("help_center_article.html")).expect("html");
    assert_eq!(
        html.title.as_deref(),
        Some("How to reset your password – Acme Help Center")
    );
    let text = extract_file(&fixture_path("notes.txt")).expect("txt");
    assert_eq!(text.title.as_deref(), Some("notes"));
    let markdown = extract_file(&fixture_path("guide.md")).expect("md");
    assert_eq!(markdown.title.as_deref(), Some("Webhooks guide"));

    let unsupported = extract_file(&fixture_path("site")).unwrap_err();
    assert!(
        matches!(unsupported, ExtractError::UnsupportedContentType { .. }),
        "{unsupported}"
    );
    let missing = extract_file(&fixture_path("missing.html")).unwrap_err();
    assert!(matches!(missing, ExtractError::Io { .. }), "{missing}");
}

#[test]
fn unsupported_content_types_are_a_clear_error() {
    let error = extract_bytes(b"\x89PNG", Some("image/png"), "").unwrap_err();
    assert_eq!(error.to_string(), "unsupported content type \"image/png\"");
}

#[test]
fn pdf_text_layer_is_extracted() {
    let pdf = minimal_pdf(Some("Refunds are processed within five business days."));
    let document = extract_pdf(&pdf).expect("pdf with text");
    assert!(
        document
            .plain_text()
            .contains("Refunds are processed within five business days."),
        "{document:?}"
    );
    let by_type = extract_bytes(&pdf, Some("application/pdf"), "").expect("dispatch");
    assert_eq!(by_type, document);
}

#[test]
fn pdf_without_text_is_a_clear_error() {
    let error = extract_pdf(&minimal_pdf(None)).unwrap_err();
    assert!(matches!(error, ExtractError::PdfWithoutText), "{error}");
    assert_eq!(error.to_string(), "pdf has no text layer");
}

#[test]
fn broken_pdfs_are_errors_not_panics() {
    let valid = minimal_pdf(Some("Hello"));
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"%PDF-1.4\n".to_vec(),
        b"not a pdf at all".to_vec(),
        valid[..valid.len() / 2].to_vec(),
        valid
            .iter()
            .map(|byte| if *byte == b'R' { b'X' } else { *byte })
            .collect(),
    ];
    for input in inputs {
        let error = extract_pdf(&input).unwrap_err();
        assert!(
            matches!(
                error,
                ExtractError::PdfUnreadable { .. } | ExtractError::PdfWithoutText
            ),
            "{error}"
        );
    }
}

/// A one-page PDF with Helvetica text, or only a drawn line when `text` is `None` (a "scan").
fn minimal_pdf(text: Option<&str>) -> Vec<u8> {
    let content = match text {
        Some(text) => format!("BT /F1 12 Tf 72 700 Td ({text}) Tj ET"),
        None => "0 0 m 100 100 l S".to_string(),
    };
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref_offset = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
