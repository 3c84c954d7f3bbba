//! The fields a tax-form sheet can hold, the header texts that name them, and `--map`
//! overrides.

use std::fmt;
use std::str::FromStr;

/// One thing a W-9 / W-8 sheet can hold. A column is mapped to at most one field.
/// Serialises as its [`Field::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The MassPay `user_token` (the best link to a payee).
    UserToken,
    /// Your own id for the payee (MassPay `internal_user_id`).
    InternalUserId,
    /// The payee's email (case-insensitive link).
    Email,
    /// W-9, W-8BEN, W-8BEN-E, ... (W-9 when absent).
    FormType,
    /// W-9 line 1 / W-8 line 1: the name on the income tax return.
    LegalName,
    /// Used only when there is no legal-name column: first + last name make the legal name.
    FirstName,
    /// See [`Field::FirstName`].
    LastName,
    /// W-9 line 2: business name / disregarded entity name / DBA.
    BusinessName,
    /// W-9 line 3a: federal tax classification.
    EntityType,
    /// The US taxpayer identification number (secret).
    Tin,
    /// The TIN type the form declares (SSN, ITIN, ATIN, EIN).
    TinType,
    /// The W-9 Part I SSN box, when a sheet keeps SSN and EIN in separate columns (secret): an
    /// individual number (SSN, or ITIN/ATIN by its digits).
    TinSsn,
    /// The W-9 Part I EIN box (secret).
    TinEin,
    /// W-9 line 4: exempt payee code (1-13).
    ExemptPayeeCode,
    /// Street address.
    Address1,
    /// Apartment, suite, ...
    Address2,
    /// City.
    City,
    /// State or province.
    State,
    /// ZIP or postal code.
    Zip,
    /// Country of the address.
    Country,
    /// The date the form was signed.
    SignatureDate,
    /// W-8: country of citizenship / residence / incorporation.
    CountryOfResidence,
    /// W-8: foreign tax identifying number (secret).
    ForeignTin,
    /// W-8BEN: date of birth (personal data).
    DateOfBirth,
    /// W-8: the whole treaty claim as text.
    TreatyClaim,
    /// W-8 treaty claim, in parts: the treaty country ...
    TreatyCountry,
    /// ... the article ...
    TreatyArticle,
    /// ... and the rate.
    TreatyRate,
    /// W-8BEN-E line 14b: the limitation-on-benefits code of an entity claiming a treaty.
    LobCode,
    /// Where the services were performed: outside the US or in the US.
    ServicesPerformed,
    /// The share of the pay for work done in the US, 0-100 (days worked in the US).
    UsSourcePercent,
}

impl Field {
    /// Every field, in the order columns are reported.
    pub const ALL: [Field; 31] = [
        Field::UserToken,
        Field::InternalUserId,
        Field::Email,
        Field::FormType,
        Field::LegalName,
        Field::FirstName,
        Field::LastName,
        Field::BusinessName,
        Field::EntityType,
        Field::Tin,
        Field::TinType,
        Field::TinSsn,
        Field::TinEin,
        Field::ExemptPayeeCode,
        Field::Address1,
        Field::Address2,
        Field::City,
        Field::State,
        Field::Zip,
        Field::Country,
        Field::SignatureDate,
        Field::CountryOfResidence,
        Field::ForeignTin,
        Field::DateOfBirth,
        Field::TreatyClaim,
        Field::TreatyCountry,
        Field::TreatyArticle,
        Field::TreatyRate,
        Field::LobCode,
        Field::ServicesPerformed,
        Field::UsSourcePercent,
    ];

