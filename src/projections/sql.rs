//! The read models' SQL: small statements, one text for both backends.

use uuid::Uuid;

use crate::store::{on_tx, DbUuid, StoreError, Tx};

type Result<T> = std::result::Result<T, StoreError>;

/// Runs one statement with no parameters and no result.
async fn execute(tx: &mut Tx, sql: &'static str) -> Result<()> {
    on_tx!(tx, c => sqlx::query(sql).execute(c).await.map(|_| ())?);
    Ok(())
}

/// Reads the stored document of one entity row.
async fn doc_of(tx: &mut Tx, sql: &'static str, id: Uuid) -> Result<Option<String>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, String>(sql)
        .bind(DbUuid(id))
        .fetch_optional(c)
        .await?))
}

/// The stored consultation document.
pub async fn consultation_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    doc_of(tx, "SELECT doc FROM rm_consultations WHERE id = $1", id).await
}

/// The stored organisation document.
pub async fn organisation_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    doc_of(tx, "SELECT doc FROM rm_organisations WHERE id = $1", id).await
}

/// The stored person document.
pub async fn person_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    doc_of(tx, "SELECT doc FROM rm_people WHERE id = $1", id).await
}

/// The stored action document.
pub async fn action_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    doc_of(tx, "SELECT doc FROM rm_actions WHERE id = $1", id).await
}

/// The stored token, as its stream defines it (rebuilt from the row's columns).
pub async fn token_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    const SQL: &str =
        "SELECT id, name, role, regions, secret_hash, revoked FROM rm_tokens WHERE id = $1";
    let row = on_tx!(tx, c => sqlx::query_as::<_, (DbUuid, String, String, String, String, i64)>(SQL)
        .bind(DbUuid(id))
        .fetch_optional(c)
        .await?);
    Ok(row.map(|(id, name, role, regions, secret_hash, revoked)| {
        serde_json::json!({
            "id": id.0, "name": name, "role": role,
            "regions": serde_json::from_str::<serde_json::Value>(&regions).unwrap_or_default(),
            "secret_hash": secret_hash, "revoked": revoked != 0,
        })
        .to_string()
    }))
}

table! {
    /// A token row: its stream's state in columns (the secret's hash, never the secret).
    pub struct TokenRow in "rm_tokens", replaced by id, written by write_tokens {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub name: String,
        pub role: String,
        /// The regions as a JSON array.
        pub regions: String,
        pub secret_hash: String,
        pub revoked: bool,
    }
}

/// Inserts or replaces a token row.
pub async fn upsert_token(
    tx: &mut Tx,
    t: &crate::domain::token::Token,
    version: i64,
    position: i64,
) -> Result<()> {
    let row = TokenRow {
        id: t.id,
        version,
        position,
        name: t.name.clone(),
        role: t.role.as_str().to_owned(),
        regions: super::rows::doc(&t.regions),
        secret_hash: t.secret_hash.clone(),
        revoked: t.revoked,
    };
    write_tokens(tx, std::slice::from_ref(&row)).await
}

/// The stored user, as its stream defines it (rebuilt from the row's columns).
pub async fn user_doc(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    const SQL: &str = "SELECT id, username, display_name, role, regions, disabled FROM rm_users \
        WHERE id = $1";
    type Row = (DbUuid, String, Option<String>, String, String, i64);
    let row = on_tx!(tx, c => sqlx::query_as::<_, Row>(SQL)
        .bind(DbUuid(id))
        .fetch_optional(c)
        .await?);
    let Some((id, username, display_name, role, regions, disabled)) = row else {
        return Ok(None);
    };
    let regions = serde_json::from_str::<serde_json::Value>(&regions).unwrap_or_default();
    let doc = serde_json::json!({
        "id": id.0, "username": username, "display_name": display_name, "role": role,
        "regions": regions, "disabled": disabled != 0,
    });
    Ok(Some(doc.to_string()))
}

table! {
    /// A user row: its stream's state in columns.
    pub struct UserRow in "rm_users", replaced by id, written by write_users {
        pub id: Uuid,
        pub version: i64,
        pub position: i64,
        pub username: String,
        pub display_name: Option<String>,
        pub role: String,
        /// The regions as a JSON array.
        pub regions: String,
        pub disabled: bool,
    }
}

/// Inserts or replaces a user row.
pub async fn upsert_user(
    tx: &mut Tx,
    u: &crate::domain::user::User,
    version: i64,
    position: i64,
) -> Result<()> {
    let row = UserRow {
        id: u.id,
        version,
        position,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().to_owned(),
        regions: super::rows::doc(&u.regions),
        disabled: u.disabled,
    };
    write_users(tx, std::slice::from_ref(&row)).await
}

