//! Acceptance tests: the facts of the five seed press articles
//! (`shared/seed-documents/*.txt`) expressed as commands, decided, stored
//! through the payload codec and folded back, to show that each fact fits the
//! model. Ids are UUID v5 of readable names, as seed files may derive them.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::action::{self, ConsultationFacts};
use super::codec::DomainEvent;
use super::common::{Inference, Money, PartialDate, Period, Place, Source, Text, Weekday};
use super::consultation::{self as c, ConsultationDetails, ConsultationKind, Schedule};
use super::organisation::{self as o, OrganisationKind as K};
use super::person::{self as p, PersonName};
use super::region::RegionCode;

fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("shura:{name}").as_bytes())
}

fn ar(s: &str) -> Text {
    Text::ar(s)
}

fn ar_en(a: &str, e: &str) -> Text {
    Text::ar(a).with_en(e)
}

/// Decides a command, stores its events as the event store would
/// (type + JSON text payload) and folds them back.
fn run<E, S, C>(
    states: &mut HashMap<Uuid, S>,
    stream: Uuid,
    command: C,
    decide: fn(&S, C) -> Result<Vec<E>, super::error::DomainError>,
    apply: fn(S, &E) -> S,
) -> Vec<E>
where
    E: DomainEvent + PartialEq + std::fmt::Debug,
    S: Default,
    C: std::fmt::Debug + Clone,
{
    let state = states.entry(stream).or_default();
    let events = match decide(state, command.clone()) {
        Ok(events) => events,
        Err(error) => panic!("{command:?} rejected: {error}"),
    };
    for event in &events {
        let stored = event.to_payload().to_string();
        let payload = serde_json::from_str(&stored).expect("stored payload is JSON");
        let loaded = E::from_payload(event.event_type(), &payload).expect("payload decodes");
        assert_eq!(&loaded, event);
        let current = std::mem::take(state);
        *state = apply(current, &loaded);
    }
    events
}

#[derive(Default)]
struct World {
    organisations: HashMap<Uuid, o::State>,
    people: HashMap<Uuid, p::State>,
    consultations: HashMap<Uuid, c::State>,
    actions: HashMap<Uuid, action::State>,
}

impl World {
    fn org(&mut self, key: &str, name: Text, acronym: Option<&str>, kind: K, parent: Option<&str>) {
        self.org_in(key, name, acronym, kind, parent, None);
    }

    fn org_in(
        &mut self,
        key: &str,
        name: Text,
        acronym: Option<&str>,
        kind: K,
        parent: Option<&str>,
        region: Option<&str>,
    ) {
        let command = o::Command::RegisterOrganisation(o::RegisterOrganisation {
            organisation_id: id(key),
            name,
            acronym: acronym.map(String::from),
            kind,
            parent_id: parent.map(id),
            region: region.map(RegionCode::new),
            name_inferred: None,
            acronym_inferred: None,
        });
        run(
            &mut self.organisations,
            id(key),
            command,
            o::decide,
            o::apply,
        );
    }

    fn person(&mut self, key: &str, arabic: &str, latin: &str, posts: &[(&str, &str, Text)]) {
        let register = p::Command::RegisterPerson(p::RegisterPerson {
            person_id: id(key),
            name: PersonName {
                arabic: Some(arabic.into()),
                latin: Some(latin.into()),
                inferred: None,
            },
            honorific: None,
        });
        run(&mut self.people, id(key), register, p::decide, p::apply);
        for (post, organisation, title) in posts {
            let start = p::Command::StartPost(p::StartPost {
                person_id: id(key),
                post_id: id(post),
                organisation_id: id(organisation),
                title: title.clone(),
                start: None,
                attested_on: None,
                inferred: None,
            });
            run(&mut self.people, id(key), start, p::decide, p::apply);
        }
    }

    fn consult(&mut self, key: &str, command: c::Command) {
        run(
            &mut self.consultations,
            id(key),
            command,
            c::decide,
            c::apply,
        );
    }

    fn plan(
        &mut self,
        key: &str,
        details: ConsultationDetails,
        organisers: &[&str],
        source: Source,
        notes: Vec<Text>,
    ) {
        let command = c::Command::PlanConsultation(c::PlanConsultation {
            consultation_id: id(key),
            details,
            organisers: organisers.iter().map(|k| id(k)).collect(),
            sources: vec![source],
            context_notes: notes,
        });
        self.consult(key, command);
    }

    fn held(&mut self, key: &str) {
        let command = c::Command::MarkConsultationHeld(c::MarkConsultationHeld {
            consultation_id: id(key),
        });
        self.consult(key, command);
    }

    fn close(&mut self, key: &str) {
        let command = c::Command::CloseConsultation(c::CloseConsultation {
            consultation_id: id(key),
        });
        self.consult(key, command);
    }

    #[allow(clippy::too_many_arguments)]
    fn participant(
        &mut self,
        key: &str,
        participant: &str,
        person: Option<&str>,
        organisation: Option<&str>,
        capacity: Option<Text>,
        role: c::ParticipantRole,
    ) {
        let command = c::Command::RegisterParticipant(c::RegisterParticipant {
            consultation_id: id(key),
            participant_id: id(participant),
            person_id: person.map(id),
            organisation_id: organisation.map(id),
            capacity,
            role,
            attendance: c::Attendance::Attended,
            contact: None,
            inferred: None,
        });
        self.consult(key, command);
    }

