"""Guessing what a file is: its format, its text encoding and its CSV delimiter.

Deterministic rules rather than statistics, because the candidates are few and known:
a byte-order mark decides; NUL bytes in a BOM-less head mean UTF-16; text that decodes as UTF-8
is UTF-8 (other encodings almost never do), and so is text whose non-ASCII characters are
mostly valid UTF-8 with a few stray bytes (a file edited by two tools: its rows holding the
stray bytes are rejected, naming them, see ``readers``); anything else is Windows-1252, or
Latin-1 for the five bytes Windows-1252 leaves undefined. The delimiter is the candidate
(comma, semicolon, tab, pipe) that splits the head into the most consistent, widest rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from itertools import islice
from pathlib import Path

from cscor_tools.errors import RejectedInputError

_STRAY = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")
#: how much of a file the encoding guess reads
ENCODING_SAMPLE = 1 << 20
#: how much decoded text the delimiter guess parses
DIALECT_SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
    ".zip": "bundle",
}
FORMATS = ("csv", "json", "jsonl", "parquet", "bundle")


def detect_format(path: Path) -> str:
    """csv, json, jsonl, parquet or bundle: by extension, then by the first bytes."""
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return "bundle"
        raise RejectedInputError("a folder, but not an export bundle (no manifest.json)",
                                 file=str(path))
    if not path.is_file():
        raise RejectedInputError("no such file", file=str(path))
    by_name = _EXTENSIONS.get(path.suffix.lower())
    if by_name == "bundle" and not zipfile.is_zipfile(path):
        raise RejectedInputError("not a valid .zip file", file=str(path))
    if by_name:
        return by_name
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "bundle"
    text = _decode_head(head).lstrip()
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "jsonl"
    return "csv"


def _decode_head(head: bytes) -> str:
    encoding = detect_encoding(head, complete=False)
    return head.decode(encoding, errors="replace")


def detect_encoding(head: bytes, *, complete: bool) -> str:
    """The Python codec to read a file whose first bytes are ``head``.

    ``complete`` says ``head`` is the whole file (otherwise a multi-byte character cut at the
    end of the sample is not held against UTF-8).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads the BOM, picks the byte order and drops it
    probe = head[:4096]
    if b"\x00" in probe:
        even, odd = probe[0::2].count(0), probe[1::2].count(0)
        if odd > len(probe) // 4 and even < odd // 8:
            return "utf-16-le"
        if even > len(probe) // 4 and odd < even // 8:
            return "utf-16-be"
        raise RejectedInputError("looks like a binary file, not text")
    # a character cut at the end of a sample is not held against UTF-8 (final=False)
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=complete)
    stray = len(_STRAY.findall(text))
    if not stray:
        return "utf-8"
    # In Windows-1252 text an accented letter is one byte, which UTF-8 never accepts before
    # an ASCII character: such a file has (almost) no valid multi-byte sequence. A UTF-8 file
    # with a stray byte has many. The evidence decides, not the first bad byte.
    if len(_MULTIBYTE.findall(text)) >= 2 * stray:
        return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def looks_binary(text: str) -> bool:
    """Decoded text that is mostly control characters was never meant as text."""
    head = text[:4096]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\x0c")
    return controls > len(head) // 10


def detect_delimiter(sample: str, *, complete: bool) -> str:
    """The delimiter that gives the head of a CSV file its most consistent, widest shape."""
    if not complete:
        # the last record of a cut sample is likely partial: leave it out
        cut = sample.rfind("\n")
        sample = sample[:cut] if cut > 0 else sample
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, strict=False)
        try:
            rows = [r for r in islice(reader, 200) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:]
        consistent = sum(1 for r in body if len(r) == width) / len(body) if body else 1.0
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def excel_separator_line(first_line: str) -> str | None:
    """Excel's ``sep=;`` first line names the delimiter; returns it, or None."""
    line = first_line.strip().strip('"')
    if line.lower().startswith("sep=") and len(line) == 5:
        return line[4]
    return None
