"""focusd's channels as ASCOM Alpaca focusers (IFocuserV4): channel n is device n-1.

Served from focusd itself, so that Alpaca clients share the one device loop, the soft
limits and the codes of the Pyro side: every member reads the daemon's report_status()
or runs one of its Pyro commands. Alpaca positions run 0..MaxStep, as the API wants them:
steps above the channel's lower soft limit, or above the controller's lowest position
(-999999) without soft limits. A channel outside its soft limits (moved there before they
were set) reads as the nearer end; a Move beyond either end goes to that end.
"""
import threading
import uuid

from rockit.alpaca import device as alpaca
from rockit.alpaca.device import AlpacaError, ErrorNumber
from rockit.alpaca.discovery import DiscoveryResponder
from rockit.alpaca.server import AlpacaServer
from rockit.common.errors import DeviceError, NotDisconnected, Refused

from .codes import CommandStatus, FocuserStatus

ACCEPT_POLL = 0.005  # s between looks at the published state while a move is being started

ERRORS = {
    CommandStatus.NotConnected: ErrorNumber.NotConnected,
    CommandStatus.Blocked: ErrorNumber.InvalidOperation,
    CommandStatus.PositionOutsideLimits: ErrorNumber.InvalidValue,
}


def command(daemon, name, *args, doing):
    """Run the daemon's Pyro command `name` for an HTTP client the Alpaca server has
    already checked against the control machines (the Pyro guard would see no Pyro
    caller; the arguments are checked here first). Raises the AlpacaError that answers
    its refusal, failure or code other than Succeeded, as the Pyro boundary answers codes."""
    try:
        code, reason = getattr(type(daemon), name).__wrapped__(daemon, *args), ''
    except Refused as e:
        code, reason = e.code_in(CommandStatus), str(e)
    except (DeviceError, TimeoutError) as e:
        raise AlpacaError(ErrorNumber.DriverError,
                          f'{doing}: {e or "the focus controller did not answer in time"}') from None
    except Exception:  # a bug must not reach the client as a traceback
        daemon.log.exception('alpaca: %s failed', name)
        code, reason = CommandStatus.Failed, ''
    if code != CommandStatus.Succeeded:
        raise AlpacaError(ERRORS.get(code, ErrorNumber.DriverError),
                          f'{doing}: {reason or CommandStatus.message(code).removeprefix("error: ")}')


