//! Achievement logs (page, PDF) and the whole portfolio as a zip.

use super::*;

impl App {
    /// The achievement log of one of the learner's qualifications, ready to print.
    pub async fn achievement_log(
        &self,
        actor: &Actor,
        learner_id: i64,
        qan: &str,
    ) -> AppResult<(Portfolio, crate::pdf::AchievementLog)> {
        let p = self.portfolio(actor, learner_id).await?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| q.qualification.qan == qan)
            .ok_or_else(|| AppError::NotFound(format!("the learner's qualification {qan}")))?;
        // The IQA's countersignature: a sample of this registration's unit agreed.
        let samples: Vec<crate::store::SampleRow> = self
            .store
            .samples_of_learner(learner_id)
            .await?
            .into_iter()
            .filter(|s| s.registration_id == pq.registration.registration_id && s.state == "agreed")
            .collect();
        let ids: Vec<i64> = samples.iter().map(|s| s.sample_id).collect();
        let decisions = self.store.decisions_of_samples(&ids).await?;
        let mut units = Vec::new();
        for qu in &pq.qualification.units {
            let Some(pu) = p.unit(&qu.unit) else {
                continue;
            };
            let mandatory = qu
                .group
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case("mandatory"));
            // Taken: in the learner's plan for this qualification (chosen or proposed), or
            // with work on it (shown, so nothing is hidden, and marked outside the plan).
            let in_plan = pq.plan.units.contains(&pu.unit.key);
            let taken = mandatory
                || in_plan
                || pu
                    .progress
                    .per_criterion
                    .iter()
                    .any(|(_, s)| *s != CriterionStatus::NoEvidence)
                || !pu.signatures.is_empty();
            let mut criteria = Vec::new();
            for (number, text) in pu.unit.judged_items() {
                let status = pu
                    .progress
                    .per_criterion
                    .iter()
                    .find(|(n, _)| n == number)
                    .map(|(_, s)| s.clone())
                    .unwrap_or(CriterionStatus::NoEvidence);
                let latest = p
                    .judgements
                    .iter()
                    .rfind(|j| j.unit_key == pu.unit.key && j.criterion == number);
                let location = pu
                    .evidence_by_criterion
                    .get(number)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|(id, loc)| {
                                p.item(*id).map(|e| format!("{} ({loc})", e.title))
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                let met = status.is_met();
                criteria.push(crate::pdf::LogCriterion {
                    number: number.to_string(),
                    text: text.to_string(),
                    date: if met {
                        latest
                            .map(|j| j.at.chars().take(10).collect())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    location,
                    assessor: if met {
                        latest.map(|j| j.assessor_name.clone()).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    rpl: met && latest.is_some_and(|j| j.rpl != 0),
                });
            }
            let status = if pu.signed_off {
                let when = pu
                    .signatures
                    .iter()
                    .filter(|s| s.role == "learner" && s.withdrawn_at.is_none())
                    .map(|s| s.at.clone())
                    .next_back()
                    .unwrap_or_default();
                format!(
                    "Signed off {when}; {} of {} criteria met",
                    pu.progress.met, pu.progress.total
                )
            } else {
                format!("{} of {} criteria met", pu.progress.met, pu.progress.total)
            };
            let status = if in_plan || mandatory {
                status
            } else {
                format!("Outside the learner's plan; {status}")
            };
            units.push(crate::pdf::LogUnit {
                reference: match &pu.unit.ofqual_ref {
                    Some(o) => format!("{} ({o})", pu.unit.ao_ref),
                    None => pu.unit.ao_ref.clone(),
                },
                title: pu.unit.title.clone(),
                level: pu.unit.level,
                credit: pu.unit.credit,
                taken,
                status,
                criteria,
                declarations: pu
                    .signatures
                    .iter()
                    .map(|s| crate::pdf::LogDeclaration {
                        role: match (s.role == "assessor", s.withdrawn_at.is_some()) {
                            (true, false) => "Assessor".into(),
                            (false, false) => "Learner".into(),
                            (true, true) => "Assessor (withdrawn by an IQA referral)".into(),
                            (false, true) => "Learner (withdrawn by an IQA referral)".into(),
                        },
                        name: s.person_name.clone(),
                        at: s.at.clone(),
                        comments: s.comments.clone(),
                        evidence_hash: s.evidence_hash.clone(),
                    })
                    .chain(
                        samples
                            .iter()
                            .filter(|s| s.unit_key == pu.unit.key)
                            .map(|s| {
                                let by = decisions.iter().rfind(|d| d.sample_id == s.sample_id);
                                crate::pdf::LogDeclaration {
                                    role: "IQA".into(),
                                    name: by.map(|d| d.iqa_name.clone()).unwrap_or_default(),
                                    at: s.decided_at.clone().unwrap_or_default(),
                                    comments: format!(
                                        "{} sample agreed{}",
                                        if s.stage == "summative" {
                                            "Summative"
                                        } else {
                                            "Interim"
                                        },
                                        by.map(|d| d
                                            .closing_note
                                            .clone()
                                            .filter(|n| !n.is_empty())
                                            .unwrap_or_else(|| d.comments.clone()))
                                            .filter(|c| !c.is_empty())
                                            .map(|c| format!(": {c}"))
                                            .unwrap_or_default()
                                    ),
                                    evidence_hash: s.snapshot_hash.clone().unwrap_or_default(),
                                }
                            }),
                    )
                    .collect(),
            });
        }
        let log = crate::pdf::AchievementLog {
            title: log_title(&pq.qualification).to_string(),
            learner_name: format!("{} {}", p.learner.given_name, p.learner.family_name),
            learner_uln: p.learner.uln.clone(),
            centre_name: pq.registration.centre_name.clone(),
            qualification: format!("{} {}", pq.qualification.qan, pq.qualification.title),
            generated_at: crate::store::now(),
            units,
        };
        Ok((p, log))
    }
}

/// Escape text for the zip's HTML index.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl App {
    /// The whole portfolio as one zip: an index (every item with its details, SHA-256 and
    /// mappings), the achievement log of each qualification as a PDF, and every evidence
    /// file, superseded versions included. Built in an unlinked temporary file (so nothing
    /// is left behind whatever happens) and returned open at its start, to stream.
    pub async fn portfolio_zip(&self, actor: &Actor, learner_id: i64) -> AppResult<std::fs::File> {
        self.portfolio_zip_with(actor, learner_id, |_, _| {}).await
    }

