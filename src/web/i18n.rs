//! The web app's languages: Arabic (right to left, the default) and French.
//!
//! Every word a page shows comes from a Fluent catalogue (`src/web/locales/{ar,fr}/*.ftl`,
//! embedded in the binary); Fluent applies each language's CLDR plural rules (Arabic has six
//! categories: zero, one, two, few, many, other). The language is the `shura_lang` cookie when
//! set, else the best match of `Accept-Language`, else Arabic.
//!
//! Numbers, dates and amounts are formatted here for Morocco's conventions (CLDR `ar-MA` and
//! `fr-MA`): Latin digits in both languages, a comma before decimals, a dot between thousands in
//! Arabic and a narrow no-break space in French; month names come from the catalogues (the
//! Moroccan Arabic names: يناير، فبراير... نونبر، دجنبر). Amounts are shown with every digit
//! the record holds: nothing is rounded.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};
use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_decimal::Decimal;
use unic_langid::LanguageIdentifier;

use crate::domain::common::{PartialDate, Text};

/// The cookie that keeps the language chosen with the switch.
pub const LANG_COOKIE: &str = "shura_lang";

/// A language of the web app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Arabic, right to left; the default.
    Ar,
    /// French.
    Fr,
}

impl Lang {
    /// Both, the default first.
    pub const ALL: [Lang; 2] = [Lang::Ar, Lang::Fr];

    /// The BCP 47 code (`<html lang>`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::Fr => "fr",
        }
    }

    /// The writing direction (`<html dir>`).
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::Fr => "ltr",
        }
    }

    /// The language of a code (`ar`, `fr`), if it is one of ours.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ar" => Some(Lang::Ar),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The language of a request: its cookie, else `Accept-Language`, else Arabic.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        if let Some(lang) = super::session::cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::Ar, Lang::negotiate)
    }

    /// The best of ours for an `Accept-Language` value (its order; Arabic when none matches).
    pub fn negotiate(accept: &str) -> Lang {
        // A header is bounded by the server, but a language list needs no more than this.
        let accept: String = accept.chars().take(512).collect();
        let requested = fluent_langneg::accepted_languages::parse(&accept);
        let available: Vec<LanguageIdentifier> = Lang::ALL
            .iter()
            .filter_map(|l| l.code().parse().ok())
            .collect();
        let default = available.first();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            default,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|l| Lang::parse(l.language.as_str()))
            .unwrap_or(Lang::Ar)
    }

    fn index(self) -> usize {
        match self {
            Lang::Ar => 0,
            Lang::Fr => 1,
        }
    }
}

/// The catalogues, per language: one file per area of the app.
macro_rules! catalogues {
    ($($area:literal),* $(,)?) => {
        /// The Arabic catalogue files.
        const AR: &[(&str, &str)] = &[$(($area, include_str!(concat!("locales/ar/", $area, ".ftl")))),*];
        /// The French catalogue files.
        const FR: &[(&str, &str)] = &[$(($area, include_str!(concat!("locales/fr/", $area, ".ftl")))),*];
    };
}

catalogues!(
    "common",
    "rules",
    "dashboard",
    "consultations",
    "meeting",
    "board",
    "stakeholders",
    "audit"
);

type Bundle = FluentBundle<FluentResource>;

/// Builds a language's bundle. A catalogue that does not parse is a build defect, caught by the
/// unit tests below; at run time its broken entries are left out and logged.
fn bundle(lang: Lang) -> Bundle {
    let mut bundle = FluentBundle::new_concurrent(vec![lang
        .code()
        .parse::<LanguageIdentifier>()
        .unwrap_or_default()]);
    let files = match lang {
        Lang::Ar => AR,
        Lang::Fr => FR,
    };
    for (area, source) in files {
        let resource = match FluentResource::try_new((*source).to_owned()) {
            Ok(resource) => resource,
            Err((resource, errors)) => {
                tracing::error!(lang = lang.code(), area, ?errors, "catalogue errors");
                resource
            }
        };
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(lang = lang.code(), area, ?errors, "catalogue conflicts");
        }
    }
    bundle
}

fn bundles() -> &'static [Bundle; 2] {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| [bundle(Lang::Ar), bundle(Lang::Fr)])
}

/// The translator of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// Its language.
    pub lang: Lang,
}

