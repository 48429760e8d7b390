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
    DemoAccount {
        email: "eqa.riverside@isp.demo",
        roles: "EQA for ISP, appointed to Riverside College (a visit is scheduled)",
    },
    DemoAccount {
        email: "ben.learner@demo",
        roles: "learner at Northgate (Level 3 Award in Sales Prospecting), unit signed off, not yet claimed",
    },
    DemoAccount {
        email: "admin@eastfield.demo",
        roles: "centre administrator, Eastfield Sales Academy (OCR unit 39)",
    },
    DemoAccount {
        email: "assessor@eastfield.demo",
        roles: "assessor at Eastfield Sales Academy",
    },
    DemoAccount {
        email: "olivia.learner@demo",
        roles: "learner at Eastfield on OCR unit 39 on its own: evidence on two dates, short of occasions on some criteria",
    },
    DemoAccount {
        email: "kwame.learner@demo",
        roles: "learner at Eastfield on OCR unit 39 on its own: authenticated, claimed, unit certificate issued",
    },
];

/// A demo learner: (ULN stem, given name, family name, date of birth, email).
type DemoLearnerRow<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// The demo's staff and centres, for the quality-assurance demo.
struct DemoStaff {
    isp: i64,
    eqa: i64,
    admin_n: i64,
    admin_r: i64,
    sam: i64,
    iqa: i64,
    north: i64,
    river: i64,
}

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
        // Northgate has direct claim status for its ISP qualifications; Riverside has none.
        // Once, with the rest of the quality-assurance demo (a later withdrawal stands).
        if self.store.claims(None).await?.is_empty()
            && self.store.direct_claims(north).await?.is_empty()
        {
            for a in self.store.approvals(north).await? {
                if a.ao_code == "ISP" {
                    self.store
                        .set_direct_claim(
                            north,
                            &a.qan,
                            "ISP",
                            true,
                            isp,
                            "demo: satisfactory EQA visits and final portfolios sampled",
                        )
                        .await?;
                }
            }
        }

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
                                units: Vec::new(),
                                plan_by: None,
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
        self.demo_quality(DemoStaff {
            isp,
            eqa,
            admin_n,
            admin_r,
            sam,
            iqa,
            north,
            river,
        })
        .await?;
        // After the quality-assurance demo, which is made once, before any claim exists.
        self.demo_unit_on_its_own(ocr).await?;
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
            let id = self
                .demo_evidence(
                    learner,
                    reg.centre_id,
                    tom.person_id,
                    (title, date, kind, file),
                    witness,
                    text.to_string(),
                )
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

impl App {
    /// Quality assurance in every state: learners with signed-off units, a plan with
    /// coverage gaps and an open referral (Northgate), a held claim waiting for the first EQA
    /// visit (Riverside, with a visit scheduled), a claim released at once (Northgate has
    /// direct claim status), a past satisfactory visit and a standardisation meeting. Once
    /// only.
    async fn demo_quality(&self, s: DemoStaff) -> AppResult<()> {
        if !self.store.claims(None).await?.is_empty() {
            return Ok(());
        }
        let eqa_r = self
            .demo_person("eqa.riverside@isp.demo", "Victor Eze (EQA)")
            .await?;
        self.store
            .grant_role(eqa_r, "eqa", Some("ISP"), None, None)
            .await?;
        self.store.appoint_eqa(eqa_r, s.river, "ISP").await?;

        // (ULN stem, given, family, dob, centre, QAN, account, admin)
        type Person<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            i64,
            &'a str,
            &'a str,
            i64,
        );
        let people: [Person; 4] = [
            (
                "100000070",
                "Ben",
                "Carter",
                "1998-03-14",
                s.north,
                "610/3795/3",
                "ben.learner@demo",
                s.admin_n,
            ),
            (
                "100000080",
                "Chloe",
                "Davies",
                "1994-06-22",
                s.north,
                "610/3795/3",
                "chloe.learner@demo",
                s.admin_n,
            ),
            (
                "100000090",
                "Farah",
                "Ali",
                "1991-12-01",
                s.north,
                "610/3795/3",
                "farah.learner@demo",
                s.admin_n,
            ),
            (
                "100000100",
                "Hannah",
                "Wright",
                "1987-08-09",
                s.river,
                "610/5677/7",
                "hannah.learner@demo",
                s.admin_r,
            ),
        ];
        let sam = self.actor_of(s.sam).await?;
        let mut registrations = Vec::new();
        for (nine, given, family, dob, centre, qan, email, admin) in people {
            let (person, reg) = self
                .demo_learner(
                    (nine, given, family, dob, email),
                    centre,
                    qan,
                    Vec::new(),
                    admin,
                    s.sam,
                )
                .await?;
            self.demo_signed_off_unit(&sam, person, &reg).await?;
            registrations.push(reg);
        }
        let [ben, chloe, farah, hannah] = [
            &registrations[0],
            &registrations[1],
            &registrations[2],
            &registrations[3],
        ];
        let _ = ben;
        let today = chrono::Utc::now().date_naive();
        let day = |d: i64| {
            (today + chrono::Duration::days(d))
                .format("%Y-%m-%d")
                .to_string()
        };

