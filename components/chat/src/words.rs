//! A message as words: each keeps its original spelling (for titles) and a
//! lower-case, punctuation-free form (for matching).

#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub original: String,
    pub key: String,
}

pub fn split(text: &str) -> Vec<Word> {
    text.split_whitespace()
        .map(|original| Word {
            original: original.to_string(),
            key: original
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '#' && c != ':')
                .trim_end_matches(':')
                .to_lowercase(),
        })
        .filter(|w| !w.original.is_empty())
        .collect()
}

/// The words' original text, joined, without surrounding punctuation that
/// only framed the sentence.
pub fn join(words: &[Word]) -> String {
    let text = words
        .iter()
        .map(|w| w.original.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    text.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ':' | ';' | '"' | '\'')
    })
    .to_string()
}

/// Whether `words` starts with the phrase `phrase` (space-separated keys).
pub fn starts_with(words: &[Word], phrase: &str) -> bool {
    let keys: Vec<&str> = phrase.split(' ').collect();
    words.len() >= keys.len() && words.iter().zip(&keys).all(|(w, k)| w.key == *k)
}

/// Removes the first phrase in `phrases` that `words` starts with; true if one was.
pub fn strip_prefix(words: &mut Vec<Word>, phrases: &[&str]) -> bool {
    for phrase in phrases {
        if starts_with(words, phrase) {
            words.drain(..phrase.split(' ').count());
            return true;
        }
    }
    false
}

/// Removes a trailing phrase in `phrases`; true if one was.
pub fn strip_suffix(words: &mut Vec<Word>, phrases: &[&str]) -> bool {
    for phrase in phrases {
        let count = phrase.split(' ').count();
        if words.len() >= count && starts_with(&words[words.len() - count..], phrase) {
            words.truncate(words.len() - count);
            return true;
        }
    }
    false
}

/// The position of the first occurrence of `phrase`.
pub fn find(words: &[Word], phrase: &str) -> Option<usize> {
    (0..words.len()).find(|&i| starts_with(&words[i..], phrase))
}
