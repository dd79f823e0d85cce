"""Every reason code the processor writes (report.json "reason_code", results and logs), with its meaning.

One table, so the README's reason-code table can be checked against it (tests/lambdas) and an unlisted code
cannot be raised (processing.WholeObjectRejected refuses one). Rows refused one by one carry a reason text in
the rejected file, not a code.
"""

from __future__ import annotations

REASON_CODES: dict[str, str] = {
    # Decided from the key and HeadObject, before a byte is read.
    "bad_key": "the key is not incoming/<dataset>/<file>",
    "unknown_dataset": "the <dataset> folder names no dataset of datasets.toml",
    "too_large": "the object is over its dataset's max_object_mib",
    # Decided while reading.
    "empty": "the object has no bytes, or no header",
    "not_gzip": "the name ends in .gz but the content is not gzip",
    "corrupt_gzip": "the gzip stream is corrupt or truncated",
    "not_utf8": "the text is not valid UTF-8",
    "not_csv": "binary data (NUL bytes), or CSV broken for the rest of the file (e.g. an unterminated quote)",
    "bad_header": "the header is not the dataset's columns in order, or a header field is over max_row_kib",
    # Report only: nothing is read or copied.
    "missing": "the object no longer exists (deleted before it was processed)",
    "outside_incoming": "the key is not under incoming/, which the processor may not read",
}


def check_code(code: str) -> str:
    """`code` itself when it is one of REASON_CODES; ValueError otherwise (a new code needs a README line)."""
    if code not in REASON_CODES:
        raise ValueError(f"reason code {code!r} is not in data_processor.reasons.REASON_CODES")
    return code
