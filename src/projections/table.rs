//! Declares a read-model table's row once: [`table!`] takes the row's struct and writes the
//! function that stores rows of it. The INSERT's column list, the values bound for each row,
//! and for a table whose rows are replaced the `ON CONFLICT ... DO UPDATE SET` list all follow
//! from the struct's fields, in their order, so a column is named in one place on the write side.

use uuid::Uuid;

use crate::store::DbUuid;

/// Most rows one multi-row insert carries (well under both databases' parameter limits).
pub const ROWS_PER_INSERT: usize = 1_000;

/// How a row's field is bound: a UUID as [`DbUuid`] (TEXT on SQLite, `uuid` on PostgreSQL), a
/// flag as 0 or 1 (the column is an integer on both backends), text by reference, numbers as
/// they are.
pub trait Bound {
    /// The value handed to the database.
    type As<'a>
    where
        Self: 'a;
    /// This field's value as bound.
    fn bound(&self) -> Self::As<'_>;
}

impl Bound for Uuid {
    type As<'a> = DbUuid;
    fn bound(&self) -> DbUuid {
        DbUuid(*self)
    }
}

impl Bound for Option<Uuid> {
    type As<'a> = Option<DbUuid>;
    fn bound(&self) -> Option<DbUuid> {
        self.map(DbUuid)
    }
}

impl Bound for String {
    type As<'a> = &'a str;
    fn bound(&self) -> &str {
        self
    }
}

impl Bound for Option<String> {
    type As<'a> = Option<&'a str>;
    fn bound(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl Bound for i64 {
    type As<'a> = i64;
    fn bound(&self) -> i64 {
        *self
    }
}

impl Bound for Option<i64> {
    type As<'a> = Option<i64>;
    fn bound(&self) -> Option<i64> {
        *self
    }
}

impl Bound for bool {
    type As<'a> = i64;
    fn bound(&self) -> i64 {
        i64::from(*self)
    }
}

/// Whether two names are the same (a check made while compiling).
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares a read-model row and the function writing rows of it into its table, one statement
/// per [`ROWS_PER_INSERT`] rows:
///
/// ```ignore
/// table! {
///     /// A post held by a person in an organisation.
///     pub struct PostRow in "rm_posts", written by insert_posts {
///         pub person_id: Uuid,
///         pub ended: bool,
///     }
/// }
/// ```
///
/// `replaced by id` after the table's name makes the write an upsert on its first field (which
/// must be that key): every other column is replaced by the new row's. `computed region =
/// ("(SELECT ...", consultation_id, ")")` after the fields adds a column whose value is a
/// subquery around one bound field (an action's region, read from its consultation in the same
/// statement).
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $row:ident in $table:literal $(, replaced by $key:ident)?, written by $write:ident {
            $(#[$first_meta:meta])* pub $first:ident : $first_ty:ty,
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
        $(computed $computed:ident = ($before:literal, $arg:ident, $after:literal))?
    ) => {
        $(#[$meta])*
        pub struct $row {
            $(#[$first_meta])* pub $first: $first_ty,
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        #[doc = concat!("Writes rows of `", $table, "` (see [`", stringify!($row), "`]).")]
        pub async fn $write(
            tx: &mut $crate::store::Tx,
            rows: &[$row],
        ) -> ::std::result::Result<(), $crate::store::StoreError> {
            use $crate::projections::table::Bound;
            const INSERT: &str = concat!(
                "INSERT INTO ", $table, " (", stringify!($first)
                $(, ", ", stringify!($field))* $(, ", ", stringify!($computed))?, ") "
            );
            // Each column but the key, each after a separator (the first one skipped below).
            #[allow(dead_code)]
            const REPLACED: &str = concat!(
                "" $(, ", ", stringify!($field), " = excluded.", stringify!($field))*
                $(, ", ", stringify!($computed), " = excluded.", stringify!($computed))?
            );
            for chunk in rows.chunks($crate::projections::table::ROWS_PER_INSERT) {
                $crate::store::on_tx!(tx, c => {
                    let mut query = sqlx::QueryBuilder::new(INSERT);
                    query.push_values(chunk, |mut b, r| {
                        b.push_bind(Bound::bound(&r.$first));
                        $( b.push_bind(Bound::bound(&r.$field)); )*
                        $(
                            b.push($before)
                                .push_bind_unseparated(Bound::bound(&r.$arg))
                                .push_unseparated($after);
                        )?
                    });
                    $(
                        const _: () = assert!(
                            $crate::projections::table::same(stringify!($key), stringify!($first)),
                            "a replaced row's key must be its first field"
                        );
                        query.push(concat!(" ON CONFLICT (", stringify!($key), ") DO UPDATE SET "));
                        query.push(REPLACED.get(2..).unwrap_or_default());
                    )?
                    query.build().execute(c).await.map(|_| ())?
                });
            }
            Ok(())
        }
    };
}
