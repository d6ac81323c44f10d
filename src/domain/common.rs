//! Value types shared by every aggregate (multilingual text, partial dates,
//! money, periods, press sources, places) and the small validation helpers
//! that turn a broken value into a [`DomainError`] naming its field.
//!
//! Every free string a command carries goes through [`check_required_str`]
//! (or [`check_reason`]): non-blank (whitespace and invisible format
//! characters alone are blank), bounded, and without control characters.
//!
//! These value types do not refuse unknown fields: stored events embed them,
//! and an event written by another version of Shura must keep decoding. The
//! command structs refuse unknown fields at their own level instead.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{DomainError, Rule};
use super::region::RegionCode;

/// Longest name, title, capacity or place name, in characters.
pub const SHORT_TEXT_MAX: usize = 500;
/// Longest description, note, recommendation or point, in characters.
pub const LONG_TEXT_MAX: usize = 10_000;
/// Longest reason given for a change, in characters.
pub const REASON_MAX: usize = 2_000;
/// Longest acronym, unit or other code-like string, in characters.
pub const CODE_MAX: usize = 32;
/// Longest URL or document reference, in characters.
pub const URL_MAX: usize = 2_048;
/// Longest theme slug, in characters.
pub const SLUG_MAX: usize = 64;
/// Earliest year accepted in a [`PartialDate`].
pub const YEAR_MIN: i32 = 1900;
/// Latest year accepted in a [`PartialDate`].
pub const YEAR_MAX: i32 = 2100;

/// Shorthand used by every aggregate to reject a field.
pub(crate) fn reject<T>(field: impl Into<String>, rule: Rule) -> Result<T, DomainError> {
    Err(DomainError::validation(field, rule))
}

/// Joins a field path and a sub-field: `at("parties[2]", "organisation_id")`.
pub(crate) fn at(prefix: &str, field: &str) -> String {
    format!("{prefix}.{field}")
}

/// Names one element of a list field: `nth("parties", 2)` is `parties[2]`.
pub(crate) fn nth(prefix: &str, index: usize) -> String {
    format!("{prefix}[{index}]")
}

/// Whether `c` is invisible on its own: whitespace (Unicode `White_Space`) or a
/// format character (General Category `Cf`: zero-width spaces and joiners,
/// bidirectional marks, embeddings, overrides and isolates, the byte order
/// mark, word joiner and invisible operators, soft hyphen, tags...).
///
/// The `Cf` ranges are Unicode 18's; a short match spares a Unicode table
/// crate for 21 ranges.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// Whether a string shows nothing: empty, or only whitespace and format
/// characters (`"\u{200f}\u{202e}"` is as blank as `"  "`).
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_invisible)
}

/// Whether `c` is a control character that no free string may hold: the C0
/// controls other than tab, line feed and carriage return, and DEL (U+007F).
/// PostgreSQL's TEXT cannot store NUL at all, and the others are never typed
/// on purpose; refusing them keeps both backends accepting the same input.
pub fn is_refused_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}')
}

/// The rule a free string breaks, if any, checked in this order: blank
/// (`Required`), longer than `max` characters (`TooLong`), holding a refused
/// control character (`ControlCharacter`). Shared by the domain's checks and
/// the event store's checks of `reason` and `idempotency_key`.
pub fn free_string_rule(value: &str, max: usize) -> Option<Rule> {
    if is_blank(value) {
        return Some(Rule::Required);
    }
    if value.chars().count() > max {
        return Some(Rule::TooLong { max });
    }
    value
        .chars()
        .find(|c| is_refused_control(*c))
        .map(|c| Rule::ControlCharacter {
            found: format!("U+{:04X}", u32::from(c)),
        })
}

/// Checks a required free string: non-blank, at most `max` characters and
/// without control characters (see [`free_string_rule`]).
pub(crate) fn check_required_str(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    match free_string_rule(value, max) {
        Some(rule) => reject(field, rule),
        None => Ok(()),
    }
}

/// Checks an optional free string: when given, it must pass
/// [`check_required_str`] (a blank one is refused: leave it out instead).
pub(crate) fn check_optional_str(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<(), DomainError> {
    match value {
        Some(value) => check_required_str(field, value, max),
        None => Ok(()),
    }
}

/// Checks the reason given for a change: non-blank (`ReasonRequired`), at
/// most [`REASON_MAX`] characters and without control characters.
pub(crate) fn check_reason(field: &str, reason: &str) -> Result<(), DomainError> {
    match free_string_rule(reason, REASON_MAX) {
        Some(Rule::Required) => reject(field, Rule::ReasonRequired),
        Some(rule) => reject(field, rule),
        None => Ok(()),
    }
}

/// Checks an optional reason: when given, as [`check_reason`].
pub(crate) fn check_optional_reason(
    field: &str,
    reason: &Option<String>,
) -> Result<(), DomainError> {
    match reason {
        Some(reason) => check_reason(field, reason),
        None => Ok(()),
    }
}

/// Checks a list of multilingual texts (each as [`Text::validate`]).
pub(crate) fn check_texts(field: &str, texts: &[Text], max: usize) -> Result<(), DomainError> {
    texts
        .iter()
        .enumerate()
        .try_for_each(|(i, text)| text.validate(&nth(field, i), max))
}

/// Checks theme tags: lowercase slugs (`a-z`, `0-9`, single inner hyphens),
/// each given once.
pub(crate) fn check_slugs(field: &str, slugs: &[String]) -> Result<(), DomainError> {
    for (i, slug) in slugs.iter().enumerate() {
        let path = nth(field, i);
        check_required_str(&path, slug, SLUG_MAX)?;
        let well_formed = slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && !slug.contains("--");
        if !well_formed {
            return reject(
                path,
                Rule::InvalidFormat {
                    expected: "a lowercase slug such as `export-promotion`".into(),
                },
            );
        }
        if slugs[..i].contains(slug) {
            return reject(path, Rule::Duplicate);
        }
    }
    Ok(())
}

/// Checks that a list of ids holds no id twice.
pub(crate) fn check_unique_ids(field: &str, ids: &[uuid::Uuid]) -> Result<(), DomainError> {
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return reject(nth(field, i), Rule::Duplicate);
        }
    }
    Ok(())
}

