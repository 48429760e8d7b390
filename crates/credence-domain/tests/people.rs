//! People (issue 5): ULNs, registration (page and CSV), staff competence, conflicts of interest
//! and the audit chain.

use chrono::NaiveDate;
use credence_domain::ident::ProgrammeCode;
use credence_domain::people::audit::{
    self, AuditRecord, ChainBreak, GENESIS, NewAuditEntry, seal, verify,
};
use credence_domain::people::competence::{
    AssessorAward, AwardHeld, AwardStatus, CompetenceFlag, CompetenceRecord, CpdEntry,
    RefusalReason, StaffRole, check_assignment, cpd_hours_last_12_months, flags,
};
use credence_domain::people::conflict::{
    Activity, ConflictRefusal, Interest, InterestKind, may_act, may_verify, may_verify_decision,
};
use credence_domain::people::registration::{
    LearnerKey, QualificationInfo, RegistrationContext, RegistrationInput, RowOutcome,
    parse_registrations, synthetic_csv, validate_registration,
};
use credence_domain::people::uln::{Uln, UlnError, uln_with_check_digit};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

// =============================================================================================
// ULN

#[test]
fn uln_valid_examples() {
    // Hand check of 123456789: 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2
    // = 10 + 18 + 24 + 28 + 30 + 30 + 28 + 24 + 18 = 210; 210 = 19*11 + 1, remainder 1;
    // check digit 10 - 1 = 9.
    assert_eq!(
        uln_with_check_digit("123456789").as_deref(),
        Some("1234567899")
    );
    // 111111111: sum 54, remainder 10, check digit 0.
    assert_eq!(
        uln_with_check_digit("111111111").as_deref(),
        Some("1111111110")
    );
    assert_eq!(
        uln_with_check_digit("555555555").as_deref(),
        Some("5555555554")
    );
    assert_eq!(
        uln_with_check_digit("600000000").as_deref(),
        Some("6000000005")
    );
    for u in [
        "1234567899",
        "1111111110",
        "5555555554",
        "6000000005",
        " 1234567899 ",
    ] {
        let parsed = Uln::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(parsed.as_str(), u.trim());
    }
}

#[test]
fn uln_remainder_zero_is_invalid_whatever_the_tenth_digit() {
    // 987654321: 90 + 72 + 56 + 42 + 30 + 20 + 12 + 6 + 2 = 330 = 30*11.
    for nine in ["987654321", "000000000", "100000006"] {
        assert_eq!(uln_with_check_digit(nine), None, "{nine}");
        for last in 0..=9 {
            let u = format!("{nine}{last}");
            assert!(
                matches!(Uln::parse(&u), Err(UlnError::RemainderZero { .. })),
                "{u}"
            );
        }
    }
    let msg = Uln::parse("9876543210").unwrap_err().to_string();
    assert!(msg.contains("can never carry a valid check digit"), "{msg}");
}

#[test]
fn uln_wrong_check_digit_names_the_expected_digit() {
    let err = Uln::parse("1234567890").unwrap_err();
    assert_eq!(
        err,
        UlnError::CheckDigit {
            text: "1234567890".into(),
            expected: '9',
            found: '0'
        }
    );
    assert!(err.to_string().contains("should be 9 but is 0"), "{err}");
    // Every wrong digit is refused.
    for last in 0..=8 {
        assert!(Uln::parse(&format!("123456789{last}")).is_err());
    }
}

#[test]
fn uln_shape_errors() {
    assert!(matches!(
        Uln::parse("12345A7899"),
        Err(UlnError::NotDigits { found: 'A', .. })
    ));
    assert!(matches!(
        Uln::parse("12345 67899"),
        Err(UlnError::NotDigits { found: ' ', .. })
    ));
    assert!(matches!(
        Uln::parse("123456789"),
        Err(UlnError::Length { digits: 9, .. })
    ));
    assert!(matches!(
        Uln::parse("12345678991"),
        Err(UlnError::Length { digits: 11, .. })
    ));
    assert_eq!(Uln::parse("  "), Err(UlnError::Empty));
    assert!(
        Uln::parse("123456789")
            .unwrap_err()
            .to_string()
            .contains("this has 9")
    );
    assert_eq!(uln_with_check_digit("12345678"), None);
    assert_eq!(uln_with_check_digit("12345678a"), None);
}

// =============================================================================================
// Registration

const CERT: &str = "610/3788/6"; // 18 plus, approved
const DIPLOMA: &str = "610/3789/8"; // known, not approved
const ADVANCED: &str = "603/5902/X"; // no age limit, approved
const TODAY: &str = "2026-11-23";

fn qan(s: &str) -> ProgrammeCode {
    ProgrammeCode::parse(s).expect("test QAN or unit reference")
}

const OCR_UNIT: &str = "H/502/8599"; // offered on its own, approved
const ISP_UNIT: &str = "L/650/7899"; // offered on its own, not approved

