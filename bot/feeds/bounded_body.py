"""A response body decoded (gzip, deflate) under a hard cap on what it inflates to: a decompression bomb costs at most
the cap in memory."""

from __future__ import annotations

import zlib


class BodyTooLargeError(Exception):
    """The body (decoded, or as sent) is over the cap."""


class BoundedDecoder:
    """Decode a gzip/deflate body while refusing to produce more than `limit` bytes.

    HTTP clients' own decoders inflate each 64 KB network read in one go (about 64 MB for a zero-filled gzip chunk)
    and stack encodings (`gzip, gzip`) without bound. Asking zlib for at most the bytes still allowed keeps a
    decompression bomb at `limit` bytes of memory.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise ValueError(f"unsupported stacked Content-Encoding {content_encoding!r}")
        self._coding = codings[0] if codings else "identity"
        if self._coding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported Content-Encoding {self._coding!r}")
        self._limit = limit
        # Compressed data is never much larger than what it decodes to; capping it too bounds an endless junk tail.
        self._raw_limit = limit + limit // 100 + 64 * 1024
        self._produced = 0
        self._received = 0
        self._zlib: zlib._Decompress | None = None
        self._pending = b""  # the first byte of a member header split across reads
        self._finished = False

    def _take(self, data: bytes) -> bytes:
        self._produced += len(data)
        if self._produced > self._limit:
            raise BodyTooLargeError
        return data

    def _inflater_for(self, start: bytes) -> zlib._Decompress:
        if self._coding != "deflate":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
        # "deflate" means zlib-wrapped, but some servers send raw deflate; a valid zlib header tells them apart.
        zlib_wrapped = start[0] & 0x0F == 8 and (start[0] << 8 | start[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def decode(self, raw: bytes) -> bytes:
        self._received += len(raw)
        if self._coding == "identity":
            return self._take(raw)
        if self._received > self._raw_limit:
            raise BodyTooLargeError
        if self._finished:
            return b""
        out = []
        data, self._pending = self._pending + raw, b""
        while data:
            if self._zlib is None or self._zlib.eof:
                if len(data) < 2:
                    self._pending = data
                    break
                if self._zlib is not None and (self._coding == "deflate" or data[:2] != b"\x1f\x8b"):
                    # After the end only another gzip member may follow; anything else is junk, as browsers treat it.
                    self._finished = True
                    break
                self._zlib = self._inflater_for(data)
            out.append(self._take(self._zlib.decompress(data, self._limit - self._produced + 1)))
            data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        if self._zlib is None:
            if self._pending:
                raise zlib.error("the body is too short to be compressed data")
            return b""
        return self._take(self._zlib.flush())