    /// The name used by `--map FIELD=Header` (snake case).
    pub fn name(self) -> &'static str {
        match self {
            Field::UserToken => "user_token",
            Field::InternalUserId => "internal_user_id",
            Field::Email => "email",
            Field::FormType => "form_type",
            Field::LegalName => "legal_name",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::BusinessName => "business_name",
            Field::EntityType => "entity_type",
            Field::Tin => "tin",
            Field::TinType => "tin_type",
            Field::TinSsn => "tin_ssn",
            Field::TinEin => "tin_ein",
            Field::ExemptPayeeCode => "exempt_payee_code",
            Field::Address1 => "address1",
            Field::Address2 => "address2",
            Field::City => "city",
            Field::State => "state",
            Field::Zip => "zip",
            Field::Country => "country",
            Field::SignatureDate => "signature_date",
            Field::CountryOfResidence => "country_of_residence",
            Field::ForeignTin => "foreign_tin",
            Field::DateOfBirth => "date_of_birth",
            Field::TreatyClaim => "treaty_claim",
            Field::TreatyCountry => "treaty_country",
            Field::TreatyArticle => "treaty_article",
            Field::TreatyRate => "treaty_rate",
            Field::LobCode => "lob_code",
            Field::ServicesPerformed => "services_performed",
            Field::UsSourcePercent => "us_source_percent",
        }
    }

    /// Fields that only a W-8 carries.
    pub fn is_w8_only(self) -> bool {
        matches!(
            self,
            Field::CountryOfResidence
                | Field::ForeignTin
                | Field::DateOfBirth
                | Field::TreatyClaim
                | Field::TreatyCountry
                | Field::TreatyArticle
                | Field::TreatyRate
                | Field::LobCode
                | Field::ServicesPerformed
                | Field::UsSourcePercent
        )
    }

    /// Fields that link a row to a payee.
    pub fn is_link(self) -> bool {
        matches!(
            self,
            Field::UserToken | Field::InternalUserId | Field::Email
        )
    }

    /// Header texts recognised for this field, already normalised by [`header_key`] (lower-case
    /// letters and digits only), most specific first.
    pub fn header_variants(self) -> &'static [&'static str] {
        match self {
            Field::UserToken => &[
                "usertoken",
                "masspayusertoken",
                "masspaytoken",
                "payeetoken",
                "usrtoken",
                "masspayid",
                "masspayuserid",
                "token",
            ],
            Field::InternalUserId => &[
                "internaluserid",
                "internalid",
                "masspayinternaluserid",
                "contractorid",
                "payeeid",
                "vendorid",
                "externalid",
                "employeeid",
                "supplierid",
                "suppliernumber",
                "vendornumber",
                "vendorno",
                "vendorcode",
                "payeenumber",
                "contractornumber",
                "userid",
            ],
            Field::Email => &[
                "email",
                "emailaddress",
                "payeeemail",
                "contractoremail",
                "useremail",
                "vendoremail",
                "vendoremailaddress",
                "supplieremail",
                "supplieremailaddress",
                "workemail",
                "contactemail",
                "contactemailaddress",
                "primaryemail",
                "emailid",
                "emailaddr",
                "mail",
            ],
            Field::FormType => &[
                "formtype",
                "form",
                "taxform",
                "taxformtype",
                "formname",
                "w9orw8",
                "w9w8",
                "documenttype",
                "doctype",
            ],
            Field::LegalName => &[
                "legalname",
                "nameasshownonyourincometaxreturn",
                "name",
                "fullname",
                "fulllegalname",
                "payeename",
                "taxpayername",
                "contractorname",
                "vendorname",
                "suppliername",
                "vendorlegalname",
                "supplierlegalname",
                "legalentityname",
                "nameline1",
                "nameofindividualwhoisthebeneficialowner",
                "nameofindividualororganization",
                "nameoforganizationthatisthebeneficialowner",
                "nameoforganization",
                "beneficialowner",
                "beneficialownername",
                "nameonform",
            ],
            Field::FirstName => &["firstname", "givenname", "fname", "forename"],
            Field::LastName => &["lastname", "surname", "familyname", "lname"],
            Field::BusinessName => &[
                "businessname",
                "businessnamedisregardedentityname",
                "businessnamedisregardedentitynameifdifferentfromabove",
                "disregardedentityname",
                "dba",
                "doingbusinessas",
                "tradename",
                "companyname",
                "company",
            ],
            Field::EntityType => &[
                "federaltaxclassification",
                "entitytype",
                "taxclassification",
                "classification",
                "federaltaxclass",
                "entity",
                "entityclassification",
                "businesstype",
                "typeofentity",
                "typeofbeneficialowner",
            ],
            Field::Tin => &[
                "tin",
                "taxpayeridentificationnumber",
                "taxpayeridnumber",
                "taxpayerid",
                "ustaxpayeridentificationnumber",
                "ustin",
                "taxid",
                "taxidnumber",
                "taxidentificationnumber",
                "federaltaxid",
                "federaltaxidnumber",
                "federalidnumber",
                "federalid",
                "federalidentificationnumber",
                "fedid",
                "fedtaxid",
                "ustaxid",
                "vendortaxid",
                "vendortin",
                "suppliertaxid",
                "suppliertin",
                "payeetin",
                "payeetaxid",
                "recipienttin",
                "recipienttaxid",
                "tinssn",
                "tinein",
                "tinssnein",
                "ssnein",
                "ssnorein",
                "einssn",
                "einorssn",
                "ssnitin",
                "ssnoritin",
                "ssnitinein",
                "taxnumber",
            ],
            Field::TinSsn => &[
                "ssn",
                "socialsecuritynumber",
                "socialsecurityno",
                "ssnno",
                "ssnnumber",
            ],
            Field::TinEin => &[
                "ein",
                "fein",
                "employeridentificationnumber",
                "employeridnumber",
                "employerid",
                "einnumber",
                "einno",
            ],
            Field::TinType => &[
                "tintype",
                "typeoftin",
                "taxidtype",
                "tintypecode",
                "idtype",
                "taxidentificationnumbertype",
                "typeoftaxid",
            ],
            Field::ExemptPayeeCode => &[
                "exemptpayeecode",
                "exemptpayeecodeifany",
                "exemptpayee",
                "exemptioncode",
                "exemptions",
            ],
            Field::Address1 => &[
                "address1",
                "address",
                "addressline1",
                "streetaddress",
                "street",
                "streetline1",
                "addressnumberstreetandaptorsuiteno",
                "permanentresidenceaddress",
                "mailingaddress",
            ],
            Field::Address2 => &[
                "address2",
                "addressline2",
                "streetline2",
                "aptsuite",
                "apt",
                "suite",
                "unit",
            ],
            Field::City => &["city", "town", "citytown", "cityortown", "locality"],
            Field::State => &[
                "state",
                "stateprovince",
                "stateorprovince",
                "province",
                "region",
                "st",
            ],
            Field::Zip => &[
                "zip",
                "zipcode",
                "postalcode",
                "zippostalcode",
                "postcode",
                "postal",
                "zip4",
            ],
            Field::Country => &[
                "country",
                "countrycode",
                "addresscountry",
                "countryregion",
                "mailingcountry",
            ],
            Field::SignatureDate => &[
                "signaturedate",
                "datesigned",
                "dateofsignature",
                "signeddate",
                "signedon",
                "signed",
                "certificationdate",
                "date",
            ],
            Field::CountryOfResidence => &[
                "countryofresidence",
                "countryofcitizenshipresidence",
                "countryofcitizenship",
                "countryofcitizenshiporresidence",
                "residencecountry",
                "countryoftaxresidence",
                "taxresidence",
                "taxresidencecountry",
                "citizenship",
                "countryofincorporationororganization",
                "countryofincorporation",
            ],
            Field::ForeignTin => &[
                "foreigntin",
                "ftin",
                "foreigntaxidentifyingnumber",
                "foreigntaxidentificationnumber",
                "foreigntaxid",
                "foreigntaxnumber",
                "nonustin",
            ],
            Field::DateOfBirth => &["dateofbirth", "dob", "birthdate", "birthday"],
            Field::TreatyClaim => &[
                "treatyclaim",
                "treaty",
                "treatybenefits",
                "claimoftaxtreatybenefits",
                "specialratesandconditions",
            ],
            Field::TreatyCountry => &["treatycountry", "countryoftreaty"],
            Field::TreatyArticle => &["treatyarticle", "article"],
            Field::TreatyRate => &["treatyrate", "withholdingrate", "rate"],
            Field::LobCode => &[
                "lobcode",
                "lob",
                "limitationonbenefits",
                "limitationonbenefitscode",
            ],
            Field::ServicesPerformed => &[
                "servicesperformed",
                "whereservicesperformed",
                "serviceslocation",
                "workperformed",
            ],
            Field::UsSourcePercent => &[
                "ussourcepercent",
                "ussourceshare",
                "ussource",
                "percentworkedinus",
                "usdayspercent",
            ],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Distinctive phrases looked for inside long headers (after exact matches failed), in order:
/// "foreign tax identifying number" must win over "taxpayer identification number".
const CONTAINS: &[(&str, Field)] = &[
    ("foreigntax", Field::ForeignTin),
    ("typeoftin", Field::TinType),
    ("tintype", Field::TinType),
    ("exemptpayeecode", Field::ExemptPayeeCode),
    ("federaltaxclassification", Field::EntityType),
    ("taxpayeridentificationnumber", Field::Tin),
    ("dateofbirth", Field::DateOfBirth),
    ("countryofcitizenship", Field::CountryOfResidence),
    ("countryofresidence", Field::CountryOfResidence),
    ("disregardedentity", Field::BusinessName),
    ("businessname", Field::BusinessName),
    ("usertoken", Field::UserToken),
    ("internaluserid", Field::InternalUserId),
    ("emailaddress", Field::Email),
    ("signaturedate", Field::SignatureDate),
    ("datesigned", Field::SignatureDate),
    ("email", Field::Email),
    ("taxid", Field::Tin),
];

/// Header words so generic that another column naming the same field more precisely wins
/// over them (with a note) instead of making the import stop.
const WEAK: &[&str] = &[
    "token",
    "userid",
    "mail",
    "form",
    "name",
    "company",
    "entity",
    "classification",
    "street",
    "address",
    "unit",
    "apt",
    "suite",
    "st",
    "region",
    "postal",
    "date",
    "signed",
    "citizenship",
    "treaty",
    "article",
    "rate",
    "exemptions",
    "idtype",
];

/// Whether a header matches its field only through a generic word ([`WEAK`]) or a phrase inside
/// a long header.
pub(crate) fn is_weak_header(raw: &str) -> bool {
    let bracketless = strip_brackets(raw);
    let keys = [
        header_key(raw),
        header_key(&bracketless),
        header_key(strip_line_number(&bracketless)),
    ];
    let exact = keys.iter().find(|k| {
        Field::ALL
            .iter()
            .any(|f| f.header_variants().contains(&k.as_str()))
    });
    match exact {
        Some(k) => WEAK.contains(&k.as_str()),
        None => true,
    }
}

/// Lower-case letters and digits only: `"E-mail Address"` → `"emailaddress"`.
pub fn header_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| c.is_alphanumeric()) {
        out.extend(c.to_lowercase());
    }
    out
}

