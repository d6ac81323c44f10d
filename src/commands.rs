//! Runs domain commands against the event store: load the stream, decide, append.
//!
//! This is the one place where the pure domain meets I/O. Each command is decided on the state
//! folded from its stream and appended with `Exact(version)`, so two writers deciding on the same
//! state cannot both win. Facts that live in other streams (does this organisation exist? what
//! are the consultation's recommendations?) are read here and handed to the domain.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::{check_reason, check_required_str};
use crate::domain::{
    action, consultation, organisation, person, token, user, DomainError, DomainEvent, Rule,
};
use crate::store::{
    Actor, AppendRequest, ExpectedVersion, NewEvent, Store, StoreError, StoredEvent, WriteContext,
    MAX_IDEMPOTENCY_KEY,
};

/// A command for any aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "aggregate", rename_all = "snake_case")]
// A command is built, run once and dropped; boxing the large variants would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum AnyCommand {
    /// An organisation command.
    Organisation(organisation::Command),
    /// A person command.
    Person(person::Command),
    /// A consultation command.
    Consultation(consultation::Command),
    /// A follow-up action command.
    Action(action::Command),
    /// An API token command.
    Token(token::Command),
    /// A user account command.
    User(user::Command),
}

impl AnyCommand {
    /// The stream the command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            AnyCommand::Organisation(c) => c.stream_id(),
            AnyCommand::Person(c) => c.stream_id(),
            AnyCommand::Consultation(c) => c.stream_id(),
            AnyCommand::Action(c) => c.stream_id(),
            AnyCommand::Token(c) => c.stream_id(),
            AnyCommand::User(c) => c.stream_id(),
        }
    }

    /// The stream type the command writes to.
    pub fn stream_type(&self) -> &'static str {
        match self {
            AnyCommand::Organisation(_) => organisation::STREAM_TYPE,
            AnyCommand::Person(_) => person::STREAM_TYPE,
            AnyCommand::Consultation(_) => consultation::STREAM_TYPE,
            AnyCommand::Action(_) => action::STREAM_TYPE,
            AnyCommand::Token(_) => token::STREAM_TYPE,
            AnyCommand::User(_) => user::STREAM_TYPE,
        }
    }
}

/// Who asks, and how.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The principal making the change.
    pub actor: Actor,
    /// The version the caller last saw; `None` to decide on the latest state.
    pub expected_version: Option<i64>,
    /// Makes a retry return the first result.
    pub idempotency_key: Option<String>,
    /// Why, recorded in the events' metadata.
    pub reason: Option<String>,
    /// Groups the events of one request.
    pub correlation_id: Option<Uuid>,
}

impl CommandContext {
    /// A context with only an actor.
    pub fn new(actor: Actor) -> Self {
        CommandContext {
            actor,
            expected_version: None,
            idempotency_key: None,
            reason: None,
            correlation_id: None,
        }
    }

    /// Checks what the caller gave beside the command, before anything is read, naming each
    /// value as the API does: `expectedVersion` is not negative (`OUT_OF_RANGE`: no stream has a
    /// negative version, so this is a mistake, not a conflict); `reason` and `idempotencyKey`,
    /// when given, are free strings like any other (non-blank, at most `REASON_MAX` and
    /// [`MAX_IDEMPOTENCY_KEY`] characters, no control character). The store checks the same
    /// rules on every append; checking here first gives the client the rule's code, and keeps a
    /// NUL in a key from reaching the idempotency lookup.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(expected) = self.expected_version {
            if expected < 0 {
                return Err(DomainError::validation(
                    "expectedVersion",
                    Rule::OutOfRange {
                        min: 0,
                        max: i64::MAX,
                    },
                ));
            }
        }
        if let Some(reason) = &self.reason {
            check_reason("reason", reason)?;
        }
        if let Some(key) = &self.idempotency_key {
            check_required_str("idempotencyKey", key, MAX_IDEMPOTENCY_KEY)?;
        }
        Ok(())
    }
}