    fn recommend(
        &mut self,
        key: &str,
        rec: &str,
        text: Text,
        themes: &[&str],
        proposer: Option<&str>,
    ) {
        let command = c::Command::ProposeRecommendation(c::ProposeRecommendation {
            consultation_id: id(key),
            recommendation_id: id(rec),
            text,
            themes: themes.iter().map(|t| t.to_string()).collect(),
            proposer: proposer.map(id),
        });
        self.consult(key, command);
    }

    fn point(&mut self, key: &str, point: &str, kind: c::PointKind, speakers: &[&str], text: Text) {
        let command = c::Command::RaisePoint(c::RaisePoint {
            consultation_id: id(key),
            point: c::Point {
                point_id: id(point),
                text,
                kind,
                speakers: speakers.iter().map(|k| id(k)).collect(),
                themes: vec![],
            },
        });
        self.consult(key, command);
    }

    fn agreement(&mut self, key: &str, agreement: c::Agreement) {
        let command = c::Command::RecordAgreement(c::RecordAgreement {
            consultation_id: id(key),
            agreement,
        });
        self.consult(key, command);
    }

    fn figure(&mut self, key: &str, key_figure: c::KeyFigure) {
        let command = c::Command::RecordKeyFigure(c::RecordKeyFigure {
            consultation_id: id(key),
            key_figure,
        });
        self.consult(key, command);
    }

    fn consultation(&self, key: &str) -> &c::Consultation {
        self.consultations
            .get(&id(key))
            .and_then(|s| s.consultation.as_ref())
            .expect("consultation exists")
    }

    fn act(&mut self, mut create: action::CreateAction) {
        let state = self
            .consultations
            .get(&create.consultation_id)
            .cloned()
            .unwrap_or_default();
        create.consultation = ConsultationFacts::from_state(&state);
        let stream = create.action_id;
        let command = action::Command::CreateAction(create);
        run(
            &mut self.actions,
            stream,
            command,
            action::decide,
            action::apply,
        );
    }
}

fn parties(keys: &[&str]) -> Vec<c::Party> {
    keys.iter().map(|k| c::Party::organisation(id(k))).collect()
}

fn document(name: &str) -> Source {
    Source {
        publisher: None,
        author: None,
        url: None,
        title: None,
        published_on: None,
        document: Some(name.into()),
    }
}

