//! Phone numbers in E.164: international as written, national in the sender's region.

use phonenumber::country;

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