/// A string in up to three languages: Arabic first (right-to-left), then
/// French, then English.
///
/// Each language is optional but at least one must be non-blank. Strings are
/// kept byte for byte as given: no trimming, no Unicode normalisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    /// Arabic text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ar: Option<String>,
    /// French text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fr: Option<String>,
    /// English text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    /// A text known in Arabic only.
    pub fn ar(value: impl Into<String>) -> Self {
        Text {
            ar: Some(value.into()),
            ..Text::default()
        }
    }

    /// A text known in French only.
    pub fn fr(value: impl Into<String>) -> Self {
        Text {
            fr: Some(value.into()),
            ..Text::default()
        }
    }

    /// A text known in English only.
    pub fn en(value: impl Into<String>) -> Self {
        Text {
            en: Some(value.into()),
            ..Text::default()
        }
    }

    /// This text with its Arabic version set.
    pub fn with_ar(mut self, value: impl Into<String>) -> Self {
        self.ar = Some(value.into());
        self
    }

    /// This text with its French version set.
    pub fn with_fr(mut self, value: impl Into<String>) -> Self {
        self.fr = Some(value.into());
        self
    }

    /// This text with its English version set.
    pub fn with_en(mut self, value: impl Into<String>) -> Self {
        self.en = Some(value.into());
        self
    }

    /// The first language given, in the order Arabic, French, English.
    pub fn preferred(&self) -> Option<&str> {
        self.ar
            .as_deref()
            .or(self.fr.as_deref())
            .or(self.en.as_deref())
    }

    /// Checks that at least one language is non-blank, that no language is
    /// given blank (leave it out instead) and that none is longer than `max`
    /// characters. Errors name `field` or `field.ar`/`field.fr`/`field.en`.
    pub fn validate(&self, field: &str, max: usize) -> Result<(), DomainError> {
        if self.ar.is_none() && self.fr.is_none() && self.en.is_none() {
            return reject(field, Rule::Required);
        }
        for (lang, value) in [("ar", &self.ar), ("fr", &self.fr), ("en", &self.en)] {
            check_optional_str(&at(field, lang), value, max)?;
        }
        Ok(())
    }
}

/// A day of the week, as stated in a source ("يوم الثلاثاء", a Tuesday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// The English name, e.g. `Tuesday`.
    pub fn name(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Weekday::Monday,
            chrono::Weekday::Tue => Weekday::Tuesday,
            chrono::Weekday::Wed => Weekday::Wednesday,
            chrono::Weekday::Thu => Weekday::Thursday,
            chrono::Weekday::Fri => Weekday::Friday,
            chrono::Weekday::Sat => Weekday::Saturday,
            chrono::Weekday::Sun => Weekday::Sunday,
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A date known only in part, without inventing precision.
///
/// Any of year, month, day and weekday may be known: "a Tuesday in November
/// 2024" is `{year: 2024, month: 11, weekday: tuesday}`; "a Tuesday" (an
/// undated article) is `{weekday: tuesday}`; "February 2004" is
/// `{year: 2004, month: 2}`. The year is optional because some sources give
/// only a weekday, and inventing a year would lose the truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartialDate {
    /// The year, when known (1900-2100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The month 1-12, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    /// The day of the month, when known (needs the month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
    /// The weekday, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<Weekday>,
}

impl PartialDate {
    /// A year only, e.g. 2013.
    pub fn year(year: i32) -> Self {
        PartialDate {
            year: Some(year),
            ..PartialDate::default()
        }
    }

    /// A month of a year, e.g. February 2004.
    pub fn month(year: i32, month: u8) -> Self {
        PartialDate {
            year: Some(year),
            month: Some(month),
            ..PartialDate::default()
        }
    }

    /// A full date (no weekday stated).
    pub fn ymd(year: i32, month: u8, day: u8) -> Self {
        PartialDate {
            year: Some(year),
            month: Some(month),
            day: Some(day),
            weekday: None,
        }
    }

    /// Only a weekday, e.g. "a Tuesday".
    pub fn weekday_only(weekday: Weekday) -> Self {
        PartialDate {
            weekday: Some(weekday),
            ..PartialDate::default()
        }
    }

    /// This date with the stated weekday.
    pub fn with_weekday(mut self, weekday: Weekday) -> Self {
        self.weekday = Some(weekday);
        self
    }

