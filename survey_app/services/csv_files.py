"""Reading CSV files that people make in spreadsheets, with every problem named by its row and column.

Used for invitation lists, recorded figures and responses collected in
another survey tool. A file with any problem is refused whole, so nothing is
ever half-imported; the problems are listed in the spreadsheet's own terms
(row 1 is the header, columns are lettered) so they can be found and fixed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

MAX_PROBLEMS_SHOWN = 50
SAVE_AS_CSV = "In Excel, use “Save as” and choose “CSV UTF-8 (Comma delimited)”."


class CsvFileRefused(Exception):
    """The file cannot be imported. ``problems`` are the first few, ``total`` how many there are."""

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = problems[:MAX_PROBLEMS_SHOWN]
        self.total = total if total is not None else len(problems)
        super().__init__(f"{self.total} problem(s)")

    @property
    def not_shown(self) -> int:
        return self.total - len(self.problems)


def decode(data: bytes, empty: str, limit: int | None = None) -> str:
    """The text of a CSV file, or ``CsvFileRefused`` when it is empty, too big, or not UTF-8 text."""
    if limit is not None and len(data) > limit:
        raise CsvFileRefused([f"The file must be smaller than {limit // 1024:,} KB. Split it into smaller files."])
    if not data.strip():
        raise CsvFileRefused([empty])
    if b"\x00" in data:
        raise CsvFileRefused([f"The file is not a CSV file. {SAVE_AS_CSV}"])
    try:
        return data.decode("utf-8-sig")  # Excel starts UTF-8 CSV files with a byte order mark
    except UnicodeDecodeError:
        raise CsvFileRefused([f"The file is not saved as UTF-8 text. {SAVE_AS_CSV}"]) from None


def records(text: str) -> Iterable[tuple[int, list[str]]]:
    """Each record with its row number as a spreadsheet shows it (the header is row 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007 - number is reported on an error
            yield number, cells
    except csv.Error:
        raise CsvFileRefused(
            [f"Row {number + 1}: this row cannot be read as CSV. Check for a quotation mark that is not closed."]
        ) from None


def column_letter(position: int) -> str:
    """A spreadsheet's column letter: 0 is A, 26 is AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def unnamed_cells(number: int, cells: list[str], columns: list[str], named: str) -> list[str]:
    """A problem for each value in a column with no heading."""
    return [
        f"Row {number}, column {column_letter(position)}: this column has no heading. Remove the value, "
        f"or name the column {named}."
        for position, cell in enumerate(cells)
        if cell.strip() and (position >= len(columns) or not columns[position])
    ]