fn ctx() -> RegistrationContext {
    let mut c = RegistrationContext::new(date(TODAY));
    c.add_qualification(
        qan(CERT),
        QualificationInfo {
            title: "ISP Level 3 Certificate in Professional Sales".into(),
            minimum_age: Some(18),
        },
        true,
    );
    c.add_qualification(
        qan(DIPLOMA),
        QualificationInfo {
            title: "ISP Level 3 Diploma in Professional Sales".into(),
            minimum_age: Some(18),
        },
        false,
    );
    c.add_qualification(
        qan(ADVANCED),
        QualificationInfo {
            title: "ISP Level 5 Certificate in Advanced Sales Professionalism".into(),
            minimum_age: None,
        },
        true,
    );
    c.add_qualification(
        qan(OCR_UNIT),
        QualificationInfo {
            title: "Generating and qualifying sales leads".into(),
            minimum_age: None,
        },
        true,
    );
    c.add_qualification(
        qan(ISP_UNIT),
        QualificationInfo {
            title: "Sales planning".into(),
            minimum_age: None,
        },
        false,
    );
    c
}

#[test]
fn a_unit_on_its_own_is_registered_from_a_unit_column() {
    let csv = "\
given_name,family_name,date_of_birth,unit,uln
Ade,Okafor,1990-04-01,H/502/8599,
Bea,Nolan,1991-05-02,h/502/8599,
Cal,Price,1992-06-03,L/650/7899,
Dee,Moss,1993-07-04,T/999/9999,
Eve,Shaw,1994-08-05,610/3788/6,
Ade,Okafor,1990-04-01,H/502/8599,
";
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert_eq!(b.file_error, None, "a unit column stands in for qan");
    assert_eq!(b.valid.len(), 2);
    assert!(b.valid[0].qan.is_unit());
    assert_eq!(b.valid[0].qan.as_str(), OCR_UNIT);
    assert_eq!(
        b.valid[1].qan.as_str(),
        OCR_UNIT,
        "the reference is upper-cased"
    );
    assert_eq!(
        b.valid[0].qualification_title,
        "Generating and qualifying sales leads"
    );
    let not_approved = errors_of(&b, 4);
    assert_eq!(not_approved.len(), 1);
    assert_eq!(not_approved[0].0, Some("unit"));
    assert!(
        not_approved[0]
            .1
            .contains("this centre is not approved for unit L/650/7899 (Sales planning)"),
        "{not_approved:?}"
    );
    let not_offered = errors_of(&b, 5);
    assert!(
        not_offered[0]
            .1
            .contains("unit T/999/9999 is not offered on its own"),
        "{not_offered:?}"
    );
    let qan_in_unit_column = errors_of(&b, 6);
    assert!(
        qan_in_unit_column[0]
            .1
            .contains("is not an Ofqual unit reference"),
        "{qan_in_unit_column:?}"
    );
    let duplicate = errors_of(&b, 7);
    assert!(
        duplicate[0]
            .1
            .contains("this row repeats row 2: the same name and date of birth on unit H/502/8599")
            || duplicate[0].1.contains("repeats row 2"),
        "{duplicate:?}"
    );
}

#[test]
fn a_unit_already_registered_at_the_centre_or_given_with_a_qan_is_refused() {
    let mut c = ctx();
    c.add_existing(None, "Ann", "Lee", date("1999-05-05"), &qan(OCR_UNIT));
    let mut input = RegistrationInput {
        given_name: "Ann".into(),
        family_name: "Lee".into(),
        date_of_birth: "05/05/1999".into(),
        unit: Some(OCR_UNIT.into()),
        ..RegistrationInput::default()
    };
    let errs = validate_registration(&input, &c).unwrap_err();
    assert!(
        errs[0]
            .message
            .contains("already registered on unit H/502/8599"),
        "{errs:?}"
    );
    // The same learner may take the unit's qualification... or another unit.
    input.given_name = "Anna".into();
    let ok = validate_registration(&input, &c).expect("a new learner on the unit");
    assert!(ok.qan.is_unit());
    input.qan = CERT.into();
    let errs = validate_registration(&input, &c).unwrap_err();
    assert_eq!(errs[0].field.as_deref(), Some("unit"));
    assert!(errs[0].message.contains("not both"), "{errs:?}");
}

fn errors_of(
    batch: &credence_domain::people::registration::RegistrationBatch,
    row: usize,
) -> Vec<(Option<&str>, &str)> {
    batch
        .errors
        .iter()
        .filter(|e| e.row == row)
        .map(|e| (e.column.as_deref(), e.message.as_str()))
        .collect()
}

