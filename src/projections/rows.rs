//! Turning aggregate states into read-model rows: the columns dashboards filter and group on,
//! the folded search text, and the entity itself as canonical JSON.

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::search::fold;
use crate::domain::common::minor_digits;
use crate::domain::{action, consultation, organisation, person, PartialDate, Text};
use crate::store::canonical_json;

/// The serde name of an enum value (`"regional_consultation"`), also for internally tagged
/// enums such as a recommendation status (`{"status": "merged", ...}` gives `"merged"`).
pub fn tag<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map
            .get("status")
            .or_else(|| map.get("type"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// Canonical JSON of any serialisable value (keys sorted, so rebuilds compare equal).
pub fn doc<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .map(|v| canonical_json(&v))
        .unwrap_or_default()
}

/// Every language of a text, space separated.
pub fn all_languages(text: &Text) -> String {
    [&text.ar, &text.fr, &text.en]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text shown by default: Arabic first, then French, then English.
pub fn display(text: &Text) -> String {
    text.preferred().unwrap_or_default().to_owned()
}

/// Folded search text of several texts.
pub fn search_of<'a>(texts: impl IntoIterator<Item = &'a Text>, extra: &[&str]) -> String {
    let mut all: Vec<String> = texts.into_iter().map(all_languages).collect();
    all.extend(extra.iter().map(|s| (*s).to_owned()));
    fold(&all.join(" "))
}

/// A day as `YYYY-MM-DD`.
pub fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The known part of a partial date: `2025`, `2025-11` or `2025-11-03`; `None` without a year.
pub fn partial_text(date: &PartialDate) -> Option<String> {
    let year = date.year?;
    Some(match (date.month, date.day) {
        (Some(m), Some(d)) => format!("{year:04}-{m:02}-{d:02}"),
        (Some(m), None) => format!("{year:04}-{m:02}"),
        _ => format!("{year:04}"),
    })
}

/// An amount in its currency's minor unit ([`minor_digits`]: centimes for MAD, yen for JPY,
/// millimes for TND), for exact sums in SQL. Exact for every amount the domain accepts: at most
/// [`MAX_AMOUNT`](crate::domain::common::MAX_AMOUNT) with the currency's decimals, so at most
/// 10^18 minor units, within `i64`. Amounts recorded before that rule are rounded to the minor
/// unit (half to even), and are `None` when they do not fit an `i64` of minor units (left out of
/// the sums). Never panics.
pub fn minor_units(amount: Decimal, currency: &str) -> Option<i64> {
    let scale = Decimal::from(10_i64.checked_pow(minor_digits(currency))?);
    amount.checked_mul(scale)?.round().to_i64()
}

table! {
    /// The consultation row's columns.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConsultationRow in "rm_consultations", replaced by id, written by upsert_consultations {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub kind: String,
        pub status: String,
        pub region: Option<String>,
        pub start_date: Option<String>,
        pub month: Option<String>,
        pub title: String,
        pub search: String,
        pub doc: String,
        /// The earliest day the start can be (`YYYY-MM-DD`; `None` without a known year),
        /// which date filters compare.
        pub start_first: Option<String>,
        /// The latest day the start can be.
        pub start_last: Option<String>,
    }
}

impl ConsultationRow {
    /// The row of a consultation state at `version`/`position`.
    pub fn of(c: &consultation::Consultation, version: i64, position: i64) -> Self {
        let d = &c.details;
        let start = &d.schedule.start;
        let mut texts: Vec<&Text> = vec![&d.title];
        texts.extend(d.description.iter());
        texts.extend(d.purpose.iter());
        if let Some(place) = &d.place {
            texts.push(&place.name);
            texts.extend(place.city.iter());
        }
        ConsultationRow {
            id: c.id,
            version,
            position,
            kind: tag(&d.kind),
            status: tag(&c.status),
            region: region_of(c),
            start_date: start.earliest().filter(|_| start.month.is_some()).map(day),
            month: match (start.year, start.month) {
                (Some(y), Some(m)) => Some(format!("{y:04}-{m:02}")),
                _ => None,
            },
            title: display(&d.title),
            search: search_of(texts, &[]),
            doc: doc(c),
            start_first: start.earliest().map(day),
            start_last: start.latest().map(day),
        }
    }
}

/// The consultation's region: its own, or its place's.
pub fn region_of(c: &consultation::Consultation) -> Option<String> {
    c.region().map(|r| r.as_str().to_owned())
}

/// The region whose budget an agreement of `c` counts in: its own scope's region, none when
/// national, and its consultation's for an agreement recorded without a scope.
pub fn budget_region(
    c: &consultation::Consultation,
    a: &consultation::Agreement,
) -> Option<String> {
    a.scope_in(c.region())
        .and_then(|scope| scope.budget_region().map(|r| r.as_str().to_owned()))
}

