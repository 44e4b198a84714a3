"""Commands only from the control machines, for every command the daemon exposes."""
from support import connections_from
from rockit.common import pyro
from rockit.pycam.codes import CommandStatus
from rockit.pycam.daemon import PycamDaemon

ARGUMENTS = {
    'set_settings': ({'frame_rate': 0.5},),
    'start_acquisition': ('all',),
    'stop_acquisition': ('all',),
    'capture': ('Test',),
    'capture_darks': ('all',),
    'capture_cell': (304, 'on'),
    'search_fov': (),
    'set_image_geometry': ({'sky_region': [10, 10, 60, 60]},),
    'restart_device': ('cameras',),
    'initialize': (),
    'shutdown': (),
    'acknowledge_frame': ('2030-01-01T000000_fltrB_1ag_4000ss_Plume.png',),
}


def test_the_exposed_methods_are_the_commands_and_the_queries():
    exposed = pyro.exposed_methods(PycamDaemon)
    queries = {'report_status', 'export_next_frame', 'latest_so2_image', 'emission_rates', 'latest_spectrum',
               'latest_doas_fit', 'latest_frames', 'product_days', 'day_csv',
               'calibration_curve', 'diagnostics'}
    assert exposed == {**{name: False for name in queries}, **{name: True for name in ARGUMENTS}}


def test_every_command_is_refused_from_a_machine_not_in_control_machines(pycam):
    before = pycam.status()
    commands = [name for name, control in pyro.exposed_methods(PycamDaemon).items() if control]
    with connections_from('127.0.0.2'):
        with pycam.proxy() as proxy:
            assert proxy.report_status()['status'] == 1
            for name in commands:
                assert getattr(proxy, name)(*ARGUMENTS[name]) == CommandStatus.InvalidControlIP, name
    after = pycam.status()
    assert after['settings'] == before['settings'] and after['status'] == 1
    assert after['cameras']['mode'] == 'idle' and after['cameras']['captures_saved'] == 0
    assert pycam.files() == []