/// Drops `( ... )` and `[ ... ]` parts: `"TIN (SSN or EIN)"` → `"TIN "`.
fn strip_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Drops a W-9/W-8 line number in front: `"1 Name"`, `"Line 3a - Federal tax classification"`,
/// `"6a. Foreign TIN"`.
fn strip_line_number(s: &str) -> &str {
    let t = s.trim_start();
    let t = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("line") => &t[4..],
        _ => t,
    }
    .trim_start();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return s;
    }
    let mut rest = &t[digits..];
    // an optional single letter right after the number ("3a", "6b")
    let mut it = rest.chars();
    if let (Some(l), next) = (it.next(), it.next())
        && l.is_ascii_alphabetic()
        && next.is_none_or(|n| !n.is_alphanumeric())
    {
        rest = &rest[1..];
    }
    rest.trim_start_matches(|c: char| !c.is_alphanumeric())
}

/// The field a header text names, with a rank (lower is more specific), if any.
pub(crate) fn match_header(raw: &str) -> Option<(Field, usize)> {
    let full = header_key(raw);
    if full.is_empty() {
        return None;
    }
    let bracketless = strip_brackets(raw);
    let candidates = [
        full.clone(),
        header_key(&bracketless),
        header_key(strip_line_number(&bracketless)),
    ];
    for (attempt, key) in candidates.iter().enumerate() {
        if key.is_empty() {
            continue;
        }
        for f in Field::ALL {
            if let Some(i) = f.header_variants().iter().position(|v| v == key) {
                return Some((f, attempt * 40 + i));
            }
        }
    }
    // Long form-style headers ("Check appropriate box for federal tax classification ...").
    if full.len() > 12 {
        for (i, (phrase, f)) in CONTAINS.iter().enumerate() {
            if full.contains(phrase) {
                return Some((*f, 200 + i));
            }
        }
    }
    None
}

