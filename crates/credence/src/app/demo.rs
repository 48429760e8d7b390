//! Demo data: an AO per specification's awarding body, two centres, staff of every role and
//! learners at different stages, so every page has something to show. Idempotent.

use super::{App, AppError, AppResult};
use credence_domain::people::uln::uln_with_check_digit;

/// The password of every demo account. Demo data is for trying Credence out, never for a
/// real instance.
pub const DEMO_PASSWORD: &str = "credence-demo-2026";

/// One demo sign-in, for printing.
pub struct DemoAccount {
    pub email: &'static str,
    pub roles: &'static str,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "ao@isp.demo",
        roles: "ISP staff",
    },
    DemoAccount {
        email: "ao@ismm.demo",
        roles: "ISMM staff",
    },
    DemoAccount {
        email: "ao@ocr.demo",
        roles: "OCR staff",
    },
    DemoAccount {
        email: "eqa@isp.demo",
        roles: "EQA for ISP, appointed to Northgate Training",
    },
    DemoAccount {
        email: "admin@northgate.demo",
        roles: "centre administrator, Northgate Training",
    },
    DemoAccount {
        email: "admin@riverside.demo",
        roles: "centre administrator, Riverside College",
    },
    DemoAccount {
        email: "sam.assessor@demo",
        roles: "assessor at Northgate and Riverside, IQA at Riverside",
    },
    DemoAccount {
        email: "iqa@northgate.demo",
        roles: "IQA, Northgate Training",
    },
    DemoAccount {
        email: "priya.learner@demo",
        roles: "learner at Northgate (Level 3 Certificate)",
    },
    DemoAccount {
        email: "tom.learner@demo",
        roles: "learner at Riverside (Level 5 Award in Coaching and Mentoring)",
    },
];

impl App {
    async fn demo_person(&self, email: &str, name: &str) -> AppResult<i64> {
        match self.store.person_by_email(email).await? {
            Some(p) => Ok(p.person_id),
            None => self.create_person(email, name, Some(DEMO_PASSWORD)).await,
        }
    }

    async fn demo_centre(&self, name: &str) -> AppResult<i64> {
        match self
            .store
            .centres()
            .await?
            .into_iter()
            .find(|c| c.name == name)
        {
            Some(c) => Ok(c.centre_id),
            None => Ok(self.store.insert_centre(name).await?),
        }
    }

