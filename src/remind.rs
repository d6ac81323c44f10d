//! Reminders of overdue and due-soon follow-ups by e-mail (`shura remind`).
//!
//! Who gets what is decided here, so that the command line and the tests share it: each active
//! editor with an e-mail address gets one digest of its regions' unfinished actions that are
//! overdue or due within [`DUE_SOON_DAYS`](queries::DUE_SOON_DAYS) days (the dashboard's
//! notion, read with [`queries::dashboard_due_actions`]); an admin gets one digest of every
//! region, in sections. Viewers and auditors follow nothing up and get none; nor does anyone
//! with nothing due. The digest is plain text, Arabic then French, from the `remind-*` messages
//! of the catalogues; links are paths (`/actions/{id}`), made absolute with a base URL when one
//! is given.
//!
//! Addresses live outside the event log ([`crate::accounts::set_email`]). Mail goes by plain
//! SMTP to a relay (`smtp://host:port`): no TLS stack is built in, so a relay on the host (or
//! the directorate's network) carries it on with TLS.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::accounts::{users_with_email, UserEmail};
use crate::domain::action::Action;
use crate::domain::token::Role;
use crate::domain::REGIONS;
use crate::projections::lists::ActionRecord;
use crate::projections::queries::{self, DashboardFilter, MAX_DUE_ACTIONS};
use crate::store::{Pool, StoreError};
use crate::web::i18n::{Lang, Tr};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why reminders could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum RemindError {
    /// Reading the read models failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The relay's URL is not `smtp://host[:port]`.
    #[error(
        "the SMTP relay must be given as smtp://HOST[:PORT] (plain SMTP; for TLS, send through a \
         local relay that forwards with TLS): {0}"
    )]
    Url(String),
    /// An address (sender or recipient) is not one.
    #[error("not an e-mail address: {0}")]
    Address(String),
    /// The message could not be built or the relay refused it.
    #[error("sending to {to} failed: {reason}")]
    Send {
        /// The recipient.
        to: String,
        /// What went wrong.
        reason: String,
    },
}

/// The overdue and due-soon actions of one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionDue {
    /// The region code.
    pub region: String,
    /// Certainly overdue, the longest overdue first.
    pub overdue: Vec<ActionRecord>,
    /// Due within [`DUE_SOON_DAYS`](queries::DUE_SOON_DAYS) days, the soonest first.
    pub due_soon: Vec<ActionRecord>,
}

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The user's username.
    pub username: String,
    /// Its address.
    pub to: String,
    /// Arabic, then French.
    pub subject: String,
    /// Plain text, Arabic, then French.
    pub body: String,
    /// The actions listed, in the order listed.
    pub actions: Vec<Uuid>,
}