#[test]
fn one_good_row_and_one_row_with_every_error() {
    let csv = "\
given_name,family_name,date_of_birth,qan,uln,email
Jane,Smith,2001-02-28,610/3788/6,1234567899,jane@example.org
,Jones,2030-01-01,610/3788/7,1234567890,not-an-email
";
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert_eq!(b.file_error, None);
    assert_eq!(b.rows.len(), 2);
    assert_eq!(b.rows[0].row, 2);
    assert_eq!(b.rows[0].outcome, RowOutcome::Valid { index: 0 });
    assert_eq!(b.valid.len(), 1);
    let v = &b.valid[0];
    assert_eq!(v.given_name, "Jane");
    assert_eq!(v.date_of_birth, date("2001-02-28"));
    assert_eq!(v.uln.as_ref().map(Uln::as_str), Some("1234567899"));
    assert_eq!(v.qan.as_str(), CERT);
    assert_eq!(v.row, Some(2));
    assert_eq!(
        v.qualification_title,
        "ISP Level 3 Certificate in Professional Sales"
    );

    let errs = errors_of(&b, 3);
    let cols: Vec<Option<&str>> = errs.iter().map(|e| e.0).collect();
    assert_eq!(
        cols,
        vec![
            Some("given_name"),
            Some("date_of_birth"),
            Some("qan"),
            Some("uln"),
            Some("email")
        ],
        "{errs:#?}"
    );
    assert!(errs[0].1.contains("given_name is missing"));
    assert!(
        errs[1].1.contains("cannot be in the future"),
        "{}",
        errs[1].1
    );
    assert!(errs[2].1.contains("expected 6, found 7"), "{}", errs[2].1);
    assert!(errs[3].1.contains("should be 9 but is 0"), "{}", errs[3].1);
    assert!(errs[4].1.contains("not an email address"));
    assert_eq!(b.rows[1].outcome, RowOutcome::Invalid { errors: 5 });
    assert_eq!(b.errors[1].value, "2030-01-01");
    assert!(!b.is_clean());
    assert_eq!(b.rows_with_errors(), 1);
    assert_eq!(
        b.summary(),
        "2 learners: 1 ready to register, 1 row with errors (5 problems)"
    );
}

#[test]
fn unknown_and_unapproved_qualifications() {
    let csv = "\
given_name,family_name,date_of_birth,qan
A,One,1990-01-01,610/9999/5
B,Two,1990-01-01,610/3789/8
C,Three,1990-01-01,
D,Four,1990-01-01,6103788
";
    // 610/9999/5 is a well-formed QAN: 6*8 + 1*7 + 0*6 + 9*5 + 9*4 + 9*3 + 9*2 = 181 = 16*11 + 5.
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert!(b.valid.is_empty());
    assert!(
        errors_of(&b, 2)[0]
            .1
            .contains("610/9999/5 is not a qualification in Credence's catalogue")
    );
    let e3 = errors_of(&b, 3);
    assert_eq!(e3.len(), 1);
    assert!(
        e3[0].1.contains(
            "this centre is not approved for 610/3789/8 (ISP Level 3 Diploma in Professional Sales)"
        ),
        "{}",
        e3[0].1
    );
    assert!(errors_of(&b, 4)[0].1.contains("qan is missing"));
    assert!(errors_of(&b, 5)[0].1.contains("is not a QAN"));
}

#[test]
fn missing_columns_are_named() {
    let b = parse_registrations(b"given_name,surname,qan\nJane,Smith,610/3788/6\n", &ctx());
    let e = b.file_error.expect("file error");
    assert!(e.contains("no date_of_birth column"), "{e}");
    assert!(b.rows.is_empty() && b.valid.is_empty());

    let b = parse_registrations(b"name,qan\nJane Smith,610/3788/6\n", &ctx());
    let e = b.file_error.expect("file error");
    assert!(
        e.contains("no given_name, family_name and date_of_birth columns"),
        "{e}"
    );
    assert!(e.contains("'name', 'qan'"), "{e}");

    let b = parse_registrations(b"qan,given_name,family_name,date_of_birth,QAN\n", &ctx());
    assert!(
        b.file_error
            .expect("two qan")
            .contains("two qan columns (columns 1 and 5)")
    );
}

#[test]
fn empty_binary_and_non_utf8_files() {
    for empty in [&b""[..], b"   \n\r\n", b"\xEF\xBB\xBF"] {
        let e = parse_registrations(empty, &ctx())
            .file_error
            .expect("empty");
        assert!(e.starts_with("The file is empty"), "{e}");
    }
    let e = parse_registrations(b"PK\x03\x04\x14\x00\x06\x00", &ctx())
        .file_error
        .expect("xlsx");
    assert!(e.contains(".xlsx") && e.contains("CSV UTF-8"), "{e}");
    let e = parse_registrations(b"\x7fELF\x02\x01\x01\x00\x00\x00", &ctx())
        .file_error
        .expect("binary");
    assert!(e.contains("not a text file"), "{e}");
    let e = parse_registrations(
        b"given_name,family_name,date_of_birth,qan\nRen\xe9e,Smith,2001-01-01,610/3788/6\n",
        &ctx(),
    )
    .file_error
    .expect("latin-1");
    assert!(e.contains("not UTF-8") && e.contains("line 2"), "{e}");
    let e = parse_registrations(b"given_name,family_name,date_of_birth,qan\n", &ctx())
        .file_error
        .expect("header only");
    assert!(e.contains("no learners"), "{e}");
}

#[test]
fn header_is_forgiving_and_bom_is_ignored() {
    let csv =
        "\u{feff}Surname , First Name,QAN,DOB,Notes\nSmith,Jane,610/3788/6,28/02/2001,likes tea\n";
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert_eq!(b.file_error, None, "{:?}", b.errors);
    assert_eq!(b.valid.len(), 1, "{:?}", b.errors);
    assert_eq!(b.valid[0].family_name, "Smith");
    assert_eq!(b.valid[0].given_name, "Jane");
    // Semicolons as separators.
    let csv = "given_name;family_name;date_of_birth;qan\nJane;Smith;2001-02-28;610/3788/6\n";
    assert_eq!(parse_registrations(csv.as_bytes(), &ctx()).valid.len(), 1);
}