/// A `--map FIELD=Header` string that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnMapError {
    /// No `=`.
    #[error("--map {spec:?}: expected FIELD=HEADER (e.g. \"tin=Taxpayer ID Number\")")]
    NoEquals {
        /// The text given.
        spec: String,
    },
    /// The field name is not one of [`Field::ALL`].
    #[error("--map: unknown field {field:?}; known fields: {known}")]
    UnknownField {
        /// The name given.
        field: String,
        /// The known field names, comma-separated.
        known: String,
    },
    /// `FIELD=` with nothing after it.
    #[error("--map {field}=: the header text is empty")]
    EmptyHeader {
        /// The field.
        field: Field,
    },
    /// The same field mapped twice.
    #[error("--map: {field} is mapped twice")]
    Duplicate {
        /// The field.
        field: Field,
    },
}

fn known_fields() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Field {
    type Err = ColumnMapError;

    /// A field by its [`Field::name`] (case, blanks and punctuation ignored), a few short aliases
    /// (`name`, `form`, `token`, `dob`, `ftin`, `postal_code`, ...), or any header text the field
    /// recognises (`"Taxpayer Identification Number"` → [`Field::Tin`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = header_key(s);
        if let Some(f) = Field::ALL.into_iter().find(|f| header_key(f.name()) == key) {
            return Ok(f);
        }
        let alias = match key.as_str() {
            "token" => Some(Field::UserToken),
            "internalid" => Some(Field::InternalUserId),
            "name" => Some(Field::LegalName),
            "form" => Some(Field::FormType),
            "dob" => Some(Field::DateOfBirth),
            "ftin" => Some(Field::ForeignTin),
            "zipcode" | "postalcode" => Some(Field::Zip),
            "province" => Some(Field::State),
            "treaty" => Some(Field::TreatyClaim),
            "classification" | "taxclassification" => Some(Field::EntityType),
            _ => None,
        };
        if let Some(f) = alias {
            return Ok(f);
        }
        match match_header(s) {
            Some((f, rank)) if rank < 200 => Ok(f),
            _ => Err(ColumnMapError::UnknownField {
                // A FIELD name is not a cell value, but keep it short anyway.
                field: s.chars().take(60).collect(),
                known: known_fields(),
            }),
        }
    }
}

