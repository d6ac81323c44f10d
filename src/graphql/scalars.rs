//! The schema's own scalars and shared value objects: `Decimal` (exact, as a string), `Date`
//! (ISO 8601 calendar day) and `Money`. `DateTime` is async-graphql's (RFC 3339, UTC) and `UUID`
//! its `Uuid`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};
use chrono::NaiveDate;

/// An exact decimal number, written as a string (`"1250000.50"`) so that no client parses it
/// as a float and loses digits. Inputs accept a string or an integer; never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number, written as a string (`"1250000.50"`) so that no client parses it
/// as a float and loses digits. Inputs accept a string or an integer; never a float.
#[Scalar(
    name = "Decimal",
    specified_by_url = "https://en.wikipedia.org/wiki/Decimal_data_type"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text
                .trim()
                .parse::<rust_decimal::Decimal>()
                .map(Decimal)
                .map_err(|_| {
                    InputValueError::custom(
                        "a Decimal is a number written as a string, e.g. \"1250000.50\"",
                    )
                }),
            Value::Number(n) if n.is_i64() || n.is_u64() => n
                .to_string()
                .parse::<rust_decimal::Decimal>()
                .map(Decimal)
                .map_err(|_| InputValueError::custom("this integer is too large for a Decimal")),
            _ => Err(InputValueError::custom(
                "a Decimal is a string such as \"1250000.50\" (floats would lose digits)",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A calendar day, `YYYY-MM-DD` (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (ISO 8601).
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("a Date is YYYY-MM-DD, e.g. \"2025-11-03\"")),
            _ => Err(InputValueError::custom("a Date is a string YYYY-MM-DD")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An exact amount of money.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The exact amount, in the currency's major unit (`"1250000.50"` MAD).
    pub amount: Decimal,
    /// ISO 4217 code (`MAD`).
    pub currency: String,
}

impl From<&crate::domain::Money> for Money {
    fn from(money: &crate::domain::Money) -> Self {
        Money {
            amount: Decimal(money.amount),
            currency: money.currency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_every_digit_and_refuse_floats() {
        let big = Decimal::parse(Value::String("999999999999999.99".into())).unwrap();
        assert_eq!(big.to_value(), Value::String("999999999999999.99".into()));
        assert!(Decimal::parse(Value::Number(7.into())).is_ok());
        let float = async_graphql::Number::from_f64(2.5).unwrap();
        assert!(Decimal::parse(Value::Number(float)).is_err());
        assert!(Decimal::parse(Value::String("abc".into())).is_err());
    }

    #[test]
    fn dates_are_iso_days() {
        let day = Date::parse(Value::String("2025-11-03".into())).unwrap();
        assert_eq!(day.to_value(), Value::String("2025-11-03".into()));
        assert!(Date::parse(Value::String("2025-02-30".into())).is_err());
        assert!(Date::parse(Value::String("03/11/2025".into())).is_err());
    }
}