    /// The exact calendar date, when year, month and day are all known and valid.
    pub fn to_naive_date(&self) -> Option<NaiveDate> {
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y, u32::from(m), u32::from(d)),
            _ => None,
        }
    }

    /// The earliest calendar day this date can be (needs the year).
    pub fn earliest(&self) -> Option<NaiveDate> {
        let year = self.year?;
        let month = self.month.unwrap_or(1);
        let day = if self.month.is_some() {
            self.day.unwrap_or(1)
        } else {
            1
        };
        NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))
    }

    /// The latest calendar day this date can be (needs the year).
    pub fn latest(&self) -> Option<NaiveDate> {
        let year = self.year?;
        match (self.month, self.day) {
            (Some(month), Some(day)) => {
                NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))
            }
            (Some(month), None) => last_day_of_month(year, u32::from(month)),
            (None, _) => NaiveDate::from_ymd_opt(year, 12, 31),
        }
    }

    /// Compares only what is known: `Some(Less)` when every day this date can
    /// be comes before every day `other` can be, `Some(Greater)` for the
    /// reverse, `Some(Equal)` when both are the same exact day, and `None`
    /// when the known parts cannot tell (overlap, or a year is unknown).
    pub fn cmp_known(&self, other: &PartialDate) -> Option<Ordering> {
        let (a_first, a_last) = (self.earliest()?, self.latest()?);
        let (b_first, b_last) = (other.earliest()?, other.latest()?);
        if a_last < b_first {
            Some(Ordering::Less)
        } else if a_first > b_last {
            Some(Ordering::Greater)
        } else if a_first == a_last && a_first == b_first && b_first == b_last {
            Some(Ordering::Equal)
        } else {
            None
        }
    }

    /// True only when this date is certainly before `other`.
    pub fn is_certainly_before(&self, other: &PartialDate) -> bool {
        self.cmp_known(other) == Some(Ordering::Less)
    }

    /// Checks the known parts: something is known, the year is 1900-2100,
    /// the month 1-12, the day exists in its month (and year when known), no
    /// day without a month, and a weekday agrees with a full date.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.year.is_none()
            && self.month.is_none()
            && self.day.is_none()
            && self.weekday.is_none()
        {
            return reject(field, Rule::Required);
        }
        if let Some(year) = self.year {
            if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
                return reject(
                    at(field, "year"),
                    Rule::OutOfRange {
                        min: i64::from(YEAR_MIN),
                        max: i64::from(YEAR_MAX),
                    },
                );
            }
        }
        if let Some(month) = self.month {
            if !(1..=12).contains(&month) {
                return reject(at(field, "month"), Rule::OutOfRange { min: 1, max: 12 });
            }
        }
        if let Some(day) = self.day {
            let Some(month) = self.month else {
                return reject(at(field, "day"), Rule::DayWithoutMonth);
            };
            if !(1..=31).contains(&day) {
                return reject(at(field, "day"), Rule::OutOfRange { min: 1, max: 31 });
            }
            // Without a year, 29 February is allowed: some year has it.
            let year = self.year.unwrap_or(2000);
            if NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day)).is_none() {
                return reject(at(field, "day"), Rule::InvalidDate);
            }
        }
        if let (Some(stated), Some(date)) = (self.weekday, self.to_naive_date()) {
            let actual = Weekday::from(date.weekday());
            if stated != actual {
                return reject(at(field, "weekday"), Rule::WeekdayMismatch { actual });
            }
        }
        Ok(())
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

impl From<NaiveDate> for PartialDate {
    fn from(date: NaiveDate) -> Self {
        // A NaiveDate's month and day always fit in a u8.
        PartialDate {
            year: Some(date.year()),
            month: u8::try_from(date.month()).ok(),
            day: u8::try_from(date.day()).ok(),
            weekday: None,
        }
    }
}

impl fmt::Display for PartialDate {
    /// `Tuesday 2017-10-03`, `2024-11`, `2013`, `????-11-28`, `Tuesday`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(weekday) = self.weekday {
            parts.push(weekday.name().to_string());
        }
        if self.year.is_some() || self.month.is_some() {
            let mut date = match self.year {
                Some(year) => format!("{year:04}"),
                None => "????".to_string(),
            };
            if let Some(month) = self.month {
                date.push_str(&format!("-{month:02}"));
                if let Some(day) = self.day {
                    date.push_str(&format!("-{day:02}"));
                }
            }
            parts.push(date);
        }
        f.write_str(&parts.join(" "))
    }
}

/// A span of time such as 2026-2028 or 2022-2025; the end is optional
/// (open-ended or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// When the period starts.
    pub start: PartialDate,
    /// When the period ends, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<PartialDate>,
}

impl Period {
    /// A period from one year to another, e.g. `Period::years(2026, 2028)`.
    pub fn years(start: i32, end: i32) -> Self {
        Period {
            start: PartialDate::year(start),
            end: Some(PartialDate::year(end)),
        }
    }

    /// Checks both dates and that the end is not certainly before the start.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        self.start.validate(&at(field, "start"))?;
        if let Some(end) = &self.end {
            end.validate(&at(field, "end"))?;
            if end.is_certainly_before(&self.start) {
                return reject(at(field, "end"), Rule::EndBeforeStart);
            }
        }
        Ok(())
    }
}

/// The largest amount of money accepted, in major units (dirhams, euros, yen):
/// 10^15, a thousand trillion. Any amount of any accepted currency is then at
/// most 10^18 minor units, which fits an `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// How many decimal places a currency's minor unit has (its ISO 4217
/// exponent): 0 for BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV
/// XAF XOF XPF, 3 for BHD IQD JOD KWD LYD OMR TND, and 2 for every other code
/// (MAD, EUR, USD...).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// An exact amount of money; the amount is a decimal serialised as a string
/// (never a float), the currency an ISO 4217 code (MAD typically).
///
/// Accepted amounts are `0 <= amount <= MAX_AMOUNT` with at most the
/// currency's [`minor_digits`] decimal places (trailing zeros aside).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The exact, non-negative amount.
    pub amount: Decimal,
    /// ISO 4217 code: three uppercase letters.
    pub currency: String,
}

impl Money {
    /// An amount in Moroccan dirhams.
    pub fn mad(amount: Decimal) -> Self {
        Money {
            amount,
            currency: "MAD".to_string(),
        }
    }

