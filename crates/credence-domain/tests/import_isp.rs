use credence_domain::import::import;
fn load(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../seeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
#[test]
fn dump() {
    for f in ["000_8453810380d6f4c5.txt", "001_acc22f54be9d8e07.txt"] {
        let t = std::time::Instant::now();
        let imp = import(&load(f)).unwrap();
        eprintln!("elapsed {:?}", t.elapsed());
        std::fs::write(
            format!("/tmp/isp-{f}.json"),
            serde_json::to_string_pretty(&imp).unwrap(),
        )
        .unwrap();
    }
}
#[test]
fn timing() {
    for f in ["000_8453810380d6f4c5.txt", "001_acc22f54be9d8e07.txt"] {
        let b = load(f);
        let t = std::time::Instant::now();
        for _ in 0..20 {
            import(&b).unwrap();
        }
        eprintln!("avg {:?}", t.elapsed() / 20);
    }
}
