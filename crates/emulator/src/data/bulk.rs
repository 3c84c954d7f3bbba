//! Bulk payees derived from `(seed, index)` in O(1) memory.

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// Bulk payees

pub(super) struct City {
    name: &'static str,
    st: &'static str,
    zip3: u16,
    area: u16,
    tz: &'static str,
}

macro_rules! city {
    ($n:expr, $s:expr, $z:expr, $a:expr, $tz:expr) => {
        City {
            name: $n,
            st: $s,
            zip3: $z,
            area: $a,
            tz: $tz,
        }
    };
}

pub(super) const NY: &str = "America/New_York";
pub(super) const CHI: &str = "America/Chicago";
pub(super) const DEN: &str = "America/Denver";
pub(super) const LA: &str = "America/Los_Angeles";

pub(super) const US_CITIES: &[City] = &[
    city!("Boston", "MA", 21, 617, NY),
    city!("Providence", "RI", 29, 401, NY),
    city!("Portland", "ME", 41, 207, NY),
    city!("Burlington", "VT", 54, 802, NY),
    city!("Hartford", "CT", 61, 860, NY),
    city!("Newark", "NJ", 71, 973, NY),
    city!("San Juan", "PR", 9, 787, "America/Puerto_Rico"),
    city!("New York", "NY", 100, 212, NY),
    city!("Brooklyn", "NY", 112, 718, NY),
    city!("Philadelphia", "PA", 191, 215, NY),
    city!("Baltimore", "MD", 212, 410, NY),
    city!("Washington", "DC", 200, 202, NY),
    city!("Atlanta", "GA", 303, 404, NY),
    city!("Miami", "FL", 331, 305, NY),
    city!("Orlando", "FL", 328, 407, NY),
    city!("Charlotte", "NC", 282, 704, NY),
    city!("Nashville", "TN", 372, 615, CHI),
    city!("Detroit", "MI", 482, 313, "America/Detroit"),
    city!("Columbus", "OH", 432, 614, NY),
    city!("Chicago", "IL", 606, 312, CHI),
    city!("Minneapolis", "MN", 554, 612, CHI),
    city!("St. Louis", "MO", 631, 314, CHI),
    city!("Dallas", "TX", 752, 214, CHI),
    city!("Austin", "TX", 787, 512, CHI),
    city!("Houston", "TX", 770, 713, CHI),
    city!("Denver", "CO", 802, 303, DEN),
    city!("Phoenix", "AZ", 850, 602, "America/Phoenix"),
    city!("Salt Lake City", "UT", 841, 801, DEN),
    city!("Las Vegas", "NV", 891, 702, LA),
    city!("Los Angeles", "CA", 900, 213, LA),
    city!("Santa Monica", "CA", 904, 310, LA),
    city!("San Diego", "CA", 921, 619, LA),
    city!("San Francisco", "CA", 941, 415, LA),
    city!("Seattle", "WA", 981, 206, LA),
    city!("Portland", "OR", 972, 503, LA),
    city!("Anchorage", "AK", 995, 907, "America/Anchorage"),
    city!("Honolulu", "HI", 968, 808, "Pacific/Honolulu"),
];

pub(super) const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Washington Blvd",
    "Park Ave",
    "Lake Rd",
    "Hill St",
    "Sunset Blvd",
    "2nd St",
    "Broadway",
    "Pine St",
    "River Rd",
    "Church St",
    "Highland Ave",
    "Jefferson St",
    "Mill Rd",
    "Franklin Ave",
    "Lincoln Way",
];

pub(super) const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Michelle",
    "Joshua",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Stephanie",
    "Wei",
    "Mei",
    "Priya",
    "Arjun",
    "José",
    "María",
    "Zoë",
    "Renée",
    "Søren",
    "Aoife",
    "Minh",
    "Olumide",
    "Fatima",
    "Ahmed",
    "Yuki",
    "Chloé",
    "François",
    "Sean",
];

