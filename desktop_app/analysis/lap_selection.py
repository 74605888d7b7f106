"""Which laps the preview wants, before their telemetry is read, without Qt.

The lap table's selection, the session's best valid lap as the delta's reference, and laps
of other saved sessions (one of which may be the reference instead). :meth:`LapSelection.resolve`
turns the telemetry read so far into the arguments of
:meth:`desktop_app.analysis.preview_state.PreviewState.show`. See
docs/architecture.md#the-preview-state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from desktop_app.analysis.preview_state import Labels
from storage.types import LapTelemetry


@dataclass(frozen=True)
class ComparedLap:
    """A lap of another saved session in the overlay, with its session's text tables."""

    lap: LapTelemetry
    name: str
    labels: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Shown:
    """What :meth:`LapSelection.resolve` hands :meth:`PreviewState.show`."""

    laps: list[LapTelemetry]
    reference: LapTelemetry | None
    names: dict[int, str]
    lap_labels: dict[int, Labels]
    own: list[int]  #: the numbers of this session's laps among ``laps``


class LapSelection:
    """Which laps the preview wants: the laps selected in this session's table, its best
    valid lap as the reference (None when no lap is valid: no delta), and laps of other
    sessions, one of which may be the reference instead."""

    def __init__(self) -> None:
        self.selected: list[int] = []
        self.best: int | None = None
        self.compared: list[ComparedLap] = []
        self.compared_reference: ComparedLap | None = None

    def reset(self) -> None:
        """Another session: nothing selected, nothing compared."""
        self.selected, self.best, self.compared, self.compared_reference = [], None, [], None

    def select(self, numbers: Sequence[int], best: int | None) -> None:
        """The table's selection, and its best valid lap now (validity can move it)."""
        self.selected, self.best = list(numbers), best

    def compare(self, lap: ComparedLap, *, as_reference: bool = False) -> None:
        """Add a lap of another session (replacing one of the same name), or make it the
        reference of the delta."""
        if as_reference:
            self.compared_reference = lap
        else:
            self.compared = [*(c for c in self.compared if c.name != lap.name), lap]

    def clear_compared(self) -> None:
        self.compared, self.compared_reference = [], None

    def reference_number(self) -> int | None:
        """This session's lap that is the reference (None: another session's, or none)."""
        return None if self.compared_reference is not None else self.best

    def wanted(self) -> list[int]:
        """This session's laps whose telemetry is needed: the selection and the reference."""
        ref = self.reference_number()
        return [*self.selected, *([ref] if ref is not None and ref not in self.selected else [])]

    def resolve(self, telemetry: Mapping[int, LapTelemetry]) -> Shown:
        """The laps to show, from the telemetry read so far (laps not read yet are left out)."""
        laps = [telemetry[n] for n in self.selected if n in telemetry]
        own = [lap.lap_number for lap in laps]
        ref = self.reference_number()
        reference = telemetry.get(ref) if ref is not None else None
        names = {id(c.lap): c.name for c in self.compared}
        lap_labels = {id(c.lap): c.labels for c in self.compared if c.labels}
        laps += [c.lap for c in self.compared]
        if self.compared_reference is not None:
            reference = self.compared_reference.lap
            names[id(reference)] = self.compared_reference.name
            if self.compared_reference.labels:
                lap_labels[id(reference)] = self.compared_reference.labels
        return Shown(laps, reference, names, lap_labels, own)
