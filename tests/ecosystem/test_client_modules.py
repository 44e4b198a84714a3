"""The client modules other rockit software imports (opsd, the reference focus, chiller and
camvirt scripts): their names, Config(path) with a daemons entry, labels with markup."""
import subprocess
import sys

import pytest

from support import ROOT
from rockit.common.daemons import PyroDaemon


def test_focuser_names_and_config():
    from rockit.focuser.multichannel import CommandStatus, Config, FocuserStatus
    assert (FocuserStatus.Disabled, FocuserStatus.Active) == (0, 1)
    assert FocuserStatus.label(FocuserStatus.Active) == 'ONLINE'
    assert FocuserStatus.label(FocuserStatus.Disabled, True) == '[b][red]OFFLINE[/red][/b]'
    assert FocuserStatus.label(7, True) == '[b][red]UNKNOWN[/red][/b]'
    assert (CommandStatus.InvalidChannel, CommandStatus.PositionOutsideLimits) == (4, 6)
    assert CommandStatus.message(-101) == 'error: unable to communicate with focus daemon'
    config = Config(str(ROOT / 'config/focusd/clasp.json'))
    assert isinstance(config.daemon, PyroDaemon)
    assert config.daemon.uri == 'PYRO:clasp_focus_daemon@10.2.6.181:9036'
    assert config.channels == 2 and config.log_name == 'focusd@clasp'


def test_chiller_names_and_config():
    from rockit.chiller import ChillerMode, ChillerStatus, CommandStatus, Config
    assert (ChillerStatus.Disabled, ChillerStatus.Idle, ChillerStatus.Cooling, ChillerStatus.Heating) == (0, 1, 2, 3)
    assert (ChillerMode.Manual, ChillerMode.Automatic) == (0, 1)
    assert ChillerStatus.label(ChillerStatus.Cooling, True) == '[b][cyan]COOLING[/cyan][/b]'
    assert ChillerMode.label(ChillerMode.Automatic, True) == '[b][green]AUTOMATIC[/green][/b]'
    assert ChillerMode.label(ChillerMode.Manual) == 'MANUAL'
    assert CommandStatus.ModeIsAutomatic == 10
    config = Config(str(ROOT / 'config/chillerd/clasp.json'))
    assert config.daemon.uri == 'PYRO:clasp_chiller_daemon@10.2.6.181:9042'


def test_camvirt_names_and_config():
    from rockit.camvirt import CommandStatus, Config
    assert (CommandStatus.Succeeded, CommandStatus.Failed, CommandStatus.Blocked, CommandStatus.InvalidControlIP) == \
        (0, 1, 2, 10)
    config = Config(str(ROOT / 'config/camvirtd/sting_das1.json'))
    assert config.daemon.name == 'sting_camvirt_daemon_das1'
    assert (config.initialize_timeout, config.shutdown_timeout) == (90, 30)
    assert list(config.domains) == ['cam1', 'cam2']
    assert config.cameras['cam2']['domain'] == 'cam2'
    assert config.cameras['cam2']['daemon'].uri == 'PYRO:sting_camera_daemon_2@10.2.6.166:9041'


def test_a_bad_config_is_refused_naming_the_key(tmp_path):
    from rockit.common.config import ConfigError
    from rockit.focuser.multichannel import Config
    path = tmp_path / 'focus.json'
    path.write_text((ROOT / 'config/focusd/clasp.json').read_text().replace('"channels": 2', '"channels": 0'))
    with pytest.raises(ConfigError, match='channels: 0 is less than the minimum of 1'):
        Config(str(path))


@pytest.mark.parametrize('package', ['rockit.focuser.multichannel', 'rockit.chiller', 'rockit.camvirt'])
def test_importing_a_client_package_loads_nothing_heavy(package):
    code = f'import sys, {package}; print(sorted({{"Pyro4", "rich", "jsonschema"}} & set(sys.modules)))'
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'
