//! The person stream (Popolo `Person` with `Membership`s as posts): a name in
//! Arabic script and/or Latin transliteration, an optional honorific, and the
//! posts the person held in organisations, with partial start and end dates.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    check_inference, check_optional_reason, check_optional_str, check_reason, reject, Inference,
    PartialDate, Text, SHORT_TEXT_MAX,
};
use super::error::{DomainError, Rule};

/// The stream type of person streams.
pub const STREAM_TYPE: &str = "person";

/// A person's name as written in the sources: Arabic script and/or a Latin
/// transliteration (e.g. "مولاي حفيظ العلمي" / "Moulay Hafid Elalamy"); at
/// least one is required. Kept byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    /// The name in Arabic script.
    #[serde(default)]
    pub arabic: Option<String>,
    /// The name in Latin script.
    #[serde(default)]
    pub latin: Option<String>,
    /// Set when the sources do not give this name (or part of it) but it was inferred, e.g. a
    /// first name the article leaves out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<Inference>,
}

impl PersonName {
    /// Checks that at least one script is given and that neither is blank or too long.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.arabic.is_none() && self.latin.is_none() {
            return reject(field, Rule::Required);
        }
        check_optional_str(&format!("{field}.arabic"), &self.arabic, SHORT_TEXT_MAX)?;
        check_optional_str(&format!("{field}.latin"), &self.latin, SHORT_TEXT_MAX)?;
        check_inference(&format!("{field}.inferred"), &self.inferred)
    }
}

/// A post held by the person in an organisation (a Popolo membership).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The post's id, chosen by the caller.
    pub post_id: Uuid,
    /// The organisation the post is in.
    pub organisation_id: Uuid,
    /// The post title as stated, e.g. "كاتب الدولة المكلف بالتجارة الخارجية".
    pub title: Text,
    /// When the post started, if known.
    pub start: Option<PartialDate>,
    /// A date on which a source shows the person in this post.
    pub attested_on: Option<PartialDate>,
    /// Whether the post has ended.
    pub ended: bool,
    /// When the post ended, if known.
    pub end: Option<PartialDate>,
    /// Why it ended, if given.
    pub end_reason: Option<String>,
    /// Set when the sources do not state this post but it was inferred, with why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<Inference>,
}

/// A registered person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Its stream id.
    pub id: Uuid,
    /// The person's name.
    pub name: PersonName,
    /// An honorific such as "السيد" / "M.", if stated.
    pub honorific: Option<Text>,
    /// Every post recorded, in the order started.
    pub posts: Vec<Post>,
}

impl Person {
    /// The posts that have not ended.
    pub fn current_posts(&self) -> impl Iterator<Item = &Post> {
        self.posts.iter().filter(|post| !post.ended)
    }
}

/// The person as rebuilt from its events; `Default` is "not yet registered".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The person, once registered.
    pub person: Option<Person>,
    /// How many events have been applied.
    pub version: u64,
}

/// Registers a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// The new stream's id, chosen by the caller.
    pub person_id: Uuid,
    /// The person's name.
    pub name: PersonName,
    /// An honorific, if stated.
    #[serde(default)]
    pub honorific: Option<Text>,
}

/// Records that the person holds (or held) a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartPost {
    /// The person's stream id.
    pub person_id: Uuid,
    /// The new post's id, chosen by the caller.
    pub post_id: Uuid,
    /// The organisation the post is in.
    pub organisation_id: Uuid,
    /// The post title as stated.
    pub title: Text,
    /// When it started, if known.
    #[serde(default)]
    pub start: Option<PartialDate>,
    /// A date on which a source shows the person in the post.
    #[serde(default)]
    pub attested_on: Option<PartialDate>,
    /// Set when the sources do not state this post but it was inferred, with why.
    #[serde(default)]
    pub inferred: Option<Inference>,
}

/// Records that a post ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndPost {
    /// The person's stream id.
    pub person_id: Uuid,
    /// The post that ended.
    pub post_id: Uuid,
    /// When it ended, if known.
    #[serde(default)]
    pub end: Option<PartialDate>,
    /// Why, if known (non-blank when given).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Corrects a wrongly recorded name or honorific.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectPersonName {
    /// The person's stream id.
    pub person_id: Uuid,
    /// The corrected name.
    pub name: PersonName,
    /// The corrected honorific.
    #[serde(default)]
    pub honorific: Option<Text>,
    /// Why.
    pub reason: String,
}

