import math

import numpy as np
import pytest

from routing import geo


def test_haversine_known_distance() -> None:
    # Paris - London, about 343.5 km on the mean sphere
    d = geo.haversine_m((2.3522, 48.8566), (-0.1276, 51.5072))
    assert d == pytest.approx(343_550, rel=2e-3)


def test_haversine_matrix_matches_scalar_and_is_symmetric() -> None:
    rng = np.random.default_rng(7)
    pts = rng.uniform([-180, -80], [180, 80], size=(50, 2))
    m = geo.haversine_matrix_m(pts, pts)
    assert m.shape == (50, 50)
    assert np.allclose(m, m.T, rtol=0, atol=1e-6)
    assert np.allclose(np.diag(m), 0.0, atol=1e-6)
    for i, j in [(0, 1), (3, 40), (10, 49)]:
        assert m[i, j] == pytest.approx(geo.haversine_m(tuple(pts[i]), tuple(pts[j])), rel=1e-9)


def test_haversine_matrix_keeps_precision_at_short_range() -> None:
    a = (116.3970, 39.9090)
    b = (116.3970, 39.9090 + 1e-5)  # about 1.11 m north
    m = geo.haversine_matrix_m([a], [b])
    assert m[0, 0] == pytest.approx(geo.haversine_m(a, b), rel=1e-6)
    assert m[0, 0] == pytest.approx(1.112, abs=0.01)


def test_gcj02_offset_in_beijing_and_roundtrip() -> None:
    wgs = (116.397, 39.909)  # Tiananmen
    gcj = geo.wgs84_to_gcj02(*wgs)
    offset = geo.haversine_m(wgs, gcj)
    assert 100 < offset < 700  # the datum shift is a few hundred metres
    back = geo.gcj02_to_wgs84(*gcj)
    assert geo.haversine_m(wgs, back) < 0.01


def test_bd09_roundtrip() -> None:
    wgs = (121.4737, 31.2304)  # Shanghai
    bd = geo.wgs84_to_bd09(*wgs)
    assert geo.haversine_m(wgs, bd) > 100
    # the published BD-09 inverse is approximate to well under a metre
    assert geo.haversine_m(geo.gcj02_to_bd09(*geo.bd09_to_gcj02(*bd)), bd) < 0.5
    assert geo.haversine_m(geo.bd09_to_wgs84(*bd), wgs) < 1.0


def test_outside_china_is_unchanged() -> None:
    p = (2.3522, 48.8566)
    assert geo.wgs84_to_gcj02(*p) == p
    assert geo.gcj02_to_wgs84(*p) == p


def test_published_gcj02_value() -> None:
    # widely published pair for the formula (WGS-84 -> GCJ-02)
    lon, lat = geo.wgs84_to_gcj02(116.404, 39.915)
    assert math.isclose(lon, 116.41024449916938, abs_tol=1e-6)
    assert math.isclose(lat, 39.91640428150164, abs_tol=1e-6)
