//! The printed certificate, read back by real clients: poppler (`pdftotext`, `pdfinfo`,
//! `pdffonts`, `pdftoppm`) and zbar (`zbarimg`). A missing tool skips the test, except under
//! `CI=true`, where it fails with the command that installs it.

use credence::certificate_pdf::{CertificatePrint, PrintedUnit, render};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Is `tool` installed? Under CI it must be.
fn have(tool: &str, package: &str) -> bool {
    let found = Command::new(tool).arg("-v").output().is_ok();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{tool} is required under CI: apt-get install -y {package}");
        }
        eprintln!("skipping: {tool} is not installed (apt-get install -y {package})");
    }
    found
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "credence-cert-pdf-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().expect(tool);
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn unit(reference: &str, title: &str, credits: u32, grade: Option<&str>) -> PrintedUnit {
    PrintedUnit {
        reference: reference.into(),
        title: title.into(),
        credits: Some(credits),
        grade: grade.map(Into::into),
    }
}

fn certificate(learner: &str) -> CertificatePrint {
    CertificatePrint {
        number: "ISP-2026-0000042-K".into(),
        ao_name: "Institute of Sales Professionals".into(),
        ao_code: "ISP".into(),
        learner_name: learner.into(),
        title: "ISP Level 3 Diploma in Sales and Customer Relationship Management".into(),
        reference_label: "Qualification number".into(),
        reference: "610/3788/6".into(),
        level: Some("Level 3".into()),
        grade: Some("Merit".into()),
        grade_rule: Some(
            "The grade is the average of the unit grades weighted by credit value, \
             rounded to the nearest grade boundary."
                .into(),
        ),
        kind_label: "Certificate".into(),
        units: vec![
            unit(
                "H/502/8599",
                "Principles of personal selling",
                4,
                Some("Merit"),
            ),
            unit(
                "K/602/1100",
                "Managing customer relationships",
                6,
                Some("Distinction"),
            ),
            unit("T/505/0021", "Sales negotiation", 5, Some("Pass")),
            unit(
                "A/615/2290",
                "Ethics and compliance in sales",
                3,
                Some("Merit"),
            ),
        ],
        awarded_on: "30 November 2026".into(),
        centre_name: "Northfield College of Commerce".into(),
        replaces: None,
        verify_url: "https://credence.example/certificates/ISP-2026-0000042-K".into(),
    }
}

const NAMES: [&str; 4] = [
    "Zoë Łukasiewicz-Nguyễn",
    "Ólafur Þórsson",
    "Αλέξανδρος Παπαδόπουλος",
    "Иван Петрович Сидоров",
];

