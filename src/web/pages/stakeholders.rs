//! The stakeholders pages: organisations and people, searched by name (Arabic-aware, as GraphQL's
//! `organisations(search:)` and `people(search:)`), and each one's page with its names, kind,
//! region, posts and the consultations it took part in. People's contact details (recorded on
//! their participations) are shown only where [`crate::auth::Access::contacts`] allows, as
//! GraphQL's `Participant.contact` does.

use std::borrow::Cow;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::common::{PartialDate, Text};
use crate::domain::{consultation, organisation, person};
use crate::projections::lists::{
    self, ConsultationRecord, EntityRecord, Related, StakeholderFilter,
};
use crate::projections::rows::tag;
use crate::store::StoreError;
use crate::web::i18n::{Shown, Tr};
use crate::web::{html, respond, Nav, PageContext, Viewer, WebError, WebResult, WebState};

/// Rows per page of each list.
const PAGE_SIZE: i64 = 20;
/// The longest search text read (GraphQL's limit).
const MAX_SEARCH_TEXT: usize = crate::graphql::query::MAX_SEARCH_TEXT;
/// Most people and consultations listed on one stakeholder's page (GraphQL's page cap).
const MAX_RELATED: i64 = 100;

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/stakeholders", get(list))
        .route("/stakeholders/organisations/{id}", get(organisation_page))
        .route("/stakeholders/people/{id}", get(person_page))
}

