//! IRIS e-file CSV for Form 1099-NEC: the files the IRS's IRIS Taxpayer Portal takes by upload.
//!
//! * [`headers`]: the known 1099-NEC headers (data: `templates/iris/1099-nec-headers.txt`) and
//!   the matching of a downloaded template's header row (case, spaces, punctuation and a
//!   trailing `*` ignored). An unknown header is an error that names it.
//! * [`codes`]: the IRS country codes (FIPS-based, not ISO; `templates/iris/country-codes.txt`)
//!   and the TIN-type values (`templates/iris/tin-types.txt`).
//! * [`text`]: accents folded to ASCII, the characters a field does not allow removed.
//! * [`record`]: the payer block and one recipient's record, checked against what IRIS rejects
//!   (each problem with a stable reason code). Values are never cut: too long is a problem.
//! * [`write`]: files of at most N records, owner-only and atomic, stale files removed.
//!
//! Nothing here reads the store: the CLI gathers each payee's [`record::Recipient`].

pub mod codes;
pub mod headers;
pub mod record;
pub mod text;
pub mod write;

pub use headers::{Field, KnownHeaders, Template, TemplateError};
pub use record::{PayerBlock, PayerBlockError, Problem, Recipient, RecipientName, Record, record};
pub use write::{
    DEFAULT_MAX_RECORDS, FilesWriter, MAX_RECORDS_LIMIT, WriteError, WriteOutcome, WrittenFile,
    file_name, split_sizes, write_files,
};

#[cfg(test)]
mod tests {
    use super::*;
    use masspay_tax_rules::payer::PayerSettings;
    use masspay_tax_rules::tin::{TinRules, check_tin};
    use rust_decimal_macros::dec;

    fn payer() -> PayerBlock {
        let p = PayerSettings {
            name: Some("Acme Platform Inc.".into()),
            tin: Some("12-3456789".into()),
            address1: Some("1 Main St.".into()),
            city: Some("Boston".into()),
            state: Some("MA".into()),
            zip: Some("02108".into()),
            phone: Some("(617) 555-0100".into()),
            email: Some("tax@acme.example".into()),
            ..Default::default()
        }
        .validate(&TinRules::default())
        .unwrap();
        PayerBlock::new(&p, KnownHeaders::builtin()).unwrap()
    }

    fn person(token: &str, tin: Option<&str>) -> Recipient {
        Recipient {
            user_token: token.into(),
            tin: check_tin(tin, None, &TinRules::default()),
            name: record::recipient_name("Michael", "A", "Griffin Jr.", "", false),
            address1: "18 W 29th St".into(),
            address2: "Fl 3".into(),
            city: "New York".into(),
            state: "NY".into(),
            zip: "10001-1234".into(),
            country: "USA".into(),
            email: "m@example.test".into(),
            account_number: "0123456789ABCDEF0123".into(),
            second_tin_notice: false,
            box1: dec!(4200),
            box4: dec!(0),
        }
    }

    fn rec(r: &Recipient) -> Record {
        record(2026, &payer(), r, KnownHeaders::builtin())
    }