table! {
    /// An organisation row's columns.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OrganisationRow in "rm_organisations", replaced by id, written by upsert_organisations {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub kind: String,
        pub acronym: Option<String>,
        pub region: Option<String>,
        pub parent_id: Option<Uuid>,
        pub name: String,
        pub search: String,
        pub doc: String,
    }
}

impl OrganisationRow {
    /// The row of an organisation state.
    pub fn of(o: &organisation::Organisation, version: i64, position: i64) -> Self {
        let mut texts = vec![&o.name];
        texts.extend(o.former_names.iter().map(|f| &f.name));
        let acronym = o.acronym.clone().unwrap_or_default();
        OrganisationRow {
            id: o.id,
            version,
            position,
            kind: tag(&o.kind),
            acronym: o.acronym.clone(),
            region: o.region.as_ref().map(|r| r.as_str().to_owned()),
            parent_id: o.parent_id,
            name: display(&o.name),
            search: search_of(texts, &[&acronym]),
            doc: doc(o),
        }
    }
}

table! {
    /// A person row's columns.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PersonRow in "rm_people", replaced by id, written by upsert_people {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub name: String,
        pub search: String,
        pub doc: String,
    }
}

impl PersonRow {
    /// The row of a person state.
    pub fn of(p: &person::Person, version: i64, position: i64) -> Self {
        let arabic = p.name.arabic.clone().unwrap_or_default();
        let latin = p.name.latin.clone().unwrap_or_default();
        let name = match (&p.name.arabic, &p.name.latin) {
            (Some(a), Some(l)) => format!("{a} ({l})"),
            (Some(a), None) => a.clone(),
            (None, Some(l)) => l.clone(),
            (None, None) => String::new(),
        };
        PersonRow {
            id: p.id,
            version,
            position,
            name,
            search: fold(&format!("{arabic} {latin}")),
            doc: doc(p),
        }
    }
}

table! {
    /// An action row's columns (its region comes from its consultation).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ActionRow in "rm_actions", replaced by id, written by upsert_actions {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub consultation_id: Uuid,
        pub owner_id: Uuid,
        pub status: String,
        pub progress: i64,
        pub due_date: Option<String>,
        pub title: String,
        pub search: String,
        pub doc: String,
    }
    // Each action's region is its consultation's, read in the same statement.
    computed region = ("(SELECT region FROM rm_consultations WHERE id = ", consultation_id, ")")
}

impl ActionRow {
    /// The row of an action state. `due_date` is the latest day the due date can be, so an
    /// action is overdue only when it certainly is.
    pub fn of(a: &action::Action, version: i64, position: i64) -> Self {
        let mut texts = vec![&a.title];
        texts.extend(a.description.iter());
        ActionRow {
            id: a.id,
            version,
            position,
            consultation_id: a.consultation_id,
            owner_id: a.owner_organisation_id,
            status: tag(&a.status),
            progress: i64::from(a.progress),
            due_date: a.due.as_ref().and_then(PartialDate::latest).map(day),
            title: display(&a.title),
            search: search_of(texts, &[]),
            doc: doc(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::common::MAX_AMOUNT;

    fn minor(amount: &str, currency: &str) -> Option<i64> {
        let amount: Decimal = amount.parse().unwrap_or_else(|e| panic!("{amount}: {e}"));
        minor_units(amount, currency)
    }

    #[test]
    fn minor_units_use_the_currency_exponent() {
        assert_eq!(minor("250000000.50", "MAD"), Some(25_000_000_050));
        assert_eq!(minor("12.340", "MAD"), Some(1_234));
        assert_eq!(minor("1500", "JPY"), Some(1_500));
        assert_eq!(minor("1.234", "TND"), Some(1_234));
        assert_eq!(minor("0", "EUR"), Some(0));
    }

    #[test]
    fn minor_units_of_the_largest_amount_fit() {
        let max = Decimal::from(MAX_AMOUNT);
        assert_eq!(minor_units(max, "TND"), Some(1_000_000_000_000_000_000));
        assert_eq!(minor_units(max, "MAD"), Some(100_000_000_000_000_000));
        assert_eq!(minor_units(max, "JPY"), Some(MAX_AMOUNT));
    }

    #[test]
    fn minor_units_never_panic_on_amounts_recorded_before_the_rules() {
        // Too large for i64 (left out), too large to multiply (left out), too precise (rounded).
        assert_eq!(minor("92233720368547759", "MAD"), None);
        assert_eq!(minor("79228162514264337593543950335", "MAD"), None);
        assert_eq!(minor("800000000000000000000000000", "MAD"), None);
        assert_eq!(minor("12.345", "MAD"), Some(1_234));
        assert_eq!(minor("12.355", "MAD"), Some(1_236));
    }
}