        // Northgate: a satisfactory visit a hundred days ago, its action answered and closed.
        let visit = self
            .store
            .schedule_visit(s.north, "ISP", s.eqa, &day(-100), s.isp)
            .await?;
        let actions = self
            .store
            .report_visit(
                visit,
                &crate::store::VisitReport {
                    visited_on: day(-100),
                    outcome: "satisfactory".into(),
                    risk: "low".into(),
                    sampled: "[]".into(),
                    findings: "Assessment decisions sampled across both assessors were consistent and well evidenced. Internal quality assurance is planned and recorded.".into(),
                    actions: vec![("Minute the next standardisation meeting and share it with assessors".into(), day(-60))],
                },
            )
            .await?;
        for a in actions {
            self.store
                .respond_action(
                    a,
                    s.admin_n,
                    "Minutes are now kept with the standardisation record.",
                )
                .await?;
            self.store.close_action(a, s.eqa).await?;
        }
        // Riverside: no visit yet; one is scheduled in a fortnight.
        self.store
            .schedule_visit(s.river, "ISP", eqa_r, &day(14), s.isp)
            .await?;
        // A standardisation meeting at Northgate.
        self.store
            .record_standardisation(
                s.north,
                "meeting",
                &day(-30),
                None,
                &[s.sam, s.iqa],
                &["L3C1".to_string()],
                "satisfactory",
                "Compared judgements on two prospecting portfolios; agreed what a sufficient prospecting log shows.",
                "Use the agreed checklist for L3C1 from now on.",
                s.iqa,
            )
            .await?;

        // Chloe's unit, sampled by Irene and referred back: an open referral for Sam.
        let irene = self.actor_of(s.iqa).await?;
        let unit = self.demo_unit_of(chloe).await?;
        let ids = self
            .store
            .insert_samples(&[crate::store::NewSample {
                centre_id: s.north,
                registration_id: chloe.registration_id,
                learner_id: chloe.learner_id,
                unit_key: unit,
                assessor_id: s.sam,
                stage: "summative".into(),
                origin: "plan".into(),
                reasons: vec!["assessor's first summative decisions on this qualification".into()],
                due_on: day(10),
                created_by: Some(s.iqa),
            }])
            .await?;
        self.open_sample(&irene, ids[0], "demo").await?;
        self.decide_sample(
            &irene,
            ids[0],
            &[super::quality::sampling::DecisionInput {
                criterion: None,
                verdict: "refer".into(),
                comments: "The prospecting log does not show how leads were qualified.".into(),
                action: "Ask Chloe for the qualification notes behind her prospecting log, judge them, and sign the unit off again.".into(),
                due_on: day(14),
            }],
            "demo",
        )
        .await?;