fn write(dir: &Path, name: &str, cert: &CertificatePrint) -> PathBuf {
    let bytes = render(cert).expect("render");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

fn text_of(pdf: &Path) -> String {
    run("pdftotext", &["-layout", pdf.to_str().expect("path"), "-"])
}

#[test]
fn names_in_any_script_round_trip_and_the_pdf_is_a4_tagged_with_embedded_fonts() {
    if !have("pdftotext", "poppler-utils") {
        return;
    }
    let dir = TempDir::new("names");
    for (i, name) in NAMES.iter().enumerate() {
        let cert = certificate(name);
        let pdf = write(&dir.0, &format!("{i}.pdf"), &cert);
        let path = pdf.to_str().expect("path");

        let text = text_of(&pdf);
        // A long title wraps; its words come out in order.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&cert.title), "{} not in:\n{text}", cert.title);
        for expected in [
            *name,
            "ISP-2026-0000042-K",
            "Institute of Sales Professionals",
            "This is to certify that",
            "has been awarded",
            "Qualification number: 610/3788/6",
            "Level 3",
            "Grade: Merit",
            "30 November 2026",
            "Northfield College of Commerce",
            "https://credence.example/certificates/ISP-2026-0000042-K",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
        for u in &cert.units {
            assert!(
                text.contains(&u.reference),
                "{} not in:\n{text}",
                u.reference
            );
            assert!(text.contains(&u.title), "{} not in:\n{text}", u.title);
        }
        // The plain (non-layout) extraction keeps the name whole too.
        let raw = run("pdftotext", &[path, "-"]);
        assert!(raw.contains(name), "{name:?} not in raw text:\n{raw}");

        let info = run("pdfinfo", &[path]);
        assert!(info.contains("Tagged:          yes"), "not tagged:\n{info}");
        assert!(info.contains("Pages:           1"), "not one page:\n{info}");
        let size = info
            .lines()
            .find(|l| l.starts_with("Page size:"))
            .expect("page size");
        let nums: Vec<f64> = size
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(
            nums.len() >= 2 && (nums[0] - 595.0).abs() < 1.0 && (nums[1] - 842.0).abs() < 1.0,
            "not A4: {size}"
        );
        assert!(
            info.contains("Title:           Certificate ISP-2026-0000042-K"),
            "no title:\n{info}"
        );

        // The structure tree: headings, paragraphs, a table with header cells, the QR figure.
        let structure = run("pdfinfo", &["-struct-text", path]);
        for element in [
            "H1 \"Institute of Sales Professionals\"",
            "Table",
            "TH",
            "TD",
            "Figure",
            "P (block)",
        ] {
            assert!(
                structure.contains(element),
                "{element} not in:\n{structure}"
            );
        }
        assert!(
            structure.contains(&format!("\"{name}\"")),
            "{name} not tagged:\n{structure}"
        );

        let fonts = run("pdffonts", &[path]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(rows.len() >= 2, "regular and bold fonts:\n{fonts}");
        for row in rows {
            assert!(row.contains("DejaVuSans"), "a DejaVu font:\n{fonts}");
            // Columns: name type encoding emb sub uni object-id.
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(cols[n - 5], "yes", "embedded:\n{fonts}");
            assert_eq!(cols[n - 4], "yes", "subset:\n{fonts}");
            assert_eq!(cols[n - 3], "yes", "unicode map:\n{fonts}");
        }
    }
}

#[test]
fn the_qr_code_scans_to_the_verification_url() {
    if !have("pdftoppm", "poppler-utils") || !have("zbarimg", "zbar-tools") {
        return;
    }
    let dir = TempDir::new("qr");
    let cert = certificate(NAMES[0]);
    let pdf = write(&dir.0, "qr.pdf", &cert);
    let prefix = dir.0.join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            pdf.to_str().expect("path"),
            prefix.to_str().expect("path"),
        ],
    );
    let png = std::fs::read_dir(&dir.0)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("a PNG page");
    let decoded = run("zbarimg", &["--raw", "-q", png.to_str().expect("path")]);
    assert_eq!(decoded.trim_end(), cert.verify_url);
}

#[test]
fn thirty_units_continue_overleaf_and_a_replacement_says_what_it_replaces() {
    if !have("pdftotext", "poppler-utils") {
        return;
    }
    let dir = TempDir::new("many");
    let mut cert = certificate("Ólafur Þórsson");
    cert.replaces = Some("Replaces certificate ISP-2026-0000007-3".into());
    cert.units = (0..30)
        .map(|i| {
            unit(
                &format!("R/{:03}/{:04}", 500 + i, 1000 + i * 7),
                &format!(
                    "Unit {} of the diploma: selling in practice, part {}",
                    i + 1,
                    i + 1
                ),
                3 + i % 4,
                Some(["Pass", "Merit", "Distinction"][i as usize % 3]),
            )
        })
        .collect();
    let pdf = write(&dir.0, "many.pdf", &cert);
    let path = pdf.to_str().expect("path");
    let text = text_of(&pdf);
    for u in &cert.units {
        assert!(
            text.contains(&u.reference),
            "{} not in:\n{text}",
            u.reference
        );
        assert!(text.contains(&u.title), "{} not in:\n{text}", u.title);
    }
    assert!(
        text.contains("Replaces certificate ISP-2026-0000007-3"),
        "{text}"
    );
    let info = run("pdfinfo", &[path]);
    assert!(info.contains("Tagged:          yes"), "{info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pages");
    assert!(
        pages >= 2,
        "thirty units continue onto a second page: {pages}"
    );
    // Each unit is printed once: nothing is lost or repeated at the page break.
    for u in &cert.units {
        assert_eq!(text.matches(&u.reference).count(), 1, "{}", u.reference);
    }
}

#[test]
fn a_name_the_fonts_cannot_print_is_refused() {
    let err = render(&certificate("李小龍")).expect_err("no CJK in DejaVu Sans");
    assert!(err.to_string().contains("cannot print"), "{err}");
}

/// A very long name, AO name and title (a unit acknowledgement with no grade) still fit one
/// page, every word printed (wrapped, never cut off).
#[test]
fn long_names_and_titles_wrap_on_one_page() {
    if !have("pdftotext", "poppler-utils") {
        return;
    }
    let dir = TempDir::new("long");
    let title = "Understanding the principles and practice of sustainable procurement in complex, multi-tier international supply chains";
    let mut edge =
        certificate("Maximiliano Alejandro de la Santísima Trinidad Fernández-Łukasiewicz");
    edge.ao_name =
        "The Chartered Institute of Procurement, Logistics and Supply Chain Professionals".into();
    edge.kind_label = "Unit acknowledgement".into();
    edge.title = title.into();
    edge.reference_label = "Unit reference".into();
    edge.reference = "H/502/8599".into();
    edge.grade = None;
    edge.grade_rule = None;
    edge.units = vec![unit("H/502/8599", title, 12, None)];
    let pdf = write(&dir.0, "edge.pdf", &edge);
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = words(&text_of(&pdf));
    for part in [
        "Maximiliano Alejandro de la Santísima Trinidad Fernández-Łukasiewicz",
        "The Chartered Institute of Procurement, Logistics and Supply Chain Professionals",
        "Unit acknowledgement",
        "H/502/8599",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    for word in title.split_whitespace() {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let info = run("pdfinfo", &[pdf.to_str().expect("path")]);
    assert!(info.contains("Pages:           1"), "{info}");
}
