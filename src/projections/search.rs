//! Search folding: the one text form that both the indexed text and the query are reduced to, so
//! that search gives the same answers on every backend (the database only compares folded text).
//!
//! Arabic: tashkeel and tatweel are removed; alef with hamza or madda and alef wasla fold to bare
//! alef, hamza on waw and on yaa to their bearers, taa marbuta to haa, alef maqsura to yaa; Arabic-
//! Indic digits to ASCII. Latin: lower case, accents removed ("Fès" and "fes" meet). Everything
//! that is not a letter or digit separates words.

use unicode_normalization::UnicodeNormalization;

/// Folds `text` for search: a lower-case, accent- and tashkeel-free string of words separated by
/// single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_mark(c) {
            continue;
        }
        let folded = fold_char(c);
        if folded.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(folded.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// The query's folded words, longest first, without duplicates.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = fold(query).split(' ').map(str::to_owned).collect();
    terms.retain(|t| !t.is_empty());
    terms.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    terms.dedup();
    terms
}

/// Whether folded `haystack` contains every term (each as a substring).
pub fn matches_all(haystack: &str, terms: &[String]) -> bool {
    terms.iter().all(|t| haystack.contains(t.as_str()))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Combining marks: Latin accents after NFD, Arabic tashkeel and Quranic annotation marks.
fn is_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'   // Latin combining diacritics
        | '\u{0610}'..='\u{061A}' // Arabic honorific and small signs
        | '\u{064B}'..='\u{065F}' // tashkeel: fathatan .. wavy hamza below
        | '\u{0670}'              // superscript alef
        | '\u{06D6}'..='\u{06ED}' // Quranic annotation marks
        | '\u{0640}'              // tatweel
        | '\u{200C}'..='\u{200F}' // zero-width joiners and direction marks
    )
}

fn fold_char(c: char) -> char {
    match c {
        'أ' | 'إ' | 'آ' | 'ٱ' | 'ٲ' | 'ٳ' => 'ا',
        'ؤ' => 'و',
        'ئ' => 'ي',
        'ة' => 'ه',
        'ى' | 'ی' => 'ي',
        'ک' => 'ك',
        '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10).unwrap_or(c),
        '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hamza_forms_of_alef_meet() {
        assert_eq!(fold("الإقتصاد"), fold("الاقتصاد"));
        assert_eq!(fold("أحمد"), fold("احمد"));
        assert_eq!(fold("آمنة"), fold("امنه"));
    }

    #[test]
    fn taa_marbuta_and_alef_maqsura_fold() {
        assert_eq!(fold("جهة"), fold("جهه"));
        assert_eq!(fold("مستوى"), fold("مستوي"));
    }

    #[test]
    fn tashkeel_and_tatweel_are_dropped() {
        assert_eq!(fold("الاقْتِصَادُ"), "الاقتصاد");
        assert_eq!(fold("عـــاجل"), "عاجل");
    }

    #[test]
    fn latin_is_case_and_accent_insensitive() {
        assert_eq!(fold("Fès-Meknès"), "fes meknes");
        assert!(fold("Région Fès-Meknès").contains(&fold("fes")));
        assert_eq!(fold("e\u{301}CONOMIE  Sociale"), "economie sociale");
    }

    #[test]
    fn digits_and_separators() {
        assert_eq!(fold("٢٠٢٥ - 2025"), "2025 2025");
        assert_eq!(fold("  «تمكين»  "), "تمكين");
    }

    #[test]
    fn query_terms_are_folded_deduplicated_longest_first() {
        assert_eq!(query_terms("fes  FÈS économie"), vec!["economie", "fes"]);
        assert!(query_terms(" - ").is_empty());
        assert!(matches_all(
            &fold("الاقتصاد الاجتماعي بفاس"),
            &query_terms("الإقتصاد فاس")
        ));
        assert!(!matches_all(
            &fold("الاقتصاد"),
            &query_terms("الإقتصاد مكناس")
        ));
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