/// The regions a user follows up: every region for an admin, its own for an editor, none for
/// the other roles.
fn followed_regions(user: &UserEmail) -> Vec<String> {
    match Role::parse("role", &user.role) {
        Ok(Role::Admin) => REGIONS.iter().map(|r| r.code.to_owned()).collect(),
        Ok(Role::Editor) => serde_json::from_str(&user.regions).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The overdue and due-soon actions of each region, as of `today` (one dashboard read each).
pub async fn due_by_region(
    pool: &Pool,
    regions: &[String],
    today: NaiveDate,
) -> Result<Vec<RegionDue>, StoreError> {
    let mut out = Vec::with_capacity(regions.len());
    for region in regions {
        let filter = DashboardFilter {
            region: Some(region.clone()),
            ..DashboardFilter::default()
        };
        let due = queries::dashboard_due_actions(pool, &filter, today, MAX_DUE_ACTIONS).await?;
        out.push(RegionDue {
            region: region.clone(),
            overdue: due.overdue,
            due_soon: due.due_soon,
        });
    }
    Ok(out)
}

/// Every digest to send as of `today`: one per active editor or admin with an address and
/// something due in its regions. `base_url` (e.g. `https://shura.example.ma`) makes the links
/// absolute.
pub async fn digests(
    pool: &Pool,
    today: NaiveDate,
    base_url: Option<&str>,
) -> Result<Vec<Digest>, StoreError> {
    let users = users_with_email(pool).await?;
    let followed: Vec<(UserEmail, Vec<String>)> = users
        .into_iter()
        .map(|u| {
            let regions = followed_regions(&u);
            (u, regions)
        })
        .filter(|(_, regions)| !regions.is_empty())
        .collect();
    // Each region is read once, whoever follows it.
    let mut wanted: Vec<String> = followed.iter().flat_map(|(_, r)| r.clone()).collect();
    wanted.sort();
    wanted.dedup();
    let due: BTreeMap<String, RegionDue> = due_by_region(pool, &wanted, today)
        .await?
        .into_iter()
        .map(|d| (d.region.clone(), d))
        .collect();
    let base = base_url.unwrap_or("").trim_end_matches('/');
    let mut out = Vec::new();
    for (user, regions) in followed {
        let mine: Vec<&RegionDue> = regions
            .iter()
            .filter_map(|r| due.get(r))
            .filter(|d| !d.overdue.is_empty() || !d.due_soon.is_empty())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let name = user.display_name.as_deref().unwrap_or(&user.username);
        let (ar, fr) = (Tr::new(Lang::Ar), Tr::new(Lang::Fr));
        let actions: Vec<Uuid> = mine
            .iter()
            .flat_map(|d| d.overdue.iter().chain(&d.due_soon))
            .map(|a| a.id.0)
            .collect();
        let count = i64::try_from(actions.len()).unwrap_or(i64::MAX);
        out.push(Digest {
            username: user.username.clone(),
            to: user.email.clone(),
            subject: format!(
                "{} | {}",
                ar.count("remind-subject", count),
                fr.count("remind-subject", count)
            ),
            body: format!(
                "{}\n----------------------------------------\n\n{}",
                body(&ar, name, &mine, base),
                body(&fr, name, &mine, base)
            ),
            actions,
        });
    }
    Ok(out)
}

/// A digest's text in one language.
fn body(tr: &Tr, name: &str, regions: &[&RegionDue], base: &str) -> String {
    let mut text = format!(
        "{}\n\n{}\n",
        tr.t1("remind-greeting", "name", name.to_owned()),
        tr.t("remind-intro")
    );
    let line = |a: &ActionRecord| {
        let parsed: Option<Action> = serde_json::from_str(&a.doc).ok();
        let title = parsed
            .as_ref()
            .map(|p| tr.text(&p.title).value.into_owned())
            .unwrap_or_else(|| a.title.clone());
        let due = match parsed.as_ref().and_then(|p| p.due.as_ref()) {
            Some(due) => tr.partial_date(due),
            None => a
                .due_date
                .as_deref()
                .map_or_else(String::new, |d| tr.iso_date(d)),
        };
        let line = tr.args(
            "remind-line",
            &[
                ("title", title),
                ("due", due),
                ("progress", a.progress.clamp(0, 100).to_string()),
            ],
        );
        // The link outside the message: Fluent's bidi isolation marks around it would end up
        // in the address a mail reader makes of it.
        format!("{line} | {base}/actions/{}", a.id.0)
    };
    for region in regions {
        text.push('\n');
        text.push_str(&tr.t1("remind-region", "region", tr.region(&region.region)));
        text.push('\n');
        for (heading, actions) in [
            ("remind-overdue", &region.overdue),
            ("remind-due-soon", &region.due_soon),
        ] {
            if actions.is_empty() {
                continue;
            }
            text.push_str(&tr.t(heading));
            text.push('\n');
            for action in actions {
                text.push_str(&line(action));
                text.push('\n');
            }
        }
    }
    text.push('\n');
    text.push_str(&tr.t("remind-footer"));
    text.push('\n');
    text
}

/// The host and port of `smtp://host[:port]` (port 25 when left out).
pub fn relay(url: &str) -> Result<(String, u16), RemindError> {
    let bad = || RemindError::Url(url.to_owned());
    let rest = url.strip_prefix("smtp://").ok_or_else(bad)?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
        return Err(bad());
    }
    // `[::1]:2525`, `host:2525`, `host`.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            (host, port.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (authority, 25),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// Sends each digest from `from` through the relay at `smtp_url`; returns how many were sent.
/// Stops at the first failure (the ones before it were sent).
pub async fn send(digests: &[Digest], smtp_url: &str, from: &str) -> Result<usize, RemindError> {
    let (host, port) = relay(smtp_url)?;
    let from: lettre::Address = from
        .parse()
        .map_err(|_| RemindError::Address(from.to_owned()))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    let mut sent = 0_usize;
    for digest in digests {
        let failed = |reason: String| RemindError::Send {
            to: digest.to.clone(),
            reason,
        };
        let to: lettre::Address = digest
            .to
            .parse()
            .map_err(|_| RemindError::Address(digest.to.clone()))?;
        // lettre picks the transfer encoding (base64 or quoted-printable: Arabic lines are longer
        // than 8-bit text may be) and encodes the Arabic subject as RFC 2047 says.
        let message = Message::builder()
            .from(lettre::message::Mailbox::new(
                Some("Shura".to_owned()),
                from.clone(),
            ))
            .to(lettre::message::Mailbox::new(None, to))
            .subject(digest.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(digest.body.clone())
            .map_err(|e| failed(e.to_string()))?;
        transport
            .send(message)
            .await
            .map_err(|e| failed(e.to_string()))?;
        sent = sent.saturating_add(1);
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_are_plain_smtp_urls() {
        assert_eq!(
            relay("smtp://127.0.0.1:2525").unwrap(),
            ("127.0.0.1".to_owned(), 2525)
        );
        assert_eq!(
            relay("smtp://mail.local").unwrap(),
            ("mail.local".to_owned(), 25)
        );
        assert_eq!(relay("smtp://[::1]:25/").unwrap(), ("::1".to_owned(), 25));
        for bad in [
            "smtps://mail.local",
            "mail.local:25",
            "smtp://",
            "smtp://user@mail.local",
            "smtp://mail.local:99999",
        ] {
            assert!(relay(bad).is_err(), "{bad}");
        }
    }
}
