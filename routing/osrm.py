"""Road-network travel times from an OSRM server's table service.

`OsrmTravelTime` implements the `TravelTimeProvider` interface against
OSRM's documented HTTP API::

    GET {base}/table/v1/{profile}/{lon,lat;lon,lat;...}
        ?sources=i;j;...&destinations=k;l;...&annotations=duration,distance

which answers ``{"code": "Ok", "durations": [[...]], "distances": [[...]]}``
in seconds and metres, ``null`` where no route exists. A server accepts a
limited number of coordinates per request (``--max-table-size``, 100 by
default), so a big matrix is asked for in blocks of sources × destinations
and stitched together.

OSRM gives free-flow times; the time-of-day speed factors of
`routing.travel.SpeedProfile` are applied here, in `matrix_at`, exactly as
`HaversineTravelTime` applies them.

The client is synchronous (the solver runs in a worker process) and
picklable: the HTTP connection pool and the last answer are dropped when the
provider is sent to another process, and reopened there on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from routing.geo import Point
from routing.travel import FloatMatrix, SpeedProfile

# OSRM's default --max-table-size.
DEFAULT_MAX_POINTS = 100


class OsrmError(RuntimeError):
    """The OSRM server could not answer: transport failure, HTTP error or a non-"Ok" code.

    `code` is OSRM's code (``"InvalidQuery"``, ``"TooBig"``, ``"NoSegment"``…),
    ``"HttpError"`` or ``"TransportError"``; `status` the HTTP status, if any.
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"OSRM {code}: {message}" + (f" (HTTP {status})" if status is not None else ""))
        self.code = code
        self.message = message
        self.status = status