/// The positions of a consultation's child rows, by child id.
pub async fn child_positions(tx: &mut Tx, consultation_id: Uuid) -> Result<Vec<(DbUuid, i64)>> {
    const SQL: &str = "SELECT participant_id, position FROM rm_participants WHERE consultation_id = $1 \
                       UNION ALL SELECT id, position FROM rm_recommendations WHERE consultation_id = $1 \
                       UNION ALL SELECT id, position FROM rm_agreements WHERE consultation_id = $1 \
                       UNION ALL SELECT id, position FROM rm_key_figures WHERE consultation_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as::<_, (DbUuid, i64)>(SQL)
        .bind(DbUuid(consultation_id))
        .fetch_all(c)
        .await?))
}

/// Counts `created` more consultation rows (`rm_counts`).
pub async fn count_consultations(tx: &mut Tx, created: i64) -> Result<()> {
    const SQL: &str = "INSERT INTO rm_counts (name, value) VALUES ('consultations', $1) \
        ON CONFLICT (name) DO UPDATE SET value = rm_counts.value + excluded.value";
    on_tx!(tx, c => sqlx::query(SQL).bind(created).execute(c).await.map(|_| ())?);
    Ok(())
}

/// Removes a consultation's child rows before they are written again.
pub async fn delete_children(tx: &mut Tx, consultation_id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM rm_participants WHERE consultation_id = $1",
        "DELETE FROM rm_recommendations WHERE consultation_id = $1",
        "DELETE FROM rm_themes WHERE consultation_id = $1",
        "DELETE FROM rm_agreements WHERE consultation_id = $1",
        "DELETE FROM rm_organisers WHERE consultation_id = $1",
        "DELETE FROM rm_agreement_parties WHERE consultation_id = $1",
        "DELETE FROM rm_key_figures WHERE consultation_id = $1",
    ] {
        on_tx!(tx, c => sqlx::query(sql).bind(DbUuid(consultation_id)).execute(c).await.map(|_| ())?);
    }
    Ok(())
}

table! {
    /// A participant row.
    pub struct ParticipantRow in "rm_participants", written by insert_participants {
        pub consultation_id: Uuid,
        pub participant_id: Uuid,
        pub person_id: Option<Uuid>,
        pub organisation_id: Option<Uuid>,
        pub role: String,
        pub attendance: String,
        pub region: Option<String>,
        pub position: i64,
        pub doc: String,
    }
}

table! {
    /// A recommendation row.
    pub struct RecommendationRow in "rm_recommendations", written by insert_recommendations {
        pub id: Uuid,
        pub consultation_id: Uuid,
        pub status: String,
        pub region: Option<String>,
        pub month: Option<String>,
        pub text: String,
        pub search: String,
        pub position: i64,
        pub doc: String,
    }
}

table! {
    /// A theme tag of a recommendation.
    pub struct ThemeRow in "rm_themes", written by insert_themes {
        pub recommendation_id: Uuid,
        pub theme: String,
        pub consultation_id: Uuid,
        pub region: Option<String>,
        pub position: i64,
    }
}

table! {
    /// An agreement row.
    pub struct AgreementRow in "rm_agreements", written by insert_agreements {
        pub id: Uuid,
        pub consultation_id: Uuid,
        pub kind: String,
        pub status: String,
        pub region: Option<String>,
        /// The region whose budget it counts in: its scope's ([`super::rows::budget_region`]).
        pub budget_region: Option<String>,
        pub programme: Option<String>,
        pub amount: Option<String>,
        pub amount_minor: Option<i64>,
        pub currency: Option<String>,
        pub period_start: Option<String>,
        pub period_end: Option<String>,
        pub title: String,
        pub search: String,
        pub position: i64,
        pub doc: String,
    }
}

table! {
    /// An organiser of a consultation.
    pub struct OrganiserRow in "rm_organisers", written by insert_organisers {
        pub consultation_id: Uuid,
        pub organisation_id: Uuid,
        pub position: i64,
    }
}

table! {
    /// A party to an agreement, `party` being its index among the agreement's parties.
    pub struct PartyRow in "rm_agreement_parties", written by insert_parties {
        pub agreement_id: Uuid,
        pub party: i64,
        pub consultation_id: Uuid,
        pub organisation_id: Option<Uuid>,
        pub participant_id: Option<Uuid>,
        pub signatory_person_id: Option<Uuid>,
        pub position: i64,
    }
}

table! {
    /// A key figure row.
    pub struct KeyFigureRow in "rm_key_figures", written by insert_key_figures {
        pub consultation_id: Uuid,
        pub id: Uuid,
        pub region: Option<String>,
        pub indicator: String,
        pub unit: String,
        pub value: String,
        pub period_first: Option<String>,
        pub period_last: Option<String>,
        pub search: String,
        pub position: i64,
        pub doc: String,
    }
}