#[test]
fn article_000_unido_partnership_fits() {
    let mut w = World::default();
    w.org(
        "mic2017",
        ar_en(
            "وزارة الصناعة والاستثمار والتجارة والاقتصاد الرقمي",
            "Ministry of Industry, Investment, Trade and Digital Economy",
        ),
        None,
        K::Ministry,
        None,
    );
    w.org(
        "unido",
        ar_en(
            "منظمة الأمم المتحدة للتنمية الصناعية",
            "United Nations Industrial Development Organization",
        ),
        Some("UNIDO"),
        K::InternationalOrganisation,
        None,
    );
    w.person(
        "elalamy",
        "مولاي حفيظ العلمي",
        "Moulay Hafid Elalamy",
        &[(
            "elalamy-minister",
            "mic2017",
            ar("وزير الصناعة والاستثمار والتجارة والاقتصاد الرقمي"),
        )],
    );
    w.person(
        "li-yong",
        "لي يونغ",
        "LI Yong",
        &[(
            "li-dg",
            "unido",
            ar("المدير العام لمنظمة الأمم المتحدة للتنمية الصناعية"),
        )],
    );
    let k = "c000";
    let details = ConsultationDetails {
        kind: ConsultationKind::BilateralMeeting,
        title: ar("المغرب ومنظمة الأمم المتحدة للتنمية الصناعية: إطار جديد مبتكر للشراكة"),
        description: None,
        schedule: Schedule {
            as_stated: Some(ar("يوم الثلاثاء 3 أكتوبر")),
            ..Schedule::starting(PartialDate::ymd(2017, 10, 3).with_weekday(Weekday::Tuesday))
        },
        place: Some(Place {
            name: ar("مقر الوزارة"),
            city: Some(ar_en("الرباط", "Rabat")),
            region: Some(RegionCode::new("MA-04")),
            inferred: None,
        }),
        region: None,
        purpose: None,
        occasion: Some(c::Occasion {
            name: ar("زيارة عمل المدير العام لمنظمة الأمم المتحدة للتنمية الصناعية بالمغرب"),
            period: Some(Period {
                start: PartialDate::ymd(2017, 10, 2),
                end: Some(PartialDate::ymd(2017, 10, 5)),
            }),
            consultation_id: None,
        }),
        patronage: None,
        region_inferred: None,
    };
    let notes = vec![
        ar("افتتاح مكتب للمنظمة بالرباط، خلال شهر فبراير 2004"),
        ar("تطابق مقاربة المنظمة مع مخطط تسريع التنمية الصناعية 2014-2020 ومنظوماته الصناعية"),
        ar("التقى السيد لي أيضا بمسؤولين عن القطاعين العام والخاص خلال الزيارة"),
    ];
    w.plan(
        k,
        details,
        &["mic2017"],
        document("000_651331b68265513b.txt"),
        notes,
    );
    w.held(k);
    use c::ParticipantRole as R;
    w.participant(
        k,
        "c000-elalamy",
        Some("elalamy"),
        Some("mic2017"),
        None,
        R::Host,
    );
    w.participant(k, "c000-li", Some("li-yong"), Some("unido"), None, R::Guest);
    use c::PointKind as P;
    let points = [
        ("elalamy", P::Commitment, "إحداث إطار جديد للشراكة مع المنظمة لدعم تفعيل مخطط تسريع التنمية الصناعية"),
        ("elalamy", P::Commitment, "التثمين الصناعي للنفايات"),
        ("elalamy", P::Commitment, "دعم المنظومة الصناعية الخاصة بالكيمياء الخضراء"),
        ("elalamy", P::Commitment, "تطوير منظومة صناعية للابتكار تدعم تنمية المدن الذكية"),
        ("elalamy", P::Commitment, "إحداث مراصد قطاعية"),
        ("elalamy", P::Commitment, "تعزيز بنيات تحتية في مجال التجارة الإليكترونية"),
        ("elalamy", P::Statement, "مشاريع ذات نطاق مزدوج محلي وإفريقي؛ تعاون ثلاثي بين المغرب والمنظمة والبلدان الإفريقية"),
        ("li", P::Statement, "إشادة بهيكلة تخصصات صناعية في شكل منظومات صناعية"),
        ("li", P::Commitment, "تعهد المنظمة بمتابعة مواكبة الجهود المحلية لزيادة إسهام القطاع الصناعي في إحداث فرص الشغل"),
    ];
    for (i, (speaker, kind, text)) in points.iter().enumerate() {
        let speaker = format!("c000-{speaker}");
        w.point(k, &format!("c000-pt{i}"), *kind, &[&speaker], ar(text));
    }
    w.point(
        k,
        "c000-joint",
        P::Assessment,
        &["c000-elalamy", "c000-li"],
        ar("أعرب المسؤولان عن ارتياحهما لجودة علاقات التعاون بين المغرب ومنظمة الأمم المتحدة للتنمية الصناعية"),
    );
    // Nothing was signed: the partnership framework is recorded as envisaged.
    w.agreement(
        k,
        c::Agreement {
            agreement_id: id("c000-framework"),
            title: ar("إطار جديد للشراكة"),
            kind: c::AgreementKind::PartnershipAgreement,
            status: c::AgreementStatus::Envisaged,
            parties: parties(&["mic2017", "unido"]),
            budget: None,
            period: None,
            programme: Some(ar("مخطط تسريع التنمية الصناعية 2014-2020")),
            objectives: vec![ar("التثمين الصناعي للنفايات"), ar("إحداث مراصد قطاعية")],
            notes: vec![Text::en(
                "Parties inferred: the article names no signatories.",
            )],
            signed_on: None,
            scope: None,
        },
    );
    w.close(k);
    w.act(action::CreateAction {
        action_id: id("a000"),
        consultation_id: id(k),
        recommendation_ids: vec![],
        agreement_id: None,
        title: ar("إحداث إطار جديد للشراكة مع منظمة الأمم المتحدة للتنمية الصناعية"),
        description: None,
        owner_organisation_id: id("mic2017"),
        due: None,
        budget: None,
        consultation: None,
    });
    let consultation = w.consultation(k);
    assert_eq!(consultation.points.len(), 10);
    assert_eq!(
        consultation.agreements[0].status,
        c::AgreementStatus::Envisaged
    );
    assert_eq!(consultation.status, c::ConsultationStatus::Closed);
}