#[test]
fn uk_date_format_and_bad_dates() {
    let mut input = RegistrationInput {
        given_name: "Jane".into(),
        family_name: "Smith".into(),
        date_of_birth: "28/02/2001".into(),
        qan: CERT.into(),
        ..RegistrationInput::default()
    };
    assert_eq!(
        validate_registration(&input, &ctx())
            .expect("valid")
            .date_of_birth,
        date("2001-02-28")
    );
    input.date_of_birth = "1/3/2001".into();
    assert_eq!(
        validate_registration(&input, &ctx())
            .expect("valid")
            .date_of_birth,
        date("2001-03-01")
    );
    for (bad, says) in [
        ("02/28/2001", "swap the day and the month"),
        ("31/02/2001", "February 2001 has no day 31"),
        ("28/02/01", "write the year in full"),
        ("28 Feb 2001", "YYYY-MM-DD"),
        ("2001-13-01", "no month 13"),
    ] {
        input.date_of_birth = bad.into();
        let errs = validate_registration(&input, &ctx()).expect_err(bad);
        assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
        assert_eq!(errs[0].field.as_deref(), Some("date_of_birth"));
        assert!(errs[0].message.contains(says), "{bad}: {}", errs[0].message);
    }
}

#[test]
fn age_boundary_eighteen_today_and_seventeen_the_day_before() {
    let c = ctx(); // today 2026-11-23
    let mut input = RegistrationInput {
        given_name: "Sam".into(),
        family_name: "Young".into(),
        date_of_birth: "2008-11-23".into(), // 18 today
        qan: CERT.into(),
        ..RegistrationInput::default()
    };
    assert!(validate_registration(&input, &c).is_ok());
    input.date_of_birth = "2008-11-24".into(); // 18 tomorrow: 17 today
    let errs = validate_registration(&input, &c).expect_err("17");
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].message,
        "the learner is 17 on 23 November 2026; 610/3788/6 is approved for learners aged 18 and over (they turn 18 on 24 November 2026)"
    );
    // No age approval: anyone may register.
    input.qan = ADVANCED.into();
    assert!(validate_registration(&input, &c).is_ok());
    // 29 February: turns 18 on 1 March in a year without one.
    input.qan = CERT.into();
    input.date_of_birth = "2008-02-29".into();
    let mut c2 = c.clone();
    c2.today = date("2026-02-28");
    let errs = validate_registration(&input, &c2).expect_err("17 on 28 Feb");
    assert!(
        errs[0].message.contains("they turn 18 on 1 March 2026"),
        "{}",
        errs[0].message
    );
    c2.today = date("2026-03-01");
    assert!(validate_registration(&input, &c2).is_ok());
}

#[test]
fn duplicates_within_the_file_name_the_earlier_row() {
    let csv = "\
given_name,family_name,date_of_birth,qan,uln
Jane,Smith,2001-02-28,610/3788/6,1234567899

Janet,Smyth,2001-03-01,610/3788/6,1234567899
Jane,Smith,2001-02-28,603/5902/X,1234567899
Ann,Lee,1999-05-05,610/3788/6,
ann,  LEE,05/05/1999,610/3788/6,
Ann,Lee,1999-05-05,610/3788/6,1111111110
";
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert_eq!(b.file_error, None);
    // Row 3 is blank: skipped, but it still counts as a spreadsheet row.
    let rows: Vec<usize> = b.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![2, 4, 5, 6, 7, 8]);
    let e4 = errors_of(&b, 4);
    assert_eq!(e4.len(), 1);
    assert_eq!(e4[0].0, None);
    assert_eq!(
        e4[0].1,
        "this row repeats row 2: the same ULN 1234567899 on 610/3788/6; remove one of the two rows"
    );
    // Same learner on another qualification: fine.
    assert!(errors_of(&b, 5).is_empty());
    assert!(errors_of(&b, 6).is_empty());
    // Name and date of birth match ignoring case and spacing, whatever the date format.
    let e7 = errors_of(&b, 7);
    assert_eq!(e7.len(), 1, "{e7:?}");
    assert!(
        e7[0]
            .1
            .contains("repeats row 6: the same name and date of birth")
    );
    // A row with a ULN matches an earlier row without one by name and birth date.
    let e8 = errors_of(&b, 8);
    assert_eq!(e8.len(), 1, "{e8:?}");
    assert!(e8[0].1.contains("repeats row 6"));
    assert_eq!(b.valid.len(), 3);
    // The same with Windows line endings, and with blank lines at the start.
    let crlf = csv.replace('\n', "\r\n");
    let b2 = parse_registrations(crlf.as_bytes(), &ctx());
    assert_eq!(b2.rows, b.rows);
    assert_eq!(b2.errors, b.errors);
    let padded = format!("\r\n\r\n{crlf}");
    let b3 = parse_registrations(padded.as_bytes(), &ctx());
    let rows: Vec<usize> = b3.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![4, 6, 7, 8, 9, 10]);
}

