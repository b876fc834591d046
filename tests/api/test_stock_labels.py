"""Label sheets: the PDF holds a QR code per unit or bin that decodes back to the text the
engineer app scans (`FSD:UNIT:<serial>`, `FSD:ITEM:<sku>`), beside the printed serial or SKU."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from tests.support.api import assert_problem, auth_headers


@pytest.fixture(scope="module")
async def warehouse(client) -> dict[str, str]:
    return await auth_headers(client, "warehouse")


def read_back(pdf: bytes, folder: Path) -> tuple[str, list[str]]:
    """The PDF's text (pdftotext) and what each of its images decodes to as a QR code."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "labels.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    subprocess.run(["pdfimages", "-png", str(path), str(folder / "img")], check=True)
    codes: list[str] = []
    for png in sorted(folder.glob("img-*.png")):
        found = zxingcpp.read_barcodes(Image.open(png).convert("L"))
        codes.extend(code.text for code in found)
    return text, codes


async def _get(client, headers, path: str, **params: Any) -> Any:
    response = await client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response


async def test_a_unit_sheet_decodes_back_to_each_serial(client, warehouse, tmp_path):
    houses = (await _get(client, warehouse, "/api/locations", kind="warehouse")).json()["items"]
    units = None
    for house in houses:
        units = (await _get(client, warehouse, "/api/stock/units", location_id=house["id"], limit=500)).json()
        if units["items"]:
            break
    assert units
    assert units["items"]
    response = await _get(client, warehouse, "/api/stock/labels/units.pdf", location_id=house["id"])
    assert response.headers["content-type"] == "application/pdf"
    text, codes = read_back(response.content, tmp_path / "units")
    serials = sorted(u["serial"] for u in units["items"])
    assert codes == [f"FSD:UNIT:{s}" for s in serials]
    assert all(s in text for s in serials)
    assert house["name"] in text  # the location, in Chinese, as text


async def test_a_bin_sheet_names_sku_and_item(client, warehouse, tmp_path):
    items = (await _get(client, warehouse, "/api/stock/items", kind="part", limit=2)).json()["items"]
    response = await _get(client, warehouse, "/api/stock/labels/items.pdf", item_id=[i["id"] for i in items])
    text, codes = read_back(response.content, tmp_path / "items")
    assert codes == sorted(f"FSD:ITEM:{i['sku']}" for i in items)
    assert all(i["sku"] in text and i["name"] in text for i in items)
    nothing = await client.get("/api/stock/labels/items.pdf", headers=warehouse)
    assert_problem(nothing, 422, "invalid-input")