/// Erases the person's contact details (personal data): the application layer destroys the
/// key they were sealed under (`crate::erasure`); this records that it was done, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseContact {
    /// The person's stream id.
    pub person_id: Uuid,
    /// Why (e.g. the request under law 09-08 or the GDPR it answers).
    pub reason: String,
}

/// Everything that can be asked of a person stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// See [`RegisterPerson`].
    RegisterPerson(RegisterPerson),
    /// See [`StartPost`].
    StartPost(StartPost),
    /// See [`EndPost`].
    EndPost(EndPost),
    /// See [`CorrectPersonName`].
    CorrectPersonName(CorrectPersonName),
    /// See [`EraseContact`].
    EraseContact(EraseContact),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::RegisterPerson(c) => c.person_id,
            Command::StartPost(c) => c.person_id,
            Command::EndPost(c) => c.person_id,
            Command::CorrectPersonName(c) => c.person_id,
            Command::EraseContact(c) => c.person_id,
        }
    }
}

/// Everything that can happen to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// The person was registered.
    PersonRegistered {
        /// Its stream id.
        person_id: Uuid,
        /// The name.
        name: PersonName,
        /// The honorific.
        honorific: Option<Text>,
    },
    /// The person started (or is known to hold) a post.
    PostStarted {
        /// The post's id.
        post_id: Uuid,
        /// The organisation.
        organisation_id: Uuid,
        /// The post title.
        title: Text,
        /// When it started.
        start: Option<PartialDate>,
        /// When a source showed the person in it.
        attested_on: Option<PartialDate>,
        /// Set when the post was inferred, not stated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inferred: Option<Inference>,
    },
    /// A post ended.
    PostEnded {
        /// The post's id.
        post_id: Uuid,
        /// When it ended.
        end: Option<PartialDate>,
        /// Why.
        reason: Option<String>,
    },
    /// The name or honorific was corrected.
    PersonNameCorrected {
        /// The corrected name.
        name: PersonName,
        /// The corrected honorific.
        honorific: Option<Text>,
        /// Why.
        reason: String,
    },
    /// The person's contact details were erased: the key they were sealed under is destroyed,
    /// so every earlier event reads them as erased. Names and posts stay.
    ContactErased {
        /// Why.
        reason: String,
    },
}

super::codec::domain_events!(
    STREAM_TYPE,
    [
        PersonRegistered,
        PostStarted,
        PostEnded,
        PersonNameCorrected,
        ContactErased,
    ]
);

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::RegisterPerson(c) => register(state, c),
        Command::StartPost(c) => start_post(state, c),
        Command::EndPost(c) => end_post(state, c),
        Command::CorrectPersonName(c) => correct_name(state, c),
        Command::EraseContact(c) => erase_contact(state, c),
    }
}

fn existing(state: &State, id: Uuid) -> Result<&Person, DomainError> {
    match &state.person {
        None => reject("person_id", Rule::NotCreated),
        Some(person) if person.id != id => reject(
            "person_id",
            Rule::UnknownReference {
                what: "person".into(),
            },
        ),
        Some(person) => Ok(person),
    }
}

fn check_name(name: &PersonName, honorific: &Option<Text>) -> Result<(), DomainError> {
    name.validate("name")?;
    if let Some(honorific) = honorific {
        honorific.validate("honorific", SHORT_TEXT_MAX)?;
    }
    Ok(())
}

fn register(state: &State, c: RegisterPerson) -> Result<Vec<Event>, DomainError> {
    if state.person.is_some() {
        return reject("person_id", Rule::AlreadyExists);
    }
    check_name(&c.name, &c.honorific)?;
    Ok(vec![Event::PersonRegistered {
        person_id: c.person_id,
        name: c.name,
        honorific: c.honorific,
    }])
}