    fn reasons(r: &Record) -> Vec<&'static str> {
        r.problems.iter().map(|p| p.reason).collect()
    }

    #[test]
    fn an_individual_with_middle_name_and_suffix() {
        let r = rec(&person("usr_1", Some("524-71-8830")));
        assert!(r.is_valid(), "{:?}", r.problems);
        for (f, v) in [
            (Field::FormType, "1099-NEC"),
            (Field::TaxYear, "2026"),
            (Field::PayerTinType, "EIN"),
            (Field::PayerTin, "123456789"),
            (Field::PayerNameType, "B"),
            (Field::PayerName1, "Acme Platform Inc"),
            (Field::PayerAddress1, "1 Main St"),
            (Field::PayerPhone, "6175550100"),
            (Field::PayerPhoneType, "D"),
            (Field::PayerCountry, "US"),
            (Field::PayerZip, "02108"),
            (Field::RecipientTinType, "SSN"),
            (Field::RecipientTin, "524718830"),
            (Field::RecipientNameType, "I"),
            (Field::RecipientFirst, "Michael"),
            (Field::RecipientMiddle, "A"),
            (Field::RecipientLast, "Griffin"),
            (Field::RecipientSuffix, "Jr"),
            (Field::RecipientName1, ""),
            (Field::RecipientCountry, "US"),
            (Field::RecipientZip, "100011234"),
            (Field::AccountNumber, "0123456789ABCDEF0123"),
            (Field::SecondTinNotice, "N"),
            (Field::Box1, "4200.00"),
            (Field::Box4, "0.00"),
        ] {
            assert_eq!(r.value(f), v, "{f}");
        }
        let cells = r.cells(&KnownHeaders::builtin().default_template());
        assert_eq!(cells.len(), 54);
        assert_eq!(cells[38], "4200.00");
        assert_eq!(cells[35], "", "office code left blank");
    }

    #[test]
    fn a_business_with_an_ein_and_an_itin_payee() {
        let mut b = person("usr_b", Some("12-3456789"));
        b.name = record::recipient_name("Grace", "", "Holloway", "Acme Widgets, LLC", true);
        b.second_tin_notice = true;
        let r = rec(&b);
        assert!(r.is_valid(), "{:?}", r.problems);
        assert_eq!(r.value(Field::RecipientNameType), "B");
        assert_eq!(r.value(Field::RecipientName1), "Acme Widgets LLC");
        assert_eq!(r.value(Field::RecipientFirst), "");
        assert_eq!(r.value(Field::RecipientTinType), "EIN");
        assert_eq!(r.value(Field::RecipientTin), "123456789");
        assert_eq!(r.value(Field::SecondTinNotice), "Y");
        let i = rec(&person("usr_i", Some("900-70-1234")));
        assert!(i.is_valid(), "{:?}", i.problems);
        assert_eq!(
            i.value(Field::RecipientTinType),
            "SSN",
            "ITIN files as SSN (data)"
        );
        assert_eq!(i.value(Field::RecipientTin), "900701234");
    }

    #[test]
    fn accents_fold_and_a_40_character_address_is_reported_not_cut() {
        let mut p = person("usr_z", Some("524-71-8830"));
        p.name = record::recipient_name("Zoë", "", "Ångström", "", false);
        p.city = "São Paulo".into();
        let r = rec(&p);
        assert!(r.is_valid(), "{:?}", r.problems);
        assert_eq!(r.value(Field::RecipientFirst), "Zoe");
        assert_eq!(r.value(Field::RecipientLast), "Angstrom");
        assert_eq!(r.value(Field::RecipientCity), "Sao Paulo");
        let long = "1234 Extraordinarily Long Boulevard West"; // 40 characters
        assert_eq!(long.len(), 40);
        p.address1 = long.into();
        let r = rec(&p);
        assert_eq!(reasons(&r), ["too_long"]);
        assert_eq!(r.value(Field::RecipientAddress1), long, "never cut");
        assert!(r.problems[0].message.contains("40 characters"));
        assert!(r.problems[0].message.contains("at most 35"));
    }

    #[test]
    fn every_row_level_rejection() {
        type Change = Box<dyn Fn(&mut Recipient)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "tin_missing",
                Box::new(|r: &mut Recipient| r.tin = check_tin(None, None, &TinRules::default())),
            ),
            (
                "tin_invalid",
                Box::new(|r: &mut Recipient| {
                    r.tin = check_tin(Some("666-12-3456"), None, &TinRules::default())
                }),
            ),
            (
                "tin_invalid",
                Box::new(|r: &mut Recipient| {
                    r.tin = check_tin(Some("12345"), None, &TinRules::default())
                }),
            ),
            (
                "tin_type_unknown",
                Box::new(|r: &mut Recipient| {
                    r.tin = check_tin(Some("524718830"), None, &TinRules::default())
                }),
            ),
            (
                "address_missing",
                Box::new(|r: &mut Recipient| r.address1 = " ".into()),
            ),
            (
                "city_missing",
                Box::new(|r: &mut Recipient| r.city = String::new()),
            ),
            (
                "state_missing",
                Box::new(|r: &mut Recipient| r.state = String::new()),
            ),
            (
                "state_invalid",
                Box::new(|r: &mut Recipient| r.state = "XX".into()),
            ),
            (
                "zip_missing",
                Box::new(|r: &mut Recipient| r.zip = String::new()),
            ),
            (
                "zip_invalid",
                Box::new(|r: &mut Recipient| r.zip = "1234".into()),
            ),
            (
                "country_unknown",
                Box::new(|r: &mut Recipient| r.country = "ZZZ".into()),
            ),
            (
                "name_unrepresentable",
                Box::new(|r: &mut Recipient| {
                    r.name = record::recipient_name("芳", "", "王", "", false)
                }),
            ),
            (
                "name_missing",
                Box::new(|r: &mut Recipient| {
                    r.name = record::recipient_name("", "", "", "", false)
                }),
            ),
            (
                "too_long",
                Box::new(|r: &mut Recipient| {
                    r.name = record::recipient_name("Maximiliano-Alejandro", "", "Smith", "", false)
                }),
            ),
            (
                "box1_not_positive",
                Box::new(|r: &mut Recipient| r.box1 = dec!(0)),
            ),
            (
                "box1_not_positive",
                Box::new(|r: &mut Recipient| r.box1 = dec!(-5.00)),
            ),
        ];
        for (want, change) in cases {
            let mut p = person("usr_x", Some("524-71-8830"));
            change(&mut p);
            let r = rec(&p);
            assert!(reasons(&r).contains(&want), "{want}: {:?}", r.problems);
            for pr in &r.problems {
                assert!(!pr.message.contains("524718830") && !pr.message.contains("524-71"));
            }
        }
        // A foreign recipient needs no US state or ZIP, and gets the IRS country code.
        let mut f = person("usr_f", Some("524-71-8830"));
        f.country = "DEU".into();
        f.state = String::new();
        f.zip = "10115".into();
        f.city = "Berlin".into();
        let r = rec(&f);
        assert!(r.is_valid(), "{:?}", r.problems);
        assert_eq!(r.value(Field::RecipientCountry), "GM");
    }

    #[test]
    fn a_reordered_template_with_a_renamed_header_gives_the_same_values() {
        let known = KnownHeaders::builtin();
        let default = known.default_template();
        let r = rec(&person("usr_1", Some("524-71-8830")));
        let mut headers: Vec<String> = default.headers().iter().map(|s| s.to_string()).collect();
        headers.reverse();
        for h in headers.iter_mut() {
            if h == "Recipient ZIP/Postal Code" {
                *h = "Recipient ZIP Code*".into();
            }
        }
        let t = known
            .template_from_csv(format!("{}\r\n", headers.join(",")).as_bytes(), "t.csv")
            .unwrap();
        let a = r.cells(&default);
        let mut b = r.cells(&t);
        b.reverse();
        assert_eq!(a, b);
        assert_eq!(
            t.columns[t.columns.len() - 35].header,
            "Recipient ZIP Code*"
        );
    }

    #[test]
    fn two_hundred_fifty_records_make_100_100_50() {
        assert_eq!(split_sizes(250, 100), [100, 100, 50]);
        assert_eq!(split_sizes(200, 100), [100, 100]);
        assert_eq!(split_sizes(0, 100), Vec::<usize>::new());
        assert_eq!(split_sizes(250, 250), [250]);
        let dir = tempfile::tempdir().unwrap();
        let t = KnownHeaders::builtin().default_template();
        let recs: Vec<Record> = (0..250)
            .map(|i| rec(&person(&format!("usr_{i:03}"), Some("524-71-8830"))))
            .collect();
        let refs: Vec<&Record> = recs.iter().collect();
        let out = write_files(dir.path(), 2026, &t, &refs, 100).unwrap();
        let sizes: Vec<usize> = out.files.iter().map(|f| f.records).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(out.files[2].box1_total, dec!(210000.00));
        let text = std::fs::read_to_string(&out.files[0].path).unwrap();
        assert_eq!(text.lines().count(), 101, "one header row + 100 records");
        assert!(text.starts_with("Form Type,Tax Year,"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in &out.files {
                let mode = std::fs::metadata(&f.path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", f.path.display());
            }
        }
        // A smaller second run removes the stale -002 and -003 (other years untouched).
        std::fs::write(dir.path().join("iris-1099-NEC-2025-001.csv"), "x").unwrap();
        let out = write_files(dir.path(), 2026, &t, &refs[..40], 100).unwrap();
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.removed.len(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["iris-1099-NEC-2025-001.csv", "iris-1099-NEC-2026-001.csv"]
        );
        assert!(matches!(
            write_files(dir.path(), 2026, &t, &refs, 0),
            Err(WriteError::MaxRecords(0))
        ));
        assert!(write_files(dir.path(), 2026, &t, &refs, 251).is_err());
    }

    #[test]
    fn files_are_written_one_record_at_a_time_without_a_descriptor_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let t = KnownHeaders::builtin().default_template();
        std::fs::write(dir.path().join("iris-1099-NEC-2026-001.csv"), "old").unwrap();
        let r = rec(&person("usr_1", Some("524-71-8830")));
        #[cfg(target_os = "linux")]
        let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
        #[cfg(target_os = "linux")]
        let before = fds();
        let mut w = FilesWriter::new(dir.path(), 2026, &t, 1).unwrap();
        for _ in 0..1500 {
            w.write(&r).unwrap();
        }
        // 1,500 files written, more than a default `ulimit -n` of 1024: none is held open.
        #[cfg(target_os = "linux")]
        assert!(fds() <= before + 2, "{} descriptors open", fds() - before);
        assert_eq!(w.records(), 1500);
        // Dropped before finish (an error later in the year): the folder is as it was.
        drop(w);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["iris-1099-NEC-2026-001.csv"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("iris-1099-NEC-2026-001.csv")).unwrap(),
            "old"
        );
        let mut w = FilesWriter::new(dir.path(), 2026, &t, 1).unwrap();
        for _ in 0..1500 {
            w.write(&r).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.files.len(), 1500);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1500);
        assert_ne!(
            std::fs::read_to_string(dir.path().join("iris-1099-NEC-2026-001.csv")).unwrap(),
            "old"
        );
    }

    #[test]
    fn payer_values_iris_cannot_take_are_refused() {
        let p = PayerSettings {
            name: Some(
                "An Extraordinarily Long Platform Name That Goes On And On Beyond The Limit Inc"
                    .into(),
            ),
            tin: Some("12-3456789".into()),
            address1: Some("1 Main St".into()),
            city: Some("Boston".into()),
            state: Some("MA".into()),
            zip: Some("02108".into()),
            phone: Some("6175550100".into()),
            ..Default::default()
        }
        .validate(&TinRules::default())
        .unwrap();
        let e = PayerBlock::new(&p, KnownHeaders::builtin()).unwrap_err();
        assert!(e.to_string().contains("at most 75"), "{e}");
    }
}