/// Column overrides: `FIELD=Header` pairs that take precedence over header recognition.
///
/// ```
/// use masspay_tax_import::{ColumnMap, Field};
/// let map = ColumnMap::parse(["TIN=Taxpayer ID Number", "email=Contact"]).unwrap();
/// assert_eq!(map.header_for(Field::Tin), Some("Taxpayer ID Number"));
/// assert!(ColumnMap::parse(["colour=Red"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    overrides: Vec<(Field, String)>,
}

impl ColumnMap {
    /// No overrides.
    pub fn new() -> Self {
        ColumnMap::default()
    }

    /// Parses `FIELD=Header` strings (as given to `--map`).
    pub fn parse<I, S>(specs: I) -> Result<Self, ColumnMapError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut map = ColumnMap::new();
        for s in specs {
            map.add(s.as_ref())?;
        }
        Ok(map)
    }

    /// Adds one `FIELD=Header` string.
    pub fn add(&mut self, spec: &str) -> Result<(), ColumnMapError> {
        let (field, header) = spec
            .split_once('=')
            .ok_or_else(|| ColumnMapError::NoEquals {
                spec: spec.chars().take(60).collect(),
            })?;
        let field: Field = field.parse()?;
        self.set(field, header)
    }

    /// Maps `field` to the column whose header is `header` (compared case-, blank- and
    /// punctuation-insensitively).
    pub fn set(&mut self, field: Field, header: &str) -> Result<(), ColumnMapError> {
        let header = header.trim();
        if header_key(header).is_empty() {
            return Err(ColumnMapError::EmptyHeader { field });
        }
        if self.overrides.iter().any(|(f, _)| *f == field) {
            return Err(ColumnMapError::Duplicate { field });
        }
        self.overrides.push((field, header.to_string()));
        Ok(())
    }

    /// The header text `field` is mapped to, if overridden.
    pub fn header_for(&self, field: Field) -> Option<&str> {
        self.overrides
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, h)| h.as_str())
    }

    /// The overrides, in the order given.
    pub fn overrides(&self) -> impl Iterator<Item = (Field, &str)> {
        self.overrides.iter().map(|(f, h)| (*f, h.as_str()))
    }

    /// The overridden field whose header matches `header_text`, if any.
    pub(crate) fn field_for_header(&self, header_text: &str) -> Option<Field> {
        let key = header_key(header_text);
        if key.is_empty() {
            return None;
        }
        self.overrides
            .iter()
            .find(|(_, h)| header_key(h) == key)
            .map(|(f, _)| *f)
    }
}

