//! The command line as a person or a script uses it: the real binary, a temp data folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn credence(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credence"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("CREDENCE_DATABASE_URL")
        .env_remove("CREDENCE_NO_SEED")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn rules_check_answers_scripts_with_json_and_exit_status() {
    let data = common::temp_dir("cli-rules");
    let ok = credence(
        &data,
        &[
            "rules",
            "check",
            "--qualification",
            "610/3788/6",
            "--units",
            "L3B1,L3B2,L3C1,L3C2,L3L1",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&ok)).unwrap();
    assert_eq!(v["achieved"], true);
    assert_eq!(v["unmet"].as_array().unwrap().len(), 0);

    let no = credence(
        &data,
        &[
            "rules",
            "check",
            "--qualification",
            "610/3788/6",
            "--units",
            "L3B1,L3C1,L4S3,NOPE",
            "--format",
            "json",
        ],
    );
    assert_eq!(no.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&no)).unwrap();
    assert_eq!(v["achieved"], false);
    let unmet: Vec<&str> = v["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        unmet,
        vec![
            "9 credits, the minimum is 13",
            "1 BUSINESS unit, needs at least 2",
            "1 CORE unit, needs at least 2"
        ]
    );
    assert_eq!(v["not_counted"][0]["unit"], "NOPE");

    // Over the maximum: the claim is evaluated as given.
    let over = credence(
        &data,
        &[
            "rules",
            "check",
            "--qualification",
            "610-3788-6",
            "--units",
            "L3B1,L3B2,L3B3,L3B4,L3B5,L4B6,L3C1,L4C2,L3C2,L3C3,L3C4,L3C5",
        ],
    );
    assert_eq!(over.status.code(), Some(1));
    assert!(
        stdout(&over).contains("44 credits, the maximum is 36"),
        "{}",
        stdout(&over)
    );

    let unknown = credence(
        &data,
        &[
            "rules",
            "check",
            "--qualification",
            "999/9999/9",
            "--units",
            "L3B1",
        ],
    );
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "an error is neither yes nor no"
    );
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("qualification 999/9999/9 was not found")
    );
}

#[test]
fn rules_plan_and_claimable_in_words() {
    let data = common::temp_dir("cli-plan");
    let plan = credence(
        &data,
        &[
            "rules",
            "plan",
            "--qualification",
            "610/3790/4",
            "--units",
            "L3B1,L3B5,L3C1",
        ],
    );
    assert!(plan.status.success());
    let text = stdout(&plan);
    assert!(
        text.contains("8 more unit(s), 150 GLH, 30 credits"),
        "{text}"
    );
    let over = credence(
        &data,
        &[
            "rules",
            "plan",
            "--qualification",
            "610/3788/6",
            "--units",
            "L3B1,L3B2,L3B3,L3B4,L3B5,L4B6,L3C1,L4C2,L3C2,L3C3,L3C4,L3C5",
        ],
    );
    assert!(
        stdout(&over).contains("No set of further units completes 610/3788/6"),
        "{}",
        stdout(&over)
    );
    let claim = credence(
        &data,
        &[
            "rules",
            "claimable",
            "--units",
            "L3B1,L3B2,L3B3,L3C1,L3C2,L3C3,L3C6,L3L1,L3S1",
        ],
    );
    let text = stdout(&claim);
    assert!(
        text.contains("610/3788/6 ISP Level 3 Certificate in Professional Sales with"),
        "{text}"
    );
    assert!(
        text.contains("610/3791/6"),
        "the Award of L3B1 + L3B2: {text}"
    );
}