pub(super) const MIDDLE_NAMES: &[&str] = &[
    "A.", "B.", "C.", "D.", "E.", "J.", "K.", "L.", "M.", "R.", "S.", "T.", "Lee", "Marie", "Ann",
    "James", "Lynn", "Rose", "Paul", "Grace",
];

pub(super) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "García",
    "Müller",
    "Nguyễn",
    "O'Brien",
    "Smith-Jones",
    "Kowalski",
    "Patel",
    "Chen",
    "Kim",
    "Okafor",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Silva",
    "Sato",
    "McAllister",
];

pub(super) const BUSINESS_SUFFIXES: &[&str] = &[
    "LLC",
    "Inc.",
    "Consulting LLC",
    "Studio",
    "Design Co.",
    "Services LLC",
    "& Associates",
    "Labs Inc.",
    "Media Group",
    "Logistics LLC",
];

pub(super) const BUSINESS_WORDS: &[&str] = &[
    "Blue Harbor",
    "Summit",
    "Northwind",
    "Red Cedar",
    "Brightline",
    "Ironwood",
    "Silver Creek",
    "Keystone",
    "Evergreen",
    "Lakeside",
];

/// Valid EIN prefixes (IRS campus list).
pub(super) const EIN_PREFIXES: &[u8] = &[
    1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58,
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 90, 91, 92, 93, 94, 95, 98, 99,
];

pub(super) const ITIN_GROUPS: &[u8] = &[
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 70, 71, 72, 73, 74, 75, 76, 77,
    78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 90, 91, 92, 94, 95, 96, 97, 98, 99,
];

pub(crate) const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) fn valid_ssn(r: &mut ChaCha8Rng) -> String {
    loop {
        let area: u16 = r.random_range(1..900);
        let group: u8 = r.random_range(1..100);
        let serial: u16 = r.random_range(1..10_000);
        let s = format!("{area:03}-{group:02}-{serial:04}");
        if area != 666 && !matches!(s.as_str(), "078-05-1120" | "457-55-5462" | "219-09-9999") {
            return s;
        }
    }
}

pub(super) fn valid_ein(r: &mut ChaCha8Rng) -> String {
    let p = pick(r, EIN_PREFIXES);
    format!("{p:02}-{:07}", r.random_range(0..10_000_000u32))
}

pub(super) fn valid_itin(r: &mut ChaCha8Rng) -> String {
    let g = pick(r, ITIN_GROUPS);
    format!(
        "9{:02}-{g:02}-{:04}",
        r.random_range(0..100u8),
        r.random_range(0..10_000u16)
    )
}

pub(super) fn malformed_tin(r: &mut ChaCha8Rng) -> String {
    match r.random_range(0..6u8) {
        0 => format!("{}-{}-{}", digits(r, 3), digits(r, 2), digits(r, 3)),
        1 => digits(r, 8),
        2 => digits(r, 10),
        3 => "N/A".to_string(),
        4 => format!("{}-{}", digits(r, 3), digits(r, 5)),
        _ => "TBD".to_string(),
    }
}

pub(super) struct Foreign {
    country: &'static str,
    city: &'static str,
    st: &'static str,
    street: &'static str,
    phone: &'static str,
    phone_digits: usize,
    tz: &'static str,
    lang: &'static str,
}

