//! Open data: the public facts of the read models as CSV files with a Frictionless Data Package
//! (`datapackage.json`), cut at one position of the log.
//!
//! The export reads the log's head and the entity documents of the read models (consultations,
//! actions, organisations, people: canonical JSON of the aggregates) in one read-only transaction:
//! on PostgreSQL at `REPEATABLE READ`, on SQLite in one deferred transaction, whose snapshot (WAL)
//! is fixed by its first read. Read models are written in the transaction of each append, so the
//! documents read are exactly the state at the head read with them; no fold of the log is needed.
//!
//! Every file is a function of that state alone: rows are sorted by their key, columns are in a
//! fixed order, lines end with `\n`, and nothing is stamped but the log's position and hash, so
//! the same position gives byte-identical files. Personal data is never written: a participant's
//! contact details (email, phone) are not a column of any file; people appear by their names,
//! honorifics and posts only.
//!
//! The same facts are also written as Popolo JSON ([`popolo`]) and served as a zip of the package
//! ([`latest`]). Tables declare their foreign keys, so that `frictionless validate` checks that
//! every reference between files resolves.

pub mod latest;
pub mod popolo;

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::domain::{action, consultation, organisation, person, PartialDate, Text};
use crate::projections::lists::{group_reports, ReportRecord};
use crate::projections::rows::{partial_text, tag};
use crate::store::{on_tx, LogHead, Pool, StoreError, Tx};

/// The licence the package is published under.
pub const LICENCE: (&str, &str, &str) = (
    "CC-BY-4.0",
    "https://creativecommons.org/licenses/by/4.0/",
    "Creative Commons Attribution 4.0",
);

/// Why an open-data export failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenDataError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A read-model document did not read back as its aggregate.
    #[error("a {table} document does not parse: {reason}")]
    Document {
        /// The read-model table.
        table: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// Encoding a CSV or JSON file failed.
    #[error("encoding {file}: {reason}")]
    Encode {
        /// The file.
        file: String,
        /// The encoder's message.
        reason: String,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDataReport {
    /// The log position and hash the export was cut at.
    pub head: LogHead,
    /// Each resource's name and row count, in the package's order.
    pub resources: Vec<(String, usize)>,
}

/// A column's name and Frictionless type (`string`, `integer`, `number`, `boolean`, `date`).
type Field = (&'static str, &'static str);

/// A Frictionless foreign key: these columns hold a key of that resource (`""`: this one).
struct ForeignKey {
    fields: &'static [&'static str],
    resource: &'static str,
    reference: &'static [&'static str],
}

