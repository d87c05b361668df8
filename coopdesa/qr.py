"""QR codes as PNG ``data:`` URIs: the verification code on final documents and the code on
a village's poster.

zxing-cpp encodes (C++; it scores the eight masks as ISO/IEC 18004 prescribes and keeps the
best) and Pillow writes the PNG: about 0.3 ms per code, where segno, in pure Python, took
4.3 ms, most of it scoring masks. The export renders the HTML of every agreement that was
never rendered, so that was a third of the exporting process's CPU (docs/performance.md).
"""

from __future__ import annotations

import base64
import io

#: Error correction: M restores about 15 % of the code (a fold, a stain, a stamp).
ERROR_CORRECTION = "M"


def png_data_uri(text: str, *, scale: int = 1, border: int = 4) -> str:
    """The QR code of ``text`` as a black-and-white PNG, ``scale`` pixels per module, with
    ``border`` white modules around it."""
    import zxingcpp
    from PIL import Image

    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode,
                                      ec_level=ERROR_CORRECTION)
    symbol = barcode.to_image(scale=scale, add_quiet_zones=False)
    height, width = symbol.shape
    image = Image.new("1", (width + 2 * border * scale, height + 2 * border * scale), 1)
    image.paste(Image.frombytes("L", (width, height), bytes(memoryview(symbol)))
                .point(lambda v: 255 if v >= 128 else 0, "1"),
                (border * scale, border * scale))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
