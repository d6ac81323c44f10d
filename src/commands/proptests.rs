//! Property tests of command decoding and decisions, with a bounded number of cases.
//!
//! Arbitrary JSON, and valid commands of every type with arbitrary values put anywhere in them
//! (strings, numbers, objects, extra or missing fields), either fail to decode into an
//! [`AnyCommand`] or are decided on small states of their aggregate without panicking. A decision
//! is either a validation error naming a field, or events that round-trip through their payloads
//! and hold no blank string, no control character and no string longer than the longest limit:
//! nothing that PostgreSQL could not store, or that a reader could not see, gets into the log.
//! One exhaustive test puts such strings in every string field of every command type.

use std::fmt::Debug;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{
    ActionAggregate, Aggregate, AnyCommand, ConsultationAggregate, OrganisationAggregate,
    PersonAggregate, TokenAggregate, UserAggregate,
};
use crate::domain::common::{is_blank, is_refused_control, LONG_TEXT_MAX};
use crate::domain::{
    action, consultation, organisation, person, token, user, DomainError, DomainEvent,
};

/// Cases per property: enough to reach every command type many times, small enough for seconds.
const CASES: u32 = 256;

const ORG: u128 = 1;
const ORG2: u128 = 2;
const PERSON: u128 = 3;
const POST: u128 = 4;
const CONSULTATION: u128 = 5;
const PARTICIPANT: u128 = 6;
const RECOMMENDATION: u128 = 7;
const RECOMMENDATION2: u128 = 8;
const AGREEMENT: u128 = 9;
const ACTION: u128 = 10;
const TOKEN: u128 = 11;
const USER: u128 = 12;
/// The id of whatever a creating command creates.
const NEW: u128 = 100;

fn id(n: u128) -> String {
    Uuid::from_u128(n).to_string()
}