impl Tr {
    /// A translator for `lang`.
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = &bundles()[self.lang.index()];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(lang = self.lang.code(), id, "missing message");
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(lang = self.lang.code(), id, ?errors, "message errors");
        }
        text.into_owned()
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1<'a>(&self, id: &str, name: &'a str, value: impl Into<FluentValue<'a>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value);
        self.format(id, Some(&args))
    }

    /// The message `id` with the argument `count` (plural rules select on it), formatted as a
    /// number of this language by [`Tr::int`] where the message shows it as `{ $n }`.
    pub fn count(&self, id: &str, count: impl std::borrow::Borrow<i64>) -> String {
        let count = *count.borrow();
        let mut args = FluentArgs::new();
        args.set("count", plural_selector(self.lang, count));
        args.set("n", self.int(count));
        self.format(id, Some(&args))
    }

    /// The message `id` with named string arguments.
    pub fn args(&self, id: &str, values: &[(&str, String)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(*name, value.clone());
        }
        self.format(id, Some(&args))
    }

    /// The message of a closed value (an enum's snake_case name): `prefix-value`, or the value
    /// itself when the catalogue has none (a value added to the domain before its translation).
    pub fn value(&self, prefix: &str, value: &str) -> String {
        let id = format!("{prefix}-{}", value.replace('_', "-"));
        if bundles()[self.lang.index()].has_message(&id) {
            self.t(&id)
        } else {
            value.to_owned()
        }
    }

    fn separators(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Ar => (".", ","),
            Lang::Fr => ("\u{202f}", ","),
        }
    }

    /// An integer with this language's grouping.
    pub fn int(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let (group, _) = self.separators();
        group_digits(&n.unsigned_abs().to_string(), group, n < 0)
    }

    /// An exact decimal: every digit kept, grouped, with this language's decimal comma.
    pub fn decimal(&self, d: &Decimal) -> String {
        let (group, point) = self.separators();
        let text = d.abs().to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let mut out = group_digits(whole, group, d.is_sign_negative() && !d.is_zero());
        if !fraction.is_empty() {
            out.push_str(point);
            out.push_str(fraction);
        }
        out
    }

    /// An amount with its currency: `1 250 000 000 MAD` in French, `1.250.000.000 د.م.` in
    /// Arabic (the dirham's CLDR symbol); other currencies keep their ISO code.
    pub fn money(&self, amount: &Decimal, currency: &str) -> String {
        let currency = match (self.lang, currency) {
            (Lang::Ar, "MAD") => "د.م.",
            (_, code) => code,
        };
        // A no-break space keeps the amount and its currency on one line.
        format!("{}\u{a0}{currency}", self.decimal(amount))
    }

    fn month(&self, month: u32) -> String {
        self.t(&format!("month-{month}"))
    }

    /// A day: `3 novembre 2025`, `3 نونبر 2025`.
    pub fn date(&self, date: NaiveDate) -> String {
        format!(
            "{} {} {}",
            date.day(),
            self.month(date.month()),
            date.year()
        )
    }

    /// A date as precisely as it is known: a year, a month of a year, a day; with its weekday
    /// when stated.
    pub fn partial_date(&self, date: &PartialDate) -> String {
        let mut parts = Vec::new();
        if let Some(weekday) = &date.weekday {
            let name = serde_json::to_value(weekday)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            parts.push(self.value("weekday", &name));
        }
        if let Some(day) = date.day {
            parts.push(day.to_string());
        }
        if let Some(month) = date.month {
            parts.push(self.month(u32::from(month)));
        }
        if let Some(year) = date.year {
            parts.push(year.to_string());
        }
        if parts.is_empty() {
            return self.t("date-unknown");
        }
        parts.join(" ")
    }

    /// A region's name in this language (the code itself when unknown).
    pub fn region(&self, code: &str) -> String {
        match crate::domain::region::Region::find(code) {
            Some(region) => match self.lang {
                Lang::Ar => region.name_ar.to_owned(),
                Lang::Fr => region.name_fr.to_owned(),
            },
            None => code.to_owned(),
        }
    }

    /// Every region, as (code, name) in this language, in code order.
    pub fn regions(&self) -> Vec<(String, String)> {
        crate::domain::region::REGIONS
            .iter()
            .map(|r| (r.code.to_owned(), self.region(r.code)))
            .collect()
    }

    /// A day stored as `YYYY-MM-DD` in a read model, formatted (as stored when it is not one).
    pub fn iso_date(&self, iso: &str) -> String {
        NaiveDate::parse_from_str(iso, "%Y-%m-%d").map_or_else(|_| iso.to_owned(), |d| self.date(d))
    }

    /// A text in this language when the record has it, else in the other (then marked with its
    /// own `lang`, and `dir="auto"` so that a French title reads left to right on an Arabic page).
    pub fn text<'a>(&self, text: &'a Text) -> Shown<'a> {
        let order: [(&'static str, &Option<String>); 3] = match self.lang {
            Lang::Ar => [("ar", &text.ar), ("fr", &text.fr), ("en", &text.en)],
            Lang::Fr => [("fr", &text.fr), ("ar", &text.ar), ("en", &text.en)],
        };
        order
            .into_iter()
            .find_map(|(lang, value)| value.as_deref().map(|v| (lang, v)))
            .map(|(lang, value)| Shown {
                value: Cow::Borrowed(value),
                lang,
                own: lang == self.lang.code(),
            })
            .unwrap_or(Shown {
                value: Cow::Borrowed(""),
                lang: self.lang.code(),
                own: true,
            })
    }

    /// [`Tr::text`] of an optional text (empty when absent).
    pub fn opt_text<'a>(&self, text: &'a Option<Text>) -> Shown<'a> {
        match text {
            Some(text) => self.text(text),
            None => Shown {
                value: Cow::Borrowed(""),
                lang: self.lang.code(),
                own: true,
            },
        }
    }
}

