//! Given/when/then tests of the consultation stream: every rule and every
//! happy path, plus the event serialisation contract.

use chrono::NaiveTime;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::domain::codec::assert_round_trip;
use crate::domain::common::{PartialDate, Period, Place, Weekday};
use crate::domain::region::RegionCode;

const C: Uuid = Uuid::from_u128(0xc0);
const OTHER: Uuid = Uuid::from_u128(0xc1);
const ORG_TRADE: Uuid = Uuid::from_u128(0x100);
const ORG_WILAYA: Uuid = Uuid::from_u128(0x101);
const ORG_COUNCIL: Uuid = Uuid::from_u128(0x102);
const ORG_CGEM: Uuid = Uuid::from_u128(0x103);
const PERSON_HEJIRA: Uuid = Uuid::from_u128(0x200);
const PERSON_JAMAI: Uuid = Uuid::from_u128(0x201);
const P_CHAIR: Uuid = Uuid::from_u128(0x300);
const P_WALI: Uuid = Uuid::from_u128(0x301);
const P_COUNCIL: Uuid = Uuid::from_u128(0x302);
const R1: Uuid = Uuid::from_u128(0x400);
const R2: Uuid = Uuid::from_u128(0x401);
const R3: Uuid = Uuid::from_u128(0x402);
const A1: Uuid = Uuid::from_u128(0x500);
const K1: Uuid = Uuid::from_u128(0x600);
const PT1: Uuid = Uuid::from_u128(0x700);

fn given(events: &[Event]) -> State {
    fold(events)
}

fn when(events: &[Event], command: Command) -> Result<Vec<Event>, DomainError> {
    decide(&given(events), command)
}

fn rejected(field: &str, rule: Rule) -> Result<Vec<Event>, DomainError> {
    Err(DomainError::validation(field, rule))
}

fn unknown(field: &str, what: &str) -> Result<Vec<Event>, DomainError> {
    rejected(field, Rule::UnknownReference { what: what.into() })
}

fn details() -> ConsultationDetails {
    ConsultationDetails {
        kind: ConsultationKind::RegionalConsultation,
        title: Text::ar("لقاء تشاوري جهوي لتعزيز مكانة جهة فاس - مكناس في مجال الصناعات التصديرية"),
        description: None,
        schedule: Schedule {
            start: PartialDate::ymd(2024, 11, 28),
            end: None,
            start_time: None,
            end_time: None,
            as_stated: Some(Text::ar("يوم الثلاثاء 28 نونبر الجاري")),
            inferred: true,
        },
        place: Some(Place {
            name: Text::ar("القاعة الكبرى لعمالة فاس"),
            city: Some(Text::ar("فاس")),
            region: Some(RegionCode::new("MA-03")),
            inferred: None,
        }),
        region: Some(RegionCode::new("MA-03")),
        purpose: Some(Text::ar("الإعداد لبرنامج عمل التجارة الخارجية لسنة 2025")),
        occasion: None,
        patronage: None,
        region_inferred: None,
    }
}

fn source() -> Source {
    Source {
        publisher: Some(Text::ar("حدث كم")),
        author: Some(Text::ar("ع شركيف")),
        url: None,
        title: None,
        published_on: Some(PartialDate::ymd(2024, 11, 29)),
        document: Some("001_bb1eded32c76a2d6.txt".into()),
    }
}

fn plan() -> PlanConsultation {
    PlanConsultation {
        consultation_id: C,
        details: details(),
        organisers: vec![ORG_TRADE],
        sources: vec![source()],
        context_notes: vec![],
    }
}

fn planned() -> Event {
    Event::ConsultationPlanned {
        consultation_id: C,
        details: details(),
        organisers: vec![ORG_TRADE],
        sources: vec![source()],
        context_notes: vec![],
    }
}

fn held() -> Event {
    Event::ConsultationHeld {}
}

fn closed() -> Event {
    Event::ConsultationClosed {}
}

fn cancelled() -> Event {
    Event::ConsultationCancelled {
        from: ConsultationStatus::Planned,
        reason: "postponed sine die".into(),
    }
}

fn chair() -> Participant {
    Participant {
        participant_id: P_CHAIR,
        person_id: Some(PERSON_HEJIRA),
        organisation_id: Some(ORG_TRADE),
        capacity: Some(Text::ar("كاتب الدولة المكلف بالتجارة الخارجية")),
        role: ParticipantRole::Chair,
        attendance: Attendance::Attended,
        contact: None,
        inferred: None,
    }
}

fn council_president() -> Participant {
    Participant {
        participant_id: P_COUNCIL,
        person_id: None,
        organisation_id: Some(ORG_COUNCIL),
        capacity: Some(Text::ar("رئيس مجلس جهة فاس-مكناس")),
        role: ParticipantRole::Attendee,
        attendance: Attendance::Attended,
        contact: None,
        inferred: None,
    }
}

fn registered(participant: Participant) -> Event {
    Event::ParticipantRegistered { participant }
}

fn register(participant: Participant) -> Command {
    Command::RegisterParticipant(RegisterParticipant {
        consultation_id: C,
        participant_id: participant.participant_id,
        person_id: participant.person_id,
        organisation_id: participant.organisation_id,
        capacity: participant.capacity,
        role: participant.role,
        attendance: participant.attendance,
        contact: None,
        inferred: None,
    })
}

fn proposed(id: Uuid) -> Event {
    Event::RecommendationProposed {
        recommendation_id: id,
        text: Text::ar("تقوية الدبلوماسية التجارية"),
        themes: vec!["commercial-diplomacy".into()],
        proposer: None,
    }
}

fn propose() -> ProposeRecommendation {
    ProposeRecommendation {
        consultation_id: C,
        recommendation_id: R1,
        text: Text::ar("تقوية الدبلوماسية التجارية").with_en("Strengthen commercial diplomacy"),
        themes: vec!["commercial-diplomacy".into(), "export".into()],
        proposer: Some(P_CHAIR),
    }
}

fn status_change(id: Uuid, to: RecommendationStatus) -> Command {
    Command::ChangeRecommendationStatus(ChangeRecommendationStatus {
        consultation_id: C,
        recommendation_id: id,
        to,
        reason: "regional action plan 2025".into(),
    })
}

fn agreement() -> Agreement {
    Agreement {
        agreement_id: A1,
        title: Text::ar("ملحق اتفاقية لدعم الابتكار الصناعي"),
        kind: AgreementKind::Amendment,
        status: AgreementStatus::Signed,
        parties: vec![
            Party::organisation(ORG_TRADE),
            Party::organisation(ORG_CGEM),
        ],
        budget: Some(Money::mad(Decimal::new(900_000_000, 0))),
        period: Some(Period::years(2026, 2028)),
        programme: Some(Text::ar("برنامج دعم الابتكار الصناعي")),
        objectives: vec![Text::ar(
            "إدماج المقاولات الناشئة والشركات العاملة في صناعة الألعاب الإلكترونية",
        )],
        notes: vec![Text::en("900 million MAD of additional funding")],
        signed_on: None,
        scope: None,
    }
}

fn recorded() -> Event {
    Event::AgreementRecorded {
        agreement: agreement(),
    }
}

fn record(agreement: Agreement) -> Command {
    Command::RecordAgreement(RecordAgreement {
        consultation_id: C,
        agreement,
    })
}

fn key_figure() -> KeyFigure {
    KeyFigure {
        key_figure_id: K1,
        indicator: Text::ar("القيمة الإجمالية للصادرات الصناعية بالجهة"),
        value: Decimal::new(2_600_000_000, 0),
        unit: "MAD".into(),
        period: None,
        as_of: Some(PartialDate::year(2024)),
        region: Some(RegionCode::new("MA-03")),
        source: None,
        stated: Some(Text::ar("2,6 مليار درهم")),
        notes: vec![Text::ar("مع هيمنة واضحة للصناعات التقليدية")],
    }
}

