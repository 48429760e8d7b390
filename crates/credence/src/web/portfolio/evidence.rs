//! Evidence: the upload form and upload, an item's page and file, mapping, KSBs,
//! superseding and deleting.

use super::*;

#[derive(Template)]
#[template(path = "evidence_new.html")]
pub(super) struct UploadPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    kinds: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    limit: String,
    meta: EvidenceMeta,
    today: String,
    /// Set when replacing an item: its id and title.
    replacing: Option<(i64, String)>,
    /// Why it is being replaced, as typed.
    reason: String,
}

pub(super) async fn upload_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    meta: EvidenceMeta,
    error: Option<AppError>,
    replacing: Option<(i64, String, String)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let (replacing, reason) = match replacing {
        Some((id, title, reason)) => (Some((id, title)), reason),
        None => (None, String::new()),
    };
    if !p.may_add {
        return Err(if p.is_learner {
            AppError::Conflict(crate::app::portfolio::NOT_CURRENT.into())
        } else {
            AppError::Forbidden(
                "Only the learner and their assigned assessor add evidence to this portfolio."
                    .into(),
            )
        }
        .into());
    }
    let status = error.as_ref().map(crate::web::status_of);
    let page = UploadPage {
        title: if replacing.is_some() {
            "Replace evidence".into()
        } else {
            "Add evidence".into()
        },
        has_error: error.is_some(),
        error: error.map(|e| crate::web::public_message(&e)),
        csrf: crate::web::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        kinds: KINDS.to_vec(),
        sources: SOURCES.to_vec(),
        limit: crate::evidence_store::human_size(app.max_upload),
        meta,
        today: chrono::Utc::now()
            .date_naive()
            .format("%d/%m/%Y")
            .to_string(),
        replacing,
        reason,
    };
    Ok(render_as(status, &page))
}

pub(super) async fn upload_form(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
) -> Result<Response, PageError> {
    let meta = EvidenceMeta {
        source: "real_workplace".into(),
        ..EvidenceMeta::default()
    };
    upload_page(&app, &actor, learner, meta, None, None).await
}

