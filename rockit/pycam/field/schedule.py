"""When a field station acquires: while the sun is above an elevation at the site, or
between fixed UTC times of day. Pure time arithmetic: no clock and no I/O here, so the
caller passes `now` (an aware UTC datetime).

The sun's elevation is the apparent elevation of its centre (astral, refraction included):
sunrise as almanacs give it is at -0.27 deg. Its crossings are found by
stepping through the next two days and halving the step around each change to a second,
which also covers days on which the sun never crosses (polar day or night: no event).
"""
import datetime

UTC = datetime.timezone.utc
STEP = datetime.timedelta(minutes=10)
HORIZON = datetime.timedelta(days=2)
PRECISION = datetime.timedelta(seconds=1)


class Window:
    """Whether acquisition is due now, and the next scheduled start and stop (or None)."""

    def __init__(self, acquiring, next_start, next_stop):
        self.acquiring, self.next_start, self.next_stop = acquiring, next_start, next_stop


class SunSchedule:
    """astral is imported here, so that only a station following the sun needs it."""

    def __init__(self, latitude, longitude, min_elevation_deg):
        import astral
        import astral.sun
        self._elevation = astral.sun.elevation
        self.observer = astral.Observer(latitude=latitude, longitude=longitude)
        self.min_elevation = float(min_elevation_deg)

    def is_up(self, moment):
        return self._elevation(self.observer, moment) >= self.min_elevation

    def window(self, now):
        up = self.is_up(now)
        rising = falling = None
        moment, state = now, up
        while moment < now + HORIZON and (rising is None or falling is None):
            later = moment + STEP
            later_state = self.is_up(later)
            if later_state != state:
                crossing = self._crossing(moment, later, state)
                if later_state and rising is None:
                    rising = crossing
                elif not later_state and falling is None:
                    falling = crossing
            moment, state = later, later_state
        return Window(up, rising, falling)

    def _crossing(self, before, after, state_before):
        while after - before > PRECISION:
            middle = before + (after - before) / 2
            if self.is_up(middle) == state_before:
                before = middle
            else:
                after = middle
        return after.replace(microsecond=0) + (PRECISION if after.microsecond else datetime.timedelta(0))


class FixedSchedule:
    """Daily UTC start and stop times; a stop earlier than the start runs over midnight."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def window(self, now):
        starts = self._around(now, self.start)
        stops = self._around(now, self.stop)
        last_start = max(t for t in starts if t <= now)
        last_stop = max(t for t in stops if t <= now)
        return Window(last_start > last_stop, min(t for t in starts if t > now), min(t for t in stops if t > now))

    @staticmethod
    def _around(now, time_of_day):
        day = now.astimezone(UTC).date()
        return [datetime.datetime.combine(day + datetime.timedelta(days=d), time_of_day, UTC) for d in (-1, 0, 1)]


def parse_time_of_day(text):
    """'HH:MM' or 'HH:MM:SS' (UTC) -> datetime.time; ValueError otherwise."""
    parts = [int(p) for p in text.split(':')]
    return datetime.time(*parts)


def make(settings):
    """The schedule a config's `schedule` object describes."""
    if 'start' in settings:
        return FixedSchedule(parse_time_of_day(settings['start']), parse_time_of_day(settings['stop']))
    return SunSchedule(settings['latitude'], settings['longitude'], settings.get('sun_elevation_min_deg', 0.0))