    /// Checks the currency shape, and that the amount is between 0 and
    /// [`MAX_AMOUNT`] (`NEGATIVE_AMOUNT`, `OUT_OF_RANGE`) with at most the
    /// currency's [`minor_digits`] decimal places (`TOO_MANY_DECIMALS`: 12.345
    /// MAD is refused, 12.340 MAD is 12.34). Errors name `field.currency` or
    /// `field.amount`.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        let well_formed =
            self.currency.len() == 3 && self.currency.chars().all(|c| c.is_ascii_uppercase());
        if !well_formed {
            return reject(
                at(field, "currency"),
                Rule::InvalidCurrency {
                    code: self.currency.clone(),
                },
            );
        }
        if self.amount < Decimal::ZERO {
            return reject(at(field, "amount"), Rule::NegativeAmount);
        }
        if self.amount > Decimal::from(MAX_AMOUNT) {
            return reject(
                at(field, "amount"),
                Rule::OutOfRange {
                    min: 0,
                    max: MAX_AMOUNT,
                },
            );
        }
        let max = minor_digits(&self.currency);
        if self.amount.normalize().scale() > max {
            return reject(at(field, "amount"), Rule::TooManyDecimals { max });
        }
        Ok(())
    }
}

/// Where a fact comes from: a press article or another document.
///
/// The publisher is optional because some articles do not name theirs; a
/// source must still identify itself by at least one of publisher, URL or
/// document reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// Who published it (newspaper, agency, ministry site), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Text>,
    /// The byline, when given (e.g. "احمد البوحساني").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Text>,
    /// Where it can be read (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its headline as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    /// When it was published, as far as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<PartialDate>,
    /// A document reference, e.g. the archived file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

impl Source {
    /// Checks each part, and that at least one of publisher, URL or document
    /// identifies the source.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.publisher.is_none() && self.url.is_none() && self.document.is_none() {
            return reject(at(field, "publisher"), Rule::Required);
        }
        if let Some(publisher) = &self.publisher {
            publisher.validate(&at(field, "publisher"), SHORT_TEXT_MAX)?;
        }
        if let Some(author) = &self.author {
            author.validate(&at(field, "author"), SHORT_TEXT_MAX)?;
        }
        if let Some(url) = &self.url {
            let path = at(field, "url");
            check_required_str(&path, url, URL_MAX)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return reject(
                    path,
                    Rule::InvalidFormat {
                        expected: "an http or https URL".into(),
                    },
                );
            }
        }
        if let Some(title) = &self.title {
            title.validate(&at(field, "title"), SHORT_TEXT_MAX)?;
        }
        if let Some(date) = &self.published_on {
            date.validate(&at(field, "published_on"))?;
        }
        check_optional_str(&at(field, "document"), &self.document, URL_MAX)
    }
}

/// How to reach a participant: personal data, shown only to those allowed to see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Telephone number, digits with optional `+`, spaces, dots, dashes and brackets.
    #[serde(default)]
    pub phone: Option<String>,
    /// Set (with no e-mail and no phone) when the details were erased: the key that sealed them
    /// in the log is destroyed (`crate::erasure`). Never given by a client.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

impl Contact {
    /// Checks the address and the number, naming `field.email` or `field.phone`.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.erased {
            return reject(
                at(field, "erased"),
                Rule::InvalidFormat {
                    expected: "no `erased` flag: only an erasure sets it".into(),
                },
            );
        }
        if self.email.is_none() && self.phone.is_none() {
            return reject(field, Rule::Required);
        }
        if let Some(email) = &self.email {
            let path = at(field, "email");
            check_required_str(&path, email, 254)?;
            let well_formed = match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !email.chars().any(char::is_whitespace)
                }
                None => false,
            };
            if !well_formed {
                return reject(
                    path,
                    Rule::InvalidFormat {
                        expected: "an e-mail address such as `name@example.ma`".into(),
                    },
                );
            }
        }
        if let Some(phone) = &self.phone {
            let path = at(field, "phone");
            check_required_str(&path, phone, 32)?;
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
            if !allowed || !(6..=15).contains(&digits) {
                return reject(
                    path,
                    Rule::InvalidFormat {
                        expected:
                            "a telephone number of 6 to 15 digits such as `+212 5 35 00 00 00`"
                                .into(),
                    },
                );
            }
        }
        Ok(())
    }
}

/// Where something took place: a venue (as stated), its city and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Place {
    /// The most precise place stated, e.g. "القاعة الكبرى لعمالة فاس".
    pub name: Text,
    /// The city, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    /// The region code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    /// Set when part of the place (typically its city or region) is not stated by the
    /// source but inferred, with why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<Inference>,
}

impl Place {
    /// Checks the name, city, region code and inference note.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        self.name.validate(&at(field, "name"), SHORT_TEXT_MAX)?;
        if let Some(city) = &self.city {
            city.validate(&at(field, "city"), SHORT_TEXT_MAX)?;
        }
        if let Some(region) = &self.region {
            region.validate(&at(field, "region"))?;
        }
        check_inference(&at(field, "inferred"), &self.inferred)
    }
}

/// Longest note explaining an inferred fact, in characters.
pub const INFERENCE_NOTE_MAX: usize = 2_000;

/// Marks a fact (a participant, post, party, name, acronym, place or region) that the
/// sources do not state but that was inferred from context or general knowledge, with a note
/// saying how. A fact without it is one the sources state.
///
/// Every field that carries one is optional and left out of events when absent, so events
/// written before inferences were recorded still decode (as stated facts) and keep their hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Inference {
    /// How the fact was inferred, e.g. "the article writes only the family name مزور".
    pub note: String,
}

impl Inference {
    /// An inference with this note.
    pub fn new(note: impl Into<String>) -> Self {
        Inference { note: note.into() }
    }

    /// Checks the note like any free string: non-blank, at most [`INFERENCE_NOTE_MAX`]
    /// characters, no control characters. Errors name `field.note`.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        check_required_str(&at(field, "note"), &self.note, INFERENCE_NOTE_MAX)
    }
}