#[test]
fn article_001_fes_meknes_export_consultation_fits() {
    let mut w = World::default();
    let fes = Some("MA-03");
    w.org(
        "mic",
        ar_en("وزارة الصناعة والتجارة", "Ministry of Industry and Trade"),
        None,
        K::Ministry,
        None,
    );
    w.org(
        "sos-trade",
        ar("كتابة الدولة لدى وزارة الصناعة والتجارة المكلفة بالتجارة الخارجية"),
        None,
        K::SecretariatOfState,
        Some("mic"),
    );
    w.org_in(
        "wilaya-fm",
        ar("ولاية جهة فاس-مكناس"),
        None,
        K::Wilaya,
        None,
        fes,
    );
    w.org_in(
        "prefecture-fes",
        ar("عمالة فاس"),
        None,
        K::Prefecture,
        None,
        fes,
    );
    w.org_in(
        "council-fm",
        ar("مجلس جهة فاس-مكناس"),
        None,
        K::RegionalCouncil,
        None,
        fes,
    );
    w.org_in(
        "ccis-fm",
        ar("غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس"),
        None,
        K::Chamber,
        None,
        fes,
    );
    w.person(
        "hejira",
        "عمر حجيرة",
        "Omar Hejira",
        &[(
            "hejira-sos",
            "sos-trade",
            ar("كاتب الدولة لدى وزير الصناعة والتجارة المكلف بالتجارة الخارجية"),
        )],
    );
    w.person(
        "jamai",
        "معاذ الجامعي",
        "Mouad Jamai",
        &[
            ("jamai-wali", "wilaya-fm", ar("والي جهة فاس-مكناس")),
            ("jamai-governor", "prefecture-fes", ar("عامل عمالة فاس")),
        ],
    );
    let k = "c001";
    let details = ConsultationDetails {
        kind: ConsultationKind::RegionalConsultation,
        title: ar("فاس : لقاء تشاوري جهوي لتعزيز مكانة جهة فاس – مكناس في مجال الصناعات التصديرية"),
        description: None,
        schedule: Schedule {
            // The article says "Tuesday 28 November" but 28/11/2024 was a
            // Thursday: the structured date keeps the non-contradictory part.
            as_stated: Some(ar("يوم الثلاثاء 28 نونبر الجاري")),
            inferred: true,
            ..Schedule::starting(PartialDate::ymd(2024, 11, 28))
        },
        place: Some(Place {
            name: ar("القاعة الكبرى لعمالة فاس"),
            city: Some(ar("فاس")),
            region: Some(RegionCode::new("MA-03")),
            inferred: None,
        }),
        region: Some(RegionCode::new("MA-03")),
        purpose: Some(ar("الإعداد لبرنامج عمل التجارة الخارجية لسنة 2025")),
        occasion: None,
        patronage: None,
        region_inferred: None,
    };
    let source = Source {
        publisher: Some(ar("حدث كم")),
        author: Some(ar("ع شركيف")),
        url: None,
        title: Some(ar(
            "فاس : لقاء تشاوري جهوي لتعزيز مكانة جهة فاس - مكناس في مجال الصناعات التصديرية",
        )),
        published_on: Some(PartialDate::ymd(2024, 11, 29)),
        document: Some("001_bb1eded32c76a2d6.txt".into()),
    };
    let notes = vec![
        Text::en("The article gives Tuesday 28 November; 28/11/2024 was a Thursday."),
        ar("حضور فاعلين اقتصاديين والعاملين في مجال التجارة الخارجية وإنعاش الصادرات وشخصيات من مختلف الهيئات الاقتصادية"),
    ];
    w.plan(k, details, &["sos-trade"], source, notes);
    w.held(k);
    use c::ParticipantRole as R;
    w.participant(
        k,
        "c001-chair",
        Some("hejira"),
        Some("sos-trade"),
        None,
        R::Chair,
    );
    w.participant(
        k,
        "c001-wali",
        Some("jamai"),
        Some("wilaya-fm"),
        Some(ar("والي جهة فاس-مكناس عامل عمالة فاس")),
        R::Attendee,
    );
    w.participant(
        k,
        "c001-council",
        None,
        Some("council-fm"),
        Some(ar("رئيس مجلس جهة فاس-مكناس")),
        R::Attendee,
    );
    w.participant(
        k,
        "c001-ccis",
        None,
        Some("ccis-fm"),
        Some(ar("رئيس غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس")),
        R::Attendee,
    );
    w.figure(
        k,
        c::KeyFigure {
            key_figure_id: id("c001-exports"),
            indicator: ar_en(
                "القيمة الإجمالية للصادرات الصناعية بالجهة",
                "Regional industrial exports",
            ),
            value: Decimal::new(2_600_000_000, 0),
            unit: "MAD".into(),
            period: None,
            as_of: None,
            region: Some(RegionCode::new("MA-03")),
            source: None,
            stated: Some(ar("2,6 مليار درهم")),
            notes: vec![
                ar("مع هيمنة واضحة للصناعات التقليدية"),
                ar("تبقى مساهمة الجهة في الصادرات الوطنية محدودة"),
            ],
        },
    );
    let recommendations = [
        (
            "تسريع تنمية الصادرات المغربية والترويج للمنتجات الوطنية على الصعيد الدولي",
            "export-promotion",
        ),
        ("تحسين الإطار التنظيمي والتشريعي لدعم الصادرات", "regulation"),
        (
            "تقوية الدبلوماسية التجارية بهدف توسيع العلاقات الاقتصادية الدولية",
            "commercial-diplomacy",
        ),
        (
            "تحديد الأسواق الواعدة ودراسة احتياجاتها",
            "market-intelligence",
        ),
        (
            "تشجيع الشركات على الحصول على شهادات المصادقة المطلوبة لدخول تلك الأسواق",
            "certification",
        ),
    ];
    let mut rec_ids = Vec::new();
    for (i, (text, theme)) in recommendations.iter().enumerate() {
        let key = format!("c001-r{i}");
        w.recommend(k, &key, ar(text), &["export", theme], None);
        rec_ids.push(id(&key));
    }
    w.point(
        k,
        "c001-pt0",
        c::PointKind::Statement,
        &["c001-chair"],
        ar("جهة فاس- مكناس تعد منطقة صناعية مصدرة بامتياز ولها إمكانات مهمة للتصدير لم تستغل"),
    );
    w.point(
        k,
        "c001-pt1",
        c::PointKind::Assessment,
        &[],
        ar("أشاد المشاركون بأهمية هذا اللقاء لتعزيز الحوار بين مختلف الفاعلين الاقتصاديين"),
    );
    w.point(
        k,
        "c001-pt2",
        c::PointKind::FollowUp,
        &[],
        ar("تحويل هذه التوصيات إلى واقع ملموس عبر مشاريع وبرامج عملية"),
    );
    w.close(k);
    w.act(action::CreateAction {
        action_id: id("a001"),
        consultation_id: id(k),
        recommendation_ids: rec_ids,
        agreement_id: None,
        title: ar("تحويل التوصيات إلى واقع ملموس عبر مشاريع وبرامج عملية"),
        description: None,
        owner_organisation_id: id("sos-trade"),
        due: Some(PartialDate::year(2025)),
        budget: None,
        consultation: None,
    });
    let consultation = w.consultation(k);
    assert_eq!(consultation.chairs().count(), 1);
    assert_eq!(consultation.recommendations.len(), 5);
    assert_eq!(consultation.participants.len(), 4);
}