/// What a command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The stream written to.
    pub stream_id: Uuid,
    /// The stream's version after the command.
    pub version: i64,
    /// The global position of the last event written (or of the stream's last event when the
    /// command changed nothing).
    pub position: i64,
    /// How many events the command appended (0 when it changed nothing or was a replay).
    pub appended: usize,
    /// True when an earlier identical request with the same idempotency key answered.
    pub replayed: bool,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The domain refused it (validation or a business rule).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store refused it (conflict, idempotency) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Pure decision functions of one aggregate, so that loading and appending are written once.
trait Aggregate {
    /// `Clone` and `'static` so that the store's [`StateCache`](crate::store::StateCache) can
    /// keep it between commands.
    type State: Default + Clone + Send + Sync + 'static;
    type Command: Clone;
    type Event: DomainEvent;
    fn decide(state: &Self::State, command: Self::Command)
        -> Result<Vec<Self::Event>, DomainError>;
    fn apply(state: Self::State, event: &Self::Event) -> Self::State;
}

macro_rules! aggregate {
    ($marker:ident, $module:ident) => {
        struct $marker;
        impl Aggregate for $marker {
            type State = $module::State;
            type Command = $module::Command;
            type Event = $module::Event;
            fn decide(
                state: &Self::State,
                command: Self::Command,
            ) -> Result<Vec<Self::Event>, DomainError> {
                $module::decide(state, command)
            }
            fn apply(state: Self::State, event: &Self::Event) -> Self::State {
                $module::apply(state, event)
            }
        }
    };
}
aggregate!(OrganisationAggregate, organisation);
aggregate!(PersonAggregate, person);
aggregate!(ConsultationAggregate, consultation);
aggregate!(ActionAggregate, action);
aggregate!(TokenAggregate, token);
aggregate!(UserAggregate, user);

/// Folds recorded events of one aggregate into its state.
pub fn fold_recorded<E: DomainEvent, S>(
    events: &[StoredEvent],
    initial: S,
    apply: impl Fn(S, &E) -> S,
) -> Result<S, DomainError> {
    events.iter().try_fold(initial, |state, recorded| {
        let event = E::from_payload(&recorded.event_type, &recorded.payload)?;
        Ok(apply(state, &event))
    })
}

/// Loads a stream's state as of `up_to_version` (the latest when `None`) and its version.
///
/// Starts from the newest state the store's cache holds at or below that version and folds only
/// the events after it, so a command on a long stream costs what was appended since the last
/// one, not the stream's length. Exact for any version: the events up to a version never change.
async fn load<A: Aggregate>(
    store: &Store,
    stream_id: Uuid,
    up_to_version: Option<i64>,
) -> Result<(A::State, i64), CommandError> {
    let cache = store.states();
    let (known, state) = cache
        .get::<A::State>(stream_id, up_to_version)
        .unwrap_or_default();
    // An older basis (an idempotent retry) already cached needs no read at all.
    if up_to_version == Some(known) {
        return Ok((state, known));
    }
    let mut events = store
        .read_stream_after(stream_id, known, up_to_version)
        .await?;
    crate::erasure::unseal_recorded(store.pool(), &mut events).await?;
    cache.count_folded(events.len());
    let version = events.last().map_or(known, |e| e.version);
    let state = fold_recorded::<A::Event, _>(&events, state, A::apply)?;
    if version != known {
        cache.put(stream_id, version, state.clone());
    }
    Ok((state, version))
}

/// The state of a consultation as of a version (all when `None`).
pub async fn consultation_state(
    store: &Store,
    id: Uuid,
    up_to_version: Option<i64>,
) -> Result<consultation::State, CommandError> {
    Ok(load::<ConsultationAggregate>(store, id, up_to_version)
        .await?
        .0)
}