    /// [`App::portfolio_zip`], telling `progress` how many of the evidence files are in.
    pub async fn portfolio_zip_with(
        &self,
        actor: &Actor,
        learner_id: i64,
        progress: impl FnMut(usize, usize) + Send + 'static,
    ) -> AppResult<std::fs::File> {
        let p = self.portfolio(actor, learner_id).await?;
        let mut logs = Vec::new();
        for q in &p.qualifications {
            let (_, log) = self
                .achievement_log(actor, learner_id, &q.qualification.qan)
                .await?;
            logs.push((
                crate::app::catalogue::qan_slug(&q.qualification.qan),
                log.in_uk_words(),
            ));
        }
        let entry = |e: &EvidenceRow| {
            format!(
                "evidence/{:05}-{}",
                e.evidence_id,
                display_file_name(&e.file_name)
            )
        };
        let mut index = format!(
            "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>Portfolio of {0}</title></head><body><h1>Portfolio of {0}</h1><p>{1} of {2} criteria met; made {3}.</p><h2>Achievement logs</h2><ul>",
            html_escape(&format!(
                "{} {}",
                p.learner.given_name, p.learner.family_name
            )),
            p.progress.met,
            p.progress.total,
            crate::format::uk_date_time(&crate::store::now())
        );
        for (slug, log) in &logs {
            index.push_str(&format!(
                "<li><a href=\"achievement-log-{slug}.pdf\">{}</a></li>",
                html_escape(&format!("{} {}", log.title, log.qualification))
            ));
        }
        index.push_str("</ul><h2>Evidence</h2><table><thead><tr><th>File</th><th>Title</th><th>Date</th><th>Kind</th><th>Source</th><th>SHA-256</th><th>Mapped to</th><th>Status</th></tr></thead><tbody>");
        for e in &p.evidence {
            let mapped: Vec<String> = p
                .mappings
                .iter()
                .filter(|m| m.evidence_id == e.evidence_id)
                .map(|m| {
                    let unit = p
                        .unit(&m.unit_key)
                        .map(|u| u.unit.ao_ref.clone())
                        .unwrap_or_else(|| m.unit_key.clone());
                    format!("{unit} {} ({})", m.criterion, m.location)
                })
                .collect();
            let status = match (e.superseded_by, &e.supersede_reason) {
                (Some(by), Some(r)) => format!("Superseded by item {by}: {r}"),
                (Some(by), None) => format!("Superseded by item {by}"),
                _ => "Current".into(),
            };
            index.push_str(&format!(
                "<tr><td><a href=\"{0}\">{0}</a></td><td>{1}</td><td><time datetime=\"{2}\">{8}</time></td><td>{3}</td><td>{4}</td><td><code>{5}</code></td><td>{6}</td><td>{7}</td></tr>",
                html_escape(&entry(e)),
                html_escape(&e.title),
                html_escape(&e.evidence_date),
                html_escape(kind_of(e).describe().as_str()),
                html_escape(SOURCES.iter().find(|(c, _)| *c == e.source).map(|(_, t)| *t).unwrap_or("")),
                e.sha256,
                html_escape(&mapped.join("; ")),
                html_escape(&status),
                html_escape(&crate::format::uk_date(&e.evidence_date))
            ));
        }
        index.push_str("</tbody></table></body></html>\n");

        let items: Vec<(String, String)> = p
            .evidence
            .iter()
            .map(|e| (entry(e), e.object_key.clone()))
            .collect();
        let built = self
            .zip_to_temp_file_with(
                move || {
                    let mut entries = vec![("index.html".to_string(), index.into_bytes())];
                    for (slug, log) in &logs {
                        entries.push((
                            format!("achievement-log-{slug}.pdf"),
                            crate::pdf::render(log),
                        ));
                    }
                    entries
                },
                items,
                progress,
            )
            .await?;
        Ok(built)
    }
}