/// Spreadsheet column letters for a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(3), "D");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(51), "AZ");
        assert_eq!(column_letter(52), "BA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn headers() {
        let f = |s: &str| match_header(s).map(|(f, _)| f);
        assert_eq!(f("TIN"), Some(Field::Tin));
        assert_eq!(f("Taxpayer Identification Number"), Some(Field::Tin));
        assert_eq!(f("SSN/EIN"), Some(Field::Tin));
        assert_eq!(f("Tax ID"), Some(Field::Tin));
        assert_eq!(f("TIN (SSN or EIN)"), Some(Field::Tin));
        assert_eq!(f("Name"), Some(Field::LegalName));
        assert_eq!(f("Legal Name"), Some(Field::LegalName));
        assert_eq!(
            f("Name (as shown on your income tax return)"),
            Some(Field::LegalName)
        );
        assert_eq!(f("1 Name"), Some(Field::LegalName));
        assert_eq!(f("Business Name"), Some(Field::BusinessName));
        assert_eq!(
            f("Business name/disregarded entity name"),
            Some(Field::BusinessName)
        );
        assert_eq!(
            f("2 Business name/disregarded entity name, if different from above"),
            Some(Field::BusinessName)
        );
        assert_eq!(f("DBA"), Some(Field::BusinessName));
        assert_eq!(f("TIN Type"), Some(Field::TinType));
        assert_eq!(f("Type of TIN"), Some(Field::TinType));
        assert_eq!(f("Federal tax classification"), Some(Field::EntityType));
        assert_eq!(
            f("3a Check the appropriate box for federal tax classification"),
            Some(Field::EntityType)
        );
        assert_eq!(f("Entity Type"), Some(Field::EntityType));
        assert_eq!(f("Exempt payee code"), Some(Field::ExemptPayeeCode));
        assert_eq!(
            f("Exempt payee code (if any)"),
            Some(Field::ExemptPayeeCode)
        );
        assert_eq!(f("Signature Date"), Some(Field::SignatureDate));
        assert_eq!(f("Date Signed"), Some(Field::SignatureDate));
        assert_eq!(
            f("Country of citizenship/residence"),
            Some(Field::CountryOfResidence)
        );
        assert_eq!(f("Foreign TIN"), Some(Field::ForeignTin));
        assert_eq!(f("FTIN"), Some(Field::ForeignTin));
        assert_eq!(
            f("6a Foreign tax identifying number"),
            Some(Field::ForeignTin)
        );
        assert_eq!(f("Date of birth"), Some(Field::DateOfBirth));
        assert_eq!(f("Date of Birth (MM-DD-YYYY)"), Some(Field::DateOfBirth));
        assert_eq!(f("DOB"), Some(Field::DateOfBirth));
        assert_eq!(f("Treaty"), Some(Field::TreatyClaim));
        assert_eq!(f("user_token"), Some(Field::UserToken));
        assert_eq!(f("MassPay User Token"), Some(Field::UserToken));
        assert_eq!(f("internal_user_id"), Some(Field::InternalUserId));
        assert_eq!(f("E-mail"), Some(Field::Email));
        assert_eq!(f("ZIP Code"), Some(Field::Zip));
        assert_eq!(
            f("U.S. taxpayer identification number (SSN or ITIN)"),
            Some(Field::Tin)
        );
        assert_eq!(f("Notes"), None);
        assert_eq!(f(""), None);
        assert_eq!(f("ACME Corp W-9 collection 2026"), None);
    }

    #[test]
    fn map_parsing() {
        let m = ColumnMap::parse(["TIN=Taxpayer ID Number"]).unwrap();
        assert_eq!(m.header_for(Field::Tin), Some("Taxpayer ID Number"));
        assert_eq!(m.field_for_header("taxpayer id number"), Some(Field::Tin));
        let m = ColumnMap::parse(["user token = Account", "Legal Name=Who"]).unwrap();
        assert_eq!(m.header_for(Field::UserToken), Some("Account"));
        assert_eq!(m.header_for(Field::LegalName), Some("Who"));
        let e = ColumnMap::parse(["colour=Red"]).unwrap_err();
        assert!(e.to_string().contains("known fields: user_token"), "{e}");
        assert!(e.to_string().contains("treaty_claim"), "{e}");
        assert!(matches!(
            ColumnMap::parse(["tin"]),
            Err(ColumnMapError::NoEquals { .. })
        ));
        assert!(matches!(
            ColumnMap::parse(["tin= "]),
            Err(ColumnMapError::EmptyHeader { .. })
        ));
        assert!(matches!(
            ColumnMap::parse(["tin=a", "TIN=b"]),
            Err(ColumnMapError::Duplicate { .. })
        ));
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>(), Ok(f));
            for v in f.header_variants() {
                assert_eq!(
                    match_header(v).map(|(g, _)| g),
                    Some(f),
                    "{v} is claimed by two fields"
                );
            }
        }
    }
}
