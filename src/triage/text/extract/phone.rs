//! Phone numbers in E.164: international as written, national in the sender's region.

use std::sync::LazyLock;

use phonenumber::country;
use regex::Regex;

use super::{Field, Source, field};

/// A form or contact phone as a field: E.164 when it parses, else as given at confidence 0.4.
pub(super) fn phone_field(
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

/// The phone number at `start..end` of `text` with the area code written right before it taken
/// in: the detector may stop at a bracket or slash, so "(11) 91234-5678" and
/// "069 / 27 40 18 55" would lose "(11)" and "069 /".
pub(super) fn with_area_code(text: &str, start: usize, end: usize) -> &str {
    static AREA_CODE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:\+?\d{1,3}[ \t]*)?(?:\(\d{1,5}\)|\d{2,5})[ \t]*[/\-.]?[ \t]*$")
            .expect("static regex")
    });
    let (Some(before), Some(_)) = (text.get(..start), text.get(start..end)) else {
        return text.get(start..end).unwrap_or("");
    };
    // only a prefix that is not itself part of a longer word or number
    let from = AREA_CODE
        .find(before)
        .filter(|m| {
            before[..m.start()]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
        .map_or(start, |m| m.start());
    &text[from..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_before_the_detected_span_are_taken_in() {
        let text = "me chama no zap (11) 91234-5678";
        let start = text.find("91234").unwrap_or(0);
        assert_eq!(with_area_code(text, start, text.len()), "(11) 91234-5678");
        let text = "Tel. 069 / 27 40 18 55";
        let start = text.find("27 40").unwrap_or(0);
        assert_eq!(with_area_code(text, start, text.len()), "069 / 27 40 18 55");
        assert_eq!(
            to_e164("069 / 27 40 18 55", Some(country::Id::DE)).as_deref(),
            Some("+496927401855")
        );
        let text = "order 12345 call 030 1234567";
        let start = text.find("030").unwrap_or(0);
        assert_eq!(with_area_code(text, start, text.len()), "030 1234567");
    }
}