impl App {
    /// A zip in an unlinked temporary file (it disappears when the download ends, or if the
    /// server stops), open at its start: the entries `make` builds (run off the async
    /// threads: PDFs and JSON), then each evidence file `(name in the zip, object key)`
    /// streamed from the evidence store. Stored, not compressed: evidence is mostly
    /// compressed already.
    pub(crate) async fn zip_to_temp_file(
        &self,
        make: impl FnOnce() -> Vec<(String, Vec<u8>)> + Send + 'static,
        files: Vec<(String, String)>,
    ) -> AppResult<std::fs::File> {
        self.zip_to_temp_file_with(make, files, |_, _| {}).await
    }

    /// [`App::zip_to_temp_file`], telling `progress` (files in, of how many) after each
    /// evidence file.
    pub(crate) async fn zip_to_temp_file_with(
        &self,
        make: impl FnOnce() -> Vec<(String, Vec<u8>)> + Send + 'static,
        files: Vec<(String, String)>,
        mut progress: impl FnMut(usize, usize) + Send + 'static,
    ) -> AppResult<std::fs::File> {
        let path = std::env::temp_dir().join(format!("credence-zip-{}", uuid::Uuid::new_v4()));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| AppError::Internal(format!("could not make the zip: {e}")))?;
        let _ = std::fs::remove_file(&path);
        let store = self.evidence.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
            use std::io::{Seek, Write};
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            let mut zip = zip::ZipWriter::new(file);
            let err = |e: &dyn std::fmt::Display| e.to_string();
            for (name, bytes) in make() {
                zip.start_file(name, opts).map_err(|e| err(&e))?;
                zip.write_all(&bytes).map_err(|e| err(&e))?;
            }
            let total = files.len();
            progress(0, total);
            for (done, (name, key)) in files.into_iter().enumerate() {
                zip.start_file(name, opts).map_err(|e| err(&e))?;
                let (_, mut stream) = handle.block_on(store.get_stream(&key))?;
                while let Some(chunk) = handle.block_on(futures_util::StreamExt::next(&mut stream))
                {
                    zip.write_all(&chunk.map_err(|e| err(&e))?)
                        .map_err(|e| err(&e))?;
                }
                progress(done + 1, total);
            }
            let mut file = zip.finish().map_err(|e| err(&e))?;
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| err(&e))?;
            Ok(file)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("could not make the zip: {e}")))
    }
}
