//! The mutation root: one mutation per domain command.
//!
//! Each takes the command's fields as a typed `input` (one input type per command, see
//! [`super::inputs`]), an optional `expectedVersion` and `idempotencyKey`, and an optional
//! `reason` recorded in the events' metadata. Each returns the stream's new version and position
//! and the changed entity, so a client reads its write.
//!
//! The input becomes the domain command through the domain's own deserialisation (the input
//! serialises to the command's JSON), so a command is defined once, in `src/domain`. Errors name
//! the field by its GraphQL path: the domain's `parties[2].organisation_id` is
//! `input.parties[2].organisationId`.

use async_graphql::{Context, InputType, Object, Result, SimpleObject};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::inputs::{self, camel_case, graphql_path, has_field, Checked};
use super::types::{int, Action, Consultation, Stakeholder};
use super::ApiState;
use crate::auth::{run_as, WriteError};
use crate::commands::{consultation_state, AnyCommand, CommandContext, CommandError};
use crate::domain::{action, consultation, organisation, person, DomainError};
use crate::error::ApiError;
use crate::projections::lists;
use crate::store::StoreError;

/// What a mutation did.
#[derive(SimpleObject)]
pub struct MutationResult {
    /// The stream written to.
    pub stream_id: Uuid,
    /// `organisation`, `person`, `consultation` or `action`.
    pub stream_type: String,
    /// The stream's version after the command.
    pub version: i32,
    /// Global position of the stream's last event.
    pub position: i32,
    /// Events appended (0 when nothing changed or for a replayed retry).
    pub appended: i32,
    /// True when an earlier request with the same idempotency key answered.
    pub replayed: bool,
    /// The consultation, for consultation commands.
    pub consultation: Option<Consultation>,
    /// The action, for action commands.
    pub action: Option<Action>,
    /// The organisation or person, for stakeholder commands.
    pub stakeholder: Option<Stakeholder>,
}

/// The domain command of a typed input: the input serialised to the command's JSON (fields left
/// out stay out, so the domain's defaults apply), then decoded by the domain's own
/// deserialisation.
///
/// `F` is the struct the command flattens (`#[serde(flatten)]`), or the command itself: serde
/// reads a flattened struct from a buffer where no path is tracked, so an error there would name
/// no field; reading `F` on its own names it.
fn decode<I, C, F>(input: Checked<I>) -> Result<C, ApiError>
where
    I: Serialize + InputType,
    C: DeserializeOwned,
    F: DeserializeOwned,
{
    let input = input.0?;
    let mut json = serde_json::to_value(&input).map_err(|e| ApiError::internal(&e))?;
    drop_nulls(&mut json);
    let error = match serde_path_to_error::deserialize::<_, C>(&json) {
        Ok(command) => return Ok(command),
        Err(error) => error,
    };
    let error = match error.path().iter().next() {
        None => serde_path_to_error::deserialize::<_, F>(&json)
            .err()
            .unwrap_or(error),
        Some(_) => error,
    };
    let (path, rule, predicate) = describe(&error.path().to_string(), &error.inner().to_string());
    let field = field_path::<I>(&path);
    Err(ApiError::validation(
        &field,
        rule,
        format!("Field `{field}` {predicate}."),
    ))
}

