"""QR codes as PNG data: URIs (coopdesa.qr)."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from PIL import Image

from coopdesa import qr

URL = "https://coopdesa.example/verify/7KQM-4TZX-2PVA"


def _image(uri: str) -> Image.Image:
    head, _, data = uri.partition(",")
    assert head == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def _decoded(image: Image.Image, enlarge: int = 1) -> list[str]:
    image = image.convert("L")
    if enlarge > 1:
        image = image.resize((image.width * enlarge, image.height * enlarge), Image.NEAREST)
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(("scale", "border"), [(1, 2), (1, 4), (10, 4), (3, 0)])
def test_the_code_decodes_and_has_the_size_asked(scale, border):
    image = _image(qr.png_data_uri(URL, scale=scale, border=border))
    assert image.mode == "1"
    # This URL needs version 4 at level M: 33 modules a side.
    assert image.size == ((33 + 2 * border) * scale,) * 2
    assert _decoded(image, enlarge=8 // scale or 1) == [URL]


def test_the_border_is_white_and_the_finder_pattern_black():
    image = _image(qr.png_data_uri(URL, scale=1, border=2)).convert("L")
    pixels = image.load()
    side = image.width
    assert {pixels[x, y] for x in range(side) for y in (0, 1, side - 2, side - 1)} == {255}
    assert {pixels[x, y] for x in (0, 1, side - 2, side - 1) for y in range(side)} == {255}
    assert pixels[2, 2] == 0  # the top left corner of the finder pattern


def test_error_correction_is_level_m():
    (result,) = zxingcpp.read_barcodes(_image(qr.png_data_uri(URL, scale=8)).convert("L"))
    assert result.ec_level == "M"


def test_the_same_text_gives_the_same_bytes():
    assert qr.png_data_uri(URL) == qr.png_data_uri(URL)
    assert qr.png_data_uri(URL) != qr.png_data_uri(URL + "X")


@pytest.mark.parametrize("text", ["", "x" * 3000])
def test_text_that_cannot_be_encoded_is_refused(text):
    with pytest.raises(ValueError):
        qr.png_data_uri(text)
