"""The kinds of daemon rockit-web knows: how to tell one from its Pyro methods, which
commands its page may send (web name -> Pyro method), and whose codes word the answers."""
import importlib
from typing import NamedTuple


class Kind(NamedTuple):
    name: str
    marker: str          # a Pyro method only this kind of daemon has
    codes: str           # module with its CommandStatus
    commands: dict       # web command -> Pyro method


KINDS = [
    Kind('focuser', 'set_focus', 'rockit.focuser.multichannel.codes',
         {'set': 'set_focus', 'stop': 'stop_channel', 'zero': 'reset_home_position', 'fans': 'enable_fans',
          'init': 'initialize', 'kill': 'shutdown'}),
    Kind('chiller', 'set_setpoint', 'rockit.chiller.codes',
         {'mode': 'set_mode', 'enable': 'set_enabled', 'setpoint': 'set_setpoint', 'init': 'initialize',
          'kill': 'shutdown'}),
    Kind('camvirt', 'report_camera_status', 'rockit.camvirt.codes',
         {'init': 'initialize', 'kill': 'shutdown'}),
    Kind('pycam', 'start_acquisition', 'rockit.pycam.codes',
         {'start': 'start_acquisition', 'stop': 'stop_acquisition', 'capture': 'capture',
          'darks': 'capture_darks', 'cell': 'capture_cell', 'restart': 'restart_device', 'settings': 'set_settings',
          'search-fov': 'search_fov', 'geometry': 'set_image_geometry', 'init': 'initialize', 'kill': 'shutdown'}),
]
# Pyro commands no person sends: the frame export's receipts come from the archive's client.
NOT_FOR_PEOPLE = {'acknowledge_frame'}
UNKNOWN = Kind('unknown', '', 'rockit.common.codes', {})


def kind_of(methods):
    """The Kind whose marker is among a daemon's Pyro method names, else UNKNOWN."""
    return next((kind for kind in KINDS if kind.marker in methods), UNKNOWN)


def message(kind, code):
    """The daemon's own words for a command's status code (the general words where that
    daemon's package is not installed beside rockit-web)."""
    try:
        return importlib.import_module(kind.codes).CommandStatus.message(code)
    except ImportError:
        return importlib.import_module(UNKNOWN.codes).CommandStatus.message(code)
