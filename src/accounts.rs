//! User accounts: people who sign in with a username and a password.
//!
//! A user's creation, role and disabling are events of its `user` stream, projected to
//! `rm_users`. Its password is not: the log is append-only and kept forever (exported, imported,
//! handed to auditors), so a hash written there could never be replaced or erased. Password
//! hashes live in the `credentials` table instead, one argon2id PHC string per user, written here
//! next to the append and replaced when the password changes. A rebuild leaves that table alone,
//! `shura verify` ignores it, and an export does not carry it: the users of an imported log must
//! be given passwords again ([`set_password`]).
//!
//! A user's stream id is derived from its username (UUID v5), so two concurrent creations of one
//! name meet on one stream and the second is refused, whatever the read model said before.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use uuid::Uuid;

use crate::commands::{execute, AnyCommand, CommandContext, CommandError};
use crate::domain::token::Role;
use crate::domain::user::{self, check_password, check_username, PASSWORD_MAX};
use crate::domain::{DomainError, RegionCode, Rule};
use crate::store::{on_pool, Actor, DbTime, DbUuid, Pool, Store, StoreError};

/// The namespace of user stream ids: `Uuid::new_v5(&USER_NAMESPACE, username)`.
pub const USER_NAMESPACE: Uuid = Uuid::from_u128(0x5b1d_7c3e_2f0a_4e8b_9c6d_1a2b_3c4d_5e6f);

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The domain or the store refused it (validation names the field: `username`,
    /// `password`, `regions`...).
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The password hasher failed (not the password's fault).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<DomainError> for AccountError {
    fn from(error: DomainError) -> Self {
        AccountError::Command(CommandError::Domain(error))
    }
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        AccountError::Command(CommandError::Store(error))
    }
}

impl AccountError {
    /// The refused field and rule code, when the failure is a validation.
    pub fn validation(&self) -> Option<(&str, &'static str)> {
        match self {
            AccountError::Command(CommandError::Domain(e)) => Some((e.field(), e.code())),
            _ => None,
        }
    }
}

/// Someone who signed in: what their events record and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    /// The user's id (its stream).
    pub user_id: Uuid,
    /// The name it signs in with.
    pub username: String,
    /// The name shown to others, when given.
    pub display_name: Option<String>,
    /// Its role.
    pub role: Role,
    /// For editors, the regions it may write.
    pub regions: Vec<String>,
}

impl UserPrincipal {
    /// The actor recorded in the metadata of the events this user writes.
    pub fn actor(&self) -> Actor {
        let name = self.display_name.as_ref().unwrap_or(&self.username);
        Actor::new(format!("user:{}", self.user_id), name.clone())
    }
}

/// A user as listed: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserInfo {
    /// Its id.
    pub id: DbUuid,
    /// The name it signs in with.
    pub username: String,
    /// The name shown to others.
    pub display_name: Option<String>,
    /// Its role.
    pub role: String,
    /// JSON array of its regions.
    pub regions: String,
    /// 1 when disabled.
    pub disabled: i64,
    /// 1 when a password is set (a user of an imported log has none until one is set again).
    pub has_password: i64,
}

/// The stream id of a username.
pub fn user_id(username: &str) -> Uuid {
    Uuid::new_v5(&USER_NAMESPACE, username.as_bytes())
}

/// Hashes a password with argon2id and the crate's default parameters (see Cargo.toml), with a
/// fresh random salt; the PHC string carries both. Slow on purpose: run off the async threads.
async fn hash(password: &str) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccountError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))?
}

/// Whether `password` matches the PHC string `phc` (false when `phc` is not one).
async fn matches(phc: String, password: &str) -> Result<bool, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))
}

/// A hash of nothing anyone knows, with the real parameters: verified against when the username
/// is unknown or has no password, so that such a sign-in costs what a wrong password costs.
async fn dummy_hash() -> Result<String, AccountError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(phc) = DUMMY.get() {
        return Ok(phc.clone());
    }
    let phc = hash(&Uuid::new_v4().to_string()).await?;
    Ok(DUMMY.get_or_init(|| phc).clone())
}

/// The id and disabled flag of a username, from the read model.
async fn find(pool: &Pool, username: &str) -> Result<Option<(Uuid, bool)>, StoreError> {
    const SQL: &str = "SELECT id, disabled FROM rm_users WHERE username = $1";
    let row = on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, i64)>(SQL)
        .bind(username)
        .fetch_optional(p)
        .await?);
    Ok(row.map(|(id, disabled)| (id.0, disabled != 0)))
}

