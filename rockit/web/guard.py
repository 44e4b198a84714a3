"""What every request to rockit-web must get past before the pages see it, and what a
browser is told about each answer.

A browser on a control machine sends whatever another site's page asks it to, from the
control machine's own address, so the address alone proves nothing about who meant a
command. A command is therefore taken only as JSON (a cross-site form or a no-preflight
fetch cannot send that type) from rockit-web's own pages (Origin, else Referer, equal to
the origin the request was sent to), and only under a Host this server calls its own (a
DNS-rebinding name points a browser's idea of the origin at this server: an IP address
cannot be rebound, a name can). Bodies are small JSON objects, so anything larger is refused
before it is read.
"""
import ipaddress

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

from rockit.common.host_header import host_name

MAX_BODY = 64 * 1024        # bytes; the largest command (pycamd settings) is a few hundred

SECURITY_HEADERS = [
    (b'content-security-policy',
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b'x-frame-options', b'DENY'),
    (b'x-content-type-options', b'nosniff'),
    (b'referrer-policy', b'same-origin'),
]


def host_allowed(host_header, names):
    """Whether a Host header names this server: an IP address (which cannot be rebound)
    or one of its configured names."""
    host = host_name(host_header)
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host in names


def command_refusal(request):
    """Why a command request did not come from one of rockit-web's own pages, or None."""
    media_type = request.headers.get('content-type', '').split(';', 1)[0].strip().lower()
    if media_type != 'application/json':
        return 415, 'commands are accepted only as Content-Type application/json'
    origin = f"{request.url.scheme}://{request.headers.get('host', '').lower()}"
    sent_from = request.headers.get('origin')
    if sent_from is not None:
        if sent_from.lower() != origin:
            return 403, f'commands are accepted only from pages of {origin}, not from {sent_from}'
        return None
    referer = request.headers.get('referer', '')
    if referer.lower() == origin or referer.lower().startswith(origin + '/'):
        return None
    return 403, f'commands are accepted only from pages of {origin} (no Origin or Referer says so)'


class Guard:
    """ASGI middleware: refuses a Host not this server's own and a body over MAX_BODY, and
    adds the security headers to every answer."""

    def __init__(self, app, host_names):
        self.app, self.host_names = app, frozenset(host_names)

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)

        async def send_with_headers(message):
            if message['type'] == 'http.response.start':
                message = dict(message, headers=list(message.get('headers', [])) + SECURITY_HEADERS)
            await send(message)

        if not host_allowed(headers.get('host', ''), self.host_names):
            refusal = PlainTextResponse(f"rockit-web does not answer to the host name {headers.get('host')!r}\n", 400)
            return await refusal(scope, receive, send_with_headers)
        declared = headers.get('content-length', '0')
        if not declared.isdigit() or int(declared) > MAX_BODY:
            refusal = PlainTextResponse(f'a request body is at most {MAX_BODY} bytes\n', 413)
            return await refusal(scope, receive, send_with_headers)

        received = 0

        async def receive_at_most():
            nonlocal received
            message = await receive()
            received += len(message.get('body', b''))
            if received > MAX_BODY:     # chunked, so no Content-Length said so first
                raise HTTPException(413, f'a request body is at most {MAX_BODY} bytes')
            return message

        await self.app(scope, receive_at_most, send_with_headers)
