//! The daily loop's polish, on SQLite and PostgreSQL: UK dates on pages (RFC 3339 in the
//! API), the evidence date typed as DD/MM/YYYY, forms that keep what was typed, errors that
//! name fields as labelled, the CSV's rows left out, the confirmation before deleting
//! evidence, catalogue search by QAN, reference and title, no links a person cannot use,
//! the header on error pages, and an assign list of only those who can be assigned.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, send};

struct Demo {
    app: credence::app::App,
    router: axum::Router,
    north: i64,
    priya: i64,
}

async fn demo(url: &str) -> Demo {
    let app = common::app_on(url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let north = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Northgate Training")
        .unwrap()
        .centre_id;
    let priya = common::learner_of(&app, "priya.learner@demo").await;
    Demo {
        app,
        router,
        north,
        priya,
    }
}

impl Demo {
    async fn token(&self, email: &str) -> String {
        common::token_for(&self.app, email).await
    }
    async fn page(&self, uri: &str, email: &str) -> Reply {
        common::get(&self.router, uri, &self.token(email).await).await
    }
    async fn form(&self, uri: &str, email: &str, body: &str) -> Reply {
        common::post(
            &self.router,
            uri,
            &self.token(email).await,
            "application/x-www-form-urlencoded",
            body.to_string(),
        )
        .await
    }
}

/// A multipart body of text fields and one file field.
fn multipart(boundary: &str, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

async fn upload_page(d: &Demo, email: &str, fields: &[(&str, &str)], file: bool) -> Reply {
    let b = "polish-boundary";
    common::post(
        &d.router,
        &format!("/learners/{}/evidence", d.priya),
        &d.token(email).await,
        &format!("multipart/form-data; boundary={b}"),
        multipart(
            b,
            fields,
            file.then_some(("notes.txt", b"call notes".as_slice())),
        ),
    )
    .await
}

/// A stored timestamp shown raw: "2026-11-29T20:51:00".
fn raw_timestamp(html: &str) -> Option<&str> {
    let b = html.as_bytes();
    (0..b.len().saturating_sub(19)).find_map(|i| {
        let s = &html.get(i..i + 19)?;
        let shape = s.bytes().enumerate().all(|(k, c)| match k {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            _ => c.is_ascii_digit(),
        });
        (shape && !html[..i].ends_with("datetime=\"")).then_some(*s)
    })
}

async fn dates_read_as_in_the_uk(url: String) {
    let d = demo(&url).await;
    // A registration's date, a date of birth and the audit log's times, in UK form.
    let r = d
        .page(&format!("/learners/{}", d.priya), "admin@northgate.demo")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("12 April 1996"), "date of birth in words");
    assert_eq!(
        raw_timestamp(&r.body),
        None,
        "no raw timestamp on the learner page"
    );
    let r = d
        .page(&format!("/centres/{}/audit", d.north), "ao@isp.demo")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        raw_timestamp(&r.body),
        None,
        "no raw timestamp in the audit log"
    );
    assert!(r.body.contains(" at "), "times of day are shown");
    for (page, who) in [
        ("/catalogue/versions", "ao@isp.demo"),
        ("/home", "admin@northgate.demo"),
        ("/home", "priya.learner@demo"),
    ] {
        let r = d.page(page, who).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert_eq!(raw_timestamp(&r.body), None, "{who} {page}");
    }
    // The JSON API keeps RFC 3339.
    let r = d.page("/api/v1/catalogue/versions", "ao@isp.demo").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        raw_timestamp(&r.body).is_some(),
        "{}",
        &r.body[..200.min(r.body.len())]
    );
}
both_databases!(uk_dates, dates_read_as_in_the_uk);