/// Removes every `null` member of every object, recursively: an absent input field is an
/// absent command field.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, member| !member.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// What a deserialisation error means in the API's terms: the domain path of the field at
/// fault, the rule code, and a predicate completing "Field `x` ...". Serde's own wording (Rust
/// types, struct names) never reaches the client.
fn describe(path: &str, message: &str) -> (String, &'static str, String) {
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let under = |name: &str| match path {
        "" | "." => name.to_owned(),
        path => format!("{path}.{name}"),
    };
    if let Some(name) = quoted("missing field `") {
        return (under(&name), "REQUIRED", "is required".to_owned());
    }
    if let Some(name) = quoted("unknown field `") {
        return (
            under(&name),
            "UNKNOWN_FIELD",
            "is not a field of this input".to_owned(),
        );
    }
    if message.starts_with("unknown variant `") {
        // The domain's snake_case names are the schema's enum values in upper case.
        let values: Vec<String> = message
            .split_once("expected one of ")
            .map(|(_, list)| {
                list.split(", ")
                    .map(|v| v.trim_matches('`').to_uppercase())
                    .collect()
            })
            .unwrap_or_default();
        return (
            path.to_owned(),
            "INVALID_FORMAT",
            format!("must be one of {}", values.join(", ")),
        );
    }
    let ranges: [(&str, i64, i64); 4] = [
        ("u8", 0, u8::MAX.into()),
        ("u16", 0, u16::MAX.into()),
        ("u32", 0, u32::MAX.into()),
        ("i32", i32::MIN.into(), i32::MAX.into()),
    ];
    for (ty, min, max) in ranges {
        if message.starts_with("invalid value: integer")
            && message.ends_with(&format!("expected {ty}"))
        {
            return (
                path.to_owned(),
                "OUT_OF_RANGE",
                format!("must be between {min} and {max}"),
            );
        }
    }
    (
        path.to_owned(),
        "INVALID_FORMAT",
        "is not in the expected format (see the field's description in the schema)".to_owned(),
    )
}

/// The GraphQL path of a field the domain names by `domain_path` in a command decoded from an
/// input of type `I`: under `input` when it is one of the input's fields (`input.parties[2].
/// organisationId`); otherwise it names the entity's own state (an action's `status`), and is
/// only put in camelCase.
fn field_path<I: InputType>(domain_path: &str) -> String {
    let path = graphql_path(domain_path);
    let top = domain_path.split(['.', '[']).next().unwrap_or("");
    if top.is_empty() || has_field::<I>(&camel_case(top)) {
        path
    } else {
        path.strip_prefix("input.").unwrap_or(&path).to_owned()
    }
}

/// A command's failure for the client: a domain rule names its field by its GraphQL path; the
/// write context's checks (`reason`, `idempotencyKey`...) name the mutation's argument.
fn command_error(error: CommandError, field_path: fn(&str) -> String) -> ApiError {
    match error {
        CommandError::Domain(DomainError::Validation { field, rule }) => {
            let field = field_path(&field);
            ApiError::validation(&field, rule.code(), format!("Field `{field}` {rule}."))
        }
        error @ CommandError::Store(StoreError::Validation { .. }) => {
            let mut error = ApiError::from(error);
            error.field = error.field.as_deref().map(camel_case);
            error
        }
        error => ApiError::from(error),
    }
}

async fn run(
    ctx: &Context<'_>,
    command: AnyCommand,
    field_path: fn(&str) -> String,
    expected_version: Option<i32>,
    idempotency_key: Option<String>,
    reason: Option<String>,
) -> Result<MutationResult> {
    let state = ctx.data::<ApiState>()?;
    let stream_type = command.stream_type();
    let mut context = CommandContext::new(state.actor(ctx));
    context.expected_version = expected_version.map(i64::from);
    context.idempotency_key = idempotency_key;
    context.reason = reason;
    let outcome = match run_as(&state.store, super::access(ctx), command, context).await {
        Ok(outcome) => outcome,
        Err(WriteError::Refused(error)) => return Err(error.into()),
        Err(WriteError::Command(error)) => {
            if matches!(error, CommandError::Store(StoreError::Conflict { .. })) {
                state.metrics.conflict();
            }
            return Err(command_error(error, field_path).into());
        }
    };
    state.metrics.appended(outcome.appended as u64);
    let id = outcome.stream_id;
    let pool = state.store.pool();
    let mut result = MutationResult {
        stream_id: id,
        stream_type: stream_type.to_owned(),
        version: int(outcome.version)?,
        position: int(outcome.position)?,
        appended: int(i64::try_from(outcome.appended).unwrap_or(i64::MAX))?,
        replayed: outcome.replayed,
        consultation: None,
        action: None,
        stakeholder: None,
    };
    match stream_type {
        consultation::STREAM_TYPE => {
            let folded = consultation_state(&state.store, id, Some(outcome.version))
                .await
                .map_err(ApiError::from)?;
            result.consultation = folded
                .consultation
                .map(|c| Consultation::from_state(c, outcome.version, outcome.position));
        }
        action::STREAM_TYPE => {
            let row = lists::action(pool, id).await.map_err(ApiError::from)?;
            result.action = row.as_ref().map(Action::from_record).transpose()?;
        }
        organisation::STREAM_TYPE => {
            let row = lists::organisation(pool, id)
                .await
                .map_err(ApiError::from)?;
            result.stakeholder = row
                .as_ref()
                .map(|r| Stakeholder::from_record("organisation", r))
                .transpose()?;
        }
        _ => {
            let row = lists::person(pool, id).await.map_err(ApiError::from)?;
            result.stakeholder = row
                .as_ref()
                .map(|r| Stakeholder::from_record("person", r))
                .transpose()?;
        }
    }
    Ok(result)
}