/// The state of a consultation as of a recorded time: its events recorded at or before `at`.
/// Recorded times never decrease along the log, so this is a prefix of the stream.
pub async fn consultation_as_of_time(
    store: &Store,
    id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<consultation::State, CommandError> {
    let mut events = store.read_stream(id, None).await?;
    crate::erasure::unseal_recorded(store.pool(), &mut events).await?;
    let upto = events
        .iter()
        .take_while(|e| e.metadata.recorded_at <= at)
        .count();
    Ok(fold_recorded::<consultation::Event, _>(
        &events[..upto],
        consultation::State::default(),
        consultation::apply,
    )?)
}

/// Runs one command: checks references to other streams, decides on the stream's state, and
/// appends the resulting events.
pub async fn execute(
    store: &Store,
    command: AnyCommand,
    context: CommandContext,
) -> Result<CommandOutcome, CommandError> {
    context.validate()?;
    check_references(store, &command).await?;
    let stream_type = command.stream_type();
    match command {
        AnyCommand::Organisation(c) => {
            run::<OrganisationAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
        AnyCommand::Person(person::Command::EraseContact(c)) => {
            erase_contact(store, stream_type, c, context).await
        }
        AnyCommand::Person(c) => {
            run::<PersonAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
        AnyCommand::Consultation(c) => {
            run::<ConsultationAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
        AnyCommand::Action(mut c) => {
            if let action::Command::CreateAction(create) = &mut c {
                let state = consultation_state(store, create.consultation_id, None).await?;
                create.consultation = action::ConsultationFacts::from_state(&state);
            }
            run::<ActionAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
        AnyCommand::Token(c) => {
            run::<TokenAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
        AnyCommand::User(c) => {
            run::<UserAggregate>(store, stream_type, c.stream_id(), c, context).await
        }
    }
}

/// Erases a person's contact details: checks the request, destroys the person's keys (so that
/// the data is gone even if recording fails; a retry records it), records `ContactErased`, then
/// scrubs what the database still keeps of the clear values (see [`crate::erasure::scrub`]).
async fn erase_contact(
    store: &Store,
    stream_type: &str,
    c: person::EraseContact,
    context: CommandContext,
) -> Result<CommandOutcome, CommandError> {
    check_reason("reason", &c.reason)?;
    if store.stream_type_of(c.person_id).await?.as_deref() != Some(person::STREAM_TYPE) {
        return Err(DomainError::validation("person_id", Rule::NotCreated).into());
    }
    crate::erasure::destroy_keys(store, c.person_id).await?;
    let id = c.person_id;
    let command = person::Command::EraseContact(c);
    let outcome = run::<PersonAggregate>(store, stream_type, id, command, context).await?;
    crate::erasure::scrub(store).await?;
    Ok(outcome)
}

/// How many times a command sent without an expected version is decided again, on the latest
/// state, when another write to its stream got in between its read and its append.
pub const MAX_ATTEMPTS: usize = 10;

/// Runs a command on its stream. Without an expected version the client asked for "the latest
/// state", so a conflict (someone else wrote first) is not the client's: the command is decided
/// again on the new state, at most [`MAX_ATTEMPTS`] times. With one, the conflict is the answer.
async fn run<A: Aggregate>(
    store: &Store,
    stream_type: &str,
    stream_id: Uuid,
    command: A::Command,
    context: CommandContext,
) -> Result<CommandOutcome, CommandError> {
    let mut attempt = 1;
    loop {
        let outcome = run_once::<A>(
            store,
            stream_type,
            stream_id,
            command.clone(),
            context.clone(),
        )
        .await;
        match outcome {
            Err(CommandError::Store(StoreError::Conflict { .. }))
                if context.expected_version.is_none() && attempt < MAX_ATTEMPTS =>
            {
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn run_once<A: Aggregate>(
    store: &Store,
    stream_type: &str,
    stream_id: Uuid,
    command: A::Command,
    context: CommandContext,
) -> Result<CommandOutcome, CommandError> {
    // A retried request is decided again on the state its first attempt saw, so that the store
    // can compare what it would write with what was written.
    let earlier = match &context.idempotency_key {
        Some(key) => store.idempotent_result(key).await?,
        None => None,
    };
    let basis = earlier.map(|r| r.first_version - 1);
    let (state, version) = load::<A>(store, stream_id, basis).await?;
    if let (Some(expected), None) = (context.expected_version, basis) {
        if expected != version {
            return Err(StoreError::Conflict {
                stream_id,
                expected: ExpectedVersion::Exact(expected),
                actual: version,
            }
            .into());
        }
    }
    let events = A::decide(&state, command)?;
    if events.is_empty() {
        let position = store.stream_position(stream_id).await?;
        return Ok(CommandOutcome {
            stream_id,
            version,
            position,
            appended: 0,
            replayed: false,
        });
    }
    let appended = events.len();
    let mut new_events: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent {
            event_id: None,
            event_type: e.event_type().to_owned(),
            schema_version: e.schema_version(),
            payload: e.to_payload(),
        })
        .collect();
    if crate::erasure::has_personal(stream_type, &new_events) {
        // Sealed values differ at every attempt (random nonces): a retry is compared here, on
        // clear values, instead of by the store on the bytes written.
        if let (Some(earlier), Some(key)) = (earlier, &context.idempotency_key) {
            let mut recorded = store
                .read_stream_after(
                    stream_id,
                    earlier.first_version - 1,
                    Some(earlier.last_version),
                )
                .await?;
            crate::erasure::unseal_recorded(store.pool(), &mut recorded).await?;
            if earlier.stream_id != stream_id
                || !crate::erasure::same_as_recorded(stream_type, &recorded, &new_events)
            {
                return Err(StoreError::IdempotencyMismatch { key: key.clone() }.into());
            }
            return Ok(CommandOutcome {
                stream_id,
                version: earlier.last_version,
                position: earlier.last_position,
                appended: 0,
                replayed: true,
            });
        }
        crate::erasure::seal(store, stream_type, stream_id, &mut new_events).await?;
    }
    let request = AppendRequest {
        stream_id,
        stream_type: stream_type.to_owned(),
        expected: ExpectedVersion::Exact(version),
        events: new_events,
        context: WriteContext {
            actor: context.actor,
            correlation_id: context.correlation_id,
            causation_id: None,
            reason: context.reason,
            idempotency_key: context.idempotency_key,
        },
    };
    let result = store.append(request).await?;
    Ok(CommandOutcome {
        stream_id,
        version: result.last_version,
        position: result.last_position,
        appended: if result.replayed { 0 } else { appended },
        replayed: result.replayed,
    })
}

/// Organisations and people a command names must exist (as streams of their type).
async fn check_references(store: &Store, command: &AnyCommand) -> Result<(), CommandError> {
    for (field, id, stream_type) in references(command) {
        if store.stream_type_of(id).await?.as_deref() != Some(stream_type) {
            return Err(DomainError::validation(
                field,
                Rule::UnknownReference {
                    what: stream_type.to_owned(),
                },
            )
            .into());
        }
    }
    Ok(())
}

/// Every (field, id, stream type) a command refers to in other streams.
fn references(command: &AnyCommand) -> Vec<(String, Uuid, &'static str)> {
    use consultation::Command as C;
    const ORG: &str = organisation::STREAM_TYPE;
    const PERSON: &str = person::STREAM_TYPE;
    let mut refs = Vec::new();
    let party = |refs: &mut Vec<_>, prefix: String, p: &consultation::Party| {
        if let Some(id) = p.organisation_id {
            refs.push((format!("{prefix}.organisation_id"), id, ORG));
        }
        if let Some(id) = p.signatory_person_id {
            refs.push((format!("{prefix}.signatory_person_id"), id, PERSON));
        }
    };
    match command {
        AnyCommand::Organisation(organisation::Command::RegisterOrganisation(c)) => {
            if let Some(id) = c.parent_id {
                refs.push(("parent_id".to_owned(), id, ORG));
            }
        }
        AnyCommand::Organisation(organisation::Command::ChangeOrganisationParent(c)) => {
            if let Some(id) = c.parent_id {
                refs.push(("parent_id".to_owned(), id, ORG));
            }
        }
        AnyCommand::Person(person::Command::StartPost(c)) => {
            refs.push(("organisation_id".to_owned(), c.organisation_id, ORG));
        }
        AnyCommand::Consultation(C::PlanConsultation(c)) => {
            for (i, id) in c.organisers.iter().enumerate() {
                refs.push((format!("organisers[{i}]"), *id, ORG));
            }
        }
        AnyCommand::Consultation(C::AddOrganiser(c)) => {
            refs.push(("organisation_id".to_owned(), c.organisation_id, ORG));
        }
        AnyCommand::Consultation(C::RegisterParticipant(c)) => {
            if let Some(id) = c.person_id {
                refs.push(("person_id".to_owned(), id, PERSON));
            }
            if let Some(id) = c.organisation_id {
                refs.push(("organisation_id".to_owned(), id, ORG));
            }
        }
        AnyCommand::Consultation(C::RecordAgreement(c)) => {
            for (i, p) in c.agreement.parties.iter().enumerate() {
                party(&mut refs, format!("parties[{i}]"), p);
            }
        }
        AnyCommand::Consultation(C::AddAgreementSignatory(c)) => {
            party(&mut refs, "party".to_owned(), &c.party);
        }
        AnyCommand::Action(action::Command::CreateAction(c)) => {
            refs.push((
                "owner_organisation_id".to_owned(),
                c.owner_organisation_id,
                ORG,
            ));
        }
        AnyCommand::Action(action::Command::ReassignOwner(c)) => {
            refs.push(("to".to_owned(), c.to, ORG));
        }
        _ => {}
    }
    refs
}

#[cfg(test)]
#[path = "commands/proptests.rs"]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::common::REASON_MAX;
    use serde_json::{json, Value};

    fn context() -> CommandContext {
        CommandContext::new(Actor::new("test", "Test"))
    }

    fn refused(context: &CommandContext) -> (String, &'static str) {
        match context.validate() {
            Err(error) => (error.field().to_owned(), error.code()),
            Ok(()) => panic!("{context:?} was accepted"),
        }
    }

    #[test]
    fn a_negative_expected_version_is_out_of_range_not_a_conflict() {
        let mut negative = context();
        negative.expected_version = Some(-1);
        assert_eq!(
            negative.validate(),
            Err(DomainError::validation(
                "expectedVersion",
                Rule::OutOfRange {
                    min: 0,
                    max: i64::MAX
                }
            ))
        );
        negative.expected_version = Some(i64::MIN);
        assert_eq!(
            refused(&negative),
            ("expectedVersion".into(), "OUT_OF_RANGE")
        );
        for fine in [None, Some(0), Some(7), Some(i64::MAX)] {
            let mut context = context();
            context.expected_version = fine;
            assert_eq!(context.validate(), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn reason_and_idempotency_key_are_bounded_visible_and_free_of_controls() {
        let with = |reason: Option<&str>, key: Option<&str>| {
            let mut context = context();
            context.reason = reason.map(str::to_owned);
            context.idempotency_key = key.map(str::to_owned);
            context
        };
        let reason = |r: &str| refused(&with(Some(r), None));
        let key = |k: &str| refused(&with(None, Some(k)));
        assert_eq!(reason("x\u{0}"), ("reason".into(), "CONTROL_CHARACTER"));
        assert_eq!(
            reason(" \u{200f}\u{202e}"),
            ("reason".into(), "REASON_REQUIRED")
        );
        assert_eq!(
            reason(&"x".repeat(REASON_MAX + 1)),
            ("reason".into(), "TOO_LONG")
        );
        assert_eq!(
            key("k\u{0}"),
            ("idempotencyKey".into(), "CONTROL_CHARACTER")
        );
        assert_eq!(key("\u{feff}"), ("idempotencyKey".into(), "REQUIRED"));
        assert_eq!(
            key(&"k".repeat(MAX_IDEMPOTENCY_KEY + 1)),
            ("idempotencyKey".into(), "TOO_LONG")
        );
        // Limits count characters: 2,000 Arabic letters are 4,000 bytes.
        let long_reason = "ب".repeat(REASON_MAX);
        let long_key = "م".repeat(MAX_IDEMPOTENCY_KEY);
        let fine = with(Some(&long_reason), Some(&long_key));
        assert_eq!(fine.validate(), Ok(()));
        assert_eq!(with(Some("ligne 1\nligne 2\t."), None).validate(), Ok(()));
        assert_eq!(with(None, None).validate(), Ok(()));
    }

    fn plan() -> Value {
        json!({
            "aggregate": "consultation",
            "type": "plan_consultation",
            "consultation_id": Uuid::from_u128(1),
            "kind": "workshop",
            "title": {"ar": "ورشة"},
            "schedule": {"start": {"year": 2026}},
        })
    }

    fn decode_error(value: Value) -> String {
        match serde_json::from_value::<AnyCommand>(value) {
            Err(error) => error.to_string(),
            Ok(command) => panic!("{command:?} was decoded"),
        }
    }

    #[test]
    fn a_misspelt_field_is_refused_and_named() {
        assert!(serde_json::from_value::<AnyCommand>(plan()).is_ok());
        let mut typo = plan();
        typo["titel"] = json!({"fr": "Atelier"});
        let message = decode_error(typo.clone());
        assert!(message.contains("unknown field `titel`"), "{message}");
        // The GraphQL mutations decode the command's struct alone, through serde_path_to_error.
        if let Value::Object(fields) = &mut typo {
            fields.remove("aggregate");
            fields.remove("type");
        }
        let error = serde_path_to_error::deserialize::<_, consultation::PlanConsultation>(typo)
            .map(|_| ())
            .unwrap_err();
        assert!(
            error.inner().to_string().contains("unknown field `titel`"),
            "{error}"
        );
        // Where no field is flattened, the error's path is the unknown field itself.
        let typo = json!({"organisation_id": Uuid::nil(), "name": {"fr": "CGEM"},
            "kind": "confederation", "acronim": "CGEM"});
        let error = serde_path_to_error::deserialize::<_, organisation::RegisterOrganisation>(typo)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(error.path().to_string(), "acronim");
    }

    #[test]
    fn every_aggregate_refuses_unknown_fields_flattened_or_not() {
        let id = Uuid::from_u128(2);
        let commands = [
            json!({"aggregate": "organisation", "type": "register_organisation",
                "organisation_id": id, "name": {"fr": "CGEM"}, "kind": "confederation"}),
            json!({"aggregate": "person", "type": "register_person",
                "person_id": id, "name": {"latin": "Omar Hejira"}}),
            json!({"aggregate": "consultation", "type": "revise_consultation_details",
                "consultation_id": id, "kind": "workshop", "title": {"fr": "Atelier"},
                "schedule": {"start": {"year": 2026}}, "reason": "typo"}),
            json!({"aggregate": "consultation", "type": "record_agreement",
                "consultation_id": id, "agreement_id": id, "title": {"fr": "Convention"},
                "kind": "framework_agreement"}),
            json!({"aggregate": "consultation", "type": "record_key_figure",
                "consultation_id": id, "key_figure_id": id, "indicator": {"fr": "Exportations"},
                "value": "2.6", "unit": "MAD"}),
            json!({"aggregate": "consultation", "type": "raise_point",
                "consultation_id": id, "point_id": id, "text": {"fr": "Un point"}}),
            json!({"aggregate": "consultation", "type": "mark_consultation_held",
                "consultation_id": id}),
            json!({"aggregate": "action", "type": "report_progress",
                "action_id": id, "on": "2026-01-31", "progress": 50}),
            json!({"aggregate": "token", "type": "revoke_token", "token_id": id}),
        ];
        for command in commands {
            assert!(
                serde_json::from_value::<AnyCommand>(command.clone()).is_ok(),
                "{command}"
            );
            let mut typo = command.clone();
            typo["reasn"] = json!("a misspelt reason");
            let message = decode_error(typo);
            assert!(
                message.contains("unknown field `reasn`"),
                "{command}: {message}"
            );
        }
    }

    #[test]
    fn stored_events_with_fields_this_version_does_not_know_still_decode() {
        // Value types embedded in events tolerate extra fields: an event written by another
        // version of Shura must keep decoding. Only commands refuse unknown fields.
        let payload = json!({
            "note": {"ar": "ملاحظة", "script": "arab"},
        });
        let event = consultation::Event::from_payload("ContextNoteAdded", &payload);
        assert!(event.is_ok(), "{event:?}");
        let payload = json!({"agreement_id": Uuid::nil(), "from": null, "reason": "scope",
            "to": {"amount": "10", "currency": "MAD", "rate": "1"}, "approved_by": "x"});
        let event = consultation::Event::from_payload("AgreementBudgetRevised", &payload);
        assert!(event.is_ok(), "{event:?}");
    }
}