table! {
    /// A post held by a person in an organisation.
    pub struct PostRow in "rm_posts", written by insert_posts {
        pub person_id: Uuid,
        pub post_id: Uuid,
        pub organisation_id: Uuid,
        pub ended: bool,
        pub position: i64,
    }
}

/// Removes a person's post rows before they are written again.
pub async fn delete_posts(tx: &mut Tx, person_id: Uuid) -> Result<()> {
    const SQL: &str = "DELETE FROM rm_posts WHERE person_id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(DbUuid(person_id)).execute(c).await.map(|_| ())?);
    Ok(())
}

/// Copies a consultation's region onto its actions.
pub async fn set_actions_region(
    tx: &mut Tx,
    consultation_id: Uuid,
    region: Option<&str>,
) -> Result<()> {
    const SQL: &str = "UPDATE rm_actions SET region = $1 WHERE consultation_id = $2";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(region)
        .bind(DbUuid(consultation_id))
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

table! {
    /// A link from an action to a recommendation it follows up.
    pub struct LinkRow in "rm_action_links", written by insert_links {
        pub action_id: Uuid,
        pub recommendation_id: Uuid,
        pub position: i64,
    }
}

/// Removes an action's links before they are written again.
pub async fn delete_links(tx: &mut Tx, action_id: Uuid) -> Result<()> {
    const SQL: &str = "DELETE FROM rm_action_links WHERE action_id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(DbUuid(action_id)).execute(c).await.map(|_| ())?);
    Ok(())
}

table! {
    /// One progress report of an action: the event that recorded it and the report as JSON.
    pub struct ReportRow in "rm_progress_reports", written by insert_reports {
        pub action_id: Uuid,
        pub position: i64,
        pub doc: String,
    }
}

/// Declares the read-model tables once: [`TABLES`], and the statements that empty them
/// ([`RESET`]) and refresh PostgreSQL's statistics of them ([`ANALYZE`]), derived from it.
macro_rules! read_model_tables {
    ($($table:literal),* $(,)?) => {
        /// Every table the read models write, and nothing else: what a rebuild empties, and
        /// what a rebuild beside the live models (PostgreSQL) builds anew and swaps in.
        pub const TABLES: &[&str] = &[$($table),*];
        const RESET: &[&str] = &[$(concat!("DELETE FROM ", $table)),*];
        const ANALYZE: &[&str] = &[$(concat!("ANALYZE ", $table)),*];
    };
}

read_model_tables!(
    "rm_consultations",
    "rm_participants",
    "rm_recommendations",
    "rm_themes",
    "rm_agreements",
    "rm_organisations",
    "rm_people",
    "rm_actions",
    "rm_action_links",
    "rm_tokens",
    "rm_users",
    "rm_counts",
    "rm_organisers",
    "rm_agreement_parties",
    "rm_key_figures",
    "rm_posts",
    "rm_progress_reports",
);

/// Empties every read model.
pub async fn reset(tx: &mut Tx) -> Result<()> {
    for sql in RESET {
        execute(tx, sql).await?;
    }
    Ok(())
}

/// Refreshes PostgreSQL's planner statistics of the read models after a rebuild replaced every
/// row: without them, the first queries after a large rebuild are planned for empty tables.
/// SQLite plans these queries from their indexes alone, so it has nothing to do.
pub async fn analyze(tx: &mut Tx) -> Result<()> {
    if let Tx::Postgres(c) = tx {
        for sql in ANALYZE {
            sqlx::query(sql).execute(&mut **c).await?;
        }
    }
    Ok(())
}

/// Every read-model row as one line of text (unsorted).
pub async fn dump(tx: &mut Tx) -> Result<Vec<String>> {
    // One column per row: `table|col|col...`, NULL shown as `~`.
    const QUERIES: [&str; 17] = [
        "SELECT 'consultation|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || kind || '|' || status || '|' || COALESCE(region, '~') \
         || '|' || COALESCE(start_date, '~') || '|' || COALESCE(month, '~') || '|' || title || \
         '|' || search || '|' || doc || '|' || COALESCE(start_first, '~') || '|' || \
         COALESCE(start_last, '~') FROM rm_consultations",
        "SELECT 'participant|' || CAST(consultation_id AS TEXT) || '|' || \
         CAST(participant_id AS TEXT) || '|' || COALESCE(CAST(person_id AS TEXT), '~') || '|' || \
         COALESCE(CAST(organisation_id AS TEXT), '~') || '|' || role || '|' || attendance || '|' \
         || COALESCE(region, '~') || '|' || CAST(position AS TEXT) || '|' || doc \
         FROM rm_participants",
        "SELECT 'recommendation|' || CAST(id AS TEXT) || '|' || CAST(consultation_id AS TEXT) || \
         '|' || status || '|' || COALESCE(region, '~') || '|' || COALESCE(month, '~') || '|' || \
         text || '|' || search || '|' || CAST(position AS TEXT) || '|' || doc \
         FROM rm_recommendations",
        "SELECT 'theme|' || CAST(recommendation_id AS TEXT) || '|' || theme || '|' || \
         CAST(consultation_id AS TEXT) || '|' || COALESCE(region, '~') || '|' || \
         CAST(position AS TEXT) FROM rm_themes",
        "SELECT 'agreement|' || CAST(id AS TEXT) || '|' || CAST(consultation_id AS TEXT) || '|' \
         || kind || '|' || status || '|' || COALESCE(region, '~') || '|' || \
         COALESCE(budget_region, '~') || '|' || \
         COALESCE(programme, '~') || '|' || COALESCE(amount, '~') || '|' || \
         COALESCE(CAST(amount_minor AS TEXT), '~') || '|' || COALESCE(currency, '~') || '|' || \
         COALESCE(period_start, '~') || '|' || COALESCE(period_end, '~') || '|' || title || '|' \
         || search || '|' || CAST(position AS TEXT) || '|' || doc FROM rm_agreements",
        "SELECT 'organisation|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || kind || '|' || COALESCE(acronym, '~') || '|' || \
         COALESCE(region, '~') || '|' || COALESCE(CAST(parent_id AS TEXT), '~') || '|' || name \
         || '|' || search || '|' || doc FROM rm_organisations",
        "SELECT 'person|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || name || '|' || search || '|' || doc FROM rm_people",
        "SELECT 'action|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || CAST(consultation_id AS TEXT) || '|' || \
         CAST(owner_id AS TEXT) || '|' || status || '|' || CAST(progress AS TEXT) || '|' || \
         COALESCE(due_date, '~') || '|' || COALESCE(region, '~') || '|' || title || '|' || \
         search || '|' || doc FROM rm_actions",
        "SELECT 'action_link|' || CAST(action_id AS TEXT) || '|' || \
         CAST(recommendation_id AS TEXT) || '|' || CAST(position AS TEXT) FROM rm_action_links",
        "SELECT 'token|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || name || '|' || role || '|' || regions || '|' || \
         secret_hash || '|' || CAST(revoked AS TEXT) FROM rm_tokens",
        "SELECT 'user|' || CAST(id AS TEXT) || '|' || CAST(version AS TEXT) || '|' || \
         CAST(position AS TEXT) || '|' || username || '|' || COALESCE(display_name, '~') || '|' \
         || role || '|' || regions || '|' || CAST(disabled AS TEXT) FROM rm_users",
        "SELECT 'count|' || name || '|' || CAST(value AS TEXT) FROM rm_counts",
        "SELECT 'organiser|' || CAST(consultation_id AS TEXT) || '|' || \
         CAST(organisation_id AS TEXT) || '|' || CAST(position AS TEXT) FROM rm_organisers",
        "SELECT 'party|' || CAST(agreement_id AS TEXT) || '|' || CAST(party AS TEXT) || '|' || \
         CAST(consultation_id AS TEXT) || '|' || COALESCE(CAST(organisation_id AS TEXT), '~') || \
         '|' || COALESCE(CAST(participant_id AS TEXT), '~') || '|' || \
         COALESCE(CAST(signatory_person_id AS TEXT), '~') || '|' || CAST(position AS TEXT) \
         FROM rm_agreement_parties",
        "SELECT 'key_figure|' || CAST(consultation_id AS TEXT) || '|' || CAST(id AS TEXT) || '|' \
         || COALESCE(region, '~') || '|' || indicator || '|' || unit || '|' || value || '|' || \
         COALESCE(period_first, '~') || '|' || COALESCE(period_last, '~') || '|' || search || \
         '|' || CAST(position AS TEXT) || '|' || doc FROM rm_key_figures",
        "SELECT 'post|' || CAST(person_id AS TEXT) || '|' || CAST(post_id AS TEXT) || '|' || \
         CAST(organisation_id AS TEXT) || '|' || CAST(ended AS TEXT) || '|' || \
         CAST(position AS TEXT) FROM rm_posts",
        "SELECT 'progress_report|' || CAST(action_id AS TEXT) || '|' || CAST(position AS TEXT) \
         || '|' || doc FROM rm_progress_reports",
    ];
    let mut lines = Vec::new();
    for sql in QUERIES {
        let rows = on_tx!(tx, c => sqlx::query_scalar::<_, String>(sql).fetch_all(c).await?);
        lines.extend(rows);
    }
    Ok(lines)
}