/// What `importProgress` did (or, on a dry run, would do).
#[derive(SimpleObject)]
pub struct ImportProgressResult {
    /// Report rows in the file.
    pub rows: i32,
    /// Rows not imported before: imported now, or to import on a dry run.
    pub new_rows: i32,
    /// Rows an earlier import already wrote (or repeated in the file).
    pub already_imported: i32,
    /// Events appended (0 on a dry run).
    pub appended: i32,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

async fn import_progress(
    ctx: &Context<'_>,
    csv: &str,
    dry_run: bool,
) -> Result<ImportProgressResult> {
    let access = super::access(ctx);
    access.write(&[])?;
    let state = ctx.data::<ApiState>()?;
    let report = crate::progress_import::import_progress(
        &state.store,
        csv,
        dry_run,
        state.actor(ctx),
        |scope| access.write(scope),
    )
    .await
    .map_err(crate::progress_import::ImportError::into_api)?;
    state.metrics.appended(report.appended as u64);
    let count = |n: usize| int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(ImportProgressResult {
        rows: count(report.rows)?,
        new_rows: count(report.new_rows)?,
        already_imported: count(report.already_imported)?,
        appended: count(report.appended)?,
        dry_run: report.dry_run,
    })
}

/// The mutation root.
pub struct Mutation;

/// The struct a command flattens, given after `flattens`, or else the command itself.
macro_rules! flattened {
    ($command:path) => {
        $command
    };
    ($command:path, $flat:path) => {
        $flat
    };
}

macro_rules! mutations {
    ($(
        $name:ident => $any:ident, $module:ident :: $variant:ident, $input:ident
        $(, flattens $flat:path)?;
    )*) => {
        /// The mutation root: one mutation per domain command. Each writes to one stream and
        /// answers with the stream's new version and position and the changed entity.
        #[Object]
        impl Mutation {
            $(
                #[doc = concat!("Runs the `", stringify!($variant), "` command (",
                    stringify!($module), " stream): see `", stringify!($input),
                    "` for what it does and its fields.")]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    #[graphql(desc = "The command's fields.")]
                    input: Checked<inputs::$input>,
                    #[graphql(desc = "The stream's version this write was decided on: the \
                        write is refused with CONFLICT if the stream has moved on since. Left \
                        out, the command is decided on the latest state.")]
                    expected_version: Option<i32>,
                    #[graphql(desc = "A key for retrying safely: a second request with the \
                        same key and input answers as the first did and writes nothing.")]
                    idempotency_key: Option<String>,
                    #[graphql(desc = "Why the change was made, recorded in the events' \
                        metadata.")]
                    reason: Option<String>,
                ) -> Result<MutationResult> {
                    // Who asks comes before what they send, once GraphQL has validated the
                    // document: no token, or a read-only one, is refused whatever the fields.
                    super::access(ctx).write(&[])?;
                    let command: $module::$variant =
                        decode::<_, _, flattened!($module::$variant $(, $flat)?)>(input)?;
                    let command = AnyCommand::$any($module::Command::$variant(command));
                    run(
                        ctx,
                        command,
                        field_path::<inputs::$input>,
                        expected_version,
                        idempotency_key,
                        reason,
                    )
                    .await
                }
            )*