#[test]
fn duplicates_against_existing_registrations() {
    let mut c = ctx();
    let uln = Uln::parse("1234567899").expect("uln");
    c.add_existing(Some(&uln), "Jane", "Smith", date("2001-02-28"), &qan(CERT));
    c.add_existing(None, "Ann", "Lee", date("1999-05-05"), &qan(CERT));
    let csv = "\
given_name,family_name,date_of_birth,qan,uln
Jane,Smith,2001-02-28,610/3788/6,1234567899
Jane,Smith,2001-02-28,603/5902/X,1234567899
Ann,Lee,1999-05-05,610/3788/6,
";
    let b = parse_registrations(csv.as_bytes(), &c);
    assert!(errors_of(&b, 2)[0].1.contains(
        "the learner with ULN 1234567899 is already registered on 610/3788/6 at this centre"
    ));
    assert!(errors_of(&b, 3).is_empty());
    assert!(
        errors_of(&b, 4)[0]
            .1
            .contains("same name and date of birth is already registered")
    );
    assert!(c.existing.contains(&(LearnerKey::uln(&uln), qan(CERT))));

    // The page refuses the same.
    let input = RegistrationInput {
        given_name: "Jane".into(),
        family_name: "Smith".into(),
        date_of_birth: "2001-02-28".into(),
        qan: CERT.into(),
        uln: Some("1234567899".into()),
        email: Some(String::new()),
        unit: None,
    };
    let errs = validate_registration(&input, &c).expect_err("duplicate");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, None);
    assert!(errs[0].message.contains("already registered"));
}

#[test]
fn the_page_reports_every_problem() {
    let input = RegistrationInput {
        given_name: " ".into(),
        family_name: "".into(),
        date_of_birth: "".into(),
        qan: "".into(),
        uln: Some("12345".into()),
        email: Some("x@".into()),
        unit: None,
    };
    let errs = validate_registration(&input, &ctx()).expect_err("bad");
    let fields: Vec<&str> = errs.iter().filter_map(|e| e.field.as_deref()).collect();
    assert_eq!(
        fields,
        vec![
            "given_name",
            "family_name",
            "date_of_birth",
            "qan",
            "uln",
            "email"
        ]
    );
}

#[test]
fn extra_values_and_quoted_commas() {
    let csv = "\
given_name,family_name,date_of_birth,qan
Jane,Smith, Jr,2001-02-28,610/3788/6
\"Jane\",\"Smith, Jr\",2001-02-28,610/3788/6
\"Mary
Ann\",Jones,2001-02-28,610/3788/6
Bob,Brown,2001-02-28,610/3788/6
";
    let b = parse_registrations(csv.as_bytes(), &ctx());
    let e2 = errors_of(&b, 2);
    assert!(
        e2.iter()
            .any(|e| e.1.contains("5 values but the header has 4 columns")),
        "{e2:?}"
    );
    assert!(errors_of(&b, 3).is_empty());
    assert_eq!(b.valid[0].family_name, "Smith, Jr");
    // A value over two lines is one spreadsheet row: Bob is row 5.
    let rows: Vec<usize> = b.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![2, 3, 4, 5]);
    assert_eq!(b.valid.last().map(|v| v.given_name.as_str()), Some("Bob"));
}

#[test]
fn hundred_thousand_synthetic_rows_validate_cleanly() {
    let today = date(TODAY);
    let csv = synthetic_csv(100_000, CERT, today);
    let b = parse_registrations(csv.as_bytes(), &ctx());
    assert_eq!(b.file_error, None);
    assert!(
        b.errors.is_empty(),
        "{:?}",
        &b.errors[..b.errors.len().min(5)]
    );
    assert_eq!(b.valid.len(), 100_000);
    assert_eq!(b.rows.last().map(|r| r.row), Some(100_001));
    assert!(b.is_clean());
    let distinct: std::collections::HashSet<_> = b.valid.iter().map(|v| v.uln.clone()).collect();
    assert_eq!(distinct.len(), 100_000);
}

#[test]
fn batch_serialises() {
    let b = parse_registrations(synthetic_csv(2, CERT, date(TODAY)).as_bytes(), &ctx());
    let json = serde_json::to_value(&b).expect("json");
    assert_eq!(json["rows"][0]["outcome"]["status"], "valid");
    assert!(
        json["valid"][0]["date_of_birth"]
            .as_str()
            .is_some_and(|d| d.len() == 10)
    );
}

// =============================================================================================
// Competence

fn record(
    level: u8,
    awards: &[(AssessorAward, AwardStatus)],
    cpd: &[(&str, u32)],
) -> CompetenceRecord {
    CompetenceRecord {
        occupational_level: level,
        awards: awards
            .iter()
            .map(|(award, status)| AwardHeld {
                award: award.clone(),
                status: *status,
            })
            .collect(),
        cpd: cpd
            .iter()
            .map(|(d, minutes)| CpdEntry {
                date: date(d),
                minutes: *minutes,
                description: "Sales conference".into(),
            })
            .collect(),
    }
}

