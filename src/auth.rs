//! Access control: bearer tokens, roles, regions and personal data.
//!
//! A token is `shura_<id>_<secret>`; its stream records only the SHA-256 of the secret. A request
//! carries at most one token (`Authorization: Bearer ...`, or the `Authorization` field of a
//! WebSocket `connection_init`). Roles: `admin` does everything; `editor` writes consultations,
//! organisations and follow-ups of its own regions (people are not regional: any editor may
//! record them) and reads the read models; `viewer` reads the read models without contact
//! details; `auditor` reads everything, the event log included, and writes nothing. Without a
//! token only the schema is readable, unless the server runs with `--public-read`, which opens the
//! read models (never the log, never contact details).

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands::{execute, AnyCommand, CommandContext, CommandError};
use crate::domain::token::{self, Role};
use crate::domain::{consultation, organisation, RegionCode};
use crate::error::{ApiError, Code};
use crate::projections::lists;
use crate::store::{on_pool, Actor, DbUuid, Pool, Store};

/// Who is asking, once the request's token (if any) was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// No token.
    Anonymous {
        /// Whether the server lets anonymous clients read the read models.
        public_read: bool,
    },
    /// A valid token's holder.
    Token(Principal),
    /// Someone signed in to the web app (see [`crate::web`]): the same roles and regions as a
    /// token's, under the person's own name.
    User(crate::accounts::UserPrincipal),
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The token's id.
    pub token_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For editors, the regions it may write.
    pub regions: Vec<String>,
}

impl Principal {
    /// The actor recorded in the metadata of the events this principal writes.
    pub fn actor(&self) -> Actor {
        Actor::new(format!("token:{}", self.token_id), self.name.clone())
    }
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        Code::Unauthenticated,
        "authentication required: send Authorization: Bearer <token>",
    )
}

fn forbidden(what: &str) -> ApiError {
    ApiError::new(Code::Forbidden, format!("this token may not {what}"))
}

impl Access {
    /// The actor for events: the principal, or `anonymous` (which can never write).
    pub fn actor(&self) -> Actor {
        match self {
            Access::Token(p) => p.actor(),
            Access::User(u) => u.actor(),
            Access::Anonymous { .. } => Actor::new("anonymous", "Anonymous"),
        }
    }

    /// The role and regions of a token's holder or a signed-in user.
    pub fn holder(&self) -> Option<(Role, &[String])> {
        match self {
            Access::Token(p) => Some((p.role, &p.regions)),
            Access::User(u) => Some((u.role, &u.regions)),
            Access::Anonymous { .. } => None,
        }
    }

    /// May read the read models.
    pub fn read_models(&self) -> Result<(), ApiError> {
        match self {
            Access::Token(_) | Access::User(_) | Access::Anonymous { public_read: true } => Ok(()),
            Access::Anonymous { public_read: false } => Err(unauthenticated()),
        }
    }

    /// May read the event log and its metadata (and fold history from it).
    pub fn read_log(&self) -> Result<(), ApiError> {
        match self.holder() {
            Some((Role::Admin | Role::Auditor, _)) => Ok(()),
            Some(_) => Err(forbidden("read the event log")),
            None => Err(unauthenticated()),
        }
    }

    /// May read one record's history (who changed what, when, why) and its earlier states, for
    /// a record of `region`: whoever reads the log (admins, auditors), and the editors of that
    /// region, who keep its record and answer for it. The web app's consultation and action
    /// pages show it by this rule; the whole log stays with [`Access::read_log`].
    pub fn history(&self, region: Option<&str>) -> Result<(), ApiError> {
        match self.holder() {
            Some((Role::Admin | Role::Auditor, _)) => Ok(()),
            Some((Role::Editor, regions))
                if region.is_some_and(|r| regions.iter().any(|own| own == r)) =>
            {
                Ok(())
            }
            Some(_) => Err(forbidden("read this record's history")),
            None => Err(unauthenticated()),
        }
    }

    /// May read participants' contact details in a consultation of `region`.
    pub fn contacts(&self, region: Option<&str>) -> Result<(), ApiError> {
        match self.holder() {
            Some((role, regions)) => match role {
                Role::Admin | Role::Auditor => Ok(()),
                Role::Editor if region.is_some_and(|r| regions.iter().any(|own| own == r)) => {
                    Ok(())
                }
                _ => Err(forbidden("read contact details here")),
            },
            None => Err(forbidden("read contact details")),
        }
    }

    /// May write something that touches these regions (`None`: no region).
    pub fn write(&self, regions: &[Option<String>]) -> Result<(), ApiError> {
        match self.holder() {
            None => Err(unauthenticated()),
            Some((role, own_regions)) => match role {
                Role::Admin => Ok(()),
                Role::Viewer | Role::Auditor => Err(forbidden("write")),
                Role::Editor => {
                    let own = |r: &Option<String>| {
                        r.as_ref()
                            .is_some_and(|r| own_regions.iter().any(|own| own == r))
                    };
                    if regions.iter().all(own) {
                        Ok(())
                    } else {
                        Err(forbidden("write outside its regions"))
                    }
                }
            },
        }
    }
}