        // Claims: Farah's released at once (Northgate has direct claim status), Chloe's held
        // by the referral, Hannah's held until Riverside's first EQA visit.
        let admin_n = self.actor_of(s.admin_n).await?;
        let admin_r = self.actor_of(s.admin_r).await?;
        self.make_claim(&admin_n, farah.registration_id, &[], "demo")
            .await?;
        let unit = self.demo_unit_of(chloe).await?;
        self.make_claim(&admin_n, chloe.registration_id, &[unit], "demo")
            .await?;
        self.make_claim(&admin_r, hannah.registration_id, &[], "demo")
            .await?;
        self.demo_certificates(s, ben, farah).await
    }

    /// Certificates in every state: Farah's (released at once) reissued after she lost it,
    /// so her first shows as replaced and the reissue as valid; and a unit of Ben's banked
    /// in error and revoked.
    async fn demo_certificates(
        &self,
        s: DemoStaff,
        ben: &crate::store::RegistrationRow,
        farah: &crate::store::RegistrationRow,
    ) -> AppResult<()> {
        use credence_domain::certificate::{ReplacementReason, RevocationReason};
        let who = super::audit::person_ref(s.isp);
        let issued = |learner: i64| crate::store::CertificateFilter {
            learner_id: Some(learner),
            status: Some("valid".into()),
            ..Default::default()
        };
        if let Some(first) = self
            .store
            .certificates(&issued(farah.learner_id))
            .await?
            .into_iter()
            .next()
        {
            self.issue_replacement(&first, ReplacementReason::Lost, None, &who, s.isp, "demo")
                .await?;
        }
        let admin_n = self.actor_of(s.admin_n).await?;
        let unit = self.demo_unit_of(ben).await?;
        self.bank_unit(&admin_n, ben.registration_id, &unit, "demo")
            .await?;
        if let Some(banked) = self
            .store
            .certificates(&issued(ben.learner_id))
            .await?
            .into_iter()
            .next()
        {
            self.record_revocation(
                &banked,
                RevocationReason::ClaimedInError,
                "Banked by mistake: Ben's results go in with his full claim.",
                &who,
                s.isp,
                "demo",
            )
            .await?;
        }
        Ok(())
    }

    /// OCR unit 39 taken on its own at Eastfield Sales Academy (approved for it by OCR, with
    /// direct claim status for it): Olivia part-way (evidence on two dates, some criteria judged met but
    /// short of the occasions needed), Kwame done (evidence on two occasions, judged, signed
    /// off, authenticated by both, claimed: his unit certificate is issued). Once only.
    async fn demo_unit_on_its_own(&self, ocr: i64) -> AppResult<()> {
        const UNIT: &str = "H/502/8599";
        // An NVQ centre of OCR's, apart from the ISP and ISMM centres.
        let north = self.demo_centre("Eastfield Sales Academy").await?;
        let admin_n = self
            .demo_person("admin@eastfield.demo", "Esther Fowler")
            .await?;
        self.store
            .grant_role(admin_n, "centre_admin", None, Some(north), None)
            .await?;
        let sam = self
            .demo_person("assessor@eastfield.demo", "Ola Bankole")
            .await?;
        self.store
            .grant_role(sam, "assessor", None, Some(north), None)
            .await?;
        if self.store.competence(sam).await?.is_none() {
            use credence_domain::people::competence::{
                AssessorAward, AwardHeld, AwardStatus, CompetenceRecord, CpdEntry,
            };
            let record = CompetenceRecord {
                occupational_level: 4,
                awards: vec![AwardHeld {
                    award: AssessorAward::L3CertificateAssessingVocationalAchievement,
                    status: AwardStatus::Held,
                }],
                cpd: vec![CpdEntry {
                    date: chrono::Utc::now().date_naive() - chrono::Duration::days(60),
                    minutes: 24 * 60,
                    description: "Sales NVQ assessor update".into(),
                }],
            };
            self.store
                .set_competence(sam, &serde_json::to_string(&record)?)
                .await?;
        }
        let cat = self.catalogue().await?;
        let Some((cs, _)) = cat.programme(UNIT) else {
            return Ok(());
        };
        let spec = cs.spec.clone();
        let Some(unit) = spec.unit_by_reference(UNIT).cloned() else {
            return Ok(());
        };
        self.store
            .approve_centre(north, UNIT, "OCR", Some(ocr))
            .await?;
        if self
            .store
            .direct_claims(north)
            .await?
            .iter()
            .all(|g| g.qan != UNIT)
        {
            self.store
                .set_direct_claim(
                    north,
                    UNIT,
                    "OCR",
                    true,
                    ocr,
                    "demo: Northgate's NVQ delivery verified by OCR's external verifier",
                )
                .await?;
        }
        let sam_actor = self.actor_of(sam).await?;
        let admin = self.actor_of(admin_n).await?;
        let criteria: Vec<String> = unit
            .judged_items()
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        // (ULN stem, given, family, dob, email, evidence: (title, date, kind, criteria: all or LO 1))
        let people: [(&str, &str, &str, &str, &str, bool); 2] = [
            (
                "100000110",
                "Olivia",
                "Grant",
                "1999-05-17",
                "olivia.learner@demo",
                false,
            ),
            (
                "100000120",
                "Kwame",
                "Mensah",
                "1993-10-03",
                "kwame.learner@demo",
                true,
            ),
        ];
        for (nine, given, family, dob, email, done) in people {
            if self
                .store
                .learner_by_uln(&Self::demo_uln(nine)?)
                .await?
                .is_some()
            {
                continue;
            }
            let (person, reg) = self
                .demo_learner(
                    (nine, given, family, dob, email),
                    north,
                    UNIT,
                    vec![unit.key.clone()],
                    admin_n,
                    sam,
                )
                .await?;
            let learner = reg.learner_id;
            // Two occasions: a call log kept in September (every criterion), and an
            // observation in October (Olivia: learning outcome 1 only; Kwame: everything).
            let items = [
                (
                    "Lead log with call notes, September",
                    "2026-09-14",
                    "product_evidence",
                    "lead-log-september.txt",
                    true,
                ),
                (
                    "Assessor observation of lead qualification calls",
                    "2026-10-20",
                    "observation_checklist",
                    "observation-october.txt",
                    done,
                ),
            ];
            for (title, date, kind, file, every) in items {
                let text = format!("{title}: {given} {family}, {date}. Demo evidence.\n");
                let id = self
                    .demo_evidence(
                        learner,
                        north,
                        person,
                        (title, date, kind, file),
                        None,
                        text,
                    )
                    .await?;
                for (k, c) in criteria
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| every || c.starts_with("1."))
                {
                    self.store
                        .map_evidence(
                            learner,
                            id,
                            &unit.key,
                            c,
                            &format!("entry {}", k + 1),
                            person,
                        )
                        .await?;
                }
            }
            for c in &criteria {
                self.judge(
                    &sam_actor,
                    learner,
                    &unit.key,
                    c,
                    credence_domain::portfolio::Outcome::Met,
                    "Shown in the lead log and confirmed by observation.",
                    false,
                    None,
                    "demo",
                )
                .await?;
            }
            if !done {
                continue;
            }
            let learner_actor = self.actor_of(person).await?;
            self.sign_unit(
                &sam_actor,
                learner,
                &unit.key,
                "Competent over two occasions.",
                None,
                "demo",
            )
            .await?;
            self.sign_unit(
                &learner_actor,
                learner,
                &unit.key,
                "This is my own work.",
                None,
                "demo",
            )
            .await?;
            self.authenticate_unit(&learner_actor, learner, &unit.key, "", None, "demo")
                .await?;
            self.authenticate_unit(&sam_actor, learner, &unit.key, "", None, "demo")
                .await?;
            self.make_claim(&admin, reg.registration_id, &[], "demo")
                .await?;
        }
        Ok(())
    }

    /// A demo ULN: the first nine-digit stem from `nine` on that has a valid check digit.
    fn demo_uln(nine: &str) -> AppResult<String> {
        let start: u64 = nine
            .parse()
            .map_err(|_| AppError::Internal("demo ULN".into()))?;
        (start..start + 100)
            .find_map(|n| uln_with_check_digit(&n.to_string()))
            .ok_or_else(|| AppError::Internal("demo ULN".into()))
    }

    /// A demo learner with a sign-in, registered at `centre` on `code` (a QAN or a unit on its
    /// own, with `units` as the plan) and assigned to `assessor` by `admin`. Registered once:
    /// a ULN already on record is the same learner. Returns (person, registration).
    #[allow(clippy::too_many_arguments)]
    async fn demo_learner(
        &self,
        learner: DemoLearnerRow<'_>,
        centre: i64,
        code: &str,
        units: Vec<String>,
        admin: i64,
        assessor: i64,
    ) -> AppResult<(i64, crate::store::RegistrationRow)> {
        let (nine, given, family, dob, email) = learner;
        let uln = Self::demo_uln(nine)?;
        let cat = self.catalogue().await?;
        let version = cat
            .programme(code)
            .map(|(cs, _)| cs.version.catalogue_version_id)
            .ok_or_else(|| AppError::Internal(format!("demo qualification {code}")))?;
        let id = match self.store.learner_by_uln(&uln).await? {
            Some(l) => l.learner_id,
            None => self
                .store
                .register_learners(
                    centre,
                    &[crate::store::NewLearnerRegistration {
                        uln: Some(uln.clone()),
                        given_name: given.into(),
                        family_name: family.into(),
                        date_of_birth: dob.into(),
                        email: Some(email.into()),
                        qan: code.into(),
                        catalogue_version_id: version,
                        units,
                        plan_by: None,
                    }],
                    |_| {},
                )
                .await?
                .first()
                .copied()
                .ok_or_else(|| AppError::Internal("demo learner".into()))?,
        };
        let person = self
            .demo_person(email, &format!("{given} {family}"))
            .await?;
        self.store
            .grant_role(person, "learner", None, Some(centre), Some(id))
            .await?;
        let reg = self
            .store
            .registrations_of_learner(id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("demo registration".into()))?;
        self.store
            .assign(reg.registration_id, assessor, "assessor", admin)
            .await?;
        Ok((person, reg))
    }

    /// One demo evidence item from the real workplace, its file in the evidence store.
    #[allow(clippy::too_many_arguments)]
    async fn demo_evidence(
        &self,
        learner: i64,
        centre: i64,
        by: i64,
        (title, date, kind, file): (&str, &str, &str, &str),
        witness: Option<(&str, &str)>,
        text: String,
    ) -> AppResult<i64> {
        let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            axum::body::Bytes::from(text.into_bytes()),
        )]);
        let stored = self
            .evidence
            .put_stream(body, self.max_upload)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(self
            .store
            .insert_evidence(&crate::store::NewEvidence {
                learner_id: learner,
                centre_id: centre,
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
                added_by: by,
            })
            .await?)
    }

    /// The first unit of a registration's qualification.
    async fn demo_unit_of(&self, reg: &crate::store::RegistrationRow) -> AppResult<String> {
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        spec.programme(&reg.qan)
            .and_then(|q| q.units.first().cloned())
            .map(|u| u.unit.clone())
            .ok_or_else(|| AppError::Internal("demo unit".into()))
    }

    /// A learner's first unit, evidenced, judged met on every criterion by the assessor and
    /// signed off by both.
    async fn demo_signed_off_unit(
        &self,
        assessor: &super::people::Actor,
        learner_person: i64,
        reg: &crate::store::RegistrationRow,
    ) -> AppResult<()> {
        let unit_key = self.demo_unit_of(reg).await?;
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        let unit = spec
            .unit(&unit_key)
            .ok_or_else(|| AppError::Internal("demo unit".into()))?
            .clone();
        let text = format!(
            "Prospecting and qualification log kept by {} {} at work, with notes of each call.\n",
            reg.given_name, reg.family_name
        );
        let id = self
            .demo_evidence(
                reg.learner_id,
                reg.centre_id,
                learner_person,
                (
                    "Workplace log with call notes",
                    "2026-10-05",
                    "product_evidence",
                    "workplace-log.txt",
                ),
                None,
                text,
            )
            .await?;
        let criteria: Vec<String> = unit
            .judged_items()
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        for (k, c) in criteria.iter().enumerate() {
            self.store
                .map_evidence(
                    reg.learner_id,
                    id,
                    &unit.key,
                    c,
                    &format!("page {}", k + 1),
                    learner_person,
                )
                .await?;
        }
        for c in &criteria {
            self.judge(
                assessor,
                reg.learner_id,
                &unit.key,
                c,
                credence_domain::portfolio::Outcome::Met,
                "Shown in the log.",
                false,
                None,
                "demo",
            )
            .await?;
        }
        self.sign_unit(
            assessor,
            reg.learner_id,
            &unit.key,
            "Competent throughout.",
            None,
            "demo",
        )
        .await?;
        let learner = self.actor_of(learner_person).await?;
        self.sign_unit(
            &learner,
            reg.learner_id,
            &unit.key,
            "This is my own work.",
            None,
            "demo",
        )
        .await?;
        Ok(())
    }
}