/// One valid command of every type, each accepted on at least one of the [`States`].
fn templates() -> Vec<Value> {
    let text = |fr: &str| json!({"ar": "نص", "fr": fr, "en": "text"});
    let money = json!({"amount": "1250000.50", "currency": "MAD"});
    let period = json!({"start": {"year": 2026}, "end": {"year": 2028}});
    let source = json!({"publisher": text("Hespress"), "author": text("Auteur"),
        "url": "https://example.ma/article", "title": text("Titre"),
        "published_on": {"year": 2024, "month": 11, "day": 28, "weekday": "thursday"},
        "document": "001_bb1eded32c76a2d6.txt"});
    let details = json!({"kind": "workshop", "title": text("Atelier"),
        "description": text("Description"),
        "schedule": {"start": {"year": 2026, "month": 3, "day": 10}, "end": {"year": 2026, "month": 3, "day": 10},
            "start_time": "10:00:00", "end_time": "12:00:00", "as_stated": text("le 10 mars"), "inferred": false},
        "place": {"name": text("Wilaya"), "city": text("Fès"), "region": "MA-03"},
        "region": "MA-03", "purpose": text("Objet"),
        "occasion": {"name": text("Journée"), "period": period, "consultation_id": id(ORG)},
        "patronage": text("Patronage")});
    let with = |base: &Value, extra: Value| {
        let mut merged = base.clone();
        if let (Value::Object(into), Value::Object(from)) = (&mut merged, extra) {
            into.extend(from);
        }
        merged
    };
    let consultation = |kind: &str, fields: Value| {
        with(
            &json!({"aggregate": "consultation", "type": kind, "consultation_id": id(CONSULTATION)}),
            fields,
        )
    };
    let action = |kind: &str, fields: Value| {
        with(
            &json!({"aggregate": "action", "type": kind, "action_id": id(ACTION)}),
            fields,
        )
    };
    vec![
        json!({"aggregate": "organisation", "type": "register_organisation", "organisation_id": id(NEW),
            "name": text("CGEM"), "acronym": "CGEM", "kind": "confederation", "parent_id": id(ORG), "region": "MA-03"}),
        json!({"aggregate": "organisation", "type": "rename_organisation", "organisation_id": id(ORG),
            "name": text("Nouveau nom"), "acronym": "MIC", "effective": {"year": 2021, "month": 10}, "reason": "remaniement"}),
        json!({"aggregate": "organisation", "type": "correct_organisation_details", "organisation_id": id(ORG),
            "name": text("Nom"), "acronym": "X", "kind": "ministry", "region": "MA-03", "reason": "coquille"}),
        json!({"aggregate": "organisation", "type": "change_organisation_parent", "organisation_id": id(ORG),
            "parent_id": id(ORG2), "reason": "tutelle"}),
        json!({"aggregate": "person", "type": "register_person", "person_id": id(NEW),
            "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}, "honorific": text("M.")}),
        json!({"aggregate": "person", "type": "start_post", "person_id": id(PERSON), "post_id": id(NEW),
            "organisation_id": id(ORG2), "title": text("Secrétaire d'Etat"), "start": {"year": 2021},
            "attested_on": {"year": 2024, "month": 11}}),
        json!({"aggregate": "person", "type": "end_post", "person_id": id(PERSON), "post_id": id(POST),
            "end": {"year": 2026}, "reason": "fin de mandat"}),
        json!({"aggregate": "person", "type": "correct_person_name", "person_id": id(PERSON),
            "name": {"latin": "Omar Hjira"}, "honorific": text("M."), "reason": "orthographe"}),
        with(
            &details,
            json!({"aggregate": "consultation", "type": "plan_consultation", "consultation_id": id(NEW),
                "organisers": [id(ORG)], "sources": [source], "context_notes": [text("Contexte")]}),
        ),
        with(
            &details,
            consultation("revise_consultation_details", json!({"reason": "date"})),
        ),
        consultation("mark_consultation_held", json!({})),
        consultation("close_consultation", json!({})),
        consultation("cancel_consultation", json!({"reason": "reporté"})),
        consultation("add_organiser", json!({"organisation_id": id(ORG2)})),
        consultation(
            "add_source",
            json!({"source": {"url": "https://example.ma/b", "document": "002.txt"}}),
        ),
        consultation("add_context_note", json!({"note": text("Une note")})),
        consultation(
            "register_participant",
            json!({"participant_id": id(NEW), "person_id": id(PERSON), "organisation_id": id(ORG2),
                "capacity": text("Directeur"), "role": "speaker", "attendance": "invited",
                "contact": {"email": "dr.fes@mcinet.gov.ma", "phone": "+212 5 35 00 00 00"}}),
        ),
        consultation(
            "change_participant_role",
            json!({"participant_id": id(PARTICIPANT), "role": "chair"}),
        ),
        consultation(
            "record_attendance",
            json!({"participant_id": id(PARTICIPANT), "attendance": "attended"}),
        ),
        consultation(
            "propose_recommendation",
            json!({"recommendation_id": id(NEW), "text": text("Recommandation"),
                "themes": ["export-promotion", "sse"], "proposer": id(PARTICIPANT)}),
        ),
        consultation(
            "change_recommendation_status",
            json!({"recommendation_id": id(RECOMMENDATION2),
                "to": {"status": "merged", "into": id(RECOMMENDATION)}, "reason": "doublon"}),
        ),
        consultation(
            "revise_recommendation_text",
            json!({"recommendation_id": id(RECOMMENDATION), "text": text("Mieux dit"), "reason": "style"}),
        ),
        consultation(
            "record_agreement",
            json!({"agreement_id": id(NEW), "title": text("Convention"), "kind": "partnership_agreement",
                "status": "signed", "budget": money, "period": period, "programme": text("Programme"),
                "parties": [{"organisation_id": id(ORG2), "participant_id": id(PARTICIPANT),
                    "signatory_person_id": id(PERSON), "signatory_capacity": text("Président"),
                    "commitments": [text("Financer")]}],
                "objectives": [text("Objectif")], "notes": [text("Note")],
                "signed_on": {"year": 2026, "month": 3, "day": 10}}),
        ),
        consultation(
            "add_agreement_signatory",
            json!({"agreement_id": id(AGREEMENT), "party": {"organisation_id": id(ORG2)}}),
        ),
        consultation(
            "revise_agreement_budget",
            json!({"agreement_id": id(AGREEMENT), "budget": {"amount": "300000", "currency": "MAD"},
                "reason": "cofinancement"}),
        ),
        consultation(
            "change_agreement_scope",
            json!({"agreement_id": id(AGREEMENT), "scope": {"level": "regional", "region": "MA-03"},
                "reason": "programme régional"}),
        ),
        consultation(
            "change_participant_contact",
            json!({"participant_id": id(PARTICIPANT),
                "contact": {"email": "sg@region-fes.ma", "phone": "+212 5 35 11 11 11"}}),
        ),
        consultation(
            "record_key_figure",
            json!({"key_figure_id": id(NEW), "indicator": text("Exportations"), "value": "2.6",
                "unit": "MAD", "period": period, "as_of": {"year": 2024}, "region": "MA-03",
                "source": {"publisher": text("HCP")}, "stated": text("2,6 milliards"),
                "notes": [text("Industries traditionnelles")]}),
        ),
        consultation(
            "raise_point",
            json!({"point_id": id(NEW), "text": text("Un point"), "kind": "statement",
                "speakers": [id(PARTICIPANT)], "themes": ["sse"]}),
        ),
        json!({"aggregate": "action", "type": "create_action", "action_id": id(NEW),
            "consultation_id": id(CONSULTATION), "recommendation_ids": [id(RECOMMENDATION)],
            "agreement_id": id(AGREEMENT), "title": text("Suivi"), "description": text("Détail"),
            "owner_organisation_id": id(ORG), "due": {"year": 2026, "month": 12}, "budget": money}),
        action(
            "report_progress",
            json!({"on": "2026-01-31", "progress": 50, "note": text("Avance"), "reason": "bilan"}),
        ),
        action(
            "change_action_status",
            json!({"to": "blocked", "reason": "fonds"}),
        ),
        action("reopen_action", json!({"reason": "relance"})),
        action(
            "extend_deadline",
            json!({"to": {"year": 2027}, "reason": "retard"}),
        ),
        action(
            "reassign_owner",
            json!({"to": id(ORG2), "reason": "chambre"}),
        ),
        action(
            "revise_action_budget",
            json!({"to": {"amount": "300000", "currency": "MAD"}, "reason": "périmètre"}),
        ),
        json!({"aggregate": "token", "type": "create_token", "token_id": id(NEW), "name": "Direction régionale",
            "role": "editor", "regions": ["MA-03"], "secret_hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}),
        json!({"aggregate": "token", "type": "revoke_token", "token_id": id(TOKEN)}),
        json!({"aggregate": "user", "type": "create_user", "user_id": id(NEW), "username": "s.bennani",
            "display_name": "Salma Bennani", "role": "editor", "regions": ["MA-03"]}),
        json!({"aggregate": "user", "type": "change_user_role", "user_id": id(USER),
            "role": "editor", "regions": ["MA-03"]}),
        json!({"aggregate": "user", "type": "disable_user", "user_id": id(USER)}),
        json!({"aggregate": "user", "type": "enable_user", "user_id": id(USER)}),
    ]
}

/// A few states of each aggregate: not created, and created with something in it.
struct States {
    organisation: Vec<organisation::State>,
    person: Vec<person::State>,
    /// Not planned, planned, held: each with a participant, two recommendations and an agreement.
    consultation: Vec<consultation::State>,
    /// Not created, created, cancelled.
    action: Vec<action::State>,
    token: Vec<token::State>,
    /// Not created, created, disabled.
    user: Vec<user::State>,
}

fn command(value: Value) -> AnyCommand {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// Decides a valid command on a state and applies its events.
fn then<A: Aggregate>(state: A::State, command: A::Command) -> A::State {
    let events = A::decide(&state, command).unwrap_or_else(|e| panic!("setup: {e}"));
    events.iter().fold(state, A::apply)
}

fn states() -> States {
    let text = |fr: &str| json!({"fr": fr});
    let AnyCommand::Organisation(register) = command(json!({"aggregate": "organisation",
        "type": "register_organisation", "organisation_id": id(ORG), "name": text("Ministère"),
        "kind": "ministry"}))
    else {
        unreachable!()
    };
    let organisation = then::<OrganisationAggregate>(Default::default(), register);

    let mut person = person::State::default();
    for value in [
        json!({"aggregate": "person", "type": "register_person", "person_id": id(PERSON),
            "name": {"latin": "Omar Hejira"}}),
        json!({"aggregate": "person", "type": "start_post", "person_id": id(PERSON), "post_id": id(POST),
            "organisation_id": id(ORG), "title": text("Ministre"), "start": {"year": 2021}}),
    ] {
        let AnyCommand::Person(c) = command(value) else {
            unreachable!()
        };
        person = then::<PersonAggregate>(person, c);
    }

    let on = |kind: &str, fields: Value| {
        let mut value =
            json!({"aggregate": "consultation", "type": kind, "consultation_id": id(CONSULTATION)});
        if let (Value::Object(into), Value::Object(from)) = (&mut value, fields) {
            into.extend(from);
        }
        match command(value) {
            AnyCommand::Consultation(c) => c,
            other => panic!("{other:?}"),
        }
    };
    let mut planned = consultation::State::default();
    for c in [
        on(
            "plan_consultation",
            json!({"kind": "workshop", "title": text("Atelier"), "schedule": {"start": {"year": 2026}}}),
        ),
        on(
            "register_participant",
            json!({"participant_id": id(PARTICIPANT), "organisation_id": id(ORG), "role": "attendee"}),
        ),
        on(
            "propose_recommendation",
            json!({"recommendation_id": id(RECOMMENDATION), "text": text("Former")}),
        ),
        on(
            "propose_recommendation",
            json!({"recommendation_id": id(RECOMMENDATION2), "text": text("Former encore")}),
        ),
        on(
            "record_agreement",
            json!({"agreement_id": id(AGREEMENT), "title": text("Convention"), "kind": "memorandum",
                "parties": [{"organisation_id": id(ORG)}]}),
        ),
    ] {
        planned = then::<ConsultationAggregate>(planned, c);
    }
    let held =
        then::<ConsultationAggregate>(planned.clone(), on("mark_consultation_held", json!({})));

    let AnyCommand::Action(action::Command::CreateAction(mut create)) = command(json!({
        "aggregate": "action", "type": "create_action", "action_id": id(ACTION),
        "consultation_id": id(CONSULTATION), "title": text("Suivi"), "owner_organisation_id": id(ORG)}))
    else {
        unreachable!()
    };
    create.consultation = action::ConsultationFacts::from_state(&held);
    let created =
        then::<ActionAggregate>(Default::default(), action::Command::CreateAction(create));
    let AnyCommand::Action(cancel) = command(
        json!({"aggregate": "action", "type": "change_action_status",
        "action_id": id(ACTION), "to": "cancelled", "reason": "abandon"}),
    ) else {
        unreachable!()
    };
    let cancelled = then::<ActionAggregate>(created.clone(), cancel);

    let AnyCommand::Token(create) = command(json!({"aggregate": "token", "type": "create_token",
        "token_id": id(TOKEN), "name": "Audit", "role": "auditor",
        "secret_hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}))
    else {
        unreachable!()
    };
    let token = then::<TokenAggregate>(Default::default(), create);

    let AnyCommand::User(create) = command(json!({"aggregate": "user", "type": "create_user",
        "user_id": id(USER), "username": "audit", "role": "auditor"}))
    else {
        unreachable!()
    };
    let user = then::<UserAggregate>(Default::default(), create);
    let AnyCommand::User(disable) =
        command(json!({"aggregate": "user", "type": "disable_user", "user_id": id(USER)}))
    else {
        unreachable!()
    };
    let disabled = then::<UserAggregate>(user.clone(), disable);

    States {
        organisation: vec![Default::default(), organisation],
        person: vec![Default::default(), person],
        consultation: vec![Default::default(), planned, held],
        action: vec![Default::default(), created, cancelled],
        token: vec![Default::default(), token],
        user: vec![Default::default(), user, disabled],
    }
}

/// Every string in an accepted event is visible, bounded (by the largest limit, a long text's)
/// and storable on both backends.
fn clean(event_type: &str, value: &Value) -> Result<(), TestCaseError> {
    match value {
        Value::String(s) => {
            prop_assert!(!is_blank(s), "{event_type} holds a blank string {s:?}");
            prop_assert!(
                s.chars().count() <= LONG_TEXT_MAX,
                "{event_type} holds a string of {} characters",
                s.chars().count()
            );
            prop_assert!(
                !s.chars().any(is_refused_control),
                "{event_type} holds a control character in {s:?}"
            );
        }
        Value::Array(items) => {
            for item in items {
                clean(event_type, item)?;
            }
        }
        Value::Object(fields) => {
            for item in fields.values() {
                clean(event_type, item)?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// How many of `states` accept `command`; every refusal must be a validation error, every
/// acceptance events that round-trip, are clean, and apply.
fn decide_on<A: Aggregate>(
    states: &[A::State],
    command: &A::Command,
) -> Result<usize, TestCaseError>
where
    A::State: Clone,
    A::Command: Clone,
    A::Event: PartialEq + Debug,
{
    let mut accepted = 0;
    for state in states {
        match A::decide(state, command.clone()) {
            Err(DomainError::Validation { field, .. }) => {
                prop_assert!(!field.is_empty(), "a validation error names no field");
            }
            Err(other) => return Err(TestCaseError::fail(format!("not a validation: {other}"))),
            Ok(events) => {
                accepted += 1;
                let mut folded = state.clone();
                for event in &events {
                    let event_type = event.event_type();
                    let payload = event.to_payload();
                    clean(event_type, &payload)?;
                    let back = A::Event::from_payload(event_type, &payload);
                    prop_assert_eq!(back.as_ref(), Ok(event));
                    folded = A::apply(folded, event);
                }
            }
        }
    }
    Ok(accepted)
}

/// Decides a command on every state of its aggregate, as [`super::execute`] would (facts about
/// the consultation filled in for a new action); returns how many states accepted it.
fn decide_everywhere(command: AnyCommand, states: &States) -> Result<usize, TestCaseError> {
    match command {
        AnyCommand::Organisation(c) => decide_on::<OrganisationAggregate>(&states.organisation, &c),
        AnyCommand::Person(c) => decide_on::<PersonAggregate>(&states.person, &c),
        AnyCommand::Consultation(c) => decide_on::<ConsultationAggregate>(&states.consultation, &c),
        AnyCommand::Action(mut c) => {
            if let action::Command::CreateAction(create) = &mut c {
                let held = states.consultation.last().cloned().unwrap_or_default();
                create.consultation = action::ConsultationFacts::from_state(&held)
                    .filter(|facts| facts.consultation_id == create.consultation_id);
            }
            decide_on::<ActionAggregate>(&states.action, &c)
        }
        AnyCommand::Token(c) => decide_on::<TokenAggregate>(&states.token, &c),
        AnyCommand::User(c) => decide_on::<UserAggregate>(&states.user, &c),
    }
}

#[test]
fn every_template_is_a_valid_command_of_its_own_type() {
    let states = states();
    let templates = templates();
    assert_eq!(
        templates.len(),
        4 + 4 + 21 + 7 + 2 + 4,
        "one template per command type"
    );
    for template in templates {
        let accepted = decide_everywhere(command(template.clone()), &states)
            .unwrap_or_else(|e| panic!("{template}: {e}"));
        assert!(accepted > 0, "{template} is accepted on no state");
    }
}

/// Every string of every command, replaced by a NUL, an invisible text or a text longer than
/// any limit, is refused (or fails to decode) on every state: no free string escapes the checks.
#[test]
fn no_string_field_of_any_command_escapes_the_checks() {
    let states = states();
    let too_long = "x".repeat(LONG_TEXT_MAX + 1);
    let mut fields = 0;
    for template in templates() {
        let mut all = Vec::new();
        pointers(&template, String::new(), &mut all);
        for pointer in all {
            if !matches!(template.pointer(&pointer), Some(Value::String(_))) {
                continue;
            }
            fields += 1;
            for bad in [
                "x\u{0}y",
                "a\u{1b}[31m",
                "\u{200f}\u{202e}",
                " \u{feff}",
                &too_long,
            ] {
                let mut value = template.clone();
                if let Some(node) = value.pointer_mut(&pointer) {
                    *node = Value::String(bad.to_owned());
                }
                let Ok(command) = serde_json::from_value::<AnyCommand>(value) else {
                    continue;
                };
                // Accepting states may only change nothing (e.g. revoking a revoked token):
                // events holding the bad string fail `clean`.
                if let Err(e) = decide_everywhere(command, &states) {
                    panic!("{pointer} of {template} = {bad:?}: {e}");
                }
            }
        }
    }
    assert!(fields > 150, "only {fields} string fields were tried");
}

/// Strings likely to break something: controls, invisible text, huge or odd values, and the
/// shapes of dates, times, codes and decimals; otherwise any Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[\\x00-\\x20\\x7f\u{200b}-\u{200f}\u{202a}-\u{202e}\u{feff}a ]{0,6}",
        2 => prop::sample::select(vec![
            "", " ", "\u{0}", "x\u{0}y", "\u{200f}\u{202e}", "\u{200b}", "\u{feff}", "\u{7f}",
            "MA-03", "MA-13", "MAD", "mad", "JPY", "2026-01-31", "2026-02-30", "10:00:00",
            "25:00:00", "12.345", "-1", "1e400", "800000000000000000000000000",
            "79228162514264337593543950336", "https://", "ftp://x", "a@b.ma", "@", "+212",
            "export-promotion", "Export--x", "merged", "proposed", "workshop", "cancelled",
            "00000000-0000-0000-0000-000000000005", "not-a-uuid",
        ])
        .prop_map(str::to_owned),
        1 => (0usize..12_000, prop::sample::select(vec!["x", "ب", " ", "\u{0}"]))
            .prop_map(|(n, c)| c.repeat(n)),
    ]
}

/// Arbitrary JSON of bounded depth and size, keys often the commands' own field names.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            -1i64, 0, 1, 12, 13, 29, 31, 32, 100, 101, 255, 256, 1900, 2100, 2101
        ])
        .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "aggregate", "type", "consultation_id", "title", "titel", "ar", "fr", "en", "year",
            "month", "day", "weekday", "start", "end", "reason", "name", "amount", "currency",
            "status", "into", "schedule", "kind", "text", "themes", "to", "progress", "on",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// One change to a command's JSON.
#[derive(Debug, Clone)]
enum Mutation {
    /// Puts any string at a node.
    Text(String),
    /// Puts any JSON at a node.
    Json(Value),
    /// Adds a field to an object node (or replaces the node when it is not an object).
    Insert(String, Value),
    /// Removes the node from its parent.
    Remove,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => text().prop_map(Mutation::Text),
        3 => json_value().prop_map(Mutation::Json),
        1 => (key(), json_value()).prop_map(|(k, v)| Mutation::Insert(k, v)),
        1 => Just(Mutation::Remove),
    ]
}

/// JSON pointers of every node, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn apply_mutation(value: &mut Value, at: Index, mutation: Mutation) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    let pointer = at.get(&all).clone();
    if let Mutation::Remove = mutation {
        if let Some((parent, last)) = pointer.rsplit_once('/') {
            let last = last.replace("~1", "/").replace("~0", "~");
            match value.pointer_mut(parent) {
                Some(Value::Object(fields)) => {
                    fields.remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < items.len() {
                            items.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
        return;
    }
    let Some(node) = value.pointer_mut(&pointer) else {
        return;
    };
    match mutation {
        Mutation::Text(s) => *node = Value::String(s),
        Mutation::Json(v) => *node = v,
        Mutation::Insert(k, v) => match node {
            Value::Object(fields) => {
                fields.insert(k, v);
            }
            other => *other = v,
        },
        Mutation::Remove => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any JSON at all: decoding fails cleanly or the command is decided without a panic.
    #[test]
    fn arbitrary_json_decodes_or_fails_and_never_panics(
        value in json_value(),
        aggregate in prop::sample::select(vec!["organisation", "person", "consultation", "action", "token"]),
        kind in prop::sample::select(vec!["register_organisation", "start_post", "plan_consultation",
            "record_agreement", "raise_point", "create_action", "report_progress", "create_token"]),
    ) {
        let states = states();
        if let Ok(command) = serde_json::from_value::<AnyCommand>(value.clone()) {
            decide_everywhere(command, &states)?;
        }
        // The same JSON under a real command tag reaches deeper into the decoders.
        if let Value::Object(mut fields) = value {
            fields.insert("aggregate".into(), json!(aggregate));
            fields.insert("type".into(), json!(kind));
            if let Ok(command) = serde_json::from_value::<AnyCommand>(Value::Object(fields)) {
                decide_everywhere(command, &states)?;
            }
        }
    }

    /// Valid commands with arbitrary strings or JSON anywhere: decoded or refused, never a
    /// panic, and what is accepted is clean.
    #[test]
    fn mutated_commands_are_refused_or_accepted_clean_and_never_panic(
        template in any::<Index>(),
        mutations in prop::collection::vec((any::<Index>(), mutation()), 1..4),
    ) {
        let states = states();
        let templates = templates();
        let mut value = template.get(&templates).clone();
        for (at, mutation) in mutations {
            apply_mutation(&mut value, at, mutation);
        }
        if let Ok(command) = serde_json::from_value::<AnyCommand>(value) {
            decide_everywhere(command, &states)?;
        }
    }
}
