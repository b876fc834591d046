"""A small local server that answers OSRM's `/table/v1/{profile}/...` format.

Real OSRM cannot be built or fed map data here, so the client is tested
against this: a synthetic road grid of 6 × 6 junctions 0.01° apart near
Zhengzhou, with

- a river between columns 2 and 3 crossed by one bridge, on row 0 (the
  south edge), so that crossing anywhere else takes a long detour;
- column 0 one-way northbound, so that travel is not symmetric;
- one junction on an island with no roads at all (unreachable: `null`).

Requested coordinates snap to the nearest junction; durations and distances
are those of the fastest path (Dijkstra), as OSRM reports them. Answers
follow OSRM's documented JSON, including its error codes (`TooBig` above the
table-size limit, `InvalidQuery` for malformed requests).
"""

from __future__ import annotations

import heapq
import json
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from routing.geo import Point, haversine_m

ORIGIN = (113.60, 34.70)
STEP = 0.01  # degrees between junctions
SIZE = 6
SPEED_MS = 10.0  # 36 km/h on every street
RIVER_AFTER_COLUMN = 2  # the river runs between columns 2 and 3
BRIDGE_ROW = 0
ISLAND: Point = (113.70, 34.80)


def node_point(col: int, row: int) -> Point:
    return (round(ORIGIN[0] + STEP * col, 6), round(ORIGIN[1] + STEP * row, 6))


class RoadGrid:
    """Junctions, one-way and two-way streets, and all fastest paths between junctions."""

    def __init__(self) -> None:
        self.points: list[Point] = [node_point(c, r) for r in range(SIZE) for c in range(SIZE)]
        self.points.append(ISLAND)
        n = len(self.points)
        self.edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # (to, metres)

        def idx(c: int, r: int) -> int:
            return r * SIZE + c

        def street(a: int, b: int, two_way: bool = True) -> None:
            metres = haversine_m(self.points[a], self.points[b])
            self.edges[a].append((b, metres))
            if two_way:
                self.edges[b].append((a, metres))

        for r in range(SIZE):
            for c in range(SIZE - 1):
                if c == RIVER_AFTER_COLUMN and r != BRIDGE_ROW:
                    continue  # river, no bridge
                street(idx(c, r), idx(c + 1, r))
        for c in range(SIZE):
            for r in range(SIZE - 1):
                street(idx(c, r), idx(c, r + 1), two_way=c != 0)  # column 0 northbound only
        self.seconds, self.metres = self._all_pairs()

    def _all_pairs(self) -> tuple[list[list[float]], list[list[float]]]:
        n = len(self.points)
        seconds = [[math.inf] * n for _ in range(n)]
        metres = [[math.inf] * n for _ in range(n)]
        for source in range(n):
            seconds[source][source] = 0.0
            metres[source][source] = 0.0
            heap: list[tuple[float, float, int]] = [(0.0, 0.0, source)]
            done = [False] * n
            while heap:
                t, m, u = heapq.heappop(heap)
                if done[u]:
                    continue
                done[u] = True
                for v, length in self.edges[u]:
                    nt = t + length / SPEED_MS
                    if nt < seconds[source][v]:
                        seconds[source][v] = nt
                        metres[source][v] = m + length
                        heapq.heappush(heap, (nt, m + length, v))
        return seconds, metres

    def snap(self, p: Point) -> int:
        return min(range(len(self.points)), key=lambda k: haversine_m(p, self.points[k]))

    def expected(
        self, origins: Sequence[Point], destinations: Sequence[Point]
    ) -> tuple[list[list[float]], list[list[float]]]:
        """What an OSRM client should return: fastest-path seconds and metres, inf if none."""
        o = [self.snap(p) for p in origins]
        d = [self.snap(p) for p in destinations]
        return [[self.seconds[i][j] for j in d] for i in o], [[self.metres[i][j] for j in d] for i in o]


class FakeOsrm:
    """The running server: `url` to give the client, `requests` to count what it asked."""

    def __init__(self, grid: RoadGrid, max_table_size: int = 100) -> None:
        self.grid = grid
        self.max_table_size = max_table_size
        self.requests: list[str] = []
        # (HTTP status, OSRM code) to answer every request with, for error tests.
        self.fail_with: tuple[int, str] | None = None
        self.url = ""

    def answer(self, raw_path: str) -> tuple[int, dict[str, Any]]:
        self.requests.append(raw_path)
        if self.fail_with is not None:
            status, code = self.fail_with
            return status, {"code": code, "message": f"forced {code}"}
        parts = urlsplit(raw_path)
        segments = parts.path.split("/")
        # ['', 'table', 'v1', profile, coordinates]
        if len(segments) != 5 or segments[1] != "table" or segments[2] != "v1":
            return 400, {"code": "InvalidUrl", "message": f"URL string malformed: {parts.path}"}
        if segments[3] != "driving":
            return 400, {"code": "InvalidOptions", "message": f"unknown profile {segments[3]}"}
        try:
            coords = [
                (float(lon), float(lat))
                for lon, lat in (pair.split(",") for pair in unquote(segments[4]).split(";"))
            ]
            query = parse_qs(parts.query)
            sources = _indices(query.get("sources"), len(coords))
            destinations = _indices(query.get("destinations"), len(coords))
        except (ValueError, IndexError):
            return 400, {"code": "InvalidQuery", "message": "Query string malformed"}
        if len(coords) > self.max_table_size:
            return 400, {"code": "TooBig", "message": "Too many table coordinates"}
        annotations = query.get("annotations", ["duration"])[0].split(",")
        seconds, metres = self.grid.expected([coords[i] for i in sources], [coords[j] for j in destinations])
        body: dict[str, Any] = {
            "code": "Ok",
            "sources": [{"location": list(coords[i])} for i in sources],
            "destinations": [{"location": list(coords[j])} for j in destinations],
        }
        if "duration" in annotations:
            body["durations"] = [[None if math.isinf(x) else round(x, 1) for x in row] for row in seconds]
        if "distance" in annotations:
            body["distances"] = [[None if math.isinf(x) else round(x, 1) for x in row] for row in metres]
        return 200, body


def _indices(values: list[str] | None, n: int) -> list[int]:
    if not values or values[0] == "all":
        return list(range(n))
    out = [int(v) for v in values[0].split(";")]
    if any(not 0 <= k < n for k in out):
        raise IndexError("index out of range")
    return out


@contextmanager
def fake_osrm(max_table_size: int = 100) -> Iterator[FakeOsrm]:
    """Serve the road grid on 127.0.0.1 at a free port for the duration of the block."""
    fake = FakeOsrm(RoadGrid(), max_table_size)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