#[test]
fn article_002_national_industry_day_agreements_fit() {
    let mut w = World::default();
    let orgs: [(&str, &str, Option<&str>, K); 16] = [
        ("mic", "وزارة الصناعة والتجارة", None, K::Ministry),
        ("md-invest", "الوزارة المنتدبة لدى رئيس الحكومة المكلفة بالاستثمار والتقائية وتقييم السياسات العمومية", None, K::MinistryDelegate),
        ("cgem", "الاتحاد العام لمقاولات المغرب", Some("CGEM"), K::Confederation),
        ("imanor", "المعهد المغربي للتقييس", Some("IMANOR"), K::StandardsBody),
        ("m-youth", "وزارة الشباب والثقافة والتواصل", None, K::Ministry),
        ("md-budget", "الوزارة المنتدبة المكلفة بالميزانية", None, K::MinistryDelegate),
        ("maroc-pme", "الوكالة الوطنية للنهوض بالمقاولة الصغرى والمتوسطة", Some("Maroc PME"), K::Agency),
        ("mta", "قطب التنافسية والابتكار (MTA)", Some("MTA"), K::CompetitivenessCluster),
        ("m-health", "وزارة الصحة والحماية الاجتماعية", None, K::Ministry),
        ("ammps", "الوكالة المغربية للأدوية والمنتجات الصحية", None, K::Agency),
        ("fmiip", "الفدرالية المغربية لصناعة الأدوية والابتكار الصناعي", None, K::Federation),
        ("fcp", "فدرالية الكيمياء وشبه الكيمياء", None, K::Federation),
        ("um6p", "جامعة محمد السادس متعددة التخصصات التقنية", None, K::University),
        ("innovx", "شركة INNOVX", Some("INNOVX"), K::Company),
        ("oncf", "المكتب الوطني للسكك الحديدية", Some("ONCF"), K::PublicOffice),
        ("mti", "قطب التنافسية والابتكار (MTI)", Some("MTI"), K::CompetitivenessCluster),
    ];
    for (key, name, acronym, kind) in orgs {
        w.org(key, ar(name), acronym, kind, None);
    }
    let k = "c002";
    let details = ConsultationDetails {
        kind: ConsultationKind::SigningCeremony,
        title: ar("توقيع اتفاقيات استراتيجية جديدة لتعزيز السيادة الصناعية ودعم الابتكار بالمغرب"),
        description: None,
        // Signed "yesterday", during 3-4 November: the Day's two days, the year inferred.
        schedule: Schedule {
            end: Some(PartialDate::ymd(2025, 11, 4)),
            as_stated: Some(ar("تم أمس توقيع ... يومي 3 و4 نونبر الجاري")),
            inferred: true,
            ..Schedule::starting(PartialDate::ymd(2025, 11, 3))
        },
        place: Some(Place {
            name: ar("العاصمة الرباط"),
            city: Some(ar("الرباط")),
            region: Some(RegionCode::new("MA-04")),
            inferred: Some(Inference::new("The region is inferred from the city.")),
        }),
        region: None,
        purpose: Some(ar(
            "تعزيز السيادة الصناعية للمملكة، وتطوير نسيج صناعي مبتكر، تنافسي ومستدام",
        )),
        occasion: Some(c::Occasion {
            name: ar("الدورة الثالثة لليوم الوطني للصناعة"),
            period: Some(Period {
                start: PartialDate::ymd(2025, 11, 3),
                end: Some(PartialDate::ymd(2025, 11, 4)),
            }),
            consultation_id: None,
        }),
        patronage: Some(ar(
            "تحت الرعاية السامية لصاحب الجلالة الملك محمد السادس نصره الله",
        )),
        region_inferred: None,
    };
    let source = Source {
        author: Some(ar("احمد البوحساني")),
        ..document("002_2c425e432245c15a.txt")
    };
    let notes = vec![Text::en(
        "Year 2025 inferred: the article says 'this November' and the extension runs 2026-2028.",
    )];
    w.plan(k, details, &["mic"], source, notes);
    w.held(k);
    let base = |key: &str, title: &str, kind: c::AgreementKind, keys: &[&str]| c::Agreement {
        agreement_id: id(key),
        title: ar(title),
        kind,
        status: c::AgreementStatus::Signed,
        parties: parties(keys),
        budget: None,
        period: None,
        programme: None,
        objectives: vec![],
        notes: vec![],
        signed_on: None,
        scope: None,
    };
    use c::AgreementKind as A;
    w.agreement(
        k,
        c::Agreement {
            objectives: vec![
                ar("الترويج لعلامة صنع في المغرب"),
                ar("تعزيز ثقة المستهلك المغربي في المنتوج الوطني"),
            ],
            ..base(
                "c002-a1",
                "اتفاقية إطار للشراكة",
                A::FrameworkAgreement,
                &["mic", "md-invest", "cgem", "imanor"],
            )
        },
    );
    w.agreement(
        k,
        c::Agreement {
            budget: Some(Money::mad(Decimal::new(900_000_000, 0))),
            period: Some(Period::years(2026, 2028)),
            programme: Some(ar("برنامج دعم الابتكار الصناعي")),
            objectives: vec![
                ar("تمديد برنامج دعم الابتكار الصناعي لثلاث سنوات إضافية"),
                ar("إدماج المقاولات الناشئة والشركات العاملة في صناعة الألعاب الإلكترونية ضمن المستفيدين من صندوق دعم الابتكار"),
            ],
            notes: vec![Text::en("900 million MAD is additional funding")],
            ..base(
                "c002-a2",
                "ملحق اتفاقية لدعم الابتكار الصناعي",
                A::Amendment,
                &["mic", "m-youth", "md-budget", "maroc-pme", "cgem"],
            )
        },
    );
    w.agreement(
        k,
        c::Agreement {
            parties: vec![c::Party {
                commitments: vec![ar(
                    "المشاريع التعاونية الهادفة إلى تطوير قطاع مغربي لتصنيع الآلات والأدوات الصناعية",
                )],
                ..c::Party::organisation(id("mta"))
            }],
            notes: vec![ar(
                "الدعم المالي المقدم من الدولة في إطار صندوق دعم أقطاب التنافسية والابتكار",
            )],
            ..base(
                "c002-a3",
                "برنامج تعاقدي استراتيجي مع قطب التنافسية والابتكار (MTA)",
                A::ContractProgramme,
                &[],
            )
        },
    );
    w.agreement(
        k,
        c::Agreement {
            objectives: vec![
                ar("تعزيز قدرة المملكة على إنتاج الأدوية والمواد الصيدلية محليًا"),
                ar("تقليص التبعية الخارجية في هذا المجال الحيوي"),
            ],
            ..base(
                "c002-a4",
                "اتفاقية إطار لتطوير التصنيع المحلي للمدخلات الصيدلية",
                A::FrameworkAgreement,
                &[
                    "m-health", "mic", "cgem", "ammps", "fmiip", "fcp", "um6p", "innovx",
                ],
            )
        },
    );
    w.agreement(
        k,
        c::Agreement {
            objectives: vec![ar("منصة تقنية للتجارب والتطوير في الصناعة السككية، في أفق تمكين المغرب من موقع ريادي إفريقيا")],
            ..base(
                "c002-a5",
                "اتفاقية إطار لإحداث منصة تقنية للتجارب والتطوير في الصناعة السككية",
                A::FrameworkAgreement,
                &["mic", "oncf", "mti"],
            )
        },
    );
    w.close(k);
    let consultation = w.consultation(k);
    assert_eq!(consultation.agreements.len(), 5);
    assert_eq!(consultation.agreements[3].parties.len(), 8);
    assert_eq!(
        consultation.agreements[1].budget.as_ref().map(|b| b.amount),
        Some(Decimal::new(900_000_000, 0))
    );
}

