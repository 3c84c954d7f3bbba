//! The fixed hard cases (see the table in the module docs of [`crate::data`]).

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// Hard cases

pub(super) struct HardAddr {
    a1: &'static str,
    a2: &'static str,
    city: &'static str,
    st: &'static str,
    zip: &'static str,
    area: u16,
    tz: &'static str,
}

pub(super) const HARD_ADDRS: &[HardAddr] = &[
    HardAddr {
        a1: "4821 Wabash Ave",
        a2: "",
        city: "Chicago",
        st: "IL",
        zip: "60615",
        area: 312,
        tz: "America/Chicago",
    },
    HardAddr {
        a1: "77 Peachtree Pl NE",
        a2: "Apt 12",
        city: "Atlanta",
        st: "GA",
        zip: "30309",
        area: 404,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "1200 Lamar Blvd",
        a2: "",
        city: "Austin",
        st: "TX",
        zip: "78703",
        area: 512,
        tz: "America/Chicago",
    },
    HardAddr {
        a1: "310 Pike St",
        a2: "Suite 400",
        city: "Seattle",
        st: "WA",
        zip: "98101",
        area: 206,
        tz: "America/Los_Angeles",
    },
    HardAddr {
        a1: "55 Larimer St",
        a2: "",
        city: "Denver",
        st: "CO",
        zip: "80205",
        area: 303,
        tz: "America/Denver",
    },
    HardAddr {
        a1: "900 Biscayne Blvd",
        a2: "Unit 1507",
        city: "Miami",
        st: "FL",
        zip: "33132",
        area: 305,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "18 W 29th St",
        a2: "Fl 3",
        city: "New York",
        st: "NY",
        zip: "10001",
        area: 212,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "2400 Nicollet Ave",
        a2: "",
        city: "Minneapolis",
        st: "MN",
        zip: "55404",
        area: 612,
        tz: "America/Chicago",
    },
];

/// Base hard case: US address, valid distinct SSN, everything plausible.
pub(super) fn hc(
    n: usize,
    slug: &str,
    first: &str,
    middle: &str,
    last: &str,
    balance: &str,
) -> EmuPayee {
    let addr = &HARD_ADDRS[n % HARD_ADDRS.len()];
    let n16 = n as u16;
    let created_days = dates::days_from_civil(2019, 3, 1) + (n as i64) * 23;
    EmuPayee {
        user_token: format!("usr_edge_{slug}"),
        bulk_index: None,
        internal_user_id: format!("edge-{}", slug.replace('_', "-")),
        first_name: first.to_string(),
        middle_name: middle.to_string(),
        last_name: last.to_string(),
        business_name: String::new(),
        email: format!("edge.{}@example.test", slug.replace('_', ".")),
        mobile_number: format!("1{}555{:04}", addr.area, 100 + n16),
        address1: addr.a1.to_string(),
        address2: addr.a2.to_string(),
        city: addr.city.to_string(),
        state_province: addr.st.to_string(),
        postal_code: addr.zip.to_string(),
        tax_postal_code: TaxPostal::from_stored(addr.zip),
        country: "USA".to_string(),
        date_of_birth: format!("{}-{:02}-{:02}", 1960 + n % 40, 1 + n % 12, 1 + n % 28),
        language: "en".to_string(),
        timezone: addr.tz.to_string(),
        created_on: dates::format_local_timestamp(
            created_days * 86_400 + 3_600 * (8 + (n as i64 % 10)) + 61 * (n as i64 % 59),
        ),
        balance_text: balance.to_string(),
        balance: balance_of(balance),
        tax_id: TaxId::Text(format!(
            "{:03}-{:02}-{:04}",
            201 + n * 7,
            11 + n,
            1001 + n * 113
        )),
        hold: Hold::None,
    }
}

pub(super) fn with_address(
    mut p: EmuPayee,
    a1: &str,
    a2: &str,
    city: &str,
    st: &str,
    postal: &str,
    country: &str,
) -> EmuPayee {
    p.address1 = a1.to_string();
    p.address2 = a2.to_string();
    p.city = city.to_string();
    p.state_province = st.to_string();
    p.postal_code = postal.to_string();
    p.tax_postal_code = TaxPostal::from_stored(postal);
    p.country = country.to_string();
    p
}

pub(super) fn tin(s: &str) -> TaxId {
    TaxId::Text(s.to_string())
}

