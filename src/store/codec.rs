//! Column codecs shared by both backends.
//!
//! SQLite keeps ids and times as readable, sortable TEXT (an auditor with the `sqlite3` shell sees
//! the same values the API shows); PostgreSQL keeps its native `uuid` and `timestamptz`. These
//! newtypes let one SQL text and one row struct serve both.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// The one text form of a recorded time: UTC, microseconds, fixed width (so text order is time
/// order). PostgreSQL keeps microseconds, so every backend round-trips it exactly.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Formats a time the way the log stores and hashes it.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Parses a time in the log's text form (or any RFC 3339 time), truncated to microseconds.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match NaiveDateTime::parse_from_str(s, TIME_FORMAT) {
        Ok(naive) => Ok(naive.and_utc()),
        Err(_) => Ok(DateTime::parse_from_rfc3339(s)?
            .with_timezone(&Utc)
            .trunc_subsecs(6)),
    }
}

/// A UUID column: TEXT (hyphenated) on SQLite, `uuid` on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbUuid(pub Uuid);

impl Type<Sqlite> for DbUuid {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbUuid {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.hyphenated().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbUuid {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbUuid(Uuid::parse_str(text)?))
    }
}

impl Type<Postgres> for DbUuid {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbUuid {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbUuid {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbUuid(<Uuid as Decode<Postgres>>::decode(value)?))
    }
}

/// A UTC time column: fixed-width TEXT on SQLite, `timestamptz` on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbTime(pub DateTime<Utc>);

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(format_time(&self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbTime(parse_time(text)?))
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbTime(<DateTime<Utc> as Decode<Postgres>>::decode(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_text_is_fixed_width_and_round_trips() {
        let t = parse_time("2026-11-22T15:07:02.1234567Z").unwrap();
        let text = format_time(&t);
        assert_eq!(text, "2026-11-22T15:07:02.123456Z");
        assert_eq!(parse_time(&text).unwrap(), t);
        let whole = parse_time("2017-10-03T09:00:00+01:00").unwrap();
        assert_eq!(format_time(&whole), "2017-10-03T08:00:00.000000Z");
    }
}