#[test]
fn article_003_sse_hub_workshop_fits() {
    let mut w = World::default();
    let fes = Some("MA-03");
    w.org(
        "sos-sse",
        ar("كتابة الدولة المكلفة بالصناعة التقليدية والاقتصاد الاجتماعي والتضامني"),
        None,
        K::SecretariatOfState,
        None,
    );
    w.org(
        "dpes",
        ar("مديرية إنعاش الاقتصاد الاجتماعي"),
        None,
        K::Directorate,
        Some("sos-sse"),
    );
    w.org_in(
        "drh-fm",
        ar("المديرية الجهوية للصناعة التقليدية والاقتصاد الاجتماعي والتضامني بجهة فاس – مكناس"),
        None,
        K::RegionalDirectorate,
        Some("sos-sse"),
        fes,
    );
    w.org_in(
        "council-fm",
        ar("مجلس جهة فاس – مكناس"),
        None,
        K::RegionalCouncil,
        None,
        fes,
    );
    w.org_in(
        "wilaya-fm",
        ar("ولاية جهة فاس – مكناس"),
        None,
        K::Wilaya,
        None,
        fes,
    );
    w.org(
        "fm5",
        ar("مؤسسة محمد الخامس للتضامن"),
        None,
        K::Foundation,
        None,
    );
    w.person(
        "gnidi",
        "توفيق القنيدي",
        "Taoufik El Gnidi",
        &[("gnidi-head", "dpes", ar("رئيس قسم المراقبة والتقنين"))],
    );
    w.person(
        "belkhayat",
        "عبد الرحيم بلخياط",
        "Abderrahim Belkhayat",
        &[(
            "belkhayat-dir",
            "drh-fm",
            ar("المدير الجهوي للصناعة التقليدية بفاس"),
        )],
    );
    w.person(
        "hajoubi",
        "خديجة حجوبي",
        "Khadija Hajoubi",
        &[(
            "hajoubi-vp",
            "council-fm",
            ar("نائبة رئيس مجلس جهة فاس – مكناس"),
        )],
    );
    w.person(
        "rabouli",
        "توفيق رابولي",
        "Taoufik Rabouli",
        &[("rabouli-rep", "fm5", ar("ممثل مؤسسة محمد الخامس للتضامن"))],
    );
    let ennada = PersonName {
        arabic: Some("خالد الندا".into()),
        latin: Some("Khalid Ennada".into()),
        inferred: None,
    };
    let register = p::Command::RegisterPerson(p::RegisterPerson {
        person_id: id("ennada"),
        name: ennada,
        honorific: None,
    });
    run(&mut w.people, id("ennada"), register, p::decide, p::apply);
    let k = "c003";
    let details = ConsultationDetails {
        kind: ConsultationKind::Workshop,
        title: ar("فاس.. مشروع القطب النموذجي للاقتصاد الاجتماعي والتضامني بجهة فاس – مكناس آلية لتعزيز التنمية المستدامة ودعم النسيج الاقتصادي والاجتماعي بالجهة"),
        description: Some(ar("ورشة تشاورية جهوية حول مشروع إنشاء قطب نموذجي للاقتصاد الاجتماعي والتضامني")),
        schedule: Schedule {
            as_stated: Some(ar("اليوم الثلاثاء")),
            ..Schedule::starting(PartialDate::weekday_only(Weekday::Tuesday))
        },
        place: Some(Place {
            name: ar("العاصمة العلمية"),
            city: Some(ar("فاس")),
            region: Some(RegionCode::new("MA-03")),
            inferred: None,
        }),
        region: Some(RegionCode::new("MA-03")),
        purpose: None,
        occasion: None,
        patronage: None,
        region_inferred: None,
    };
    let notes = vec![
        ar("ممثلو عدد من القطاعات الحكومية والهيئات المنتخبة والمؤسسات الجامعية والمنظمات المهنية في مجال الاقتصاد الاجتماعي والتضامني بالجهة"),
        ar("المشروع جزء من استراتيجية وطنية متكاملة"),
    ];
    w.plan(
        k,
        details,
        &["drh-fm", "council-fm"],
        document("003_ae8c68a421552a40.txt"),
        notes,
    );
    w.held(k);
    use c::ParticipantRole as R;
    w.participant(k, "c003-drh", None, Some("drh-fm"), None, R::Organiser);
    w.participant(
        k,
        "c003-council",
        None,
        Some("council-fm"),
        None,
        R::CoOrganiser,
    );
    w.participant(
        k,
        "c003-wilaya",
        None,
        Some("wilaya-fm"),
        None,
        R::Supervisor,
    );
    w.participant(
        k,
        "c003-gnidi",
        Some("gnidi"),
        Some("dpes"),
        None,
        R::Speaker,
    );
    w.participant(
        k,
        "c003-belkhayat",
        Some("belkhayat"),
        Some("drh-fm"),
        None,
        R::Speaker,
    );
    w.participant(
        k,
        "c003-hajoubi",
        Some("hajoubi"),
        Some("council-fm"),
        None,
        R::Speaker,
    );
    w.participant(
        k,
        "c003-rabouli",
        Some("rabouli"),
        Some("fm5"),
        None,
        R::Speaker,
    );
    w.participant(
        k,
        "c003-ennada",
        Some("ennada"),
        None,
        Some(ar("ممثل مكتب الدراسات المشرف على الدراسة المتعلقة بمواكبة إحداث أقطاب ترابية نموذجية للاقتصاد الاجتماعي والتضامني")),
        R::Speaker,
    );
    use c::PointKind as P;
    let points = [
        ("gnidi", "الأقطاب النموذجية ينتظر تعميمها على مختلف جهات المملكة"),
        ("hajoubi", "برنامجا مؤازرة وتمكين حققا نجاحا كبيرا"),
        ("hajoubi", "تنظيم معارض جهوية لتسويق المنتجات المجالية ومعارض للأسواق المتنقلة"),
        ("ennada", "أهداف الأقطاب: هيكلة الاقتصاد الاجتماعي والتضامني جهويا، مناخ جذاب، تعزيز القدرات، تقليص الفوارق المجالية، تحفيز الابتكار المستدام"),
        ("ennada", "البنيات التحتية: التكوين، فضاءات العمل المشترك، منصات الاحتضان السريع، مختبرات الابتكار"),
    ];
    for (i, (speaker, text)) in points.iter().enumerate() {
        w.point(
            k,
            &format!("c003-pt{i}"),
            P::Statement,
            &[&format!("c003-{speaker}")],
            ar(text),
        );
    }
    let recommendations = [
        ("تعزيز الحكامة", "governance"),
        ("انخراط الجامعات في المشروع", "universities"),
        ("تعزيز آليات التكوين والتكوين المستمر", "training"),
        ("اعتماد الآليات المناسبة للتدبير", "management"),
    ];
    for (i, (text, theme)) in recommendations.iter().enumerate() {
        w.recommend(k, &format!("c003-r{i}"), ar(text), &["sse", theme], None);
    }
    w.close(k);
    let consultation = w.consultation(k);
    assert_eq!(consultation.participants.len(), 8);
    assert_eq!(consultation.recommendations.len(), 4);
}

