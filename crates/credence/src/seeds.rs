//! The five specifications shipped with Credence, and the corrections we decided for the
//! points their import leaves open (each with its reason, in the file).

pub struct Seed {
    pub name: &'static str,
    pub text: &'static [u8],
    pub corrections: &'static [u8],
}

macro_rules! seed {
    ($file:literal, $corr:literal) => {
        Seed {
            name: $file,
            text: include_bytes!(concat!("../../../seeds/", $file)),
            corrections: include_bytes!(concat!("../../../seeds/corrections/", $corr)),
        }
    };
}

pub const SEEDS: &[Seed] = &[
    seed!("000_8453810380d6f4c5.txt", "000.json"),
    seed!("001_acc22f54be9d8e07.txt", "001.json"),
    seed!("002_791451cea073504e.txt", "002.json"),
    seed!("003_009d2585695dd891.txt", "003.json"),
    seed!("004_eb61b834c3005fa6.txt", "004.json"),
];
