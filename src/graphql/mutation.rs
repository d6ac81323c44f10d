//! The mutation root: one mutation per domain command.
//!
//! Each takes the command's fields as `input` (JSON, checked against the command's shape: a
//! missing or malformed field is a `VALIDATION` error naming it), an optional `expectedVersion`
//! and `idempotencyKey`, and an optional `reason` recorded in the events' metadata. Each returns
//! the stream's new version and position and the changed entity, so a client reads its write.

use async_graphql::{Context, Json, Object, Result, SimpleObject};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::types::{Action, Consultation, Stakeholder};
use super::ApiState;
use crate::commands::{consultation_state, execute, AnyCommand, CommandContext, CommandError};
use crate::domain::{action, consultation, organisation, person};
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
    pub version: i64,
    /// Global position of the stream's last event.
    pub position: i64,
    /// Events appended (0 when nothing changed or for a replayed retry).
    pub appended: i64,
    /// True when an earlier request with the same idempotency key answered.
    pub replayed: bool,
    /// The consultation, for consultation commands.
    pub consultation: Option<Consultation>,
    /// The action, for action commands.
    pub action: Option<Action>,
    /// The organisation or person, for stakeholder commands.
    pub stakeholder: Option<Stakeholder>,
}

fn decode<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => "input".to_owned(),
            p => format!("input.{p}"),
        };
        ApiError::validation(field, "INVALID_INPUT", e.inner().to_string()).into()
    })
}

async fn run(
    ctx: &Context<'_>,
    command: AnyCommand,
    expected_version: Option<i64>,
    idempotency_key: Option<String>,
    reason: Option<String>,
) -> Result<MutationResult> {
    let state = ctx.data::<ApiState>()?;
    let scope = crate::auth::write_scope(&state.store, &command)
        .await
        .map_err(ApiError::from)?;
    // Checked before anything is decided: a refused write appends nothing.
    super::access(ctx).write(&scope)?;
    let stream_type = command.stream_type();
    let mut context = CommandContext::new(state.actor(ctx));
    context.expected_version = expected_version;
    context.idempotency_key = idempotency_key;
    context.reason = reason;
    let outcome = match execute(&state.store, command, context).await {
        Ok(outcome) => outcome,
        Err(error) => {
            if matches!(error, CommandError::Store(StoreError::Conflict { .. })) {
                state.metrics.conflict();
            }
            return Err(ApiError::from(error).into());
        }
    };
    state.metrics.appended(outcome.appended as u64);
    let id = outcome.stream_id;
    let pool = state.store.pool();
    let mut result = MutationResult {
        stream_id: id,
        stream_type: stream_type.to_owned(),
        version: outcome.version,
        position: outcome.position,
        appended: outcome.appended as i64,
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

/// The mutation root.
pub struct Mutation;

macro_rules! mutations {
    ($( $name:ident => $any:ident, $module:ident :: $variant:ident; )*) => {
        #[Object]
        impl Mutation {
            $(
                #[doc = concat!("Runs the `", stringify!($name), "` command of the `",
                    stringify!($module), "` stream; `input` holds its fields (see the README).")]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    input: Json<Value>,
                    expected_version: Option<i64>,
                    idempotency_key: Option<String>,
                    reason: Option<String>,
                ) -> Result<MutationResult> {
                    // Who asks comes before what they send: no token, or a read-only one, is
                    // refused whatever the input.
                    super::access(ctx).write(&[])?;
                    let command: $module::$variant = decode(input.0)?;
                    let command = AnyCommand::$any($module::Command::$variant(command));
                    run(ctx, command, expected_version, idempotency_key, reason).await
                }
            )*
        }
    };
}

mutations! {
    register_organisation => Organisation, organisation::RegisterOrganisation;
    rename_organisation => Organisation, organisation::RenameOrganisation;
    correct_organisation_details => Organisation, organisation::CorrectOrganisationDetails;
    change_organisation_parent => Organisation, organisation::ChangeOrganisationParent;
    register_person => Person, person::RegisterPerson;
    start_post => Person, person::StartPost;
    end_post => Person, person::EndPost;
    correct_person_name => Person, person::CorrectPersonName;
    plan_consultation => Consultation, consultation::PlanConsultation;
    revise_consultation_details => Consultation, consultation::ReviseConsultationDetails;
    mark_consultation_held => Consultation, consultation::MarkConsultationHeld;
    close_consultation => Consultation, consultation::CloseConsultation;
    cancel_consultation => Consultation, consultation::CancelConsultation;
    add_organiser => Consultation, consultation::AddOrganiser;
    add_source => Consultation, consultation::AddSource;
    add_context_note => Consultation, consultation::AddContextNote;
    register_participant => Consultation, consultation::RegisterParticipant;
    change_participant_role => Consultation, consultation::ChangeParticipantRole;
    record_attendance => Consultation, consultation::RecordAttendance;
    propose_recommendation => Consultation, consultation::ProposeRecommendation;
    change_recommendation_status => Consultation, consultation::ChangeRecommendationStatus;
    revise_recommendation_text => Consultation, consultation::ReviseRecommendationText;
    record_agreement => Consultation, consultation::RecordAgreement;
    add_agreement_signatory => Consultation, consultation::AddAgreementSignatory;
    revise_agreement_budget => Consultation, consultation::ReviseAgreementBudget;
    record_key_figure => Consultation, consultation::RecordKeyFigure;
    raise_point => Consultation, consultation::RaisePoint;
    create_action => Action, action::CreateAction;
    report_progress => Action, action::ReportProgress;
    change_action_status => Action, action::ChangeActionStatus;
    reopen_action => Action, action::ReopenAction;
    extend_deadline => Action, action::ExtendDeadline;
    reassign_owner => Action, action::ReassignOwner;
    revise_action_budget => Action, action::ReviseActionBudget;
}