fn record_figure(key_figure: KeyFigure) -> Command {
    Command::RecordKeyFigure(RecordKeyFigure {
        consultation_id: C,
        key_figure,
    })
}

fn point() -> Point {
    Point {
        point_id: PT1,
        text: Text::ar("برنامجي مؤازرة وتمكين"),
        kind: PointKind::Statement,
        speakers: vec![P_COUNCIL],
        themes: vec!["sse".into()],
    }
}

fn raise(point: Point) -> Command {
    Command::RaisePoint(RaisePoint {
        consultation_id: C,
        point,
    })
}

// ---- lifecycle ---------------------------------------------------------

#[test]
fn plan_happy_path() {
    assert_eq!(
        when(&[], Command::PlanConsultation(plan())),
        Ok(vec![planned()])
    );
    let state = given(&[planned()]);
    let consultation = state.consultation.unwrap();
    assert_eq!(consultation.status, ConsultationStatus::Planned);
    assert_eq!(consultation.organisers, vec![ORG_TRADE]);
}

#[test]
fn plan_twice_is_rejected() {
    assert_eq!(
        when(&[planned()], Command::PlanConsultation(plan())),
        rejected("consultation_id", Rule::AlreadyExists)
    );
}

#[test]
fn plan_rejects_empty_title() {
    let mut command = plan();
    command.details.title = Text::default();
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("title", Rule::Required)
    );
}

#[test]
fn plan_rejects_end_before_start() {
    let mut command = plan();
    command.details.schedule.end = Some(PartialDate::ymd(2024, 11, 27));
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("schedule.end", Rule::EndBeforeStart)
    );
}

#[test]
fn plan_accepts_end_only_partly_known() {
    // 3 and 4 November, year known only through context.
    let mut command = plan();
    command.details.schedule.start = PartialDate::month(2025, 11);
    command.details.schedule.end = Some(PartialDate::ymd(2025, 11, 4));
    assert!(when(&[], Command::PlanConsultation(command)).is_ok());
}

#[test]
fn plan_rejects_end_time_before_start_time_on_one_day() {
    let mut command = plan();
    command.details.schedule.start_time = NaiveTime::from_hms_opt(15, 0, 0);
    command.details.schedule.end_time = NaiveTime::from_hms_opt(10, 0, 0);
    assert_eq!(
        when(&[], Command::PlanConsultation(command.clone())),
        rejected("schedule.end_time", Rule::EndBeforeStart)
    );
    // Over two days the end time may be earlier in the day.
    command.details.schedule.end = Some(PartialDate::ymd(2024, 11, 29));
    assert!(when(&[], Command::PlanConsultation(command)).is_ok());
}

#[test]
fn plan_rejects_inconsistent_weekday() {
    let mut command = plan();
    command.details.schedule.start = PartialDate::ymd(2024, 11, 28).with_weekday(Weekday::Tuesday);
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected(
            "schedule.start.weekday",
            Rule::WeekdayMismatch {
                actual: Weekday::Thursday
            }
        )
    );
}

#[test]
fn plan_rejects_unknown_region() {
    let mut command = plan();
    command.details.region = Some(RegionCode::new("FES"));
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("region", Rule::UnknownRegion { code: "FES".into() })
    );
    let mut command = plan();
    if let Some(place) = command.details.place.as_mut() {
        place.region = Some(RegionCode::new("MA-00"));
    }
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected(
            "place.region",
            Rule::UnknownRegion {
                code: "MA-00".into()
            }
        )
    );
}

#[test]
fn plan_rejects_invalid_optional_details() {
    let mut command = plan();
    command.details.description = Some(Text::fr("x".repeat(LONG_TEXT_MAX + 1)));
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("description.fr", Rule::TooLong { max: LONG_TEXT_MAX })
    );
    let mut command = plan();
    command.details.purpose = Some(Text::default());
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("purpose", Rule::Required)
    );
    let mut command = plan();
    command.details.patronage = Some(Text::ar(""));
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("patronage.ar", Rule::Required)
    );
    let mut command = plan();
    command.details.schedule.as_stated = Some(Text::default());
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("schedule.as_stated", Rule::Required)
    );
    let mut command = plan();
    command.details.place = Some(Place {
        name: Text::default(),
        city: None,
        region: None,
        inferred: None,
    });
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("place.name", Rule::Required)
    );
}

#[test]
fn plan_rejects_bad_occasion() {
    let occasion = Occasion {
        name: Text::ar("الدورة الثالثة لليوم الوطني للصناعة"),
        period: Some(Period {
            start: PartialDate::ymd(2025, 11, 4),
            end: Some(PartialDate::ymd(2025, 11, 3)),
        }),
        consultation_id: None,
    };
    let mut command = plan();
    command.details.occasion = Some(occasion.clone());
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("occasion.period.end", Rule::EndBeforeStart)
    );
    let mut command = plan();
    command.details.occasion = Some(Occasion {
        period: None,
        consultation_id: Some(C),
        ..occasion.clone()
    });
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("occasion.consultation_id", Rule::SelfReference)
    );
    let mut command = plan();
    command.details.occasion = Some(Occasion {
        name: Text::default(),
        ..occasion
    });
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("occasion.name", Rule::Required)
    );
}

#[test]
fn plan_rejects_duplicate_organisers_bad_sources_and_notes() {
    let mut command = plan();
    command.organisers = vec![ORG_TRADE, ORG_TRADE];
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("organisers[1]", Rule::Duplicate)
    );
    let mut command = plan();
    command.sources = vec![
        source(),
        Source {
            publisher: None,
            document: None,
            ..source()
        },
    ];
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("sources[1].publisher", Rule::Required)
    );
    let mut command = plan();
    command.context_notes = vec![Text::en(" ")];
    assert_eq!(
        when(&[], Command::PlanConsultation(command)),
        rejected("context_notes[0].en", Rule::Required)
    );
}

#[test]
fn revise_details_happy_path_and_no_op() {
    let mut new_details = details();
    new_details.description = Some(Text::en("Regional meeting on export industries"));
    let command = ReviseConsultationDetails {
        consultation_id: C,
        details: new_details.clone(),
        reason: "added description".into(),
    };
    let expected = Event::ConsultationDetailsRevised {
        details: new_details.clone(),
        reason: "added description".into(),
    };
    assert_eq!(
        when(
            &[planned()],
            Command::ReviseConsultationDetails(command.clone())
        ),
        Ok(vec![expected.clone()])
    );
    // Corrections remain possible once closed.
    assert!(when(
        &[planned(), held(), closed()],
        Command::ReviseConsultationDetails(command.clone())
    )
    .is_ok());
    let state = given(&[planned(), expected]);
    assert_eq!(
        state.consultation.as_ref().map(|c| &c.details),
        Some(&new_details)
    );
    assert_eq!(
        decide(&state, Command::ReviseConsultationDetails(command)),
        Ok(vec![])
    );
}

#[test]
fn revise_details_requires_reason_and_valid_details() {
    let command = ReviseConsultationDetails {
        consultation_id: C,
        details: details(),
        reason: " ".into(),
    };
    assert_eq!(
        when(
            &[planned()],
            Command::ReviseConsultationDetails(command.clone())
        ),
        rejected("reason", Rule::ReasonRequired)
    );
    let mut bad = command;
    bad.details.title = Text::default();
    bad.reason = "typo".into();
    assert_eq!(
        when(&[planned()], Command::ReviseConsultationDetails(bad)),
        rejected("title", Rule::Required)
    );
}

