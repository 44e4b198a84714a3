"""The Alpaca REST API (v1) over HTTP, served from a thread of the daemon that owns the
devices: /api/v1/<type>/<number>/<member> for each device and the management API.

The standard library's ThreadingHTTPServer serves it: the surface is a few dozen fixed
routes of form-encoded requests and JSON answers, which needs no routing, templating or
async machinery, and a daemon that runs on a Raspberry Pi or from an RPM gains no
dependency. Each connection gets a thread; one silent for IDLE_TIMEOUT s is closed, a
request must arrive whole within REQUEST_DEADLINE s of its first byte however slowly it
trickles, and beyond PER_ADDRESS connections from one address, or MAX_CONNECTIONS in all,
a new one is closed at once: no client can make the daemon start threads without end, and
slow clients from one address leave room for the others.

The Host header must name this server (an IP literal, localhost, the machine's own names
or the names the config adds), as a web application checks it: a page on a DNS-rebinding
name that resolves to this machine cannot reach the API from a browser.

The control rule of the Pyro side holds here: a PUT (which changes something) is refused
with HTTP 403 unless it comes from one of the config's control machines; GETs are open.
"""
import io
import ipaddress
import itertools
import json
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from rockit.common.host_header import host_name
from rockit.common.slow_clients import REQUEST_DEADLINE, AddressSlots, RequestReader

from .device import API_VERSION, AlpacaError, BadRequest, Form

IDLE_TIMEOUT = 30        # s a keep-alive connection may stay silent
MAX_CONNECTIONS = 64     # open at once
PER_ADDRESS = 16         # open at once from one client address
MAX_BODY = 64 * 1024     # bytes of a PUT form; Alpaca forms are a few dozen
DEVICE_NUMBER = re.compile(r'[0-9]{1,10}')   # an unsigned 32-bit number, in ASCII digits


class Refusal(Exception):
    """An HTTP error status with a plain-text reason."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


class AlpacaServer:
    """Serves devices (alpaca.Device, numbered per type from 0) on host:port until close()."""

    def __init__(self, devices, host, port, control_ips, description, log, host_names=()):
        self.devices = {(d.device_type.lower(), d.number): d for d in devices}
        self.control_ips = set(control_ips)
        self.host_names = own_host_names() | {name.lower().rstrip('.') for name in host_names}
        self.description = description   # {'ServerName', 'Manufacturer', 'ManufacturerVersion', 'Location'}
        self.log = log
        self._transactions = itertools.count(1)
        self._transactions_lock = threading.Lock()
        self._http = _BoundedServer((host, port), _handler(self), log)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name='alpaca-http', daemon=True)

    def start(self):
        self._thread.start()
        self.log.info('alpaca: serving %d device(s) on %s:%d', len(self.devices), *self._http.server_address[:2])
        return self

    def close(self):
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join(5)
        self._http.server_close()

    def next_transaction(self):
        with self._transactions_lock:
            return next(self._transactions)

    def check_host(self, host):
        """Refusal unless the Host header (None when absent: not a browser) names this server."""
        if host is None or host_name(host) in self.host_names or is_ip_literal(host_name(host)):
            return
        raise Refusal(HTTPStatus.BAD_REQUEST, f'Host {host[:100]!r} is not a name of this server')

    # Routing: (status, JSON body) for a request, or Refusal. Paths are case-sensitive, as
    # the API defines them: lower case.
    def answer(self, method, path, form, client_ip):
        parts = path.strip('/').split('/')
        if parts[0] == 'management':
            if method != 'GET':
                raise Refusal(HTTPStatus.METHOD_NOT_ALLOWED, 'the management API is read-only')
            return self._management(parts[1:], form)
        if parts[0] != 'api' or len(parts) != 5 or parts[1] != f'v{API_VERSION}':
            raise Refusal(HTTPStatus.NOT_FOUND, f'no such path: {path[:200]}')
        _, _, device_type, number, member = parts
        if not DEVICE_NUMBER.fullmatch(number):
            raise BadRequest(f'device number {number[:20]!r} is not a number from 0 to 4294967295')
        device = self.devices.get((device_type, int(number)))
        if device is None:
            raise BadRequest(f'there is no {device_type} number {number}')
        handler = getattr(device, f'{method.lower()}_{member}', None)
        if handler is None:
            other = 'put' if method == 'GET' else 'get'
            if getattr(device, f'{other}_{member}', None) is not None:
                raise Refusal(HTTPStatus.METHOD_NOT_ALLOWED, f'{member} does not take {method}')
            raise BadRequest(f'{device_type} has no member {member!r}')
        if method == 'PUT':
            if client_ip not in self.control_ips:
                raise Refusal(HTTPStatus.FORBIDDEN, f'{client_ip} is not a control machine')
            self.log.info('alpaca: %s %s %s/%s/%s', client_ip, method, device_type, number, member)
        try:
            value = handler(form) if method == 'PUT' else handler()
        except AlpacaError as e:
            return self._envelope(form, ErrorNumber=e.number, ErrorMessage=e.message)
        return self._envelope(form, **({} if value is None else {'Value': value}))

    def _management(self, parts, form):
        if parts == ['apiversions']:
            return self._envelope(form, Value=[API_VERSION])
        if parts == [f'v{API_VERSION}', 'description']:
            return self._envelope(form, Value=self.description)
        if parts == [f'v{API_VERSION}', 'configureddevices']:
            return self._envelope(form, Value=[d.configured() for d in self.devices.values()])
        raise Refusal(HTTPStatus.NOT_FOUND, 'no such management path')

    def _envelope(self, form, **fields):
        body = dict(fields)
        body.setdefault('ErrorNumber', 0)
        body.setdefault('ErrorMessage', '')
        body['ClientTransactionID'] = form.transaction_id('ClientTransactionID') if form else 0
        body['ServerTransactionID'] = self.next_transaction()
        return body


def is_ip_literal(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def own_host_names():
    """localhost and the names this machine gives itself."""
    names = {'localhost', 'localhost.localdomain', 'ip6-localhost'}
    for name in (socket.gethostname(), socket.getfqdn()):
        names.add(name.lower().rstrip('.'))
    return names


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most PER_ADDRESS from one address and MAX_CONNECTIONS
    in all."""
    daemon_threads = True

    def __init__(self, address, handler, log):
        self._slots = AddressSlots(PER_ADDRESS, MAX_CONNECTIONS)
        self._log = log
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        ip = client_address[0]
        if not self._slots.take(ip):
            if self._slots.first_refusal(ip):
                self._log.warning('alpaca: refusing connections from %s: too many open', ip)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release(ip)
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release(client_address[0])