/// The regions a command touches: from the command itself, and for existing targets from the
/// read models (written in the same transaction as every append, so as current as the log).
pub async fn write_scope(
    store: &Store,
    command: &AnyCommand,
) -> Result<Vec<Option<String>>, CommandError> {
    use consultation::Command as C;
    let pool = store.pool();
    let code = |r: &Option<RegionCode>| r.as_ref().map(|r| r.as_str().to_owned());
    let planned = |d: &consultation::ConsultationDetails| {
        code(&d.region).or(d.place.as_ref().and_then(|p| code(&p.region)))
    };
    Ok(match command {
        AnyCommand::Consultation(C::PlanConsultation(c)) => vec![planned(&c.details)],
        AnyCommand::Consultation(C::ReviseConsultationDetails(c)) => vec![
            lists::consultation_region(pool, c.consultation_id).await?,
            planned(&c.details),
        ],
        AnyCommand::Consultation(c) => vec![lists::consultation_region(pool, c.stream_id()).await?],
        AnyCommand::Action(crate::domain::action::Command::CreateAction(c)) => {
            vec![lists::consultation_region(pool, c.consultation_id).await?]
        }
        AnyCommand::Action(c) => {
            vec![lists::action(pool, c.stream_id())
                .await?
                .and_then(|a| a.region)]
        }
        AnyCommand::Organisation(c) => {
            let current = lists::organisation(pool, c.stream_id())
                .await?
                .and_then(|o| o.region);
            match c {
                organisation::Command::RegisterOrganisation(r) => vec![code(&r.region)],
                organisation::Command::CorrectOrganisationDetails(r) => {
                    vec![current, code(&r.region)]
                }
                _ => vec![current],
            }
        }
        // Erasing personal data is for admins only, like tokens and users.
        AnyCommand::Person(crate::domain::person::Command::EraseContact(_)) => vec![None],
        AnyCommand::Person(_) => Vec::new(),
        // Tokens are never regional; only admins hold the right, checked by the caller.
        AnyCommand::Token(_) => vec![None],
        // Users are never regional either; only admins manage them (`crate::accounts`).
        AnyCommand::User(_) => vec![None],
    })
}

/// Why [`run_as`] did not run a command.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The access may not write there (`UNAUTHENTICATED` or `FORBIDDEN`); nothing was decided.
    #[error("write refused: {}", .0.message)]
    Refused(ApiError),
    /// The domain or the store refused it, or the store failed.
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Runs a command for `access`, the one write path of every edge (GraphQL, the web app): the
/// regions the command touches ([`write_scope`]) are checked against [`Access::write`] before
/// anything is decided, so a refused write appends nothing; the events record the access's
/// actor.
pub async fn run_as(
    store: &Store,
    access: &Access,
    command: AnyCommand,
    mut context: CommandContext,
) -> Result<crate::commands::CommandOutcome, WriteError> {
    let scope = write_scope(store, &command).await?;
    access.write(&scope).map_err(WriteError::Refused)?;
    context.actor = access.actor();
    Ok(execute(store, command, context).await?)
}

/// A new token: its id and the secret, shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token's id.
    pub id: Uuid,
    /// The bearer token to hand over: `shura_<id>_<secret>`.
    pub bearer: String,
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Creates a token; the returned bearer is the only copy of the secret.
pub async fn create_token(
    store: &Store,
    name: &str,
    role: Role,
    regions: &[String],
    by: Actor,
) -> Result<IssuedToken, CommandError> {
    let id = Uuid::new_v4();
    // Two random UUIDs: 244 random bits from the operating system's generator.
    let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let command = AnyCommand::Token(token::Command::CreateToken(token::CreateToken {
        token_id: id,
        name: name.to_owned(),
        role,
        regions: regions.iter().map(RegionCode::new).collect(),
        secret_hash: hex::encode(digest(&secret)),
    }));
    execute(store, command, CommandContext::new(by)).await?;
    Ok(IssuedToken {
        id,
        bearer: format!("shura_{}_{}", id.simple(), secret),
    })
}

/// Revokes a token at once: the next request with it is refused.
pub async fn revoke_token(store: &Store, id: Uuid, by: Actor) -> Result<(), CommandError> {
    let command = AnyCommand::Token(token::Command::RevokeToken(token::RevokeToken {
        token_id: id,
    }));
    execute(store, command, CommandContext::new(by))
        .await
        .map(|_| ())
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenInfo {
    /// Its id.
    pub id: DbUuid,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// JSON array of its regions.
    pub regions: String,
    /// 1 when revoked.
    pub revoked: i64,
}

/// Every token, without secrets.
pub async fn list_tokens(pool: &Pool) -> Result<Vec<TokenInfo>, crate::store::StoreError> {
    const SQL: &str = "SELECT id, name, role, regions, revoked FROM rm_tokens ORDER BY name, id";
    Ok(on_pool!(pool, p => sqlx::query_as::<_, TokenInfo>(SQL).fetch_all(p).await?))
}

/// Why a token was refused (logged, never shown in detail to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not of the token's shape.
    Malformed,
    /// No such token, or the secret does not match.
    Unknown,
    /// Revoked.
    Revoked,
}