#[test]
fn competence_level_boundary() {
    let r = record(
        4,
        &[(AssessorAward::L3AwardAssessingCompetence, AwardStatus::Held)],
        &[],
    );
    assert_eq!(check_assignment(StaffRole::Assessor, &r, 3), Ok(()));
    let refusal = check_assignment(StaffRole::Assessor, &r, 4).expect_err("L4");
    assert_eq!(
        refusal.reasons,
        vec![RefusalReason::CompetenceTooLow {
            role: StaffRole::Assessor,
            competence_level: 4,
            qualification_level: 4,
            needed: 5
        }]
    );
    assert_eq!(
        refusal.to_string(),
        "cannot be assigned as an assessor: their occupational competence is at Level 4; to act as an assessor on a Level 4 qualification it must be at Level 5 or above (one level above the qualification)"
    );
    assert!(check_assignment(StaffRole::Assessor, &r, u8::MAX).is_err());
}

#[test]
fn iqa_needs_an_iqa_award() {
    let assessor_only = record(6, &[(AssessorAward::A1, AwardStatus::Held)], &[]);
    assert!(check_assignment(StaffRole::Assessor, &assessor_only, 5).is_ok());
    let refusal = check_assignment(StaffRole::Iqa, &assessor_only, 5).expect_err("no IQA award");
    assert_eq!(
        refusal.reasons,
        vec![RefusalReason::NoAward {
            role: StaffRole::Iqa
        }]
    );
    assert!(
        refusal.to_string().contains("hold no IQA qualification"),
        "{refusal}"
    );
    // Both reasons at once.
    let refusal = check_assignment(StaffRole::Iqa, &assessor_only, 6).expect_err("two reasons");
    assert_eq!(refusal.reasons.len(), 2);

    for a in [
        AssessorAward::D34,
        AssessorAward::V1,
        AssessorAward::L4AwardIqa,
        AssessorAward::L4CertificateLeadingIqa,
    ] {
        assert!(a.qualifies_for(StaffRole::Iqa) && !a.qualifies_for(StaffRole::Assessor));
        let r = record(6, &[(a.clone(), AwardStatus::WorkingTowards)], &[]);
        assert!(check_assignment(StaffRole::Iqa, &r, 5).is_ok(), "{a}");
    }
    for a in [
        AssessorAward::A1,
        AssessorAward::D32,
        AssessorAward::D33,
        AssessorAward::L3AwardAssessingCompetence,
        AssessorAward::L3AwardAssessingVocationallyRelatedAchievement,
        AssessorAward::L3CertificateAssessingVocationalAchievement,
    ] {
        assert!(a.qualifies_for(StaffRole::Assessor) && !a.qualifies_for(StaffRole::Iqa));
    }
    let other = AssessorAward::Other("PTLLS".into());
    assert!(!other.qualifies_for(StaffRole::Assessor) && !other.qualifies_for(StaffRole::Iqa));
}

#[test]
fn working_towards_is_flagged_to_sample_more() {
    let today = date("2026-06-15");
    let full_cpd = [("2026-01-10", 24 * 60)];
    let r = record(
        5,
        &[(
            AssessorAward::L3CertificateAssessingVocationalAchievement,
            AwardStatus::WorkingTowards,
        )],
        &full_cpd,
    );
    let f = flags(StaffRole::Assessor, &r, today);
    assert_eq!(
        f,
        vec![CompetenceFlag::WorkingTowards {
            role: StaffRole::Assessor,
            award: AssessorAward::L3CertificateAssessingVocationalAchievement
        }]
    );
    assert!(
        f[0].message().contains("sample more of their decisions"),
        "{}",
        f[0]
    );
    // Holding one award and working towards another: nothing to flag.
    let r = record(
        5,
        &[
            (AssessorAward::A1, AwardStatus::Held),
            (
                AssessorAward::L3AwardAssessingCompetence,
                AwardStatus::WorkingTowards,
            ),
        ],
        &full_cpd,
    );
    assert!(flags(StaffRole::Assessor, &r, today).is_empty());
    // No award at all.
    let r = record(5, &[], &full_cpd);
    let f = flags(StaffRole::Iqa, &r, today);
    assert_eq!(
        f,
        vec![CompetenceFlag::NoAward {
            role: StaffRole::Iqa
        }]
    );
}

#[test]
fn cpd_window_is_the_last_12_months_inclusive() {
    let today = date("2026-06-15");
    let r = record(
        5,
        &[(AssessorAward::A1, AwardStatus::Held)],
        &[
            ("2025-06-14", 600), // a year and a day ago: out
            ("2025-06-15", 60),  // exactly 12 months ago: in
            ("2026-06-15", 90),  // today: in
            ("2026-06-16", 600), // future: out
        ],
    );
    assert_eq!(cpd_hours_last_12_months(&r, today), 2.5);
    let f = flags(StaffRole::Assessor, &r, today);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].message(),
        "2 hours 30 minutes of CPD in the last 12 months; assessors need 24 hours a year: plan more CPD"
    );
    let f = flags(
        StaffRole::Iqa,
        &record(5, &[(AssessorAward::V1, AwardStatus::Held)], &[]),
        today,
    );
    assert_eq!(
        f,
        vec![CompetenceFlag::BelowCpd {
            role: StaffRole::Iqa,
            hours: 0.0,
            required: 24,
            recommended_only: true
        }]
    );
    assert!(f[0].message().contains("recommended for IQAs"));
    // Exactly 24 hours: not flagged.
    let r = record(
        5,
        &[(AssessorAward::A1, AwardStatus::Held)],
        &[("2025-06-15", 24 * 60)],
    );
    assert!(flags(StaffRole::Assessor, &r, today).is_empty());
    assert!(flags(StaffRole::Assessor, &r, date("2026-06-16")).len() == 1);
}