/// The id of an existing username, or a validation error naming `username`.
async fn existing(pool: &Pool, username: &str) -> Result<Uuid, AccountError> {
    match find(pool, username).await? {
        Some((id, _)) => Ok(id),
        None => Err(DomainError::validation("username", Rule::NotCreated).into()),
    }
}

/// Writes (or replaces) a user's password hash.
async fn store_credential(pool: &Pool, user_id: Uuid, phc: &str) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO credentials (user_id, phc, updated_at) VALUES ($1, $2, $3) \
        ON CONFLICT (user_id) DO UPDATE SET phc = excluded.phc, updated_at = excluded.updated_at";
    let now = DbTime(chrono::Utc::now());
    on_pool!(pool, p => sqlx::query(SQL)
        .bind(DbUuid(user_id))
        .bind(phc)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Creates a user with a password; returns its id. The password is checked first (12 to 1,024
/// characters, a validation error naming `password`), then the username (format, and free in
/// the read model: `ALREADY_EXISTS` naming `username`). The `UserCreated` event is appended, then
/// the hash is written to `credentials`: should that write fail, the user exists without a
/// password (it cannot sign in) until [`set_password`] gives it one.
pub async fn create_user(
    store: &Store,
    username: &str,
    display_name: Option<&str>,
    role: Role,
    regions: &[String],
    password: &str,
    by: Actor,
) -> Result<Uuid, AccountError> {
    check_password("password", password)?;
    check_username("username", username)?;
    let taken = || DomainError::validation("username", Rule::AlreadyExists);
    if find(store.pool(), username).await?.is_some() {
        return Err(taken().into());
    }
    let phc = hash(password).await?;
    let id = user_id(username);
    let command = AnyCommand::User(user::Command::CreateUser(user::CreateUser {
        user_id: id,
        username: username.to_owned(),
        display_name: display_name.map(str::to_owned),
        role,
        regions: regions.iter().map(RegionCode::new).collect(),
    }));
    match execute(store, command, CommandContext::new(by)).await {
        Ok(_) => {}
        // Created meanwhile by someone else: the same refusal as above.
        Err(CommandError::Domain(e)) if e.field() == "user_id" => return Err(taken().into()),
        Err(e) => return Err(e.into()),
    }
    store_credential(store.pool(), id, &phc).await?;
    Ok(id)
}

/// Sets (or replaces) a user's password. Not an event: see the module's documentation.
pub async fn set_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), AccountError> {
    check_password("password", password)?;
    let id = existing(store.pool(), username).await?;
    let phc = hash(password).await?;
    store_credential(store.pool(), id, &phc).await?;
    Ok(())
}

/// Disables a user: it can no longer sign in (its events and password stay).
pub async fn disable_user(store: &Store, username: &str, by: Actor) -> Result<(), AccountError> {
    let id = existing(store.pool(), username).await?;
    let command = AnyCommand::User(user::Command::DisableUser(user::DisableUser {
        user_id: id,
    }));
    execute(store, command, CommandContext::new(by)).await?;
    Ok(())
}

/// Enables a disabled user again.
pub async fn enable_user(store: &Store, username: &str, by: Actor) -> Result<(), AccountError> {
    let id = existing(store.pool(), username).await?;
    let command = AnyCommand::User(user::Command::EnableUser(user::EnableUser { user_id: id }));
    execute(store, command, CommandContext::new(by)).await?;
    Ok(())
}

/// Every user, by username, without password hashes.
pub async fn list_users(pool: &Pool) -> Result<Vec<UserInfo>, StoreError> {
    const SQL: &str = "SELECT u.id, u.username, u.display_name, u.role, u.regions, u.disabled, \
        CAST(CASE WHEN c.user_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password \
        FROM rm_users u LEFT JOIN credentials c ON c.user_id = u.id ORDER BY u.username";
    Ok(on_pool!(pool, p => sqlx::query_as::<_, UserInfo>(SQL).fetch_all(p).await?))
}

/// Checks an e-mail address with lettre's parser: `INVALID_FORMAT` naming `email` when it is not
/// one (`name@domain`, no display name, no spaces).
pub fn check_email(email: &str) -> Result<(), AccountError> {
    if email.trim().parse::<lettre::Address>().is_ok() {
        return Ok(());
    }
    let rule = Rule::InvalidFormat {
        expected: "an e-mail address (name@domain)".to_owned(),
    };
    Err(DomainError::validation("email", rule).into())
}

/// Sets (or replaces) a user's e-mail address, where `shura remind` sends its digests. Like the
/// password, not an event: an address is personal data to correct or erase, which the log could
/// never do (see `migrations/*/0010_user_emails.sql`). The address is checked with lettre's
/// parser (`INVALID_FORMAT` naming `email`) and kept as given, trimmed.
pub async fn set_email(store: &Store, username: &str, email: &str) -> Result<(), AccountError> {
    const SQL: &str = "INSERT INTO user_emails (user_id, email, updated_at) VALUES ($1, $2, $3) \
        ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, \
        updated_at = excluded.updated_at";
    let email = email.trim();
    check_email(email)?;
    let id = existing(store.pool(), username).await?;
    let now = DbTime(chrono::Utc::now());
    on_pool!(store.pool(), p => sqlx::query(SQL)
        .bind(DbUuid(id))
        .bind(email)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(StoreError::from)?);
    Ok(())
}

/// An active user with an e-mail address: whom `shura remind` may write to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserEmail {
    /// Its id.
    pub id: DbUuid,
    /// The name it signs in with.
    pub username: String,
    /// The name shown to others.
    pub display_name: Option<String>,
    /// Its role.
    pub role: String,
    /// JSON array of its regions.
    pub regions: String,
    /// Its address.
    pub email: String,
}

