//! Erasure of personal data without breaking the hash chain ("crypto-shredding").
//!
//! The log is append-only and hash-chained, so personal data written to it in clear could never
//! be removed. Instead, every personal value is written *sealed*: encrypted with
//! XChaCha20-Poly1305 (the RustCrypto AEAD) under a key per person, kept outside the log in
//! `personal_keys`. Erasing a person deletes its key and records `ContactErased` on its stream:
//! the log, its hashes and every export keep the ciphertext, which nothing can open any more.
//!
//! The domain stays pure and decides on clear values: sealing happens here, when the
//! application layer ([`crate::commands`]) turns decided events into payloads, and opening
//! happens where events are read to be folded or projected ([`unseal_recorded`],
//! [`unseal_projected`]): one function ([`open_payload`]) with the keys as input, where a value
//! whose key is gone reads as `{"erased": true}` (a [`Contact`](crate::domain::Contact) with
//! `erased` set). Auditors' reads of the stored log (history, feed, NDJSON export) show the
//! sealed form as written.
//!
//! Which values are personal is declared once, in [`PERSONAL_FIELDS`].

use std::collections::HashMap;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::consultation;
use crate::store::{
    canonical_json, on_pool, on_tx, DbUuid, NewEvent, Pool, Store, StoreError, StoredEvent, Tx,
};

/// Where a personal value sits in an event's payload, and whose it is.
struct PersonalField {
    /// The stream type of the event.
    stream_type: &'static str,
    /// The event type.
    event_type: &'static str,
    /// JSON pointer to the value.
    value: &'static str,
    /// JSON pointers to the ids of whom it belongs to, the first present one wins: the person
    /// when the participant names one, else the participant itself.
    subjects: &'static [&'static str],
}

/// Every personal value the log holds: participants' contact details.
const PERSONAL_FIELDS: &[PersonalField] = &[
    PersonalField {
        stream_type: consultation::STREAM_TYPE,
        event_type: "ParticipantRegistered",
        value: "/participant/contact",
        subjects: &["/participant/person_id", "/participant/participant_id"],
    },
    PersonalField {
        stream_type: consultation::STREAM_TYPE,
        event_type: "ParticipantContactChanged",
        value: "/contact",
        subjects: &["/person_id", "/participant_id"],
    },
];

/// The member that marks a sealed value: `{"sealed": {"alg", "key", "subject", "nonce",
/// "ciphertext"}}`.
const SEALED: &str = "sealed";
/// The algorithm named in each sealed value, so that another one could follow.
const ALG: &str = "XChaCha20-Poly1305";
/// Key length of XChaCha20-Poly1305.
const KEY_LEN: usize = 32;
/// Nonce length of XChaCha20-Poly1305: long enough to be drawn at random for every value.
const NONCE_LEN: usize = 24;

/// The personal fields of an event type.
fn fields_of<'a>(
    stream_type: &'a str,
    event_type: &'a str,
) -> impl Iterator<Item = &'static PersonalField> + 'a {
    PERSONAL_FIELDS
        .iter()
        .filter(move |f| f.stream_type == stream_type && f.event_type == event_type)
}

/// The associated data of a sealed value: it binds the ciphertext to its stream, event type,
/// place in the payload, subject and key, so that it cannot be moved elsewhere and still open.
fn associated_data(
    stream_type: &str,
    stream_id: Uuid,
    event_type: &str,
    field: &PersonalField,
    subject: Uuid,
    key_id: Uuid,
) -> String {
    format!(
        "shura-sealed-v1\n{stream_type}\n{stream_id}\n{event_type}\n{}\n{subject}\n{key_id}",
        field.value
    )
}

fn cipher(secret: &[u8]) -> Result<XChaCha20Poly1305, StoreError> {
    XChaCha20Poly1305::new_from_slice(secret)
        .map_err(|_| StoreError::Io(std::io::Error::other("a personal key has the wrong length")))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        StoreError::Io(std::io::Error::other(format!(
            "the operating system's random source failed: {e}"
        )))
    })?;
    Ok(bytes)
}