/// Checks an optional [`Inference`] (see [`Inference::validate`]).
pub(crate) fn check_inference(
    field: &str,
    inferred: &Option<Inference>,
) -> Result<(), DomainError> {
    match inferred {
        Some(inference) => inference.validate(field),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(field: &str, rule: Rule) -> Result<(), DomainError> {
        Err(DomainError::validation(field, rule))
    }

    #[test]
    fn text_keeps_bytes_and_accepts_any_single_language() {
        let arabic = "  السيد مولاي حفيظ العلمي ";
        let text = Text::ar(arabic);
        assert_eq!(text.validate("title", 100), Ok(()));
        assert_eq!(text.ar.as_deref(), Some(arabic));
        assert_eq!(Text::fr("Fès").validate("title", 100), Ok(()));
        assert_eq!(Text::en("Fez").validate("title", 100), Ok(()));
        let json = serde_json::to_value(Text::ar("x").with_en("y")).unwrap();
        assert_eq!(json, serde_json::json!({"ar": "x", "en": "y"}));
        assert_eq!(Text::fr("a").with_ar("b").preferred(), Some("b"));
    }

    #[test]
    fn text_requires_one_language() {
        assert_eq!(
            Text::default().validate("title", 10),
            invalid("title", Rule::Required)
        );
    }

    #[test]
    fn text_rejects_a_blank_language() {
        assert_eq!(
            Text::ar("نص").with_fr("  ").validate("title", 10),
            invalid("title.fr", Rule::Required)
        );
    }

    #[test]
    fn text_rejects_too_long_language_counting_characters() {
        // Five Arabic letters are ten bytes but five characters.
        assert_eq!(Text::ar("ابتثج").validate("title", 5), Ok(()));
        assert_eq!(
            Text::ar("ابتثجح").validate("title", 5),
            invalid("title.ar", Rule::TooLong { max: 5 })
        );
    }

    #[test]
    fn partial_date_accepts_what_sources_state() {
        // "a Tuesday in November 2024"
        let date = PartialDate::month(2024, 11).with_weekday(Weekday::Tuesday);
        assert_eq!(date.validate("start"), Ok(()));
        // "Tuesday 3 October 2017" is indeed a Tuesday
        let date = PartialDate::ymd(2017, 10, 3).with_weekday(Weekday::Tuesday);
        assert_eq!(date.validate("start"), Ok(()));
        // "a Tuesday", year unknown
        assert_eq!(
            PartialDate::weekday_only(Weekday::Tuesday).validate("start"),
            Ok(())
        );
        // 29 February without a year
        let leap = PartialDate {
            month: Some(2),
            day: Some(29),
            ..PartialDate::default()
        };
        assert_eq!(leap.validate("start"), Ok(()));
        assert_eq!(PartialDate::ymd(2024, 2, 29).validate("start"), Ok(()));
    }

    #[test]
    fn partial_date_requires_something() {
        assert_eq!(
            PartialDate::default().validate("start"),
            invalid("start", Rule::Required)
        );
    }

    #[test]
    fn partial_date_rejects_year_out_of_range() {
        assert_eq!(
            PartialDate::year(1850).validate("start"),
            invalid(
                "start.year",
                Rule::OutOfRange {
                    min: 1900,
                    max: 2100
                }
            )
        );
    }

    #[test]
    fn partial_date_rejects_month_out_of_range() {
        assert_eq!(
            PartialDate::month(2024, 13).validate("start"),
            invalid("start.month", Rule::OutOfRange { min: 1, max: 12 })
        );
        assert_eq!(
            PartialDate::month(2024, 0).validate("start"),
            invalid("start.month", Rule::OutOfRange { min: 1, max: 12 })
        );
    }

    #[test]
    fn partial_date_rejects_day_out_of_range_or_missing_month() {
        assert_eq!(
            PartialDate::ymd(2024, 1, 32).validate("d"),
            invalid("d.day", Rule::OutOfRange { min: 1, max: 31 })
        );
        let no_month = PartialDate {
            year: Some(2024),
            day: Some(3),
            ..PartialDate::default()
        };
        assert_eq!(
            no_month.validate("d"),
            invalid("d.day", Rule::DayWithoutMonth)
        );
    }

    #[test]
    fn partial_date_rejects_day_not_in_month() {
        assert_eq!(
            PartialDate::ymd(2023, 2, 29).validate("d"),
            invalid("d.day", Rule::InvalidDate)
        );
        assert_eq!(
            PartialDate::ymd(2024, 4, 31).validate("d"),
            invalid("d.day", Rule::InvalidDate)
        );
    }

    #[test]
    fn partial_date_rejects_weekday_inconsistent_with_full_date() {
        // Article 001 says "Tuesday 28 November" but 28/11/2024 was a Thursday.
        let date = PartialDate::ymd(2024, 11, 28).with_weekday(Weekday::Tuesday);
        assert_eq!(
            date.validate("d"),
            invalid(
                "d.weekday",
                Rule::WeekdayMismatch {
                    actual: Weekday::Thursday
                }
            )
        );
    }

    #[test]
    fn partial_date_compares_only_what_is_known() {
        let nov_2024 = PartialDate::month(2024, 11);
        let nov_28 = PartialDate::ymd(2024, 11, 28);
        let y2025 = PartialDate::year(2025);
        let tuesday = PartialDate::weekday_only(Weekday::Tuesday);
        assert_eq!(nov_2024.cmp_known(&nov_28), None);
        assert_eq!(nov_28.cmp_known(&nov_2024), None);
        assert_eq!(nov_2024.cmp_known(&y2025), Some(Ordering::Less));
        assert_eq!(y2025.cmp_known(&nov_28), Some(Ordering::Greater));
        assert_eq!(nov_28.cmp_known(&nov_28), Some(Ordering::Equal));
        assert_eq!(tuesday.cmp_known(&y2025), None);
        assert!(PartialDate::ymd(2025, 11, 3).is_certainly_before(&PartialDate::ymd(2025, 11, 4)));
        assert!(!nov_2024.is_certainly_before(&nov_28));
        assert_eq!(
            PartialDate::month(2024, 2).latest(),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            PartialDate::year(2024).earliest(),
            NaiveDate::from_ymd_opt(2024, 1, 1)
        );
    }

    #[test]
    fn partial_date_displays_and_converts() {
        let date = PartialDate::ymd(2017, 10, 3).with_weekday(Weekday::Tuesday);
        assert_eq!(date.to_string(), "Tuesday 2017-10-03");
        assert_eq!(PartialDate::month(2004, 2).to_string(), "2004-02");
        assert_eq!(
            PartialDate::weekday_only(Weekday::Tuesday).to_string(),
            "Tuesday"
        );
        let yearless = PartialDate {
            month: Some(11),
            day: Some(28),
            ..PartialDate::default()
        };
        assert_eq!(yearless.to_string(), "????-11-28");
        let naive = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        assert_eq!(PartialDate::from(naive), PartialDate::ymd(2025, 11, 4));
        assert_eq!(PartialDate::ymd(2025, 11, 4).to_naive_date(), Some(naive));
        let json = serde_json::to_value(date).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"year": 2017, "month": 10, "day": 3, "weekday": "tuesday"})
        );
    }

    #[test]
    fn period_accepts_year_spans_and_open_ends() {
        assert_eq!(Period::years(2026, 2028).validate("period"), Ok(()));
        let open = Period {
            start: PartialDate::year(2022),
            end: None,
        };
        assert_eq!(open.validate("period"), Ok(()));
    }

    #[test]
    fn period_rejects_end_before_start() {
        assert_eq!(
            Period::years(2025, 2022).validate("period"),
            invalid("period.end", Rule::EndBeforeStart)
        );
    }

    #[test]
    fn period_rejects_invalid_dates() {
        let period = Period {
            start: PartialDate::month(2022, 13),
            end: None,
        };
        assert_eq!(
            period.validate("period"),
            invalid("period.start.month", Rule::OutOfRange { min: 1, max: 12 })
        );
    }

    #[test]
    fn money_is_exact_and_serialised_as_a_string() {
        let money = Money::mad(Decimal::new(2_600_000_000, 0));
        assert_eq!(money.validate("budget"), Ok(()));
        let json = serde_json::to_value(&money).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"amount": "2600000000", "currency": "MAD"})
        );
        let back: Money = serde_json::from_value(json).unwrap();
        assert_eq!(back, money);
        // Floats are refused: amounts must be exact.
        let float = serde_json::json!({"amount": 2.6, "currency": "MAD"});
        assert!(serde_json::from_value::<Money>(float).is_err());
        assert_eq!(Money::mad(Decimal::ZERO).validate("budget"), Ok(()));
    }

    #[test]
    fn money_rejects_invalid_currency() {
        for code in ["mad", "MA", "MADX", "M4D", ""] {
            let money = Money {
                amount: Decimal::ONE,
                currency: code.to_string(),
            };
            assert_eq!(
                money.validate("budget"),
                invalid(
                    "budget.currency",
                    Rule::InvalidCurrency { code: code.into() }
                )
            );
        }
    }

    #[test]
    fn money_rejects_negative_amount() {
        assert_eq!(
            Money::mad(Decimal::new(-1, 0)).validate("budget"),
            invalid("budget.amount", Rule::NegativeAmount)
        );
    }

    fn source() -> Source {
        Source {
            publisher: Some(Text::ar("حدث كم")),
            author: Some(Text::ar("ع شركيف")),
            url: Some("https://example.ma/article".into()),
            title: Some(Text::ar("لقاء تشاوري جهوي")),
            published_on: Some(PartialDate::ymd(2024, 11, 29)),
            document: Some("001_bb1eded32c76a2d6.txt".into()),
        }
    }

    #[test]
    fn source_accepts_full_or_document_only_provenance() {
        assert_eq!(source().validate("sources[0]"), Ok(()));
        let document_only = Source {
            publisher: None,
            author: None,
            url: None,
            title: None,
            published_on: None,
            document: Some("003_ae8c68a421552a40.txt".into()),
        };
        assert_eq!(document_only.validate("sources[0]"), Ok(()));
    }

    #[test]
    fn source_requires_an_identity() {
        let anonymous = Source {
            publisher: None,
            url: None,
            document: None,
            ..source()
        };
        assert_eq!(
            anonymous.validate("sources[0]"),
            invalid("sources[0].publisher", Rule::Required)
        );
    }

    #[test]
    fn source_rejects_non_http_url_and_blank_parts() {
        let ftp = Source {
            url: Some("ftp://x".into()),
            ..source()
        };
        assert_eq!(
            ftp.validate("s"),
            invalid(
                "s.url",
                Rule::InvalidFormat {
                    expected: "an http or https URL".into()
                }
            )
        );
        let blank_doc = Source {
            document: Some(" ".into()),
            ..source()
        };
        assert_eq!(
            blank_doc.validate("s"),
            invalid("s.document", Rule::Required)
        );
        let bad_date = Source {
            published_on: Some(PartialDate::ymd(2024, 11, 31)),
            ..source()
        };
        assert_eq!(
            bad_date.validate("s"),
            invalid("s.published_on.day", Rule::InvalidDate)
        );
    }

    #[test]
    fn place_checks_name_and_region() {
        let place = Place {
            name: Text::ar("القاعة الكبرى لعمالة فاس"),
            city: Some(Text::ar("فاس").with_fr("Fès")),
            region: Some(RegionCode::new("MA-03")),
            inferred: None,
        };
        assert_eq!(place.validate("place"), Ok(()));
        let unnamed = Place {
            name: Text::default(),
            ..place.clone()
        };
        assert_eq!(
            unnamed.validate("place"),
            invalid("place.name", Rule::Required)
        );
        let elsewhere = Place {
            region: Some(RegionCode::new("MA-13")),
            ..place
        };
        assert_eq!(
            elsewhere.validate("place"),
            invalid(
                "place.region",
                Rule::UnknownRegion {
                    code: "MA-13".into()
                }
            )
        );
    }

    #[test]
    fn an_inference_note_is_checked_like_free_text() {
        let place = |note: &str| Place {
            name: Text::ar("مقر الوزارة"),
            city: Some(Text::fr("Rabat")),
            region: Some(RegionCode::new("MA-04")),
            inferred: Some(Inference::new(note)),
        };
        assert_eq!(place("the city is not stated").validate("place"), Ok(()));
        assert_eq!(
            place(" \u{200f}").validate("place"),
            invalid("place.inferred.note", Rule::Required)
        );
        assert_eq!(
            place(&"x".repeat(INFERENCE_NOTE_MAX + 1)).validate("place"),
            invalid(
                "place.inferred.note",
                Rule::TooLong {
                    max: INFERENCE_NOTE_MAX
                }
            )
        );
        assert_eq!(
            place("a\u{0}b").validate("place"),
            invalid(
                "place.inferred.note",
                Rule::ControlCharacter {
                    found: "U+0000".into()
                }
            )
        );
        // Left out when absent, so older events and payloads are unchanged.
        let stated = Place {
            inferred: None,
            ..place("n")
        };
        let json = serde_json::to_value(&stated).unwrap();
        assert!(json.get("inferred").is_none());
        let back: Place = serde_json::from_value(json).unwrap();
        assert_eq!(back, stated);
    }

    #[test]
    fn helpers_check_slugs_ids_and_reasons() {
        let ok = vec!["export-promotion".to_string(), "sse".to_string()];
        assert_eq!(check_slugs("themes", &ok), Ok(()));
        let bad = vec!["Export".to_string()];
        assert_eq!(
            check_slugs("themes", &bad),
            invalid(
                "themes[0]",
                Rule::InvalidFormat {
                    expected: "a lowercase slug such as `export-promotion`".into()
                }
            )
        );
        let twice = vec!["sse".to_string(), "sse".to_string()];
        assert_eq!(
            check_slugs("themes", &twice),
            invalid("themes[1]", Rule::Duplicate)
        );
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            check_unique_ids("ids", &[id, id]),
            invalid("ids[1]", Rule::Duplicate)
        );
        assert_eq!(
            check_reason("reason", " \n"),
            invalid("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            check_reason("reason", &"x".repeat(REASON_MAX + 1)),
            invalid("reason", Rule::TooLong { max: REASON_MAX })
        );
        assert_eq!(
            check_texts("notes", &[Text::ar("a"), Text::default()], 10),
            invalid("notes[1]", Rule::Required)
        );
    }

    fn money(amount: &str, currency: &str) -> Money {
        Money {
            amount: amount.parse().unwrap_or_else(|e| panic!("{amount}: {e}")),
            currency: currency.to_owned(),
        }
    }

    #[test]
    fn money_accepts_the_whole_documented_range() {
        for amount in ["0", "0.01", "1000000000000000", "999999999999999.99"] {
            assert_eq!(money(amount, "MAD").validate("budget"), Ok(()), "{amount}");
        }
        assert_eq!(Decimal::from(MAX_AMOUNT).to_string(), "1000000000000000");
        // Trailing zeros are not decimals of the amount.
        assert_eq!(money("12.340", "MAD").validate("budget"), Ok(()));
        assert_eq!(money("1000000000000000.000", "MAD").validate("b"), Ok(()));
        assert_eq!(money("12.0", "JPY").validate("budget"), Ok(()));
        assert_eq!(money("1.234", "TND").validate("budget"), Ok(()));
    }

    #[test]
    fn money_rejects_an_amount_above_the_maximum() {
        let out = invalid(
            "budget.amount",
            Rule::OutOfRange {
                min: 0,
                max: 1_000_000_000_000_000,
            },
        );
        for amount in [
            "1000000000000000.01",
            "50000000000000000",
            "92233720368547759",
            "800000000000000000000000000",
        ] {
            assert_eq!(money(amount, "MAD").validate("budget"), out, "{amount}");
        }
    }

    #[test]
    fn money_rejects_more_decimals_than_the_currency_has() {
        assert_eq!(
            money("12.345", "MAD").validate("budget"),
            invalid("budget.amount", Rule::TooManyDecimals { max: 2 })
        );
        assert_eq!(
            money("12.5", "JPY").validate("budget"),
            invalid("budget.amount", Rule::TooManyDecimals { max: 0 })
        );
        assert_eq!(
            money("1.2345", "TND").validate("budget"),
            invalid("budget.amount", Rule::TooManyDecimals { max: 3 })
        );
        assert_eq!(
            money("0.0000000000000000000000000001", "MAD").validate("budget"),
            invalid("budget.amount", Rule::TooManyDecimals { max: 2 })
        );
        let error = money("12.345", "MAD").validate("budget").unwrap_err();
        assert_eq!(error.code(), "TOO_MANY_DECIMALS");
    }

    #[test]
    fn minor_digits_follow_iso_4217() {
        for (code, digits) in [
            ("MAD", 2),
            ("EUR", 2),
            ("USD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("XOF", 0),
            ("TND", 3),
            ("KWD", 3),
            ("BHD", 3),
        ] {
            assert_eq!(minor_digits(code), digits, "{code}");
        }
    }
}

