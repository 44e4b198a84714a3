"""The web application: pages, the status API and commands forwarded to the daemons.

Pages and status only read the pollers' latest; a command is the one request that talks
to a daemon itself, and only from a control machine, through one of these pages (guard.py);
each command, who sent it and its answer go to the log.
"""
import html
import logging
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rockit.common import pyro
from rockit.common.codes import CommandStatus

from . import guard, history, kinds

STATIC = Path(__file__).with_name('static')


def _page(name, **values):
    text = (STATIC / name).read_text()
    for key, value in values.items():
        text = text.replace('{{' + key + '}}', html.escape(value))
    return text


def make_app(config, pollers, log=logging.getLogger('rockit.web')):
    def poller(request):
        found = pollers.get(request.path_params['daemon'])
        if found is None:
            raise HTTPException(404, f"no daemon '{request.path_params['daemon']}' here")
        return found

    async def overview(request):
        return HTMLResponse(_page('index.html'))

    async def daemon_page(request):
        return HTMLResponse(_page('daemon.html', daemon=poller(request).name))

    async def all_status(request):
        return JSONResponse([p.view() for p in pollers.values()])

    async def status(request):
        client = request.client.host if request.client else None
        return JSONResponse(dict(poller(request).view(), client=client, control=client in config.control_ips))

    async def plot(request):
        png = poller(request).pngs.get(request.path_params['plot'])
        if png is None:
            raise HTTPException(404, 'no such plot yet')
        return Response(png, media_type='image/png', headers={'Cache-Control': 'max-age=86400'})

    def pycam_day(request):
        """The pycamd and the day a history request names (404 for anything else)."""
        target = poller(request)
        day = request.path_params.get('day', '')
        if target.kind.name != 'pycam':
            raise HTTPException(404, f'{target.name} keeps no day results')
        if not history.DAY.match(day):
            raise HTTPException(404, f"'{day}' is not a day (YYYY-MM-DD)")
        return config.daemons[target.name], day

    results = {name: history.DayResults(address) for name, address in config.daemons.items()}

    async def asked(function, *args):
        try:
            return await run_in_threadpool(function, *args)
        except pyro.CommunicationErrors as e:
            raise HTTPException(502, f'the daemon does not answer: {e}') from None
        except history.NoSuchDay as e:
            raise HTTPException(404, str(e)) from None

    async def days(request):
        target = poller(request)
        if target.kind.name != 'pycam':
            return JSONResponse([])
        return JSONResponse(await asked(results[target.name].days))

    async def day_csv(request):
        address, day = pycam_day(request)
        name = request.path_params['name']
        if name not in history.CSV_NAMES:
            raise HTTPException(404, f"no '{name}' results")
        data = await asked(results[address.name].csv, name, day)
        return Response(data, media_type='text/csv', headers={
            'Content-Disposition': f'attachment; filename="{address.name}_{name}_{day}.csv"'})

    async def day_plot(request):
        """The day's picture, or the part of it between ?from= and ?to= (HH:MM[:SS] UTC)."""
        address, day = pycam_day(request)
        try:
            start, end = history.time_range(request.query_params.get('from', ''), request.query_params.get('to', ''))
        except history.BadRange as e:
            raise HTTPException(400, str(e)) from None
        png = await asked(results[address.name].plot, day, start, end)
        return Response(png, media_type='image/png', headers={'Cache-Control': 'no-store'})

    async def command(request):
        refusal = guard.command_refusal(request)
        if refusal is not None:
            return JSONResponse({'error': refusal[1]}, refusal[0])
        target = poller(request)
        if request.client is None or request.client.host not in config.control_ips:
            return JSONResponse({'code': CommandStatus.InvalidControlIP,
                                 'message': 'error: command not accepted from this IP'}, 403)
        try:
            kind = await run_in_threadpool(target.learn_kind)
        except pyro.CommunicationErrors as e:
            return _answer(*_unreachable(target.name, e))
        method = kind.commands.get(request.path_params['command'])
        if method is None:
            raise HTTPException(404, f"no command '{request.path_params['command']}' for {target.name}")
        try:
            arguments = await request.json()
        except (ValueError, RecursionError):    # nesting deeper than json's reader goes is within the body limit
            arguments = None
        if not isinstance(arguments, dict):
            return JSONResponse({'code': CommandStatus.InvalidArgument,
                                 'message': 'error: the body must be a JSON object of arguments'}, 400)
        asked_at = time.monotonic()
        log.info('%s: %s from %s', target.name, method, request.client.host)
        code, message = await run_in_threadpool(_forward, config.daemons[target.name], method, arguments, target,
                                                config.command_timeout)
        log.info('%s: %s answered in %.1f s: %s', target.name, method, time.monotonic() - asked_at, message)
        return _answer(code, message)

    async def refused(request, exc):
        if request.url.path.startswith('/api/'):
            return JSONResponse({'error': exc.detail}, exc.status_code)
        return HTMLResponse(_page('404.html', detail=exc.detail), exc.status_code)

    routes = [
        Route('/', overview),
        Route('/api/status', all_status),
        Route('/api/{daemon}/status', status),
        Route('/api/{daemon}/plot/{plot}.png', plot),
        Route('/api/{daemon}/days', days),
        Route('/api/{daemon}/day/{day}.png', day_plot),
        Route('/api/{daemon}/day/{day}/{name}.csv', day_csv),
        Route('/api/{daemon}/{command}', command, methods=['POST']),
        Mount('/static', StaticFiles(directory=STATIC), name='static'),
        Route('/{daemon}', daemon_page),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: refused},
                     middleware=[Middleware(guard.Guard, host_names=config.host_names)])


def _unreachable(name, error):
    return CommandStatus.Unreachable, f'error: unable to communicate with {name}: {error}'


def _answer(code, message):
    """A command's (code, message) as the CLI would say it, with its HTTP status."""
    http = 200 if code == CommandStatus.Succeeded else (502 if code == CommandStatus.Unreachable else 409)
    return JSONResponse({'code': code, 'message': message}, http)


def _forward(address, method, arguments, target, timeout):
    """Call the daemon's command, waiting as long as a command may take (the registry's
    timeout is for queries); (code, message) in the daemon's own words."""
    try:
        with pyro.connect(address, timeout) as proxy:
            code = getattr(proxy, method)(**arguments)
    except Exception as e:
        if getattr(e, '_pyroTraceback', None) is not None:
            # raised by the daemon's Pyro before the command ran: arguments it could not decode
            return CommandStatus.InvalidArgument, f'error: {address.name} refused the arguments: {e}'
        if isinstance(e, pyro.CommunicationErrors):
            return _unreachable(address.name, e)
        raise
    target.watcher.poke()
    if not isinstance(code, int):
        return CommandStatus.Failed, f'error: unexpected answer {code!r}'
    return code, kinds.message(target.kind, code)
