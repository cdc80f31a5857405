//! Lossy UTF-8 decoding that remembers where every decoded byte came from, so offsets found in
//! the decoded text can be reported exactly against the original bytes.

/// Decoded text plus the map back to the original byte offsets.
#[derive(Debug, Clone)]
pub struct LossyText {
    text: String,
    /// `(decoded_offset, original_offset)` at the start of each valid run and each replacement
    /// character, ascending in both; between two marks offsets advance one-for-one.
    marks: Vec<(usize, usize)>,
    original_len: usize,
}

/// Decodes `bytes`, replacing each invalid sequence with U+FFFD as `String::from_utf8_lossy` does.
pub fn decode_lossy(bytes: &[u8]) -> LossyText {
    let mut text = String::with_capacity(bytes.len());
    let mut marks = Vec::new();
    let mut original = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if !valid.is_empty() {
            marks.push((text.len(), original));
            text.push_str(valid);
            original += valid.len();
        }
        let invalid = chunk.invalid();
        if !invalid.is_empty() {
            marks.push((text.len(), original));
            text.push(char::REPLACEMENT_CHARACTER);
            original += invalid.len();
        }
    }
    LossyText {
        text,
        marks,
        original_len: bytes.len(),
    }
}

impl LossyText {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Maps a char-boundary offset of the decoded text to the original bytes. The end of a
    /// replacement character maps to the end of the invalid sequence it stands for.
    pub fn original_offset(&self, decoded: usize) -> usize {
        if decoded >= self.text.len() {
            return self.original_len;
        }
        let idx = self.marks.partition_point(|&(d, _)| d <= decoded);
        match idx.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some(&(d, o)) => o + (decoded - d),
            None => decoded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_lossy_and_maps_offsets() {
        let bytes = b"ab\xffcd\xe2\x82xy\xc3\xa9z";
        let decoded = decode_lossy(bytes);
        assert_eq!(decoded.text(), String::from_utf8_lossy(bytes));
        let c = decoded.text().find('c').unwrap();
        assert_eq!(bytes[decoded.original_offset(c)], b'c');
        let x = decoded.text().find('x').unwrap();
        assert_eq!(bytes[decoded.original_offset(x)], b'x');
        let z = decoded.text().find('z').unwrap();
        assert_eq!(bytes[decoded.original_offset(z)], b'z');
        assert_eq!(decoded.original_offset(decoded.text().len()), bytes.len());
    }

    #[test]
    fn empty_input() {
        let decoded = decode_lossy(b"");
        assert_eq!(decoded.text(), "");
        assert_eq!(decoded.original_offset(0), 0);
    }
}
