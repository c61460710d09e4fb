"""The XLSX template an agency fills in: sheet 1 `personas_kodi` (one column personas_kods, formatted as text so
that Excel keeps leading zeros and hyphens), sheet 2 the instructions in Latvian and English."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.persons import xlsx

CODE_SHEET = "personas_kodi"
INSTRUCTIONS = [
    ("LV", "Personu statusa pārbaude izglītībā (IKMS)"),
    ("LV", "1. Lapā 'personas_kodi' kolonnā A zem virsraksta 'personas_kods' ierakstiet vai ielīmējiet personas kodus, "
           "pa vienam katrā rindā. Virsrakstu nemainiet."),
    ("LV", "2. Derīgi abi formāti: DDMMGG-CNNNK (ar dzimšanas datumu) un 32NNNN-NNNNN (kopš 2017. gada). "
           "Defisi un atstarpes var izlaist: 01020312345 ir tas pats, kas 010203-12345."),
    ("LV", "3. Kolonna ir teksta formātā: ielīmējot no citas tabulas, izmantojiet 'Ielīmēt tikai vērtības', lai "
           "nezustu sākuma nulles."),
    ("LV", "4. Citas kolonnas drīkst pievienot (tās netiek apstrādātas un netiek atgrieztas)."),
    ("LV", "5. Palaidiet: ikms person-check <fails>.xlsx --date GGGG-MM-DD --out <rezultats>.xlsx. Rezultātā katrai "
           "ievades rindai ir viena rinda tajā pašā secībā: statuss datumā (mācās, pabeidzis, mācības beigtas, "
           "nav atrasts, nederīgs kods), iestāde, programma, klase vai kurss, kopš kura datuma, pabeigtā "
           "programma, mācību beigu iemesls. Kolonnu skaidrojums ir rezultāta lapā 'Leģenda'."),
    ("LV", "6. Personas kodi netiek saglabāti: sistēma tos salīdzina tikai ar pseidonīmiem reģistra datos. "
           "Rezultāta failu glabājiet un dzēsiet saskaņā ar savas iestādes datu aizsardzības noteikumiem."),
    ("", ""),
    ("EN", "Bulk person status check in education (IKMS)"),
    ("EN", "1. On sheet 'personas_kodi', column A, below the header 'personas_kods', type or paste the personal codes, "
           "one per row. Do not change the header."),
    ("EN", "2. Both formats are valid: DDMMYY-CNNNK (with the birth date) and 32NNNN-NNNNN (since 2017). Hyphens "
           "and spaces may be left out: 01020312345 is the same as 010203-12345."),
    ("EN", "3. The column is formatted as text: when pasting from another sheet use 'Paste values only' so that "
           "leading zeros are kept."),
    ("EN", "4. Other columns may be added (they are neither processed nor returned)."),
    ("EN", "5. Run: ikms person-check <file>.xlsx --date YYYY-MM-DD --out <result>.xlsx. The result has one row per "
           "input row, in the same order: the status on the date (enrolled, completed, left, not found, invalid "
           "code), institution, programme, grade or course, since when, completed programme, reason for leaving. "
           "The columns are explained on the result's sheet 'Leģenda (Legend)'."),
    ("EN", "6. Personal codes are not stored: the system only compares them with the pseudonyms in the registry "
           "data. Keep and delete the result file according to your organisation's data-protection rules."),
]


def write_template(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError("the template is an .xlsx file")
    codes = pl.DataFrame({"personas_kods": []}, schema={"personas_kods": pl.Utf8})
    text = pl.DataFrame(INSTRUCTIONS, schema=["valoda", "instrukcija"], orient="row")
    return xlsx.write_xlsx(path, [
        xlsx.Sheet(CODE_SHEET, codes, widths={"personas_kods": 20}, text_columns=("personas_kods",)),
        xlsx.Sheet("Instrukcija (Instructions)", text, widths={"valoda": 8, "instrukcija": 120},
                   wrap_columns=("instrukcija",), freeze_header=False),
    ])