#[test]
fn commands_before_planning_or_on_another_stream_are_rejected() {
    let hold = Command::MarkConsultationHeld(MarkConsultationHeld { consultation_id: C });
    assert_eq!(
        when(&[], hold),
        rejected("consultation_id", Rule::NotCreated)
    );
    let other = Command::MarkConsultationHeld(MarkConsultationHeld {
        consultation_id: OTHER,
    });
    assert_eq!(
        when(&[planned()], other),
        unknown("consultation_id", "consultation")
    );
}

#[test]
fn mark_held_happy_path_and_only_once() {
    let hold = || Command::MarkConsultationHeld(MarkConsultationHeld { consultation_id: C });
    assert_eq!(when(&[planned()], hold()), Ok(vec![held()]));
    assert_eq!(
        given(&[planned(), held()]).consultation.map(|c| c.status),
        Some(ConsultationStatus::Held)
    );
    assert_eq!(
        when(&[planned(), held()], hold()),
        rejected(
            "status",
            Rule::InvalidTransition {
                from: "held".into(),
                to: "held".into()
            }
        )
    );
}

#[test]
fn close_happy_path_only_from_held() {
    let close = || Command::CloseConsultation(CloseConsultation { consultation_id: C });
    assert_eq!(when(&[planned(), held()], close()), Ok(vec![closed()]));
    assert_eq!(
        when(&[planned()], close()),
        rejected(
            "status",
            Rule::InvalidTransition {
                from: "planned".into(),
                to: "closed".into()
            }
        )
    );
    assert_eq!(
        when(&[planned(), held(), closed()], close()),
        rejected(
            "status",
            Rule::InvalidTransition {
                from: "closed".into(),
                to: "closed".into()
            }
        )
    );
}

#[test]
fn cancel_happy_path_from_planned_or_held() {
    let cancel = |reason: &str| {
        Command::CancelConsultation(CancelConsultation {
            consultation_id: C,
            reason: reason.into(),
        })
    };
    assert_eq!(
        when(&[planned()], cancel("postponed sine die")),
        Ok(vec![cancelled()])
    );
    assert_eq!(
        when(&[planned(), held()], cancel("recorded by mistake")),
        Ok(vec![Event::ConsultationCancelled {
            from: ConsultationStatus::Held,
            reason: "recorded by mistake".into()
        }])
    );
    let state = given(&[planned(), cancelled()]);
    let consultation = state.consultation.unwrap();
    assert_eq!(consultation.status, ConsultationStatus::Cancelled);
    assert_eq!(
        consultation.cancellation_reason.as_deref(),
        Some("postponed sine die")
    );
}

#[test]
fn cancel_requires_a_reason() {
    let command = Command::CancelConsultation(CancelConsultation {
        consultation_id: C,
        reason: "".into(),
    });
    assert_eq!(
        when(&[planned()], command),
        rejected("reason", Rule::ReasonRequired)
    );
}

#[test]
fn cancel_is_impossible_once_closed_or_cancelled() {
    let command = || {
        Command::CancelConsultation(CancelConsultation {
            consultation_id: C,
            reason: "x".into(),
        })
    };
    assert_eq!(
        when(&[planned(), held(), closed()], command()),
        rejected(
            "status",
            Rule::InvalidTransition {
                from: "closed".into(),
                to: "cancelled".into()
            }
        )
    );
    assert_eq!(
        when(&[planned(), cancelled()], command()),
        rejected("consultation_id", Rule::ConsultationCancelled)
    );
}

fn one_of_each_command() -> Vec<Command> {
    vec![
        Command::ReviseConsultationDetails(ReviseConsultationDetails {
            consultation_id: C,
            details: details(),
            reason: "x".into(),
        }),
        Command::MarkConsultationHeld(MarkConsultationHeld { consultation_id: C }),
        Command::CloseConsultation(CloseConsultation { consultation_id: C }),
        Command::AddOrganiser(AddOrganiser {
            consultation_id: C,
            organisation_id: ORG_WILAYA,
        }),
        Command::AddSource(AddSource {
            consultation_id: C,
            source: Source {
                document: Some("other.txt".into()),
                ..source()
            },
        }),
        Command::AddContextNote(AddContextNote {
            consultation_id: C,
            note: Text::en("note"),
        }),
        register(council_president()),
        Command::ChangeParticipantRole(ChangeParticipantRole {
            consultation_id: C,
            participant_id: P_CHAIR,
            role: ParticipantRole::Speaker,
        }),
        Command::RecordAttendance(RecordAttendance {
            consultation_id: C,
            participant_id: P_CHAIR,
            attendance: Attendance::Absent,
        }),
        Command::ProposeRecommendation(ProposeRecommendation {
            recommendation_id: R2,
            ..propose()
        }),
        status_change(R1, RecommendationStatus::Accepted),
        Command::ReviseRecommendationText(ReviseRecommendationText {
            consultation_id: C,
            recommendation_id: R1,
            text: Text::en("new"),
            reason: "x".into(),
        }),
        record(Agreement {
            agreement_id: Uuid::from_u128(0x501),
            ..agreement()
        }),
        Command::AddAgreementSignatory(AddAgreementSignatory {
            consultation_id: C,
            agreement_id: A1,
            party: Party::organisation(ORG_WILAYA),
        }),
        Command::ReviseAgreementBudget(ReviseAgreementBudget {
            consultation_id: C,
            agreement_id: A1,
            budget: Money::mad(Decimal::ONE),
            reason: "x".into(),
        }),
        record_figure(KeyFigure {
            key_figure_id: Uuid::from_u128(0x601),
            ..key_figure()
        }),
        raise(Point {
            point_id: Uuid::from_u128(0x701),
            speakers: vec![],
            ..point()
        }),
    ]
}

#[test]
fn nothing_can_be_recorded_on_a_cancelled_consultation() {
    let history = [
        planned(),
        held(),
        registered(chair()),
        proposed(R1),
        recorded(),
        Event::ConsultationCancelled {
            from: ConsultationStatus::Held,
            reason: "x".into(),
        },
    ];
    for command in one_of_each_command() {
        assert_eq!(
            when(&history, command.clone()),
            rejected("consultation_id", Rule::ConsultationCancelled),
            "{command:?}"
        );
    }
}

#[test]
fn every_command_works_on_a_held_consultation() {
    // The same commands are all accepted while the record is open.
    let history = [
        planned(),
        held(),
        registered(chair()),
        proposed(R1),
        recorded(),
    ];
    for command in one_of_each_command() {
        if matches!(command, Command::MarkConsultationHeld(_)) {
            continue;
        }
        assert!(when(&history, command.clone()).is_ok(), "{command:?}");
    }
}

#[test]
fn closing_freezes_attendance_and_meeting_content_but_not_follow_up() {
    let history = [
        planned(),
        held(),
        registered(chair()),
        proposed(R1),
        recorded(),
        closed(),
    ];
    for command in one_of_each_command() {
        let result = when(&history, command.clone());
        match &command {
            Command::RegisterParticipant(_)
            | Command::ChangeParticipantRole(_)
            | Command::RecordAttendance(_) => assert_eq!(
                result,
                rejected("consultation_id", Rule::AttendanceFrozen),
                "{command:?}"
            ),
            Command::AddOrganiser(_)
            | Command::ProposeRecommendation(_)
            | Command::RecordAgreement(_)
            | Command::AddAgreementSignatory(_)
            | Command::RecordKeyFigure(_)
            | Command::RaisePoint(_) => assert_eq!(
                result,
                rejected("consultation_id", Rule::ConsultationClosed),
                "{command:?}"
            ),
            Command::MarkConsultationHeld(_) | Command::CloseConsultation(_) => {
                assert_eq!(result.map_err(|e| e.code()), Err("INVALID_TRANSITION"))
            }
            _ => assert!(result.is_ok(), "{command:?} should stay open after closing"),
        }
    }
}

