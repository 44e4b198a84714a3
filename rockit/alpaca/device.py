"""ASCOM Alpaca devices (API v1): the answers every device gives and the errors it raises,
for any device type. The HTTP surface is in server.py, discovery in discovery.py.

A device module subclasses Device and answers each member of its interface with a method
get_<member>() (a property) or put_<member>(form) (a setter or method); an AlpacaError
becomes the response's ErrorNumber and ErrorMessage.

Connected is the Alpaca clients' switch, shared by all of them: connecting brings the
device online if it is not (a daemon reconnects by itself otherwise), disconnecting only
stops answering Alpaca clients, because the daemon's own clients still drive the device.
"""
import datetime
import enum
import logging
import re
import threading

API_VERSION = 1
DISCOVERY_PORT = 32227    # fixed by the Alpaca discovery protocol
PORT = {'type': 'integer', 'minimum': 1, 'maximum': 65535}
# The keys of a daemon's optional "alpaca" config section (a device adds its own):
# host_names are the names clients may use for this machine in the Host header, beyond its
# own names, localhost and IP literals (server.py).
CONFIG_PROPERTIES = {'port': PORT, 'discovery_port': PORT,
                     'host_names': {'type': 'array', 'items': {'type': 'string', 'minLength': 1, 'maxLength': 253}}}


class ErrorNumber(enum.IntEnum):
    """The ErrorNumbers the Alpaca API defines; 0x500 and up are the driver's own."""
    NotImplemented = 0x400
    InvalidValue = 0x401
    NotConnected = 0x407
    InvalidOperation = 0x40B
    ActionNotImplemented = 0x40C
    DriverError = 0x500


class AlpacaError(Exception):
    """An error the Alpaca API reports inside a 200 response, as ErrorNumber and ErrorMessage."""

    def __init__(self, number, message):
        super().__init__(message)
        self.number, self.message = ErrorNumber(number), message


class BadRequest(Exception):
    """HTTP 400: a parameter is missing or malformed, or the device does not exist."""


INTEGER = re.compile(r'[+-]?[0-9]{1,10}')
INT32 = (-2**31, 2**31 - 1)
UINT32_MAX = 2**32 - 1


class Form:
    """A request's parameters. The Alpaca API matches names in any case in a GET query
    and exactly in a PUT form; a missing or malformed parameter is a BadRequest."""

    def __init__(self, pairs, caseless):
        self.caseless = caseless
        self._values = {}
        for name, value in pairs:
            self._values.setdefault(self._key(name), value)

    def _key(self, name):
        return name.lower() if self.caseless else name

    def text(self, name):
        value = self._values.get(self._key(name))
        if value is None:
            raise BadRequest(f'parameter {name} is missing')
        return value

    def integer(self, name):
        # Blanks only (space, tab, CR, LF): str.strip() also drops the separators \x1c-\x1f,
        # which would turn '0\x1f' into 0.
        text = self.text(name).strip(' \t\r\n')
        if not INTEGER.fullmatch(text) or not INT32[0] <= int(text) <= INT32[1]:
            raise BadRequest(f'parameter {name}={text!r} is not a 32-bit integer')
        return int(text)

    def boolean(self, name):
        text = self.text(name).strip().lower()
        if text not in ('true', 'false'):
            raise BadRequest(f'parameter {name}={text!r} is not true or false')
        return text == 'true'

    def transaction_id(self, name):
        """ClientID and ClientTransactionID: 0 when absent or not an unsigned 32-bit number
        (they only label the request, which still runs)."""
        text = self._values.get(self._key(name), '').strip()
        return int(text) if INTEGER.fullmatch(text) and 0 <= int(text) <= UINT32_MAX else 0


def timestamp():
    """Now in UTC, as DeviceState's TimeStamp."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


class Device:
    """One Alpaca device with the members common to every interface. A subclass sets
    device_type and interface_version, implements online(), bring_online() and
    operational_state(), and adds its interface's members."""
    device_type = None   # as the API names it: 'Focuser' (lower case in URLs)
    interface_version = 1
    driver_info = ''
    driver_version = ''

    def __init__(self, number, name, description, unique_id, log):
        self.number, self.name, self.description, self.unique_id = number, name, description, unique_id
        self.log = log or logging.getLogger('rockit.alpaca')
        self._lock = threading.Lock()
        self._wanted = False       # an Alpaca client connected us, and none disconnected since
        self._connecting = None    # the thread of a Connect() under way
        self._connect_failure = None   # why the last Connect() failed, until Connecting says so

    # For subclasses.
    def online(self):
        """True while the device answers its daemon."""
        raise NotImplementedError

    def bring_online(self):
        """Connect the device now (blocking); raise AlpacaError when it cannot be."""
        raise NotImplementedError

    def operational_state(self):
        """[(name, value)] for DeviceState, leaving out what cannot be read now."""
        raise NotImplementedError

    def require_connected(self):
        if not (self._wanted and self.online()):
            raise AlpacaError(ErrorNumber.NotConnected, f'{self.name} is not connected')

    # Connection.
    def get_connected(self):
        return self._wanted and self.online()

    def put_connected(self, form):
        if form.boolean('Connected'):
            self._connect()
        else:
            self._disconnect()

    def get_connecting(self):
        """Connect()'s completion property: a Connect() that failed raises its error here
        once, as the API asks of every asynchronous operation."""
        with self._lock:
            failure, self._connect_failure = self._connect_failure, None
            connecting = self._connecting is not None
        if failure is not None:
            raise failure
        return connecting

    def put_connect(self, form):
        """Platform 7 Connect(): returns at once, Connecting is true until it has finished."""
        with self._lock:
            if self._connecting is not None:
                return
            self._connect_failure = None
            self._connecting = threading.Thread(target=self._connect_in_background, daemon=True,
                                                name=f'alpaca-connect-{self.number}')
            self._connecting.start()

    def put_disconnect(self, form):
        self._disconnect()

    def _connect(self):
        if not self.online():
            self.bring_online()
        if not self._wanted:
            self.log.info('alpaca: %s connected', self.name)
        self._wanted = True

    def _connect_in_background(self):
        try:
            self._connect()
        except AlpacaError as e:
            self.log.error('alpaca: connecting %s failed: %s', self.name, e.message)
            with self._lock:
                self._connect_failure = e
        finally:
            with self._lock:
                self._connecting = None

    def _disconnect(self):
        if self._wanted:
            self.log.info('alpaca: %s disconnected', self.name)
        self._wanted = False

    # Description.
    def get_name(self):
        return self.name

    def get_description(self):
        return self.description

    def get_driverinfo(self):
        return self.driver_info

    def get_driverversion(self):
        return self.driver_version

    def get_interfaceversion(self):
        return self.interface_version

    def get_supportedactions(self):
        return []

    def get_devicestate(self):
        self.require_connected()
        return [{'Name': name, 'Value': value} for name, value in self.operational_state()] + \
            [{'Name': 'TimeStamp', 'Value': timestamp()}]

    # Custom actions and raw commands: none.
    def put_action(self, form):
        raise AlpacaError(ErrorNumber.ActionNotImplemented, f'{self.name} has no actions')

    def put_commandblind(self, form):
        raise AlpacaError(ErrorNumber.NotImplemented, 'raw commands are not supported')

    put_commandbool = put_commandstring = put_commandblind

    def configured(self):
        """This device's entry in /management/v1/configureddevices."""
        return {'DeviceName': self.name, 'DeviceType': self.device_type,
                'DeviceNumber': self.number, 'UniqueID': self.unique_id}
