//! Importer benchmark (issue 3): the five shipped specifications, imported one after another,
//! on one core. Target: all five in under 20 ms. Run: `cargo bench -p credence-domain --bench
//! import`. `credence bench` runs the same measurement from the binary.

use std::time::Instant;

const SEEDS: &[(&str, &[u8])] = &[
    (
        "000 ISP L3",
        include_bytes!("../../../seeds/000_8453810380d6f4c5.txt"),
    ),
    (
        "001 ISP L5",
        include_bytes!("../../../seeds/001_acc22f54be9d8e07.txt"),
    ),
    (
        "002 ISP L5 Advanced",
        include_bytes!("../../../seeds/002_791451cea073504e.txt"),
    ),
    (
        "003 ISMM L6",
        include_bytes!("../../../seeds/003_009d2585695dd891.txt"),
    ),
    (
        "004 OCR unit 39",
        include_bytes!("../../../seeds/004_eb61b834c3005fa6.txt"),
    ),
];

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let iterations: usize = std::env::args()
        .skip_while(|a| a != "--iterations")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let total_bytes: usize = SEEDS.iter().map(|(_, b)| b.len()).sum();
    println!(
        "{:<22} {:>9} {:>10} {:>10} {:>10}",
        "seed", "bytes", "p50 ms", "p99 ms", "MB/s"
    );
    let mut all = vec![0.0; iterations];
    for (name, bytes) in SEEDS {
        credence_domain::import::import(bytes).expect("every seed imports");
        let mut samples = Vec::with_capacity(iterations);
        for slot in all.iter_mut() {
            let t = Instant::now();
            std::hint::black_box(credence_domain::import::import(std::hint::black_box(bytes)).ok());
            let s = t.elapsed().as_secs_f64();
            samples.push(s);
            *slot += s;
        }
        samples.sort_by(f64::total_cmp);
        let p50 = percentile(&samples, 0.5);
        println!(
            "{:<22} {:>9} {:>10.3} {:>10.3} {:>10.1}",
            name,
            bytes.len(),
            p50 * 1e3,
            percentile(&samples, 0.99) * 1e3,
            bytes.len() as f64 / p50 / 1e6
        );
    }
    all.sort_by(f64::total_cmp);
    let p50 = percentile(&all, 0.5);
    println!(
        "{:<22} {:>9} {:>10.3} {:>10.3} {:>10.1}",
        "all five",
        total_bytes,
        p50 * 1e3,
        percentile(&all, 0.99) * 1e3,
        total_bytes as f64 / p50 / 1e6
    );
    println!(
        "target: all five in under 20 ms: {}",
        if p50 < 0.020 { "met" } else { "NOT MET" }
    );
}