/// A bearer's token id and secret, when it has a token's shape (nothing checked yet).
fn parts(bearer: &str) -> Option<(Uuid, &str)> {
    bearer
        .strip_prefix("shura_")
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(id, secret)| Uuid::try_parse(id).ok().map(|id| (id, secret)))
}

/// The token id a bearer names, if it has a token's shape: what failed attempts are counted
/// by, so that one client's wrong guesses do not lock out another token used from the same
/// address.
pub fn token_id(bearer: &str) -> Option<Uuid> {
    parts(bearer).map(|(id, _)| id)
}

/// Whether a principal's token still grants what it granted when it was checked: not revoked,
/// same role, same regions. Open subscriptions ask this, so a revocation ends them.
pub async fn still_valid(
    pool: &Pool,
    principal: &Principal,
) -> Result<bool, crate::store::StoreError> {
    const SQL: &str = "SELECT role, regions, revoked FROM rm_tokens WHERE id = $1";
    let row = on_pool!(pool, p => sqlx::query_as::<_, (String, String, i64)>(SQL)
        .bind(DbUuid(principal.token_id))
        .fetch_optional(p)
        .await?);
    Ok(match row {
        Some((role, regions, revoked)) => {
            let regions: Vec<String> = serde_json::from_str(&regions).unwrap_or_default();
            revoked == 0
                && Role::parse("role", &role).is_ok_and(|r| r == principal.role)
                && regions == principal.regions
        }
        None => false,
    })
}

/// Checks a bearer token against the token read model.
pub async fn authenticate(
    pool: &Pool,
    bearer: &str,
) -> Result<Result<Principal, Refusal>, crate::store::StoreError> {
    const SQL: &str =
        "SELECT name, role, regions, secret_hash, revoked FROM rm_tokens WHERE id = $1";
    let Some((id, secret)) = parts(bearer) else {
        return Ok(Err(Refusal::Malformed));
    };
    let row = on_pool!(pool, p => sqlx::query_as::<_, (String, String, String, String, i64)>(SQL)
        .bind(DbUuid(id))
        .fetch_optional(p)
        .await?);
    let Some((name, role, regions, stored_hash, revoked)) = row else {
        // Hash anyway, so an unknown id costs what a wrong secret costs.
        let _ = constant_time_eq(&digest(secret), &[0u8; 32]);
        return Ok(Err(Refusal::Unknown));
    };
    let stored: [u8; 32] = hex::decode(&stored_hash)
        .ok()
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0u8; 32]);
    if !constant_time_eq(&digest(secret), &stored) {
        return Ok(Err(Refusal::Unknown));
    }
    if revoked != 0 {
        return Ok(Err(Refusal::Revoked));
    }
    let Ok(role) = Role::parse("role", &role) else {
        return Ok(Err(Refusal::Unknown));
    };
    Ok(Ok(Principal {
        token_id: id,
        name,
        role,
        regions: serde_json::from_str(&regions).unwrap_or_default(),
    }))
}

/// Compares two digests in time independent of where they differ (`subtle`, not our own loop:
/// the compiler may not turn its comparison back into an early exit).
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editor(regions: &[&str]) -> Access {
        Access::Token(Principal {
            token_id: Uuid::nil(),
            name: "DR Fès".into(),
            role: Role::Editor,
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        })
    }

    #[test]
    fn editors_write_only_their_regions() {
        let fes = editor(&["MA-03"]);
        assert!(fes.write(&[Some("MA-03".into())]).is_ok());
        assert!(fes.write(&[]).is_ok(), "people are not regional");
        assert_eq!(
            fes.write(&[Some("MA-04".into())]).unwrap_err().code,
            Code::Forbidden
        );
        assert_eq!(fes.write(&[None]).unwrap_err().code, Code::Forbidden);
        assert_eq!(
            fes.write(&[Some("MA-03".into()), Some("MA-04".into())])
                .unwrap_err()
                .code,
            Code::Forbidden,
            "moving a consultation out of its region needs both"
        );
        assert!(fes.contacts(Some("MA-03")).is_ok());
        assert!(fes.contacts(Some("MA-04")).is_err());
        assert_eq!(fes.read_log().unwrap_err().code, Code::Forbidden);
    }

    #[test]
    fn anonymous_reads_only_with_public_read_and_never_the_log() {
        let closed = Access::Anonymous { public_read: false };
        assert_eq!(
            closed.read_models().unwrap_err().code,
            Code::Unauthenticated
        );
        let open = Access::Anonymous { public_read: true };
        assert!(open.read_models().is_ok());
        assert_eq!(open.read_log().unwrap_err().code, Code::Unauthenticated);
        assert!(open.contacts(Some("MA-03")).is_err());
        assert_eq!(open.write(&[]).unwrap_err().code, Code::Unauthenticated);
    }

    #[test]
    fn digests_compare_whole() {
        let a = digest("secret");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}
