//! Each home page shows what needs the person (issue 11): the learner's feedback to act on,
//! the assessor's units ready to sign and a caseload they can filter, search and sort, the
//! administrator's learners without an assessor.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::pages::page;
use common::send;

use common::actor;

/// The text of a page without its tags, for reading what a person reads.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn homes_show_what_needs_each_person(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());

    // The assessor judges one of Priya's criteria "not yet met", with feedback.
    let sam = actor(&app, "sam.assessor@demo").await;
    let priya = common::learner_of(&app, "priya.learner@demo").await;
    let p = app.portfolio(&sam, priya).await.unwrap();
    let unit = p.units.iter().find(|u| !u.signed_off).unwrap();
    let criterion = unit.progress.per_criterion[0].0.clone();
    app.judge(
        &sam,
        priya,
        &unit.unit.key,
        &criterion,
        credence_domain::portfolio::Outcome::NotYetMet,
        "Add the call log from the second week",
        false,
        Some(p.stamp),
        "test",
    )
    .await
    .unwrap();
    let learner = common::pages::demo_cookie(&router, "priya.learner@demo").await;
    let home = text(&send(&router, page("/home", &learner)).await.body);
    assert!(home.contains("Feedback to act on (1)"), "{home}");
    assert!(home.contains("Add the call log from the second week"));
    assert!(home.contains(&format!("{} {}", unit.unit.ao_ref, unit.unit.title)));
    // Another learner's home shows none of it.
    let tom = common::pages::demo_cookie(&router, "tom.learner@demo").await;
    let home = text(&send(&router, page("/home", &tom)).await.body);
    assert!(home.contains("Feedback to act on"), "{home}");
    assert!(!home.contains("second week"), "{home}");

    // The assessor: Chloe's unit is ready to sign again after the referral; the caseload
    // filters, searches and sorts.
    let assessor = common::pages::demo_cookie(&router, "sam.assessor@demo").await;
    let home = text(&send(&router, page("/home", &assessor)).await.body);
    assert!(home.contains("Units ready to sign (1)"), "{home}");
    let all = home.split("Your caseload at").last().unwrap().to_string();
    assert!(
        all.contains("Chloe Davies") && all.contains("Priya"),
        "{all}"
    );
    let ready_page = text(
        &send(&router, page("/home?status=ready", &assessor))
            .await
            .body,
    );
    assert!(ready_page.contains("Showing 1 of the"), "{ready_page}");
    let ready = ready_page
        .split("Your caseload at")
        .last()
        .unwrap()
        .to_string();
    assert!(ready.contains("Chloe Davies"));
    assert!(
        !ready.contains("Priya"),
        "only those with a unit ready: {ready}"
    );
    let found = text(&send(&router, page("/home?q=priya", &assessor)).await.body);
    let found = found.split("Your caseload at").last().unwrap().to_string();
    assert!(
        found.contains("Priya") && !found.contains("Chloe Davies"),
        "{found}"
    );
    let uln = app
        .store
        .learner(priya)
        .await
        .unwrap()
        .unwrap()
        .uln
        .unwrap();
    let by_uln = text(
        &send(&router, page(&format!("/home?q={uln}"), &assessor))
            .await
            .body,
    );
    assert!(
        by_uln
            .split("Your caseload at")
            .last()
            .unwrap()
            .contains("Priya")
    );
    let sorted = send(&router, page("/home?sort=activity&status=all", &assessor)).await;
    assert_eq!(sorted.status, StatusCode::OK);
    assert!(sorted.body.contains("<option value=\"activity\" selected>"));

    // The administrator: learners nobody assesses yet.
    let admin = common::pages::demo_cookie(&router, "admin@northgate.demo").await;
    let home = text(&send(&router, page("/home", &admin)).await.body);
    assert!(home.contains("Learners without an assessor ("), "{home}");
}
both_databases!(homes, homes_show_what_needs_each_person);

/// The caseload is read on SQLite as one JSON array (one row handed over, not sixty): every field
/// comes back as the row-by-row read gives it, whatever the names hold, with each learner's
/// portfolio stamp, in name order; an empty caseload is empty on both databases.
async fn caseload_rows_are_the_registrations(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let sam = actor(&app, "sam.assessor@demo").await;
    let priya = common::learner_of(&app, "priya.learner@demo").await;
    // Quotes, a backslash, accents and a learner with no ULN travel through the JSON intact.
    sqlx::query(
        "update learner set given_name = $1, family_name = $2, uln = null where learner_id = $3",
    )
    .bind("Siobhán \"Shiv\" \\ Zoë")
    .bind("O'Brien-Łukasz")
    .bind(priya)
    .execute(app.store.pool())
    .await
    .unwrap();
    let regs = app.store.registrations_of_learner(priya).await.unwrap();
    let centre = regs[0].centre_id;
    let caseload = app
        .store
        .caseload_registrations(sam.person_id, centre, "assessor")
        .await
        .unwrap();
    assert!(caseload.len() >= 3, "the demo assessor has a caseload");
    let everyone = app
        .store
        .registrations_at_centre(centre, 10_000)
        .await
        .unwrap();
    for c in &caseload {
        let r = everyone
            .iter()
            .find(|r| r.registration_id == c.registration.registration_id)
            .expect("a caseload registration is one of the centre's");
        assert_eq!(format!("{r:?}"), format!("{:?}", c.registration));
        assert_eq!(
            c.stamp,
            app.store.portfolio_stamp(r.learner_id).await.unwrap(),
            "the stamp of {}",
            r.given_name
        );
    }
    let shiv = caseload
        .iter()
        .find(|c| c.registration.learner_id == priya)
        .unwrap();
    assert_eq!(shiv.registration.given_name, "Siobhán \"Shiv\" \\ Zoë");
    assert_eq!(shiv.registration.family_name, "O'Brien-Łukasz");
    assert_eq!(shiv.registration.uln, None);
    let names: Vec<_> = caseload
        .iter()
        .map(|c| {
            (
                c.registration.family_name.clone(),
                c.registration.given_name.clone(),
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by family name, then given name");
    // Nobody assigned: an empty caseload.
    let none = app
        .store
        .caseload_registrations(sam.person_id, centre, "iqa")
        .await
        .unwrap();
    assert!(none.is_empty());
    let router = credence::web::router(app.clone());
    let cookie = common::pages::demo_cookie(&router, "sam.assessor@demo").await;
    let home = send(&router, page("/home", &cookie)).await.body;
    assert!(
        home.contains("Siobhán &quot;Shiv&quot; \\ Zoë O&#39;Brien-Łukasz")
            || home.contains("Siobhán &#34;Shiv&#34; \\ Zoë O&#39;Brien-Łukasz"),
        "{}",
        text(&home)
    );
}
both_databases!(caseload_rows, caseload_rows_are_the_registrations);
