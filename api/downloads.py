"""File answers: a CSV the browser saves under a name."""

from __future__ import annotations

from litestar import Response


def csv_download(body: bytes, name: str) -> Response[bytes]:
    """`body` as `name`.csv, saved rather than shown."""
    return Response(
        body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
    )
