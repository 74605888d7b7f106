"""The vectorised WGS84 distances against Karney's geodesic (geographiclib) and known lengths."""

from __future__ import annotations

import math

import numpy as np
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.laps.geodesy import from_local, geodesic_distance, step_lengths, to_local

WGS84 = Geodesic.WGS84


def test_one_degree_at_the_equator() -> None:
    # the textbook lengths of one degree on WGS84: 110,574.389 m of latitude, 111,319.491 m of longitude
    d = geodesic_distance(np.array([0.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert abs(d[0] - 110574.389) < 0.01
    assert abs(d[1] - 111319.491) < 0.01


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-180, 180),
    azimuth=st.floats(0, 360),
    length=st.floats(0.01, 5000.0),
)
def test_short_steps_match_karney_to_the_millimetre(lat: float, lon: float, azimuth: float, length: float) -> None:
    end = WGS84.Direct(lat, lon, azimuth, length)
    d = float(geodesic_distance(lat, lon, end["lat2"], end["lon2"]))
    assert abs(d - length) < 1e-3


@settings(max_examples=100, deadline=None)
@given(lat=st.floats(-70, 70), lon=st.floats(-180, 180), azimuth=st.floats(0, 360), length=st.floats(5000, 20000))
def test_long_spans_match_karney_within_a_centimetre(lat: float, lon: float, azimuth: float, length: float) -> None:
    end = WGS84.Direct(lat, lon, azimuth, length)
    d = float(geodesic_distance(lat, lon, end["lat2"], end["lon2"]))
    assert abs(d - length) < 1e-2


def test_a_path_across_the_antimeridian_is_short() -> None:
    d = step_lengths(np.array([10.0, 10.0]), np.array([179.9999, -179.9999]))
    expected = WGS84.Inverse(10.0, 179.9999, 10.0, -179.9999)["s12"]
    assert abs(d[0] - expected) < 1e-3


def test_a_driven_polyline_sums_like_karney() -> None:
    rng = np.random.default_rng(3)
    lat, lon = [43.8], [-87.99]
    az = 0.0
    for _ in range(2000):  # a wandering 25 Hz trace at ~200 km/h
        az += rng.normal(0, 3)
        g = WGS84.Direct(lat[-1], lon[-1], az, 2.2 + rng.random())
        lat.append(g["lat2"])
        lon.append(g["lon2"])
    la, lo = np.array(lat), np.array(lon)
    exact = sum(WGS84.Inverse(la[i], lo[i], la[i + 1], lo[i + 1])["s12"] for i in range(la.size - 1))
    assert abs(float(step_lengths(la, lo).sum()) - exact) < 1e-3


def test_nan_in_nan_out() -> None:
    d = step_lengths(np.array([45.0, math.nan, 45.0]), np.array([7.0, 7.0, 7.001]))
    assert np.isnan(d).all()


@given(east=st.floats(-3000, 3000), north=st.floats(-3000, 3000))
def test_local_plane_round_trip(east: float, north: float) -> None:
    lat, lon = from_local(east, north, 45.0, 7.0)
    e, n = to_local(np.array([lat]), np.array([lon]), 45.0, 7.0)
    assert abs(e[0] - east) < 1e-6 and abs(n[0] - north) < 1e-6


@given(east=st.floats(-50, 50), north=st.floats(-50, 50), lat0=st.floats(-70, 70))
def test_local_plane_is_exact_where_gates_use_it(east: float, north: float, lat0: float) -> None:
    # gate crossings are interpolated within tens of metres of the line: a millimetre there
    lat, lon = from_local(east, north, lat0, 7.0)
    g = WGS84.Inverse(lat0, 7.0, lat, lon)["s12"]
    assert abs(math.hypot(east, north) - g) < 1e-3
