//! Prints what an import reads: `cargo run -p masspay-tax-import --example dump -- FILE [FIELD=Header]...`
use masspay_tax_import::{ColumnMap, ImportOptions, read_file};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: dump FILE [FIELD=Header]...");
        std::process::exit(2);
    };
    let map = match ColumnMap::parse(args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match read_file(path.as_ref(), &ImportOptions::from(map)) {
        Ok(r) => {
            for s in &r.sheets {
                println!("sheet {s:?}");
            }
            for n in &r.notes {
                println!("note: {n}");
            }
            for rec in &r.records {
                println!("{rec:?}");
            }
            for p in &r.problems {
                println!("problem: {p}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