// ---- organisers, sources, notes -----------------------------------------

#[test]
fn add_organiser_happy_path_and_duplicate() {
    let add = |id| {
        Command::AddOrganiser(AddOrganiser {
            consultation_id: C,
            organisation_id: id,
        })
    };
    let expected = Event::OrganiserAdded {
        organisation_id: ORG_COUNCIL,
    };
    assert_eq!(
        when(&[planned()], add(ORG_COUNCIL)),
        Ok(vec![expected.clone()])
    );
    assert_eq!(
        given(&[planned(), expected])
            .consultation
            .map(|c| c.organisers),
        Some(vec![ORG_TRADE, ORG_COUNCIL])
    );
    assert_eq!(
        when(&[planned()], add(ORG_TRADE)),
        rejected("organisation_id", Rule::Duplicate)
    );
}

#[test]
fn add_source_happy_path_duplicate_and_invalid() {
    let add = |source| {
        Command::AddSource(AddSource {
            consultation_id: C,
            source,
        })
    };
    let other = Source {
        publisher: Some(Text::ar("وكالة المغرب العربي للأنباء")),
        author: None,
        url: Some("https://www.mapexpress.ma/".into()),
        title: None,
        published_on: None,
        document: None,
    };
    assert_eq!(
        when(&[planned()], add(other.clone())),
        Ok(vec![Event::SourceAdded {
            source: other.clone()
        }])
    );
    let same_document = Source {
        publisher: None,
        ..source()
    };
    assert_eq!(
        when(&[planned()], add(same_document)),
        rejected("source", Rule::Duplicate)
    );
    let bad_url = Source {
        url: Some("www.example.ma".into()),
        ..other
    };
    assert_eq!(
        when(&[planned()], add(bad_url)),
        rejected(
            "source.url",
            Rule::InvalidFormat {
                expected: "an http or https URL".into()
            }
        )
    );
}

#[test]
fn add_context_note_happy_path_duplicate_and_blank() {
    let add = |note| {
        Command::AddContextNote(AddContextNote {
            consultation_id: C,
            note,
        })
    };
    let note = Text::en("UNIDO office in Rabat opened February 2004");
    let expected = Event::ContextNoteAdded { note: note.clone() };
    assert_eq!(
        when(&[planned()], add(note.clone())),
        Ok(vec![expected.clone()])
    );
    assert_eq!(
        when(&[planned(), expected], add(note)),
        rejected("note", Rule::Duplicate)
    );
    assert_eq!(
        when(&[planned()], add(Text::default())),
        rejected("note", Rule::Required)
    );
}

// ---- participants ---------------------------------------------------------

#[test]
fn register_participant_happy_path() {
    assert_eq!(
        when(&[planned(), held()], register(chair())),
        Ok(vec![registered(chair())])
    );
    let state = given(&[planned(), held(), registered(chair())]);
    let consultation = state.consultation.unwrap();
    assert_eq!(consultation.chairs().count(), 1);
    assert_eq!(consultation.participant(P_CHAIR), Some(&chair()));
}

#[test]
fn register_co_chair_and_envisaged_agreement() {
    let wali = Participant {
        participant_id: P_WALI,
        person_id: Some(PERSON_JAMAI),
        organisation_id: Some(ORG_WILAYA),
        capacity: None,
        role: ParticipantRole::CoChair,
        attendance: Attendance::Attended,
        contact: None,
        inferred: None,
    };
    assert_eq!(
        when(&[planned(), held()], register(wali.clone())),
        Ok(vec![registered(wali)])
    );
    let envisaged = Agreement {
        status: AgreementStatus::Envisaged,
        budget: None,
        ..agreement()
    };
    assert_eq!(
        when(&[planned(), held()], record(envisaged.clone())),
        Ok(vec![Event::AgreementRecorded {
            agreement: envisaged
        }])
    );
}

#[test]
fn register_unnamed_official_by_organisation_and_capacity() {
    assert_eq!(
        when(&[planned(), held()], register(council_president())),
        Ok(vec![registered(council_president())])
    );
    // Another unnamed official of the same council is a different participant.
    let vice = Participant {
        participant_id: Uuid::from_u128(0x399),
        capacity: Some(Text::ar("نائبة رئيس مجلس جهة فاس - مكناس")),
        ..council_president()
    };
    assert!(when(
        &[planned(), held(), registered(council_president())],
        register(vice)
    )
    .is_ok());
}

#[test]
fn register_participant_needs_a_person_or_an_organisation() {
    let nobody = Participant {
        person_id: None,
        organisation_id: None,
        ..chair()
    };
    assert_eq!(
        when(&[planned(), held()], register(nobody)),
        rejected("person_id", Rule::Required)
    );
}

#[test]
fn register_participant_rejects_duplicates() {
    let history = [planned(), held(), registered(chair())];
    assert_eq!(
        when(&history, register(chair())),
        rejected("participant_id", Rule::Duplicate)
    );
    let same_person_and_organisation = Participant {
        participant_id: Uuid::from_u128(0x398),
        role: ParticipantRole::Speaker,
        ..chair()
    };
    assert_eq!(
        when(&history, register(same_person_and_organisation)),
        rejected("person_id", Rule::Duplicate)
    );
    // The same person for another organisation is another participation.
    let wali_as_governor = Participant {
        participant_id: P_WALI,
        person_id: Some(PERSON_JAMAI),
        organisation_id: Some(ORG_WILAYA),
        capacity: None,
        role: ParticipantRole::Attendee,
        attendance: Attendance::Attended,
        contact: None,
        inferred: None,
    };
    assert!(when(&history, register(wali_as_governor)).is_ok());
}

#[test]
fn register_participant_rejects_blank_capacity() {
    let blank = Participant {
        capacity: Some(Text::default()),
        ..chair()
    };
    assert_eq!(
        when(&[planned(), held()], register(blank)),
        rejected("capacity", Rule::Required)
    );
}

#[test]
fn attendance_needs_the_consultation_held() {
    let attended_before = Participant {
        attendance: Attendance::Attended,
        ..chair()
    };
    assert_eq!(
        when(&[planned()], register(attended_before)),
        rejected("attendance", Rule::NotHeldYet)
    );
    let invited = Participant {
        attendance: Attendance::Invited,
        ..chair()
    };
    assert!(when(&[planned()], register(invited.clone())).is_ok());
    let record = Command::RecordAttendance(RecordAttendance {
        consultation_id: C,
        participant_id: P_CHAIR,
        attendance: Attendance::Absent,
    });
    assert_eq!(
        when(&[planned(), registered(invited)], record),
        rejected("attendance", Rule::NotHeldYet)
    );
}

#[test]
fn change_role_happy_path_no_op_and_unknown() {
    let change = |id, role| {
        Command::ChangeParticipantRole(ChangeParticipantRole {
            consultation_id: C,
            participant_id: id,
            role,
        })
    };
    let history = [planned(), held(), registered(chair())];
    let expected = Event::ParticipantRoleChanged {
        participant_id: P_CHAIR,
        from: ParticipantRole::Chair,
        to: ParticipantRole::Speaker,
    };
    assert_eq!(
        when(&history, change(P_CHAIR, ParticipantRole::Speaker)),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), held(), registered(chair()), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.participant(P_CHAIR).map(|p| p.role)),
        Some(ParticipantRole::Speaker)
    );
    assert_eq!(
        when(&history, change(P_CHAIR, ParticipantRole::Chair)),
        Ok(vec![])
    );
    assert_eq!(
        when(&history, change(P_WALI, ParticipantRole::Chair)),
        unknown("participant_id", "participant")
    );
}