pub(super) const FOREIGN: &[Foreign] = &[
    Foreign {
        country: "MEX",
        city: "Ciudad de México",
        st: "CDMX",
        street: "Av. Insurgentes Sur",
        phone: "52155",
        phone_digits: 8,
        tz: "America/Mexico_City",
        lang: "es",
    },
    Foreign {
        country: "CAN",
        city: "Toronto",
        st: "ON",
        street: "King St W",
        phone: "1416",
        phone_digits: 7,
        tz: "America/Toronto",
        lang: "en",
    },
    Foreign {
        country: "GBR",
        city: "London",
        st: "",
        street: "High Street",
        phone: "447700",
        phone_digits: 6,
        tz: "Europe/London",
        lang: "en",
    },
    Foreign {
        country: "DEU",
        city: "Berlin",
        st: "BE",
        street: "Friedrichstraße",
        phone: "4915",
        phone_digits: 9,
        tz: "Europe/Berlin",
        lang: "de",
    },
    Foreign {
        country: "IND",
        city: "Bengaluru",
        st: "KA",
        street: "MG Road",
        phone: "9198",
        phone_digits: 8,
        tz: "Asia/Kolkata",
        lang: "en",
    },
    Foreign {
        country: "PHL",
        city: "Manila",
        st: "NCR",
        street: "Ayala Avenue",
        phone: "63917",
        phone_digits: 7,
        tz: "Asia/Manila",
        lang: "en",
    },
    Foreign {
        country: "BRA",
        city: "São Paulo",
        st: "SP",
        street: "Avenida Paulista",
        phone: "5511",
        phone_digits: 9,
        tz: "America/Sao_Paulo",
        lang: "pt",
    },
];

pub(super) fn foreign_postal(r: &mut ChaCha8Rng, country: &str) -> String {
    let up = |r: &mut ChaCha8Rng| char::from(b'A' + r.random_range(0..26u8));
    let dg = |r: &mut ChaCha8Rng| char::from(b'0' + r.random_range(0..10u8));
    match country {
        "MEX" => format!("{:05}", r.random_range(1_000..17_000u32)),
        "CAN" => format!("M{}{} {}{}{}", dg(r), up(r), dg(r), up(r), dg(r)),
        "GBR" => format!("E{} {}{}{}", r.random_range(1..20u8), dg(r), up(r), up(r)),
        "DEU" => format!("{}", r.random_range(10_115..14_200u32)),
        "IND" => format!("{}", r.random_range(560_001..560_110u32)),
        "PHL" => format!("{}", r.random_range(1_000..1_019u32)),
        _ => format!(
            "0{:04}-{:03}",
            r.random_range(1_000..9_999u32),
            r.random_range(0..1_000u32)
        ),
    }
}

pub(super) fn foreign_tin(r: &mut ChaCha8Rng, country: &str) -> String {
    let up = |r: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'A' + r.random_range(0..26u8)))
            .collect()
    };
    match country {
        "MEX" => format!("{}{}{}", up(r, 4), digits(r, 6), alnum(r, 3).to_uppercase()),
        "CAN" => format!("{} {} {}", digits(r, 3), digits(r, 3), digits(r, 3)),
        "GBR" => digits(r, 10),
        "DEU" => digits(r, 11),
        "IND" => format!("{}{}{}", up(r, 5), digits(r, 4), up(r, 1)),
        "PHL" => format!("{}-{}-{}-000", digits(r, 3), digits(r, 3), digits(r, 3)),
        _ => format!(
            "{}.{}.{}-{}",
            digits(r, 3),
            digits(r, 3),
            digits(r, 3),
            digits(r, 2)
        ),
    }
}

pub(super) const MASK48: u64 = 0xffff_ffff_ffff;
pub(super) const SCRAMBLE_MUL: u64 = 0x5DEE_CE66_D1B3; // odd, so invertible mod 2^48

