//! Checking one row: links, names, TIN, dates, ZIP, exempt codes, duplicates and conflicts.

use super::*;

impl<'o> Importer<'o> {
    /// Checks one row; the record is only used when no problem was pushed.
    pub(super) fn validate(&mut self, ctx: &mut RowCtx<'_>) -> Option<TaxFormRecord> {
        // --- link -------------------------------------------------------------------------
        let user_token = ctx.text(Field::UserToken);
        if let Some(t) = &user_token
            && t.chars().any(char::is_whitespace)
        {
            ctx.error(Field::UserToken, "the user token contains blanks".into());
        }
        let internal_user_id = ctx.text(Field::InternalUserId);
        let email = ctx.text(Field::Email);
        if let Some(e) = &email
            && !plausible_email(e)
        {
            ctx.error(
                Field::Email,
                "not an email address (expected name@domain.tld)".into(),
            );
        }
        let any_link_cell = [Field::UserToken, Field::InternalUserId, Field::Email]
            .iter()
            .any(|&f| ctx.present(f));
        if !any_link_cell {
            ctx.row_error(
                "no user_token, internal_user_id or email: the row cannot be linked to a payee"
                    .into(),
            );
        }
        let keys = [
            (Field::UserToken, user_token.clone()),
            (Field::InternalUserId, internal_user_id.clone()),
            (Field::Email, email.as_ref().map(|e| e.to_lowercase())),
        ];

        // --- name -------------------------------------------------------------------------
        let legal_name = if ctx.layout.col(Field::LegalName).is_some() {
            ctx.name(Field::LegalName)
        } else {
            let first = ctx.name(Field::FirstName);
            let last = ctx.name(Field::LastName);
            match (first, last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (f, l) => f.or(l),
            }
        };
        if legal_name.is_none()
            && !ctx.has_problem_for(&[Field::LegalName, Field::FirstName, Field::LastName])
        {
            let f = [Field::LegalName, Field::LastName, Field::FirstName]
                .into_iter()
                .find(|&f| ctx.layout.col(f).is_some());
            let reason = "no legal name (the name on the income tax return is required)".into();
            match f {
                Some(f) => ctx.error(f, reason),
                None => ctx.row_error(reason),
            }
        }
        let business_name = ctx.name(Field::BusinessName);

        // --- form type ----------------------------------------------------------------------
        let w8_filled: Vec<Field> = ctx
            .layout
            .columns
            .iter()
            .filter(|c| c.field.is_w8_only())
            .filter(|c| ctx.cells.get(c.idx).is_some_and(|x| !x.is_blank()))
            .map(|c| c.field)
            .collect();
        let form_type = match ctx.text(Field::FormType) {
            Some(t) => match FormType::parse(&t) {
                Some(f) => Some(f),
                None => {
                    ctx.error(
                        Field::FormType,
                        format!(
                            "{} is not a W-9 or W-8 form name (expected W-9, W-8BEN, W-8BEN-E, \
                             W-8ECI, W-8EXP or W-8IMY)",
                            echo(&t).unwrap_or_else(|| "the value".into())
                        ),
                    );
                    None
                }
            },
            None if ctx.has_problem_for(&[Field::FormType]) => None,
            None if !w8_filled.is_empty() => {
                let reason = format!(
                    "no form type, but W-8 fields are filled ({}): say which form (W-8BEN, \
                     W-8BEN-E, ...)",
                    w8_filled
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if ctx.layout.col(Field::FormType).is_some() {
                    ctx.error(Field::FormType, reason);
                } else {
                    ctx.row_error(reason);
                }
                None
            }
            None => Some(FormType::W9),
        };
        let is_w9 = form_type == Some(FormType::W9);
        if is_w9 && !w8_filled.is_empty() && ctx.present(Field::FormType) {
            ctx.warn(
                w8_filled[0],
                "W-8 fields are filled on a W-9; kept as given".into(),
            );
        }

        // --- entity type --------------------------------------------------------------------
        let entity_type = ctx.text(Field::EntityType).and_then(|t| {
            let parsed = EntityType::parse(&t);
            match &parsed {
                None => ctx.error(
                    Field::EntityType,
                    format!(
                        "{} is not a federal tax classification (expected individual/sole \
                         proprietor, C corporation, S corporation, partnership, trust/estate, \
                         LLC (C, S or P) or other)",
                        echo(&t).unwrap_or_else(|| "the value".into())
                    ),
                ),
                Some(EntityType::Llc(None)) => ctx.warn(
                    Field::EntityType,
                    "LLC without its tax classification (C, S or P)".into(),
                ),
                Some(_) => {}
            }
            parsed
        });

        // --- TIN ----------------------------------------------------------------------------
        let declared_tin_type = ctx.text(Field::TinType).and_then(|t| {
            let parsed = t.parse::<TinType>().ok();
            if parsed.is_none() {
                ctx.error(
                    Field::TinType,
                    format!(
                        "{} is not a TIN type (expected SSN, ITIN, ATIN or EIN, or the 1099 \
                         codes 1 = EIN, 2 = SSN)",
                        echo(&t).unwrap_or_else(|| "the value".into())
                    ),
                );
            }
            parsed
        });
        let (tin, tin_type) = self.tin(ctx, declared_tin_type, is_w9);
        if let (Some(e), Some(t)) = (&entity_type, tin_type)
            && e.expects_ein()
            && t.is_individual()
        {
            ctx.warn(
                Field::Tin,
                format!(
                    "the classification is {} but the TIN is an individual number ({}); an \
                     entity normally has an EIN",
                    e.code(),
                    t.label()
                ),
            );
        }

        // --- exempt payee code ----------------------------------------------------------------
        let exempt_payee_code =
            ctx.text(Field::ExemptPayeeCode)
                .and_then(|t| match exempt_code_number(&t) {
                    Some(n @ 1..=13) => Some(n.to_string()),
                    _ => {
                        ctx.error(
                            Field::ExemptPayeeCode,
                            "the exempt payee code must be a number from 1 to 13 (W-9 line 4)"
                                .into(),
                        );
                        None
                    }
                });

        // --- address --------------------------------------------------------------------------
        let address1 = ctx.text(Field::Address1);
        let address2 = ctx.text(Field::Address2);
        let city = ctx.text(Field::City);
        let state = ctx.text(Field::State);
        let country = ctx.text(Field::Country);
        let us_address = country.as_deref().is_none_or(is_us);
        let zip = ctx.zip(us_address);
        if is_w9
            && let Some(c) = &country
            && !is_us(c)
        {
            ctx.warn(
                Field::Country,
                format!(
                    "a W-9 with a non-US address country ({}); a W-9 is for US persons: check \
                     whether a W-8 is needed",
                    echo(c).unwrap_or_else(|| "as written".into())
                ),
            );
        }

        // --- dates --------------------------------------------------------------------------
        let signature_date = ctx.date_or_warn(Field::SignatureDate);
        if let Some(d) = signature_date
            && d > self.today
        {
            ctx.warn(
                Field::SignatureDate,
                "the signature date is in the future".into(),
            );
        }
        let date_of_birth = ctx.date(Field::DateOfBirth);
        if let Some(d) = date_of_birth {
            if d > self.today {
                ctx.error(
                    Field::DateOfBirth,
                    "the date of birth is in the future".into(),
                );
            } else if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(d) {
                ctx.error(
                    Field::DateOfBirth,
                    "the date of birth is before 1900".into(),
                );
            }
        }

        // --- W-8 ----------------------------------------------------------------------------
        let country_of_residence = ctx.text(Field::CountryOfResidence);
        let foreign_tin = ctx.text(Field::ForeignTin);
        let treaty_claim = match ctx.text(Field::TreatyClaim) {
            Some(t) => Some(t),
            None => {
                let parts: Vec<String> = [
                    (Field::TreatyCountry, "country"),
                    (Field::TreatyArticle, "article"),
                    (Field::TreatyRate, "rate"),
                    (Field::LobCode, "lob"),
                ]
                .into_iter()
                .filter_map(|(f, label)| ctx.text(f).map(|v| format!("{label}: {v}")))
                .collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            }
        };
        // Where the services were performed and the US-source share (the 1042-S source rule).
        let services_performed = match ctx.text(Field::ServicesPerformed) {
            None => None,
            Some(t) => {
                let k: String = t
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect();
                match k.as_str() {
                    "outsideus" | "outside" | "outsidetheus" | "abroad" | "foreign" => {
                        Some("outside_us".to_string())
                    }
                    "inus" | "intheus" | "us" | "insideus" => Some("in_us".to_string()),
                    _ => {
                        ctx.error(
                            Field::ServicesPerformed,
                            "where the services were performed must be outside_us or in_us".into(),
                        );
                        None
                    }
                }
            }
        };
        let us_source_percent = match ctx.text(Field::UsSourcePercent) {
            None => None,
            Some(t) => match percent_0_100(&t) {
                Some(p) => Some(p),
                None => {
                    ctx.error(
                        Field::UsSourcePercent,
                        "the US-source share must be a number from 0 to 100".into(),
                    );
                    None
                }
            },
        };
        if form_type.as_ref().is_some_and(FormType::is_w8) {
            match &country_of_residence {
                None => ctx.warn(
                    Field::CountryOfResidence,
                    "a W-8 without a country of citizenship / residence".into(),
                ),
                Some(c) if is_us(c) => ctx.warn(
                    Field::CountryOfResidence,
                    "a W-8 with the United States as country of residence: a US person files a \
                     W-9"
                    .into(),
                ),
                Some(_) => {}
            }
        }

        ctx.is_w9 = is_w9;
        let tin_for_dups = tin.clone();
        let rec = match (form_type, legal_name) {
            (Some(form_type), Some(legal_name)) => Some((form_type, legal_name)),
            _ => None,
        }
        .map(|(form_type, legal_name)| TaxFormRecord {
            sheet: ctx.sheet.to_string(),
            row: ctx.row,
            user_token,
            internal_user_id,
            email,
            form_type,
            legal_name,
            business_name,
            entity_type,
            tin,
            declared_tin_type,
            tin_type,
            exempt_payee_code,
            address1,
            address2,
            city,
            state,
            zip,
            country,
            signature_date,
            country_of_residence,
            foreign_tin,
            date_of_birth,
            treaty_claim,
            services_performed,
            us_source_percent,
            warnings: Vec::new(),
        });
        self.check_duplicates(ctx, keys, tin_for_dups, rec.as_ref());
        rec
    }

    /// One payee, one form: a later row with a link key (user token, internal id, email) of an
    /// earlier row is refused, naming it; when both rows hold different TINs, all the rows
    /// involved are refused (see [`crate::conflicts`]); an identical repeat is read once.
    pub(super) fn check_duplicates(
        &mut self,
        ctx: &mut RowCtx<'_>,
        keys: [(Field, Option<String>); 3],
        tin: Option<String>,
        rec: Option<&TaxFormRecord>,
    ) {
        let here = (ctx.sheet.to_string(), ctx.row);
        let mut conflict = false;
        for (field, value) in keys {
            let Some(v) = value else { continue };
            let Some((sheet, row, prev_tin)) = self.seen.get(&(field, v.clone())).cloned() else {
                self.seen
                    .insert((field, v), (here.0.clone(), here.1, tin.clone()));
                continue;
            };
            if tin.is_some() && prev_tin.is_some() && tin != prev_tin {
                let prev = (sheet, row);
                match self.conflicts.iter_mut().find(|g| g.contains(&prev)) {
                    Some(g) => {
                        if !g.contains(&here) {
                            g.push(here.clone());
                        }
                    }
                    None => self.conflicts.push(vec![prev, here.clone()]),
                }
                if !conflict {
                    ctx.row_error(crate::conflicts::MARK.into());
                    conflict = true;
                }
                continue;
            }
            if conflict {
                continue;
            }
            let identical = ctx.problems.is_empty()
                && rec.is_some_and(|r| {
                    self.result.records.iter().any(|p| {
                        p.sheet == sheet && p.row == row && crate::conflicts::same_form(p, r)
                    })
                });
            if identical {
                ctx.duplicate_of = Some((sheet, row));
                return;
            }
            ctx.error(
                field,
                format!("duplicate {field}: already on {sheet} row {row}"),
            );
        }
    }

    /// The TIN cell: (9 digits if valid, resolved type).
    pub(super) fn tin(
        &self,
        ctx: &mut RowCtx<'_>,
        declared: Option<TinType>,
        is_w9: bool,
    ) -> (Option<String>, Option<TinType>) {
        // Which column holds it: the TIN column, else the W-9's SSN box or EIN box (the box is
        // evidence of the type when the form declares none).
        let boxes = [Field::TinSsn, Field::TinEin];
        let field = if ctx.layout.col(Field::Tin).is_some()
            && (ctx.present(Field::Tin) || ctx.is_formula(Field::Tin))
        {
            Field::Tin
        } else {
            let filled: Vec<Field> = boxes
                .into_iter()
                .filter(|&f| ctx.present(f) || ctx.is_formula(f))
                .collect();
            match filled.as_slice() {
                [] => Field::Tin,
                [one] => *one,
                _ => {
                    ctx.error(
                        Field::TinEin,
                        "both the SSN and the EIN box are filled; a W-9 gives one TIN: keep the \
                         one the 1099 must show"
                            .into(),
                    );
                    return (None, None);
                }
            }
        };
        let declared = declared.or(match field {
            Field::TinSsn => Some(TinType::Ssn),
            Field::TinEin => Some(TinType::Ein),
            _ => None,
        });
        if ctx.is_formula(field) {
            let kind = ctx.cached_kind(field);
            ctx.error(
                field,
                format!(
                    "the TIN cell holds a formula (its cached value is {kind}); type the TIN as \
                     text"
                ),
            );
            return (None, None);
        }
        let padded_format = ctx
            .layout
            .col(field)
            .is_some_and(|c| ctx.extras.zero_padded.contains(&(ctx.row - 1, c.idx)));
        let text = match ctx.cell(field).cloned() {
            None => None,
            Some(Cell::Number { whole, .. }) => match whole {
                Some(w) if (0..1_000_000_000).contains(&w) => {
                    let shown = w.to_string().len();
                    let lost = 9 - shown;
                    if lost > 0 && !padded_format {
                        ctx.error(
                            field,
                            format!(
                                "the TIN cell holds a number of {shown} digit(s) in a General \
                                 (or other) number format, so leading zeros may be lost; a TIN \
                                 has exactly 9: type it as text, or format the cell \
                                 000-00-0000 / 00-0000000"
                            ),
                        );
                        return (None, None);
                    }
                    if lost > 2 {
                        ctx.error(
                            field,
                            format!(
                                "the TIN cell holds a number of {shown} digit(s); a TIN has \
                                 exactly 9 (type it as text)"
                            ),
                        );
                        return (None, None);
                    }
                    if lost > 0 {
                        ctx.warn(
                            field,
                            format!(
                                "the cell holds a number formatted to show 9 digits, which \
                                 dropped {lost} leading zero(s); restored to 9 digits as the \
                                 format shows them"
                            ),
                        );
                    }
                    Some(format!("{w:09}"))
                }
                Some(w) if w >= 1_000_000_000 => {
                    ctx.error(
                        field,
                        format!(
                            "TIN has {} digit(s); a TIN has exactly 9",
                            w.to_string().len()
                        ),
                    );
                    return (None, None);
                }
                _ => {
                    ctx.error(
                        field,
                        "the TIN cell holds a negative or fractional number; a TIN is 9 digits"
                            .into(),
                    );
                    return (None, None);
                }
            },
            Some(_) => ctx.text(field),
        };
        if ctx.has_problem_for(&[field]) {
            return (None, None);
        }
        let Some(text) = text else {
            if is_w9 && ctx.layout.col(field).is_some() {
                ctx.warn(field, "a W-9 without a TIN".into());
            }
            return (None, None);
        };
        let check = check_tin(Some(&text), declared, &self.opts.tin_rules);
        match check.status {
            TinStatus::Valid => {
                for w in &check.warnings {
                    ctx.warn(field, w.clone());
                }
                let digits = check.tin.as_ref().map(|t| t.digits().to_string());
                (digits, Some(check.tin_type))
            }
            TinStatus::Missing => {
                // "Applied For", "N/A": no number yet; the audit reports it.
                let why = match parse_tin(&text) {
                    Err(e @ (TinParseError::AppliedFor | TinParseError::Placeholder)) => {
                        e.to_string()
                    }
                    _ => "no TIN".to_string(),
                };
                ctx.warn(field, why);
                (None, None)
            }
            TinStatus::Invalid | TinStatus::Malformed => {
                ctx.error(field, check.reasons.join("; "));
                (None, None)
            }
        }
    }
}

impl RowCtx<'_> {
    pub(super) fn cell(&self, f: Field) -> Option<&Cell> {
        let col = self.layout.col(f)?;
        self.cells.get(col.idx).filter(|c| !c.is_blank())
    }

