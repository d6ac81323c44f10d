//! Signed checkpoints: the log's head, signed with an Ed25519 key, for anyone to keep a copy of.
//!
//! A checkpoint says "at `recorded_at`, the event at `position` had chain hash `hash`", signed by
//! the key whose id is `key_id`. Whoever kept a copy outside the database can later check that
//! the log still holds that exact event hash at that position: a history rewritten with every
//! later hash recomputed (which the chain alone cannot show) no longer does.
//!
//! The signed message is the UTF-8 text
//! `shura-checkpoint-v1\n{position}\n{hash}\n{recorded_at}` (no final newline): the domain
//! prefix keeps a checkpoint signature from being taken for any other message of the same key,
//! `position` is in decimal, `hash` is the 64 lowercase hex digits of the chain hash and
//! `recorded_at` the log's time text (`2026-11-22T10:00:00.000000Z`). The key id is the first 16
//! hex digits of SHA-256 over the 32 bytes of the public key. Secret keys are stored as the 64 hex
//! digits of their 32-byte seed, public keys as the 64 hex digits of their 32 bytes.
//!
//! Checkpoints are not events: they sign the log and are kept beside it, in the `checkpoints`
//! table, never in it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::store::{format_time, on_pool, parse_time, Pool, Store, StoreError};

/// The domain-separation prefix of the signed message (its first line).
pub const DOMAIN: &str = "shura-checkpoint-v1";
/// The most checkpoints `GET /checkpoints` returns (the newest).
pub const MAX_LISTED: i64 = 1_000;

/// A signed statement of the log's head at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The position signed.
    pub position: i64,
    /// The chain hash of the event at `position`, 64 lowercase hex digits.
    pub hash: String,
    /// When the checkpoint was made, in the log's time text.
    pub recorded_at: String,
    /// The Ed25519 signature of [`message`], 128 hex digits.
    pub signature: String,
    /// Which key signed it: see [`key_id`].
    pub key_id: String,
}

/// Why checkpoints could not be made, read or checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A key file exists where a new one was to be written.
    #[error("{0} already exists: refusing to overwrite it")]
    Exists(PathBuf),
    /// A key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A key file does not hold a key.
    #[error("{path}: {reason}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system gave no random bytes.
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
    /// An empty log has no event to sign.
    #[error("the log is empty: there is no event to sign yet")]
    EmptyLog,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A secret key ready to sign checkpoints. Its `Debug` shows the key id only.
#[derive(Clone)]
pub struct CheckpointSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    fn new(key: SigningKey) -> Self {
        let key_id = key_id(&key.verifying_key());
        CheckpointSigner { key, key_id }
    }

    /// Reads a secret key written by [`write_key_pair`].
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let seed = read_hex_key(path)?;
        Ok(Self::new(SigningKey::from_bytes(&seed)))
    }

    /// The id of this key's public half.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs `position` and `hash` as of `at`.
    pub fn sign(&self, position: i64, hash: &str, at: DateTime<Utc>) -> Checkpoint {
        let hash = hash.to_lowercase();
        let recorded_at = format_time(&at);
        let signature = self.key.sign(&message(position, &hash, &recorded_at));
        Checkpoint {
            position,
            hash,
            recorded_at,
            signature: hex::encode(signature.to_bytes()),
            key_id: self.key_id.clone(),
        }
    }
}

/// The bytes a checkpoint's signature covers (see the module documentation).
pub fn message(position: i64, hash: &str, recorded_at: &str) -> Vec<u8> {
    format!("{DOMAIN}\n{position}\n{hash}\n{recorded_at}").into_bytes()
}

/// The first 16 hex digits of SHA-256 over the public key's 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..8])
}