pub(super) fn inverse_mod_2_64(a: u64) -> u64 {
    // Newton's iteration: each step doubles the number of correct low bits.
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

pub(super) fn index_mask(seed: u64) -> u64 {
    mix(seed, SALT_MASK) & MASK48
}

/// The `user_token` of bulk payee `index` (UUID-shaped, index recoverable with the seed).
pub fn bulk_token(seed: u64, index: u64) -> String {
    let mut r = rng_from(mix3(seed, SALT_TOKEN, index));
    let a: u32 = r.random();
    let b: u16 = r.random();
    let c: u16 = r.random::<u16>() & 0x0fff;
    let d: u16 = (r.random::<u16>() & 0x3fff) | 0x8000;
    let e = ((index ^ index_mask(seed)) & MASK48).wrapping_mul(SCRAMBLE_MUL) & MASK48;
    format!("usr_{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

/// Recovers the bulk index from a token produced by [`bulk_token`] with the same seed, if it is
/// one and the index is below `bulk_payees`.
pub fn decode_bulk_token(seed: u64, token: &str, bulk_payees: u64) -> Option<u64> {
    let hex = token.strip_prefix("usr_")?;
    if hex.len() != 36 {
        return None;
    }
    let last = hex.get(24..)?;
    if !last.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let e = u64::from_str_radix(last, 16).ok()?;
    let index = (e.wrapping_mul(inverse_mod_2_64(SCRAMBLE_MUL)) & MASK48) ^ index_mask(seed);
    (index < bulk_payees && bulk_token(seed, index) == token).then_some(index)
}

/// Text a float serializer would print for `cents` with a little binary noise, e.g.
/// `599.9999999999999` (down) or `600.0000000000001` (up) for 60000 cents.
pub fn float_noise_text(cents: i64, up: bool) -> String {
    let base = if up { cents } else { cents - 1 };
    let int = base / 100;
    let frac = base % 100;
    let int_digits = if int == 0 { 0 } else { int.to_string().len() };
    let frac_digits = if int == 0 {
        17
    } else {
        16usize.saturating_sub(int_digits).max(3)
    };
    let pad = frac_digits - 2 - 1;
    if up {
        format!("{int}.{frac:02}{}1", "0".repeat(pad))
    } else {
        format!("{int}.{frac:02}{}9", "9".repeat(pad))
    }
}

/// `(balance text, exact value)` of bulk payee `index` in `year`.
pub fn bulk_balance(seed: u64, year: i32, index: u64) -> (String, Decimal) {
    let mut r = rng_from(mix3(seed ^ SALT_YEAR, year as i64 as u64, index));
    let roll: u8 = r.random_range(0..100);
    let cents: i64 = match roll {
        0 => 60_000,
        1 => 59_999,
        2 => 60_001,
        3..=30 => r.random_range(1..60_000),
        31..=80 => r.random_range(60_000..500_000),
        _ => r.random_range(500_000..=1_000_000),
    };
    let text = if r.random_range(0..100u8) == 0 {
        float_noise_text(cents, r.random_range(0..2u8) == 0)
    } else {
        Decimal::new(cents, 2).normalize().to_string()
    };
    let value = balance_of(&text);
    (text, value)
}

/// Bulk payee `index` in `year` (identity from `(seed, index)`, balance from `(seed, year, index)`).
pub fn bulk_payee(seed: u64, year: i32, index: u64) -> EmuPayee {
    let (balance_text, balance) = bulk_balance(seed, year, index);
    let mut r = rng_from(mix3(seed, SALT_IDENT, index));
    let first = pick(&mut r, FIRST_NAMES);
    let last = pick(&mut r, LAST_NAMES);
    let middle = if r.random_range(0..10u8) < 4 {
        pick(&mut r, MIDDLE_NAMES)
    } else {
        ""
    };
    let foreign_roll: u8 = r.random_range(0..100);
    let house: u32 = r.random_range(1..9_999);
    let a2 = match r.random_range(0..10u8) {
        0 | 1 => format!("Apt {}", r.random_range(1..40u8)),
        2 => format!("Suite {}", r.random_range(100..999u16)),
        _ => String::new(),
    };
    let (address1, city, st, postal, country, mobile, tz, lang);
    if foreign_roll < 90 {
        let c = &US_CITIES[r.random_range(0..US_CITIES.len())];
        address1 = format!("{house} {}", pick(&mut r, STREETS));
        city = c.name;
        st = c.st;
        postal = format!("{:03}{:02}", c.zip3, r.random_range(1..100u8));
        country = "USA";
        mobile = format!("1{}{}", c.area, digits(&mut r, 7));
        tz = c.tz;
        lang = if r.random_range(0..10u8) == 0 {
            "es"
        } else {
            "en"
        };
    } else {
        let f = match foreign_roll {
            90..=92 => &FOREIGN[0],
            93..=94 => &FOREIGN[1],
            95 => &FOREIGN[2],
            96 => &FOREIGN[3],
            97 => &FOREIGN[4],
            98 => &FOREIGN[5],
            _ => &FOREIGN[6],
        };
        address1 = match f.country {
            "MEX" | "DEU" | "BRA" => format!("{} {house}", f.street),
            _ => format!("{house} {}", f.street),
        };
        city = f.city;
        st = f.st;
        postal = foreign_postal(&mut r, f.country);
        country = f.country;
        mobile = format!("{}{}", f.phone, digits(&mut r, f.phone_digits));
        tz = f.tz;
        lang = f.lang;
    }
    let mut business_name = String::new();
    let tax_id = if country == "USA" {
        let t: u16 = r.random_range(0..1000);
        match t {
            0..=19 => TaxId::Absent,
            20..=34 => TaxId::Null,
            35..=49 => TaxId::Text(String::new()),
            50..=69 => TaxId::Text(malformed_tin(&mut r)),
            70..=169 => {
                business_name = if r.random_range(0..2u8) == 0 {
                    format!("{last} {}", pick(&mut r, BUSINESS_SUFFIXES))
                } else {
                    format!(
                        "{} {}",
                        pick(&mut r, BUSINESS_WORDS),
                        pick(&mut r, BUSINESS_SUFFIXES)
                    )
                };
                TaxId::Text(valid_ein(&mut r))
            }
            170..=199 => TaxId::Text(valid_itin(&mut r)),
            _ => {
                let ssn = valid_ssn(&mut r);
                if t < 230 {
                    business_name = format!("{last} {}", pick(&mut r, BUSINESS_SUFFIXES));
                }
                if t.is_multiple_of(20) {
                    TaxId::Text(ssn.replace('-', ""))
                } else {
                    TaxId::Text(ssn)
                }
            }
        }
    } else {
        match r.random_range(0..10u8) {
            0..=3 => TaxId::Absent,
            4 | 5 => TaxId::Text(String::new()),
            6..=8 => TaxId::Text(foreign_tin(&mut r, country)),
            _ => TaxId::Text(valid_ssn(&mut r)),
        }
    };
    let date_of_birth = if r.random_range(0..10u8) == 0 {
        String::new()
    } else {
        let lo = dates::days_from_civil(1950, 1, 1);
        let hi = dates::days_from_civil(2004, 12, 31);
        dates::format_date(r.random_range(lo..=hi))
    };
    let created_lo = dates::days_from_civil(2017, 1, 1) * 86_400;
    let created_hi = dates::days_from_civil(2023, 12, 31) * 86_400;
    let created_on = dates::format_local_timestamp(r.random_range(created_lo..created_hi));
    let hold_roll: u16 = r.random_range(0..1000);
    let hold = match hold_roll {
        0..=7 => Hold::BankStatement {
            account_number: digits(&mut r, 5),
            link: format!("https://l.maspay.io/{}", alnum(&mut r, 8)),
        },
        8..=11 => Hold::GovernmentId {
            link: format!("https://magic.veriff.me/v{}", alnum(&mut r, 12)),
        },
        12..=14 => Hold::IdSelfie {
            link: format!("https://magic.veriff.me/v{}", alnum(&mut r, 12)),
        },
        _ => Hold::None,
    };
    EmuPayee {
        user_token: bulk_token(seed, index),
        bulk_index: Some(index),
        internal_user_id: format!("contractor-{index}"),
        first_name: first.to_string(),
        middle_name: middle.to_string(),
        last_name: last.to_string(),
        business_name,
        email: format!("payee{index}@example.test"),
        mobile_number: mobile,
        address1,
        address2: a2,
        city: city.to_string(),
        state_province: st.to_string(),
        tax_postal_code: TaxPostal::from_stored(&postal),
        postal_code: postal,
        country: country.to_string(),
        date_of_birth,
        language: lang.to_string(),
        timezone: tz.to_string(),
        created_on,
        balance_text,
        balance,
        tax_id,
        hold,
    }
}
