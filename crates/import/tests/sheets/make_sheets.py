#!/usr/bin/env python3
"""Generates the issue-6 import fixtures next to this script (the files are committed, so the
tests need no Python):

    python3 crates/import/tests/sheets/make_sheets.py

The .xlsx files are written part by part with zipfile (no library), so that every detail the
import must handle is exactly as Excel writes it: number formats (General vs 000-00-0000),
hidden columns (<col hidden="1">) and hidden sheets, formula cells with and without a cached
value, an absurd used range (A1 and XFD1048576), damaged sheet XML. The bad-file cases (empty,
a PDF / HTML page / text renamed .xlsx, password-protected) are written as raw bytes.
Every TIN here is made up. Expected outcomes: crates/import/tests/issue6.rs and
tests/import_store.rs.
"""

import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def col_letter(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# Style ids: 0 General, 1 000-00-0000, 2 00-0000000, 3 000000000
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="000\\-00\\-0000"/><numFmt numFmtId="165" formatCode="00\\-0000000"/><numFmt numFmtId="166" formatCode="000000000"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>"""


def cell_xml(ref, v):
    """v: str (inline text), int (number), ("num", n, style), ("f", formula, cached or None)."""
    if isinstance(v, str):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{esc(v)}</t></is></c>'
    if isinstance(v, int):
        return f'<c r="{ref}"><v>{v}</v></c>'
    if v[0] == "num":
        return f'<c r="{ref}" s="{v[2]}"><v>{v[1]}</v></c>'
    if v[0] == "f":
        cached = v[2]
        if cached is None:
            return f'<c r="{ref}"><f>{esc(v[1])}</f></c>'
        if isinstance(cached, str):
            return f'<c r="{ref}" t="str"><f>{esc(v[1])}</f><v>{esc(cached)}</v></c>'
        return f'<c r="{ref}"><f>{esc(v[1])}</f><v>{cached}</v></c>'
    raise ValueError(v)


def sheet_xml(rows, hidden_cols=(), extra_cells=(), broken=False):
    cols = ""
    if hidden_cols:
        cols = "<cols>" + "".join(
            f'<col min="{c + 1}" max="{c + 1}" width="0" hidden="1" customWidth="1"/>' for c in hidden_cols
        ) + "</cols>"
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{col_letter(c)}{r}", v) for c, v in enumerate(row) if v != "")
        body.append(f'<row r="{r}">{cells}</row>')
    for ref, v in extra_cells:
        r = int("".join(ch for ch in ref if ch.isdigit()))
        body.append(f'<row r="{r}">{cell_xml(ref, v)}</row>')
    data = "".join(body)
    if broken:
        data = data[: len(data) // 2]  # cut in the middle of an element: not XML any more
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{cols}<sheetData>{data}</sheetData></worksheet>"
    )


def write_xlsx(name, sheets):
    """sheets: list of (title, xml, state) with state "visible" or "hidden"."""
    path = os.path.join(HERE, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        def w(n, s):
            info = zipfile.ZipInfo(n, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, s)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        w("[Content_Types].xml",
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          f"{overrides}</Types>")
        w("_rels/.rels",
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
          '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
          "</Relationships>")
        sheet_entries = "".join(
            f'<sheet name="{esc(t)}" sheetId="{i}" state="{st}" r:id="rId{i}"/>'
            for i, (t, _, st) in enumerate(sheets, start=1)
        )
        w("xl/workbook.xml",
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          f"<sheets>{sheet_entries}</sheets></workbook>")
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        n = len(sheets) + 1
        rels += f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        w("xl/_rels/workbook.xml.rels",
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
          f"{rels}</Relationships>")
        w("xl/styles.xml", STYLES)
        for i, (_, xml, _) in enumerate(sheets, start=1):
            w(f"xl/worksheets/sheet{i}.xml", xml)


def write_text(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_bytes(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


HEAD = ["user_token", "Legal Name", "TIN"]

# General vs 000-00-0000: the same 8-digit number; only the formatted cells are restored.
write_xlsx("number-formats.xlsx", [("W9", sheet_xml([
    HEAD,
    ["usr_fmt_general", "Ann General", 41234567],
    ["usr_fmt_ssn", "Ben Formatted", ("num", 41234567, 1)],
    ["usr_fmt_ein", "Cole Formatted LLC", ("num", 12345678, 2)],
    ["usr_fmt_plain9", "Dee Zeros", ("num", 41234567, 3)],
]), "visible")])

# A hidden column (C, an old TIN) left of the visible one (D); a hidden sheet with rows.
write_xlsx("hidden-column.xlsx", [
    ("W9", sheet_xml([
        ["user_token", "Legal Name", "TIN", "Tax ID"],
        ["usr_hidden_1", "Hana Hidden", "111-22-3333", "436-25-3783"],
    ], hidden_cols=[2]), "visible"),
    ("Old forms", sheet_xml([HEAD, ["usr_hidden_1", "Hana Hidden", "222-33-4444"]]), "hidden"),
])

# Formula TINs: without a cached value, with a cached number, with cached text.
write_xlsx("formula-tin.xlsx", [("W9", sheet_xml([
    HEAD,
    ["usr_formula_none", "Fay Nocache", ("f", "A1&\"\"", None)],
    ["usr_formula_num", "Gus Number", ("f", "436253783+0", 436253783)],
    ["usr_formula_text", "Hal Text", ("f", "\"436-25-3783\"", "436-25-3783")],
    ["usr_formula_ok", "Ida Plain", "436-25-3783"],
]), "visible")])

# Cells at A1 and XFD1048576: refused before the range is laid out.
write_xlsx("absurd-range.xlsx", [("W9", sheet_xml(
    [HEAD, ["usr_absurd", "Abe Surd", "436-25-3783"]],
    extra_cells=[("XFD1048576", "x")],
), "visible")])

# A valid zip whose sheet XML is cut in half.
write_xlsx("damaged.xlsx", [("W9", sheet_xml(
    [HEAD] + [[f"usr_dmg_{i}", f"Dee {i}", "436-25-3783"] for i in range(40)], broken=True), "visible")])

# A header row and nothing under it.
write_xlsx("header-only.xlsx", [("W9", sheet_xml([HEAD]), "visible")])
write_text("header-only.csv", "user_token,Legal Name,TIN\r\n")

# Not spreadsheets, under an .xlsx name.
write_bytes("empty.xlsx", b"")
write_bytes("pdf-renamed.xlsx", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
write_text("html-renamed.xlsx", "<!DOCTYPE html>\n<html><body><table><tr><td>user_token</td></tr></table></body></html>\n")
write_text("text-renamed.xlsx", "user_token,Legal Name,TIN\nusr_1,Ann,436-25-3783\n")
# What Excel writes for a password-protected workbook: an OLE compound file holding an
# "EncryptedPackage" stream (only the signature and the directory name matter here).
cfb = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
cfb += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1024
write_bytes("password.xlsx", bytes(cfb))

# No TIN type column: types come from how the TIN is written.
write_text("no-type-column.csv",
           "user_token,Legal Name,TIN\r\n"
           "usr_type_ssn,Sam Dash,436-25-3783\r\n"
           "usr_type_ein,Acme Dash Inc,84-0467837\r\n"
           "usr_type_itin,Ines Dash,912-71-1234\r\n"
           "usr_type_bare,Bo Bare,436253783\r\n")

# Separate SSN and EIN boxes (W-9 Part I).
write_text("ssn-ein-boxes.csv",
           "user_token,Legal Name,SSN,EIN\r\n"
           "usr_box_ssn,Sue Box,436253783,\r\n"
           "usr_box_ein,Box Co LLC,,840467837\r\n"
           "usr_box_both,Both Box,436253783,840467837\r\n")

# Three rows, one payee (token, token, email), three different TINs.
write_text("conflicting-tins.csv",
           "user_token,Email,Legal Name,TIN\r\n"
           "usr_conflict,conflict@example.test,Carl Conflict,436-25-3783\r\n"
           "usr_conflict,,Carl Conflict,436-25-3784\r\n"
           ",conflict@example.test,Carl Conflict,436-25-3785\r\n"
           "usr_other,,Olga Other,436-25-3786\r\n"
           "usr_other,,Olga Other,436-25-3786\r\n")

# Two visible columns equally good for the TIN.
write_text("two-tin-columns.csv", "user_token,Legal Name,TIN,Tax ID\r\nusr_two,Tom Two,436-25-3783,436-25-3784\r\n")

# W-9 rows, no recognisable TIN column.
write_text("no-tin-column.csv", "user_token,Legal Name,Taxpayer Code Thing\r\nusr_notin,Nia No,436-25-3783\r\n")

# A footer line, an exempt code with its words, a bad signature date on a good row.
write_text("smaller-points.csv",
           "user_token,Legal Name,TIN,Exempt payee code,Signature Date\r\n"
           "usr_small_1,Corp One Inc,84-0467837,5 - A corporation,2026-01-15\r\n"
           "usr_small_2,Dana Date,436-25-3783,,sometime in May\r\n"
           "usr_small_3,Eve Bad,436-25-378,,\r\n"
           ",,,,\r\n"
           "Total vendors: 12,,,,\r\n")

# A W-9 of an LLC taxed as an S corporation, with its business name (line 2).
write_text("llc-w9.csv",
           "user_token,Legal Name,Business name,Federal tax classification,TIN\r\n"
           "usr_llc,Grace Holloway,Acme Widgets LLC,LLC (S),84-0467837\r\n")

print("written:", ", ".join(sorted(f for f in os.listdir(HERE) if not f.endswith(".py"))))