/// One CSV file: its resource name, title, columns, primary key, foreign keys and rows.
struct Table {
    name: &'static str,
    title: &'static str,
    fields: Vec<Field>,
    key: Vec<&'static str>,
    foreign: Vec<ForeignKey>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(
        name: &'static str,
        title: &'static str,
        fields: Vec<Field>,
        key: &[&'static str],
    ) -> Self {
        Table {
            name,
            title,
            fields,
            key: key.to_vec(),
            foreign: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Declares that `fields` hold the key `reference` of `resource` (`""`: this table). An
    /// empty cell (no reference) is null for Frictionless and is not checked.
    fn refers(
        mut self,
        fields: &'static [&'static str],
        resource: &'static str,
        reference: &'static [&'static str],
    ) -> Self {
        self.foreign.push(ForeignKey {
            fields,
            resource,
            reference,
        });
        self
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Sorts the rows by their primary key columns, then by the whole row.
    fn sort(&mut self) {
        let positions: Vec<usize> = self
            .key
            .iter()
            .filter_map(|k| self.fields.iter().position(|(name, _)| name == k))
            .collect();
        self.rows.sort_by(|a, b| {
            let ka = positions.iter().map(|&i| &a[i]);
            let kb = positions.iter().map(|&i| &b[i]);
            ka.cmp(kb).then_with(|| a.cmp(b))
        });
    }

    fn file(&self) -> String {
        format!("{}.csv", self.name)
    }
}

/// The entity documents and head read in one snapshot.
struct Snapshot {
    head: LogHead,
    consultations: Vec<String>,
    actions: Vec<String>,
    /// Progress reports (rows of their own, not in the actions' documents), each action's
    /// oldest first.
    reports: Vec<ReportRecord>,
    organisations: Vec<String>,
    people: Vec<String>,
}

/// The read models' entities at one head, parsed: what every open-data format is made from.
pub struct Facts {
    /// The log position and hash the facts are the state at.
    pub head: LogHead,
    consultations: Vec<consultation::Consultation>,
    actions: Vec<action::Action>,
    /// Every action's progress reports, oldest first (rows of their own, not in the actions).
    reports: HashMap<uuid::Uuid, Vec<action::ProgressReport>>,
    organisations: Vec<organisation::Organisation>,
    people: Vec<person::Person>,
}

impl Facts {
    /// Reads the head and the entity documents in one read-only snapshot of the read models.
    pub async fn read(pool: &Pool) -> Result<Facts, OpenDataError> {
        let s = read_snapshot(pool).await?;
        Ok(Facts {
            head: s.head,
            consultations: parse("rm_consultations", &s.consultations)?,
            actions: parse("rm_actions", &s.actions)?,
            reports: group_reports(&s.reports).map_err(|e| OpenDataError::Document {
                table: "rm_progress_reports",
                reason: e.to_string(),
            })?,
            organisations: parse("rm_organisations", &s.organisations)?,
            people: parse("rm_people", &s.people)?,
        })
    }
}

/// The CSV package in memory: every file's name and bytes, `datapackage.json` last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The log position and hash it was cut at.
    pub head: LogHead,
    /// Each file's name and content, in the package's order.
    pub files: Vec<(String, Vec<u8>)>,
    /// Each resource's name and row count, in the package's order.
    pub resources: Vec<(String, usize)>,
}

impl Package {
    /// The package of `facts`.
    pub fn of(facts: &Facts) -> Result<Package, OpenDataError> {
        let tables = tables(facts);
        let mut files = Vec::with_capacity(tables.len() + 1);
        for table in &tables {
            files.push((table.file(), csv_bytes(table)?));
        }
        let descriptor = descriptor(&facts.head, &tables);
        files.push((
            "datapackage.json".to_owned(),
            json_bytes("datapackage.json", &descriptor)?,
        ));
        Ok(Package {
            head: facts.head.clone(),
            files,
            resources: tables
                .iter()
                .map(|t| (t.name.to_owned(), t.rows.len()))
                .collect(),
        })
    }