class _SocketReader(io.RawIOBase):
    """The handler's rfile: reads through a RequestReader, so a request has a deadline."""

    def __init__(self, reader):
        super().__init__()
        self.reader = reader

    def readable(self):
        return True

    def readinto(self, buffer):
        return self.reader.recv_into(buffer)


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'   # keep-alive: clients poll position several times a second
        timeout = IDLE_TIMEOUT
        disable_nagle_algorithm = True   # headers and body go out as two writes: no 40 ms wait for an ACK
        server_version = 'rockit-alpaca'

        def setup(self):
            super().setup()
            self.reader = RequestReader(self.connection, IDLE_TIMEOUT, REQUEST_DEADLINE)
            self.rfile = io.BufferedReader(_SocketReader(self.reader))

        def handle_one_request(self):
            self.reader.request_done()
            super().handle_one_request()

        def do_GET(self):
            self._serve('GET')

        def do_PUT(self):
            self._serve('PUT')

        def _serve(self, method):
            try:
                url = urlsplit(self.path)
                form = Form(_pairs(url.query if method == 'GET' else self._body()), caseless=method == 'GET')
                self.reader.request_done()   # read whole: answering has the idle timeout, not the deadline
                server.check_host(self.headers.get('Host'))
                body = server.answer(method, url.path, form, self.client_address[0])
            except socket.timeout as e:   # the form trickled in too slowly
                self.close_connection = True
                self.reader.request_done()    # the reply gets the idle timeout, not the spent deadline
                return self._reply(HTTPStatus.REQUEST_TIMEOUT, str(e))
            except BadRequest as e:
                return self._reply(HTTPStatus.BAD_REQUEST, str(e))
            except Refusal as e:
                return self._reply(e.status, str(e))
            except Exception:  # a bug must not take the connection thread down silently
                server.log.exception('alpaca: %s %s failed', method, self.path)
                return self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, 'internal error')
            self._reply(HTTPStatus.OK, json.dumps(body), 'application/json')

        def _body(self):
            length = self.headers.get('Content-Length', '0').strip()
            if not length.isdigit() or not length.isascii():
                self.close_connection = True   # the body's end is unknown: the connection is spent
                raise BadRequest(f'Content-Length {length!r} is not a number')
            digits = length.lstrip('0') or '0'
            if len(digits) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:   # int() refuses 4300 digits
                self.close_connection = True
                raise BadRequest(f'a form of {length[:20]} bytes is larger than {MAX_BODY}')
            data = self.rfile.read(int(digits))
            if len(data) < int(digits):
                self.close_connection = True
                raise BadRequest('the form ended early')
            return data

        def _reply(self, status, text, content_type='text/plain; charset=utf-8'):
            data = text.encode()
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            server.log.debug('alpaca: %s ' + format, self.client_address[0], *args)

    return Handler


def _pairs(query):
    """(name, value) pairs of a query string or form body; BadRequest when malformed."""
    try:
        text = query.decode('utf-8') if isinstance(query, bytes) else query
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors='strict')
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f'malformed parameters: {e}') from None