async fn the_evidence_form_reads_uk_dates_and_keeps_what_was_typed(url: String) {
    let d = demo(&url).await;
    let meta = |date: &'static str| {
        vec![
            ("title", "Notes of the call with Acme"),
            ("date", date),
            ("kind", "worksheet"),
            ("source", "real_workplace"),
        ]
    };
    // A date that is not one: the page answers 422, keeps every field, and asks for the
    // file again.
    let r = upload_page(&d, "priya.learner@demo", &meta("31/02/2026"), true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Date the evidence was produced:"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Notes of the call with Acme\""));
    assert!(r.body.contains("value=\"31/02/2026\""));
    assert!(r.body.contains("Choose the file again"));
    // No file: the same.
    let r = upload_page(&d, "priya.learner@demo", &meta("02/11/2026"), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("value=\"Notes of the call with Acme\""));
    assert!(r.body.contains("Choose the file again"));
    // DD/MM/YYYY is read and stored as YYYY-MM-DD; the page shows it in words.
    let r = upload_page(&d, "priya.learner@demo", &meta("02/11/2026"), true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let at = r.headers[header::LOCATION].to_str().unwrap().to_string();
    let id: i64 = at
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let api = d
        .page(
            &format!("/api/v1/learners/{}/portfolio", d.priya),
            "priya.learner@demo",
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let item = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["evidence_id"] == id || e["id"] == id)
        .unwrap_or_else(|| panic!("evidence {id} in {}", api.body));
    assert!(item.to_string().contains("\"2026-11-02\""), "{item}");
    let page = d
        .page(
            &format!("/learners/{}/evidence/{id}", d.priya),
            "priya.learner@demo",
        )
        .await;
    assert!(page.body.contains("2 November 2026"), "the date in words");
    assert_eq!(
        raw_timestamp(&page.body),
        None,
        "the time it was added in words"
    );

    // A replacement with a problem comes back as typed, with the reason, asking for the
    // file again.
    let b = "polish-boundary";
    let r = common::post(
        &d.router,
        &format!("/learners/{}/evidence/{id}/supersede", d.priya),
        &d.token("priya.learner@demo").await,
        &format!("multipart/form-data; boundary={b}"),
        multipart(
            b,
            &[
                ("reason", "The first scan was unreadable"),
                ("title", "Notes of the call, rescanned"),
                ("date", "32/11/2026"),
                ("kind", "worksheet"),
                ("source", "real_workplace"),
            ],
            Some(("notes.txt", b"call notes again".as_slice())),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Replace evidence"));
    assert!(r.body.contains("value=\"The first scan was unreadable\""));
    assert!(r.body.contains("value=\"Notes of the call, rescanned\""));
    assert!(r.body.contains("value=\"32/11/2026\""));
    assert!(r.body.contains("Choose the file again"));

    // Deleting asks first: the page links to a confirmation, which deletes.
    assert!(
        !page
            .body
            .contains("<button class=\"button button--warning\" type=\"submit\">Delete"),
        "no one-click delete button"
    );
    let confirm_at = format!("/learners/{}/evidence/{id}/delete", d.priya);
    assert!(
        page.body.contains(&format!("href=\"{confirm_at}\"")),
        "a link to the confirmation"
    );
    let confirm = d.page(&confirm_at, "priya.learner@demo").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Are you sure you want to delete"));
    assert!(confirm.body.contains("This cannot be undone"));
    assert!(
        confirm
            .body
            .contains(&format!("action=\"{confirm_at}\" method=\"post\""))
    );
    assert!(confirm.body.contains("No, keep it"));
    let still = d
        .page(
            &format!("/learners/{}/evidence/{id}", d.priya),
            "priya.learner@demo",
        )
        .await;
    assert_eq!(still.status, StatusCode::OK, "looking is not deleting");
    let gone = d.form(&confirm_at, "priya.learner@demo", "").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    let after = d
        .page(
            &format!("/learners/{}/evidence/{id}", d.priya),
            "priya.learner@demo",
        )
        .await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
}
both_databases!(
    evidence_form,
    the_evidence_form_reads_uk_dates_and_keeps_what_was_typed
);

async fn registration_errors_name_fields_as_labelled(url: String) {
    let d = demo(&url).await;
    let r = d
        .form(
            &format!("/centres/{}/registrations", d.north),
            "admin@northgate.demo",
            "given_name=&family_name=Hopper&date_of_birth=&qan=610%2F3788%2F6&uln=&email=",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Enter the learner&#39;s given name")
            || r.body.contains("Enter the learner's given name"),
        "{}",
        r.body
    );
    assert!(r.body.contains("date of birth, for example 27/03/2001"));
    assert!(!r.body.contains("given_name is missing") && !r.body.contains("Given_name"));
    assert!(
        r.body.contains("value=\"Hopper\""),
        "what was typed is kept"
    );

    // The CSV's good rows: the notice names the rows left out, in the right number, and why.
    let uln = (300000200u64..300000300)
        .find_map(|n| credence_domain::people::uln::uln_with_check_digit(&n.to_string()))
        .unwrap();
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,uln\n\
         Ada,Lovelace,10/12/1990,610/3788/6,{uln}\n\
         Too,Young,2015-01-01,610/3788/6,\n"
    );
    let b = "csv-boundary";
    let mut body = multipart(b, &[("good_rows", "yes")], None);
    body.truncate(body.len() - format!("--{b}--\r\n").len());
    body.extend_from_slice(&common::multipart_file(
        b,
        "file",
        "learners.csv",
        csv.as_bytes(),
    ));
    let r = common::post(
        &d.router,
        &format!("/centres/{}/registrations/upload", d.north),
        &d.token("admin@northgate.demo").await,
        &format!("multipart/form-data; boundary={b}"),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("Registered 1 learner. Row 3 had errors and was left out: see why below."),
        "{}",
        r.body
    );
    assert!(r.body.contains("<li>Row 3, date_of_birth:"), "{}", r.body);
}
both_databases!(field_names, registration_errors_name_fields_as_labelled);

async fn search_finds_qualifications_and_units(url: String) {
    let d = demo(&url).await;
    let search = |q: &str| {
        let router = d.router.clone();
        let q = q.to_string();
        async move {
            send(
                &router,
                Request::get(format!("/search?q={q}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    for q in ["610/3788/6", "610%2F3788%2F6", "6103788", "610-3788-6"] {
        let r = search(q).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Qualifications (1)"), "{q}");
        assert!(
            r.body.contains(
                "href=\"/qualifications/610-3788-6\">ISP Level 3 Certificate in Professional Sales"
            ),
            "{q}"
        );
    }
    // A unit by its AO reference, its Ofqual reference (any punctuation) and its title.
    for q in [
        "L3C2",
        "l3c2",
        "Y%2F651%2F0347",
        "Y6510347",
        "overcome+sales+objections",
    ] {
        let r = search(q).await;
        assert!(r.body.contains("Units ("), "{q}");
        assert!(
            r.body
                .contains("href=\"/units/Y-651-0347\">L3C2 Overcome Sales Objections"),
            "{q}: {}",
            r.body
        );
    }
    // Words of a title find the qualifications; the criteria are still searched.
    let r = search("diploma+professional+sales").await;
    assert!(r.body.contains("ISP Level 3 Diploma in Professional Sales"));
    assert!(
        !r.body
            .contains("ISP Level 3 Certificate in Professional Sales")
    );
    let r = search("objections").await;
    assert!(r.body.contains("L3C2") && r.body.contains("Assessment criteria ("));
    let r = search("zzzz-nothing").await;
    assert!(
        r.body
            .contains("Found 0 qualifications, 0 units and 0 criteria.")
    );
}
both_databases!(catalogue_search, search_finds_qualifications_and_units);

async fn nobody_is_shown_what_they_cannot_use(url: String) {
    let d = demo(&url).await;
    // The learner's header has no "Centres" link; staff's has.
    let r = d.page("/home", "priya.learner@demo").await;
    assert!(!r.body.contains("<a href=\"/centres\">Centres</a>"));
    assert!(!r.body.contains("href=\"/account/competence\""));
    let r = d.page("/home", "sam.assessor@demo").await;
    assert!(r.body.contains("<a href=\"/centres\">Centres</a>"));
    // Their centre is listed for them, not linked to a page that refuses them.
    let r = d.page("/centres", "priya.learner@demo").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Northgate Training"));
    assert!(!r.body.contains(&format!("href=\"/centres/{}\"", d.north)));
    let r = d.page("/centres", "admin@northgate.demo").await;
    assert!(r.body.contains(&format!("href=\"/centres/{}\"", d.north)));
    // The competence page shows a learner no assessor's form.
    let r = d.page("/account/competence", "priya.learner@demo").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("You hold none of those roles"));
    assert!(!r.body.contains("action=\"/account/competence\""));
    assert!(!r.body.contains("action=\"/account/interests\""));
    let r = d.page("/account/competence", "sam.assessor@demo").await;
    assert!(r.body.contains("action=\"/account/competence\""));

    // Error pages keep the signed-in header: a refusal, and an address that is nothing.
    let r = d
        .page(&format!("/centres/{}", d.north), "priya.learner@demo")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("Priya Shah") && r.body.contains("Sign out"),
        "{}",
        r.body
    );
    let cookie = {
        let r = send(
            &d.router,
            Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(
                    "email=priya.learner@demo&password=credence-demo-2026&next=/home",
                ))
                .unwrap(),
        )
        .await;
        let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
        set.split(';').next().unwrap().to_string()
    };
    let r = send(
        &d.router,
        Request::get("/no-such-page")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Page not found"));
    assert!(r.body.contains("Priya Shah") && r.body.contains("Sign out"));
    let r = send(
        &d.router,
        Request::get("/no-such-page").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("href=\"/sign-in\""));
}
both_databases!(no_dead_ends, nobody_is_shown_what_they_cannot_use);

/// An AO's centre list is paged, 50 by name, and searched by name: 120 more ISP centres make
/// three pages; a centre administrator's list is their centre, with no pager.
async fn the_centre_list_is_paged_and_searched(url: String) {
    let d = demo(&url).await;
    let pool = d.app.store.pool();
    sqlx::query(
        "insert into centre (name, created_at, updated_at) \
         with recursive g(n) as (select 1 union all select n + 1 from g where n < 120) \
         select 'Paged Centre ' || (1000 + n), '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' from g",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into centre_ao (centre_id, ao_code, created_at, updated_at) \
         select centre_id, 'ISP', created_at, updated_at from centre where name like 'Paged Centre %'",
    )
    .execute(pool)
    .await
    .unwrap();
    let isp_total = d
        .app
        .visible_centres(&common::actor(&d.app, "ao@isp.demo").await)
        .await
        .unwrap()
        .len();
    assert!(isp_total > 120);
    let r = d.page("/centres", "ao@isp.demo").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains(&format!("Showing 1 to 50 of {isp_total} centres, by name.")),
        "{}",
        r.body
    );
    assert_eq!(r.body.matches("<tr><td>").count(), 50);
    assert!(r.body.contains("href=\"/centres?page=2\" rel=\"next\""));
    assert!(!r.body.contains("rel=\"prev\""));
    // The last page has the rest; a page past the end shows the last.
    let last = isp_total.div_ceil(50);
    for asked in [last, last + 5] {
        let r = d
            .page(&format!("/centres?page={asked}"), "ao@isp.demo")
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.body.matches("<tr><td>").count(),
            isp_total - (last - 1) * 50
        );
        assert!(
            r.body
                .contains("aria-current=\"page\">".to_string().as_str())
        );
        assert!(!r.body.contains("rel=\"next\""));
    }
    // Searched by part of the name, in any case, the search kept in the page links.
    let r = d.page("/centres?q=paged+centre+10", "ao@isp.demo").await;
    assert!(
        r.body.contains(
            "Showing 1 to 50 of 99 centres whose name contains &ldquo;paged centre 10&rdquo;"
        ),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("href=\"/centres?q=paged+centre+10&#38;page=2\""),
        "{}",
        r.body
    );
    let r = d.page("/centres?q=no-such-centre", "ao@isp.demo").await;
    assert!(
        r.body
            .contains("name contains &ldquo;no-such-centre&rdquo;.")
            && r.body.contains("No centre"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<table"));
    // Another AO does not see ISP's new centres; a centre's administrator sees their own.
    let r = d.page("/centres?q=paged", "ao@ismm.demo").await;
    assert!(r.body.contains("No centre"), "{}", r.body);
    let r = d.page("/centres", "admin@northgate.demo").await;
    assert!(
        r.body.contains("Showing 1 to 1 of 1 centre, by name."),
        "{}",
        r.body
    );
    assert!(r.body.contains("Northgate Training"));
    assert!(!r.body.contains("class=\"pagination\""));
    // The API lists them all by name, or a page at a time with a Link to the next.
    let router = credence::web::router(d.app.clone());
    let token = common::token_for(&d.app, "ao@isp.demo").await;
    let names = |body: &str| -> Vec<String> {
        serde_json::from_str::<Vec<serde_json::Value>>(body)
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = common::get(&router, "/api/v1/centres", &token).await;
    assert_eq!(all.status, StatusCode::OK);
    let all = names(&all.body);
    assert_eq!(all.len(), isp_total);
    assert!(all.windows(2).all(|w| w[0] <= w[1]), "by name: {all:?}");
    let r = common::get(&router, "/api/v1/centres?limit=50&offset=50", &token).await;
    assert_eq!(names(&r.body), all[50..100]);
    assert_eq!(
        r.headers[axum::http::header::LINK],
        "</api/v1/centres?limit=50&offset=100>; rel=\"next\""
    );
    let r = common::get(&router, "/api/v1/centres?limit=50&offset=100", &token).await;
    assert_eq!(names(&r.body), all[100..]);
    assert!(!r.headers.contains_key(axum::http::header::LINK));
    // A centre's approvals and direct claim status read in one statement for the page are
    // the same as for the centre on its own.
    let one = common::get(&router, "/api/v1/centres?limit=200", &token).await;
    let listed: Vec<serde_json::Value> = serde_json::from_str(&one.body).unwrap();
    let north = listed
        .iter()
        .find(|c| c["name"] == "Northgate Training")
        .unwrap();
    assert!(
        !north["approved_qualifications"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let alone = common::get(&router, &format!("/api/v1/centres/{}", north["id"]), &token).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&alone.body).unwrap(),
        *north
    );
    let r = common::get(&router, "/api/v1/centres?limit=0", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both_databases!(centre_list_pages, the_centre_list_is_paged_and_searched);

async fn the_assign_list_offers_only_who_can_be_assigned(url: String) {
    let d = demo(&url).await;
    // Every learner's page at the centre offers only staff the assignment itself accepts,
    // and says why the others are not offered.
    let regs = d
        .app
        .store
        .registrations_at_centre(d.north, 500)
        .await
        .unwrap();
    let mut refused_somewhere = false;
    for r in regs {
        let page = d
            .page(
                &format!("/learners/{}", r.learner_id),
                "admin@northgate.demo",
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        for (value, _) in page
            .body
            .match_indices("<option value=\"")
            .map(|(i, _)| {
                let rest = &page.body[i + 15..];
                (&rest[..rest.find('"').unwrap()], ())
            })
            .filter(|(v, _)| v.contains(':'))
        {
            let (person, role) = value.split_once(':').unwrap();
            let reg = d
                .app
                .store
                .registration(r.registration_id)
                .await
                .unwrap()
                .unwrap();
            let why = d
                .app
                .assignment_refusal(&reg, person.parse().unwrap(), role)
                .await
                .unwrap();
            assert_eq!(why, None, "offered {value} for learner {}", r.learner_id);
        }
        refused_somewhere |= page.body.contains("cannot be assigned");
    }
    assert!(
        refused_somewhere,
        "the demo has a learner whom some staff cannot be assigned to, and says why"
    );
}
both_databases!(assign_list, the_assign_list_offers_only_who_can_be_assigned);

async fn revoking_a_token_asks_first(url: String) {
    let d = demo(&url).await;
    let r = d
        .form(
            "/account/tokens",
            "sam.assessor@demo",
            "name=Reporting+script",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let tokens = d.page("/account/tokens", "sam.assessor@demo").await;
    assert_eq!(raw_timestamp(&tokens.body), None, "created in words");
    let row = tokens.body.find("<td>Reporting script</td>").unwrap();
    let at = row
        + tokens.body[row..]
            .find("/revoke\">Revoke")
            .expect("a link to revoke, not a one-click form");
    let start = tokens.body[..at].rfind("href=\"").unwrap() + 6;
    let confirm_at = format!("{}/revoke", &tokens.body[start..at]);
    let confirm = d.page(&confirm_at, "sam.assessor@demo").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .body
            .contains("Are you sure you want to revoke the token")
    );
    assert!(confirm.body.contains("Reporting script"));
    assert!(
        confirm
            .body
            .contains(&format!("action=\"{confirm_at}\" method=\"post\""))
    );
    // Another person's token is not theirs to revoke, nor to see.
    let other = d.page(&confirm_at, "priya.learner@demo").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let r = d.form(&confirm_at, "sam.assessor@demo", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let tokens = d.page("/account/tokens", "sam.assessor@demo").await;
    let row = tokens.body.find("<td>Reporting script</td>").unwrap();
    assert!(tokens.body[row..].contains("Revoked "));
    let again = d.page(&confirm_at, "sam.assessor@demo").await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "a revoked token has nothing to confirm"
    );
}
both_databases!(token_revoke, revoking_a_token_asks_first);

async fn a_transfer_request_with_a_problem_keeps_what_was_typed(url: String) {
    let d = demo(&url).await;
    let reg = d
        .app
        .store
        .registrations_of_learner(d.priya)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.centre_id == d.north)
        .unwrap();
    // Riverside is approved for Priya's qualification too, so she may move there.
    let river = d
        .app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    let isp = d
        .app
        .store
        .person_by_email("ao@isp.demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    d.app
        .store
        .approve_centre(river, &reg.qan, "ISP", Some(isp))
        .await
        .unwrap();
    let r = d
        .form(
            &format!(
                "/centres/{}/registrations/{}/transfer",
                d.north, reg.registration_id
            ),
            "admin@northgate.demo",
            "to_centre=&reason=Moving+to+Leeds+with+her+employer",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("Choose the centre the learner is moving to")
    );
    assert!(
        r.body
            .contains("value=\"Moving to Leeds with her employer\"")
    );
    // A form the framework cannot read (a field missing) is a page that says what to do, not
    // a line of text naming raw fields.
    let r = d
        .form(
            &format!(
                "/centres/{}/registrations/{}/transfer",
                d.north, reg.registration_id
            ),
            "admin@northgate.demo",
            "reason=no+centre+field",
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(r.body.contains("The form could not be read"), "{}", r.body);
    assert!(!r.body.contains("missing field"));
    assert!(r.body.contains("Sign out"), "the header shows");
}
both_databases!(
    transfer_form,
    a_transfer_request_with_a_problem_keeps_what_was_typed
);

async fn account_forms_keep_what_was_typed(url: String) {
    let d = demo(&url).await;
    // CPD: hours that are not a number; the date and what it was are kept, and the error
    // links to the field at fault.
    let r = d
        .form(
            "/account/competence/cpd",
            "sam.assessor@demo",
            "date=14%2F10%2F2026&hours=two&description=Standardisation+workshop",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("href=\"#cpd-hours\""));
    assert!(r.body.contains("value=\"14/10/2026\""));
    assert!(r.body.contains("value=\"two\""));
    assert!(r.body.contains("value=\"Standardisation workshop\""));
    // An interest of kind "other" without saying what: the kind stays chosen.
    let r = d
        .form(
            "/account/interests",
            "sam.assessor@demo",
            &format!("learner={}&kind=other&note=", d.priya),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("<option value=\"other\" selected>"));
    assert!(
        r.body
            .contains(&format!("<option value=\"{}\" selected>", d.priya))
    );
    // A centre's name that is refused is kept.
    let r = d.form("/centres", "ao@isp.demo", "name=++").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"centre-name\" name=\"name\" type=\"text\" value=\"  \"")
    );
}
both_databases!(account_forms, account_forms_keep_what_was_typed);