/// A text shown on a page, escaped, in a `<span lang dir="auto">` when it is not in the page's
/// language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown<'a> {
    /// The text.
    pub value: Cow<'a, str>,
    /// Its language code.
    pub lang: &'static str,
    /// Whether that is the page's language.
    pub own: bool,
}

impl Shown<'_> {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped =
            askama::filters::escape(&self.value, askama::filters::Html).map_err(|_| fmt::Error)?;
        if self.own {
            write!(f, "{escaped}")
        } else {
            write!(
                f,
                "<span lang=\"{}\" dir=\"auto\">{escaped}</span>",
                self.lang
            )
        }
    }
}

// The value is escaped above; the markup around it is ours.
impl askama::filters::HtmlSafe for Shown<'_> {}

/// The number a message's plural is selected on. CLDR's Arabic rules look at the last two digits
/// (few: n % 100 in 3..10, many: n % 100 in 11..99), but intl_pluralrules 7.0 tests the whole
/// number, so that 103 days would read as "other" (يوم) instead of "few" (أيام). For Arabic, a
/// count from 100 on is selected by a small number of the same category.
fn plural_selector(lang: Lang, count: i64) -> i64 {
    let n = count.unsigned_abs();
    if lang != Lang::Ar || n < 100 {
        return count;
    }
    match n % 100 {
        3..=10 => 3,
        11..=99 => 11,
        _ => 100,
    }
}

fn group_digits(digits: &str, group: &str, negative: bool) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * group.len() + 1);
    if negative {
        out.push('-');
    }
    let len = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push_str(group);
        }
        out.push(c);
    }
    out
}