// =============================================================================================
// Conflicts of interest

const ACTIVITIES: [Activity; 4] = [
    Activity::Assess,
    Activity::InternalQualityAssure,
    Activity::Moderate,
    Activity::ExternalQualityAssure,
];

#[test]
fn an_interest_refuses_every_activity() {
    let interests = vec![
        Interest {
            staff: "p1".into(),
            learner: "l1".into(),
            kind: InterestKind::Relative,
            declared_on: date("2026-01-05"),
        },
        Interest {
            staff: "p2".into(),
            learner: "l2".into(),
            kind: InterestKind::Other("neighbour".into()),
            declared_on: date("2026-02-01"),
        },
    ];
    for a in ACTIVITIES {
        let refusal = may_act("p1", "l1", a, &interests).expect_err("interest");
        assert!(
            matches!(refusal, ConflictRefusal::DeclaredInterest { activity, .. } if activity == a)
        );
        // Without an interest in that learner, or for another person: allowed.
        assert_eq!(may_act("p1", "l2", a, &interests), Ok(()));
        assert_eq!(may_act("p3", "l1", a, &interests), Ok(()));
        assert_eq!(may_act("p1", "l1", a, &[]), Ok(()));
    }
    assert_eq!(
        may_act("p1", "l1", Activity::Assess, &interests)
            .expect_err("relative")
            .to_string(),
        "p1 may not assess the work of learner l1: they declared an interest in this learner (relative) on 5 January 2026; choose another assessor"
    );
    assert!(
        may_act("p2", "l2", Activity::Moderate, &interests)
            .expect_err("other")
            .to_string()
            .contains("(neighbour)")
    );
}

#[test]
fn an_iqa_never_verifies_their_own_decision() {
    let refusal = may_verify("p1", "p1").expect_err("own");
    assert_eq!(refusal, ConflictRefusal::OwnDecision { iqa: "p1".into() });
    assert!(
        refusal
            .to_string()
            .contains("their own assessment decision")
    );
    assert_eq!(may_verify("p1", "p2"), Ok(()));
    let interests = [Interest {
        staff: "p1".into(),
        learner: "l1".into(),
        kind: InterestKind::LineManager,
        declared_on: date("2026-01-05"),
    }];
    assert_eq!(
        may_verify_decision("p1", "p1", "l1", &interests)
            .expect_err("both")
            .len(),
        2
    );
    assert_eq!(may_verify_decision("p1", "p2", "l2", &interests), Ok(()));
}

// =============================================================================================
// Audit

fn chain(n: u64) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    for i in 1..=n {
        let rec = seal(
            out.last(),
            NewAuditEntry {
                at: format!("2026-03-01T10:{:02}:{:02}Z", i / 60, i % 60),
                actor: (i % 3 != 0).then(|| format!("person:{}", i % 7)),
                address: (i % 2 == 0).then(|| "192.0.2.10".to_string()),
                action: "learner.register".into(),
                subject: format!("learner:{i}"),
                detail: audit::canonical_json(&serde_json::json!({"qan": CERT, "row": i})),
                centre_id: None,
                learner_id: None,
            },
        );
        out.push(rec);
    }
    out
}

