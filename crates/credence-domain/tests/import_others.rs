use credence_domain::import::import;

fn load(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../seeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn dump() {
    for s in [
        "002_791451cea073504e.txt",
        "003_009d2585695dd891.txt",
        "004_eb61b834c3005fa6.txt",
    ] {
        let i = import(&load(s)).unwrap();
        println!("{}", serde_json::to_string_pretty(&i).unwrap());
    }
}
