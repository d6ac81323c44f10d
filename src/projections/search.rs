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

/// Whether folded `haystack` has a word beginning with every term ([`word_match`]).
pub fn matches_all(haystack: &str, terms: &[String]) -> bool {
    terms.iter().all(|t| word_match(haystack, t).is_some())
}

/// How a query term met a word of a text: the word begins with the term, or is the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WordMatch {
    /// A word begins with the term ("fes" in "fesneau").
    Prefix,
    /// A word is the term ("fes" in "fes meknes").
    Exact,
}

/// Arabic proclitics written joined to the next word, longest first: the article (ال), and the
/// conjunctions and prepositions و، ف، ب، ك، ل with or without it (لل is ل + ال).
const PROCLITICS: [&str; 13] = [
    "وال", "فال", "بال", "كال", "ولل", "فلل", "ال", "لل", "و", "ف", "ب", "ك", "ل",
];

/// The shortest stem a proclitic may leave: shorter remainders are words of their own (بر، ول).
const MIN_STEM: usize = 2;

fn is_arabic(c: char) -> bool {
    ('\u{0600}'..='\u{06FF}').contains(&c)
}

/// The forms of a folded word that a term is compared with: the word itself and, for an Arabic
/// word, the word without each proclitic it may begin with ("بفاس" is also "فاس", "والاقتصاد"
/// also "الاقتصاد" and "اقتصاد").
fn word_forms(word: &str) -> impl Iterator<Item = &str> {
    let arabic = word.chars().next().is_some_and(is_arabic);
    let stems = PROCLITICS.iter().filter_map(move |clitic| {
        let stem = word.strip_prefix(clitic).filter(|_| arabic)?;
        (stem.chars().count() >= MIN_STEM).then_some(stem)
    });
    std::iter::once(word).chain(stems)
}

/// The forms of a folded query term: the term and, for an Arabic term with the article, the
/// term without it ("الاقتصاد" also finds "اقتصاد"). Other proclitics are kept: a query's first
/// letter is the user's.
pub fn term_forms(term: &str) -> impl Iterator<Item = &str> {
    let bare = term
        .strip_prefix("ال")
        .filter(|stem| stem.chars().next().is_some_and(is_arabic))
        .filter(|stem| stem.chars().count() >= MIN_STEM);
    std::iter::once(term).chain(bare)
}

/// The best way `term` (folded, one word) meets a word of folded `text`: `Exact` when a word,
/// or an Arabic word without its proclitic, is the term; `Prefix` when one begins with it;
/// `None` when no word does. Words are whole: "fes" meets "fes" and "fesneau", never
/// "professional".
pub fn word_match(text: &str, term: &str) -> Option<WordMatch> {
    let mut best = None;
    for word in text.split(' ') {
        for form in word_forms(word) {
            for wanted in term_forms(term) {
                if form == wanted {
                    return Some(WordMatch::Exact);
                }
                if form.starts_with(wanted) {
                    best = Some(WordMatch::Prefix);
                }
            }
        }
    }
    best
}

/// Points of one term's best match, so that an exact word outranks a prefix, and, among equal
/// matches, the title outranks the rest of the text.
fn points(in_title: Option<WordMatch>, anywhere: Option<WordMatch>) -> Option<i64> {
    Some(match (in_title, anywhere?) {
        (Some(WordMatch::Exact), _) => 4,
        (_, WordMatch::Exact) => 3,
        (Some(WordMatch::Prefix), _) => 2,
        (None, WordMatch::Prefix) => 1,
    })
}

/// The score of a text for the query `terms` (folded, [`query_terms`]): for each term, 4 for a
/// word of the title that is the term, 3 for such a word elsewhere, 2 for a word of the title
/// that begins with it, 1 for such a word elsewhere; summed over the terms. `None` when some
/// term meets no word: every term must match. `title` and `text` are folded, `text` includes
/// the title.
pub fn score(title: &str, text: &str, terms: &[String]) -> Option<i64> {
    terms.iter().try_fold(0_i64, |total, term| {
        let p = points(word_match(title, term), word_match(text, term))?;
        total.checked_add(p)
    })
}

/// The prefixes a folded query term is looked up by in the word indexes (migration 0016): its
/// forms ([`term_forms`]) and, for an Arabic form, the form after each proclitic, since an
/// indexed word keeps its proclitics ("تصدير" is looked up as "تصدير", "والتصدير", "بتصدير"...).
/// A word begins with one of these exactly when [`word_match`] finds the term in it (for terms of
/// two letters or more; a one-letter Arabic term may also meet a word whose stem is that letter).
pub fn term_prefixes(term: &str) -> Vec<String> {
    let mut prefixes = Vec::new();
    for form in term_forms(term) {
        prefixes.push(form.to_owned());
        if form.chars().next().is_some_and(is_arabic) {
            prefixes.extend(PROCLITICS.iter().map(|clitic| format!("{clitic}{form}")));
        }
    }
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// Which database's word index a [`words_query`] is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordIndex {
    /// SQLite's FTS5: `("a"* OR "b"*) AND ("c"*)`.
    Fts5,
    /// PostgreSQL's text search, `'simple'` configuration: `('a':* | 'b':*) & ('c':*)`.
    TsQuery,
}

