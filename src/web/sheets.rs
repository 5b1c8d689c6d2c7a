//! "Indlæs systemer fra regneark" (`/plans/{plan}/import`): the coordinator uploads a sheet,
//! sees per row what it would do, every cell that cannot be used and the findings it would
//! cause, and applies it to the draft. The upload is kept between the two steps (for a day, for
//! the account that made it), and "apply" writes only if the draft is as the preview showed it.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::auth::{MAX_UPLOAD_BYTES, Viewer};
use super::edit::Fields;
use super::pages::{load, page};
use super::{AppState, Error, Result};
use crate::app::sheets::{SheetAct, SheetImport, SheetImportError, SheetOptions};
use crate::domain::Plan;
use crate::domain::sheet::{Field, Mapping, Reading, RowChange};
use crate::render::findings::Words;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/plans/{plan}/import",
            get(form)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/plans/{plan}/import/apply", post(apply))
        .route("/plans/{plan}/import/columns", post(columns))
        .route("/import/systemer-eksempel.csv", get(example))
}

/// The example sheet of the README (docs/systemer-eksempel.csv): Danish headers, `;`.
async fn example() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"systemer-eksempel.csv\"",
            ),
        ],
        include_str!("../../docs/systemer-eksempel.csv"),
    )
        .into_response()
}

/// Rows shown one by one on the preview; beyond them, the rest is counted.
const ROWS_SHOWN: usize = 500;

/// What the page shows besides its form.
#[derive(Default)]
struct Shown {
    /// A locale key: why nothing was read, or what happened.
    message: Option<(&'static str, bool)>,
    preview: Option<Value>,
}

/// The page for an upload that is no longer kept (applied, a day old, or another account's).
async fn gone(state: &AppState, viewer: &Viewer, plan: &Plan) -> Result<Response> {
    let shown = Shown {
        message: Some(("import.gone", true)),
        preview: None,
    };
    render(state, viewer, plan, StatusCode::GONE, shown).await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    plan: &Plan,
    status: StatusCode,
    shown: Shown,
) -> Result<Response> {
    let (message, is_error) = shown.message.unzip();
    let mut response = page(
        state,
        viewer,
        "import",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "message": message,
            "message_is_error": is_error.unwrap_or(false),
            "written": message == Some("import.applied"),
            "preview": shown.preview,
            "max_mb": MAX_UPLOAD_BYTES / (1024 * 1024),
        }),
    )?
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// The preview as the page shows it; `upload` is the kept file "apply" names.
fn preview_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    done: &SheetImport,
    upload: Option<(&str, &str)>,
) -> Value {
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let p = &done.preview;
    let c = p.counts();
    let moving: Vec<Value> = p
        .rows
        .iter()
        .filter(|r| r.change != RowChange::Unchanged)
        .take(ROWS_SHOWN)
        .map(|r| {
            json!({
                "row": r.row,
                "system": r.system,
                "new": r.change == RowChange::New,
                "fields": match &r.change {
                    RowChange::Changed { fields } => fields.join(", "),
                    _ => String::new(),
                },
            })
        })
        .collect();
    let errors: Vec<String> = p
        .errors
        .iter()
        .take(ROWS_SHOWN)
        .map(|e| words.cell_error(e))
        .collect();
    let left_out: Vec<String> = p
        .left_out
        .iter()
        .take(ROWS_SHOWN)
        .map(|e| words.cell_error(e))
        .collect();
    let findings: Vec<Value> = done
        .new_findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code.as_str(),
                "error": f.severity() == crate::domain::Severity::Error,
                "text": words.finding(f),
            })
        })
        .collect();
    json!({
        "rows": c.rows,
        "new": c.new,
        "changed": c.changed,
        "unchanged": c.unchanged,
        "failing": c.failing,
        "left_out": left_out,
        "left_out_rows": c.left_out,
        "columns": p.columns.iter().map(|(header, field)| json!({
            "header": header,
            "options": std::iter::once(json!({"key": "", "label": state.templates.text(lang, "import.not_read"), "selected": field.is_none()}))
                .chain(Field::READ.iter().map(|f| json!({
                    "key": f.key(),
                    "label": state.templates.text(lang, &format!("sheet.col.{}", f.key())),
                    "selected": *field == Some(*f),
                })))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "new_people": p.new_people.iter().filter_map(|id| p.plan.person(id.as_str())).map(|person| json!({"id": person.id, "name": person.name, "email": person.email})).collect::<Vec<_>>(),
        "moving": moving,
        "more_rows": (c.new + c.changed).saturating_sub(ROWS_SHOWN),
        "errors": errors,
        "error_count": p.errors.len(),
        "more_errors": p.errors.len().saturating_sub(ROWS_SHOWN),
        "ignored": p.ignored_columns.join(", "),
        "findings": findings,
        "refused": done.has_errors(),
        "nothing": !done.has_errors() && !p.changes_anything(),
        "upload": upload.map(|(id, _)| id),
        "file_name": upload.map(|(_, name)| name),
        "revision": done.revision,
    })
}

async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
) -> Result<Response> {
    viewer.require_that(|a| a.edits_whole_plan())?;
    let plan = load(&state, &plan).await?;
    render(&state, &viewer, &plan, StatusCode::OK, Shown::default()).await
}

/// What the upload form sends.
struct Upload {
    file_name: String,
    bytes: Vec<u8>,
    sheet: Option<String>,
    how: Reading,
}

/// The upload form's file, sheet name and choice to leave out the rows with errors.
async fn read_form(form: Option<Multipart>) -> Option<Upload> {
    let mut form = form?;
    let (mut file, mut sheet, mut how) = (None, None, Reading::default());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.ok()?;
                file = Some((name, bytes.to_vec()));
            }
            Some("sheet") => {
                sheet = field
                    .text()
                    .await
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            Some("leave_out") => how.leave_out = true,
            Some("create_people") => how.create_people = true,
            _ => {}
        }
    }
    let (file_name, bytes) = file.filter(|(_, b)| !b.is_empty())?;
    Some(Upload {
        file_name,
        bytes,
        sheet,
        how,
    })
}