    pub(super) fn present(&self, f: Field) -> bool {
        self.cell(f).is_some()
    }

    /// What a formula cell's cached value is, in words (never the value itself).
    pub(super) fn cached_kind(&self, f: Field) -> &'static str {
        let cell = self.layout.col(f).and_then(|c| self.cells.get(c.idx));
        match cell {
            None | Some(Cell::Empty) => "empty: the file was saved without computed values",
            Some(Cell::Text(t)) if t.trim().is_empty() => {
                "empty: the file was saved without computed values"
            }
            Some(Cell::Text(_)) => "text",
            Some(Cell::Number { .. }) => "a number",
            Some(Cell::Bool(_)) => "a TRUE/FALSE value",
            Some(Cell::Date(_) | Cell::NotADate) => "a date or time",
            Some(Cell::Error(_)) => "a spreadsheet error",
        }
    }

    pub(super) fn is_formula(&self, f: Field) -> bool {
        self.layout
            .col(f)
            .is_some_and(|c| self.extras.formulas.contains(&(self.row - 1, c.idx)))
    }

    pub(super) fn has_problem_for(&self, fields: &[Field]) -> bool {
        self.problems
            .iter()
            .any(|p| p.field.is_some_and(|f| fields.contains(&f)))
    }

    pub(super) fn error(&mut self, f: Field, reason: String) {
        let col = self.layout.col(f);
        self.problems.push(RowProblem {
            sheet: self.sheet.to_string(),
            row: self.row,
            column: col.map(Column::label),
            column_letter: col.map(|c| c.letter.clone()),
            field: col.map(|c| c.field),
            reason,
        });
    }

    pub(super) fn row_error(&mut self, reason: String) {
        self.problems.push(RowProblem {
            sheet: self.sheet.to_string(),
            row: self.row,
            column: None,
            column_letter: None,
            field: None,
            reason,
        });
    }

    pub(super) fn warn(&mut self, f: Field, msg: String) {
        match self.layout.col(f) {
            Some(c) => self.warnings.push(format!("{}: {msg}", c.label())),
            None => self.warnings.push(msg),
        }
    }

    /// The cell as text (trimmed, control characters replaced); `None` when blank or bad
    /// (bad cells push a problem).
    pub(super) fn text(&mut self, f: Field) -> Option<String> {
        let cell = self.cell(f)?.clone();
        let out = match cell {
            Cell::Empty => None,
            Cell::Text(s) => {
                let (c, had_control) = clean(&s);
                if had_control {
                    self.warn(f, "a tab or line break was replaced by a blank".into());
                }
                (!c.is_empty()).then_some(c)
            }
            Cell::Number { text, .. } => Some(text),
            Cell::Bool(b) => Some(if b { "TRUE" } else { "FALSE" }.to_string()),
            Cell::Date(d) => Some(d.to_string()),
            Cell::NotADate => {
                self.error(f, "the cell holds a time or duration, not text".into());
                None
            }
            Cell::Error(e) => {
                self.error(f, format!("the cell holds the spreadsheet error {e}"));
                None
            }
        };
        if out.is_some() && self.is_formula(f) && !NAME_FIELDS.contains(&f) {
            self.warn(
                f,
                "the cell holds a formula; its computed value was used".into(),
            );
        }
        out
    }

    /// A name cell: like [`Self::text`], but formulas and formula-looking text are errors.
    pub(super) fn name(&mut self, f: Field) -> Option<String> {
        if self.is_formula(f) {
            let kind = self.cached_kind(f);
            self.error(
                f,
                format!(
                    "the cell holds a formula; type the name as text (its cached value is {kind})"
                ),
            );
            return None;
        }
        let t = self.text(f)?;
        if let Some(c) = t.chars().next()
            && matches!(c, '=' | '+' | '-' | '@')
        {
            self.error(
                f,
                format!(
                    "looks like a spreadsheet formula (starts with '{c}'); a name must be plain \
                     text"
                ),
            );
            return None;
        }
        Some(t)
    }

    /// A date cell, or text in one of the accepted forms. Values are never quoted (a date of
    /// birth is personal data).
    pub(super) fn date(&mut self, f: Field) -> Option<NaiveDate> {
        let cell = self.cell(f)?.clone();
        let what = if f == Field::DateOfBirth {
            "date of birth"
        } else {
            "date"
        };
        let reason = match cell {
            Cell::Date(d) => return Some(d),
            Cell::Text(s) => match parse_date(&s) {
                Ok(d) => return Some(d),
                Err(DateError::ShortYear) => format!(
                    "the {what} has a short year; write the year in full (YYYY-MM-DD or \
                     MM/DD/YYYY)"
                ),
                Err(DateError::Format) => {
                    format!("not a {what} that can be read; write YYYY-MM-DD or MM/DD/YYYY")
                }
            },
            Cell::Number { .. } => format!(
                "the cell holds a number, not a {what}; format the cell as a date or write \
                 YYYY-MM-DD"
            ),
            Cell::Bool(_) | Cell::NotADate => format!("the cell does not hold a {what}"),
            Cell::Error(e) => format!("the cell holds the spreadsheet error {e}"),
            Cell::Empty => return None,
        };
        self.error(f, reason);
        None
    }

    /// Like [`Self::date`], but a date that cannot be read is a warning (the field is left
    /// empty): a signature date never blocks a row with a good TIN.
    pub(super) fn date_or_warn(&mut self, f: Field) -> Option<NaiveDate> {
        let before = self.problems.len();
        let d = self.date(f);
        if self.problems.len() > before {
            let moved: Vec<RowProblem> = self.problems.drain(before..).collect();
            for p in moved {
                self.warn(f, format!("{} (left empty)", p.reason));
            }
        }
        d
    }

    /// The ZIP / postal code; restores leading zeros a number cell dropped (US addresses).
    pub(super) fn zip(&mut self, us_address: bool) -> Option<String> {
        use masspay_tax_rules::postal::repair_us_zip;
        let f = Field::Zip;
        if us_address && let Some(Cell::Number { whole: Some(w), .. }) = self.cell(f) {
            let w = *w;
            if !(0..=999_999_999).contains(&w) {
                return self.text(f);
            }
            let shown = w.to_string();
            let (s, repaired) = repair_us_zip(&shown, true);
            let lost = s
                .chars()
                .filter(char::is_ascii_digit)
                .count()
                .saturating_sub(shown.len());
            if repaired && lost > 0 {
                self.warn(
                    f,
                    format!(
                        "the ZIP code was a number and lost {lost} leading zero(s); restored \
                         to {s}"
                    ),
                );
            }
            return Some(s);
        }
        let t = self.text(f)?;
        if us_address && (3..=4).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit()) {
            // A CSV exported from a sheet where the ZIP was a number.
            let (s, _) = repair_us_zip(&t, true);
            self.warn(
                f,
                format!(
                    "the ZIP code has {} digits; a leading zero was probably lost: restored to \
                     {s}",
                    t.len()
                ),
            );
            return Some(s);
        }
        Some(t)
    }
}
