"""Every command a daemon takes over Pyro has a name on rockit-web, so that its page can
have a form for it (test_web_demo_forms.py finds the forms)."""
import pytest

from rockit.camvirt.daemon import CameraVMManager
from rockit.chiller.daemon import ChillerDaemon
from rockit.common import pyro
from rockit.focuser.multichannel.daemon import FocuserDaemon
from rockit.pycam.daemon import PycamDaemon
from rockit.web import kinds

DAEMONS = {'focuser': FocuserDaemon, 'chiller': ChillerDaemon, 'camvirt': CameraVMManager, 'pycam': PycamDaemon}


@pytest.mark.parametrize('kind', kinds.KINDS, ids=lambda kind: kind.name)
def test_every_command_of_the_daemon_is_one_of_its_web_commands(kind):
    commands = {name for name, control in pyro.exposed_methods(DAEMONS[kind.name]).items() if control}
    assert set(kind.commands.values()) == commands - kinds.NOT_FOR_PEOPLE


@pytest.mark.parametrize('kind', kinds.KINDS, ids=lambda kind: kind.name)
def test_the_kind_is_told_from_its_daemons_methods(kind):
    assert kinds.kind_of(set(pyro.exposed_methods(DAEMONS[kind.name]))) is kind