#[cfg(test)]
mod contact_tests {
    use super::*;

    fn contact(email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact {
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            erased: false,
        }
    }

    #[test]
    fn given_a_well_formed_contact_then_it_is_accepted() {
        assert!(
            contact(Some("dr.fes@mcinet.gov.ma"), Some("+212 5 35 00 00 00"))
                .validate("contact")
                .is_ok()
        );
    }

    #[test]
    fn given_an_empty_contact_then_it_is_required() {
        let error = contact(None, None).validate("contact").unwrap_err();
        assert_eq!((error.field(), error.code()), ("contact", "REQUIRED"));
    }

    #[test]
    fn given_a_malformed_email_or_phone_then_the_field_is_named() {
        let error = contact(Some("not-an-address"), None)
            .validate("contact")
            .unwrap_err();
        assert_eq!(
            (error.field(), error.code()),
            ("contact.email", "INVALID_FORMAT")
        );
        let error = contact(None, Some("call me"))
            .validate("contact")
            .unwrap_err();
        assert_eq!(
            (error.field(), error.code()),
            ("contact.phone", "INVALID_FORMAT")
        );
        let error = contact(None, Some("12")).validate("contact").unwrap_err();
        assert_eq!(error.field(), "contact.phone");
    }
}

#[cfg(test)]
mod string_tests {
    use super::*;