/// A person's current key.
struct SealingKey {
    id: Uuid,
    secret: Vec<u8>,
}

const KEY_OF_SUBJECT: &str = "SELECT key_id, secret FROM personal_keys WHERE subject_id = $1";
const SECRET_OF_KEY: &str = "SELECT secret FROM personal_keys WHERE key_id = $1";

/// One person's key as `personal_keys` holds it: its id, whose it is, the secret.
pub type HeldKey = (Uuid, Uuid, Vec<u8>);

/// Every key still held: what a snapshot kept for `asOf` copies, so that it opens exactly what
/// the live read models open (and shows as erased what was erased since).
pub async fn held_keys(pool: &Pool) -> Result<Vec<HeldKey>, StoreError> {
    const SQL: &str = "SELECT key_id, subject_id, secret FROM personal_keys ORDER BY key_id";
    let rows = on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, DbUuid, Vec<u8>)>(SQL)
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(k, s, secret)| (k.0, s.0, secret))
        .collect())
}

/// The ids of the keys still held (an erasure removes one).
pub async fn held_key_ids(pool: &Pool) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    const SQL: &str = "SELECT key_id FROM personal_keys";
    let rows = on_pool!(pool, p => sqlx::query_scalar::<_, DbUuid>(SQL)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|k| k.0).collect())
}

/// Copies into another store's `personal_keys` the keys still held of the sealed values
/// `events` carry (those it holds already stay): what a copy of these events needs to open
/// what the live read models open.
pub async fn copy_keys(from: &Pool, to: &Pool, events: &[StoredEvent]) -> Result<(), StoreError> {
    const KEY: &str = "SELECT key_id, subject_id, secret FROM personal_keys WHERE key_id = $1";
    let mut ids: Vec<Uuid> = events
        .iter()
        .flat_map(|e| keys_named(&e.stream_type, &e.event_type, &e.payload))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut keys: Vec<HeldKey> = Vec::with_capacity(ids.len());
    for id in ids {
        let key = on_pool!(from, p => sqlx::query_as::<_, (DbUuid, DbUuid, Vec<u8>)>(KEY)
            .bind(DbUuid(id))
            .fetch_optional(p)
            .await)?;
        keys.extend(key.map(|(k, s, secret)| (k.0, s.0, secret)));
    }
    if keys.is_empty() {
        return Ok(());
    }
    put_keys(to, &keys).await
}