#[test]
fn a_chain_of_100_verifies() {
    let c = chain(100);
    assert_eq!(verify(&c), Ok(100));
    assert_eq!(c[0].prev_hash, GENESIS);
    assert_eq!(c[0].seq, 1);
    assert_eq!(c[99].seq, 100);
    assert!(c.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    assert_eq!(
        c[5].hash,
        audit::chain_hash_v2(
            &c[5].prev_hash,
            c[5].seq,
            &c[5].at,
            c[5].actor.as_deref(),
            c[5].address.as_deref(),
            &c[5].action,
            &c[5].subject,
            c[5].centre_id,
            c[5].learner_id,
            &c[5].detail
        )
    );
}

type Edit = fn(&mut AuditRecord);

#[test]
fn editing_any_field_of_any_record_is_detected_at_its_seq() {
    let edits: [(&str, Edit); 9] = [
        ("seq", |r| r.seq += 1000),
        ("at", |r| r.at.push('x')),
        ("actor", |r| r.actor = Some("person:intruder".into())),
        ("address", |r| {
            r.address = match r.address.take() {
                Some(_) => None,
                None => Some("203.0.113.9".into()),
            }
        }),
        ("action", |r| r.action = "learner.delete".into()),
        ("subject", |r| r.subject.push('9')),
        ("detail", |r| r.detail = "{}".into()),
        ("prev_hash", |r| r.prev_hash = GENESIS.replace('0', "1")),
        ("hash", |r| r.hash = GENESIS.into()),
    ];
    let original = chain(100);
    for (name, edit) in edits {
        for i in [0usize, 1, 36, 98, 99] {
            let mut c = original.clone();
            edit(&mut c[i]);
            let seq = (i + 1) as u64;
            assert_eq!(
                verify(&c),
                Err(ChainBreak::Edited { seq }),
                "editing {name} of entry {seq}"
            );
        }
    }
}

#[test]
fn deleting_a_record_is_detected() {
    let original = chain(100);
    for i in [1usize, 36, 98] {
        let mut c = original.clone();
        c.remove(i);
        let seq = (i + 1) as u64;
        let err = verify(&c).expect_err("deleted");
        assert_eq!(
            err,
            ChainBreak::Missing {
                seq,
                last_missing: seq,
                after: seq - 1,
                found: seq + 1
            }
        );
        assert_eq!(err.seq(), seq);
        assert!(err.to_string().contains(&format!(
            "after entry {} comes entry {}",
            seq - 1,
            seq + 1
        )));
    }
    // The first entry deleted.
    let mut c = original.clone();
    c.remove(0);
    assert_eq!(verify(&c).expect_err("first deleted").seq(), 1);
    // The last entry deleted cannot be seen from the chain alone: compare with a kept hash.
    let mut c = original.clone();
    c.pop();
    assert_eq!(verify(&c), Ok(99));
    // Deleted and the rest renumbered and rehashed from there: the link breaks at the gap.
    let mut c = original.clone();
    c.remove(36);
    for r in &mut c[36..] {
        r.seq -= 1;
    }
    let mut prev = c[35].clone();
    let first = c[36].prev_hash.clone();
    for r in &mut c[36..] {
        let resealed = seal(
            Some(&prev),
            NewAuditEntry {
                at: r.at.clone(),
                actor: r.actor.clone(),
                address: r.address.clone(),
                action: r.action.clone(),
                subject: r.subject.clone(),
                detail: r.detail.clone(),
                centre_id: r.centre_id,
                learner_id: r.learner_id,
            },
        );
        *r = resealed;
        prev = r.clone();
    }
    assert_ne!(first, c[36].prev_hash);
    // A full rewrite of the tail verifies on its own: only a hash kept elsewhere catches it.
    assert_eq!(verify(&c), Ok(99));
    assert_ne!(c[98].hash, original[98].hash);
    // Without the rewrite, only the entry after the gap needs mending to hide a deletion, and
    // that shows as an edit or a broken link.
    let mut c = original.clone();
    c.remove(36);
    c[36].seq -= 1;
    assert_eq!(verify(&c), Err(ChainBreak::Edited { seq: 37 }));
}

#[test]
fn verifying_from_a_kept_hash() {
    let c = chain(100);
    assert_eq!(audit::verify_after(50, &c[49].hash, &c[50..]), Ok(50));
    assert_eq!(
        audit::verify_after(50, GENESIS, &c[50..]),
        Err(ChainBreak::BrokenLink { seq: 51, after: 50 })
    );
    assert_eq!(
        audit::verify(&c[50..])
            .expect_err("not from the start")
            .seq(),
        1
    );
}

#[test]
fn swapping_two_records_is_detected() {
    let original = chain(100);
    for (a, b) in [(0usize, 1usize), (36, 37), (10, 60), (98, 99)] {
        let mut c = original.clone();
        c.swap(a, b);
        let err = verify(&c).expect_err("swapped");
        let seq = (a + 1) as u64;
        assert_eq!(
            err,
            ChainBreak::Reordered {
                seq,
                found: (b + 1) as u64
            },
            "swap {a} {b}"
        );
        assert!(err.to_string().contains("out of place"));
    }
}

#[test]
fn a_repeated_record_and_a_broken_link_are_named() {
    let original = chain(10);
    let mut c = original.clone();
    c.insert(5, original[4].clone());
    assert_eq!(verify(&c), Err(ChainBreak::Repeated { seq: 6, found: 5 }));
    // A record replaced by a well-formed one sealed onto something else.
    let mut c = original.clone();
    let elsewhere = seal(
        None,
        NewAuditEntry {
            at: "2026-01-01T00:00:00Z".into(),
            actor: None,
            address: None,
            action: "other.log".into(),
            subject: "z".into(),
            detail: String::new(),
            centre_id: None,
            learner_id: None,
        },
    );
    let other = seal(
        Some(&elsewhere),
        NewAuditEntry {
            at: "2026-03-01T00:00:00Z".into(),
            actor: None,
            address: None,
            action: "x".into(),
            subject: "y".into(),
            detail: String::new(),
            centre_id: None,
            learner_id: None,
        },
    );
    assert_eq!(other.seq, 2);
    c[1] = other;
    assert_eq!(verify(&c), Err(ChainBreak::BrokenLink { seq: 2, after: 1 }));
}

#[cfg(feature = "openapi")]
#[test]
fn openapi_schemas_describe_dates_and_ulns_as_strings() {
    use credence_domain::people::registration::NewRegistration;
    use utoipa::PartialSchema;
    let reg = serde_json::to_value(NewRegistration::schema()).expect("schema");
    let props = &reg["properties"];
    assert_eq!(props["date_of_birth"]["type"], "string");
    assert_eq!(props["date_of_birth"]["format"], "date");
    assert_eq!(props["qan"]["type"], "string");
    let uln = serde_json::to_value(Uln::schema()).expect("schema");
    assert_eq!(uln["type"], "string", "{uln}");
    let _ = serde_json::to_value(AuditRecord::schema()).expect("schema");
    let _ = serde_json::to_value(CompetenceRecord::schema()).expect("schema");
    let _ = serde_json::to_value(Interest::schema()).expect("schema");
}