    fn rule_of(value: &str, max: usize) -> Option<&'static str> {
        free_string_rule(value, max).map(|rule| rule.code())
    }

    #[test]
    fn invisible_text_is_blank() {
        for blank in [
            "",
            " \t\r\n",
            "\u{200f}\u{202e}",
            "\u{200b}",
            "\u{feff}",
            "\u{2060}\u{2061}\u{2062}\u{2063}\u{2064}",
            "\u{061c}",
            "\u{200b}\u{200c}\u{200d}\u{200e}\u{200f}",
            "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}",
            "\u{2066}\u{2067}\u{2068}\u{2069}",
            "\u{00a0}\u{3000}\u{2028}\u{2029}\u{0085}",
            "\u{e0001}\u{e0020}\u{e007f}",
        ] {
            assert!(is_blank(blank), "{blank:?} should be blank");
            assert_eq!(rule_of(blank, 10), Some("REQUIRED"), "{blank:?}");
        }
        for visible in ["ا", "x", "\u{200f}ا", " . ", "\u{2065}", "\u{0601}1"] {
            assert!(!is_blank(visible), "{visible:?} should not be blank");
        }
    }

    #[test]
    fn invisible_text_is_refused_wherever_a_text_is_required() {
        assert_eq!(
            Text::ar("\u{200f}\u{202e}").validate("title", 10),
            Err(DomainError::validation("title.ar", Rule::Required))
        );
        assert_eq!(
            check_reason("reason", "\u{200b}"),
            Err(DomainError::validation("reason", Rule::ReasonRequired))
        );
    }

    #[test]
    fn control_characters_are_refused_but_tab_and_line_breaks_are_kept() {
        for (value, found) in [
            ("a\u{0}b", "U+0000"),
            ("\u{1}", "U+0001"),
            ("x\u{8}", "U+0008"),
            ("x\u{b}", "U+000B"),
            ("x\u{c}", "U+000C"),
            ("x\u{e}", "U+000E"),
            ("x\u{1b}[31m", "U+001B"),
            ("x\u{1f}", "U+001F"),
            ("x\u{7f}", "U+007F"),
        ] {
            assert_eq!(
                free_string_rule(value, 100),
                Some(Rule::ControlCharacter {
                    found: found.into()
                }),
                "{value:?}"
            );
        }
        assert_eq!(rule_of("ligne 1\r\nligne 2\tfin", 100), None);
        // C1 controls and other code points are not C0: PostgreSQL stores them.
        assert_eq!(rule_of("x\u{80}\u{9f}\u{a0}", 100), None);
    }

    #[test]
    fn the_rules_apply_in_order_blank_then_length_then_control() {
        assert_eq!(rule_of("\u{0}", 10), Some("CONTROL_CHARACTER"));
        assert_eq!(rule_of(&"\u{0}".repeat(11), 10), Some("TOO_LONG"));
        assert_eq!(rule_of(&"ب".repeat(10), 10), None);
        assert_eq!(rule_of(&"ب".repeat(11), 10), Some("TOO_LONG"));
    }

    #[test]
    fn every_free_string_check_refuses_a_nul() {
        let nul = "x\u{0}".to_string();
        let control = |field: &str| {
            Err(DomainError::validation(
                field,
                Rule::ControlCharacter {
                    found: "U+0000".into(),
                },
            ))
        };
        assert_eq!(check_required_str("unit", &nul, CODE_MAX), control("unit"));
        assert_eq!(
            check_optional_str("acronym", &Some(nul.clone()), CODE_MAX),
            control("acronym")
        );
        assert_eq!(check_reason("reason", &nul), control("reason"));
        assert_eq!(
            check_optional_reason("reason", &Some(nul.clone())),
            control("reason")
        );
        assert_eq!(
            Text::fr("Fès").with_en(nul.clone()).validate("title", 10),
            control("title.en")
        );
        assert_eq!(
            check_slugs("themes", &["sse".into(), nul.clone()]),
            control("themes[1]")
        );
        let source = Source {
            publisher: None,
            author: None,
            url: Some(format!("https://example.ma/{nul}")),
            title: None,
            published_on: None,
            document: None,
        };
        assert_eq!(source.validate("s"), control("s.url"));
        let contact = Contact {
            email: Some(format!("a@b.ma{nul}")),
            phone: None,
            erased: false,
        };
        assert_eq!(contact.validate("contact"), control("contact.email"));
    }
}