/// Writes `keys` into another store's `personal_keys` (one transaction); those it holds
/// already stay.
pub async fn put_keys(pool: &Pool, keys: &[HeldKey]) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO personal_keys (key_id, subject_id, secret) VALUES ($1, $2, $3) \
        ON CONFLICT DO NOTHING";
    on_pool!(pool, p => {
        let mut tx = p.begin().await?;
        for (key, subject, secret) in keys {
            sqlx::query(SQL)
                .bind(DbUuid(*key))
                .bind(DbUuid(*subject))
                .bind(secret.as_slice())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The subject's key, created (32 random bytes) when it has none. Two writers creating one at
/// once agree on the first: the subject is unique, the second insert does nothing.
async fn key_for(pool: &Pool, subject: Uuid) -> Result<SealingKey, StoreError> {
    const INSERT: &str =
        "INSERT INTO personal_keys (key_id, subject_id, secret) VALUES ($1, $2, $3) \
         ON CONFLICT (subject_id) DO NOTHING";
    let find = || async {
        on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, Vec<u8>)>(KEY_OF_SUBJECT)
            .bind(DbUuid(subject))
            .fetch_optional(p)
            .await)
    };
    if let Some((id, secret)) = find().await? {
        return Ok(SealingKey { id: id.0, secret });
    }
    let secret = random_bytes::<KEY_LEN>()?.to_vec();
    on_pool!(pool, p => sqlx::query(INSERT)
        .bind(DbUuid(Uuid::new_v4()))
        .bind(DbUuid(subject))
        .bind(secret.clone())
        .execute(p)
        .await
            .map(|_| ()))?;
    match find().await? {
        Some((id, secret)) => Ok(SealingKey { id: id.0, secret }),
        None => Err(StoreError::Io(std::io::Error::other(
            "a personal key vanished as it was created (erased meanwhile)",
        ))),
    }
}

/// Whether any of these events carries a personal value to seal.
pub fn has_personal(stream_type: &str, events: &[NewEvent]) -> bool {
    events.iter().any(|e| {
        fields_of(stream_type, &e.event_type)
            .any(|f| e.payload.pointer(f.value).is_some_and(|v| !v.is_null()))
    })
}

fn subject_of(payload: &Value, field: &PersonalField) -> Option<Uuid> {
    field.subjects.iter().find_map(|pointer| {
        payload
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    })
}

/// Seals every personal value of events about to be appended to `stream_id`, creating the
/// subjects' keys as needed.
pub async fn seal(
    store: &Store,
    stream_type: &str,
    stream_id: Uuid,
    events: &mut [NewEvent],
) -> Result<(), StoreError> {
    let mut keys: HashMap<Uuid, SealingKey> = HashMap::new();
    for event in events.iter_mut() {
        for field in fields_of(stream_type, &event.event_type) {
            let Some(subject) = subject_of(&event.payload, field) else {
                continue;
            };
            let Some(value) = event.payload.pointer(field.value).filter(|v| !v.is_null()) else {
                continue;
            };
            let plaintext = canonical_json(value);
            let key = match keys.entry(subject) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(key_for(store.pool(), subject).await?)
                }
            };
            let aad = associated_data(
                stream_type,
                stream_id,
                &event.event_type,
                field,
                subject,
                key.id,
            );
            let nonce = random_bytes::<NONCE_LEN>()?;
            let ciphertext = cipher(&key.secret)?
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: plaintext.as_bytes(),
                        aad: aad.as_bytes(),
                    },
                )
                .map_err(|_| StoreError::Io(std::io::Error::other("sealing failed")))?;
            let sealed = json!({SEALED: {
                "alg": ALG,
                "key": key.id,
                "subject": subject,
                "nonce": hex::encode(nonce),
                "ciphertext": hex::encode(ciphertext),
            }});
            if let Some(slot) = event.payload.pointer_mut(field.value) {
                *slot = sealed;
            }
        }
    }
    Ok(())
}

/// The parts of a sealed value.
struct Sealed {
    key: Uuid,
    subject: Uuid,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn sealed_parts(value: &Value) -> Option<Sealed> {
    let inner = value.get(SEALED)?;
    let text = |name: &str| inner.get(name).and_then(Value::as_str);
    Some(Sealed {
        key: Uuid::parse_str(text("key")?).ok()?,
        subject: Uuid::parse_str(text("subject")?).ok()?,
        nonce: hex::decode(text("nonce")?).ok()?,
        ciphertext: hex::decode(text("ciphertext")?).ok()?,
    })
}

/// The keys named by the sealed values of one event.
fn keys_named(stream_type: &str, event_type: &str, payload: &Value) -> Vec<Uuid> {
    fields_of(stream_type, event_type)
        .filter_map(|f| payload.pointer(f.value).and_then(sealed_parts))
        .map(|s| s.key)
        .collect()
}

/// The secrets at hand, by key id: `None` for a key that no longer exists (erased).
pub type Secrets = HashMap<Uuid, Option<Vec<u8>>>;

/// Opens every sealed value of one event's payload in place: its clear value when its key is
/// at hand, `{"erased": true}` when the key is gone. A value that does not open with its key
/// was tampered with (or the key was): that is an error, never silently "erased".
pub fn open_payload(
    secrets: &Secrets,
    stream_type: &str,
    stream_id: Uuid,
    event_type: &str,
    position: i64,
    payload: &mut Value,
) -> Result<(), StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        position,
        reason: reason.to_owned(),
    };
    for field in fields_of(stream_type, event_type) {
        let Some(slot) = payload.pointer_mut(field.value) else {
            continue;
        };
        if slot.get(SEALED).is_none() {
            // Written before sealing existed, or no value: read as it is.
            continue;
        }
        let sealed = sealed_parts(slot).ok_or_else(|| corrupt("a sealed value is malformed"))?;
        let Some(Some(secret)) = secrets.get(&sealed.key) else {
            *slot = json!({"erased": true});
            continue;
        };
        let nonce = XNonce::try_from(sealed.nonce.as_slice())
            .map_err(|_| corrupt("a sealed value's nonce has the wrong length"))?;
        let aad = associated_data(
            stream_type,
            stream_id,
            event_type,
            field,
            sealed.subject,
            sealed.key,
        );
        let clear = cipher(secret)?
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed.ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| corrupt("a sealed value does not open with its key"))?;
        *slot = serde_json::from_slice(&clear)
            .map_err(|_| corrupt("a sealed value does not hold JSON"))?;
    }
    Ok(())
}