#[test]
fn article_004_cti_framework_agreement_fits() {
    let mut w = World::default();
    w.org("mic", ar("وزارة الصناعة والتجارة"), None, K::Ministry, None);
    w.org(
        "cti-network",
        ar("شبكة المراكز التقنية الصناعية"),
        None,
        K::Association,
        None,
    );
    w.org(
        "ctis",
        ar("المراكز التقنية الصناعية"),
        Some("CTI"),
        K::TechnicalCentre,
        None,
    );
    w.person(
        "mezzour",
        "رياض مزور",
        "Ryad Mezzour",
        &[("mezzour-minister", "mic", ar("وزير الصناعة والتجارة"))],
    );
    let k = "c004";
    let details = ConsultationDetails {
        kind: ConsultationKind::SigningCeremony,
        title: ar("توقيع اتفاقية إطار لتفعيل المخطط التنموي الجديد للمراكز التقنية الصناعية"),
        description: None,
        schedule: Schedule {
            as_stated: Some(ar("أول أمس الثلاثاء")),
            ..Schedule::starting(PartialDate::weekday_only(Weekday::Tuesday))
        },
        place: Some(Place {
            name: ar("الدار البيضاء"),
            city: Some(ar("الدار البيضاء")),
            region: Some(RegionCode::new("MA-06")),
            inferred: None,
        }),
        region: None,
        purpose: None,
        occasion: None,
        patronage: None,
        region_inferred: None,
    };
    let notes = vec![
        ar("المخطط التنموي 2014-2020 وقع خلال شهر فبراير 2013 تحت الرئاسة الفعلية لجلالة الملك محمد السادس"),
        ar("توصيات دراسة التقييم التي صادقت عليها لجنة التتبع المنبثقة عن صندوق دعم المراكز التقنية الصناعية"),
    ];
    w.plan(
        k,
        details,
        &["mic"],
        document("004_2cc60abe1ef773f8.txt"),
        notes,
    );
    w.held(k);
    use c::ParticipantRole as R;
    w.participant(
        k,
        "c004-mezzour",
        Some("mezzour"),
        Some("mic"),
        None,
        R::Signatory,
    );
    w.agreement(
        k,
        c::Agreement {
            agreement_id: id("c004-a1"),
            title: ar("اتفاقية إطار لتفعيل المخطط التنموي للمراكز التقنية الصناعية 2022-2025"),
            kind: c::AgreementKind::FrameworkAgreement,
            status: c::AgreementStatus::Signed,
            parties: vec![
                c::Party {
                    participant_id: Some(id("c004-mezzour")),
                    ..c::Party::organisation(id("mic"))
                },
                c::Party::organisation(id("cti-network")),
                c::Party::organisation(id("ctis")),
            ],
            budget: Some(Money::mad(Decimal::new(250_000_000, 0))),
            period: Some(Period::years(2022, 2025)),
            programme: Some(ar("المخطط التنموي للمراكز التقنية الصناعية")),
            objectives: vec![
                ar("تطوير خدمات المساعدة التقنية للمشاريع الاستثمارية المختارة في إطار فريق عمل السيادة الصناعية والغذائية والصحية"),
                ar("تفعيل خدمات الإشهاد بالمطابقة والتحقق من شروط سلامة المنتوجات"),
                ar("تطوير المواصفات"),
                ar("تحفيز أنشطة جديدة بالمغرب"),
                ar("تسريع الارتقاء النوعي لكفاءات المراكز التقنية الصناعية عبر شراكات صناعية وتقنية مبتكرة"),
            ],
            notes: vec![ar("ستنقسم الأهداف العامة إلى أهداف خاصة في إطار عقود الأهداف مع كل مركز تقني صناعي وفيدراليته أو جمعيته المهنية")],
            signed_on: None,
            scope: None,
        },
    );
    // The 2014-2020 plan this one follows, recalled with its budget.
    w.agreement(
        k,
        c::Agreement {
            agreement_id: id("c004-previous"),
            title: ar("المخطط التنموي للمراكز التقنية الصناعية 2014-2020"),
            kind: c::AgreementKind::Other,
            status: c::AgreementStatus::Previous,
            parties: vec![],
            budget: Some(Money::mad(Decimal::new(290_000_000, 0))),
            period: Some(Period::years(2014, 2020)),
            programme: None,
            objectives: vec![],
            notes: vec![ar("تحت الرئاسة الفعلية لجلالة الملك محمد السادس")],
            signed_on: Some(PartialDate::month(2013, 2)),
            scope: None,
        },
    );
    use c::PointKind as P;
    let points = [
        (P::Quote, &["c004-mezzour"][..], "المراكز التقنية الصناعية قد أُعطيت زخما تنمويا جديدا ..."),
        (P::Quote, &["c004-mezzour"][..], "نتطلع إلى مراكز تقنية صناعية أكثر جاذبية لفاعلينا ..."),
        (P::ResultReported, &[][..], "تعزيز القدرات التقنية لمختبرات المراكز التقنية الصناعية، وارتفاع عدد المساعدين ونسبة التأطير"),
        (P::ResultReported, &[][..], "المساهمة خلال الجائحة: الكمامات وجهاز التنفس الاصطناعي والسرير الطبي"),
        (P::ResultReported, &[][..], "تشييد المبنى الجديد للمركز التقني للصناعات الغذائية"),
        (P::ResultReported, &[][..], "إحداث مركز البحث والتطوير CETIEV 2.0 بشراكة بين CETIEV وشركة Stellantis"),
    ];
    for (i, (kind, speaker, text)) in points.iter().enumerate() {
        w.point(k, &format!("c004-pt{i}"), *kind, speaker, ar(text));
    }
    w.close(k);
    w.act(action::CreateAction {
        action_id: id("a004"),
        consultation_id: id(k),
        recommendation_ids: vec![],
        agreement_id: Some(id("c004-a1")),
        title: ar("إبرام عقود الأهداف مع كل مركز تقني صناعي وفيدراليته"),
        description: None,
        owner_organisation_id: id("mic"),
        due: Some(PartialDate::year(2025)),
        budget: Some(Money::mad(Decimal::new(250_000_000, 0))),
        consultation: None,
    });
    let report = action::Command::ReportProgress(action::ReportProgress {
        action_id: id("a004"),
        on: NaiveDate::from_ymd_opt(2023, 1, 31).unwrap_or_default(),
        progress: 30,
        note: Some(Text::en("first performance contracts signed")),
        reason: None,
    });
    run(
        &mut w.actions,
        id("a004"),
        report,
        action::decide,
        action::apply,
    );
    let consultation = w.consultation(k);
    assert_eq!(consultation.agreements[0].objectives.len(), 5);
    assert_eq!(consultation.agreements.len(), 2);
    assert_eq!(
        w.actions
            .get(&id("a004"))
            .and_then(|s| s.action.as_ref())
            .map(|a| a.progress),
        Some(30)
    );
}