#[test]
fn change_contact_happy_path_no_op_invalid_and_cancelled() {
    let change = |id, email: Option<&str>| {
        Command::ChangeParticipantContact(ChangeParticipantContact {
            consultation_id: C,
            participant_id: id,
            contact: email.map(|e| Contact {
                email: Some(e.into()),
                phone: None,
                erased: false,
            }),
        })
    };
    let history = [planned(), held(), registered(chair()), closed()];
    let expected = Event::ParticipantContactChanged {
        participant_id: P_CHAIR,
        person_id: Some(PERSON_HEJIRA),
        contact: Some(Contact {
            email: Some("chair@example.ma".into()),
            phone: None,
            erased: false,
        }),
    };
    // Allowed once closed: contact details serve the follow-up.
    assert_eq!(
        when(&history, change(P_CHAIR, Some("chair@example.ma"))),
        Ok(vec![expected.clone()])
    );
    let changed = [planned(), held(), registered(chair()), expected];
    assert_eq!(
        when(&changed, change(P_CHAIR, Some("chair@example.ma"))),
        Ok(vec![])
    );
    assert_eq!(
        when(&history, change(P_CHAIR, Some("not-an-address"))).map_err(|e| e.field().to_owned()),
        Err("contact.email".to_owned())
    );
    assert_eq!(when(&history, change(P_CHAIR, None)), Ok(vec![]));
    assert_eq!(
        when(&history, change(P_WALI, None)),
        unknown("participant_id", "participant")
    );
    assert_eq!(
        when(&[planned(), cancelled()], change(P_CHAIR, None)),
        rejected("consultation_id", Rule::ConsultationCancelled)
    );
}

#[test]
fn record_attendance_happy_path_no_op_and_unknown() {
    let record = |id, attendance| {
        Command::RecordAttendance(RecordAttendance {
            consultation_id: C,
            participant_id: id,
            attendance,
        })
    };
    let history = [planned(), held(), registered(chair())];
    let expected = Event::AttendanceRecorded {
        participant_id: P_CHAIR,
        from: Attendance::Attended,
        to: Attendance::Absent,
    };
    assert_eq!(
        when(&history, record(P_CHAIR, Attendance::Absent)),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), held(), registered(chair()), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.participant(P_CHAIR).map(|p| p.attendance)),
        Some(Attendance::Absent)
    );
    assert_eq!(
        when(&history, record(P_CHAIR, Attendance::Attended)),
        Ok(vec![])
    );
    assert_eq!(
        when(&history, record(P_WALI, Attendance::Attended)),
        unknown("participant_id", "participant")
    );
}

// ---- recommendations -----------------------------------------------------

#[test]
fn propose_recommendation_happy_path() {
    let history = [planned(), held(), registered(chair())];
    let expected = Event::RecommendationProposed {
        recommendation_id: R1,
        text: propose().text,
        themes: propose().themes,
        proposer: Some(P_CHAIR),
    };
    assert_eq!(
        when(&history, Command::ProposeRecommendation(propose())),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), held(), registered(chair()), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.recommendation(R1).map(|r| r.status)),
        Some(RecommendationStatus::Proposed)
    );
}

#[test]
fn propose_recommendation_rejects_bad_input() {
    let history = [planned(), held(), registered(chair()), proposed(R2)];
    let duplicate = ProposeRecommendation {
        recommendation_id: R2,
        ..propose()
    };
    assert_eq!(
        when(&history, Command::ProposeRecommendation(duplicate)),
        rejected("recommendation_id", Rule::Duplicate)
    );
    let empty = ProposeRecommendation {
        text: Text::default(),
        ..propose()
    };
    assert_eq!(
        when(&history, Command::ProposeRecommendation(empty)),
        rejected("text", Rule::Required)
    );
    let bad_theme = ProposeRecommendation {
        themes: vec!["Export Promotion".into()],
        ..propose()
    };
    assert_eq!(
        when(&history, Command::ProposeRecommendation(bad_theme)),
        rejected(
            "themes[0]",
            Rule::InvalidFormat {
                expected: "a lowercase slug such as `export-promotion`".into()
            }
        )
    );
    let stranger = ProposeRecommendation {
        proposer: Some(P_WALI),
        ..propose()
    };
    assert_eq!(
        when(&history, Command::ProposeRecommendation(stranger)),
        unknown("proposer", "participant")
    );
}

#[test]
fn recommendation_accepted_and_rejected_happy_paths() {
    let history = [planned(), held(), proposed(R1)];
    let expected = Event::RecommendationStatusChanged {
        recommendation_id: R1,
        from: RecommendationStatus::Proposed,
        to: RecommendationStatus::Accepted,
        reason: "regional action plan 2025".into(),
    };
    assert_eq!(
        when(&history, status_change(R1, RecommendationStatus::Accepted)),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), held(), proposed(R1), expected]);
    let recommendation = state
        .consultation
        .and_then(|c| c.recommendation(R1).cloned());
    assert_eq!(
        recommendation.as_ref().map(|r| r.status),
        Some(RecommendationStatus::Accepted)
    );
    assert_eq!(
        recommendation.and_then(|r| r.status_reason).as_deref(),
        Some("regional action plan 2025")
    );
    assert!(when(&history, status_change(R1, RecommendationStatus::Rejected)).is_ok());
}

#[test]
fn recommendation_merged_happy_path() {
    let history = [planned(), held(), proposed(R1), proposed(R2)];
    let merged = RecommendationStatus::Merged { into: R2 };
    assert_eq!(
        when(&history, status_change(R1, merged)),
        Ok(vec![Event::RecommendationStatusChanged {
            recommendation_id: R1,
            from: RecommendationStatus::Proposed,
            to: merged,
            reason: "regional action plan 2025".into(),
        }])
    );
}

#[test]
fn recommendation_merge_target_must_exist_differ_and_not_be_merged() {
    let into_r1 = Event::RecommendationStatusChanged {
        recommendation_id: R2,
        from: RecommendationStatus::Proposed,
        to: RecommendationStatus::Merged { into: R1 },
        reason: "same idea".into(),
    };
    let history = [
        planned(),
        held(),
        proposed(R1),
        proposed(R2),
        proposed(R3),
        into_r1,
    ];
    assert_eq!(
        when(
            &history,
            status_change(R1, RecommendationStatus::Merged { into: R1 })
        ),
        rejected("to.into", Rule::SelfReference)
    );
    assert_eq!(
        when(
            &history,
            status_change(R1, RecommendationStatus::Merged { into: OTHER })
        ),
        unknown("to.into", "recommendation")
    );
    assert_eq!(
        when(
            &history,
            status_change(R3, RecommendationStatus::Merged { into: R2 })
        ),
        rejected("to.into", Rule::MergeIntoMerged)
    );
}

#[test]
fn merged_status_needs_its_target_when_deserialised() {
    let without_target = serde_json::json!({"status": "merged"});
    assert!(serde_json::from_value::<RecommendationStatus>(without_target).is_err());
    let with_target = serde_json::json!({"status": "merged", "into": R2});
    assert_eq!(
        serde_json::from_value::<RecommendationStatus>(with_target).ok(),
        Some(RecommendationStatus::Merged { into: R2 })
    );
}

#[test]
fn recommendation_status_only_moves_from_proposed() {
    let accepted = Event::RecommendationStatusChanged {
        recommendation_id: R1,
        from: RecommendationStatus::Proposed,
        to: RecommendationStatus::Accepted,
        reason: "r".into(),
    };
    assert_eq!(
        when(
            &[planned(), proposed(R1), accepted],
            status_change(R1, RecommendationStatus::Rejected)
        ),
        rejected(
            "to",
            Rule::InvalidTransition {
                from: "accepted".into(),
                to: "rejected".into()
            }
        )
    );
    assert_eq!(
        when(
            &[planned(), proposed(R1)],
            status_change(R1, RecommendationStatus::Proposed)
        ),
        rejected(
            "to",
            Rule::InvalidTransition {
                from: "proposed".into(),
                to: "proposed".into()
            }
        )
    );
}

