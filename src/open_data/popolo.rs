//! Popolo JSON (<https://www.popoloproject.com/specs/>): the same public facts as the CSV package,
//! as the `persons`, `organizations`, `memberships`, `posts` and `events` that parliamentary and
//! civic data tools read, with Popolo's field names.
//!
//! Built from the same [`Facts`] (one read-only snapshot of the read models) and under the same
//! rules: everything sorted by id, objects with sorted keys, a final `\n`, nothing stamped but the
//! log's position and hash, so the same position gives identical bytes; no contact details.
//!
//! How the model maps: a person's post is a Popolo `Post` (its title as `label`) held through one
//! `Membership` (person, organisation, post, dates); a consultation is an `Event` (kind as
//! `classification`, its first organiser as `organization_id`, the people recorded as attending
//! as `attendees`). Texts take their Arabic form as `name` (else French, else English) and list
//! the others in `other_names` with the language code as `note`; a person's name in the other
//! script is noted `latin` or `arabic`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::{date, json_bytes, write_file, Facts, OpenDataError, LICENCE};
use crate::domain::consultation::Attendance;
use crate::domain::Text;
use crate::projections::rows::tag;
use crate::store::LogHead;

/// The file name used when `--out` is a directory.
pub const FILE_NAME: &str = "popolo.json";

/// The Popolo document of `facts`, as the bytes written.
pub fn document(facts: &Facts) -> Result<Vec<u8>, OpenDataError> {
    json_bytes(FILE_NAME, &popolo(facts))
}

/// Writes the Popolo document of the current head to `out`, or to `out/popolo.json` when `out`
/// is a directory; returns the head and the path written.
pub async fn export(
    pool: &crate::store::Pool,
    out: &Path,
) -> Result<(LogHead, std::path::PathBuf), OpenDataError> {
    let facts = Facts::read(pool).await?;
    let bytes = document(&facts)?;
    let path = if out.is_dir() {
        out.join(FILE_NAME)
    } else {
        out.to_path_buf()
    };
    write_file(&path, &bytes)?;
    Ok((facts.head, path))
}

/// An object of the pairs that have a value (Popolo leaves unknown properties out).
fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

fn string(value: impl Into<String>) -> Option<Value> {
    Some(Value::String(value.into()))
}

/// A partial date's text, left out when unknown.
fn day(value: Option<&crate::domain::PartialDate>) -> Option<Value> {
    let text = date(value);
    (!text.is_empty()).then_some(Value::String(text))
}

/// A text's main form (Arabic, else French, else English) and its other forms as Popolo other
/// names noted with their language.
fn localised(text: &Text) -> (Option<String>, Vec<Value>) {
    let forms = [("ar", &text.ar), ("fr", &text.fr), ("en", &text.en)];
    let mut present = forms
        .into_iter()
        .filter_map(|(lang, value)| value.as_ref().map(|v| (lang, v.clone())));
    let main = present.next().map(|(_, v)| v);
    let others = present
        .map(|(lang, name)| json!({"name": name, "note": lang}))
        .collect();
    (main, others)
}

/// Other names as a property, left out when there are none.
fn others(list: Vec<Value>) -> Option<Value> {
    (!list.is_empty()).then_some(Value::Array(list))
}

fn sorted_by_id(mut list: Vec<Value>) -> Vec<Value> {
    list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    list
}

