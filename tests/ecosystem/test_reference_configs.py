"""Today's site configs of the daemons in service load and serve unchanged (the files in
config/ are theirs, byte for byte in their keys and values): the daemon answers on its
registry name with the device absent, and refuses commands from outside control_machines."""
import json

import pytest

from support import ROOT, run_cli

CONFIGS = [('focusd', 'clasp'), ('focusd', 'portable'), ('camvirtd', 'clasp_cmos'), ('camvirtd', 'clasp_swir'),
           ('camvirtd', 'sting_das1'), ('camvirtd', 'sting_das2')]
# The keys each reference config has, so that a local edit that drops one is noticed.
REFERENCE_KEYS = {
    'focusd': {'daemon', 'log_name', 'control_machines', 'serial_port', 'serial_baud', 'serial_timeout', 'channels',
               'idle_loop_delay', 'moving_loop_delay', 'move_timeout'},
    'camvirtd': {'daemon', 'log_name', 'control_machines', 'initialize_timeout', 'shutdown_timeout', 'domains'},
}


@pytest.mark.parametrize('daemon, site', CONFIGS, ids=[f'{d}-{s}' for d, s in CONFIGS])
def test_reference_config_serves(test_registry, daemons, daemon, site):
    config = json.loads((ROOT / 'config' / daemon / f'{site}.json').read_text())
    assert REFERENCE_KEYS[daemon] <= set(config)
    # The packaged registry puts the daemon on its site machine; a site file moves it here.
    address = test_registry.add(config['daemon'])
    process = daemons(daemon, config, address)
    status = process.proxy(timeout=10).report_status()
    assert status['status'] == 0 and 'date' in status      # no device here: offline, and saying so
    if daemon == 'focusd':
        with process.proxy(timeout=10) as proxy:
            # CLASPTCS is elsewhere: InvalidControlIP; PortableTCS is this machine: NotConnected.
            assert proxy.set_focus(1, 100) == (7 if site == 'portable' else 3)
            assert set(proxy.temperature_labels()) == set(config.get('temperature_probes', {}))
    else:
        with process.proxy(timeout=10) as proxy:
            assert proxy.initialize() == 10                 # InvalidControlIP of the camvirt daemon


@pytest.mark.parametrize('site, channels', [('clasp', ['1', '2']), ('portable', [])])
def test_focus_cli_reads_the_reference_configs(test_registry, site, channels):
    result = run_cli('focus', 'list-channels', config_env='FOCUSD_CONFIG_PATH',
                     config_path=ROOT / 'config/focusd' / f'{site}.json')
    assert result.returncode == 0 and result.stdout.split() == (channels or ['1'])