#[test]
fn recommendation_status_change_needs_reason_and_known_recommendation() {
    let command = Command::ChangeRecommendationStatus(ChangeRecommendationStatus {
        consultation_id: C,
        recommendation_id: R1,
        to: RecommendationStatus::Rejected,
        reason: "  ".into(),
    });
    assert_eq!(
        when(&[planned(), proposed(R1)], command),
        rejected("reason", Rule::ReasonRequired)
    );
    assert_eq!(
        when(
            &[planned()],
            status_change(R1, RecommendationStatus::Accepted)
        ),
        unknown("recommendation_id", "recommendation")
    );
}

#[test]
fn revise_recommendation_text_happy_path_and_rules() {
    let revise = |id, text: Text, reason: &str| {
        Command::ReviseRecommendationText(ReviseRecommendationText {
            consultation_id: C,
            recommendation_id: id,
            text,
            reason: reason.into(),
        })
    };
    let history = [planned(), proposed(R1)];
    let text =
        Text::ar("تقوية الدبلوماسية التجارية").with_fr("Renforcer la diplomatie commerciale");
    let expected = Event::RecommendationTextRevised {
        recommendation_id: R1,
        text: text.clone(),
        reason: "added French".into(),
    };
    assert_eq!(
        when(&history, revise(R1, text.clone(), "added French")),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), proposed(R1), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.recommendation(R1).map(|r| r.text.clone())),
        Some(text.clone())
    );
    assert_eq!(
        when(&history, revise(R1, text.clone(), "")),
        rejected("reason", Rule::ReasonRequired)
    );
    assert_eq!(
        when(&history, revise(R1, Text::default(), "r")),
        rejected("text", Rule::Required)
    );
    assert_eq!(
        when(&history, revise(R2, text, "r")),
        unknown("recommendation_id", "recommendation")
    );
    let same = Text::ar("تقوية الدبلوماسية التجارية");
    assert_eq!(when(&history, revise(R1, same, "r")), Ok(vec![]));
}

// ---- agreements ------------------------------------------------------------

#[test]
fn record_agreement_happy_path() {
    assert_eq!(
        when(&[planned(), held()], record(agreement())),
        Ok(vec![recorded()])
    );
    let state = given(&[planned(), held(), recorded()]);
    let budget = state
        .consultation
        .and_then(|c| c.agreement(A1).and_then(|a| a.budget.clone()));
    assert_eq!(budget, Some(Money::mad(Decimal::new(900_000_000, 0))));
}

#[test]
fn record_agreement_with_participant_party_and_signatory() {
    let party = Party {
        organisation_id: None,
        participant_id: Some(P_CHAIR),
        signatory_person_id: Some(PERSON_HEJIRA),
        signatory_capacity: None,
        commitments: vec![Text::en("fund collaborative projects")],
        inferred: None,
    };
    let with_party = Agreement {
        parties: vec![party],
        ..agreement()
    };
    assert!(when(
        &[planned(), held(), registered(chair())],
        record(with_party)
    )
    .is_ok());
}

#[test]
fn record_agreement_rejects_duplicate_id_and_empty_title() {
    assert_eq!(
        when(&[planned(), recorded()], record(agreement())),
        rejected("agreement_id", Rule::Duplicate)
    );
    let untitled = Agreement {
        title: Text::default(),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(untitled)),
        rejected("title", Rule::Required)
    );
}

#[test]
fn record_agreement_rejects_bad_parties() {
    let mut nobody = Party::organisation(ORG_TRADE);
    nobody.organisation_id = None;
    let bad = Agreement {
        parties: vec![Party::organisation(ORG_TRADE), nobody],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(bad)),
        rejected("parties[1].organisation_id", Rule::Required)
    );
    let twice = Agreement {
        parties: vec![
            Party::organisation(ORG_TRADE),
            Party::organisation(ORG_TRADE),
        ],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(twice)),
        rejected("parties[1]", Rule::Duplicate)
    );
    let stranger = Party {
        participant_id: Some(P_WALI),
        ..Party::organisation(ORG_WILAYA)
    };
    let unknown_party = Agreement {
        parties: vec![stranger],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(unknown_party)),
        unknown("parties[0].participant_id", "participant")
    );
    let blank_commitment = Party {
        commitments: vec![Text::default()],
        ..Party::organisation(ORG_TRADE)
    };
    let bad = Agreement {
        parties: vec![blank_commitment],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(bad)),
        rejected("parties[0].commitments[0]", Rule::Required)
    );
}

#[test]
fn record_agreement_rejects_bad_money_period_and_texts() {
    let negative = Agreement {
        budget: Some(Money::mad(Decimal::new(-1, 0))),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(negative)),
        rejected("budget.amount", Rule::NegativeAmount)
    );
    let dirhams = Agreement {
        budget: Some(Money {
            amount: Decimal::ONE,
            currency: "DH".into(),
        }),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(dirhams)),
        rejected(
            "budget.currency",
            Rule::InvalidCurrency { code: "DH".into() }
        )
    );
    let backwards = Agreement {
        period: Some(Period::years(2028, 2026)),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(backwards)),
        rejected("period.end", Rule::EndBeforeStart)
    );
    let blank_axis = Agreement {
        objectives: vec![Text::en("ok"), Text::default()],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(blank_axis)),
        rejected("objectives[1]", Rule::Required)
    );
    let blank_note = Agreement {
        notes: vec![Text::default()],
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(blank_note)),
        rejected("notes[0]", Rule::Required)
    );
    let blank_programme = Agreement {
        programme: Some(Text::default()),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(blank_programme)),
        rejected("programme", Rule::Required)
    );
    let bad_date = Agreement {
        signed_on: Some(PartialDate::month(2013, 14)),
        ..agreement()
    };
    assert_eq!(
        when(&[planned()], record(bad_date)),
        rejected("signed_on.month", Rule::OutOfRange { min: 1, max: 12 })
    );
}

#[test]
fn add_signatory_happy_path_and_rules() {
    let add = |agreement_id, party| {
        Command::AddAgreementSignatory(AddAgreementSignatory {
            consultation_id: C,
            agreement_id,
            party,
        })
    };
    let history = [planned(), recorded()];
    let expected = Event::AgreementSignatoryAdded {
        agreement_id: A1,
        party: Party::organisation(ORG_WILAYA),
    };
    assert_eq!(
        when(&history, add(A1, Party::organisation(ORG_WILAYA))),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), recorded(), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.agreement(A1).map(|a| a.parties.len())),
        Some(3)
    );
    assert_eq!(
        when(&history, add(A1, Party::organisation(ORG_CGEM))),
        rejected("party", Rule::Duplicate)
    );
    assert_eq!(
        when(&history, add(OTHER, Party::organisation(ORG_WILAYA))),
        unknown("agreement_id", "agreement")
    );
    let stranger = Party {
        participant_id: Some(P_WALI),
        ..Party::organisation(ORG_WILAYA)
    };
    assert_eq!(
        when(&history, add(A1, stranger)),
        unknown("party.participant_id", "participant")
    );
}