#[test]
fn catalogue_commands_list_show_import_and_export() {
    let data = common::temp_dir("cli-cat");
    let list = credence(&data, &["catalogue", "list", "--format", "json"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let rows: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["qan"] == "500/3707/9")
    );

    let show = credence(&data, &["catalogue", "show", "L3B1"]);
    let text = stdout(&show);
    assert!(
        text.contains("L3B1 Understand Sales Communication (L/650/7899)"),
        "{text}"
    );
    assert!(
        text.contains(
            "1.1   Explain the importance of effective communication in the sales process"
        ),
        "{text}"
    );
    assert!(text.contains("610/3790/4"), "{text}");

    let nothing = credence(&data, &["catalogue", "show", "NOPE"]);
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("catalogue list"));

    // A bad file among good ones: named, nothing imported for it, non-zero exit.
    let bad = data.join("bad.txt");
    std::fs::write(&bad, b"").unwrap();
    let out = credence(&data, &["catalogue", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.txt: the file is empty"));

    let export = data.join("export.json");
    let out = credence(
        &data,
        &["catalogue", "export", "--output", export.to_str().unwrap()],
    );
    assert!(out.status.success());
    let case = credence(&data, &["catalogue", "export", "--format", "case"]);
    let packages: serde_json::Value = serde_json::from_str(&stdout(&case)).unwrap();
    assert_eq!(packages.as_array().unwrap().len(), 5);
    let items: Vec<&serde_json::Value> = packages
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["CFItems"].as_array().unwrap())
        .collect();
    assert!(
        items
            .iter()
            .any(|i| i["CFItemType"] == "Assessment Criterion"
                && i["fullStatement"]
                    == "Explain the importance of effective communication in the sales process")
    );
    assert!(
        items
            .iter()
            .any(|i| i["CFItemType"] == "Qualification" && i["humanCodingScheme"] == "610/3788/6")
    );

    // Round trip through the files into an empty catalogue.
    let other = common::temp_dir("cli-cat2");
    let out = credence(
        &other,
        &["--no-seed", "catalogue", "import", export.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = other.join("export.json");
    credence(
        &other,
        &[
            "--no-seed",
            "catalogue",
            "export",
            "--output",
            again.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(&export).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// The operator's acts are logged under the person `--by` names (who must exist); a signed
/// checkpoint of the log is written, and `audit verify --checkpoint` holds the log to it.
#[test]
fn the_operator_is_named_and_the_log_is_held_to_its_checkpoint() {
    let data = common::temp_dir("cli-audit");
    let demo = credence(&data, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let csv = data.join("learners.csv");
    std::fs::write(
        &csv,
        "given_name,family_name,date_of_birth,qan\nAda,Lovelace,1990-12-10,610/3788/6\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap();
    // Nobody of that name: refused, saying what to give.
    let r = credence(
        &data,
        &[
            "--by",
            "nobody@nowhere.test",
            "register",
            "--centre",
            "1",
            csv,
        ],
    );
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("not a person here"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let r = credence(
        &data,
        &[
            "--by",
            "admin@northgate.demo",
            "register",
            "--centre",
            "1",
            csv,
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));

    let cp = data.join("checkpoint.json");
    let r = credence(
        &data,
        &["audit", "checkpoint", "--output", cp.to_str().unwrap()],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&cp).unwrap();
    let c: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(c["format"], "credence-audit-checkpoint");
    assert_eq!(
        c["signature"].as_str().unwrap().len(),
        128,
        "an Ed25519 signature"
    );
    let key = std::fs::metadata(data.join("instance.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            key.permissions().mode() & 0o777,
            0o600,
            "the key is the owner's only"
        );
    }
    let ok = credence(
        &data,
        &["audit", "verify", "--checkpoint", cp.to_str().unwrap()],
    );
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("intact"), "{}", stdout(&ok));

    // The registration's entry names the operator by the person's id.
    let db = data.join("credence.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (admin, actor): (i64, String) = rt.block_on(async {
        let store = credence::store::Store::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let admin = store
            .person_by_email("admin@northgate.demo")
            .await
            .unwrap()
            .unwrap()
            .person_id;
        let e = store
            .audit_log()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "learners_registered_from_file")
            .unwrap();
        (admin, e.actor.unwrap())
    });
    assert_eq!(actor, format!("operator:{admin}"));

    // A forged checkpoint file is refused; so is the log once its tail is cut.
    let forged = text.replacen("\"entries\": ", "\"entries\": 1", 1);
    std::fs::write(&cp, forged).unwrap();
    let bad = credence(
        &data,
        &["audit", "verify", "--checkpoint", cp.to_str().unwrap()],
    );
    assert!(!bad.status.success());
    std::fs::write(&cp, &text).unwrap();
    rt.block_on(async {
        let store = credence::store::Store::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        // The checkpoint's own entry comes after the head it signed: cut that and one more.
        sqlx::query("delete from audit_log where seq >= (select max(seq) - 1 from audit_log)")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("update audit_head set seq = seq - 2, hash = (select hash from audit_log where seq = (select max(seq) from audit_log))")
            .execute(store.pool())
            .await
            .unwrap();
    });
    let cut = credence(
        &data,
        &["audit", "verify", "--checkpoint", cp.to_str().unwrap()],
    );
    assert_eq!(cut.status.code(), Some(1), "{}", stdout(&cut));
    assert!(stdout(&cut).contains("NOT intact"), "{}", stdout(&cut));
}

#[test]
fn qa_plan_and_claims_list_for_scripts() {
    let data = common::temp_dir("cli-qa");
    let demo = credence(&data, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // Northgate (centre 1): the referred sample of Chloe's unit is on the plan, with coverage.
    let plan = credence(
        &data,
        &[
            "qa",
            "plan",
            "--centre",
            "1",
            "--qualification",
            "610/3795/3",
            "--format",
            "json",
        ],
    );
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let q = &json["qualifications"][0];
    assert_eq!(q["qan"], "610/3795/3");
    let samples = q["samples"].as_array().unwrap();
    let chloe = samples
        .iter()
        .find(|s| s["learner_name"] == "Chloe Davies")
        .expect("Chloe's sample");
    for field in [
        "assessor",
        "assessor_name",
        "learner",
        "unit",
        "stage",
        "status",
        "due_on",
    ] {
        assert!(!chloe[field].is_null(), "{field}");
    }
    assert_eq!(chloe["status"], "referred");
    assert_eq!(chloe["stage"], "summative");
    assert!(
        q["coverage"]["assessors"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    // In words too.
    let text = credence(&data, &["qa", "plan", "--centre", "1"]);
    assert!(stdout(&text).contains("Chloe Davies"), "{}", stdout(&text));
    // A centre that does not exist is an error that says so.
    let none = credence(&data, &["qa", "plan", "--centre", "99"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no centre 99"));

    // Claims: Riverside's (centre 2) is held, waiting for the first EQA visit.
    let claims = credence(
        &data,
        &["claims", "list", "--centre", "2", "--format", "json"],
    );
    assert!(
        claims.status.success(),
        "{}",
        String::from_utf8_lossy(&claims.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&claims)).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "held");
    assert_eq!(list[0]["waits"][0]["kind"], "first_eqa_visit");
    assert!(
        list[0]["waiting_for"][0]
            .as_str()
            .unwrap()
            .contains("first EQA visit")
    );
    let all = credence(&data, &["claims", "list"]);
    let text = stdout(&all);
    assert!(text.contains("released") && text.contains("held"), "{text}");
}

/// A revised specification, imported beside the current one, and `catalogue diff` naming
/// exactly what changed (text and JSON); a version against itself has no changes.
#[test]
fn catalogue_diff_names_what_a_revision_changed() {
    let data = common::temp_dir("cli-diff");
    let seed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/000_8453810380d6f4c5.txt"),
    )
    .unwrap();
    let old = "Explain the importance of effective communication in the";
    assert_eq!(seed.matches(old).count(), 1);
    let revised = seed.replace(old, "Explain why effective communication matters in the");
    // The shipped version carries our corrections; compare like with like: the document as
    // published, and the same document revised, both imported as drafts.
    std::fs::create_dir_all(&data).unwrap();
    for (name, text) in [("original.txt", seed.clone()), ("revised.txt", revised)] {
        let file = data.join(name);
        std::fs::write(&file, text).unwrap();
        let out = credence(&data, &["catalogue", "import", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let versions = stdout(&credence(&data, &["catalogue", "versions"]));
    let ids: Vec<&str> = versions
        .lines()
        .filter(|l| l.contains("isp-l3"))
        .map(|l| l.split_whitespace().next().unwrap())
        .skip(1)
        .collect();
    assert_eq!(ids.len(), 2, "{versions}");
    let json = credence(
        &data,
        &["catalogue", "diff", ids[0], ids[1], "--format", "json"],
    );
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v:#}");
    assert_eq!(changes[0]["subject"], "criterion");
    assert_eq!(changes[0]["reference"], "L3B1 AC 1.1");
    assert!(changes[0]["old"].as_str().unwrap().starts_with(old));
    assert!(
        changes[0]["new"]
            .as_str()
            .unwrap()
            .starts_with("Explain why")
    );
    let text = stdout(&credence(&data, &["catalogue", "diff", ids[0], ids[1]]));
    assert!(
        text.contains("1 change") && text.contains("L3B1 AC 1.1"),
        "{text}"
    );
    let same = stdout(&credence(&data, &["catalogue", "diff", ids[0], ids[0]]));
    assert!(same.contains("0 changes"), "{same}");
    // Two different specifications are not compared.
    let other = versions
        .lines()
        .find(|l| l.contains("ismm"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap();
    let refused = credence(&data, &["catalogue", "diff", ids[0], other]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("different specifications"));
}

/// A revision published beside the demo's version: `catalogue impact` lists the learners on
/// the old version by centre with what each must have re-assessed (text and JSON), and
/// `catalogue move` asks for `--yes` before moving anyone when it cannot ask.
#[test]
fn catalogue_impact_lists_who_a_revision_touches_and_move_needs_confirmation() {
    let data = common::temp_dir("cli-impact");
    let demo = credence(&data, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds");
    let seed = std::fs::read_to_string(root.join("000_8453810380d6f4c5.txt")).unwrap();
    let words = "Describe how to identify potential sales leads";
    let gone = "\t\t1.4\tExplain how to convert cold prospects to warm prospects\t\n";
    assert_eq!(seed.matches(words).count(), 1);
    assert_eq!(seed.matches(gone).count(), 1);
    let file = data.join("revised.txt");
    std::fs::write(
        &file,
        seed.replace(words, "Describe how to find and rank potential sales leads")
            .replace(gone, ""),
    )
    .unwrap();
    let corrections = root.join("corrections/000.json");
    let imported = credence(
        &data,
        &[
            "catalogue",
            "import",
            file.to_str().unwrap(),
            "--corrections",
            corrections.to_str().unwrap(),
            "--publish",
        ],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let new = versions(&data)
        .into_iter()
        .find(|(_, key, status)| key == "isp-l3-professional-sales" && status == "current")
        .unwrap()
        .0;
    let text = stdout(&credence(&data, &["catalogue", "impact", &new]));
    assert!(
        text.contains("isp-l3-professional-sales version 2"),
        "{text}"
    );
    assert!(text.contains("Northgate Training (centre"), "{text}");
    assert!(text.contains("Ben Carter (registration"), "{text}");
    assert!(
        text.contains("re-assess L3C1 1.1: its words changed"),
        "{text}"
    );
    assert!(
        text.contains("re-assess L3C1 1.4: removed from the unit"),
        "{text}"
    );
    let json = credence(&data, &["catalogue", "impact", &new, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let learners: Vec<&serde_json::Value> = v["centres"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["learners"].as_array().unwrap())
        .collect();
    let ben = learners.iter().find(|l| l["given_name"] == "Ben").unwrap();
    let reassess: Vec<&str> = ben["reassess"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(reassess, vec!["1.1", "1.4"]);
    let registration = ben["registration_id"].to_string();
    // Without a terminal to ask on, a move needs --yes; nothing moves meanwhile.
    let asked = credence(
        &data,
        &["catalogue", "move", &new, "--registration", &registration],
    );
    assert!(!asked.status.success());
    assert!(String::from_utf8_lossy(&asked.stderr).contains("--yes"));
    assert!(stdout(&credence(&data, &["catalogue", "impact", &new])).contains("Ben Carter"));
    let moved = credence(
        &data,
        &[
            "catalogue",
            "move",
            &new,
            "--registration",
            &registration,
            "--yes",
        ],
    );
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(stdout(&moved).contains("Moved 1 registration(s)"));
    let after = stdout(&credence(&data, &["catalogue", "impact", &new]));
    assert!(!after.contains("Ben Carter"), "{after}");
    let _ = std::fs::remove_dir_all(&data);
}

/// `catalogue versions` as (id, specification, status) rows.
fn versions(data: &Path) -> Vec<(String, String, String)> {
    let out = credence(data, &["catalogue", "versions"]);
    assert!(out.status.success());
    stdout(&out)
        .lines()
        .skip(1)
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[0].to_string(), w[1].to_string(), w[3].to_string())
        })
        .collect()
}

#[test]
fn case_packages_import_as_drafts_through_the_same_flow_and_round_trip() {
    let data = common::temp_dir("cli-case-import");
    // Credence's own CASE export (the five seeds, published on first start)...
    let packages = data.join("case.json");
    let out = credence(
        &data,
        &[
            "catalogue",
            "export",
            "--format",
            "case",
            "--output",
            packages.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let published = versions(&data);
    assert_eq!(published.len(), 5);

    // ...imports back as five drafts with nothing open, in the same report...
    let out = credence(
        &data,
        &[
            "catalogue",
            "import",
            packages.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drafts: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let drafts = drafts.as_array().unwrap();
    assert_eq!(drafts.len(), 5);
    for d in drafts {
        assert_eq!(d["status"], "draft");
        assert_eq!(d["version"], 2, "a new version of the same specification");
        assert_eq!(d["report"]["layout"], "case_package");
        let open = d["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "open")
            .count();
        assert_eq!(open, 0, "{d}");
        // ...with no difference from the version it was exported from.
        let key = d["specification"].as_str().unwrap();
        let (from, _, _) = published.iter().find(|(_, k, _)| k == key).unwrap();
        let to = d["id"].to_string();
        let diff = credence(&data, &["catalogue", "diff", from, &to, "--format", "json"]);
        assert!(diff.status.success());
        let diff: serde_json::Value = serde_json::from_str(&stdout(&diff)).unwrap();
        assert_eq!(
            diff["changes"].as_array().unwrap().len(),
            0,
            "{key}: {diff}"
        );
    }
    // The draft publishes like any other.
    let id = drafts[0]["id"].to_string();
    let out = credence(&data, &["catalogue", "publish", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A foreign framework: a draft whose open findings name what could not be mapped.
    let foreign = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/opensalt-retail-sales.json");
    let out = credence(&data, &["catalogue", "import", foreign.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("layout: CASE 1.1 package"), "{text}");
    assert!(text.contains("findings: 0 repaired, 8 open"), "{text}");
    for named in [
        "RSC-CERT \"Certificate in Retail Sales\" (identifier a0000000-0000-4000-8000-000000000001) has no QAN",
        "Unit RS1 \"Prospecting for new customers\" (identifier a0000000-0000-4000-8000-000000000002) has no credit value",
        "is of type 'Competency'",
        "is of type 'Standard'",
        "(identifier e0000000-0000-4000-8000-00000000dead), which is not in this package",
    ] {
        assert!(text.contains(named), "{named} not in:\n{text}");
    }
    let rows = versions(&data);
    let (fid, _, status) = rows
        .iter()
        .find(|(_, k, _)| k == "case-d0c00000-0000-4000-8000-000000000001")
        .expect("the framework is a specification of its own");
    assert_eq!(status, "draft");
    let out = credence(&data, &["catalogue", "publish", fid]);
    assert!(!out.status.success(), "open findings block publication");

    // A broken package changes nothing.
    let broken = data.join("broken.json");
    std::fs::write(
        &broken,
        br#"{"CFDocument": {"identifier": "d1", "title": "Broken"}, "CFItems": [{"fullStatement": "no identifier"}]}"#,
    )
    .unwrap();
    let before = versions(&data);
    let out = credence(&data, &["catalogue", "import", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json: the CASE 1.1 package could not be read: this is not a CASE 1.1 CFPackage Credence can read: missing field `identifier`"),
        "{err}"
    );
    assert_eq!(versions(&data), before);
}

#[test]
fn backup_and_restore_through_the_binary() {
    let data = common::temp_dir("cli-backup");
    let demo = credence(&data, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let dest = data.join("backups").join("monday");
    let dest_arg = dest.to_str().unwrap();
    let backup = credence(&data, &["backup", dest_arg]);
    assert_eq!(
        backup.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(
        stdout(&backup).contains("Backed up the sqlite database"),
        "{}",
        stdout(&backup)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["database"], "sqlite");
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() > 1, "the database and the demo's evidence");
    for f in files {
        let bytes = std::fs::read(dest.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(bytes.len() as u64, f["size"].as_u64().unwrap());
    }
    // Never over another backup.
    let again = credence(&data, &["backup", dest_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds files"));

    // Into this instance: refused, it holds records.
    let refused = credence(&data, &["restore", dest_arg]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already holds records"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Into a new, empty instance: restored and checked.
    let fresh = common::temp_dir("cli-restored");
    let restored = credence(&fresh, &["restore", dest_arg]);
    assert_eq!(
        restored.status.code(),
        Some(0),
        "{}{}",
        stdout(&restored),
        String::from_utf8_lossy(&restored.stderr)
    );
    let out = stdout(&restored);
    assert!(out.contains("The audit log is intact"), "{out}");
    assert!(
        out.contains(&format!("{} evidence records read back", files.len() - 1))
            && out.contains("0 problems, 0 orphan files"),
        "{out}"
    );
    // The restored instance answers as the original did.
    let check = credence(&fresh, &["evidence", "check", "--read-back"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let verify = credence(&fresh, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let original = credence(&data, &["certificates", "list", "--format", "json"]);
    let copy = credence(&fresh, &["certificates", "list", "--format", "json"]);
    assert_eq!(stdout(&original), stdout(&copy));

    // A backup without its manifest (cut off by kill -9) is refused.
    std::fs::remove_file(dest.join("manifest.json")).unwrap();
    let empty = common::temp_dir("cli-restore-refused");
    let cut = credence(&empty, &["restore", dest_arg]);
    assert_eq!(cut.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&cut.stderr).contains("not a complete backup"),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    for dir in [data, fresh, empty] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Records through the binary: a legal hold placed and lifted, what falls due, the disposal
/// run's dry run three years on (exactly what would go, nothing changed), a future run
/// refused without --dry-run, and a person's data exported for a request made by letter.
#[test]
fn retention_holds_and_personal_data_through_the_binary() {
    let data = common::temp_dir("cli-retention");
    let demo = credence(&data, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let by = ["--by", "ao@isp.demo"];
    let hold = credence(
        &data,
        &[
            &by[..],
            &[
                "records",
                "hold",
                "--learner",
                "9",
                "--reason",
                "Appeal A-17",
            ],
        ]
        .concat(),
    );
    assert_eq!(
        hold.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&hold.stderr)
    );
    let said = stdout(&hold);
    assert!(said.starts_with("Legal hold "), "{said}");
    let hold_id: String = said
        .trim_start_matches("Legal hold ")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let due = credence(
        &data,
        &["retention", "due", "--within", "2000", "--format", "json"],
    );
    assert_eq!(
        due.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&due.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&due.stdout).unwrap();
    let lines = v["lines"].as_array().unwrap();
    assert!(
        lines.iter().any(|l| l["learner_id"] == 9
            && l["state"] == "held"
            && l["hold_reason"] == "Appeal A-17"),
        "{v}"
    );

    let later = chrono::Utc::now()
        .date_naive()
        .checked_add_months(chrono::Months::new(37))
        .unwrap()
        .to_string();
    let refused = credence(&data, &["retention", "run", "--on", &later]);
    assert!(!refused.status.success(), "a future run is refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("add --dry-run"));
    let dry = credence(&data, &["retention", "run", "--dry-run", "--on", &later]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let text = stdout(&dry);
    assert!(text.contains("Dry run on"), "{text}");
    assert!(text.contains("Kwame Mensah"), "{text}");
    assert!(text.contains("held: Appeal A-17"), "{text}");
    // Nothing changed: the same dry run says the same.
    let again = credence(&data, &["retention", "run", "--dry-run", "--on", &later]);
    assert_eq!(stdout(&again), text);
    // Today nothing is due.
    let today = credence(&data, &["retention", "run"]);
    assert_eq!(today.status.code(), Some(0));
    assert!(stdout(&today).contains("Nothing is due for disposal"));

    let lift = credence(
        &data,
        &[&by[..], &["records", "lift", "--hold", &hold_id]].concat(),
    );
    assert_eq!(
        lift.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lift.stderr)
    );
    let lifted_again = credence(&data, &["records", "lift", "--hold", &hold_id]);
    assert_ne!(
        lifted_again.status.code(),
        Some(0),
        "a lifted hold is not lifted twice"
    );

    let zip = data.join("kwame.zip");
    let export = credence(
        &data,
        &[
            &by[..],
            &[
                "people",
                "export-data",
                "--email",
                "kwame.learner@demo",
                "--output",
                zip.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(
        export.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let index: serde_json::Value =
        serde_json::from_reader(archive.by_name("index.json").unwrap()).unwrap();
    assert_eq!(index["format"], "credence-personal-data");
    assert!((0..archive.len()).any(|i| {
        archive
            .by_index(i)
            .unwrap()
            .name()
            .unwrap()
            .starts_with("evidence/")
    }));
}
