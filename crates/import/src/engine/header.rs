//! Finding a sheet's header row and laying out its columns.

use super::*;

impl<'o> Importer<'o> {
    /// Finds the header row among `head`; returns its index and the column layout.
    pub(super) fn detect(
        &mut self,
        sheet: &str,
        head: &[(usize, Vec<Cell>)],
        hidden: &HashSet<usize>,
    ) -> Option<(usize, Layout)> {
        let mut best: Option<(usize, usize, Candidate)> = None;
        for (i, (_, cells)) in head.iter().enumerate() {
            let cand = self.layout_of(cells, hidden);
            let layout = &cand.layout;
            let has = |f| layout.by_field.contains_key(&f);
            let named = has(Field::LegalName) || (has(Field::FirstName) && has(Field::LastName));
            let linked = has(Field::UserToken) || has(Field::InternalUserId) || has(Field::Email);
            if !(named && linked) {
                continue;
            }
            let score = layout.columns.len();
            if best.as_ref().is_none_or(|b| score > b.1) {
                best = Some((i, score, cand));
            }
        }
        let (
            i,
            _,
            Candidate {
                layout,
                notes,
                overridden,
                ambiguous,
            },
        ) = best?;
        for n in notes {
            self.note(format!("sheet {sheet}: {n}"));
        }
        if let Some((field, columns)) = ambiguous {
            self.fail(ImportError::AmbiguousColumns {
                sheet: sheet.to_string(),
                field,
                columns,
            });
        }
        let hidden_headers: Vec<String> = head[i]
            .1
            .iter()
            .enumerate()
            .filter(|(idx, c)| hidden.contains(idx) && !c.is_blank())
            .filter_map(|(idx, c)| {
                c.header_text()
                    .map(|h| format!("{h} ({})", column_letter(idx)))
            })
            .collect();
        if !hidden_headers.is_empty() {
            self.note(format!(
                "sheet {sheet}: hidden columns ignored: {}",
                hidden_headers.join(", ")
            ));
        }
        self.overrides_found.extend(overridden);
        let header_cells = &head[i].1;
        let unused: Vec<String> = header_cells
            .iter()
            .enumerate()
            .filter(|(idx, c)| {
                !c.is_blank()
                    && !hidden.contains(idx)
                    && !layout.columns.iter().any(|col| col.idx == *idx)
            })
            .filter_map(|(idx, c)| {
                c.header_text()
                    .map(|h| format!("{h} ({})", column_letter(idx)))
            })
            .collect();
        if !unused.is_empty() {
            self.note(format!(
                "sheet {sheet}: columns not used: {}",
                unused.join(", ")
            ));
        }
        if ![Field::Tin, Field::TinSsn, Field::TinEin]
            .iter()
            .any(|f| layout.by_field.contains_key(f))
        {
            self.note(format!(
                "sheet {sheet}: no TIN column; the forms are imported without TINs"
            ));
        }
        for (field, header) in self.opts.columns.overrides() {
            if !layout.by_field.contains_key(&field) {
                self.note(format!(
                    "sheet {sheet}: --map {field}={header:?}: no such column on this sheet"
                ));
            }
        }
        Some((i, layout))
    }

    /// Maps the cells of a candidate header row.
    pub(super) fn layout_of(&self, cells: &[Cell], hidden: &HashSet<usize>) -> Candidate {
        let map = &self.opts.columns;
        // field → (rank, column); rank 0 = an override
        let mut chosen: HashMap<Field, (usize, Column)> = HashMap::new();
        let mut notes = Vec::new();
        let mut overridden = HashSet::new();
        let mut ambiguous: Option<(Field, Vec<String>)> = None;
        for (idx, cell) in cells.iter().enumerate() {
            if hidden.contains(&idx) {
                continue;
            }
            let Some(header) = cell.header_text() else {
                continue;
            };
            let (field, rank) = if let Some(f) = map.field_for_header(&header) {
                overridden.insert(f);
                (f, 0)
            } else if let Some((f, rank)) = match_header(&header) {
                if map.header_for(f).is_some() {
                    // the override decides this field's column
                    continue;
                }
                (f, rank + 1)
            } else {
                continue;
            };
            let col = Column {
                idx,
                letter: column_letter(idx),
                header: header.clone(),
                field,
            };
            match chosen.get(&field) {
                // Two columns equally good for a field (two overrides cannot be: a field is
                // mapped once): the import cannot choose.
                Some((r, prev))
                    if *r > 0
                        && rank > 0
                        && crate::columns::is_weak_header(&prev.header)
                            == crate::columns::is_weak_header(&col.header) =>
                {
                    let entry = ambiguous.get_or_insert_with(|| (field, vec![prev.label()]));
                    if entry.0 == field {
                        entry.1.push(col.label());
                    }
                }
                Some((r, prev)) if *r <= rank => notes.push(format!(
                    "column {} also looks like {field}; using column {} (use --map {field}=HEADER to choose)",
                    col.label(),
                    prev.label()
                )),
                Some((_, prev)) => {
                    notes.push(format!(
                        "column {} also looks like {field}; using column {} (use --map {field}=HEADER to choose)",
                        prev.label(),
                        col.label()
                    ));
                    chosen.insert(field, (rank, col));
                }
                None => {
                    chosen.insert(field, (rank, col));
                }
            }
        }
        let mut columns: Vec<Column> = chosen.into_values().map(|(_, c)| c).collect();
        columns.sort_by_key(|c| c.idx);
        let by_field = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.field, i))
            .collect();
        Candidate {
            layout: Layout { columns, by_field },
            notes,
            overridden,
            ambiguous,
        }
    }
}