/// Reads the secrets of `ids` from the pool.
async fn secrets_in_pool(pool: &Pool, ids: Vec<Uuid>) -> Result<Secrets, StoreError> {
    let mut secrets = Secrets::new();
    for id in ids {
        if secrets.contains_key(&id) {
            continue;
        }
        let secret = on_pool!(pool, p => sqlx::query_scalar::<_, Vec<u8>>(SECRET_OF_KEY)
            .bind(DbUuid(id))
            .fetch_optional(p)
            .await)?;
        secrets.insert(id, secret);
    }
    Ok(secrets)
}

/// Reads the secrets of `ids` inside a transaction (a projection's).
async fn secrets_in_tx(tx: &mut Tx, ids: Vec<Uuid>) -> Result<Secrets, StoreError> {
    let mut secrets = Secrets::new();
    for id in ids {
        if secrets.contains_key(&id) {
            continue;
        }
        let secret = on_tx!(tx, c => sqlx::query_scalar::<_, Vec<u8>>(SECRET_OF_KEY)
            .bind(DbUuid(id))
            .fetch_optional(c)
            .await)?;
        secrets.insert(id, secret);
    }
    Ok(secrets)
}

/// Opens the sealed values of events read to be folded (commands, time travel, subscriptions).
pub async fn unseal_recorded(pool: &Pool, events: &mut [StoredEvent]) -> Result<(), StoreError> {
    let ids = keys_of(events);
    if ids.is_empty() {
        return Ok(());
    }
    open_all(&secrets_in_pool(pool, ids).await?, events)
}

/// Opens the sealed values of events handed to the read models, inside their transaction;
/// `None` when there is none (the events are used as they are).
pub async fn unseal_projected(
    tx: &mut Tx,
    events: &[StoredEvent],
) -> Result<Option<Vec<StoredEvent>>, StoreError> {
    let ids = keys_of(events);
    if ids.is_empty() {
        return Ok(None);
    }
    let secrets = secrets_in_tx(tx, ids).await?;
    let mut opened = events.to_vec();
    open_all(&secrets, &mut opened)?;
    Ok(Some(opened))
}

/// The personal keys the events' sealed values name.
fn keys_of(events: &[StoredEvent]) -> Vec<Uuid> {
    events
        .iter()
        .flat_map(|e| keys_named(&e.stream_type, &e.event_type, &e.payload))
        .collect()
}

/// Opens every sealed value of the events with the secrets read for them.
fn open_all(secrets: &Secrets, events: &mut [StoredEvent]) -> Result<(), StoreError> {
    for e in events.iter_mut() {
        open_payload(
            secrets,
            &e.stream_type,
            e.stream_id,
            &e.event_type,
            e.position,
            &mut e.payload,
        )?;
    }
    Ok(())
}

/// Whether a retried command's fresh events are those its first attempt recorded (opened):
/// sealed values never compare as bytes (each has its own random nonce), so the comparison is
/// made on clear values. A value erased since matches whatever the retry carries: it cannot be
/// read back to compare, and the retry writes nothing anyway.
pub fn same_as_recorded(stream_type: &str, recorded: &[StoredEvent], fresh: &[NewEvent]) -> bool {
    recorded.len() == fresh.len()
        && recorded.iter().zip(fresh).all(|(old, new)| {
            if old.event_type != new.event_type {
                return false;
            }
            let mut old_payload = old.payload.clone();
            for field in fields_of(stream_type, &old.event_type) {
                let erased = old_payload
                    .pointer(field.value)
                    .is_some_and(|v| v.get("erased") == Some(&Value::Bool(true)));
                if let (true, Some(slot), Some(value)) = (
                    erased,
                    old_payload.pointer_mut(field.value),
                    new.payload.pointer(field.value),
                ) {
                    *slot = value.clone();
                }
            }
            old_payload == new.payload
        })
}

