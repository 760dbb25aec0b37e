"""Hostile workbooks, built in memory: each is small on disk and would take the server down if parsed naively.

Used by the tests and by bench/hostile_uploads.py.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Roles" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def _package(
    sheet_xml: str, shared_strings: list[str] | None = None, big_string: tuple[str, int] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if big_string is not None:  # written in pieces: the bytes never sit in memory whole
            text, times = big_string
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>Job Title</t></si><si><t>'
                )
                piece = text.encode() * 65536
                for _ in range(times // 65536):
                    part.write(piece)
                part.write(b"</t></si></sst>")
        else:
            items = "".join(f"<si><t>{value}</t></si>" for value in shared_strings or [])
            archive.writestr(
                "xl/sharedStrings.xml",
                '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{items}</sst>",
            )
    return buffer.getvalue()


def _sheet(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{rows}</sheetData></worksheet>"
    )


def sparse_max_dimension() -> bytes:
    """Only A1 and XFD1048576, as Excel writes them (declared dimension A1:XFD1048576)."""
    book = Workbook()
    book.active["A1"] = "Job Title"
    book.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sparse_undeclared() -> bytes:
    """The same two far-apart cells with no dimension element (a hand-made file)."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Job Title</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    return _package(_sheet(rows), [])


def shared_strings_bomb(megabytes: int = 400) -> bytes:
    """A shared string of ``megabytes`` MB (about 1/1000 of it on disk): a 419-million-character title."""
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    return _package(_sheet(rows, "A1:A2"), big_string=("A" * 16, megabytes * 1024 * 1024 // 16))


def one_megabyte_cell() -> bytes:
    """A title cell of 1,048,576 characters (Excel's own limit is 32,767)."""
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c></row><row r="3"><c r="A3" t="s"><v>2</v></c></row>'
    )
    return _package(_sheet(rows, "A1:A3"), ["Job Title", "Nurse", "B" * (1024 * 1024)])


def nul_characters() -> bytes:
    """Titles with NUL characters (XML's _x0000_ escape), which Postgres refuses in text."""
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    return _package(_sheet(rows, "A1:A2"), ["Job Title", "Line_x0000_ Cook"])


HOSTILE = {
    "sparse max-dimension (A1 + XFD1048576)": sparse_max_dimension,
    "sparse, no declared dimension": sparse_undeclared,
    "shared-strings bomb (419-million-character title)": shared_strings_bomb,
    "1 MB cell": one_megabyte_cell,
}