/// The fixed hard cases (see the table in the module docs). Identical for every year and seed;
/// `year` is accepted so callers need not special-case it.
pub fn hard_cases(year: i32) -> Vec<EmuPayee> {
    let _ = year;
    let mut v = Vec::with_capacity(48);
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n - 1
    };
    v.push(hc(next(), "bal_599_99", "Olivia", "", "Bennett", "599.99"));
    v.push(hc(next(), "bal_600_00", "Liam", "J", "Carter", "600.00"));
    v.push(hc(next(), "bal_600_01", "Emma", "", "Reyes", "600.01"));
    v.push(hc(next(), "bal_1999_99", "Noah", "", "Patel", "1999.99"));
    v.push(hc(next(), "bal_2000_00", "Ava", "M", "Thompson", "2000.00"));
    v.push(hc(next(), "bal_2000_01", "Ethan", "", "Brooks", "2000.01"));
    v.push(hc(
        next(),
        "float_under_600",
        "Sophia",
        "",
        "Kim",
        "599.9999999999999",
    ));
    v.push(hc(
        next(),
        "float_over_600",
        "Mason",
        "",
        "Rivera",
        "600.0000000000001",
    ));
    v.push(hc(
        next(),
        "float_1234_56",
        "Isabella",
        "",
        "Chen",
        "1234.5600000000002",
    ));
    {
        let mut p = with_address(
            hc(next(), "vendor_sample", "John", "", "Doe", "1500"),
            "2000 main st",
            "apt D",
            "Santa Monica",
            "CA",
            "90405",
            "USA",
        );
        p.email = "jdoe@example.test".to_string();
        p.mobile_number = "16502000226".to_string();
        p.business_name = "ABC Company".to_string();
        p.date_of_birth = String::new();
        p.tax_id = tin("123-45-678");
        p.timezone = "America/Los_Angeles".to_string();
        v.push(p);
    }
    v.push(hc(next(), "exp_600", "Lucas", "", "Ward", "6.0E2"));
    v.push(hc(next(), "huge", "Harper", "", "Sullivan", "12345678.91"));
    v.push(hc(next(), "zero", "Elijah", "", "Foster", "0"));
    v.push(hc(next(), "one_cent", "Amelia", "", "Hughes", "0.01"));
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "16175550114".to_string(),
        ..with_address(
            hc(next(), "zip_lost_zero", "Benjamin", "", "Walsh", "2500"),
            "1 Beacon St",
            "Apt 3",
            "Boston",
            "MA",
            "02108",
            "USA",
        )
    });
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "16175550115".to_string(),
        ..with_address(
            hc(next(), "zip_plus4", "Charlotte", "", "Murphy", "3100.5"),
            "24 Beacon St",
            "",
            "Boston",
            "MA",
            "02108-1234",
            "USA",
        )
    });
    v.push(EmuPayee {
        timezone: "America/Los_Angeles".to_string(),
        mobile_number: "13105550116".to_string(),
        ..with_address(
            hc(next(), "zip_90405", "Henry", "", "Alvarez", "812.4"),
            "1400 Ocean Ave",
            "Unit 2",
            "Santa Monica",
            "CA",
            "90405",
            "USA",
        )
    });
    v.push(EmuPayee {
        tax_id: TaxId::Absent,
        ..hc(next(), "tin_absent", "Mia", "", "Coleman", "950")
    });
    v.push(EmuPayee {
        tax_id: TaxId::Null,
        ..hc(next(), "tin_null", "Alexander", "", "Price", "1020.75")
    });
    v.push(EmuPayee {
        tax_id: tin(""),
        ..hc(next(), "tin_empty", "Evelyn", "", "Jenkins", "700.1")
    });
    v.push(EmuPayee {
        tax_id: tin("000-12-3456"),
        ..hc(next(), "ssn_area_000", "Daniel", "", "Perry", "1800")
    });
    v.push(EmuPayee {
        tax_id: tin("666-12-3456"),
        ..hc(next(), "ssn_area_666", "Abigail", "", "Russell", "1750.25")
    });
    v.push(EmuPayee {
        tax_id: tin("524-71-8830"),
        ..hc(next(), "ssn_valid", "Michael", "A", "Griffin", "4200")
    });
    v.push(EmuPayee {
        tax_id: tin("912-55-1234"),
        ..hc(next(), "itin_55", "Camila", "", "Ortega", "3300.33")
    });
    v.push(EmuPayee {
        tax_id: tin("912-78-1234"),
        ..hc(next(), "itin_78", "Mateo", "", "Herrera", "2750")
    });
    v.push(EmuPayee {
        tax_id: tin("12-3456789"),
        business_name: "Acme Widgets LLC".to_string(),
        ..hc(next(), "ein_business", "Grace", "", "Holloway", "15000")
    });
    v.push(EmuPayee {
        tax_id: tin("07-1234567"),
        business_name: "Bright Path Consulting Inc.".to_string(),
        ..hc(next(), "ein_bad_prefix", "Samuel", "", "Ng", "6400.8")
    });
    v.push(EmuPayee {
        tax_id: tin("123456789"),
        ..hc(next(), "tin_bare9", "Chloe", "", "Bishop", "1320")
    });
    v.push(EmuPayee {
        tax_id: tin("401-55-7821"),
        business_name: "Rivera Design Studio".to_string(),
        ..hc(next(), "business_with_ssn", "Daniela", "", "Rivera", "5200")
    });
    v.push(EmuPayee {
        tax_id: tin("45-2837461"),
        ..hc(
            next(),
            "individual_with_ein",
            "Jack",
            "",
            "Turner",
            "2300.45",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("318-62-4405"),
        ..hc(next(), "same_tin_a", "Ryan", "", "Mitchell", "1100")
    });
    v.push(EmuPayee {
        tax_id: tin("318-62-4405"),
        ..hc(
            next(),
            "same_tin_b",
            "Rachel",
            "",
            "Mitchell-Hayes",
            "2200.2",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("NUJJ850312AB1"),
        mobile_number: "5215512345678".to_string(),
        language: "es".to_string(),
        timezone: "America/Mexico_City".to_string(),
        ..with_address(
            hc(next(), "foreign_mex", "José", "", "Núñez", "4100"),
            "Av. Insurgentes Sur 1602",
            "Piso 4",
            "Ciudad de México",
            "CDMX",
            "03940",
            "MEX",
        )
    });
    v.push(EmuPayee {
        tax_id: TaxId::Absent,
        // No date of birth at MassPay either: the 1042-S flags it (box 13l).
        date_of_birth: String::new(),
        mobile_number: "14165550133".to_string(),
        language: "fr".to_string(),
        timezone: "America/Toronto".to_string(),
        ..with_address(
            hc(next(), "foreign_can", "Émilie", "", "Tremblay", "1800.5"),
            "350 King St W",
            "Suite 1200",
            "Toronto",
            "ON",
            "M5V 3L9",
            "CAN",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("287-65-4321"),
        mobile_number: "447700900134".to_string(),
        timezone: "Europe/London".to_string(),
        ..with_address(
            hc(
                next(),
                "foreign_gbr_us_ssn",
                "Oliver",
                "",
                "Hughes-Wright",
                "9100",
            ),
            "221B Baker Street",
            "",
            "London",
            "",
            "NW1 6XE",
            "GBR",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("12345678901"),
        mobile_number: "4915123456135".to_string(),
        language: "de".to_string(),
        timezone: "Europe/Berlin".to_string(),
        ..with_address(
            hc(next(), "foreign_deu", "Łukasz", "", "Żółć", "3600"),
            "Friedrichstraße 43",
            "",
            "Berlin",
            "BE",
            "10117",
            "DEU",
        )
    });
    v.push(hc(next(), "unicode_zoe", "Zoë", "", "Ångström", "2450.5"));
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "17185550137".to_string(),
        ..with_address(
            hc(next(), "unicode_wang_fang", "芳", "", "王", "1999"),
            "41-60 Main St",
            "Apt 5C",
            "Flushing",
            "NY",
            "11355",
            "USA",
        )
    });
    v.push(hc(
        next(),
        "formula_hyperlink",
        "=HYPERLINK(\"http://x\",\"y\")",
        "",
        "Smith",
        "700",
    ));
    v.push(hc(
        next(),
        "formula_plus",
        "Paul",
        "",
        "+15551234567",
        "801",
    ));
    v.push(EmuPayee {
        tax_id: tin("27-1234567"),
        business_name: "-2+3".to_string(),
        ..hc(next(), "formula_minus", "Nora", "", "Quinn", "902")
    });
    v.push(EmuPayee {
        tax_id: tin("46-7654321"),
        business_name: "@SUM(A1)".to_string(),
        ..hc(next(), "formula_at", "Owen", "", "Price", "1003")
    });
    v.push(hc(next(), "name_tab", "Lily", "", "Van\tDyke", "1104"));
    v.push(hc(next(), "name_cr", "Mary\rAnn", "", "Stone", "1205"));
    v.push(EmuPayee {
        timezone: "UTC".to_string(),
        ..with_address(
            hc(next(), "empty_country", "Caleb", "", "Dunn", "650"),
            "PO Box 118",
            "",
            "",
            "",
            "",
            "",
        )
    });
    v.push(EmuPayee {
        hold: Hold::BankStatement {
            account_number: "12345".to_string(),
            link: "https://l.maspay.io/aB3dE9xQ".to_string(),
        },
        ..hc(
            next(),
            "hold_bank_statement",
            "Victoria",
            "",
            "Lane",
            "3200",
        )
    });
    v.push(EmuPayee {
        hold: Hold::GovernmentId {
            link: "https://magic.veriff.me/v8f3k2LmQ9xR".to_string(),
        },
        ..hc(next(), "hold_government_id", "Wyatt", "", "Cross", "2100")
    });
    v.push(EmuPayee {
        hold: Hold::IdSelfie {
            link: "https://magic.veriff.me/v2Zp7TqW4nYc".to_string(),
        },
        ..hc(next(), "active_needs_id", "Hazel", "", "Pierce", "1500.75")
    });
    v
}