#[test]
fn revise_agreement_budget_happy_path_and_rules() {
    let revise = |agreement_id, amount: i64, reason: &str| {
        Command::ReviseAgreementBudget(ReviseAgreementBudget {
            consultation_id: C,
            agreement_id,
            budget: Money::mad(Decimal::new(amount, 0)),
            reason: reason.into(),
        })
    };
    let history = [planned(), held(), recorded(), closed()];
    let expected = Event::AgreementBudgetRevised {
        agreement_id: A1,
        from: Some(Money::mad(Decimal::new(900_000_000, 0))),
        to: Money::mad(Decimal::new(950_000_000, 0)),
        reason: "finance law 2026".into(),
    };
    // Allowed after closing: budgets slip after signing.
    assert_eq!(
        when(&history, revise(A1, 950_000_000, "finance law 2026")),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), recorded(), expected]);
    assert_eq!(
        state
            .consultation
            .and_then(|c| c.agreement(A1).and_then(|a| a.budget.clone())),
        Some(Money::mad(Decimal::new(950_000_000, 0)))
    );
    assert_eq!(
        when(&history, revise(A1, 1, " ")),
        rejected("reason", Rule::ReasonRequired)
    );
    assert_eq!(
        when(&history, revise(A1, -5, "r")),
        rejected("budget.amount", Rule::NegativeAmount)
    );
    assert_eq!(
        when(&history, revise(OTHER, 1, "r")),
        unknown("agreement_id", "agreement")
    );
    assert_eq!(when(&history, revise(A1, 900_000_000, "r")), Ok(vec![]));
}

#[test]
fn change_agreement_scope_happy_path_and_rules() {
    let change = |agreement_id, scope: AgreementScope, reason: &str| {
        Command::ChangeAgreementScope(ChangeAgreementScope {
            consultation_id: C,
            agreement_id,
            scope,
            reason: reason.into(),
        })
    };
    let fes = || AgreementScope::regional(RegionCode::new("MA-03"));
    let history = [planned(), held(), recorded(), closed()];
    let expected = Event::AgreementScopeChanged {
        agreement_id: A1,
        from: None,
        to: fes(),
        reason: "regional programme".into(),
    };
    // A correction of the record: allowed after closing.
    assert_eq!(
        when(&history, change(A1, fes(), "regional programme")),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), recorded(), expected.clone()]);
    let agreement = state.consultation.and_then(|c| c.agreement(A1).cloned());
    assert_eq!(
        agreement.as_ref().and_then(|a| a.scope.clone()),
        Some(fes())
    );
    // The same scope again changes nothing.
    let changed = [planned(), recorded(), expected];
    assert_eq!(when(&changed, change(A1, fes(), "again")), Ok(vec![]));
    // Back to national names the previous scope.
    assert_eq!(
        when(
            &changed,
            change(A1, AgreementScope::national(), "national plan")
        ),
        Ok(vec![Event::AgreementScopeChanged {
            agreement_id: A1,
            from: Some(fes()),
            to: AgreementScope::national(),
            reason: "national plan".into(),
        }])
    );
    assert_eq!(
        when(&history, change(A1, fes(), " ")),
        rejected("reason", Rule::ReasonRequired)
    );
    let no_region = AgreementScope {
        level: ScopeLevel::Regional,
        region: None,
    };
    assert_eq!(
        when(&history, change(A1, no_region, "r")),
        rejected("scope.region", Rule::Required)
    );
    assert_eq!(
        when(&history, change(OTHER, fes(), "r")),
        unknown("agreement_id", "agreement")
    );
}

// ---- key figures and points ---------------------------------------------------

#[test]
fn record_key_figure_happy_path() {
    let expected = Event::KeyFigureRecorded {
        key_figure: key_figure(),
    };
    assert_eq!(
        when(&[planned(), held()], record_figure(key_figure())),
        Ok(vec![expected.clone()])
    );
    let state = given(&[planned(), expected]);
    assert_eq!(
        state.consultation.map(|c| c.key_figures[0].value),
        Some(Decimal::new(26, 1) * Decimal::new(1_000_000_000, 0))
    );
}

#[test]
fn record_key_figure_rejects_bad_input() {
    let history = [
        planned(),
        Event::KeyFigureRecorded {
            key_figure: key_figure(),
        },
    ];
    assert_eq!(
        when(&history, record_figure(key_figure())),
        rejected("key_figure_id", Rule::Duplicate)
    );
    let fresh = || KeyFigure {
        key_figure_id: Uuid::from_u128(0x699),
        ..key_figure()
    };
    let no_indicator = KeyFigure {
        indicator: Text::default(),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(no_indicator)),
        rejected("indicator", Rule::Required)
    );
    let no_unit = KeyFigure {
        unit: " ".into(),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(no_unit)),
        rejected("unit", Rule::Required)
    );
    let bad_region = KeyFigure {
        region: Some(RegionCode::new("MA-3")),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_region)),
        rejected(
            "region",
            Rule::UnknownRegion {
                code: "MA-3".into()
            }
        )
    );
    let bad_period = KeyFigure {
        period: Some(Period::years(2020, 2014)),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_period)),
        rejected("period.end", Rule::EndBeforeStart)
    );
    let bad_as_of = KeyFigure {
        as_of: Some(PartialDate::default()),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_as_of)),
        rejected("as_of", Rule::Required)
    );
    let bad_source = KeyFigure {
        source: Some(Source {
            publisher: None,
            author: None,
            url: None,
            title: None,
            published_on: None,
            document: None,
        }),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_source)),
        rejected("source.publisher", Rule::Required)
    );
    let bad_stated = KeyFigure {
        stated: Some(Text::default()),
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_stated)),
        rejected("stated", Rule::Required)
    );
    let bad_note = KeyFigure {
        notes: vec![Text::default()],
        ..fresh()
    };
    assert_eq!(
        when(&history, record_figure(bad_note)),
        rejected("notes[0]", Rule::Required)
    );
}

#[test]
fn raise_point_happy_path_and_rules() {
    let history = [planned(), held(), registered(council_president())];
    let expected = Event::PointRaised { point: point() };
    assert_eq!(when(&history, raise(point())), Ok(vec![expected.clone()]));
    let with_point = [planned(), held(), registered(council_president()), expected];
    assert_eq!(
        when(&with_point, raise(point())),
        rejected("point_id", Rule::Duplicate)
    );
    let stranger = Point {
        speakers: vec![P_COUNCIL, P_WALI],
        ..point()
    };
    assert_eq!(
        when(&history, raise(stranger)),
        unknown("speakers[1]", "participant")
    );
    let twice = Point {
        speakers: vec![P_COUNCIL, P_COUNCIL],
        ..point()
    };
    assert_eq!(
        when(&history, raise(twice)),
        rejected("speakers[1]", Rule::Duplicate)
    );
    let empty = Point {
        text: Text::default(),
        ..point()
    };
    assert_eq!(
        when(&history, raise(empty)),
        rejected("text", Rule::Required)
    );
    let bad_theme = Point {
        themes: vec!["-sse".into()],
        ..point()
    };
    assert_eq!(
        when(&history, raise(bad_theme)),
        rejected(
            "themes[0]",
            Rule::InvalidFormat {
                expected: "a lowercase slug such as `export-promotion`".into()
            }
        )
    );
}

// ---- apply, fold, serialisation -------------------------------------------------

#[test]
fn apply_ignores_events_before_planning_and_replays_idempotently() {
    let state = given(&[held(), registered(chair())]);
    assert_eq!(state.consultation, None);
    assert_eq!(state.version, 2);
    let state = given(&[
        planned(),
        registered(chair()),
        registered(chair()),
        proposed(R1),
        proposed(R1),
        recorded(),
        recorded(),
        Event::AttendanceRecorded {
            participant_id: P_WALI,
            from: Attendance::Invited,
            to: Attendance::Attended,
        },
    ]);
    let consultation = state.consultation.unwrap();
    assert_eq!(consultation.participants.len(), 1);
    assert_eq!(consultation.recommendations.len(), 1);
    assert_eq!(consultation.agreements.len(), 1);
}

#[test]
fn fold_rebuilds_any_earlier_version() {
    let events = [planned(), held(), closed()];
    let as_of_2 = fold(&events[..2]);
    assert_eq!(as_of_2.version, 2);
    assert_eq!(
        as_of_2.consultation.map(|c| c.status),
        Some(ConsultationStatus::Held)
    );
}

