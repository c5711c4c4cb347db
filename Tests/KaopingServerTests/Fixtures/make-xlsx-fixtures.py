#!/usr/bin/env python3
"""Writes the small .xlsx workbooks the tests read, part by part, the way programs other than
libxlsxwriter write them: inline strings and no shared-strings part, booleans, cells and rows
without a reference (their place implied by their order), shared strings with phonetic runs
(<rPh>, as Excel on a Japanese system adds them) and rich-text runs, formula results, errors,
absolute relationship targets, and every element under a namespace prefix (<x:row>, as
libraries built on the Open XML SDK write them).

Run it from anywhere; it writes next to itself. The output is byte for byte the same on every
run (fixed timestamps), so the committed files can be checked against it.
"""

import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def content_types(sheets, shared):
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(len(sheets))
    )
    if shared:
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    return (
        XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + overrides + "</Types>"
    )


def write(name, sheets, shared=None, absolute_targets=False, prefix=None):
    """sheets: [(sheet name, sheetData XML)]; shared: the <si> elements, or None for no part.
    prefix: None for the default namespace; else the prefix of the workbook parts' elements
    (which sheets and shared must use too), with the relationships' own prefix "pr" and the
    relationship attribute's "rel"."""
    q = (lambda element: f"{prefix}:{element}") if prefix else (lambda element: element)
    rq = (lambda element: f"pr:{element}") if prefix else (lambda element: element)
    main = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    pkg = f'xmlns:pr="{PKG}"' if prefix else f'xmlns="{PKG}"'
    r = "rel" if prefix else "r"
    rels = "".join(
        f'<{rq("Relationship")} Id="rId{i + 1}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="{"/xl/" if absolute_targets else ""}worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    )
    if shared is not None:
        rels += (
            f'<{rq("Relationship")} Id="rId{len(sheets) + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
    workbook = (
        XML + f'<{q("workbook")} {main} xmlns:{r}="{REL}"><{q("sheets")}>'
        + "".join(f'<{q("sheet")} name="{n}" sheetId="{i + 1}" {r}:id="rId{i + 1}"/>' for i, (n, _) in enumerate(sheets))
        + f'</{q("sheets")}></{q("workbook")}>'
    )
    parts = [
        ("[Content_Types].xml", content_types(sheets, shared is not None)),
        (
            "_rels/.rels",
            XML + f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        ),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", XML + f'<{rq("Relationships")} {pkg}>{rels}</{rq("Relationships")}>'),
    ]
    for i, (_, data) in enumerate(sheets):
        parts.append(
            (
                f"xl/worksheets/sheet{i + 1}.xml",
                XML + f'<{q("worksheet")} {main}><{q("sheetData")}>{data}</{q("sheetData")}></{q("worksheet")}>',
            )
        )
    if shared is not None:
        parts.append(
            (
                "xl/sharedStrings.xml",
                XML + f'<{q("sst")} {main} count="{len(shared)}" uniqueCount="{len(shared)}">{"".join(shared)}</{q("sst")}>',
            )
        )
    with zipfile.ZipFile(os.path.join(HERE, name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in parts:
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))


def inline(text):
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


# Branches as Excel on a Japanese system saves them: every text a shared string, names with
# phonetic guides, one name in two rich-text runs, and a second sheet that is not read.
write(
    "branches-phonetic.xlsx",
    [
        (
            "支部名单",
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" t="s"><v>6</v></c><c r="D2" t="s"><v>7</v></c></row>'
            '<row r="3"><c r="A3" t="s"><v>8</v></c><c r="B3" t="s"><v>9</v></c><c r="C3" t="s"><v>6</v></c><c r="D3" s="1"/></row>',
        ),
        ("说明", '<row r="1"><c r="A1" t="s"><v>10</v></c></row>'),
    ],
    shared=[
        "<si><t>支部编码</t></si>",
        "<si><t>支部名称</t></si>",
        "<si><t>上级组织</t></si>",
        "<si><t>支部书记</t></si>",
        "<si><t>b01</t></si>",
        '<si><t>办公室党支部</t><rPh sb="0" eb="3"><t>バンコウシツ</t></rPh><phoneticPr fontId="1"/></si>',
        '<si><t>机关党委</t><rPh sb="0" eb="2"><t xml:space="preserve">キカン </t></rPh><rPh sb="2" eb="4"><t>トウイ</t></rPh>'
        '<phoneticPr fontId="1" type="Hiragana"/></si>',
        '<si><t>王芳</t><rPh sb="0" eb="1"><t>ワン</t></rPh><rPh sb="1" eb="2"><t>ファン</t></rPh><phoneticPr fontId="1"/></si>',
        "<si><t>b02</t></si>",
        '<si><r><t>财务处</t></r><r><rPr><b/><sz val="11"/></rPr><t>党支部</t></r><rPh sb="0" eb="3"><t>ザイムショ</t></rPh>'
        '<phoneticPr fontId="1"/></si>',
        "<si><t>此表不读</t></si>",
    ],
    absolute_targets=True,
)

# Members as a streaming writer saves them: inline strings, no shared-strings part, rows and
# cells without references, a blank row left out, a phone as a number and a boolean column.
write(
    "members-inline.xlsx",
    [
        (
            "党员名单",
            "<row>" + inline("工号") + inline("姓名") + inline("支部编码") + inline("手机") + inline("在职") + "</row>"
            "<row>" + inline("00123")
            + '<c t="inlineStr"><is><r><t>李</t></r><r><rPr><i/></rPr><t>华</t></r></is></c>'
            + inline("b01") + "<c><v>13800138000</v></c>" + '<c t="b"><v>1</v></c></row>'
            '<row r="4"><c r="A4" t="inlineStr"><is><t>00456</t></is></c>' + inline("张伟") + inline("b02")
            + '<c r="E4" t="b"><v>0</v></c></row>',
        )
    ],
)

# Every kind of cell the reader meets, for reading cell by cell.
write(
    "cells-as-written.xlsx",
    [
        (
            "Sheet1",
            '<row r="1"><c r="A1" t="inlineStr"><is><t>文本</t></is></c><c r="B1" t="b"><v>1</v></c><c r="C1" t="b"><v>0</v></c>'
            '<c r="D1"><v>0.30000000000000004</v></c><c r="E1" t="e"><v>#DIV/0!</v></c>'
            '<c r="F1" t="str"><f>CONCATENATE("合","计")</f><v>合计</v></c><c r="G1"><f>1+2</f><v>3</v></c></row>'
            # Cells without a reference after one with: each takes the next column.
            "<row>" + inline("甲") + '<c r="C2" t="s"><v>0</v></c>' + '<c t="s"><v>1</v></c>' + "<c><v>42</v></c></row>"
            # Only formatting: no text, so no row.
            '<row r="3"><c r="A3" s="2"/><c r="B3" t="inlineStr"><is><t></t></is></c></row>'
            '<row r="5"><c r="B5" t="inlineStr"><is><t xml:space="preserve"> 两端空格 </t></is></c>'
            '<c t="inlineStr"><is><r><t>东</t></r><r><t>京</t></r><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></is></c></row>'
            "<row><c><v>7</v></c></row>",
        )
    ],
    shared=[
        '<si><t>中文</t><rPh sb="0" eb="2"><t>チュウブン</t></rPh><phoneticPr fontId="1"/></si>',
        '<si><r><rPr><b/></rPr><t>粗</t></r><r><t xml:space="preserve">体 </t></r></si>',
    ],
)

# Branches as libraries built on the Open XML SDK save them: every element of the workbook, its
# sheets and shared strings under the prefix x, the relationships under their own, shared and
# inline strings with phonetic guides and rich-text runs, a cell without a reference and a row
# without a number.
write(
    "branches-prefixed.xlsx",
    [
        (
            "支部名单",
            '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c>'
            '<x:c r="C1" t="s"><x:v>2</x:v></x:c><x:c r="D1" t="s"><x:v>3</x:v></x:c></x:row>'
            '<x:row r="2"><x:c r="A2" t="s"><x:v>4</x:v></x:c><x:c r="B2" t="s"><x:v>5</x:v></x:c>'
            '<x:c r="C2" t="inlineStr"><x:is><x:t>机关党委</x:t><x:rPh sb="0" eb="2"><x:t>キカン</x:t></x:rPh></x:is></x:c>'
            '<x:c r="D2" t="s"><x:v>6</x:v></x:c></x:row>'
            '<x:row><x:c r="A3" t="inlineStr"><x:is><x:t>b02</x:t></x:is></x:c>'
            '<x:c t="inlineStr"><x:is><x:r><x:t>财务处</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>党支部</x:t></x:r></x:is></x:c>'
            '<x:c r="C3" t="s"><x:v>7</x:v></x:c><x:c r="D3" s="1"/></x:row>'
            '<x:row r="5"><x:c r="A5" t="s"><x:v>8</x:v></x:c><x:c r="B5" t="str"><x:f>"人事处"&amp;"党支部"</x:f><x:v>人事处党支部</x:v></x:c>'
            '<x:c r="C5" t="s"><x:v>7</x:v></x:c><x:c r="D5" t="inlineStr"><x:is><x:t xml:space="preserve">李 明</x:t></x:is></x:c></x:row>',
        ),
        ("说明", '<x:row r="1"><x:c r="A1" t="s"><x:v>9</x:v></x:c></x:row>'),
    ],
    shared=[
        "<x:si><x:t>支部编码</x:t></x:si>",
        "<x:si><x:t>支部名称</x:t></x:si>",
        "<x:si><x:t>上级组织</x:t></x:si>",
        "<x:si><x:t>支部书记</x:t></x:si>",
        "<x:si><x:t>b01</x:t></x:si>",
        '<x:si><x:t>办公室党支部</x:t><x:rPh sb="0" eb="3"><x:t>バンコウシツ</x:t></x:rPh><x:phoneticPr fontId="1"/></x:si>',
        '<x:si><x:r><x:t>王</x:t></x:r><x:r><x:rPr><x:i/></x:rPr><x:t>芳</x:t></x:r></x:si>',
        "<x:si><x:t>机关党委</x:t></x:si>",
        "<x:si><x:t>b03</x:t></x:si>",
        "<x:si><x:t>此表不读</x:t></x:si>",
    ],
    prefix="x",
)
