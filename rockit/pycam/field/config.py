"""The field station's part of pycamd's config: `schedule`, `storage`, `watchdog`, `health`, `transfer`."""
import importlib.util

from .schedule import parse_time_of_day

TIME_OF_DAY = {'type': 'string', 'pattern': r'^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$',
               'description': 'UTC, HH:MM or HH:MM:SS'}
POSITIVE = {'type': 'number', 'exclusiveMinimum': 0}
# A path handed to ssh: ssh reads whitespace in an -o value as a list, and a leading - as an option.
OPTION_PATH = {'type': 'string', 'pattern': r'^[^\s\x00-\x1f-][^\s\x00-\x1f]*$',
               'pattern_problem': 'must be a path without whitespace, not starting with -'}

SCHEMA = {
    'schedule': {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'latitude': {'type': 'number', 'minimum': -90, 'maximum': 90},
            'longitude': {'type': 'number', 'minimum': -180, 'maximum': 180},
            'sun_elevation_min_deg': {'type': 'number', 'minimum': -18, 'maximum': 60},
            'start': TIME_OF_DAY,
            'stop': TIME_OF_DAY,
            'darks_after_stop': {'type': 'boolean'},
        },
    },
    'storage': {
        'type': 'object', 'additionalProperties': False, 'required': ['keep_free_mb'],
        'properties': {
            'keep_free_mb': POSITIVE,
            'delete_oldest': {'type': 'boolean'},
            'products_mb': dict(POSITIVE, description="live processing's products kept, oldest deleted first"),
            'keep_recent_captures': {'type': 'integer', 'minimum': 0,
                                     'description': 'the newest Plume captures never deleted (default 10)'},
        },
    },
    'watchdog': {
        'type': 'object', 'additionalProperties': False,
        'properties': {'no_data_s': {'type': 'number', 'minimum': 0, 'maximum': 86400,
                                     'description': 's without a capture while acquiring before the device is '
                                                    'restarted (0: off)'}},
    },
    'health': {
        'type': 'object', 'additionalProperties': False,
        'properties': {'log_interval_s': {'type': 'number', 'minimum': 1}},
    },
    'transfer': {
        'type': 'object', 'additionalProperties': False, 'required': ['destination'],
        'properties': {
            'destination': {'type': 'string', 'pattern': r'^(?![^/:]*@-)[^\s\x00-\x1f-][^\s\x00-\x1f]*$',
                            'pattern_problem': 'must be one word not starting with - (nor its host after user@)',
                            'description': 'user@host:/path over ssh, or a local folder'},
            'interval_s': {'type': 'number', 'minimum': 1},
            'timeout_s': {'type': 'integer', 'minimum': 1, 'maximum': 3600},
            'ssh_key': OPTION_PATH,
            'ssh_port': {'type': 'integer', 'minimum': 1, 'maximum': 65535},
            'known_hosts': dict(OPTION_PATH, description="the destination's ssh host key"),
        },
    },
}


def problems(data, floor_mb):
    """What the schema cannot say: a schedule is either the sun at a site or fixed times, and
    housekeeping keeps more free than the floor that stops acquisition."""
    found = []
    schedule = data.get('schedule')
    if schedule is not None:
        site = {'latitude', 'longitude'} & set(schedule)
        fixed = {'start', 'stop'} & set(schedule)
        if site and fixed:
            found.append('schedule: give latitude and longitude (the sun) or start and stop (UTC times), not both')
        elif fixed and len(fixed) != 2:
            found.append(f'schedule.{({"start", "stop"} - fixed).pop()}: required with schedule.{fixed.pop()}')
        elif site and len(site) != 2:
            found.append(f'schedule.{({"latitude", "longitude"} - site).pop()}: required with '
                         f'schedule.{site.pop()}')
        elif not site and not fixed:
            found.append('schedule: give latitude and longitude (the sun) or start and stop (UTC times)')
        elif fixed and _time(schedule['start']) == _time(schedule['stop']):
            found.append('schedule.stop: must differ from schedule.start')
        if site and importlib.util.find_spec('astral') is None:
            found.append('schedule.latitude: following the sun needs the astral package (pip install astral)')
        if fixed and 'sun_elevation_min_deg' in schedule:
            found.append('schedule.sun_elevation_min_deg: only with latitude and longitude')
    storage = data.get('storage')
    if storage and storage.get('delete_oldest', True) and storage['keep_free_mb'] <= floor_mb:
        found.append(f'storage.keep_free_mb: {storage["keep_free_mb"]} must be above free_space_floor_mb '
                     f'({floor_mb:g}), or acquisition stops before old captures are deleted')
    return found


def _time(text):
    try:
        return parse_time_of_day(text)
    except ValueError:
        return text
