"""QR codes for posters and letters, made in the app (no third-party service sees the link)."""

from __future__ import annotations

import io

import segno

# Medium error correction survives a crease or a smudge on a printed poster;
# a white quiet zone of four modules is what scanners expect.
ERROR_CORRECTION = "m"
MODULE_SIZE = 8
BORDER = 4


def svg(link: str) -> bytes:
    """A black-on-white SVG of the QR code for ``link``."""
    code = segno.make(link, error=ERROR_CORRECTION)
    output = io.BytesIO()
    code.save(
        output, kind="svg", scale=MODULE_SIZE, border=BORDER, dark="#000", light="#fff", svgclass=None, lineclass=None
    )
    return output.getvalue()