            /// Imports follow-up progress reports from CSV (see the README's "Bulk import of
            /// progress"): a header `action,date,progress` with optional `note`, `status` and
            /// `reason`, one report per row. Every row is checked first; a refused row is a
            /// VALIDATION error naming `csv[row].column` (row 0 is the header), and nothing is
            /// written. Importing the same file again appends nothing.
            async fn import_progress(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The CSV text, header first.")] csv: String,
                #[graphql(desc = "Check every row and count, writing nothing.", default = false)]
                dry_run: bool,
            ) -> Result<ImportProgressResult> {
                import_progress(ctx, &csv, dry_run).await
            }
        }

        /// Each command's input type name, with the fields the domain command deserialises
        /// (`None` when it flattens another struct: serde then lists no fields), and those of
        /// the struct declared as flattened (the command's own when none is).
        #[cfg(test)]
        fn command_fields() -> Vec<(String, Option<Vec<&'static str>>, Option<Vec<&'static str>>)> {
            vec![$((
                <inputs::$input as InputType>::type_name().into_owned(),
                tests::serde_fields::<$module::$variant>(),
                tests::serde_fields::<flattened!($module::$variant $(, $flat)?)>(),
            )),*]
        }
    };
}

mutations! {
    register_organisation => Organisation, organisation::RegisterOrganisation, RegisterOrganisationInput;
    rename_organisation => Organisation, organisation::RenameOrganisation, RenameOrganisationInput;
    correct_organisation_details => Organisation, organisation::CorrectOrganisationDetails, CorrectOrganisationDetailsInput;
    change_organisation_parent => Organisation, organisation::ChangeOrganisationParent, ChangeOrganisationParentInput;
    register_person => Person, person::RegisterPerson, RegisterPersonInput;
    start_post => Person, person::StartPost, StartPostInput;
    end_post => Person, person::EndPost, EndPostInput;
    correct_person_name => Person, person::CorrectPersonName, CorrectPersonNameInput;
    erase_person => Person, person::EraseContact, ErasePersonInput;
    plan_consultation => Consultation, consultation::PlanConsultation, PlanConsultationInput,
        flattens consultation::ConsultationDetails;
    revise_consultation_details => Consultation, consultation::ReviseConsultationDetails, ReviseConsultationDetailsInput,
        flattens consultation::ConsultationDetails;
    mark_consultation_held => Consultation, consultation::MarkConsultationHeld, MarkConsultationHeldInput;
    close_consultation => Consultation, consultation::CloseConsultation, CloseConsultationInput;
    cancel_consultation => Consultation, consultation::CancelConsultation, CancelConsultationInput;
    add_organiser => Consultation, consultation::AddOrganiser, AddOrganiserInput;
    add_source => Consultation, consultation::AddSource, AddSourceInput;
    add_context_note => Consultation, consultation::AddContextNote, AddContextNoteInput;
    register_participant => Consultation, consultation::RegisterParticipant, RegisterParticipantInput;
    change_participant_role => Consultation, consultation::ChangeParticipantRole, ChangeParticipantRoleInput;
    record_attendance => Consultation, consultation::RecordAttendance, RecordAttendanceInput;
    change_participant_contact => Consultation, consultation::ChangeParticipantContact, ChangeParticipantContactInput;
    propose_recommendation => Consultation, consultation::ProposeRecommendation, ProposeRecommendationInput;
    change_recommendation_status => Consultation, consultation::ChangeRecommendationStatus, ChangeRecommendationStatusInput;
    revise_recommendation_text => Consultation, consultation::ReviseRecommendationText, ReviseRecommendationTextInput;
    record_agreement => Consultation, consultation::RecordAgreement, RecordAgreementInput,
        flattens consultation::Agreement;
    add_agreement_signatory => Consultation, consultation::AddAgreementSignatory, AddAgreementSignatoryInput;
    revise_agreement_budget => Consultation, consultation::ReviseAgreementBudget, ReviseAgreementBudgetInput;
    change_agreement_scope => Consultation, consultation::ChangeAgreementScope, ChangeAgreementScopeInput;
    record_key_figure => Consultation, consultation::RecordKeyFigure, RecordKeyFigureInput,
        flattens consultation::KeyFigure;
    raise_point => Consultation, consultation::RaisePoint, RaisePointInput,
        flattens consultation::Point;
    create_action => Action, action::CreateAction, CreateActionInput;
    report_progress => Action, action::ReportProgress, ReportProgressInput;
    change_action_status => Action, action::ChangeActionStatus, ChangeActionStatusInput;
    reopen_action => Action, action::ReopenAction, ReopenActionInput;
    extend_deadline => Action, action::ExtendDeadline, ExtendDeadlineInput;
    reassign_owner => Action, action::ReassignOwner, ReassignOwnerInput;
    revise_action_budget => Action, action::ReviseActionBudget, ReviseActionBudgetInput;
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use async_graphql::registry::{MetaType, Registry};
    use async_graphql::OutputType;
    use serde::de::{self, Deserializer, Visitor};

    use super::*;
    use crate::domain::common::{
        Contact, Inference, Money, PartialDate, Period, Place, Source, Text,
    };
    use crate::domain::consultation::{Agreement, ConsultationDetails, KeyFigure, Occasion};
    use crate::domain::consultation::{AgreementScope, Party, Point, Schedule};
    use crate::domain::person::PersonName;

    /// A deserializer that only records the field names a struct asks for.
    struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = Some(fields);
            Err(de::Error::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    /// The fields a domain struct deserialises, or `None` when it flattens another one.
    pub(super) fn serde_fields<T: DeserializeOwned>() -> Option<Vec<&'static str>> {
        let mut fields = None;
        let _ = T::deserialize(FieldNames(&mut fields));
        fields.map(<[&str]>::to_vec)
    }

    fn snake_case(name: &str) -> String {
        name.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            out
        })
    }

    fn set(fields: &[&str]) -> BTreeSet<String> {
        fields.iter().map(|f| (*f).to_owned()).collect()
    }

    /// Every field of every command (and of the values inside) is an input field, under the
    /// same name in camelCase, and every input field is one of the command's.
    #[test]
    fn every_command_field_is_reachable_and_no_input_field_is_extra() {
        let of = |fields: Option<Vec<&'static str>>| set(&fields.expect("a plain struct"));
        let details = of(serde_fields::<ConsultationDetails>());
        let with = |outer: &[&str], inner: &BTreeSet<String>| {
            set(outer).union(inner).cloned().collect::<BTreeSet<_>>()
        };
        let flattened = BTreeMap::from([
            (
                "PlanConsultationInput",
                with(
                    &["consultation_id", "organisers", "sources", "context_notes"],
                    &details,
                ),
            ),
            (
                "ReviseConsultationDetailsInput",
                with(&["consultation_id", "reason"], &details),
            ),
            (
                "RecordAgreementInput",
                with(&["consultation_id"], &of(serde_fields::<Agreement>())),
            ),
            (
                "RecordKeyFigureInput",
                with(&["consultation_id"], &of(serde_fields::<KeyFigure>())),
            ),
            (
                "RaisePointInput",
                with(&["consultation_id"], &of(serde_fields::<Point>())),
            ),
        ]);
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::from([
            ("LocalizedTextInput".into(), of(serde_fields::<Text>())),
            ("PartialDateInput".into(), of(serde_fields::<PartialDate>())),
            ("PeriodInput".into(), of(serde_fields::<Period>())),
            ("MoneyInput".into(), of(serde_fields::<Money>())),
            ("PlaceInput".into(), of(serde_fields::<Place>())),
            ("SourceInput".into(), of(serde_fields::<Source>())),
            // `erased` is set by an erasure only, never given.
            ("ContactInput".into(), {
                let mut fields = of(serde_fields::<Contact>());
                fields.remove("erased");
                fields
            }),
            ("PersonNameInput".into(), of(serde_fields::<PersonName>())),
            ("ScheduleInput".into(), of(serde_fields::<Schedule>())),
            ("OccasionInput".into(), of(serde_fields::<Occasion>())),
            ("PartyInput".into(), of(serde_fields::<Party>())),
            ("InferenceInput".into(), of(serde_fields::<Inference>())),
            (
                "AgreementScopeInput".into(),
                of(serde_fields::<AgreementScope>()),
            ),
            // The recommendation status is tagged by `status`; `into` comes with `merged`.
            (
                "RecommendationDecisionInput".into(),
                set(&["status", "into"]),
            ),
        ]);
        for (input, fields, declared) in command_fields() {
            let mut fields = match fields {
                Some(fields) => set(&fields),
                None => {
                    // A command that flattens a struct says which in `mutations!`, so that its
                    // errors name their field.
                    assert!(declared.is_some(), "{input}: declare what it flattens");
                    flattened[input.as_str()].clone()
                }
            };
            // Filled in by the application from the consultation stream, never by a client.
            if input == "CreateActionInput" {
                fields.remove("consultation");
            }
            expected.insert(input, fields);
        }
        // Commands, then shared inputs (with `InferenceInput` and `AgreementScopeInput`).
        assert_eq!(expected.len(), 37 + 14);
        let mut registry = Registry::default();
        <Mutation as OutputType>::create_type_info(&mut registry);
        let mut checked = BTreeSet::new();
        for (name, ty) in &registry.types {
            let MetaType::InputObject { input_fields, .. } = ty else {
                continue;
            };
            if name == "ConsultationDetailsInput" {
                // Only flattened into the two consultation inputs above.
                continue;
            }
            let actual: BTreeSet<String> = input_fields.keys().map(|f| snake_case(f)).collect();
            let wanted = expected
                .get(name)
                .unwrap_or_else(|| panic!("{name} is not checked"));
            assert_eq!(&actual, wanted, "{name}");
            for field in input_fields.keys() {
                assert_eq!(&camel_case(&snake_case(field)), field, "{name}.{field}");
            }
            checked.insert(name.clone());
        }
        assert_eq!(checked.len(), expected.len());
    }

    #[test]
    fn serde_messages_are_said_in_the_api_terms() {
        let cases = [
            (
                "to",
                "missing field `into`",
                ("to.into", "REQUIRED", "is required"),
            ),
            (
                ".",
                "missing field `name`",
                ("name", "REQUIRED", "is required"),
            ),
            (
                "schedule.start.month",
                "invalid value: integer `300`, expected u8",
                (
                    "schedule.start.month",
                    "OUT_OF_RANGE",
                    "must be between 0 and 255",
                ),
            ),
            (
                "kind",
                "unknown variant `castle`, expected one of `ministry`, `agency`",
                ("kind", "INVALID_FORMAT", "must be one of MINISTRY, AGENCY"),
            ),
            (
                "schedule.start_time",
                "input contains invalid characters",
                (
                    "schedule.start_time",
                    "INVALID_FORMAT",
                    "is not in the expected format (see the field's description in the schema)",
                ),
            ),
            (
                "name",
                "invalid length 2, expected struct CorrectPersonName with 4 elements",
                (
                    "name",
                    "INVALID_FORMAT",
                    "is not in the expected format (see the field's description in the schema)",
                ),
            ),
        ];
        for (path, message, (field, rule, predicate)) in cases {
            assert_eq!(
                describe(path, message),
                (field.to_owned(), rule, predicate.to_owned()),
                "{message}"
            );
        }
    }

    #[test]
    fn domain_errors_name_input_fields_or_the_entity_state() {
        assert_eq!(
            field_path::<inputs::RecordAgreementInput>("parties[2].organisation_id"),
            "input.parties[2].organisationId"
        );
        assert_eq!(
            field_path::<inputs::PlanConsultationInput>("schedule.as_stated.ar"),
            "input.schedule.asStated.ar"
        );
        assert_eq!(field_path::<inputs::ReopenActionInput>("status"), "status");
        assert_eq!(field_path::<inputs::ReopenActionInput>(""), "input");
    }

    fn decoded<I: Serialize + InputType, C: DeserializeOwned>(input: I) -> Result<C, ApiError> {
        decode::<I, C, C>(Checked(Ok(input)))
    }

    #[test]
    fn inputs_decode_into_the_domain_commands() {
        use inputs::*;
        let id = Uuid::from_u128(7);
        let text = |fr: &str| LocalizedTextInput {
            fr: Some(fr.to_owned()),
            ..LocalizedTextInput::default()
        };
        let day = PartialDateInput {
            year: Some(2026),
            month: Some(3),
            day: Some(10),
            weekday: Some(super::super::enums::Weekday::Tuesday),
        };
        let plan = PlanConsultationInput {
            consultation_id: id,
            details: ConsultationDetailsInput {
                kind: super::super::enums::ConsultationKind::Workshop,
                title: text("Atelier"),
                description: None,
                schedule: ScheduleInput {
                    start: day.clone(),
                    end: None,
                    start_time: Some("10:00".into()),
                    end_time: None,
                    as_stated: None,
                    inferred: Some(true),
                },
                place: None,
                region: Some("MA-03".into()),
                purpose: None,
                occasion: None,
                patronage: None,
                region_inferred: None,
            },
            organisers: None,
            sources: Some(vec![SourceInput {
                document: Some("a.txt".into()),
                ..SourceInput::default()
            }]),
            context_notes: None,
        };
        let command: consultation::PlanConsultation = decoded(plan.clone()).expect("decodes");
        assert_eq!(
            command.details.kind,
            consultation::ConsultationKind::Workshop
        );
        assert_eq!(command.details.schedule.start.day, Some(10));
        assert!(command.details.schedule.inferred);
        assert_eq!(command.sources.len(), 1);
        assert!(command.organisers.is_empty());

        let mut late = plan;
        late.details.schedule.start_time = Some("25:99".into());
        let error = decode::<_, consultation::PlanConsultation, consultation::ConsultationDetails>(
            Checked(Ok(late.clone())),
        )
        .expect_err("refused");
        assert_eq!(
            (error.field.as_deref(), error.rule.as_deref()),
            (Some("input.schedule.startTime"), Some("INVALID_FORMAT"))
        );
        assert!(!error.message.contains("NaiveTime"), "{}", error.message);
        // Read as the command alone, the flattened details name no field.
        let error = decoded::<_, consultation::PlanConsultation>(late).expect_err("refused");
        assert_eq!(error.field.as_deref(), Some("input"));

        let merged = ChangeRecommendationStatusInput {
            consultation_id: id,
            recommendation_id: id,
            to: RecommendationDecisionInput {
                status: super::super::enums::RecommendationStatus::Merged,
                into: None,
            },
            reason: "duplicate".into(),
        };
        let error =
            decoded::<_, consultation::ChangeRecommendationStatus>(merged).expect_err("refused");
        assert_eq!(
            (error.field.as_deref(), error.rule.as_deref()),
            (Some("input.to.into"), Some("REQUIRED"))
        );
        assert_eq!(error.message, "Field `input.to.into` is required.");
        let accepted = ChangeRecommendationStatusInput {
            consultation_id: id,
            recommendation_id: id,
            to: RecommendationDecisionInput {
                status: super::super::enums::RecommendationStatus::Accepted,
                into: Some(id),
            },
            reason: "taken up".into(),
        };
        // As its description says: `into` is only read with `MERGED` (the domain's tagged
        // status has no `into` otherwise).
        let decided: consultation::ChangeRecommendationStatus = decoded(accepted).expect("decodes");
        assert_eq!(decided.to, consultation::RecommendationStatus::Accepted);

        let month = PartialDateInput {
            month: Some(300),
            ..PartialDateInput::default()
        };
        let deadline = ExtendDeadlineInput {
            action_id: id,
            to: month,
            reason: "late".into(),
        };
        let error = decoded::<_, action::ExtendDeadline>(deadline).expect_err("refused");
        assert_eq!(
            (error.field.as_deref(), error.rule.as_deref()),
            (Some("input.to.month"), Some("OUT_OF_RANGE"))
        );

        let budget = ReviseActionBudgetInput {
            action_id: id,
            to: MoneyInput {
                amount: super::super::scalars::Decimal("1250000.50".parse().expect("decimal")),
                currency: "MAD".into(),
            },
            reason: "scope".into(),
        };
        let command: action::ReviseActionBudget = decoded(budget).expect("decodes");
        assert_eq!(command.to.amount.to_string(), "1250000.50");
    }
}