fn popolo(facts: &Facts) -> Value {
    let mut persons = Vec::new();
    let mut posts = Vec::new();
    let mut memberships = Vec::new();
    for p in &facts.people {
        let (main, latin) = match (&p.name.arabic, &p.name.latin) {
            (Some(ar), Some(la)) => (Some(ar.clone()), vec![json!({"name": la, "note": "latin"})]),
            (Some(ar), None) => (Some(ar.clone()), Vec::new()),
            (None, la) => (la.clone(), Vec::new()),
        };
        persons.push(object(vec![
            ("id", string(p.id.to_string())),
            ("name", main.map(Value::String)),
            ("other_names", others(latin)),
            (
                "honorific_prefix",
                p.honorific
                    .as_ref()
                    .and_then(|h| localised(h).0)
                    .map(Value::String),
            ),
        ]));
        for post in &p.posts {
            let (label, other_labels) = localised(&post.title);
            let start = day(post.start.as_ref());
            let end = day(post.end.as_ref());
            posts.push(object(vec![
                ("id", string(post.post_id.to_string())),
                ("label", label.clone().map(Value::String)),
                (
                    "other_label",
                    others(other_labels.iter().map(|o| o["name"].clone()).collect()),
                ),
                ("organization_id", string(post.organisation_id.to_string())),
                ("start_date", start.clone()),
                ("end_date", end.clone()),
            ]));
            memberships.push(object(vec![
                ("id", string(format!("membership-{}", post.post_id))),
                ("person_id", string(p.id.to_string())),
                ("organization_id", string(post.organisation_id.to_string())),
                ("post_id", string(post.post_id.to_string())),
                ("role", label.map(Value::String)),
                ("start_date", start),
                ("end_date", end),
            ]));
        }
    }

    let organizations = facts
        .organisations
        .iter()
        .map(|o| {
            let (name, mut other_names) = localised(&o.name);
            if let Some(acronym) = &o.acronym {
                other_names.push(json!({"name": acronym, "note": "acronym"}));
            }
            for former in &o.former_names {
                let until = day(former.until.as_ref());
                for form in [&former.name.ar, &former.name.fr, &former.name.en]
                    .into_iter()
                    .flatten()
                {
                    other_names.push(object(vec![
                        ("name", string(form.clone())),
                        ("note", string("former")),
                        ("end_date", until.clone()),
                    ]));
                }
            }
            object(vec![
                ("id", string(o.id.to_string())),
                ("name", name.map(Value::String)),
                ("other_names", others(other_names)),
                ("classification", string(tag(&o.kind))),
                (
                    "parent_id",
                    o.parent_id.map(|id| Value::String(id.to_string())),
                ),
                (
                    "area_id",
                    o.region.as_ref().map(|r| Value::String(r.0.clone())),
                ),
            ])
        })
        .collect();

    let events = facts
        .consultations
        .iter()
        .map(|c| {
            let d = &c.details;
            let (name, other_names) = localised(&d.title);
            let mut attendees: Vec<String> = c
                .participants
                .iter()
                .filter(|p| p.attendance == Attendance::Attended)
                .filter_map(|p| p.person_id.map(|id| id.to_string()))
                .collect();
            attendees.sort();
            attendees.dedup();
            let mut sources: Vec<String> = c.sources.iter().filter_map(|s| s.url.clone()).collect();
            sources.sort();
            sources.dedup();
            // Organisers are kept in the order recorded: the first is the convener.
            let organiser = c.organisers.first().map(|id| Value::String(id.to_string()));
            object(vec![
                ("id", string(c.id.to_string())),
                ("name", name.map(Value::String)),
                ("other_names", others(other_names)),
                (
                    "description",
                    d.purpose
                        .as_ref()
                        .and_then(|p| localised(p).0)
                        .map(Value::String),
                ),
                ("start_date", day(Some(&d.schedule.start))),
                ("end_date", day(d.schedule.end.as_ref())),
                (
                    "location",
                    d.place
                        .as_ref()
                        .and_then(|p| localised(&p.name).0)
                        .map(Value::String),
                ),
                ("status", string(tag(&c.status))),
                ("classification", string(tag(&d.kind))),
                ("organization_id", organiser),
                (
                    "attendees",
                    Some(Value::Array(
                        attendees.into_iter().map(|id| json!({"id": id})).collect(),
                    )),
                ),
                (
                    "sources",
                    Some(Value::Array(
                        sources.into_iter().map(|url| json!({"url": url})).collect(),
                    )),
                ),
            ])
        })
        .collect();

    json!({
        "meta": {
            "title": "Shura: stakeholder consultations (Popolo)",
            "license": LICENCE.1,
            "shura": {"log_position": facts.head.position, "head_hash": facts.head.hash},
        },
        "persons": sorted_by_id(persons),
        "organizations": sorted_by_id(organizations),
        "memberships": sorted_by_id(memberships),
        "posts": sorted_by_id(posts),
        "events": sorted_by_id(events),
    })
}
