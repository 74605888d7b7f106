"""The speed and length thresholds the lap rules share, each defined once.

Two pairs look alike but are different rules, so they have different names:

- :data:`STATIONARY_KMH` (2 km/h) is "the car does not move": what the GPS position still
  does is jitter. It is as low as a logged speed can be while telling a stopped car from a
  rolling one.
- :data:`STANDING_KMH` (5 km/h) is "the car is stopped, as the pit rules count it": a crawl
  in the pit queue counts towards a lap's standing time (a pit stop), and is left out of the
  typical moving speed that sets the pit-lane speed limit.
- :data:`MIN_LAP_M` (100 m) debounces crossings of a timing line the file or the user placed:
  a Finish just past the Start, or a car rolling over the line in the pits, makes no lap,
  while the shortest real lap is far longer.
- :data:`MIN_AUTO_LAP_M` (250 m) is for a start/finish line the app guesses from the driven
  line alone: with no line to trust, a candidate point must be passed again only after at
  least one short kart lap, so passing the same point on a hairpin's two sides is not a lap.
"""

from __future__ import annotations

#: below this speed (km/h) the car does not move: no line crossing, and GPS steps are jitter
STATIONARY_KMH = 2.0
#: below this speed (km/h) the car counts as standing: a lap's standing time, pit visits
STANDING_KMH = 5.0
#: a lap between two crossings of a placed timing line is at least this long (m)
MIN_LAP_M = 100.0
#: and, where no distance is known, at least this long (s)
MIN_LAP_S = 5.0
#: between two passes of a guessed start/finish point the car drives at least this far (m)
MIN_AUTO_LAP_M = 250.0