fn start_post(state: &State, c: StartPost) -> Result<Vec<Event>, DomainError> {
    let person = existing(state, c.person_id)?;
    if person.posts.iter().any(|post| post.post_id == c.post_id) {
        return reject("post_id", Rule::Duplicate);
    }
    c.title.validate("title", SHORT_TEXT_MAX)?;
    // The same title in the same organisation, still held, is the same post.
    let held_twice = person
        .current_posts()
        .any(|post| post.organisation_id == c.organisation_id && post.title == c.title);
    if held_twice {
        return reject("title", Rule::Duplicate);
    }
    if let Some(start) = &c.start {
        start.validate("start")?;
    }
    if let Some(attested_on) = &c.attested_on {
        attested_on.validate("attested_on")?;
    }
    check_inference("inferred", &c.inferred)?;
    Ok(vec![Event::PostStarted {
        post_id: c.post_id,
        organisation_id: c.organisation_id,
        title: c.title,
        start: c.start,
        attested_on: c.attested_on,
        inferred: c.inferred,
    }])
}

fn end_post(state: &State, c: EndPost) -> Result<Vec<Event>, DomainError> {
    let person = existing(state, c.person_id)?;
    let Some(post) = person.posts.iter().find(|post| post.post_id == c.post_id) else {
        return reject(
            "post_id",
            Rule::UnknownReference {
                what: "post".into(),
            },
        );
    };
    if post.ended {
        return reject("post_id", Rule::AlreadyEnded);
    }
    if let Some(end) = &c.end {
        end.validate("end")?;
        if let Some(start) = &post.start {
            if end.is_certainly_before(start) {
                return reject("end", Rule::EndBeforeStart);
            }
        }
    }
    check_optional_reason("reason", &c.reason)?;
    Ok(vec![Event::PostEnded {
        post_id: c.post_id,
        end: c.end,
        reason: c.reason,
    }])
}

fn correct_name(state: &State, c: CorrectPersonName) -> Result<Vec<Event>, DomainError> {
    let person = existing(state, c.person_id)?;
    check_name(&c.name, &c.honorific)?;
    check_reason("reason", &c.reason)?;
    if person.name == c.name && person.honorific == c.honorific {
        return Ok(vec![]);
    }
    Ok(vec![Event::PersonNameCorrected {
        name: c.name,
        honorific: c.honorific,
        reason: c.reason,
    }])
}

/// Always records the erasure, even when one was recorded before: each request is answered and
/// accounted for (who, when, why), and contact details given since the last one are erased too.
fn erase_contact(state: &State, c: EraseContact) -> Result<Vec<Event>, DomainError> {
    existing(state, c.person_id)?;
    check_reason("reason", &c.reason)?;
    Ok(vec![Event::ContactErased { reason: c.reason }])
}

/// Applies one event to the state. Never fails: events were validated when
/// decided; an event that cannot apply (e.g. before registration) is skipped,
/// and a replayed post replaces the one with the same id.
pub fn apply(mut state: State, event: &Event) -> State {
    state.version += 1;
    match event {
        Event::PersonRegistered {
            person_id,
            name,
            honorific,
        } => {
            let posts = state.person.take().map(|p| p.posts).unwrap_or_default();
            state.person = Some(Person {
                id: *person_id,
                name: name.clone(),
                honorific: honorific.clone(),
                posts,
            });
        }
        Event::PostStarted {
            post_id,
            organisation_id,
            title,
            start,
            attested_on,
            inferred,
        } => {
            if let Some(person) = state.person.as_mut() {
                let post = Post {
                    post_id: *post_id,
                    organisation_id: *organisation_id,
                    title: title.clone(),
                    start: *start,
                    attested_on: *attested_on,
                    ended: false,
                    end: None,
                    end_reason: None,
                    inferred: inferred.clone(),
                };
                match person.posts.iter_mut().find(|p| p.post_id == *post_id) {
                    Some(existing) => *existing = post,
                    None => person.posts.push(post),
                }
            }
        }
        Event::PostEnded {
            post_id,
            end,
            reason,
        } => {
            let post = state
                .person
                .as_mut()
                .and_then(|person| person.posts.iter_mut().find(|p| p.post_id == *post_id));
            if let Some(post) = post {
                post.ended = true;
                post.end = *end;
                post.end_reason = reason.clone();
            }
        }
        Event::PersonNameCorrected {
            name, honorific, ..
        } => {
            if let Some(person) = state.person.as_mut() {
                person.name = name.clone();
                person.honorific = honorific.clone();
            }
        }
        // Nothing of the person changes: the contact details live on participations, sealed,
        // and read as erased once the key is gone.
        Event::ContactErased { .. } => {}
    }
    state
}