/// The word-index query that selects the texts where every term ([`query_terms`]) begins a word
/// (through [`term_prefixes`]); `None` without terms. Terms are folded, so they hold only letters
/// and digits: nothing in them is query syntax, and each is quoted all the same.
pub fn words_query(terms: &[String], index: WordIndex) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let (or, and) = match index {
        WordIndex::Fts5 => (" OR ", " AND "),
        WordIndex::TsQuery => (" | ", " & "),
    };
    let groups: Vec<String> = terms
        .iter()
        .map(|term| {
            let alternatives: Vec<String> = term_prefixes(term)
                .iter()
                .map(|prefix| match index {
                    WordIndex::Fts5 => format!("\"{}\"*", prefix.replace('"', "\"\"")),
                    WordIndex::TsQuery => format!("'{}':*", prefix.replace('\'', "''")),
                })
                .collect();
            format!("({})", alternatives.join(or))
        })
        .collect();
    Some(groups.join(and))
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
    fn an_arabic_term_is_looked_up_after_every_proclitic_and_without_its_article() {
        let prefixes = term_prefixes(&fold("التصدير"));
        for wanted in [
            "التصدير",
            "والتصدير",
            "بالتصدير",
            "تصدير",
            "وتصدير",
            "لتصدير",
        ] {
            assert!(prefixes.iter().any(|p| p == wanted), "{wanted}");
        }
        assert_eq!(
            term_prefixes("fes"),
            ["fes"],
            "a Latin word is its own prefix"
        );
        // Whatever the proclitic, a word that a prefix begins is a word the term matches.
        for word in ["والتصدير", "بتصديره", "التصديرية", "تصدير"] {
            let term = fold("التصدير");
            let by_index = prefixes.iter().any(|p| word.starts_with(p.as_str()));
            assert_eq!(by_index, word_match(word, &term).is_some(), "{word}");
        }
    }

    #[test]
    fn words_queries_quote_every_prefix_in_each_dialect() {
        let terms = query_terms("Fès 2025");
        assert_eq!(
            words_query(&terms, WordIndex::Fts5).as_deref(),
            Some("(\"2025\"*) AND (\"fes\"*)")
        );
        assert_eq!(
            words_query(&terms, WordIndex::TsQuery).as_deref(),
            Some("('2025':*) & ('fes':*)")
        );
        assert_eq!(words_query(&[], WordIndex::Fts5), None);
    }

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
    fn terms_match_words_from_their_start() {
        let fes = fold("fes");
        assert_eq!(word_match(&fold("Fès"), &fes), Some(WordMatch::Exact));
        assert_eq!(
            word_match(&fold("Région Fès-Meknès"), &fes),
            Some(WordMatch::Exact)
        );
        assert_eq!(word_match(&fold("Fesneau"), &fes), Some(WordMatch::Prefix));
        assert_eq!(word_match(&fold("professional"), &fes), None);
        assert_eq!(word_match(&fold("confession"), &fes), None);
        assert!(!matches_all(
            &fold("professional training"),
            &query_terms("fes")
        ));
    }

    #[test]
    fn arabic_words_match_without_their_proclitics() {
        // The article, and a preposition, on the text's word.
        assert_eq!(
            word_match(&fold("الاقتصاد"), &fold("اقتصاد")),
            Some(WordMatch::Exact)
        );
        assert_eq!(
            word_match(&fold("لقاء بفاس"), &fold("فاس")),
            Some(WordMatch::Exact)
        );
        assert_eq!(
            word_match(&fold("والاقتصاد"), &fold("الإقتصاد")),
            Some(WordMatch::Exact)
        );
        assert_eq!(
            word_match(&fold("للتنمية"), &fold("تنمي")),
            Some(WordMatch::Prefix)
        );
        // The query's article is optional too; folding still applies.
        assert_eq!(
            word_match(&fold("اقتصاد المعرفة"), &fold("الإقتصاد")),
            Some(WordMatch::Exact)
        );
        assert_eq!(
            word_match(&fold("جهة فاس مكناس"), &fold("جهه")),
            Some(WordMatch::Exact)
        );
        // A word inside another is not a match: "فاس" is not in "انفاس".
        assert_eq!(word_match(&fold("انفاس"), &fold("فاس")), None);
    }

    #[test]
    fn exact_words_outrank_prefixes_and_titles_the_rest() {
        let terms = query_terms("fes");
        let title_exact = score("fes meknes", "fes meknes export", &terms);
        let body_exact = score("export", "export fes", &terms);
        let title_prefix = score("fesneau", "fesneau export", &terms);
        let body_prefix = score("export", "export fesneau", &terms);
        assert_eq!(
            (title_exact, body_exact, title_prefix, body_prefix),
            (Some(4), Some(3), Some(2), Some(1))
        );
        assert_eq!(score("export", "export professional", &terms), None);
        // Every term must match; points add up.
        let two = query_terms("fes export");
        assert_eq!(score("fes", "fes export", &two), Some(7));
        assert_eq!(score("fes", "fes", &two), None);
    }
}
