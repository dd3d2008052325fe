"""A strict ZIP reader for the tests: every local header must say what its central directory entry says.

Readers differ in which of the two they trust. Python's zipfile reads the
local header's lengths; ReplayWeb.page (wabac.js) takes sizes and the offset
from the central directory and, when an entry there has no extra field,
assumes its local header has none either. A ZIP both read the same way has
headers that agree field by field, ZIP64 fields with the sizes in both or in
neither (and only for sizes that need them), no data descriptors, members
that do not overlap, and data whose CRC-32 and length are what the headers
say.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LIMIT", "ZipMember", "check_zip"]

LIMIT = 0xFFFFFFFF
_LOCAL = struct.Struct("<4s2B4H3I2H")
_CENTRAL = struct.Struct("<4s4B4H3I5H2I")
_END = struct.Struct("<4s4H2IH")
_END64 = struct.Struct("<4sQ2H2I4Q")
_END64_LOCATOR = struct.Struct("<4sIQI")


@dataclass(frozen=True)
class ZipMember:
    name: str
    method: int
    size: int
    compressed: int
    offset: int
    zip64_sizes: bool


def _zip64_field(extra: bytes) -> bytes | None:
    """The data of the ZIP64 extended information field (id 1) in an extra block, if any."""
    found = None
    while extra:
        assert len(extra) >= 4, f"truncated extra field {extra!r}"
        kind, length = struct.unpack_from("<2H", extra)
        assert len(extra) >= 4 + length, f"extra field {kind} overruns its block"
        if kind == 1:
            assert found is None, "two ZIP64 fields"
            found = extra[4 : 4 + length]
        extra = extra[4 + length :]
    return found


def _end_records(data: bytes, limit: int) -> tuple[int, int, int]:
    """Entry count, central directory size and offset, from the end record (and the ZIP64 one it points to)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    assert at >= 0, "no end of central directory record"
    _, disk, cd_disk, on_disk, count, size, offset, comment = _END.unpack_from(data, at)
    assert at + _END.size + comment == len(data), "bytes after the end record"
    assert (disk, cd_disk, on_disk) == (0, 0, count), "a multi-disk archive"
    needs64 = count == 0xFFFF or size == LIMIT or offset == LIMIT
    locator = at - _END64_LOCATOR.size
    has64 = locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07"
    assert has64 == needs64, "a ZIP64 end record without saturated fields, or saturated fields without one"
    if has64:
        _, _, end64, disks = _END64_LOCATOR.unpack_from(data, locator)
        signature, record_size, _, needed, d64, cd64, on_disk64, count64, size64, offset64 = _END64.unpack_from(
            data, end64
        )
        assert signature == b"PK\x06\x06" and record_size == _END64.size - 12 and disks == 1 and needed >= 45
        assert (d64, cd64, on_disk64) == (0, 0, count64)
        for narrow, wide, full, due in (
            (count, count64, 0xFFFF, 0xFFFF),
            (size, size64, LIMIT, limit),
            (offset, offset64, LIMIT, limit),
        ):
            saturated = narrow == full and wide >= due
            assert narrow == wide or saturated, f"end record says {narrow}, the ZIP64 one {wide}"
        count, size, offset = count64, size64, offset64
        assert end64 == offset + size, "the ZIP64 end record does not follow the central directory"
    else:
        assert at == offset + size, "the end record does not follow the central directory"
    return count, size, offset