/// Destroys every key of a person: whatever the log holds sealed under them reads as erased
/// from now on. Returns how many keys were deleted.
pub async fn destroy_keys(store: &Store, person_id: Uuid) -> Result<u64, StoreError> {
    const DELETE: &str = "DELETE FROM personal_keys WHERE subject_id = $1";
    let done = on_pool!(store.pool(), p => sqlx::query(DELETE)
        .bind(DbUuid(person_id))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}

/// After an erasure: forgets the states this process folded (they hold the clear values), and
/// on SQLite rewrites the database file without the deleted bytes. SQLite leaves deleted rows
/// (the key, the read models' former documents) in free pages and in the write-ahead log;
/// `VACUUM` rebuilds the file from live rows only, and a truncating checkpoint empties the log.
/// PostgreSQL keeps dead tuples until its own `VACUUM` (see the README). The `asOf` history kept
/// beside a SQLite file goes too (see [`crate::history::remove_kept`]).
pub async fn scrub(store: &Store) -> Result<(), StoreError> {
    store.states().clear();
    if let Some(file) = store.database_file().await? {
        crate::history::remove_kept(&crate::history::kept_beside(&file));
    }
    if let Pool::Sqlite(p) = store.pool() {
        sqlx::query("VACUUM").execute(p).await?;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(p)
            .await?;
        if busy != 0 {
            tracing::warn!(
                "erasure: the write-ahead log could not be emptied while readers were active; \
                 its former pages go at the next checkpoint"
            );
        }
    }
    Ok(())
}

/// The read models' side of an erasure, projected from `ContactErased` at `position`: every
/// participation of the person whose contact details were last changed before it reads as
/// erased, and its row (and its consultation's) moves to `position` (never back), as a rebuild
/// gives: there the details are erased already, since the key is gone, and this moves the same
/// positions.
pub async fn erase_in_read_models(
    tx: &mut Tx,
    person_id: Uuid,
    position: i64,
) -> Result<(), StoreError> {
    const PARTICIPATIONS: &str = "SELECT consultation_id, participant_id, position, doc \
         FROM rm_participants WHERE person_id = $1 ORDER BY consultation_id, participant_id";
    const SET_PARTICIPANT: &str = "UPDATE rm_participants SET doc = $1, position = $2 \
         WHERE consultation_id = $3 AND participant_id = $4";
    const CONSULTATION: &str = "SELECT position, doc FROM rm_consultations WHERE id = $1";
    const SET_CONSULTATION: &str =
        "UPDATE rm_consultations SET doc = $1, position = $2 WHERE id = $3";
    let failed = |reason: String| StoreError::Projection { position, reason };
    let rows = on_tx!(tx, c => sqlx::query_as::<_, (DbUuid, DbUuid, i64, String)>(PARTICIPATIONS)
        .bind(DbUuid(person_id))
        .fetch_all(c)
        .await)?;
    let mut touched: Vec<(Uuid, Uuid)> = Vec::new();
    for (consultation_id, participant_id, at, doc) in rows {
        let mut participant: consultation::Participant =
            serde_json::from_str(&doc).map_err(|e| failed(e.to_string()))?;
        if participant.contact.is_none() || at >= position {
            continue;
        }
        participant.contact = Some(erased());
        on_tx!(tx, c => sqlx::query(SET_PARTICIPANT)
            .bind(crate::projections::rows::doc(&participant))
            .bind(position)
            .bind(consultation_id)
            .bind(participant_id)
            .execute(c)
            .await
            .map(|_| ()))?;
        touched.push((consultation_id.0, participant_id.0));
    }
    let mut consultations: Vec<Uuid> = touched.iter().map(|(c, _)| *c).collect();
    consultations.dedup();
    for id in consultations {
        let Some((at, doc)) = on_tx!(tx, c => sqlx::query_as::<_, (i64, String)>(CONSULTATION)
            .bind(DbUuid(id))
            .fetch_optional(c)
            .await)?
        else {
            continue;
        };
        let mut record: consultation::Consultation =
            serde_json::from_str(&doc).map_err(|e| failed(e.to_string()))?;
        for p in &mut record.participants {
            if touched.contains(&(id, p.participant_id)) {
                p.contact = Some(erased());
            }
        }
        on_tx!(tx, c => sqlx::query(SET_CONSULTATION)
            .bind(crate::projections::rows::doc(&record))
            .bind(at.max(position))
            .bind(DbUuid(id))
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Contact details that were erased.
fn erased() -> crate::domain::Contact {
    crate::domain::Contact {
        email: None,
        phone: None,
        erased: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(contact: Value) -> NewEvent {
        NewEvent::new(
            "ParticipantRegistered",
            json!({"participant": {"participant_id": Uuid::from_u128(2),
                "person_id": Uuid::from_u128(3), "contact": contact}}),
        )
    }

    /// Seals like [`seal`] with a given key, without a database.
    fn sealed_with(secret: &[u8], key: Uuid, stream: Uuid, event: &NewEvent) -> Value {
        let field = &PERSONAL_FIELDS[0];
        let subject = Uuid::from_u128(3);
        let aad = associated_data(
            "consultation",
            stream,
            &event.event_type,
            field,
            subject,
            key,
        );
        let nonce = [7u8; NONCE_LEN];
        let plaintext = canonical_json(event.payload.pointer(field.value).unwrap_or(&Value::Null));
        let ciphertext = cipher(secret)
            .unwrap()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        let mut payload = event.payload.clone();
        *payload.pointer_mut(field.value).unwrap() = json!({SEALED: {"alg": ALG, "key": key,
            "subject": subject, "nonce": hex::encode(nonce), "ciphertext": hex::encode(ciphertext)}});
        payload
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_reads_erased_without_and_cannot_be_moved() {
        let contact = json!({"email": "a@b.ma"});
        let event = registered(contact.clone());
        let (key, stream, secret) = (Uuid::from_u128(9), Uuid::from_u128(1), [5u8; KEY_LEN]);
        let sealed = sealed_with(&secret, key, stream, &event);
        assert!(!sealed.to_string().contains("a@b.ma"));
        let with_key = Secrets::from([(key, Some(secret.to_vec()))]);
        let mut opened = sealed.clone();
        open_payload(
            &with_key,
            "consultation",
            stream,
            "ParticipantRegistered",
            5,
            &mut opened,
        )
        .unwrap();
        assert_eq!(opened["participant"]["contact"], contact);
        let erased = Secrets::from([(key, None)]);
        let mut gone = sealed.clone();
        open_payload(
            &erased,
            "consultation",
            stream,
            "ParticipantRegistered",
            5,
            &mut gone,
        )
        .unwrap();
        assert_eq!(gone["participant"]["contact"], json!({"erased": true}));
        // Moved to another stream, it no longer opens: an error, not "erased".
        let mut moved = sealed;
        let error = open_payload(
            &with_key,
            "consultation",
            Uuid::from_u128(8),
            "ParticipantRegistered",
            5,
            &mut moved,
        )
        .unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { position: 5, .. }),
            "{error}"
        );
    }

    #[test]
    fn clear_values_written_before_sealing_still_read_and_only_personal_fields_count() {
        let event = registered(json!({"email": "a@b.ma"}));
        let mut payload = event.payload.clone();
        open_payload(
            &Secrets::new(),
            "consultation",
            Uuid::nil(),
            "ParticipantRegistered",
            1,
            &mut payload,
        )
        .unwrap();
        assert_eq!(payload, event.payload);
        assert!(has_personal("consultation", &[event]));
        assert!(!has_personal("consultation", &[registered(Value::Null)]));
        assert!(!has_personal(
            "person",
            &[registered(json!({"email": "a@b.ma"}))]
        ));
    }
}