class ChannelFocuser(alpaca.Device):
    device_type = 'Focuser'
    interface_version = 4
    driver_info = 'rockit focusd: a channel of a multi-channel stepper focus controller'
    driver_version = '1.0'

    def __init__(self, daemon, channel):
        config = daemon.config
        super().__init__(channel - 1, f'{config.daemon} channel {channel}',
                         f'Focuser channel {channel} of {config.daemon} ({config.channels} channels)',
                         str(uuid.uuid5(uuid.NAMESPACE_URL, f'rockit:focusd:{config.daemon}:{channel}')),
                         daemon.log)
        self.daemon, self.channel = daemon, channel
        self.low, high = config.limits[channel]
        self.max_step = high - self.low
        self.probe = config.alpaca.get('temperature_probes', {}).get(str(channel))

    def _status(self):
        """The daemon's published state, once connected."""
        self.require_connected()
        return self.daemon.report_status()

    def _key(self, name):
        return f'{name}_{self.channel}'

    # What the base class needs.
    def online(self):
        return self.daemon.report_status()['status'] == FocuserStatus.Online

    def bring_online(self):
        """As the Pyro initialize(): connect now, also after an operator's shutdown."""
        try:
            self.daemon.connect_all()
        except NotDisconnected:
            pass   # connected meanwhile
        except (DeviceError, TimeoutError) as e:
            raise AlpacaError(ErrorNumber.DriverError,
                              f'the focus controller is offline: {e or "no answer in time"}') from None

    def operational_state(self):
        status = self._status()
        state = [('IsMoving', status[self._key('moving')]),
                 ('Position', self._position(status))]
        temperature = status['temperature'].get(self.probe) if self.probe else None
        return state + ([('Temperature', temperature)] if temperature is not None else [])

    # IFocuserV4.
    def get_absolute(self):
        self.require_connected()
        return True

    def get_ismoving(self):
        return self._status()[self._key('moving')]

    def get_position(self):
        return self._position(self._status())

    def _position(self, status):
        return min(max(status[self._key('current_steps')] - self.low, 0), self.max_step)

    def get_maxstep(self):
        self.require_connected()
        return self.max_step

    def get_maxincrement(self):
        self.require_connected()
        return self.max_step

    def get_stepsize(self):
        raise AlpacaError(ErrorNumber.NotImplemented, 'the step size is not known')

    def get_tempcompavailable(self):
        self.require_connected()
        return False

    def get_tempcomp(self):
        self.require_connected()
        return False

    def put_tempcomp(self, form):
        enabled = form.boolean('TempComp')
        self.require_connected()
        if enabled:
            raise AlpacaError(ErrorNumber.NotImplemented, 'temperature compensation is not available')

    def get_temperature(self):
        if not self.probe:
            raise AlpacaError(ErrorNumber.NotImplemented,
                              f'no temperature probe is configured for channel {self.channel}')
        reading = self._status()['temperature'].get(self.probe)
        if reading is None:
            raise AlpacaError(ErrorNumber.DriverError, f'temperature probe {self.probe} has no valid reading')
        return reading

    def put_halt(self, form):
        self.require_connected()
        command(self.daemon, 'stop_channel', self.channel, doing='halt')

    def put_move(self, form):
        """Starts the move and returns; IsMoving stays true until it ends."""
        position = form.integer('Position')
        self.require_connected()
        position = min(max(position, 0), self.max_step)
        if self._status()[self._key('moving')]:
            raise AlpacaError(ErrorNumber.InvalidOperation, f'channel {self.channel} is moving: halt it first')
        target = position + self.low
        refusal = []

        def move():
            try:
                command(self.daemon, 'set_focus', self.channel, target, doing=f'move to {position}')
            except AlpacaError as e:
                refusal.append(e)
        mover = threading.Thread(target=move, name=f'alpaca-move-{self.channel}', daemon=True)
        mover.start()
        # set_focus returns when the move ends; this returns once the controller has the
        # target, or with set_focus's refusal (the device thread bounds the wait).
        while mover.is_alive():
            if self.daemon.report_status().get(self._key('target_steps')) == target:
                return
            mover.join(ACCEPT_POLL)
        if refusal:
            raise refusal[0]


def start(daemon):
    """Serve focusd's channels over Alpaca when its config has an "alpaca" section; returns
    a function that stops serving, or None. A port that is taken is logged, and the Pyro
    side carries on without Alpaca."""
    try:
        return _serve(daemon) if daemon.config.alpaca else None
    except OSError as e:
        settings = daemon.config.alpaca
        daemon.log.error('alpaca: not served (HTTP port %s, discovery port %s): %s', settings['port'],
                         settings.get('discovery_port', alpaca.DISCOVERY_PORT), e)
        return None


def _serve(daemon):
    config = daemon.config
    settings = config.alpaca
    devices = [ChannelFocuser(daemon, channel) for channel in range(1, config.channels + 1)]
    server = AlpacaServer(devices, config.address.host, settings['port'], config.control_ips,
                          {'ServerName': f'rockit focusd {config.daemon}', 'Manufacturer': 'rockit',
                           'ManufacturerVersion': ChannelFocuser.driver_version, 'Location': config.daemon},
                          daemon.log, host_names=[config.address.host] + settings.get('host_names', []))
    try:
        discovery = DiscoveryResponder(settings.get('discovery_port', alpaca.DISCOVERY_PORT), server.port, daemon.log)
    except OSError:
        server.close()
        raise
    server.start()
    discovery.start()

    def stop():
        discovery.close()
        server.close()
    return stop