/// Read the form's text fields (which come before the file), then stream the file field
/// into the portfolio: a new item, or a new version of `replacing` (with the form's
/// `reason`). Returns what the form said, and the new item's id or the problem.
pub(super) async fn receive_upload(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    multipart: &mut Multipart,
    replacing: Option<i64>,
    address: &str,
) -> (EvidenceMeta, String, AppResult<i64>) {
    let mut meta = EvidenceMeta::default();
    let mut reason = String::new();
    let result = loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break Err(AppError::Validation("Choose the file to upload".into())),
            Err(e) => {
                break Err(AppError::Validation(format!(
                    "the form could not be read: {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            meta.file_name = field.file_name().unwrap_or_default().to_string();
            if meta.file_name.is_empty() {
                break Err(AppError::Validation("Choose the file to upload".into()));
            }
            break match replacing {
                Some(old) => {
                    app.supersede_evidence(actor, learner, old, &reason, &meta, field, address)
                        .await
                }
                None => {
                    app.add_evidence(actor, learner, &meta, field, address)
                        .await
                }
            };
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => {
                break Err(AppError::Validation(format!(
                    "the form could not be read: {e}"
                )));
            }
        };
        match name.as_str() {
            "title" => meta.title = value,
            "date" => meta.date = value,
            "kind" => meta.kind = value,
            "kind_other" => meta.kind_other = Some(value),
            "witness_name" => meta.witness_name = Some(value),
            "witness_role" => meta.witness_role = Some(value),
            "source" => meta.source = value,
            "simulation_note" => meta.simulation_note = Some(value),
            "reason" => reason = value,
            _ => {}
        }
    };
    // Read what is left of the request so the browser sees the answer.
    while let Ok(Some(_)) = multipart.next_field().await {}
    (meta, reason, result)
}

pub(super) async fn upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(learner): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let address = client_address(&headers);
    let (meta, _, result) =
        receive_upload(&app, &actor, learner, &mut multipart, None, &address).await;
    match result {
        Ok(id) => Ok(
            Redirect::to(&format!("/learners/{learner}/evidence/{id}?done=uploaded"))
                .into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            upload_page(&app, &actor, learner, meta, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) struct MapRow {
    unit_key: String,
    unit: String,
    criterion: String,
    text: String,
    location: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "evidence.html")]
pub(super) struct EvidencePage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    id: i64,
    item_title: String,
    kind: String,
    date: String,
    /// The stored date, for the replacement form.
    date_value: String,
    source: String,
    simulation_note: String,
    file_name: String,
    media_type: String,
    size: String,
    sha256: String,
    added_by: String,
    added_at: String,
    /// When it was added, as stored (RFC 3339), for `<time datetime>`.
    added_iso: String,
    superseded_by: Option<i64>,
    supersede_reason: String,
    supersedes: Vec<(i64, String, String)>,
    mappings: Vec<MapRow>,
    ksbs: Vec<String>,
    ksb_options: Vec<(String, String)>,
    /// The criteria to map to, grouped by unit: the plan's units first (then units outside
    /// it with work), the qualifications' other units in `other_groups`.
    groups: Vec<MapGroup>,
    other_groups: Vec<MapGroup>,
    kept_location: String,
    may_change: bool,
    locked_units: String,
    kind_code: String,
    source_code: String,
    kind_other: String,
    witness_name: String,
    witness_role: String,
}

/// A unit's criteria on the mapping form.
pub(super) struct MapGroup {
    legend: String,
    /// Not in the learner's plan.
    outside: bool,
    options: Vec<MapOption>,
}

pub(super) struct MapOption {
    id: String,
    value: String,
    label: String,
    /// Already mapped to this item (mapping again updates the location).
    mapped: bool,
    /// Ticked when the form came back with a problem.
    ticked: bool,
}

pub(super) async fn evidence_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    id: i64,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    evidence_response_kept(app, actor, learner, id, error, notice, None).await
}

/// The evidence page, with the mapping form showing what was sent (after a problem).
pub(super) async fn evidence_response_kept(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    id: i64,
    error: Option<AppError>,
    notice: Option<String>,
    kept: Option<(&[String], &str)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let e = p
        .item(id)
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("evidence {id}"))))?;
    let mappings = p
        .mappings
        .iter()
        .filter(|m| m.evidence_id == id)
        .map(|m| {
            let pu = p.unit(&m.unit_key);
            MapRow {
                unit_key: m.unit_key.clone(),
                unit: pu
                    .map(|u| u.unit.ao_ref.clone())
                    .unwrap_or_else(|| m.unit_key.clone()),
                text: pu
                    .and_then(|u| {
                        u.unit
                            .judged_items()
                            .into_iter()
                            .find(|(n, _)| *n == m.criterion)
                            .map(|(_, t)| t.to_string())
                    })
                    .unwrap_or_default(),
                criterion: m.criterion.clone(),
                location: m.location.clone(),
                locked: pu.is_some_and(|u| u.locked),
            }
        })
        .collect();
    let kept_targets: Vec<String> = kept.map(|k| k.0.to_vec()).unwrap_or_default();
    let mapped_here: std::collections::BTreeSet<(String, String)> = p
        .mappings
        .iter()
        .filter(|m| m.evidence_id == id)
        .map(|m| (m.unit_key.clone(), m.criterion.clone()))
        .collect();
    let group_of = |u: &crate::app::portfolio::PortfolioUnit| MapGroup {
        legend: format!("{} {}", u.unit.ao_ref, u.unit.title),
        outside: !u.in_plan,
        options: u
            .unit
            .judged_items()
            .into_iter()
            .map(|(n, t)| {
                let value = format!("{}|{n}", u.unit.key);
                MapOption {
                    id: format!("map-{}-{n}", unit_slug(&u.unit.key)),
                    label: format!("{} {n}: {t}", u.unit.ao_ref),
                    mapped: mapped_here.contains(&(u.unit.key.to_string(), n.to_string())),
                    ticked: kept_targets.contains(&value),
                    value,
                }
            })
            .collect(),
    };
    let groups: Vec<MapGroup> = p
        .units
        .iter()
        .filter(|u| u.in_plan)
        .chain(p.units.iter().filter(|u| !u.in_plan && u.has_work))
        .map(group_of)
        .collect();
    let other_groups: Vec<MapGroup> = p
        .units
        .iter()
        .filter(|u| !u.in_plan && !u.has_work)
        .map(group_of)
        .collect();
    let ksb_options: Vec<(String, String)> = p
        .units
        .iter()
        .flat_map(|u| u.unit.ksb.iter())
        .map(|k| {
            (
                k.code.to_uppercase(),
                format!(
                    "{}: {}",
                    k.code,
                    k.text.chars().take(80).collect::<String>()
                ),
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let status = error.as_ref().map(crate::web::status_of);
    let page = EvidencePage {
        title: format!("Evidence: {}", e.title),
        has_error: error.is_some(),
        error: error.map(|e| crate::web::public_message(&e)),
        notice,
        csrf: crate::web::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        id,
        item_title: e.title.clone(),
        kind: match e.kind.as_str() {
            "witness_testimony" => format!(
                "Witness testimony by {} ({})",
                e.witness_name.clone().unwrap_or_default(),
                e.witness_role.clone().unwrap_or_default()
            ),
            "other" => e.kind_other.clone().unwrap_or_else(|| "Other".into()),
            k => KINDS
                .iter()
                .find(|(c, _)| *c == k)
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
        },
        date: crate::web::format::uk_date(&e.evidence_date),
        date_value: e.evidence_date.clone(),
        source: SOURCES
            .iter()
            .find(|(c, _)| *c == e.source)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default(),
        simulation_note: e.simulation_note.clone().unwrap_or_default(),
        file_name: e.file_name.clone(),
        media_type: e.media_type.clone(),
        size: crate::evidence_store::human_size(u64::try_from(e.size).unwrap_or(0)),
        sha256: e.sha256.clone(),
        added_by: e.added_by_name.clone(),
        added_at: crate::web::format::uk_date_time(&e.added_at),
        added_iso: e.added_at.clone(),
        superseded_by: e.superseded_by,
        supersede_reason: e.supersede_reason.clone().unwrap_or_default(),
        supersedes: p
            .evidence
            .iter()
            .filter(|o| o.superseded_by == Some(id))
            .map(|o| {
                (
                    o.evidence_id,
                    o.title.clone(),
                    o.supersede_reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        mappings,
        ksbs: p
            .ksbs
            .iter()
            .filter(|k| k.evidence_id == id)
            .map(|k| k.ksb.clone())
            .collect(),
        ksb_options,
        groups,
        other_groups,
        kept_location: kept.map(|k| k.1.to_string()).unwrap_or_default(),
        may_change: p.may_add && e.superseded_by.is_none(),
        locked_units: p.locked_units_of(id).join(", "),
        kind_code: e.kind.clone(),
        source_code: e.source.clone(),
        kind_other: e.kind_other.clone().unwrap_or_default(),
        witness_name: e.witness_name.clone().unwrap_or_default(),
        witness_role: e.witness_role.clone().unwrap_or_default(),
    };
    Ok(render_as(status, &page))
}

pub(super) async fn evidence_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, id)): Path<(i64, i64)>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    evidence_response(
        &app,
        &actor,
        learner,
        id,
        None,
        notice_text(n.done.as_deref()),
    )
    .await
}

pub(super) async fn evidence_action(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    id: i64,
    result: AppResult<()>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/learners/{learner}/evidence/{id}?done={done}")).into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            evidence_response(app, actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The file, streamed, with headers that never let a browser run it as a page.
pub(super) async fn download(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(&actor, learner).await?;
    let e = p
        .item(id)
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("evidence {id}"))))?;
    let (size, stream) = app
        .evidence
        .get_stream(&e.object_key)
        .await
        .map_err(AppError::Internal)?;
    let media = if shown_inline(&e.media_type) {
        e.media_type.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = if shown_inline(&e.media_type) {
        "inline"
    } else {
        "attachment"
    };
    Ok(file_response(
        Body::from_stream(stream),
        media,
        disposition,
        &e.file_name,
        Some(size),
        &e.sha256,
    ))
}

/// A file response: its type, how to show it, its name (ASCII fallback plus RFC 5987),
/// and a content security policy that runs nothing.
pub(crate) fn file_response(
    body: Body,
    media: &str,
    disposition: &str,
    file_name: &str,
    size: Option<u64>,
    sha256: &str,
) -> Response {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let mut res = Response::new(body);
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, media.to_string());
    set(
        h,
        header::CONTENT_DISPOSITION,
        format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
    );
    if let Some(s) = size {
        set(h, header::CONTENT_LENGTH, s.to_string());
    }
    if !sha256.is_empty() {
        set(h, header::ETAG, format!("\"{sha256}\""));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; media-src 'self'; img-src 'self'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

#[derive(Deserialize)]
pub(super) struct MapForm {
    /// `unit key|criterion`.
    target: String,
}

pub(super) fn split_target(target: &str) -> AppResult<(String, String)> {
    target
        .rsplit_once('|')
        .map(|(u, c)| (u.to_string(), c.to_string()))
        .ok_or_else(|| AppError::Validation("Choose the criterion this evidence shows".into()))
}

/// The mapping form: `targets` (repeated, `unit key|criterion`; `target` as before) and
/// one `location` for them all.
pub(super) async fn map(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let mut targets: Vec<String> = Vec::new();
    let mut location = String::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "target" | "targets" => targets.push(v.to_string()),
            "location" => location = v.to_string(),
            _ => {}
        }
    }
    let result = async {
        let pairs = targets
            .iter()
            .map(|t| split_target(t))
            .collect::<AppResult<Vec<_>>>()?;
        app.map_evidence_many(
            &actor,
            learner,
            id,
            &pairs,
            &location,
            &client_address(&headers),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/learners/{learner}/evidence/{id}?done=mapped")).into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            evidence_response_kept(
                &app,
                &actor,
                learner,
                id,
                Some(e),
                None,
                Some((&targets, &location)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn unmap(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<MapForm>,
) -> Result<Response, PageError> {
    let result = async {
        let (unit, criterion) = split_target(&f.target)?;
        app.unmap_evidence(
            &actor,
            learner,
            id,
            &unit,
            &criterion,
            &client_address(&headers),
        )
        .await
    }
    .await;
    evidence_action(&app, &actor, learner, id, result, "unmapped").await
}

#[derive(Deserialize)]
pub(super) struct KsbForm {
    #[serde(default)]
    ksb: String,
}

pub(super) async fn map_ksb(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<KsbForm>,
) -> Result<Response, PageError> {
    let result = app
        .map_ksb(&actor, learner, id, &f.ksb, &client_address(&headers))
        .await;
    evidence_action(&app, &actor, learner, id, result, "ksb").await
}

pub(super) async fn supersede(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let address = client_address(&headers);
    let (meta, reason, result) =
        receive_upload(&app, &actor, learner, &mut multipart, Some(id), &address).await;
    match result {
        Ok(new_id) => Ok(Redirect::to(&format!(
            "/learners/{learner}/evidence/{new_id}?done=superseded"
        ))
        .into_response()),
        // A problem with what was typed: the replacement form again, as it was typed, with
        // the file to choose again. A refusal (signed off, not theirs) is the item's page.
        Err(e @ AppError::Validation(_)) => {
            let title = app
                .portfolio(&actor, learner)
                .await?
                .item(id)
                .map(|e| e.title.clone())
                .unwrap_or_default();
            upload_page(
                &app,
                &actor,
                learner,
                meta,
                Some(e),
                Some((id, title, reason)),
            )
            .await
        }
        Err(e) if is_user_error(&e) => {
            evidence_response(&app, &actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "evidence_delete.html")]
pub(super) struct DeleteConfirmPage {
    title: String,
    has_error: bool,
    csrf: String,
    learner_id: i64,
    name: String,
    id: i64,
    item_title: String,
    file_name: String,
    date: String,
    /// How many criteria it is mapped to.
    mappings: usize,
    /// Why it cannot be deleted, when it cannot.
    refusal: Option<String>,
}

/// The confirmation step before an item is deleted (the page's "Delete" is a link here; the
/// form on this page deletes).
pub(super) async fn delete_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(&actor, learner).await?;
    let e = p
        .item(id)
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("evidence {id}"))))?;
    let locked = p.locked_units_of(id);
    let refusal = if !p.may_add && p.is_learner {
        Some(crate::app::portfolio::NOT_CURRENT.to_string())
    } else if !p.may_add {
        Some(
            "Only the learner and their assigned assessor delete evidence from this portfolio."
                .to_string(),
        )
    } else if e.superseded_by.is_some() {
        Some("This item has been replaced by a newer version: it is kept for the record and cannot be deleted.".into())
    } else if !locked.is_empty() {
        Some(format!(
            "This item is in units already signed off ({}): it cannot be deleted. Replace it with a new version instead.",
            locked.join(", ")
        ))
    } else {
        None
    };
    Ok(render(&DeleteConfirmPage {
        title: format!("Delete evidence: {}", e.title),
        has_error: false,
        csrf: crate::web::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        id,
        item_title: e.title.clone(),
        file_name: e.file_name.clone(),
        date: crate::web::format::uk_date(&e.evidence_date),
        mappings: p.mappings.iter().filter(|m| m.evidence_id == id).count(),
        refusal,
    }))
}

pub(super) async fn delete(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    match app
        .delete_evidence(&actor, learner, id, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/learners/{learner}/portfolio?done=deleted")).into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            evidence_response(&app, &actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}