def check_zip(path: Path, limit: int = LIMIT) -> list[ZipMember]:
    """Read ``path`` strictly; its members, or an AssertionError saying where the headers disagree.

    ``limit`` is the size from which ZIP64 fields are due (lowered by tests that force them).
    """
    data = path.read_bytes()
    count, cd_size, cd_offset = _end_records(data, limit)
    members: list[ZipMember] = []
    at = cd_offset
    for _ in range(count):
        fields = _CENTRAL.unpack_from(data, at)
        (signature, _made, _system, needed, _, flags, method, time, date, crc, csize, usize) = fields[:12]
        name_len, extra_len, comment_len, disk, _internal, _external, offset = fields[12:]
        assert signature == b"PK\x01\x02", f"no central directory entry at {at}"
        name_bytes = data[at + _CENTRAL.size : at + _CENTRAL.size + name_len]
        name = name_bytes.decode("utf-8" if flags & 0x800 else "cp437")
        extra = data[at + _CENTRAL.size + name_len : at + _CENTRAL.size + name_len + extra_len]
        at += _CENTRAL.size + name_len + extra_len + comment_len
        assert disk == 0 and not flags & 0x8, f"{name}: a data descriptor or another disk"
        assert method in (0, 8), f"{name}: compression method {method}"

        wide = _zip64_field(extra) or b""
        values = list(struct.unpack(f"<{len(wide) // 8}Q", wide))
        assert len(wide) % 8 == 0
        zip64_sizes = usize == LIMIT or csize == LIMIT
        assert (usize == LIMIT) == (csize == LIMIT), f"{name}: only one size in ZIP64 fields"
        if zip64_sizes:
            usize, csize = values.pop(0), values.pop(0)
            assert usize >= limit or csize >= limit, f"{name}: ZIP64 sizes that fit in 32 bits"
        if offset == LIMIT:
            offset = values.pop(0)
            assert offset >= limit, f"{name}: a ZIP64 offset that fits in 32 bits"
        assert values == [], f"{name}: ZIP64 field values no header field points to"
        minimum = 45 if zip64_sizes or wide else 20 if method == 8 else 10
        assert needed >= minimum, f"{name}: version {needed} needed to extract, not {minimum}"

        local = _LOCAL.unpack_from(data, offset)
        l_sig, l_needed, _, l_flags, l_method, l_time, l_date, l_crc, l_csize, l_usize, l_name_len, l_extra_len = local
        assert l_sig == b"PK\x03\x04", f"{name}: no local header at {offset}"
        l_name = data[offset + _LOCAL.size : offset + _LOCAL.size + l_name_len]
        l_extra = data[offset + _LOCAL.size + l_name_len : offset + _LOCAL.size + l_name_len + l_extra_len]
        assert (l_needed, l_flags, l_method, l_time, l_date, l_crc, l_name) == (
            needed,
            flags,
            method,
            time,
            date,
            crc,
            name_bytes,
        ), f"{name}: the local header disagrees with the central directory"
        # wabac.js: an entry without extra data in the central directory has none in its local header
        assert extra_len or not l_extra_len, f"{name}: extra data in the local header only"
        l_wide = _zip64_field(l_extra)
        if zip64_sizes:
            assert (l_usize, l_csize) == (LIMIT, LIMIT) and l_wide is not None, f"{name}: ZIP64 sizes in one header"
            assert struct.unpack("<2Q", l_wide) == (usize, csize), f"{name}: ZIP64 sizes differ"
        else:
            assert l_wide is None, f"{name}: ZIP64 fields in the local header only"
            assert (l_usize, l_csize) == (usize, csize), f"{name}: sizes differ"

        start = offset + _LOCAL.size + l_name_len + l_extra_len
        stored = data[start : start + csize]
        assert len(stored) == csize, f"{name}: data runs past the end"
        content = zlib.decompress(stored, -zlib.MAX_WBITS) if method == 8 else stored
        assert len(content) == usize and zlib.crc32(content) == crc, f"{name}: data does not match its CRC or size"
        members.append(ZipMember(name, method, usize, csize, offset, zip64_sizes))
    assert at == cd_offset + cd_size, "the central directory's size is not the sum of its entries"
    ends = sorted(members, key=lambda m: m.offset)
    for before, after in zip(ends, ends[1:], strict=False):
        assert before.offset + before.compressed < after.offset, f"{before.name} overlaps {after.name}"
    if ends:
        assert ends[-1].offset + ends[-1].compressed <= cd_offset, "a member overlaps the central directory"
    return members
