"""Small spreadsheets for the page tests, built in memory."""

from __future__ import annotations

import io

from openpyxl import Workbook

ROLES_CSV = (
    "Employee ID,Job Title,Job Family,Department,Education\n"
    "1,Staff Accountant,Finance,Accounting,Bachelor's Degree\n"
    "2,staff accountant,Finance,Accounting,\n"
    "3,Software Engineer,Technology,IT,Bachelor's Degree\n"
    "4,Line Cook,Hospitality,Kitchen,\n"
    "5,Registered Nurse,Clinical,Ward 3,\n"
    "6,Truck Driver,Logistics,Fleet,High School Diploma\n"
    "7,Chief Executive Officer,Executive,Board,\n"
    "8,Call Center Agent,Service,Contact Centre,\n"
    "9,Senior Nurse - ICU,Clinical,Ward 7,\n"
    "10,Developer Accountant Lead,Finance,Systems,\n"
    "11,Kitchen Driver,Hospitality,Kitchen,\n"
    "12,Chief Happiness Wizard,Executive,People,\n"
    "13,Xylophone Tuning Specialist,Arts,Music,\n"
)


def xlsx_bytes(sheets: dict[str, list[list[object]]], *, merge: str | None = None) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if merge:
            sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
