//! The incident page: what is down and what that takes down, the recovery order, each system's
//! checklist and clock against its RTO, the timeline; whole, or its live part as server-sent
//! events.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct ShowQuery {
    /// `live`: only the part of the page that changes, for the page's script.
    part: Option<String>,
    /// A system affected through a dependency whose checklist is shown too.
    system: Option<String>,
}

/// What the incident page shows.
/// What the incident page shows. The checklists are those of the systems marked down — the
/// ones whose recovery steps are carried out — and of `expand`; a system affected only through
/// a dependency shows its clock and how many of its steps are ticked, with a link to its list.
pub(super) async fn incident_view(
    state: &AppState,
    l: &Loaded,
    lang: &str,
    expand: Option<&str>,
) -> Result<Value> {
    let now = state.clock.now();
    let i = &l.incident;
    let plan = &l.plan;
    let outages: Vec<Outage> = store_incidents::outages(&state.db, i.id).await?;
    let until = i.closed_at.unwrap_or(now);
    let situation = incident::situation(plan, &outages, until);
    let mut ticked: HashMap<(String, i32), (String, DateTime<Utc>)> = HashMap::new();
    for t in store_incidents::ticks(&state.db, i.id).await? {
        ticked.insert((t.system_id, t.step), (t.ticked_by, t.ticked_at));
    }
    let names = state.names().await?;
    let open = i.state != store_incidents::CLOSED;
    let may = l.may_work && open;
    let t = |key: &str| state.templates.text(lang, key);
    let (tick_label, untick_label) = (t("incident.tick"), t("incident.untick"));
    let ticked_by = t("incident.ticked_by");
    let step_view = |system: &str, step: i32, text: &str, meta: String| {
        let tick = ticked.get(&(system.to_string(), step));
        let n = step + 1;
        let meta = match tick {
            Some((by, at)) => {
                let done = ticked_by
                    .replace("{by}", &names.of(by))
                    .replace("{at}", &local(state, *at, lang));
                if meta.is_empty() {
                    done
                } else {
                    format!("{meta} · {done}")
                }
            }
            None => meta,
        };
        json!({
            "system": system,
            "step": step,
            "n": n,
            "text": text,
            "meta": meta,
            "done": tick.is_some(),
            "label": format!("{} {n}", if tick.is_some() { &untick_label } else { &tick_label }),
        })
    };
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    // Strings on every row are looked up once.
    let (down_tag, dependency_tag) = (t("incident.is_down"), t("incident.through_deps"));
    let (since_text, earliest_text) = (t("incident.since_short"), t("incident.earliest"));
    let progress_text = t("incident.steps_done");
    let clock_texts: HashMap<&str, String> = ["green", "amber", "red", "none"]
        .into_iter()
        .map(|c| (c, t(&format!("incident.clock.{c}"))))
        .collect();
    let affected: Vec<Value> = situation
        .affected
        .iter()
        .map(|a| {
            let system = plan.system(a.id.as_str());
            let all = system.map_or(0, |s| s.recovery_steps.len());
            let done = (0..all)
                .filter(|n| {
                    ticked.contains_key(&(a.id.to_string(), i32::try_from(*n).unwrap_or(i32::MAX)))
                })
                .count();
            let shown = a.down || expand == Some(a.id.as_str());
            let steps: Vec<Value> = system
                .filter(|_| shown)
                .map(|s| {
                    s.recovery_steps
                        .iter()
                        .enumerate()
                        .map(|(n, st)| {
                            let meta = format!("{} · {}", role_name(&st.role), i18n::duration(st.duration, lang));
                            step_view(a.id.as_str(), i32::try_from(n).unwrap_or(i32::MAX), &st.text, meta)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let clock = a.clock.map_or("none", Clock::as_str);
            json!({
                "id": a.id,
                "name": system.map_or(a.id.as_str(), |s| s.name.as_str()),
                "down": a.down,
                "detail": shown,
                "tag": if a.down { &down_tag } else { &dependency_tag },
                "since_text": since_text.replace("{at}", &local(state, a.since, lang)),
                "elapsed": i18n::duration(a.elapsed, lang),
                "rto": a.rto.map(|d| i18n::duration(d, lang)),
                "clock": clock,
                "clock_text": clock_texts.get(clock).cloned().unwrap_or_default(),
                "earliest_text": earliest_text.replace("{earliest}", &i18n::duration(a.earliest_recovery, lang)),
                "progress": progress_text.replace("{done}", &done.to_string()).replace("{total}", &all.to_string()),
                "feasible": a.feasible,
                "workaround": system.map(|s| s.workaround.clone()).unwrap_or_default(),
                "verification": system.map(|s| s.verification.clone()).unwrap_or_default(),
                "steps": steps,
                "steps_hidden": !shown && all > 0,
                "supplier": system.and_then(|s| s.supplier.as_ref()).map(|x| json!({"name": x.name, "phone": x.phone, "tel": tel(&x.phone)})),
            })
        })
        .collect();
    // When each recovered system came back: the outages `situation` made its list from, in
    // the same order.
    let back: Vec<DateTime<Utc>> = outages
        .iter()
        .filter(|o| plan.system(o.system.as_str()).is_some())
        .filter_map(|o| o.recovered_at)
        .collect();
    let (was_down, back_at) = (t("incident.was_down"), t("incident.back_at"));
    let recovered: Vec<Value> = situation
        .recovered
        .iter()
        .zip(&back)
        .map(|(r, at)| {
            json!({
                "id": r.id,
                "name": plan.system(r.id.as_str()).map_or(r.id.as_str(), |s| s.name.as_str()),
                "took": i18n::duration(r.took, lang),
                "was_down": was_down.replace("{took}", &i18n::duration(r.took, lang)),
                "back_at": back_at.replace("{at}", &local(state, *at, lang)),
                "rto": r.rto.map(|d| i18n::duration(d, lang)),
                "met": r.rto_met,
            })
        })
        .collect();
    // What to do next: the first unticked step of the first system down in the recovery order
    // (what others depend on comes first), with its workaround.
    let step_of = t("incident.step_of");
    let next = situation.affected.iter().filter(|a| a.down).find_map(|a| {
        let system = plan.system(a.id.as_str())?;
        let (n, step) = system.recovery_steps.iter().enumerate().find(|(n, _)| {
            !ticked.contains_key(&(a.id.to_string(), i32::try_from(*n).unwrap_or(i32::MAX)))
        })?;
        let meta = format!(
            "{} · {}",
            role_name(&step.role),
            i18n::duration(step.duration, lang)
        );
        Some(json!({
            "id": a.id,
            "name": system.name,
            "of": step_of
                .replace("{n}", &(n + 1).to_string())
                .replace("{total}", &system.recovery_steps.len().to_string()),
            "step": step_view(a.id.as_str(), i32::try_from(n).unwrap_or(i32::MAX), &step.text, meta),
            "workaround": system.workaround,
        }))
    });
    let system_name = |id: &Option<String>| {
        id.as_deref()
            .map(|s| plan.system(s).map_or(s.to_string(), |x| x.name.clone()))
            .unwrap_or_default()
    };
    let events = store_incidents::events(&state.db, i.id).await?;
    let (alerted, acknowledged) = alert_status(state, plan, i.id, lang).await?;
    let teams = teams_status(state, i.id, lang).await?;
    // The latest alert of the call tree, said beside the button: when, by whom, how many.
    let last_alert = events.iter().rev().find(|e| e.kind == "alert").map(|e| {
        let n = e.text.parse::<usize>().unwrap_or(0);
        state
            .templates
            .counted(lang, "incident.alerted", n)
            .replace("{at}", &local(state, e.at, lang))
            .replace("{by}", &names.of(&e.author))
    });
    // What a timeline entry says, by its kind.
    let said = |kind: &str, system_id: &Option<String>, text: &str| -> String {
        match kind {
            "note" => text.to_string(),
            "open" => t("incident.ev.open").replace("{title}", text),
            "tick" | "untick" => {
                let what = if system_id.is_some() {
                    system_name(system_id)
                } else {
                    t("incident.stand_down")
                };
                let n = text.parse::<i32>().map_or(0, |n| n + 1);
                t(&format!("incident.ev.{kind}"))
                    .replace("{system}", &what)
                    .replace("{n}", &n.to_string())
            }
            "alert" => {
                state
                    .templates
                    .counted(lang, "incident.ev.alert", text.parse().unwrap_or(0))
            }
            "ack" => {
                let (answer, note) = text.split_once(": ").unwrap_or((text, ""));
                let said = t(&format!("incident.ev.ack_{answer}"));
                if note.is_empty() {
                    said
                } else {
                    format!("{said}: {note}")
                }
            }
            "escalate" => {
                let (from, to) = text.split_once(" -> ").unwrap_or(("", ""));
                let name = |id: &str| plan.person(id).map_or(id.to_string(), |p| p.name.clone());
                t("incident.ev.escalate")
                    .replace("{from}", &name(from))
                    .replace("{to}", &name(to))
            }
            kind => t(&format!("incident.ev.{kind}")).replace("{system}", &system_name(system_id)),
        }
    };
    let timeline: Vec<Value> = delivery_runs(&events)
        .into_iter()
        .map(|run| match run {
            Run::Deliveries(run) => {
                let first = run[0];
                json!({"at": local(state, first.at, lang), "author": "", "text": deliveries_said(state, plan, lang, &run), "note": false})
            }
            Run::One(e) => {
                let text = if e.kind == "late" {
                    // An action from a phone that arrived after what it would do had happened.
                    let late: Value = serde_json::from_str(&e.text).unwrap_or_default();
                    let kind = late["kind"].as_str().unwrap_or("");
                    let inner = if kind == "note" {
                        late["text"].as_str().unwrap_or("").to_string()
                    } else {
                        late["step"].as_i64().unwrap_or(0).to_string()
                    };
                    let key = if late["closed"].as_bool().unwrap_or(false) {
                        "incident.ev.late_closed"
                    } else {
                        "incident.ev.late"
                    };
                    t(key).replace("{what}", &said(kind, &e.system_id, &inner))
                } else {
                    said(&e.kind, &e.system_id, &e.text)
                };
                json!({
                    "at": local(state, e.at, lang),
                    "author": names.of(&e.author),
                    "text": text,
                    "note": e.kind == "note",
                    "late": e.kind == "late",
                    // Done on a phone while offline, and recorded when it was back.
                    "synced": e.recorded_at.map(|at| t("incident.synced").replace("{at}", &local(state, at, lang))),
                })
            }
        })
        .collect();
    let stand_down: Vec<Value> = STAND_DOWN_ITEMS
        .iter()
        .enumerate()
        .map(|(n, key)| {
            step_view(
                STAND_DOWN,
                i32::try_from(n).unwrap_or(0),
                &t(key),
                String::new(),
            )
        })
        .collect();
    let down_now: Vec<&str> = situation
        .affected
        .iter()
        .filter(|a| a.down)
        .map(|a| a.id.as_str())
        .collect();
    Ok(json!({
        "plan": {"id": plan.id, "name": plan.name},
        "incident": {
            "id": i.id,
            "title": i.title,
            "criterion": i.criterion,
            "started": local(state, i.started_at, lang),
            "opened_by": names.of(&i.opened_by),
            "last_alert": last_alert,
            "state": i.state,
            "state_key": format!("incident.state.{}", i.state),
            "version": i.version,
            "revision": i.revision,
            "closed": !open,
            "standing_down": i.state == store_incidents::STANDING_DOWN,
        },
        "affected": affected,
        "affected_count": situation.affected.len(),
        "down_count": down_now.len(),
        "recovered": recovered,
        "next": next,
        "timeline": timeline,
        "stand_down": stand_down,
        "return_to_normal": plan.sections.return_to_normal,
        // By the name shown, as a reader looks for it.
        "markable": by_name(plan.systems.iter().filter(|s| !down_now.contains(&s.id.as_str())))
            .into_iter()
            .map(|s| json!({"id": s.id, "name": s.name}))
            .collect::<Vec<_>>(),
        "call_tree": plan.call_tree.iter().filter_map(|c| plan.person(c.person.as_str())).map(|p| json!({"name": p.name, "title": p.title, "phone": p.phone, "tel": tel(&p.phone), "email": p.email, "alert": alerted.get(p.id.as_str())})).collect::<Vec<_>>(),
        "deputies": alerted.iter().filter(|(id, _)| !plan.call_tree.iter().any(|c| c.person.as_str() == *id)).map(|(_, v)| v).collect::<Vec<_>>(),
        "acknowledged": acknowledged,
        "teams": teams,
        "may_work": may,
        "may_lead": l.may_lead && open,
        "labels": {
            "show_steps": t("incident.show_steps"),
            "not_feasible": t("incident.not_feasible"),
            "workaround": t("system.workaround"),
            "verification": t("system.verification"),
            "mark_recovered": t("incident.mark_recovered"),
        },
    }))
}

/// Stands in for the session's CSRF token in cached renderings; replaced on the way out.
pub(super) const CSRF_SLOT: &str = "CSRFSLOT0b7d4e";

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    // The changing part is rendered once per incident revision, minute (the clocks), language,
    // opened checklist and permissions, then served from memory to everyone in the incident.
    let minute = state.clock.now().timestamp() / 60;
    let expand = q.system.as_deref().unwrap_or("");
    let key = format!(
        "incident|{id}|{}|{minute}|{}|{expand}|{}|{}",
        l.incident.revision, viewer.lang, l.may_work, l.may_lead
    );
    let live = state
        .fragments
        .get_or_render(key, || async {
            let mut data = incident_view(&state, &l, &viewer.lang, q.system.as_deref()).await?;
            data["csrf"] = json!(CSRF_SLOT);
            Ok::<_, Error>(
                state
                    .templates
                    .fragment("incident_live", &viewer.lang, data)?,
            )
        })
        .await?;
    let live = live
        .html
        .replace(CSRF_SLOT, viewer.csrf.as_deref().unwrap_or_default());
    if q.part.as_deref() == Some("live") {
        // Only the changing part, for the page's script.
        return Ok(axum::response::Html(live).into_response());
    }
    let data = json!({
        "path": format!("/incidents/{id}"),
        "plan": {"id": l.plan.id, "name": l.plan.name},
        "incident": {"id": id, "title": l.incident.title, "revision": l.incident.revision},
        "may_work": l.may_work && l.incident.state != store_incidents::CLOSED,
        "live": live,
    });
    page(&state, &viewer, "incident", data).map(IntoResponse::into_response)
}

/// Server-sent events: `changed` with the incident's revision whenever it changes. The stream
/// waits on the server's one watcher (`live`), so an open page reads nothing from the database
/// until the incident changes, through this server or another one. The stream ends when the
/// server shuts down; browsers reconnect on their own.
pub(super) async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    viewer.require()?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    viewer.require_in(&incident.plan_id)?;
    let revisions = state.live.follow(id, incident.revision);
    let stopping = state.stopping.clone();
    let stream = futures_util::stream::unfold(
        (revisions, stopping, true),
        |(mut revisions, mut stopping, first)| async move {
            if !first {
                tokio::select! {
                    _ = stopping.changed() => return None,
                    changed = revisions.changed() => changed.ok()?,
                }
                if *stopping.borrow() {
                    return None;
                }
            }
            let current = *revisions.borrow_and_update();
            let event = SseEvent::default()
                .event("changed")
                .data(current.to_string());
            Some((Ok::<_, Infallible>(event), (revisions, stopping, false)))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The latest Teams card of the incident's alerts: delivered (with when), failed (with the
/// reply) or waiting; `None` when no card was sent.
async fn teams_status(state: &AppState, id: i64, lang: &str) -> Result<Option<Value>> {
    let cards = crate::store::alerts::teams_messages(&state.db, id).await?;
    Ok(cards.last().map(|m| delivery_view(state, lang, m)))
}

/// How one alert message went, as the page says it: its channel, delivered (with when),
/// failed (with the reply) or waiting.
fn delivery_view(state: &AppState, lang: &str, m: &crate::store::outbox::Message) -> Value {
    use crate::store::outbox::{FAILED, SENT};
    let t = |key: &str| state.templates.text(lang, key);
    let (key, at) = match m.state.as_str() {
        SENT => ("alert.delivered", m.sent_at),
        FAILED => ("alert.failed", None),
        _ => ("alert.waiting", None),
    };
    json!({
        "channel": t(&format!("alert.channel_{}", m.channel)),
        "state": m.state,
        "failed": m.state == FAILED,
        "said": t(key),
        "at": at.map(|at| clock_time(state, lang, at)),
        "error": (m.state == FAILED).then(|| m.last_error.clone()),
    })
}

/// Who was alerted and how it went, per person (the latest alert of each): by which channels,
/// whether each was delivered (handed to the provider), failed or is still waiting, and their
/// answer; with "7 af 12 har kvitteret".
async fn alert_status(
    state: &AppState,
    plan: &Plan,
    id: i64,
    lang: &str,
) -> Result<(std::collections::BTreeMap<String, Value>, Option<String>)> {
    use crate::store::alerts;
    let t = |key: &str| state.templates.text(lang, key);
    let recipients = alerts::of_incident(&state.db, id).await?;
    if recipients.is_empty() {
        return Ok((Default::default(), None));
    }
    let messages = alerts::messages(&state.db, alerts::Target::Incident(id)).await?;
    let mut people = std::collections::BTreeMap::new();
    for r in &recipients {
        let channels: Vec<Value> = messages
            .iter()
            .filter(|m| m.alert_recipient_id == Some(r.id))
            .map(|m| delivery_view(state, lang, m))
            .collect();
        let no_channel = channels.is_empty();
        let mail_only = state.config.sms_provider.is_some()
            && !no_channel
            && !r.channels.split(',').any(|c| c == "sms");
        let name = plan
            .person(&r.person_id)
            .map_or(r.person_id.clone(), |p| p.name.clone());
        // A person alerted more than once (again, or as someone's deputy) shows the channels of
        // their latest alert, and the answer they gave to any of them.
        let mine = || recipients.iter().filter(|o| o.person_id == r.person_id);
        let answered_row = mine().find(|o| o.acknowledged_at.is_some()).unwrap_or(r);
        let escalated_at = mine().find_map(|o| o.escalated_at);
        let answer = answered_row
            .answer
            .as_ref()
            .map(|a| t(&format!("alert.answer_{a}")));
        let escalated_from = r.escalated_from.as_deref().map(|from| {
            plan.person(from)
                .map_or(from.to_string(), |p| p.name.clone())
        });
        people.insert(
            r.person_id.clone(),
            json!({
                "name": name,
                "channels": channels,
                "no_channel": no_channel,
                // SMS is configured, but this person's number cannot take one (or there is none).
                "mail_only": mail_only,
                "answer": answer,
                "coming": answered_row.answer.as_deref() == Some(alerts::COMING),
                "answered_at": answered_row
                    .acknowledged_at
                    .map(|at| clock_time(state, lang, at)),
                "note": answered_row.note,
                "escalated": escalated_at.map(|at| clock_time(state, lang, at)),
                "escalated_from": escalated_from,
            }),
        );
    }
    let answered = recipients
        .iter()
        .filter(|r| r.acknowledged_at.is_some())
        .map(|r| r.person_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let said = t("alert.acknowledged")
        .replace("{n}", &answered.to_string())
        .replace("{total}", &people.len().to_string());
    Ok((people, Some(said)))
}

/// An entry of the timeline as shown: one event, or the deliveries of alert messages that
/// followed one another within a minute, told together.
enum Run<'e> {
    One(&'e store_incidents::Event),
    Deliveries(Vec<&'e store_incidents::Event>),
}

fn delivery_runs(events: &[store_incidents::Event]) -> Vec<Run<'_>> {
    let mut runs: Vec<Run<'_>> = Vec::new();
    for e in events {
        if e.kind == "delivery" {
            if let Some(Run::Deliveries(run)) = runs.last_mut()
                && e.at - run[0].at < chrono::Duration::minutes(1)
            {
                run.push(e);
                continue;
            }
            runs.push(Run::Deliveries(vec![e]));
        } else {
            runs.push(Run::One(e));
        }
    }
    runs
}

/// "Leveret – SMS: 11, Mail: 12. Ikke leveret – SMS til Julie Frederiksen."
fn deliveries_said(
    state: &AppState,
    plan: &Plan,
    lang: &str,
    run: &[&store_incidents::Event],
) -> String {
    let t = |key: &str| state.templates.text(lang, key);
    // SMS first, as a reader in an outage looks for it.
    let mut delivered: Vec<(usize, String, usize)> = Vec::new();
    let mut failed = Vec::new();
    for e in run {
        let mut parts = e.text.splitn(3, ':');
        let (channel, outcome, person) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let order = ["sms", "mail", "teams", "webhook"]
            .iter()
            .position(|c| *c == channel)
            .unwrap_or(4);
        let channel = t(&format!("alert.channel_{channel}"));
        if outcome == "delivered" {
            match delivered.iter_mut().find(|(_, c, _)| *c == channel) {
                Some((_, _, n)) => *n += 1,
                None => delivered.push((order, channel, 1)),
            }
        } else {
            let name = plan
                .person(person)
                .map_or(person.to_string(), |p| p.name.clone());
            failed.push(
                t("incident.ev.failed_to")
                    .replace("{channel}", &channel)
                    .replace("{name}", &name),
            );
        }
    }
    let mut said = Vec::new();
    delivered.sort();
    if !delivered.is_empty() {
        let counts: Vec<String> = delivered
            .iter()
            .map(|(_, c, n)| format!("{c}: {n}"))
            .collect();
        said.push(t("incident.ev.delivered").replace("{what}", &counts.join(", ")));
    }
    if !failed.is_empty() {
        said.push(t("incident.ev.not_delivered").replace("{what}", &failed.join(", ")));
    }
    said.join(" ")
}

/// The local time of day, "kl. 03:12": what an incident lead reads beside each person.
fn clock_time(state: &AppState, lang: &str, at: DateTime<Utc>) -> String {
    let time = at.with_timezone(&state.config.time_zone).format("%H:%M");
    state
        .templates
        .text(lang, "alert.at")
        .replace("{at}", &time.to_string())
}
