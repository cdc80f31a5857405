//! Blocks repeated across the pages of one site are learned and dropped.

use jambo_worker::knowledge::{BoilerplateFilter, Document, extract_html};

use super::support::fixture_text;

fn site_pages() -> Vec<Document> {
    (1..=4)
        .map(|page| {
            let name = format!("site/page{page}.html");
            extract_html(
                &fixture_text(&name),
                &format!("https://help.example.com/{name}"),
            )
        })
        .collect()
}

#[test]
fn blocks_on_half_the_pages_are_dropped_and_unique_content_stays() {
    let pages = site_pages();
    let mut filter = BoilerplateFilter::default();
    for page in &pages {
        filter.observe(page);
    }
    assert_eq!(filter.pages_seen(), 4);
    let cleaned: Vec<Vec<String>> = pages
        .into_iter()
        .map(|page| {
            filter
                .remove_from(page)
                .blocks
                .into_iter()
                .map(|block| block.text)
                .collect()
        })
        .collect();
    assert_eq!(
        cleaned[1],
        [
            "Export your data",
            "Open Settings, then Data, and click Export. You receive a ZIP file by email within an hour."
        ]
    );
    // page 4 repeats the contact line inside its own text: the repeat is boilerplate too
    assert_eq!(
        cleaned[3],
        [
            "Enable two-factor authentication",
            "Open Security settings and scan the QR code with an authenticator app."
        ]
    );
}

#[test]
fn nothing_is_boilerplate_before_enough_pages_were_seen() {
    let pages = site_pages();
    let mut filter = BoilerplateFilter::default();
    filter.observe(&pages[0]);
    filter.observe(&pages[1]);
    let kept = filter.remove_from(pages[0].clone());
    assert_eq!(kept, pages[0]);
}

#[test]
fn thresholds_are_configurable_and_clamped() {
    let pages = site_pages();
    let mut strict = BoilerplateFilter::new(3, 1.0);
    let mut nonsense = BoilerplateFilter::new(0, f64::NAN);
    for page in &pages {
        strict.observe(page);
        nonsense.observe(page);
    }
    // "Still need help? Contact our support team." is on every page: dropped even at 100%
    let still_need_help = pages[0]
        .blocks
        .iter()
        .find(|block| block.text.starts_with("Still need help? Contact"))
        .unwrap();
    assert!(strict.is_boilerplate(still_need_help));
    assert!(nonsense.is_boilerplate(still_need_help));
    let unique = &pages[0].blocks[1];
    assert!(!strict.is_boilerplate(unique) && !nonsense.is_boilerplate(unique));
}
