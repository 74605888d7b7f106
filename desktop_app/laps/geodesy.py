"""Distances on the WGS84 ellipsoid, vectorised, for the short steps between GPS fixes.

Between two fixes a fraction of a second apart (metres to a few hundred metres), the
ellipsoid is locally a surface with two principal radii of curvature: the meridian radius
``M`` and the prime-vertical radius ``N`` (times cos(latitude) along a parallel). Taking
both at the mid-latitude of the step gives the geodesic length with a relative error
under 1e-8 up to 500 m (measured against Karney's algorithm between 80 S and 80 N:
micrometres, far below GPS noise). One pass over numpy arrays, no per-point Python: a
100 Hz hour of data costs milliseconds.

The rare longer spans (a dropout of minutes, a recording paused and resumed elsewhere) go
to Karney's geodesic itself (``geographiclib``), one by one.
"""

from __future__ import annotations

import numpy as np
from geographiclib.geodesic import Geodesic

from storage.types import FloatArray

#: WGS84 semi-major axis (m) and flattening
WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

#: longer steps (m) than this are measured with Karney's geodesic instead
_MAX_STEP_M = 500.0


def radii_of_curvature(lat_deg: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """Meridian radius ``M`` and prime-vertical radius ``N`` (m) at the given latitudes."""
    s = np.sin(np.radians(np.asarray(lat_deg, dtype=np.float64)))
    w2 = 1.0 - WGS84_E2 * s * s
    n = WGS84_A / np.sqrt(w2)
    m = WGS84_A * (1.0 - WGS84_E2) / (w2 * np.sqrt(w2))
    return np.asarray(m, np.float64), np.asarray(n, np.float64)


def _midlat_length(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    lat_m = 0.5 * (lat1 + lat2)
    m, n = radii_of_curvature(lat_m)
    dlat = np.radians(lat2 - lat1)
    # wrap the longitude difference to [-180, 180) so steps across the antimeridian are short
    dlon = np.radians((lon2 - lon1 + 180.0) % 360.0 - 180.0)
    north = m * dlat
    east = n * np.cos(np.radians(lat_m)) * dlon
    return np.asarray(np.hypot(north, east), np.float64)


def geodesic_distance(
    lat1: FloatArray | float, lon1: FloatArray | float, lat2: FloatArray | float, lon2: FloatArray | float
) -> FloatArray:
    """Element-wise geodesic length (m) on WGS84 between point 1 and point 2 (degrees).

    Within micrometres of Karney's geodesic for any span; NaN in, NaN out.
    """
    a1, o1, a2, o2 = np.broadcast_arrays(
        np.asarray(lat1, np.float64),
        np.asarray(lon1, np.float64),
        np.asarray(lat2, np.float64),
        np.asarray(lon2, np.float64),
    )
    out = _midlat_length(a1, o1, a2, o2)
    with np.errstate(invalid="ignore"):
        long_steps = np.argwhere(out > _MAX_STEP_M)
    for idx in map(tuple, long_steps):
        out[idx] = Geodesic.WGS84.Inverse(float(a1[idx]), float(o1[idx]), float(a2[idx]), float(o2[idx]))["s12"]
    return out


def step_lengths(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Lengths (m) of the steps between consecutive points; ``len(lat) - 1`` values."""
    if lat.shape[0] < 2:
        return np.zeros(0, np.float64)
    return geodesic_distance(lat[:-1], lon[:-1], lat[1:], lon[1:])


def to_local(lat: FloatArray, lon: FloatArray, lat0: float, lon0: float) -> tuple[FloatArray, FloatArray]:
    """East and north offsets (m) from (lat0, lon0), on the ellipsoid's tangent plane there.

    An equirectangular chart: its error grows as d^2 tan(lat) / R, a tenth of a millimetre
    at 25 m (where gate crossings are interpolated) and centimetres at a kilometre (good
    enough to find where the car keeps coming back).
    """
    m, n = radii_of_curvature(lat0)
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    east = n * np.cos(np.radians(lat0)) * np.radians(dlon)
    north = m * np.radians(lat - lat0)
    return np.asarray(east, np.float64), np.asarray(north, np.float64)


def from_local(east: float, north: float, lat0: float, lon0: float) -> tuple[float, float]:
    """The inverse of :func:`to_local` for one point: (lat, lon) in degrees."""
    m, n = radii_of_curvature(lat0)
    lat = lat0 + float(np.degrees(north / m))
    lon = lon0 + float(np.degrees(east / (n * np.cos(np.radians(lat0)))))
    return lat, lon
