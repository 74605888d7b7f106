"""Selected laps to CSV: every sample, units in the header, empty fields for no sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pytest
from reallaps import aim_session

from desktop_app.analysis.export import write_laps_csv


def test_every_sample_of_the_selected_laps_with_units(tmp_path: Path) -> None:
    real = aim_session()
    laps = [real.laps[3], real.laps[12]]
    out = write_laps_csv(tmp_path / "laps.csv", laps, real.units)
    table = pa_csv.read_csv(out)
    assert table.num_rows == len(laps[0]) + len(laps[1])
    names = table.column_names
    assert names[:3] == ["lap", "time [s]", "distance [m]"]
    assert "speed [km/h]" in names and "rpm [rpm]" in names
    assert set(table.column("lap").to_pylist()) == {laps[0].lap_number, laps[1].lap_number}
    # real values, NaN written as an empty field (read back as null)
    rpm = table.column("rpm [rpm]").to_numpy(zero_copy_only=False)
    want = np.concatenate([lap.channels["rpm"] for lap in laps])
    np.testing.assert_array_equal(np.isnan(rpm.astype(float)), np.isnan(want))
    np.testing.assert_allclose(rpm[~np.isnan(want)].astype(float), want[~np.isnan(want)])
    t = table.column("time [s]").to_numpy()
    assert t[0] == pytest.approx(float(laps[0].channels["time"][0]))
    assert [p.name for p in tmp_path.iterdir()] == ["laps.csv"], "no temporary file left"


def test_a_failed_export_leaves_nothing(tmp_path: Path) -> None:
    real = aim_session()
    target = tmp_path / "is_a_dir"
    target.mkdir()
    with pytest.raises(OSError):
        write_laps_csv(target, [real.laps[3]], real.units)
    assert [p.name for p in tmp_path.iterdir()] == ["is_a_dir"] and not any(target.iterdir())