/// Writes a new key pair: the secret to `out` (mode 0600 on Unix) and the public key to
/// `out.pub`. Refuses to overwrite either file. Returns the public key.
pub fn write_key_pair(out: &Path) -> Result<VerifyingKey, CheckpointError> {
    let public_path = public_path(out);
    for path in [out, public_path.as_path()] {
        if path.exists() {
            return Err(CheckpointError::Exists(path.to_owned()));
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| CheckpointError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let public = key.verifying_key();
    write_new(out, &format!("{}\n", hex::encode(key.to_bytes())), true)?;
    write_new(
        &public_path,
        &format!("{}\n", hex::encode(public.as_bytes())),
        false,
    )?;
    Ok(public)
}

/// `KEY.pub` for `KEY`.
pub fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), CheckpointError> {
    use std::io::Write;
    let io = |source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    // `create_new` fails if the file appeared since the check: never an overwrite.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CheckpointError::Exists(path.to_owned())
        } else {
            io(e)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a public key written by [`write_key_pair`] (`KEY.pub`).
pub fn load_public_key(path: &Path) -> Result<VerifyingKey, CheckpointError> {
    let bytes = read_hex_key(path)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| CheckpointError::BadKey {
        path: path.to_owned(),
        reason: "not an Ed25519 public key".to_owned(),
    })
}

fn read_hex_key(path: &Path) -> Result<[u8; 32], CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    })?;
    let bad = |reason: &str| CheckpointError::BadKey {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = hex::decode(text.trim()).map_err(|_| bad("not a hex key"))?;
    bytes
        .try_into()
        .map_err(|_| bad("a key is 32 bytes (64 hex digits)"))
}

impl Checkpoint {
    /// Checks the key id and the signature against `key`; the reason when they do not hold.
    pub fn check_signature(&self, key: &VerifyingKey) -> Result<(), String> {
        let expected = key_id(key);
        if self.key_id != expected {
            return Err(format!(
                "key id {} is not that of the public key ({expected})",
                self.key_id
            ));
        }
        if self.hash.len() != 64
            || !self
                .hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("the hash is not 64 lowercase hex digits".to_owned());
        }
        if self.recorded_at.contains('\n') || parse_time(&self.recorded_at).is_err() {
            return Err("recorded_at is not a time".to_owned());
        }
        let signature = hex::decode(&self.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .map(|bytes| Signature::from_bytes(&bytes))
            .ok_or("the signature is not 64 bytes of hex")?;
        key.verify_strict(
            &message(self.position, &self.hash, &self.recorded_at),
            &signature,
        )
        .map_err(|_| "the signature does not verify with the public key".to_owned())
    }

    /// Checks the signature, then that the log still holds this exact event hash at this
    /// position. `Ok(Err(reason))` when the checkpoint is refused.
    pub async fn check(
        &self,
        store: &Store,
        key: &VerifyingKey,
    ) -> Result<Result<(), String>, StoreError> {
        if let Err(reason) = self.check_signature(key) {
            return Ok(Err(reason));
        }
        if self.position < 1 {
            return Ok(Err("a checkpoint signs a position from 1".to_owned()));
        }
        let event = store.read_all_stored(self.position - 1, 1).await?;
        Ok(match event.first() {
            Some(event) if event.position == self.position => {
                if event.hash == self.hash {
                    Ok(())
                } else {
                    Err(format!(
                        "the log holds hash {} at position {}, not the signed {}: the history \
                         up to here was rewritten",
                        event.hash, self.position, self.hash
                    ))
                }
            }
            _ => Err(format!(
                "the log no longer holds position {}: it was truncated or events were removed",
                self.position
            )),
        })
    }

    /// A short name for messages: `position P (key K, at T)`.
    pub fn label(&self) -> String {
        format!(
            "position {} (key {}, made {})",
            self.position, self.key_id, self.recorded_at
        )
    }
}

/// Signs the log's current head and stores the checkpoint.
pub async fn make(pool: &Pool, signer: &CheckpointSigner) -> Result<Checkpoint, CheckpointError> {
    let (position, hash) = read_head(pool).await?;
    if position < 1 {
        return Err(CheckpointError::EmptyLog);
    }
    let checkpoint = signer.sign(position, &hash, Utc::now());
    insert(pool, &checkpoint).await?;
    Ok(checkpoint)
}

async fn read_head(pool: &Pool) -> Result<(i64, String), StoreError> {
    const SQL: &str = "SELECT position, hash FROM log_head WHERE id = 1";
    Ok(on_pool!(pool, p => sqlx::query_as::<_, (i64, String)>(SQL).fetch_one(p).await?))
}

/// Stores a checkpoint beside the log.
pub async fn insert(pool: &Pool, checkpoint: &Checkpoint) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO checkpoints (position, hash, recorded_at, signature, key_id) \
                       VALUES ($1, $2, $3, $4, $5)";
    on_pool!(pool, p => sqlx::query(SQL)
        .bind(checkpoint.position)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.recorded_at)
        .bind(&checkpoint.signature)
        .bind(&checkpoint.key_id)
        .execute(p)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The newest checkpoints first, at most `limit` (capped at [`MAX_LISTED`]).
