//! Page language as an ISO 639-1 code: from a declared tag (`<html lang="de-AT">`) when there
//! is one, else detected from the text with `whatlang` (trigram model, pure Rust).

/// `"de-AT"`, `"EN_us"`, `"pt"` become `"de"`, `"en"`, `"pt"`; anything else is `None`.
pub fn from_declared_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    let is_two_letters = primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic());
    is_two_letters.then(|| primary.to_ascii_lowercase())
}

/// Detects the language of `text`; `None` when the text is too short or the guess unreliable.
pub fn detect(text: &str) -> Option<String> {
    // whatlang reads the whole input; a few kilobytes are plenty and keep big pages cheap
    let sample = &text[..text.floor_char_boundary(4096)];
    if sample.split_whitespace().count() < 3 {
        return None;
    }
    let info = whatlang::detect(sample)?;
    if info.confidence() < 0.3 {
        return None;
    }
    iso_639_1(info.lang()).map(str::to_string)
}

/// whatlang speaks ISO 639-3; the payload and the rest of the worker use ISO 639-1.
fn iso_639_1(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang;
    let code = match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
        // whatlang may add languages in a minor release; they stay undetected until mapped
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(code)
}