/// Rebuilds the state from events, e.g. the first `n` events for the state "as of" version `n`.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), apply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codec::assert_round_trip;
    use crate::domain::common::Weekday;

    const ID: Uuid = Uuid::from_u128(0x1a);
    const POST: Uuid = Uuid::from_u128(0x1b);
    const ORG: Uuid = Uuid::from_u128(0x1c);

    fn given(events: &[Event]) -> State {
        fold(events)
    }

    fn rejected(field: &str, rule: Rule) -> Result<Vec<Event>, DomainError> {
        Err(DomainError::validation(field, rule))
    }

    fn name() -> PersonName {
        PersonName {
            arabic: Some("عمر حجيرة".into()),
            latin: Some("Omar Hejira".into()),
            inferred: None,
        }
    }

    fn registered() -> Event {
        Event::PersonRegistered {
            person_id: ID,
            name: name(),
            honorific: Some(Text::ar("السيد")),
        }
    }

    fn start() -> StartPost {
        StartPost {
            person_id: ID,
            post_id: POST,
            organisation_id: ORG,
            title: Text::ar("كاتب الدولة المكلف بالتجارة الخارجية")
                .with_en("Secretary of State for Foreign Trade"),
            start: None,
            attested_on: Some(PartialDate::ymd(2024, 11, 29)),
            inferred: None,
        }
    }

    fn started() -> Event {
        Event::PostStarted {
            post_id: POST,
            organisation_id: ORG,
            title: start().title,
            start: None,
            attested_on: Some(PartialDate::ymd(2024, 11, 29)),
            inferred: None,
        }
    }

    fn end() -> EndPost {
        EndPost {
            person_id: ID,
            post_id: POST,
            end: Some(PartialDate::year(2025)),
            reason: Some("reshuffle".into()),
        }
    }

    #[test]
    fn register_happy_path_with_only_a_latin_name() {
        let command = RegisterPerson {
            person_id: ID,
            name: PersonName {
                arabic: None,
                latin: Some("LI Yong".into()),
                inferred: None,
            },
            honorific: None,
        };
        let events = decide(&given(&[]), Command::RegisterPerson(command));
        assert_eq!(
            events,
            Ok(vec![Event::PersonRegistered {
                person_id: ID,
                name: PersonName {
                    arabic: None,
                    latin: Some("LI Yong".into()),
                    inferred: None,
                },
                honorific: None,
            }])
        );
    }

    #[test]
    fn register_rejects_missing_or_blank_name() {
        let command = RegisterPerson {
            person_id: ID,
            name: PersonName::default(),
            honorific: None,
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterPerson(command)),
            rejected("name", Rule::Required)
        );
        let command = RegisterPerson {
            person_id: ID,
            name: PersonName {
                arabic: Some(" ".into()),
                latin: Some("X".into()),
                inferred: None,
            },
            honorific: None,
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterPerson(command)),
            rejected("name.arabic", Rule::Required)
        );
    }

    #[test]
    fn register_rejects_too_long_name_and_blank_honorific() {
        let command = RegisterPerson {
            person_id: ID,
            name: PersonName {
                arabic: None,
                latin: Some("x".repeat(SHORT_TEXT_MAX + 1)),
                inferred: None,
            },
            honorific: None,
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterPerson(command)),
            rejected(
                "name.latin",
                Rule::TooLong {
                    max: SHORT_TEXT_MAX
                }
            )
        );
        let command = RegisterPerson {
            person_id: ID,
            name: name(),
            honorific: Some(Text::default()),
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterPerson(command)),
            rejected("honorific", Rule::Required)
        );
    }

    #[test]
    fn register_twice_is_rejected() {
        let command = RegisterPerson {
            person_id: ID,
            name: name(),
            honorific: None,
        };
        assert_eq!(
            decide(&given(&[registered()]), Command::RegisterPerson(command)),
            rejected("person_id", Rule::AlreadyExists)
        );
    }

    #[test]
    fn start_post_happy_path() {
        let state = given(&[registered()]);
        assert_eq!(
            decide(&state, Command::StartPost(start())),
            Ok(vec![started()])
        );
        let after = apply(state, &started());
        let person = after.person.unwrap();
        assert_eq!(person.current_posts().count(), 1);
    }

    #[test]
    fn start_post_before_registration_is_rejected() {
        assert_eq!(
            decide(&given(&[]), Command::StartPost(start())),
            rejected("person_id", Rule::NotCreated)
        );
        let other = StartPost {
            person_id: ORG,
            ..start()
        };
        assert_eq!(
            decide(&given(&[registered()]), Command::StartPost(other)),
            rejected(
                "person_id",
                Rule::UnknownReference {
                    what: "person".into()
                }
            )
        );
    }

    #[test]
    fn start_post_rejects_duplicate_post() {
        let state = given(&[registered(), started()]);
        assert_eq!(
            decide(&state, Command::StartPost(start())),
            rejected("post_id", Rule::Duplicate)
        );
        let same_title = StartPost {
            post_id: Uuid::from_u128(0x99),
            ..start()
        };
        assert_eq!(
            decide(&state, Command::StartPost(same_title)),
            rejected("title", Rule::Duplicate)
        );
    }

    #[test]
    fn start_post_rejects_empty_title_and_bad_dates() {
        let state = given(&[registered()]);
        let command = StartPost {
            title: Text::default(),
            ..start()
        };
        assert_eq!(
            decide(&state, Command::StartPost(command)),
            rejected("title", Rule::Required)
        );
        let command = StartPost {
            start: Some(PartialDate::ymd(2024, 2, 30)),
            ..start()
        };
        assert_eq!(
            decide(&state, Command::StartPost(command)),
            rejected("start.day", Rule::InvalidDate)
        );
        let command = StartPost {
            attested_on: Some(PartialDate::ymd(2024, 11, 28).with_weekday(Weekday::Tuesday)),
            ..start()
        };
        assert_eq!(
            decide(&state, Command::StartPost(command)),
            rejected(
                "attested_on.weekday",
                Rule::WeekdayMismatch {
                    actual: Weekday::Thursday
                }
            )
        );
    }

    #[test]
    fn end_post_happy_path() {
        let state = given(&[registered(), started()]);
        let expected = Event::PostEnded {
            post_id: POST,
            end: Some(PartialDate::year(2025)),
            reason: Some("reshuffle".into()),
        };
        assert_eq!(
            decide(&state, Command::EndPost(end())),
            Ok(vec![expected.clone()])
        );
        let person = apply(state, &expected).person.unwrap();
        assert_eq!(person.current_posts().count(), 0);
        assert_eq!(person.posts[0].end, Some(PartialDate::year(2025)));
    }

    #[test]
    fn end_post_rejects_unknown_or_ended_post() {
        let state = given(&[registered()]);
        assert_eq!(
            decide(&state, Command::EndPost(end())),
            rejected(
                "post_id",
                Rule::UnknownReference {
                    what: "post".into()
                }
            )
        );
        let ended = Event::PostEnded {
            post_id: POST,
            end: None,
            reason: None,
        };
        let state = given(&[registered(), started(), ended]);
        assert_eq!(
            decide(&state, Command::EndPost(end())),
            rejected("post_id", Rule::AlreadyEnded)
        );
    }

    #[test]
    fn end_post_rejects_end_before_start_and_blank_reason() {
        let started_2017 = Event::PostStarted {
            post_id: POST,
            organisation_id: ORG,
            title: start().title,
            start: Some(PartialDate::year(2017)),
            attested_on: None,
            inferred: None,
        };
        let state = given(&[registered(), started_2017]);
        let command = EndPost {
            end: Some(PartialDate::month(2016, 12)),
            ..end()
        };
        assert_eq!(
            decide(&state, Command::EndPost(command)),
            rejected("end", Rule::EndBeforeStart)
        );
        let command = EndPost {
            reason: Some(String::new()),
            ..end()
        };
        assert_eq!(
            decide(&state, Command::EndPost(command)),
            rejected("reason", Rule::ReasonRequired)
        );
        let command = EndPost {
            end: Some(PartialDate::default()),
            ..end()
        };
        assert_eq!(
            decide(&state, Command::EndPost(command)),
            rejected("end", Rule::Required)
        );
    }

    #[test]
    fn correct_name_happy_path_and_no_op() {
        let state = given(&[registered()]);
        let corrected = PersonName {
            arabic: Some("عمر حجيرة".into()),
            latin: Some("Omar Hjira".into()),
            inferred: None,
        };
        let command = CorrectPersonName {
            person_id: ID,
            name: corrected.clone(),
            honorific: Some(Text::ar("السيد")),
            reason: "official spelling".into(),
        };
        let expected = Event::PersonNameCorrected {
            name: corrected.clone(),
            honorific: Some(Text::ar("السيد")),
            reason: "official spelling".into(),
        };
        assert_eq!(
            decide(&state, Command::CorrectPersonName(command)),
            Ok(vec![expected.clone()])
        );
        let state = apply(state, &expected);
        assert_eq!(state.person.as_ref().map(|p| &p.name), Some(&corrected));
        let again = CorrectPersonName {
            person_id: ID,
            name: corrected,
            honorific: Some(Text::ar("السيد")),
            reason: "again".into(),
        };
        assert_eq!(
            decide(&state, Command::CorrectPersonName(again)),
            Ok(vec![])
        );
    }

    #[test]
    fn correct_name_requires_reason_valid_name_and_registration() {
        let command = CorrectPersonName {
            person_id: ID,
            name: name(),
            honorific: None,
            reason: " ".into(),
        };
        assert_eq!(
            decide(
                &given(&[registered()]),
                Command::CorrectPersonName(command.clone())
            ),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            decide(&given(&[]), Command::CorrectPersonName(command.clone())),
            rejected("person_id", Rule::NotCreated)
        );
        let command = CorrectPersonName {
            name: PersonName::default(),
            ..command
        };
        assert_eq!(
            decide(&given(&[registered()]), Command::CorrectPersonName(command)),
            rejected("name", Rule::Required)
        );
    }

    #[test]
    fn erasing_contact_needs_the_person_and_a_reason_and_is_always_recorded() {
        let erase = |reason: &str| {
            Command::EraseContact(EraseContact {
                person_id: ID,
                reason: reason.into(),
            })
        };
        let expected = Event::ContactErased {
            reason: "request under law 09-08".into(),
        };
        let state = given(&[registered()]);
        assert_eq!(
            decide(&state, erase("request under law 09-08")),
            Ok(vec![expected.clone()])
        );
        // A second request is recorded too: contact details may have been given since.
        let again = apply(state.clone(), &expected);
        assert_eq!(again.person, state.person);
        assert_eq!(
            decide(&again, erase("request under law 09-08")),
            Ok(vec![expected])
        );
        assert_eq!(
            decide(&state, erase(" ")).map_err(|e| (e.field().to_owned(), e.code())),
            Err(("reason".to_owned(), "REASON_REQUIRED"))
        );
        assert_eq!(
            decide(&State::default(), erase("r")),
            rejected("person_id", Rule::NotCreated)
        );
    }

    #[test]
    fn apply_tolerates_replay_and_orphans() {
        let state = given(&[started(), registered(), started(), started()]);
        assert_eq!(state.version, 4);
        assert_eq!(state.person.map(|p| p.posts.len()), Some(1));
    }

    #[test]
    fn every_event_round_trips() {
        let events = [
            registered(),
            started(),
            Event::PostEnded {
                post_id: POST,
                end: Some(PartialDate::weekday_only(Weekday::Tuesday)),
                reason: None,
            },
            Event::PersonNameCorrected {
                name: name(),
                honorific: None,
                reason: "r".into(),
            },
            Event::ContactErased {
                reason: "request under law 09-08".into(),
            },
        ];
        assert_eq!(events.len(), Event::EVENT_TYPES.len());
        for event in &events {
            assert_round_trip(event);
        }
    }

    #[test]
    fn commands_deserialise_from_snake_case_tags() {
        let json = serde_json::json!({
            "type": "start_post",
            "person_id": ID,
            "post_id": POST,
            "organisation_id": ORG,
            "title": {"ar": "والي جهة فاس-مكناس"},
        });
        let command: Command = serde_json::from_value(json).unwrap();
        assert_eq!(command.stream_id(), ID);
        let text = serde_json::to_string(&command).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);
    }
}