/// Every user that is not disabled and has an e-mail address, by username.
pub async fn users_with_email(pool: &Pool) -> Result<Vec<UserEmail>, StoreError> {
    const SQL: &str = "SELECT u.id, u.username, u.display_name, u.role, u.regions, e.email \
        FROM rm_users u JOIN user_emails e ON e.user_id = u.id WHERE u.disabled = 0 \
        ORDER BY u.username";
    Ok(on_pool!(pool, p => sqlx::query_as::<_, UserEmail>(SQL).fetch_all(p).await?))
}

/// Checks a username and password. `None` when the user is unknown, has no password, is
/// disabled, or the password does not match; the caller cannot tell which (log it, never show
/// it). An argon2id verification runs in every case but a password longer than the longest
/// accepted one, so that an unknown name costs what a wrong password costs.
pub async fn verify_password(
    pool: &Pool,
    username: &str,
    password: &str,
) -> Result<Option<UserPrincipal>, AccountError> {
    const SQL: &str = "SELECT u.id, u.display_name, u.role, u.regions, u.disabled, c.phc \
        FROM rm_users u LEFT JOIN credentials c ON c.user_id = u.id WHERE u.username = $1";
    type Row = (DbUuid, Option<String>, String, String, i64, Option<String>);
    if password.chars().count() > PASSWORD_MAX {
        return Ok(None);
    }
    let row = on_pool!(pool, p => sqlx::query_as::<_, Row>(SQL)
        .bind(username)
        .fetch_optional(p)
        .await
        .map_err(StoreError::from)?);
    let Some((id, display_name, role, regions, disabled, Some(phc))) = row else {
        let _ = matches(dummy_hash().await?, password).await?;
        return Ok(None);
    };
    if !matches(phc, password).await? || disabled != 0 {
        return Ok(None);
    }
    let Ok(role) = Role::parse("role", &role) else {
        return Ok(None);
    };
    Ok(Some(UserPrincipal {
        user_id: id.0,
        username: username.to_owned(),
        display_name,
        role,
        regions: serde_json::from_str(&regions).unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_follow_the_username_alone() {
        assert_eq!(user_id("s.bennani"), user_id("s.bennani"));
        assert_ne!(user_id("s.bennani"), user_id("s.bennan1"));
    }

    #[tokio::test]
    async fn hashes_are_salted_argon2id_and_verify_only_their_password() {
        let first = hash("correct horse battery").await.unwrap();
        let second = hash("correct horse battery").await.unwrap();
        assert!(first.starts_with("$argon2id$v=19$"), "{first}");
        assert_ne!(first, second, "a fresh salt each time");
        assert!(matches(first.clone(), "correct horse battery")
            .await
            .unwrap());
        assert!(!matches(first, "correct horse batterY").await.unwrap());
        assert!(!matches("not a phc".into(), "anything").await.unwrap());
        assert!(dummy_hash().await.unwrap().starts_with("$argon2id$"));
    }
}