    /// Create the demo data (the shipped specifications must be published).
    pub async fn create_demo(&self) -> AppResult<()> {
        let cat = self.catalogue().await?;
        if cat.qualification("610/3788/6").is_none() {
            return Err(AppError::Conflict(
                "demo data needs the shipped specifications: run without --no-seed".into(),
            ));
        }
        let isp = self.demo_person("ao@isp.demo", "Imogen Shaw (ISP)").await?;
        self.store
            .grant_role(isp, "ao_staff", Some("ISP"), None, None)
            .await?;
        let ismm = self
            .demo_person("ao@ismm.demo", "Martin Hale (ISMM)")
            .await?;
        self.store
            .grant_role(ismm, "ao_staff", Some("ISMM"), None, None)
            .await?;
        let ocr = self.demo_person("ao@ocr.demo", "Olu Adeyemi (OCR)").await?;
        self.store
            .grant_role(ocr, "ao_staff", Some("OCR"), None, None)
            .await?;

        let north = self.demo_centre("Northgate Training").await?;
        let river = self.demo_centre("Riverside College").await?;
        for qan in [
            "610/3788/6",
            "610/3789/8",
            "610/3790/4",
            "610/3791/6",
            "610/3795/3",
        ] {
            self.store
                .approve_centre(north, qan, "ISP", Some(isp))
                .await?;
        }
        self.store
            .approve_centre(north, "500/3707/9", "ISMM", Some(ismm))
            .await?;
        for (_, q) in cat
            .qualifications()
            .filter(|(cs, _)| cs.spec.key == "isp-l5-professional-sales")
        {
            self.store
                .approve_centre(river, &q.qan, "ISP", Some(isp))
                .await?;
        }
        self.store
            .approve_centre(river, "603/5902/X", "ISP", Some(isp))
            .await?;
        self.store
            .set_direct_claim_status(north, "ISP", true)
            .await?;

        let eqa = self
            .demo_person("eqa@isp.demo", "Elena Quist (EQA)")
            .await?;
        self.store
            .grant_role(eqa, "eqa", Some("ISP"), None, None)
            .await?;
        self.store.appoint_eqa(eqa, north, "ISP").await?;

        let admin_n = self
            .demo_person("admin@northgate.demo", "Nadia Patel")
            .await?;
        self.store
            .grant_role(admin_n, "centre_admin", None, Some(north), None)
            .await?;
        let admin_r = self
            .demo_person("admin@riverside.demo", "Rhys Morgan")
            .await?;
        self.store
            .grant_role(admin_r, "centre_admin", None, Some(river), None)
            .await?;
        let sam = self.demo_person("sam.assessor@demo", "Sam Okafor").await?;
        self.store
            .grant_role(sam, "assessor", None, Some(north), None)
            .await?;
        self.store
            .grant_role(sam, "assessor", None, Some(river), None)
            .await?;
        self.store
            .grant_role(sam, "iqa", None, Some(river), None)
            .await?;
        let iqa = self
            .demo_person("iqa@northgate.demo", "Irene Quinn")
            .await?;
        self.store
            .grant_role(iqa, "iqa", None, Some(north), None)
            .await?;

        // Learners: two with accounts, others registered only.
        // (ULN stem, given name, family name, date of birth, centre, QAN, account)
        type DemoLearner<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            i64,
            &'a str,
            Option<&'a str>,
        );
        let learners: &[DemoLearner] = &[
            (
                "100000001",
                "Priya",
                "Shah",
                "1996-04-12",
                north,
                "610/3788/6",
                Some("priya.learner@demo"),
            ),
            (
                "100000020",
                "Daniel",
                "Brooks",
                "1989-11-02",
                north,
                "610/3789/8",
                None,
            ),
            (
                "100000030",
                "Aisha",
                "Khan",
                "2001-07-30",
                north,
                "610/3790/4",
                None,
            ),
            (
                "100000040",
                "Tom",
                "Evans",
                "1985-02-17",
                river,
                "610/5677/7",
                Some("tom.learner@demo"),
            ),
            (
                "100000050",
                "Grace",
                "Lee",
                "1992-09-05",
                river,
                "603/5902/X",
                None,
            ),
            (
                "100000060",
                "Marek",
                "Nowak",
                "1990-01-21",
                north,
                "500/3707/9",
                None,
            ),
        ];
        for (nine, given, family, dob, centre, qan, account) in learners {
            // The first nine-digit stem from this one that has a valid check digit.
            let start: u64 = nine
                .parse()
                .map_err(|_| AppError::Internal("demo ULN".into()))?;
            let uln = (start..start + 100)
                .find_map(|n| uln_with_check_digit(&n.to_string()))
                .ok_or_else(|| AppError::Internal("demo ULN".into()))?;
            let learner = match self.store.learner_by_uln(&uln).await? {
                Some(l) => l.learner_id,
                None => {
                    let version = cat
                        .qualification(qan)
                        .map(|(cs, _)| cs.version.catalogue_version_id)
                        .ok_or_else(|| AppError::Internal(format!("demo qualification {qan}")))?;
                    let ids = self
                        .store
                        .register_learners(
                            *centre,
                            &[crate::store::NewLearnerRegistration {
                                uln: Some(uln.clone()),
                                given_name: given.to_string(),
                                family_name: family.to_string(),
                                date_of_birth: dob.to_string(),
                                email: account.map(str::to_string),
                                qan: qan.to_string(),
                                catalogue_version_id: version,
                            }],
                            |_| {},
                        )
                        .await?;
                    ids.first()
                        .copied()
                        .ok_or_else(|| AppError::Internal("demo learner".into()))?
                }
            };
            if let Some(email) = account {
                let p = self
                    .demo_person(email, &format!("{given} {family}"))
                    .await?;
                self.store
                    .grant_role(p, "learner", None, Some(*centre), Some(learner))
                    .await?;
            }
        }
        // Competence: Sam is qualified to assess and working towards the IQA award; Irene
        // holds the IQA award but is short of CPD.
        use credence_domain::people::competence::{
            AssessorAward, AwardHeld, AwardStatus, CompetenceRecord, CpdEntry,
        };
        let today = chrono::Utc::now().date_naive();
        let recent = |days: i64| today - chrono::Duration::days(days);
        let sam_record = CompetenceRecord {
            occupational_level: 5,
            awards: vec![
                AwardHeld {
                    award: AssessorAward::L3CertificateAssessingVocationalAchievement,
                    status: AwardStatus::Held,
                },
                AwardHeld {
                    award: AssessorAward::L4AwardIqa,
                    status: AwardStatus::WorkingTowards,
                },
            ],
            cpd: vec![
                CpdEntry {
                    date: recent(40),
                    minutes: 16 * 60,
                    description: "Sales leadership conference".into(),
                },
                CpdEntry {
                    date: recent(120),
                    minutes: 10 * 60,
                    description: "Negotiation skills refresher".into(),
                },
            ],
        };
        let irene_record = CompetenceRecord {
            occupational_level: 4,
            awards: vec![AwardHeld {
                award: AssessorAward::L4AwardIqa,
                status: AwardStatus::Held,
            }],
            cpd: vec![CpdEntry {
                date: recent(200),
                minutes: 6 * 60,
                description: "Standardisation meeting".into(),
            }],
        };
        if self.store.competence(sam).await?.is_none() {
            self.store
                .set_competence(sam, &serde_json::to_string(&sam_record)?)
                .await?;
        }
        if self.store.competence(iqa).await?.is_none() {
            self.store
                .set_competence(iqa, &serde_json::to_string(&irene_record)?)
                .await?;
        }
        // Sam assesses Priya (Northgate) and Tom (Riverside).
        for (email, by) in [
            ("priya.learner@demo", admin_n),
            ("tom.learner@demo", admin_r),
        ] {
            if let Some(p) = self.store.person_by_email(email).await?
                && let Some(l) = self
                    .store
                    .grants(p.person_id)
                    .await?
                    .iter()
                    .find_map(|g| g.learner_id)
                && let Some(r) = self.store.registrations_of_learner(l).await?.first()
            {
                self.store
                    .assign(r.registration_id, sam, "assessor", by)
                    .await?;
            }
        }
        self.demo_portfolio(sam).await?;
        self.audit(
            None,
            None,
            "demo_data_created",
            "instance",
            None,
            serde_json::json!({}),
        )
        .await
    }

    /// Tom's portfolio has evidence to look at: two items mapped to his first unit, some
    /// criteria judged. Once only.
    async fn demo_portfolio(&self, assessor: i64) -> AppResult<()> {
        let Some(tom) = self.store.person_by_email("tom.learner@demo").await? else {
            return Ok(());
        };
        let Some(learner) = self
            .store
            .grants(tom.person_id)
            .await?
            .iter()
            .find_map(|g| g.learner_id)
        else {
            return Ok(());
        };
        if !self.store.evidence_of_learner(learner).await?.is_empty() {
            return Ok(());
        }
        let Some(reg) = self
            .store
            .registrations_of_learner(learner)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        let Some(unit) = spec
            .qualifications
            .iter()
            .find(|q| q.qan == reg.qan)
            .and_then(|q| q.units.first())
            .and_then(|qu| spec.unit(&qu.unit))
        else {
            return Ok(());
        };
        let items = [
            (
                "Account plan for a key client",
                "2026-10-12",
                "assignment",
                None,
                "account-plan.txt",
                "Account plan, written by Tom Evans for the demo.\n1. Client background\n2. Objectives\n3. Stakeholders\n",
            ),
            (
                "Witness testimony from the sales director",
                "2026-10-20",
                "witness_testimony",
                Some(("Dana Whitfield", "Sales director")),
                "witness-testimony.txt",
                "I observed Tom lead the quarterly account review on 20 October 2026...\n",
            ),
        ];
        let criteria: Vec<String> = unit
            .judged_items()
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        for (i, (title, date, kind, witness, file, text)) in items.into_iter().enumerate() {
            let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
                axum::body::Bytes::from(text.as_bytes().to_vec()),
            )]);
            let stored = self
                .evidence
                .put_stream(body, self.max_upload)
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let id = self
                .store
                .insert_evidence(&crate::store::NewEvidence {
                    learner_id: learner,
                    centre_id: reg.centre_id,
                    title: title.into(),
                    evidence_date: date.into(),
                    kind: kind.into(),
                    kind_other: None,
                    witness_name: witness.map(|w| w.0.to_string()),
                    witness_role: witness.map(|w| w.1.to_string()),
                    source: "real_workplace".into(),
                    simulation_note: None,
                    file_name: file.into(),
                    media_type: super::portfolio::media_type_for(file).into(),
                    size: i64::try_from(stored.size).unwrap_or(0),
                    sha256: stored.sha256,
                    object_key: stored.key,
                    added_by: tom.person_id,
                })
                .await?;
            for (k, c) in criteria.iter().enumerate().filter(|(k, _)| k % 2 == i) {
                self.store
                    .map_evidence(
                        learner,
                        id,
                        &unit.key,
                        c,
                        &format!("section {}", k + 1),
                        tom.person_id,
                    )
                    .await?;
            }
        }
        let centre = reg.centre_id;
        if let Some(first) = criteria.first() {
            self.store
                .insert_judgement(
                    learner,
                    &unit.key,
                    first,
                    "met",
                    "Clear objectives and stakeholder map.",
                    false,
                    assessor,
                    centre,
                )
                .await?;
        }
        if let Some(second) = criteria.get(1) {
            self.store
                .insert_judgement(
                    learner,
                    &unit.key,
                    second,
                    "not_yet_met",
                    "Add how you will measure the account's growth.",
                    false,
                    assessor,
                    centre,
                )
                .await?;
        }
        Ok(())
    }
}