/// What the page says when a sheet could not be read; other errors are the error page's.
fn refused(e: SheetImportError) -> Result<&'static str> {
    match e {
        SheetImportError::Sheet(e) => Ok(e.key()),
        SheetImportError::App(e) => Err(e.into()),
    }
}

async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    request: Request,
) -> Result<Response> {
    // The form is read only once the account may import: a refusal is the same for any body.
    let user = viewer.require_that(|a| a.edits_whole_plan())?;
    let plan = load(&state, &plan_id).await?;
    let unreadable = async |key: &'static str| {
        let shown = Shown {
            message: Some((key, true)),
            preview: None,
        };
        render(
            &state,
            &viewer,
            &plan,
            StatusCode::UNPROCESSABLE_ENTITY,
            shown,
        )
        .await
    };
    let form = Multipart::from_request(request, &()).await.ok();
    let Some(form) = read_form(form).await else {
        return unreadable("import.no_file").await;
    };
    let done = match state
        .sheet_import(
            &plan.id,
            &user.actor,
            &form.bytes,
            SheetOptions {
                sheet: form.sheet.as_deref(),
                how: form.how,
                ..SheetOptions::default()
            },
            SheetAct::Preview,
        )
        .await
    {
        Ok(done) => done,
        Err(e) => return unreadable(refused(e)?).await,
    };
    // Kept whatever the preview says: its columns may be chosen otherwise and read again.
    let options = SheetOptions {
        sheet: form.sheet.as_deref(),
        how: form.how,
        ..SheetOptions::default()
    };
    let kept = Some(
        state
            .keep_upload(&plan.id, &user.actor, &form.file_name, options, form.bytes)
            .await?,
    );
    let status = if done.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let lang = viewer.lang.as_str();
    let preview = preview_view(
        &state,
        lang,
        &plan,
        &done,
        kept.as_deref().map(|id| (id, form.file_name.as_str())),
    );
    let shown = Shown {
        message: None,
        preview: Some(preview),
    };
    render(&state, &viewer, &plan, status, shown).await
}

async fn apply(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.edits_whole_plan())?;
    let plan = load(&state, &plan_id).await?;
    let f = Fields(pairs);
    let Ok(seen) = f.get("revision").parse::<i64>() else {
        return Err(Error::Invalid("import.gone"));
    };
    let upload_id = f.get("upload");
    let done = match state
        .apply_upload(&plan.id, &user.actor, &upload_id, seen)
        .await
    {
        Ok(done) => done,
        Err(e) => return Err(Error::Invalid(refused(e)?)),
    };
    let Some((upload, done)) = done else {
        return gone(&state, &viewer, &plan).await;
    };
    let lang = viewer.lang.as_str();
    if done.applied {
        tracing::info!(user = %user.actor.username, plan = %plan.id, file = %upload.file_name, "sheet imported");
        let plan = load(&state, &plan_id).await?;
        let shown = Shown {
            message: Some(("import.applied", false)),
            preview: Some(preview_view(&state, lang, &plan, &done, None)),
        };
        return render(&state, &viewer, &plan, StatusCode::OK, shown).await;
    }
    // The draft changed since the preview (or the sheet now conflicts with it): the preview
    // of the draft as it is now, with "apply" again if nothing is in the way.
    let again = Some((upload.id.as_str(), upload.file_name.as_str()));
    let status = if done.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    };
    let shown = Shown {
        message: Some((
            if done.stale {
                "import.stale"
            } else if done.has_errors() {
                "sheet.preview.refused"
            } else {
                "sheet.preview.nothing"
            },
            true,
        )),
        preview: Some(preview_view(&state, lang, &plan, &done, again)),
    };
    render(&state, &viewer, &plan, status, shown).await
}

/// The columns chosen on the preview: each header (`h0`, `h1`, …) read as its field (`f0`, …;
/// empty: not read), kept for the next sheet with `remember`; the sheet read again with them.
async fn columns(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.edits_whole_plan())?;
    let plan = load(&state, &plan_id).await?;
    let f = Fields(pairs);
    let mut chosen = Mapping::default();
    for i in 0.. {
        let header = f.get(&format!("h{i}"));
        if header.is_empty() {
            break;
        }
        let field = match f.get(&format!("f{i}")).as_str() {
            "" => None,
            key => Some(Field::from_key(key).ok_or(Error::Invalid("import.gone"))?),
        };
        chosen.0.insert(Mapping::key(&header), field);
    }
    let remember = f.get("remember") == "1";
    let done = match state
        .choose_columns(&plan.id, &user.actor, &f.get("upload"), &chosen, remember)
        .await
    {
        Ok(done) => done,
        Err(e) => return Err(Error::Invalid(refused(e)?)),
    };
    let Some((upload, done)) = done else {
        return gone(&state, &viewer, &plan).await;
    };
    let status = if done.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let lang = viewer.lang.as_str();
    let shown = Shown {
        message: remember.then_some(("import.columns_kept", false)),
        preview: Some(preview_view(
            &state,
            lang,
            &plan,
            &done,
            Some((upload.id.as_str(), upload.file_name.as_str())),
        )),
    };
    render(&state, &viewer, &plan, status, shown).await
}
