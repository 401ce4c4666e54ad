"""Reading users' files as text: one decoder for the library and the CLI."""
from __future__ import annotations

import codecs


def decode_utf8(data: bytes, where: str) -> str:
    """`data` decoded as UTF-8 (a leading byte-order mark dropped); ValueError naming
    `where`, the byte offset and the line of the first byte that is not UTF-8."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise ValueError(f"{where} is not UTF-8 text: byte 0x{data[offset]:02x} at offset "
                         f"{offset} (line {line}) cannot be decoded ({exc.reason}); save the "
                         "file as UTF-8") from None