    /// The package of the current head.
    pub async fn current(pool: &Pool) -> Result<Package, OpenDataError> {
        Package::of(&Facts::read(pool).await?)
    }
}

/// Writes the open-data package of the current head into `dir` (created if missing): one CSV per
/// entity and `datapackage.json`.
pub async fn export(pool: &Pool, dir: &Path) -> Result<OpenDataReport, OpenDataError> {
    let package = Package::current(pool).await?;
    std::fs::create_dir_all(dir).map_err(|source| OpenDataError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for (name, bytes) in &package.files {
        write_file(&dir.join(name), bytes)?;
    }
    Ok(OpenDataReport {
        head: package.head,
        resources: package.resources,
    })
}

/// Pretty JSON with a final `\n`: the form of every JSON file of the open data.
fn json_bytes(file: &str, value: &Value) -> Result<Vec<u8>, OpenDataError> {
    let mut json = serde_json::to_vec_pretty(value).map_err(|e| OpenDataError::Encode {
        file: file.to_owned(),
        reason: e.to_string(),
    })?;
    json.push(b'\n');
    Ok(json)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OpenDataError> {
    std::fs::write(path, bytes).map_err(|source| OpenDataError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads the head and the documents in one read-only snapshot, then ends it.
async fn read_snapshot(pool: &Pool) -> Result<Snapshot, StoreError> {
    let mut tx = pool.begin().await?;
    if let Tx::Postgres(t) = &mut tx {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut **t)
            .await?;
    }
    let head = read_head(&mut tx).await?;
    let snapshot = Snapshot {
        head,
        consultations: docs(&mut tx, "SELECT doc FROM rm_consultations ORDER BY id").await?,
        actions: docs(&mut tx, "SELECT doc FROM rm_actions ORDER BY id").await?,
        reports: report_docs(&mut tx).await?,
        organisations: docs(&mut tx, "SELECT doc FROM rm_organisations ORDER BY id").await?,
        people: docs(&mut tx, "SELECT doc FROM rm_people ORDER BY id").await?,
    };
    tx.rollback().await?;
    Ok(snapshot)
}

/// The log's head, inside the snapshot.
async fn read_head(tx: &mut Tx) -> Result<LogHead, StoreError> {
    const SQL: &str = "SELECT position, hash FROM log_head WHERE id = 1";
    let (position, hash) = on_tx!(tx, c => sqlx::query_as::<_, (i64, String)>(SQL)
        .fetch_one(c)
        .await?);
    Ok(LogHead { position, hash })
}

/// Every document of one read-model table (`sql` is a constant `SELECT doc ...`).
async fn docs(tx: &mut Tx, sql: &'static str) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, String>(sql).fetch_all(c).await?))
}

/// Every progress report, each action's oldest first.
async fn report_docs(tx: &mut Tx) -> Result<Vec<ReportRecord>, StoreError> {
    const SQL: &str = "SELECT action_id, position, doc FROM rm_progress_reports \
        ORDER BY action_id, position";
    Ok(on_tx!(tx, c => sqlx::query_as::<_, ReportRecord>(SQL).fetch_all(c).await?))
}

fn parse<T: serde::de::DeserializeOwned>(
    table: &'static str,
    docs: &[String],
) -> Result<Vec<T>, OpenDataError> {
    docs.iter()
        .map(|d| {
            serde_json::from_str(d).map_err(|e| OpenDataError::Document {
                table,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// The three columns of a text.
fn text_fields(prefix: &'static [&'static str; 3]) -> [Field; 3] {
    [
        (prefix[0], "string"),
        (prefix[1], "string"),
        (prefix[2], "string"),
    ]
}

fn langs(text: Option<&Text>) -> [String; 3] {
    match text {
        Some(t) => [
            t.ar.clone().unwrap_or_default(),
            t.fr.clone().unwrap_or_default(),
            t.en.clone().unwrap_or_default(),
        ],
        None => Default::default(),
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn date(value: Option<&PartialDate>) -> String {
    value.and_then(partial_text).unwrap_or_default()
}

fn ids(values: &[uuid::Uuid]) -> String {
    let mut all: Vec<String> = values.iter().map(ToString::to_string).collect();
    all.sort();
    all.join(";")
}

macro_rules! row {
    ($($part:expr),* $(,)?) => {{
        let mut row = Vec::new();
        $(row.extend($part);)*
        row
    }};
}

fn one(value: String) -> [String; 1] {
    [value]
}

/// Every table, rows sorted.
fn tables(facts: &Facts) -> Vec<Table> {
    let Facts {
        consultations,
        actions,
        reports,
        organisations,
        people,
        ..
    } = facts;

    let title = text_fields(&["title_ar", "title_fr", "title_en"]);
    let mut c_table = Table::new(
        "consultations",
        "Consultations",
        row![
            [("consultation_id", "string"), ("kind", "string")],
            [("status", "string"), ("region", "string")],
            [("start", "string"), ("end", "string")],
            title,
            text_fields(&["place_ar", "place_fr", "place_en"]),
            text_fields(&["city_ar", "city_fr", "city_en"]),
            text_fields(&["purpose_ar", "purpose_fr", "purpose_en"]),
            [("organiser_ids", "string"), ("source_urls", "string")],
        ],
        &["consultation_id"],
    );
    let mut p_table = Table::new(
        "participants",
        "Participants (no contact details)",
        row![
            [("consultation_id", "string"), ("participant_id", "string")],
            [("person_id", "string"), ("organisation_id", "string")],
            [("role", "string"), ("attendance", "string")],
            text_fields(&["capacity_ar", "capacity_fr", "capacity_en"]),
        ],
        &["consultation_id", "participant_id"],
    )
    .refers(&["consultation_id"], "consultations", &["consultation_id"])
    .refers(&["person_id"], "people", &["person_id"])
    .refers(&["organisation_id"], "organisations", &["organisation_id"]);
    let mut r_table = Table::new(
        "recommendations",
        "Recommendations",
        row![
            [
                ("recommendation_id", "string"),
                ("consultation_id", "string")
            ],
            [("status", "string"), ("merged_into", "string")],
            [("proposer_participant_id", "string"), ("themes", "string")],
            text_fields(&["text_ar", "text_fr", "text_en"]),
        ],
        &["recommendation_id"],
    )
    .refers(&["consultation_id"], "consultations", &["consultation_id"])
    .refers(&["merged_into"], "", &["recommendation_id"]);
    let mut a_table = Table::new(
        "agreements",
        "Agreements",
        row![
            [("agreement_id", "string"), ("consultation_id", "string")],
            [("kind", "string"), ("status", "string")],
            title,
            text_fields(&["programme_ar", "programme_fr", "programme_en"]),
            [("budget_amount", "number"), ("budget_currency", "string")],
            [("period_start", "string"), ("period_end", "string")],
            [("signed_on", "string")],
        ],
        &["agreement_id"],
    )
    .refers(&["consultation_id"], "consultations", &["consultation_id"]);
    let mut ap_table = Table::new(
        "agreement_parties",
        "Agreement parties",
        row![
            [("agreement_id", "string"), ("party", "integer")],
            [("consultation_id", "string"), ("organisation_id", "string")],
            [
                ("participant_id", "string"),
                ("signatory_person_id", "string")
            ],
            text_fields(&[
                "signatory_capacity_ar",
                "signatory_capacity_fr",
                "signatory_capacity_en"
            ]),
        ],
        &["agreement_id", "party"],
    )
    .refers(&["agreement_id"], "agreements", &["agreement_id"])
    .refers(&["organisation_id"], "organisations", &["organisation_id"])
    .refers(&["signatory_person_id"], "people", &["person_id"]);
    let mut k_table = Table::new(
        "key_figures",
        "Key figures",
        row![
            [("consultation_id", "string"), ("key_figure_id", "string")],
            text_fields(&["indicator_ar", "indicator_fr", "indicator_en"]),
            [("value", "number"), ("unit", "string")],
            [("period_start", "string"), ("period_end", "string")],
            [("as_of", "string"), ("region", "string")],
        ],
        &["consultation_id", "key_figure_id"],
    )
    .refers(&["consultation_id"], "consultations", &["consultation_id"]);
    for c in consultations {
        let cid = c.id.to_string();
        let d = &c.details;
        let place = d.place.as_ref();
        let mut urls: Vec<String> = c.sources.iter().filter_map(|s| s.url.clone()).collect();
        urls.sort();
        urls.dedup();
        c_table.push(row![
            [cid.clone(), tag(&d.kind), tag(&c.status)],
            one(opt(d.region.as_ref().map(|r| r.0.clone()))),
            [date(Some(&d.schedule.start)), date(d.schedule.end.as_ref())],
            langs(Some(&d.title)),
            langs(place.map(|p| &p.name)),
            langs(place.and_then(|p| p.city.as_ref())),
            langs(d.purpose.as_ref()),
            [ids(&c.organisers), urls.join(" ")],
        ]);
        for p in &c.participants {
            p_table.push(row![
                [cid.clone(), p.participant_id.to_string()],
                [opt(p.person_id), opt(p.organisation_id)],
                [p.role.as_str().to_owned(), tag(&p.attendance)],
                langs(p.capacity.as_ref()),
            ]);
        }
        for r in &c.recommendations {
            let merged = match r.status {
                consultation::RecommendationStatus::Merged { into } => into.to_string(),
                _ => String::new(),
            };
            let mut themes = r.themes.clone();
            themes.sort();
            r_table.push(row![
                [r.recommendation_id.to_string(), cid.clone()],
                [r.status.as_str().to_owned(), merged],
                [opt(r.proposer), themes.join(";")],
                langs(Some(&r.text)),
            ]);
        }
        for a in &c.agreements {
            let aid = a.agreement_id.to_string();
            a_table.push(row![
                [aid.clone(), cid.clone(), tag(&a.kind), tag(&a.status)],
                langs(Some(&a.title)),
                langs(a.programme.as_ref()),
                [
                    opt(a.budget.as_ref().map(|m| m.amount)),
                    opt(a.budget.as_ref().map(|m| m.currency.clone()))
                ],
                [
                    date(a.period.as_ref().map(|p| &p.start)),
                    date(a.period.as_ref().and_then(|p| p.end.as_ref()))
                ],
                one(date(a.signed_on.as_ref())),
            ]);
            for (i, party) in a.parties.iter().enumerate() {
                ap_table.push(row![
                    [aid.clone(), (i + 1).to_string(), cid.clone()],
                    [opt(party.organisation_id), opt(party.participant_id)],
                    one(opt(party.signatory_person_id)),
                    langs(party.signatory_capacity.as_ref()),
                ]);
            }
        }
        for k in &c.key_figures {
            k_table.push(row![
                [cid.clone(), k.key_figure_id.to_string()],
                langs(Some(&k.indicator)),
                [k.value.to_string(), k.unit.clone()],
                [
                    date(k.period.as_ref().map(|p| &p.start)),
                    date(k.period.as_ref().and_then(|p| p.end.as_ref()))
                ],
                [
                    date(k.as_of.as_ref()),
                    opt(k.region.as_ref().map(|r| r.0.clone()))
                ],
            ]);
        }
    }

    let mut act_table = Table::new(
        "actions",
        "Follow-up actions",
        row![
            [("action_id", "string"), ("consultation_id", "string")],
            [("recommendation_ids", "string"), ("agreement_id", "string")],
            [("owner_organisation_id", "string")],
            title,
            [
                ("due", "string"),
                ("status", "string"),
                ("progress", "integer")
            ],
            [("budget_amount", "number"), ("budget_currency", "string")],
        ],
        &["action_id"],
    )
    .refers(&["consultation_id"], "consultations", &["consultation_id"])
    .refers(&["agreement_id"], "agreements", &["agreement_id"])
    .refers(
        &["owner_organisation_id"],
        "organisations",
        &["organisation_id"],
    );
    let mut pr_table = Table::new(
        "progress_reports",
        "Progress reports",
        row![
            [("action_id", "string"), ("report", "integer")],
            [("on", "date"), ("progress", "integer")],
            text_fields(&["note_ar", "note_fr", "note_en"]),
        ],
        &["action_id", "report"],
    )
    .refers(&["action_id"], "actions", &["action_id"]);
    for a in actions {
        let aid = a.id.to_string();
        act_table.push(row![
            [aid.clone(), a.consultation_id.to_string()],
            [ids(&a.recommendation_ids), opt(a.agreement_id)],
            one(a.owner_organisation_id.to_string()),
            langs(Some(&a.title)),
            [date(a.due.as_ref()), tag(&a.status), a.progress.to_string()],
            [
                opt(a.budget.as_ref().map(|m| m.amount)),
                opt(a.budget.as_ref().map(|m| m.currency.clone()))
            ],
        ]);
        for (i, report) in reports.get(&a.id).into_iter().flatten().enumerate() {
            pr_table.push(row![
                [aid.clone(), (i + 1).to_string()],
                [
                    report.on.format("%Y-%m-%d").to_string(),
                    report.progress.to_string()
                ],
                langs(report.note.as_ref()),
            ]);
        }
    }

    let mut o_table = Table::new(
        "organisations",
        "Organisations",
        row![
            [("organisation_id", "string"), ("kind", "string")],
            [("acronym", "string"), ("region", "string")],
            [("parent_id", "string")],
            text_fields(&["name_ar", "name_fr", "name_en"]),
        ],
        &["organisation_id"],
    )
    .refers(&["parent_id"], "", &["organisation_id"]);
    for o in organisations {
        o_table.push(row![
            [o.id.to_string(), tag(&o.kind), opt(o.acronym.clone())],
            [
                opt(o.region.as_ref().map(|r| r.0.clone())),
                opt(o.parent_id)
            ],
            langs(Some(&o.name)),
        ]);
    }

    let mut people_table = Table::new(
        "people",
        "People (public fields: names, honorific)",
        row![
            [("person_id", "string")],
            [("name_arabic", "string"), ("name_latin", "string")],
            text_fields(&["honorific_ar", "honorific_fr", "honorific_en"]),
        ],
        &["person_id"],
    );
    let mut post_table = Table::new(
        "posts",
        "Posts held by people",
        row![
            [("person_id", "string"), ("post_id", "string")],
            [("organisation_id", "string")],
            text_fields(&["title_ar", "title_fr", "title_en"]),
            [("start", "string"), ("attested_on", "string")],
            [("ended", "boolean"), ("end", "string")],
        ],
        &["person_id", "post_id"],
    )
    .refers(&["person_id"], "people", &["person_id"])
    .refers(&["organisation_id"], "organisations", &["organisation_id"]);
    for p in people {
        let pid = p.id.to_string();
        people_table.push(row![
            [
                pid.clone(),
                opt(p.name.arabic.clone()),
                opt(p.name.latin.clone())
            ],
            langs(p.honorific.as_ref()),
        ]);
        for post in &p.posts {
            post_table.push(row![
                [
                    pid.clone(),
                    post.post_id.to_string(),
                    post.organisation_id.to_string()
                ],
                langs(Some(&post.title)),
                [date(post.start.as_ref()), date(post.attested_on.as_ref())],
                [post.ended.to_string(), date(post.end.as_ref())],
            ]);
        }
    }

    let mut all = vec![
        c_table,
        p_table,
        r_table,
        a_table,
        ap_table,
        k_table,
        act_table,
        pr_table,
        o_table,
        people_table,
        post_table,
    ];
    for table in &mut all {
        table.sort();
    }
    all
}

/// A table as CSV: a header of the field names, then the rows, `\n` after each line.
fn csv_bytes(table: &Table) -> Result<Vec<u8>, OpenDataError> {
    let encode = |e: csv::Error| OpenDataError::Encode {
        file: table.file(),
        reason: e.to_string(),
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer
        .write_record(table.fields.iter().map(|(name, _)| *name))
        .map_err(encode)?;
    for row in &table.rows {
        writer.write_record(row).map_err(encode)?;
    }
    writer.into_inner().map_err(|e| OpenDataError::Encode {
        file: table.file(),
        reason: e.to_string(),
    })
}

/// The Frictionless Data Package descriptor.
fn descriptor(head: &LogHead, tables: &[Table]) -> Value {
    let resources: Vec<Value> = tables
        .iter()
        .map(|t| {
            let fields: Vec<Value> = t
                .fields
                .iter()
                .map(|(name, kind)| json!({"name": name, "type": kind}))
                .collect();
            let foreign: Vec<Value> = t
                .foreign
                .iter()
                .map(|f| {
                    json!({
                        "fields": f.fields,
                        "reference": {"resource": f.resource, "fields": f.reference},
                    })
                })
                .collect();
            json!({
                "name": t.name,
                "title": t.title,
                "path": t.file(),
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\n", "header": true},
                "schema": {
                    "fields": fields,
                    "primaryKey": t.key,
                    "foreignKeys": foreign,
                },
            })
        })
        .collect();
    json!({
        "profile": "tabular-data-package",
        "name": "shura-open-data",
        "title": "Shura: stakeholder consultations, their outcomes and follow-up",
        "description": format!(
            "Public facts of the Shura read models at log position {} (head hash {}). \
             Personal contact details are never included.",
            head.position, head.hash
        ),
        "version": head.position.to_string(),
        "licenses": [{"name": LICENCE.0, "path": LICENCE.1, "title": LICENCE.2}],
        "sources": [{
            "title": "Shura event log",
            "description": format!("hash-chained event log, cut at position {}", head.position),
        }],
        "shura": {"log_position": head.position, "head_hash": head.hash},
        "resources": resources,
    })
}
