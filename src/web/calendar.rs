//! The calendar: the drill programme and the review deadlines by month, as a page per plan and as
//! an iCalendar feed per user behind a secret address that a calendar client subscribes to. The
//! feed holds what concerns its user: the drills they take part in or lead and the reviews of the
//! sections they own or deputise for (everything, for those who keep or approve the plan).

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use serde_json::{Value, json};

use super::auth::{self, Viewer};
use super::pages::{load, page};
use super::{AppState, Error, Result, i18n};
use crate::domain::Plan;
use crate::domain::access::Actor;
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/calendar", get(show))
        .route("/plans/{plan}/calendar/feed", post(new_feed))
        .route("/calendar/{file}", get(feed))
}

/// Drills from this long ago stay in the feed, so a client still shows the recent past.
const PAST_DAYS: i64 = 90;
/// How many months the page shows, from this one.
const MONTHS: u32 = 12;

/// One thing in the calendar.
struct Entry {
    uid: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// A whole day (review deadlines) rather than a meeting.
    day: Option<NaiveDate>,
    title: String,
    path: String,
    drill: bool,
    overdue: bool,
}

/// The plan's drills (not cancelled, from `PAST_DAYS` ago) and review deadlines; only those that
/// concern `actor` when one is given.
async fn entries(
    state: &AppState,
    plan: &Plan,
    actor: Option<&Actor>,
    review_word: &str,
) -> Result<Vec<Entry>> {
    let me = actor.and_then(|a| a.person.as_deref());
    let all = actor.is_none_or(Actor::sees_whole_programme);
    let since = state.clock.now() - chrono::Duration::days(PAST_DAYS);
    let mut out = Vec::new();
    let drills: HashMap<i64, store::drills::Drill> = store::drills::list(&state.db, Some(&plan.id))
        .await?
        .into_iter()
        .filter(|d| !d.cancelled)
        .filter(|d| {
            all || me.is_some_and(|p| {
                d.facilitator.as_deref() == Some(p) || d.participants.iter().any(|x| x == p)
            })
        })
        .map(|d| (d.id, d))
        .collect();
    let ids: Vec<i64> = drills.keys().copied().collect();
    for o in store::drills::occurrences_since(&state.db, &ids, since).await? {
        let Some(drill) = drills.get(&o.drill_id) else {
            continue;
        };
        if o.state == store::drills::CANCELLED {
            continue;
        }
        let length = chrono::Duration::minutes(
            i64::try_from(drill.scenario.duration.minutes()).unwrap_or(60),
        );
        out.push(Entry {
            uid: o.uid.clone(),
            start: o.starts_at,
            end: o.starts_at + length,
            day: None,
            title: drill.title.clone(),
            path: format!("/occurrences/{}", o.id),
            drill: true,
            overdue: false,
        });
    }
    let today = state.clock.today();
    for s in &plan.systems {
        let mine = actor.is_some_and(|a| a.owns(s));
        if !(all || mine) {
            continue;
        }
        let due = plan.review_due(s).unwrap_or(today);
        let start = due.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        out.push(Entry {
            uid: format!("review-{}-{}-{due}@beredskab", plan.id, s.id),
            start,
            end: start + chrono::Duration::days(1),
            day: Some(due),
            title: format!("{review_word}: {}", s.name),
            path: format!("/plans/{}/systems/{}", plan.id, s.id),
            drill: false,
            overdue: due < today,
        });
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.title.cmp(&b.title)));
    Ok(out)
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Html<String>> {
    render(&state, &viewer, &plan_id, None).await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    plan_id: &str,
    feed_url: Option<String>,
) -> Result<Html<String>> {
    let user = viewer.require()?;
    let lang = &viewer.lang;
    let plan = load(state, plan_id).await?;
    let review_word = state.templates.text(lang, "calendar.review");
    let all = entries(state, &plan, None, &review_word).await?;
    let today = state.clock.today();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let month_key = |d: NaiveDate| (d.year(), d.month());
    let mut months: BTreeMap<(i32, u32), Vec<Value>> = BTreeMap::new();
    let mut m = first;
    for _ in 0..MONTHS {
        months.insert(month_key(m), Vec::new());
        m = m
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
    }
    let mut overdue = Vec::new();
    for e in &all {
        let day = e.day.unwrap_or_else(|| e.start.date_naive());
        let when = match e.day {
            Some(d) => i18n::date(d, lang),
            None => super::local(state, e.start, lang),
        };
        let row = json!({"when": when, "title": e.title, "path": e.path, "drill": e.drill});
        if e.overdue {
            overdue.push(row);
        } else if let Some(list) = months.get_mut(&month_key(day)) {
            list.push(row);
        }
    }
    let months: Vec<Value> = months
        .into_iter()
        .map(|((y, m), items)| {
            json!({
                "name": format!("{} {y}", state.templates.text(lang, &format!("calendar.month.{m}"))),
                "items": items,
            })
        })
        .collect();
    let has_feed = store::accounts::has_calendar_feed(&state.db, user.account.id).await?;
    page(
        state,
        viewer,
        "calendar",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "months": months,
            "overdue": overdue,
            "has_feed": has_feed,
            "feed_url": feed_url,
        }),
    )
}

/// Makes (or replaces) the signed-in user's secret feed address and shows it once.
async fn new_feed(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Html<String>> {
    let user = viewer.require()?;
    let token = auth::random_hex(32);
    state
        .new_calendar_feed(&user.account, auth::token_hash(&token))
        .await?;
    let url = state.config.link(&format!("/calendar/{token}.ics"));
    render(&state, &viewer, &plan_id, Some(url)).await
}

/// The feed behind a secret address: a wrong or replaced token is simply not found.
async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response> {
    let token = file.strip_suffix(".ics").ok_or(Error::NotFound)?;
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound);
    }
    let account = store::accounts::find_by_calendar_token_hash(&state.db, &auth::token_hash(token))
        .await?
        .ok_or(Error::NotFound)?;
    let lang = account
        .language
        .clone()
        .unwrap_or_else(|| state.config.language.clone());
    let signed_in = auth::signed_in(account);
    let user = &signed_in;
    let review_word = state.templates.text(&lang, "calendar.review");
    let mut cal = Calendar::new();
    cal.name(&format!("beredskab · {}", user.account.display_name.trim()));
    let base = state.config.public_url();
    for id in store::plan_ids(&state.db).await? {
        // Each plan as the account stands in it; plans it may not see are left out.
        let Some(user) = user.in_plan(id.as_str()) else {
            continue;
        };
        let Some(plan) = state.plans.plan(&state.db, &id).await? else {
            continue;
        };
        for e in entries(&state, &plan, Some(&user.actor), &review_word).await? {
            let mut event = Event::new();
            event
                .uid(&e.uid)
                .summary(&e.title)
                .url(&format!("{base}{}", e.path))
                .description(&format!("{} · {base}{}", plan.name, e.path));
            match e.day {
                Some(day) => {
                    event.all_day(day);
                }
                None => {
                    event.starts(e.start).ends(e.end);
                }
            }
            cal.push(event.done());
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        cal.done().to_string(),
    )
        .into_response())
}
