"""Detect how a CSV export is written: encoding, separator, decimal comma, thousands, date format.

Real exports come from 1C and Excel: cp1251, `;` separators, `1 234,5` numbers, dd.mm.yyyy dates.
Detection reads a sample only; every guess can be overridden in config.toml.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.settings import WHITESPACE

SAMPLE_BYTES = 256 * 1024
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                "%Y/%m/%d", "%m/%d/%Y", "%Y%m%d%H", "%Y%m%d", "%d.%m.%y", "%Y-%m-%dT%H:%M:%S")
_DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(?:[ \u00a0]\d{3})*,\d+$|^-?\d+,\d+$")
_THOUSANDS_SPACE = re.compile(r"^-?\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,]\d+)?$")


@dataclass(frozen=True)
class Dialect:
    encoding: str
    sep: str
    decimal: str
    thousands: str | None


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig or utf-16 when a BOM says so, utf-8 when the sample decodes, else cp1251; "binary"
    when the sample holds NUL bytes, which no text export has."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in sample:
        # UTF-16 without a BOM: text whose every other byte is NUL (Latin and digits), on the odd bytes for
        # little-endian and on the even ones for big-endian. Anything else with NUL bytes is not text.
        even, odd = sample[0::2], sample[1::2]
        for encoding, zeros, text in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            if zeros.count(0) >= 0.3 * len(zeros) and text.count(0) <= 0.01 * len(text):
                try:
                    sample[:len(sample) // 2 * 2].decode(encoding)
                    return encoding
                except UnicodeDecodeError:
                    pass
        return "binary"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is not evidence against utf-8.
        if exc.start >= len(sample) - 3:
            return "utf-8"
        return "cp1251"


def detect_dialect(path: Path, encoding: str | None = None, sep: str | None = None,
                   decimal: str | None = None, thousands: str | None = None) -> Dialect:
    """Guess the dialect from the file's first bytes; explicit arguments win."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    enc = encoding or detect_encoding(sample)
    if enc == "binary":
        return Dialect(encoding=enc, sep=sep or ",", decimal=decimal or ".", thousands=thousands)
    text = sample.decode(enc, errors="ignore")
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut
    if sep is None:
        sep = _guess_sep(lines)
    if decimal is None or thousands is None:
        rows = ([line.split() for line in lines[1:]] if sep == WHITESPACE else
                csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=sep))
        cells = [c.strip() for row in rows for c in row]
        if decimal is None:
            decimal = "," if sep != "," and any(_DECIMAL_COMMA.match(c) for c in cells) else "."
        if thousands is None:
            thousands = " " if sep != WHITESPACE and any(_THOUSANDS_SPACE.match(c) for c in cells) else None
    return Dialect(encoding=enc, sep=sep, decimal=decimal, thousands=thousands)


def _guess_sep(lines: list[str]) -> str:
    """The candidate that splits every line into the same number (> 1) of fields, the most fields winning.

    Runs of whitespace (columns aligned with spaces, as POS and mainframe exports write them) are the last
    candidate: they win only by splitting into more fields than any real delimiter, so a comma file whose
    values hold spaces stays a comma file.
    """
    best, best_fields = ",", 1
    for cand in (",", ";", "\t", "|"):
        counts = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=cand)}
        if len(counts) == 1:
            fields = counts.pop()
            if fields > best_fields:
                best, best_fields = cand, fields
    counts = {len(line.split()) for line in lines}
    if len(counts) == 1 and counts.pop() > best_fields:
        return WHITESPACE
    return best


def aligned_to_tsv(path: Path, encoding: str, workdir: Path) -> Path:
    """A whitespace-aligned text file as a tab-separated UTF-8 copy, line for line (so error rows keep their
    numbers; CRLF and surrounding spaces are dropped), for any engine's CSV reader."""
    target = workdir / (path.stem + ".tsv")
    with open(path, encoding=encoding, newline=None) as src, open(target, "w", encoding="utf-8", newline="\n") as dst:
        for line in src:
            dst.write("\t".join(line.split()) + "\n")
    return target


def detect_date_format(values: list[str], min_share: float = 0.9) -> str | None:
    """The known format that parses the most sample values (at least `min_share` of them; the first
    listed wins a tie). A few broken values must not hide the format: the check that follows names
    the first of them with its row."""
    sample = [v.strip() for v in values if v and v.strip()][:500]
    if not sample:
        return None
    best, best_count = None, 0
    for fmt in DATE_FORMATS:
        count = 0
        for v in sample:
            try:
                datetime.strptime(v, fmt)
                count += 1
            except ValueError:
                continue
        if count > best_count:
            best, best_count = fmt, count
    return best if best_count >= min_share * len(sample) else None