fn one_of_each_event() -> Vec<Event> {
    let mut full_details = details();
    full_details.description = Some(Text::en("d"));
    full_details.schedule.end = Some(PartialDate::ymd(2024, 11, 29));
    full_details.schedule.start_time = NaiveTime::from_hms_opt(10, 0, 0);
    full_details.schedule.end_time = NaiveTime::from_hms_opt(13, 30, 0);
    full_details.occasion = Some(Occasion {
        name: Text::ar("اليوم الوطني للصناعة"),
        period: Some(Period {
            start: PartialDate::ymd(2025, 11, 3),
            end: Some(PartialDate::ymd(2025, 11, 4)),
        }),
        consultation_id: Some(OTHER),
    });
    full_details.patronage = Some(Text::ar(
        "تحت الرعاية السامية لصاحب الجلالة الملك محمد السادس",
    ));
    vec![
        Event::ConsultationPlanned {
            consultation_id: C,
            details: full_details.clone(),
            organisers: vec![ORG_TRADE, ORG_COUNCIL],
            sources: vec![source()],
            context_notes: vec![Text::en("n")],
        },
        Event::ConsultationDetailsRevised {
            details: full_details,
            reason: "r".into(),
        },
        held(),
        closed(),
        cancelled(),
        Event::OrganiserAdded {
            organisation_id: ORG_WILAYA,
        },
        Event::SourceAdded { source: source() },
        Event::ContextNoteAdded {
            note: Text::fr("note"),
        },
        registered(council_president()),
        Event::ParticipantRoleChanged {
            participant_id: P_CHAIR,
            from: ParticipantRole::Attendee,
            to: ParticipantRole::CoOrganiser,
        },
        Event::AttendanceRecorded {
            participant_id: P_CHAIR,
            from: Attendance::Invited,
            to: Attendance::Attended,
        },
        Event::ParticipantContactChanged {
            participant_id: P_CHAIR,
            person_id: Some(PERSON_HEJIRA),
            contact: Some(Contact {
                email: Some("chair@example.ma".into()),
                phone: None,
                erased: false,
            }),
        },
        proposed(R1),
        Event::RecommendationStatusChanged {
            recommendation_id: R1,
            from: RecommendationStatus::Proposed,
            to: RecommendationStatus::Merged { into: R2 },
            reason: "r".into(),
        },
        Event::RecommendationTextRevised {
            recommendation_id: R1,
            text: Text::en("t"),
            reason: "r".into(),
        },
        Event::AgreementRecorded {
            agreement: Agreement {
                status: AgreementStatus::Previous,
                signed_on: Some(PartialDate::month(2013, 2)),
                ..agreement()
            },
        },
        Event::AgreementSignatoryAdded {
            agreement_id: A1,
            party: Party {
                organisation_id: Some(ORG_CGEM),
                participant_id: Some(P_CHAIR),
                signatory_person_id: Some(PERSON_HEJIRA),
                signatory_capacity: Some(Text::en("President")),
                commitments: vec![Text::en("c")],
                inferred: None,
            },
        },
        Event::AgreementBudgetRevised {
            agreement_id: A1,
            from: None,
            to: Money::mad(Decimal::new(25_000, 2)),
            reason: "r".into(),
        },
        Event::AgreementScopeChanged {
            agreement_id: A1,
            from: Some(AgreementScope::national()),
            to: AgreementScope::regional(RegionCode::new("MA-03")),
            reason: "r".into(),
        },
        Event::KeyFigureRecorded {
            key_figure: KeyFigure {
                period: Some(Period::years(2014, 2020)),
                source: Some(source()),
                ..key_figure()
            },
        },
        Event::PointRaised {
            point: Point {
                kind: PointKind::Plan,
                speakers: vec![P_COUNCIL, P_CHAIR],
                ..point()
            },
        },
    ]
}

#[test]
fn every_event_round_trips() {
    let events = one_of_each_event();
    let mut types: Vec<&str> = events.iter().map(Event::event_type).collect();
    types.sort_unstable();
    let mut listed = Event::EVENT_TYPES.to_vec();
    listed.sort_unstable();
    assert_eq!(types, listed);
    for event in &events {
        assert_round_trip(event);
    }
}

#[test]
fn decimals_are_strings_in_payloads() {
    let payload = recorded().to_payload();
    assert_eq!(payload["agreement"]["budget"]["amount"], "900000000");
    let revised = Event::AgreementBudgetRevised {
        agreement_id: A1,
        from: None,
        to: Money::mad(Decimal::new(25_000, 2)),
        reason: "r".into(),
    };
    assert_eq!(revised.to_payload()["to"]["amount"], "250.00");
    let figure = Event::KeyFigureRecorded {
        key_figure: key_figure(),
    };
    assert_eq!(figure.to_payload()["key_figure"]["value"], "2600000000");
}

#[test]
fn unknown_event_type_and_wrong_payload_are_rejected() {
    assert_eq!(
        Event::from_payload("OrganisationRegistered", &serde_json::json!({})),
        Err(DomainError::UnknownEventType {
            stream_type: "consultation".into(),
            event_type: "OrganisationRegistered".into()
        })
    );
    assert_eq!(
        Event::from_payload("PointRaised", &serde_json::json!({"point": 1})).map_err(|e| e.code()),
        Err("INVALID_PAYLOAD")
    );
}

#[test]
fn commands_deserialise_with_flattened_fields() {
    let json = serde_json::json!({
        "type": "plan_consultation",
        "consultation_id": C,
        "kind": "regional_consultation",
        "title": {"ar": "لقاء تشاوري جهوي"},
        "schedule": {"start": {"year": 2024, "month": 11, "day": 28},
                     "start_time": "10:00:00",
                     "as_stated": {"ar": "يوم الثلاثاء 28 نونبر الجاري"}},
        "region": "MA-03",
        "organisers": [ORG_TRADE],
    });
    let command: Command = serde_json::from_value(json).unwrap();
    assert_eq!(command.stream_id(), C);
    assert!(when(&[], command.clone()).is_ok());
    let text = serde_json::to_string(&command).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);

    let json = serde_json::json!({
        "type": "record_key_figure",
        "consultation_id": C,
        "key_figure_id": K1,
        "indicator": {"en": "industrial exports"},
        "value": "2600000000",
        "unit": "MAD",
        "as_of": {"year": 2024},
        "region": "MA-03",
    });
    let command: Command = serde_json::from_value(json).unwrap();
    assert!(matches!(&command, Command::RecordKeyFigure(c)
        if c.key_figure.value == Decimal::new(2_600_000_000, 0)));
    let text = serde_json::to_string(&command).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);

    let json = serde_json::json!({
        "type": "record_agreement",
        "consultation_id": C,
        "agreement_id": A1,
        "title": {"ar": "اتفاقية إطار"},
        "kind": "framework_agreement",
        "parties": [{"organisation_id": ORG_TRADE}],
        "budget": {"amount": "250000000", "currency": "MAD"},
        "period": {"start": {"year": 2022}, "end": {"year": 2025}},
    });
    let command: Command = serde_json::from_value(json).unwrap();
    // An agreement is signed unless said otherwise.
    assert!(matches!(&command, Command::RecordAgreement(c)
        if c.agreement.status == AgreementStatus::Signed));
    let text = serde_json::to_string(&command).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);

    let json = serde_json::json!({
        "type": "change_recommendation_status",
        "consultation_id": C,
        "recommendation_id": R1,
        "to": {"status": "merged", "into": R2},
        "reason": "same idea",
    });
    let command: Command = serde_json::from_value(json).unwrap();
    assert!(matches!(&command, Command::ChangeRecommendationStatus(c)
        if c.to == RecommendationStatus::Merged { into: R2 }));
}