class OsrmTravelTime:
    """Travel seconds and metres from OSRM's table service, behind `TravelTimeProvider`."""

    def __init__(
        self,
        base_url: str,
        profile: str = "driving",
        timeout: float = 30.0,
        max_points_per_request: int = DEFAULT_MAX_POINTS,
        speed_profile: SpeedProfile | None = None,
        epoch_second_of_day: int = 0,
    ) -> None:
        if max_points_per_request < 2:
            raise ValueError("max_points_per_request must be at least 2 (one source, one destination)")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = timeout
        self.max_points_per_request = max_points_per_request
        self.speed_profile = speed_profile if speed_profile is not None else SpeedProfile()
        self.epoch_second_of_day = epoch_second_of_day
        self.requests_made = 0
        self._client: httpx.Client | None = None
        # The last answer: `matrix` and `distances` on the same points cost one round of requests.
        self._last: tuple[tuple[Point, ...], tuple[Point, ...], FloatMatrix, FloatMatrix] | None = None

    # -- TravelTimeProvider -------------------------------------------------

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        """Free-flow travel seconds; +inf where the network has no route."""
        return self._tables(origins, destinations)[0].copy()

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        """Metres along the fastest route; +inf where the network has no route."""
        return self._tables(origins, destinations)[1].copy()

    # -- time of day, as HaversineTravelTime --------------------------------

    def matrix_at(
        self, origins: Sequence[Point], destinations: Sequence[Point], depart_s: float
    ) -> FloatMatrix:
        """Travel seconds when leaving at horizon second `depart_s` (speed of the departure hour)."""
        return self.matrix(origins, destinations) / self.factor_at(depart_s)

    def factor_at(self, depart_s: float) -> float:
        return self.speed_profile.factor_at(self.epoch_second_of_day + depart_s)

    def travel_seconds(self, origin: Point, destination: Point, depart_s: float) -> float:
        return float(self.matrix_at([origin], [destination], depart_s)[0, 0])

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> OsrmTravelTime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        state["_last"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- requests -----------------------------------------------------------

    def _tables(
        self, origins: Sequence[Point], destinations: Sequence[Point]
    ) -> tuple[FloatMatrix, FloatMatrix]:
        o = _points(origins)
        d = _points(destinations)
        if self._last is not None and self._last[0] == o and self._last[1] == d:
            return self._last[2], self._last[3]
        seconds = np.full((len(o), len(d)), np.inf, dtype=np.float64)
        metres = np.full((len(o), len(d)), np.inf, dtype=np.float64)
        if o and d:
            for rows, cols in self._blocks(o, d):
                block_s, block_m = self._request([o[i] for i in rows], [d[j] for j in cols])
                seconds[np.ix_(rows, cols)] = block_s
                metres[np.ix_(rows, cols)] = block_m
        self._last = (o, d, seconds, metres)
        return seconds, metres

    def _blocks(self, o: tuple[Point, ...], d: tuple[Point, ...]) -> list[tuple[list[int], list[int]]]:
        """Index blocks (origin rows, destination columns), each fitting in one request."""
        limit = self.max_points_per_request
        if len(set(o) | set(d)) <= limit:
            return [(list(range(len(o))), list(range(len(d))))]
        if o == d:
            # A square matrix: a diagonal block shares its points between sources
            # and destinations, so blocks of `limit` points need no more requests
            # than a naive split in halves and cover the diagonal cheaply.
            half = max(1, limit // 2)
            chunks = _chunks(len(o), half)
            return [(r, c) for r in chunks for c in chunks]
        if len(o) < limit and len(o) <= len(d):
            # Few origins: send them all with as many destinations as fit.
            return [(list(range(len(o))), c) for c in _chunks(len(d), limit - len(o))]
        if len(d) < limit:
            return [(r, list(range(len(d)))) for r in _chunks(len(o), limit - len(d))]
        half = max(1, limit // 2)
        return [(r, c) for r in _chunks(len(o), half) for c in _chunks(len(d), limit - half)]

    def _request(self, sources: list[Point], destinations: list[Point]) -> tuple[FloatMatrix, FloatMatrix]:
        # Each distinct point is sent once; sources and destinations index into the list.
        coords = list(dict.fromkeys([*sources, *destinations]))
        index = {p: k for k, p in enumerate(coords)}
        path = ";".join(f"{_fmt(lon)},{_fmt(lat)}" for lon, lat in coords)
        query = (
            f"sources={';'.join(str(index[p]) for p in sources)}"
            f"&destinations={';'.join(str(index[p]) for p in destinations)}"
            "&annotations=duration,distance"
        )
        url = f"{self.base_url}/table/v1/{self.profile}/{path}?{query}"
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        self.requests_made += 1
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            raise OsrmError("TransportError", f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise OsrmError("HttpError", f"unexpected answer {response.text[:200]!r}", response.status_code)
        code = str(body.get("code", ""))
        if response.status_code != 200 or code != "Ok":
            message = str(body.get("message", "")) or response.reason_phrase
            raise OsrmError(code or "HttpError", message, response.status_code)
        shape = (len(sources), len(destinations))
        return _table(body, "durations", shape), _table(body, "distances", shape)


def _table(body: dict[str, Any], key: str, shape: tuple[int, int]) -> FloatMatrix:
    rows = body.get(key)
    if not isinstance(rows, list) or len(rows) != shape[0]:
        raise OsrmError("InvalidResponse", f"{key!r} missing or not {shape[0]} rows")
    out = np.empty(shape, dtype=np.float64)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != shape[1]:
            raise OsrmError("InvalidResponse", f"{key!r} row {i} is not {shape[1]} values")
        out[i] = [math.inf if v is None else float(v) for v in row]
    return out


def _points(points: Sequence[Point]) -> tuple[Point, ...]:
    out = tuple((float(p[0]), float(p[1])) for p in points)
    for lon, lat in out:
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"not a (lon, lat) point: {(lon, lat)}")
    return out


def _fmt(x: float) -> str:
    # Six decimals are about 0.1 m; OSRM snaps to the road network anyway.
    return f"{x:.6f}"


def _chunks(n: int, size: int) -> list[list[int]]:
    size = max(1, size)
    return [list(range(a, min(n, a + size))) for a in range(0, n, size)]