pub async fn list(pool: &Pool, limit: i64) -> Result<Vec<Checkpoint>, StoreError> {
    const SQL: &str = "SELECT position, hash, recorded_at, signature, key_id FROM checkpoints \
                       ORDER BY id DESC LIMIT $1";
    let rows = on_pool!(pool, p => sqlx::query_as::<_, (i64, String, String, String, String)>(SQL)
        .bind(limit.clamp(0, MAX_LISTED))
        .fetch_all(p)
        .await?);
    Ok(rows
        .into_iter()
        .map(
            |(position, hash, recorded_at, signature, key_id)| Checkpoint {
                position,
                hash,
                recorded_at,
                signature,
                key_id,
            },
        )
        .collect())
}

/// The highest position a key has signed, 0 when none.
async fn last_signed(pool: &Pool, key_id: &str) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COALESCE(MAX(position), 0) FROM checkpoints WHERE key_id = $1";
    Ok(on_pool!(pool, p => sqlx::query_scalar::<_, i64>(SQL)
        .bind(key_id)
        .fetch_one(p)
        .await?))
}

/// What `serve --checkpoint-key KEY --checkpoint-every N` asks for.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The key that signs.
    pub signer: Arc<CheckpointSigner>,
    /// Events between two checkpoints (at least 1).
    pub every: i64,
}

/// Makes a checkpoint whenever the log has grown by `every` events since the key's last one,
/// following the store's head. It holds the pool, not the store, and ends when the store goes.
pub fn spawn_every(store: &Store, signer: Arc<CheckpointSigner>, every: i64) {
    let pool = store.pool().clone();
    let head = store.watch_head();
    tokio::spawn(async move { run_every(pool, head, signer, every.max(1)).await });
}

async fn run_every(
    pool: Pool,
    mut head: watch::Receiver<i64>,
    signer: Arc<CheckpointSigner>,
    every: i64,
) {
    let mut last = match last_signed(&pool, signer.key_id()).await {
        Ok(last) => last,
        Err(error) => {
            tracing::warn!(%error, "checkpoints: cannot read the last one; starting from 0");
            0
        }
    };
    loop {
        let position = *head.borrow_and_update();
        if position >= last + every {
            match make(&pool, &signer).await {
                Ok(checkpoint) => {
                    tracing::info!(
                        position = checkpoint.position,
                        key_id = %checkpoint.key_id,
                        "checkpoint signed"
                    );
                    last = checkpoint.position;
                }
                Err(error) => tracing::warn!(%error, "checkpoint not made; retrying later"),
            }
        }
        if head.changed().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> CheckpointSigner {
        CheckpointSigner::new(SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn the_signed_message_is_the_documented_text() {
        assert_eq!(
            message(7, "ab", "2026-01-01T00:00:00.000000Z"),
            b"shura-checkpoint-v1\n7\nab\n2026-01-01T00:00:00.000000Z".to_vec()
        );
    }

    #[test]
    fn a_signature_holds_for_its_key_and_content_only() {
        let hash = "a".repeat(64);
        let good = signer(1).sign(3, &hash, Utc::now());
        let key = signer(1).public_key();
        assert_eq!(good.check_signature(&key), Ok(()));
        assert_eq!(good.key_id.len(), 16);

        let mut moved = good.clone();
        moved.position = 4;
        assert!(moved.check_signature(&key).is_err());

        let other = signer(2).sign(3, &hash, Utc::now());
        let refused = other.check_signature(&key).unwrap_err();
        assert!(refused.contains("key id"), "{refused}");
        let mut relabelled = other;
        relabelled.key_id = good.key_id.clone();
        let refused = relabelled.check_signature(&key).unwrap_err();
        assert!(refused.contains("does not verify"), "{refused}");
    }

    #[test]
    fn key_files_are_new_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let public = write_key_pair(&path).unwrap();
        let signer = CheckpointSigner::load(&path).unwrap();
        assert_eq!(signer.public_key(), public);
        assert_eq!(load_public_key(&public_path(&path)).unwrap(), public);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            write_key_pair(&path),
            Err(CheckpointError::Exists(_))
        ));
        assert!(format!("{signer:?}").contains(signer.key_id()));
        assert!(!format!("{signer:?}").contains(&hex::encode(signer.key.to_bytes())));
    }
}