/// A text shown on a page, owning its value (the documents it came from are dropped).
fn owned(shown: Shown<'_>) -> Shown<'static> {
    Shown {
        value: Cow::Owned(shown.value.into_owned()),
        lang: shown.lang,
        own: shown.own,
    }
}

/// A read-model document, parsed as its aggregate (a document that does not parse is a defect).
fn parse<T: DeserializeOwned>(doc: &str) -> Result<T, WebError> {
    serde_json::from_str(doc).map_err(|e| WebError::Internal(e.to_string()))
}

/// An id from the URL or the query string; anything else is a bad request.
fn uuid(text: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(text.trim()).map_err(|_| WebError::BadRequest)
}

fn optional(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A person's name as written: Arabic script, with the Latin transliteration beside it.
fn person_name(name: &person::PersonName) -> (String, String) {
    (
        name.arabic.clone().unwrap_or_default(),
        name.latin.clone().unwrap_or_default(),
    )
}

/// "from – to" of a post, as far as known.
fn period(tr: &Tr, start: Option<&PartialDate>, end: Option<&PartialDate>, ended: bool) -> String {
    let from = start.map(|d| tr.partial_date(d));
    let to = match (end, ended) {
        (Some(d), _) => Some(tr.partial_date(d)),
        (None, true) => Some(tr.t("stakeholder-post-ended")),
        (None, false) => None,
    };
    match (from, to) {
        (Some(from), Some(to)) => format!("{from} – {to}"),
        (Some(from), None) => tr.t1("stakeholder-post-since", "from", from),
        (None, Some(to)) => tr.t1("stakeholder-post-until", "to", to),
        (None, None) => String::new(),
    }
}

/// An organisation as listed.
pub struct OrganisationRow {
    id: String,
    name: Shown<'static>,
    acronym: String,
    kind: String,
    region: String,
}

impl OrganisationRow {
    fn of(tr: &Tr, record: &EntityRecord) -> Result<OrganisationRow, WebError> {
        let org: organisation::Organisation = parse(&record.doc)?;
        Ok(OrganisationRow {
            id: record.id.0.to_string(),
            name: owned(tr.text(&org.name)),
            acronym: org.acronym.clone().unwrap_or_default(),
            kind: tr.value("organisation-kind", &tag(&org.kind)),
            region: org
                .region
                .as_ref()
                .map_or_else(String::new, |r| tr.region(r.as_str())),
        })
    }
}

/// A person as listed.
pub struct PersonRow {
    id: String,
    arabic: String,
    latin: String,
    /// Their current posts' titles.
    posts: Vec<Shown<'static>>,
}

impl PersonRow {
    fn of(tr: &Tr, record: &EntityRecord) -> Result<PersonRow, WebError> {
        let p: person::Person = parse(&record.doc)?;
        let (arabic, latin) = person_name(&p.name);
        Ok(PersonRow {
            id: record.id.0.to_string(),
            arabic,
            latin,
            posts: p
                .current_posts()
                .map(|post| owned(tr.text(&post.title)))
                .collect(),
        })
    }
}

/// A consultation a stakeholder took part in.
pub struct ConsultationRow {
    id: String,
    title: String,
    date: String,
    kind: String,
    status: String,
    region: String,
}

impl ConsultationRow {
    fn of(tr: &Tr, r: &ConsultationRecord) -> ConsultationRow {
        ConsultationRow {
            id: r.id.0.to_string(),
            title: r.title.clone(),
            date: match (&r.start_date, &r.month) {
                (Some(day), _) => tr.iso_date(day),
                (None, Some(month)) => month.clone(),
                (None, None) => tr.t("date-unknown"),
            },
            kind: tr.value("consultation-kind", &r.kind),
            status: tr.value("consultation-status", &r.status),
            region: r
                .region
                .as_deref()
                .map_or_else(String::new, |code| tr.region(code)),
        }
    }
}

/// The consultations of `id` by `edge`, in the order the read gives (earliest start first).
async fn consultations_of(
    state: &WebState,
    tr: &Tr,
    edge: Related,
    id: Uuid,
) -> Result<(Vec<ConsultationRecord>, Vec<ConsultationRow>), WebError> {
    let pool = state.store.pool();
    let ids: Vec<Uuid> = lists::related(pool, edge, &[id], MAX_RELATED)
        .await?
        .into_iter()
        .map(|(_, to)| to.0)
        .collect();
    let mut records = lists::consultations_by_ids(pool, &ids).await?;
    records.sort_by_key(|r| ids.iter().position(|i| *i == r.id.0));
    let rows = records.iter().map(|r| ConsultationRow::of(tr, r)).collect();
    Ok((records, rows))
}

/// The list's query string (empty values are no filter).
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// Words of a name, in either script.
    q: Option<String>,
    /// Organisations serving this region.
    region: Option<String>,
    /// The organisations' page: after this id.
    oafter: Option<String>,
    /// The people's page: after this id.
    pafter: Option<String>,
}

#[derive(Template)]
#[template(path = "stakeholders.html", config = "src/web/askama.toml")]
struct ListPage {
    p: PageContext,
    q: String,
    region: String,
    regions: Vec<(String, String)>,
    notice: Option<String>,
    organisations: Vec<OrganisationRow>,
    organisations_total: String,
    organisations_next: Option<String>,
    people: Vec<PersonRow>,
    people_total: String,
    people_next: Option<String>,
}

async fn list(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<ListParams>,
) -> Response {
    let result = list_inner(&state, &viewer, params).await;
    respond(&viewer, result)
}

async fn list_inner(state: &WebState, viewer: &Viewer, params: ListParams) -> WebResult {
    viewer.user()?;
    let tr = viewer.tr;
    let q = optional(params.q).unwrap_or_default();
    let region = optional(params.region).unwrap_or_default();
    let oafter = optional(params.oafter).map(|v| uuid(&v)).transpose()?;
    let pafter = optional(params.pafter).map(|v| uuid(&v)).transpose()?;
    let mut page = ListPage {
        p: viewer.page(tr.t("stakeholders-title"), Nav::Stakeholders),
        q: q.clone(),
        region: region.clone(),
        regions: tr.regions(),
        notice: None,
        organisations: Vec::new(),
        organisations_total: String::new(),
        organisations_next: None,
        people: Vec::new(),
        people_total: String::new(),
        people_next: None,
    };
    if q.chars().count() > MAX_SEARCH_TEXT {
        page.notice = Some(tr.t("stakeholders-search-too-long"));
        return html(&page);
    }
    let search = (!q.is_empty()).then(|| q.clone());
    let pool = state.store.pool();
    let org_filter = StakeholderFilter {
        kind: None,
        region: (!region.is_empty()).then(|| region.clone()),
        search: search.clone(),
    };
    let person_filter = StakeholderFilter {
        search,
        ..Default::default()
    };
    // The two lists are independent: read at once, on two connections.
    let (organisations, people) = tokio::join!(
        lists::organisations(pool, &org_filter, PAGE_SIZE, oafter, true),
        lists::people(pool, &person_filter, PAGE_SIZE, pafter, true),
    );
    let (organisations, people) = match (organisations, people) {
        (Ok(o), Ok(p)) => (o, p),
        // Too many words: the search's only refusal, said next to the box.
        (Err(StoreError::Validation { .. }), _) | (_, Err(StoreError::Validation { .. })) => {
            page.notice = Some(tr.count(
                "stakeholders-search-too-many-words",
                lists::MAX_SEARCH_TERMS as i64,
            ));
            return html(&page);
        }
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    // Each list pages on its own: a next link keeps the other list where it is.
    let link = |o: Option<Uuid>, p: Option<Uuid>| {
        let mut query = vec![];
        if !q.is_empty() {
            query.push(format!("q={}", crate::web::urlencode(&q)));
        }
        if !region.is_empty() {
            query.push(format!("region={}", crate::web::urlencode(&region)));
        }
        if let Some(o) = o {
            query.push(format!("oafter={o}"));
        }
        if let Some(p) = p {
            query.push(format!("pafter={p}"));
        }
        format!("/stakeholders?{}", query.join("&"))
    };
    page.organisations_next = organisations
        .has_next
        .then(|| {
            organisations
                .rows
                .last()
                .map(|r| link(Some(r.id.0), pafter))
        })
        .flatten();
    page.people_next = people
        .has_next
        .then(|| people.rows.last().map(|r| link(oafter, Some(r.id.0))))
        .flatten();
    page.organisations_total = tr.count(
        "stakeholders-organisations-count",
        organisations.total.unwrap_or_default(),
    );
    page.people_total = tr.count(
        "stakeholders-people-count",
        people.total.unwrap_or_default(),
    );
    page.organisations = organisations
        .rows
        .iter()
        .map(|r| OrganisationRow::of(&tr, r))
        .collect::<Result<_, _>>()?;
    page.people = people
        .rows
        .iter()
        .map(|r| PersonRow::of(&tr, r))
        .collect::<Result<_, _>>()?;
    html(&page)
}

/// A person holding a post in the organisation.
pub struct MemberRow {
    id: String,
    arabic: String,
    latin: String,
    title: Shown<'static>,
    period: String,
    ended: bool,
}

#[derive(Template)]
#[template(path = "stakeholder_organisation.html", config = "src/web/askama.toml")]
struct OrganisationPage {
    p: PageContext,
    id: String,
    name_ar: String,
    name_fr: String,
    acronym: String,
    kind: String,
    region: String,
    parent: Option<(String, Shown<'static>)>,
    former_names: Vec<(Shown<'static>, String)>,
    members: Vec<MemberRow>,
    consultations: Vec<ConsultationRow>,
    capped: bool,
}

fn text_in(text: &Text, lang: &str) -> String {
    match lang {
        "ar" => text.ar.clone(),
        _ => text.fr.clone(),
    }
    .unwrap_or_default()
}

async fn organisation_page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let result = organisation_inner(&state, &viewer, &id).await;
    respond(&viewer, result)
}

async fn organisation_inner(state: &WebState, viewer: &Viewer, id: &str) -> WebResult {
    viewer.user()?;
    let tr = viewer.tr;
    let id = uuid(id)?;
    let pool = state.store.pool();
    let record = lists::organisation(pool, id)
        .await?
        .ok_or(WebError::NotFound)?;
    let org: organisation::Organisation = parse(&record.doc)?;
    let parent = match org.parent_id {
        Some(parent) => lists::organisation(pool, parent)
            .await?
            .map(|r| OrganisationRow::of(&tr, &r))
            .transpose()?
            .map(|r| (r.id, r.name)),
        None => None,
    };
    let member_ids: Vec<Uuid> = lists::related(pool, Related::People, &[id], MAX_RELATED)
        .await?
        .into_iter()
        .map(|(_, to)| to.0)
        .collect();
    let mut members = Vec::new();
    for record in lists::people_by_ids(pool, &member_ids).await? {
        let p: person::Person = parse(&record.doc)?;
        let (arabic, latin) = person_name(&p.name);
        for post in p.posts.iter().filter(|post| post.organisation_id == id) {
            members.push(MemberRow {
                id: record.id.0.to_string(),
                arabic: arabic.clone(),
                latin: latin.clone(),
                title: owned(tr.text(&post.title)),
                period: period(&tr, post.start.as_ref(), post.end.as_ref(), post.ended),
                ended: post.ended,
            });
        }
    }
    // Current posts first, then by name.
    members.sort_by(|a, b| (a.ended, &a.arabic, &a.latin).cmp(&(b.ended, &b.arabic, &b.latin)));
    let (records, consultations) =
        consultations_of(state, &tr, Related::OrganisationConsultations, id).await?;
    let title = tr.text(&org.name).value.into_owned();
    let page = OrganisationPage {
        p: viewer.page(title, Nav::Stakeholders),
        id: id.to_string(),
        name_ar: text_in(&org.name, "ar"),
        name_fr: text_in(&org.name, "fr"),
        acronym: org.acronym.clone().unwrap_or_default(),
        kind: tr.value("organisation-kind", &tag(&org.kind)),
        region: org
            .region
            .as_ref()
            .map_or_else(String::new, |r| tr.region(r.as_str())),
        parent,
        former_names: org
            .former_names
            .iter()
            .map(|f| {
                (
                    owned(tr.text(&f.name)),
                    f.until
                        .as_ref()
                        .map_or_else(String::new, |d| tr.partial_date(d)),
                )
            })
            .collect(),
        members,
        capped: records.len() as i64 >= MAX_RELATED,
        consultations,
    };
    html(&page)
}

/// A post of the person.
pub struct PostRow {
    organisation_id: String,
    organisation: Shown<'static>,
    title: Shown<'static>,
    period: String,
}

/// Contact details recorded when the person took part in a consultation.
pub struct ContactRow {
    consultation_id: String,
    consultation: String,
    email: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "stakeholder_person.html", config = "src/web/askama.toml")]
struct PersonPage {
    p: PageContext,
    id: String,
    arabic: String,
    latin: String,
    honorific: Shown<'static>,
    posts: Vec<PostRow>,
    consultations: Vec<ConsultationRow>,
    capped: bool,
    contacts: Vec<ContactRow>,
    /// How many participations have contact details this viewer may not read.
    hidden_contacts: i64,
}

async fn person_page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let result = person_inner(&state, &viewer, &id).await;
    respond(&viewer, result)
}

async fn person_inner(state: &WebState, viewer: &Viewer, id: &str) -> WebResult {
    viewer.user()?;
    let tr = viewer.tr;
    let id = uuid(id)?;
    let pool = state.store.pool();
    let record = lists::person(pool, id).await?.ok_or(WebError::NotFound)?;
    let p: person::Person = parse(&record.doc)?;
    let organisation_ids: Vec<Uuid> = p.posts.iter().map(|post| post.organisation_id).collect();
    let organisations: HashMap<Uuid, Shown<'static>> =
        lists::organisations_by_ids(pool, &organisation_ids)
            .await?
            .iter()
            .map(|r| OrganisationRow::of(&tr, r).map(|row| (r.id.0, row.name)))
            .collect::<Result<_, _>>()?;
    let posts = p
        .posts
        .iter()
        .map(|post| PostRow {
            organisation_id: post.organisation_id.to_string(),
            organisation: organisations
                .get(&post.organisation_id)
                .cloned()
                .unwrap_or_else(|| owned(tr.text(&Text::default()))),
            title: owned(tr.text(&post.title)),
            period: period(&tr, post.start.as_ref(), post.end.as_ref(), post.ended),
        })
        .collect();
    let (records, consultations) =
        consultations_of(state, &tr, Related::PersonConsultations, id).await?;
    // Contact details are personal data kept on each participation: read from the
    // consultation's document, shown only where the viewer's access reads them.
    let access = viewer.access();
    let ids: Vec<Uuid> = records.iter().map(|r| r.id.0).collect();
    let mut contacts = Vec::new();
    let mut hidden_contacts = 0i64;
    for doc in lists::consultation_docs(pool, &ids).await? {
        let c: consultation::Consultation = parse(&doc.doc)?;
        let Some(record) = records.iter().find(|r| r.id == doc.id) else {
            continue;
        };
        for participant in c.participants.iter().filter(|x| x.person_id == Some(id)) {
            let Some(contact) = &participant.contact else {
                continue;
            };
            if access.contacts(record.region.as_deref()).is_ok() {
                contacts.push(ContactRow {
                    consultation_id: record.id.0.to_string(),
                    consultation: record.title.clone(),
                    email: contact.email.clone().unwrap_or_default(),
                    phone: contact.phone.clone().unwrap_or_default(),
                });
            } else {
                hidden_contacts = hidden_contacts.saturating_add(1);
            }
        }
    }
    let (arabic, latin) = person_name(&p.name);
    let title = if arabic.is_empty() {
        latin.clone()
    } else {
        arabic.clone()
    };
    let page = PersonPage {
        p: viewer.page(title, Nav::Stakeholders),
        id: id.to_string(),
        arabic,
        latin,
        honorific: owned(tr.opt_text(&p.honorific)),
        posts,
        capped: records.len() as i64 >= MAX_RELATED,
        consultations,
        contacts,
        hidden_contacts,
    };
    html(&page)
}
