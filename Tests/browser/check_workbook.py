"""Opens the results workbook with openpyxl and checks it against the CSV of the same round and
the combined scores the ranking page showed."""
import csv
import json
import sys

import openpyxl

workbook_path, csv_path, shown_path = sys.argv[1], sys.argv[2], sys.argv[3]
with open(shown_path, encoding="utf-8") as file:
    shown = json.load(file)
assert shown, "the ranking page showed no combined score to check"
book = openpyxl.load_workbook(workbook_path)
expected = ["汇总", "各主体得分", "维度得分", "组织评价表", "意见"]
assert book.sheetnames == expected, book.sheetnames
summary = book["汇总"]
assert summary.freeze_panes == "A2", summary.freeze_panes
header = [cell.value for cell in summary[1]]
assert header[:5] == ["名次", "支部编码", "支部名称", "上级组织", "综合得分"], header
with open(csv_path, encoding="utf-8-sig", newline="") as file:
    rows = list(csv.reader(file))
assert rows[0] == header, (rows[0], header)
numeric = {}
for line, row in enumerate(rows[1:], start=2):
    cells = [cell.value for cell in summary[line]]
    assert cells[1] == row[1] and cells[2] == row[2], (cells, row)  # codes and Chinese names intact
    if row[4]:
        assert isinstance(cells[4], (int, float)), (cells[4], row[4])  # a number, not text
        assert abs(cells[4] - float(row[4])) < 1e-9, (cells[4], row[4])
        numeric[cells[1]] = cells[4]
    else:
        assert cells[4] in (None, ""), (cells[4], row)
assert numeric, "no branch of the round has a combined score: the number check would check nothing"
for code, text in shown.items():
    assert code in numeric, (code, numeric)
    assert f"{numeric[code]:.2f}" == text, (code, numeric[code], text)  # as the ranking page shows it
# Every sheet: a frozen header with filters, printed A4 landscape one page wide, the header on every page.
for sheet in book.worksheets:
    assert sheet.freeze_panes == "A2", (sheet.title, sheet.freeze_panes)
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), (sheet.title, sheet.auto_filter.ref)
    assert sheet.page_setup.orientation == "landscape", (sheet.title, sheet.page_setup.orientation)
    assert str(sheet.page_setup.paperSize) == "9", (sheet.title, sheet.page_setup.paperSize)
    assert sheet.page_setup.fitToWidth in (1, "1", None) and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
    assert sheet.print_title_rows in ("1:1", "$1:$1"), (sheet.title, sheet.print_title_rows)
print(f"  ok: every sheet has a frozen header with filters and prints A4 landscape, one page wide, header repeated")
print(f"  ok: the workbook opens with sheets {', '.join(book.sheetnames)}; {len(rows) - 1} branch row(s) match the CSV")
print(f"  ok: combined scores are numbers and match the ranking page: "
      + ", ".join(f"{code} {numeric[code]:.2f}" for code in sorted(shown)))
