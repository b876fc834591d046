"""Travel-time matrices behind one interface.

The solver asks a `TravelTimeProvider` for seconds (and metres) between
points; the default estimate is great-circle distance stretched by a detour
factor at an average speed. A road-network service (OSRM, Valhalla) plugs in
behind the same two methods.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from routing.geo import Point, haversine_matrix_m, haversine_pairs_m

FloatMatrix = NDArray[np.float64]

SECONDS_PER_DAY = 86_400


@runtime_checkable
class TravelTimeProvider(Protocol):
    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        """Travel seconds, shape (len(origins), len(destinations))."""
        ...

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        """Travel metres, shape (len(origins), len(destinations))."""
        ...


@dataclass(frozen=True)
class SpeedBand:
    """Between `start_hour` and `end_hour` (local, may wrap midnight) speed is × `factor`."""

    start_hour: float
    end_hour: float
    factor: float

    def covers(self, hour: float) -> bool:
        if self.start_hour <= self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour


# Urban rush hours; a factor below 1 means slower traffic.
RUSH_HOURS: tuple[SpeedBand, ...] = (
    SpeedBand(7.0, 9.5, 0.7),
    SpeedBand(16.5, 19.0, 0.7),
    SpeedBand(22.0, 5.0, 1.2),
)


@dataclass(frozen=True)
class SpeedProfile:
    bands: tuple[SpeedBand, ...] = ()

    def factor_at(self, second_of_day: float) -> float:
        hour = (second_of_day % SECONDS_PER_DAY) / 3600.0
        for band in self.bands:
            if band.covers(hour):
                return band.factor
        return 1.0


@dataclass
class HaversineTravelTime:
    """Great-circle distance × `detour_factor` at `speed_kmh`.

    `epoch_second_of_day` is the local time of day at second 0 of the plan
    horizon, so that departure times given in horizon seconds map onto the
    speed profile.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 40.0
    profile: SpeedProfile = field(default_factory=SpeedProfile)
    epoch_second_of_day: int = 0

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return haversine_matrix_m(_as_points(origins), _as_points(destinations)) * self.detour_factor

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        metres_per_second = self.speed_kmh / 3.6
        return self.distances(origins, destinations) / metres_per_second

    def pairs(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        """Travel seconds from each origin to the destination at the same index."""
        o, d = _as_points(origins), _as_points(destinations)
        metres = haversine_pairs_m(o, d) * self.detour_factor
        seconds: FloatMatrix = metres / (self.speed_kmh / 3.6)
        return seconds

    def matrix_at(
        self, origins: Sequence[Point], destinations: Sequence[Point], depart_s: float
    ) -> FloatMatrix:
        """Travel seconds when leaving at horizon second `depart_s`.

        The speed of the departure hour holds for the whole trip: field trips
        are short next to the width of a traffic band.
        """
        return self.matrix(origins, destinations) / self.factor_at(depart_s)

    def factor_at(self, depart_s: float) -> float:
        """The speed factor (below 1: slower) when leaving at horizon second `depart_s`."""
        return self.profile.factor_at(self.epoch_second_of_day + depart_s)

    def travel_seconds(self, origin: Point, destination: Point, depart_s: float) -> float:
        return float(self.matrix_at([origin], [destination], depart_s)[0, 0])


@dataclass
class EuclideanTravelTime:
    """Planar coordinates, one unit of distance per `1 / speed` seconds.

    Used for the Solomon-style benchmarks, whose coordinates are abstract.
    """

    speed: float = 1.0

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        o = _as_points(origins)
        d = _as_points(destinations)
        diff = o[:, None, :] - d[None, :, :]
        result: FloatMatrix = np.sqrt((diff * diff).sum(axis=2))
        return result

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return self.distances(origins, destinations) / self.speed

    def pairs(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        diff = _as_points(origins) - _as_points(destinations)
        result: FloatMatrix = np.sqrt((diff * diff).sum(axis=1)) / self.speed
        return result


class CachedTravelTime:
    """Keeps the last few matrices of another provider, keyed by the exact points.

    A plan asks for the same matrix several times (solve, explanations, ETAs);
    a road-network service should be asked once. Returned arrays are
    read-only because they are shared between callers.
    """

    def __init__(self, provider: TravelTimeProvider, maxsize: int = 8) -> None:
        self.provider = provider
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, tuple[Point, ...], tuple[Point, ...]], FloatMatrix] = (
            OrderedDict()
        )

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return self._get("seconds", origins, destinations)

    def factor_at(self, depart_s: float) -> float:
        return speed_factor(self.provider, depart_s)

    def pairs(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return pair_seconds(self.provider, origins, destinations)

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return self._get("metres", origins, destinations)

    def _get(self, kind: str, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        key = (kind, _point_key(origins), _point_key(destinations))
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return found
        self.misses += 1
        if kind == "seconds":
            value = self.provider.matrix(origins, destinations)
        else:
            value = self.provider.distances(origins, destinations)
        value = np.array(value, dtype=np.float64, copy=True)
        value.setflags(write=False)
        self._entries[key] = value
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return value


# Pairs per matrix call for a provider without `pairs`: its diagonal is used,
# so a block costs its square.
PAIR_BLOCK = 64


def pair_seconds(
    provider: TravelTimeProvider, origins: Sequence[Point], destinations: Sequence[Point]
) -> FloatMatrix:
    """Travel seconds from each origin to the destination at the same index, in
    one call where the provider has `pairs`, else in blocks of matrix calls
    (many legs at once cost a few calls instead of one per route)."""
    if len(origins) != len(destinations):
        raise ValueError("origins and destinations must pair up")
    pairs = getattr(provider, "pairs", None)
    if callable(pairs):
        return np.asarray(pairs(origins, destinations), dtype=np.float64)
    out = np.empty(len(origins), dtype=np.float64)
    for lo in range(0, len(origins), PAIR_BLOCK):
        hi = min(len(origins), lo + PAIR_BLOCK)
        out[lo:hi] = np.diagonal(provider.matrix(origins[lo:hi], destinations[lo:hi]))
    return out


def speed_factor(provider: TravelTimeProvider, depart_s: float) -> float:
    """The provider's time-of-day speed factor; 1 for providers without one."""
    factor_at = getattr(provider, "factor_at", None)
    return float(factor_at(depart_s)) if callable(factor_at) else 1.0


def has_speed_profile(provider: TravelTimeProvider) -> bool:
    """Whether speeds change over the day (sampled every quarter hour of one day)."""
    return any(speed_factor(provider, t) != 1.0 for t in range(0, SECONDS_PER_DAY, 900))


def _point_key(points: Sequence[Point]) -> tuple[Point, ...]:
    return tuple((float(p[0]), float(p[1])) for p in points)


def _as_points(points: Sequence[Point]) -> FloatMatrix:
    arr = np.asarray(points, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"expected a sequence of (lon, lat) pairs, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("points must be finite numbers")
    return arr


def format_clock(seconds: float) -> str:
    """Horizon seconds as HH:MM, with the day when past the first one (`day 2 08:15`)."""
    if not math.isfinite(seconds):
        return "never"
    total_minutes = math.floor(seconds / 60.0)
    day, minute_of_day = divmod(total_minutes, 24 * 60)
    hh, mm = divmod(minute_of_day, 60)
    clock = f"{hh:02d}:{mm:02d}"
    return clock if day == 0 else f"day {day + 1} {clock}"