/// Every message id of a language's catalogues (for the completeness tests).
pub fn message_ids(lang: Lang) -> Vec<String> {
    let files = match lang {
        Lang::Ar => AR,
        Lang::Fr => FR,
    };
    let mut ids = Vec::new();
    for (_, source) in files {
        let resource = match FluentResource::try_new((*source).to_owned()) {
            Ok(resource) | Err((resource, _)) => resource,
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(message) = entry {
                ids.push(message.id.name.to_owned());
            }
        }
    }
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_both_languages_have_the_same_messages() {
        for lang in Lang::ALL {
            let files = match lang {
                Lang::Ar => AR,
                Lang::Fr => FR,
            };
            for (area, source) in files {
                assert!(
                    FluentResource::try_new((*source).to_owned()).is_ok(),
                    "{}/{area}.ftl does not parse",
                    lang.code()
                );
            }
            let mut bundle = FluentBundle::new_concurrent(vec![lang
                .code()
                .parse::<LanguageIdentifier>()
                .unwrap()]);
            for (area, source) in files {
                let resource = FluentResource::try_new((*source).to_owned()).unwrap();
                assert!(
                    bundle.add_resource(resource).is_ok(),
                    "{}/{area}.ftl repeats an id",
                    lang.code()
                );
            }
        }
        let (ar, fr) = (message_ids(Lang::Ar), message_ids(Lang::Fr));
        let only_ar: Vec<_> = ar.iter().filter(|id| !fr.contains(id)).collect();
        let only_fr: Vec<_> = fr.iter().filter(|id| !ar.contains(id)).collect();
        assert!(only_ar.is_empty(), "missing in French: {only_ar:?}");
        assert!(only_fr.is_empty(), "missing in Arabic: {only_fr:?}");
    }

    #[test]
    fn arabic_plurals_follow_cldr() {
        let ar = Tr::new(Lang::Ar);
        let forms: Vec<String> = [0, 1, 2, 3, 11, 100]
            .iter()
            .map(|n| ar.count("overdue-count", *n))
            .collect();
        // zero, one, two, few, many, other: six different sentences.
        let mut distinct = forms.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 6, "{forms:?}");
        let fr = Tr::new(Lang::Fr);
        assert_ne!(fr.count("overdue-count", 1), fr.count("overdue-count", 2));
        // Hundreds follow their last two digits: 103 as 3 (few), 111 as 11 (many), 200 other.
        let strip = |s: String| s.replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(strip(ar.count("overdue-count", 103)), "103 إجراءات متأخرة");
        assert_eq!(strip(ar.count("overdue-count", 111)), "111 إجراءً متأخرًا");
        assert_eq!(strip(ar.count("overdue-count", 200)), "200 إجراء متأخر");
        assert_eq!(
            strip(ar.count("overdue-count", 1_000_003)),
            "1.000.003 إجراءات متأخرة"
        );
    }

    #[test]
    fn languages_come_from_accept_language_with_arabic_when_unsure() {
        assert_eq!(Lang::negotiate("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(Lang::negotiate("ar-MA,fr;q=0.5"), Lang::Ar);
        assert_eq!(Lang::negotiate("en-US,en;q=0.9"), Lang::Ar);
        assert_eq!(Lang::negotiate("de, fr-CA"), Lang::Fr);
        assert_eq!(Lang::negotiate(""), Lang::Ar);
        assert_eq!(Lang::negotiate(&"x,".repeat(100_000)), Lang::Ar);
    }

    #[test]
    fn numbers_and_amounts_keep_every_digit_in_each_convention() {
        let (ar, fr) = (Tr::new(Lang::Ar), Tr::new(Lang::Fr));
        let amount: Decimal = "1250000000.05".parse().unwrap();
        assert_eq!(
            fr.money(&amount, "MAD"),
            "1\u{202f}250\u{202f}000\u{202f}000,05\u{a0}MAD"
        );
        assert_eq!(ar.money(&amount, "MAD"), "1.250.000.000,05\u{a0}د.م.");
        assert_eq!(fr.int(-1234), "-1\u{202f}234");
        assert_eq!(fr.int(999), "999");
        let max: Decimal = "1000000000000000".parse().unwrap();
        assert_eq!(ar.decimal(&max), "1.000.000.000.000.000");
        assert_eq!(ar.int(i64::MIN), "-9.223.372.036.854.775.808");
    }

    #[test]
    fn dates_are_as_precise_as_known() {
        let (ar, fr) = (Tr::new(Lang::Ar), Tr::new(Lang::Fr));
        let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        assert_eq!(fr.date(day), "3 novembre 2025");
        assert_eq!(ar.date(day), "3 نونبر 2025");
        let month = PartialDate {
            year: Some(2025),
            month: Some(12),
            day: None,
            weekday: None,
        };
        assert_eq!(fr.partial_date(&month), "décembre 2025");
        assert_eq!(ar.partial_date(&month), "دجنبر 2025");
    }

    #[test]
    fn texts_fall_back_to_the_other_language_marked_as_such() {
        let ar = Tr::new(Lang::Ar);
        let text = Text {
            ar: None,
            fr: Some("Réunion <b>".into()),
            en: None,
        };
        assert_eq!(
            ar.text(&text).to_string(),
            "<span lang=\"fr\" dir=\"auto\">Réunion &#60;b&#62;</span>"
        );
        let both = Text {
            ar: Some("اجتماع".into()),
            fr: Some("Réunion".into()),
            en: None,
        };
        assert_eq!(ar.text(&both).to_string(), "اجتماع");
    }
}
