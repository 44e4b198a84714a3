"""`pycam status`'s lines for the field station: schedule, housekeeping, watchdog, health, transfer."""

STATES = {'acquiring': '[bold green]acquiring[/bold green]', 'waiting': 'waiting',
          'darks': '[yellow]taking darks[/yellow]', 'manual': '[yellow]manual[/yellow]'}


def schedule_line(schedule):
    if not schedule:
        return None
    state = STATES.get(schedule['state'], schedule['state'])
    return (f'Schedule: {state}, next start {schedule.get("next_start") or "none"}, '
            f'next stop {schedule.get("next_stop") or "none"}')


def housekeeping_line(storage):
    products = None
    if storage.get('products_mb') is not None:
        used = storage.get('products_used_mb')
        products = (f'  processing products {"?" if used is None else f"{used:g}"} of {storage["products_mb"]:g} MB: '
                    f'those of {storage.get("deleted_products", 0)} pairs deleted')
    if not storage.get('delete_oldest'):
        return products
    captures = (f'  deletes the oldest products, then captures, under {storage["keep_free_mb"]:g} MB free: '
                f'{storage["deleted_captures"]} deleted, last clean-up {storage.get("last_cleanup") or "none"}')
    return captures if products is None else f'{products}\n{captures}'


def health_line(health):
    if not health:
        return None
    temperature = f'{health["cpu_temperature_c"]:.1f} C' if health.get('cpu_temperature_c') is not None else 'no sensor'
    throttled = health.get('throttled')
    flags = [name for name, on in (throttled or {}).items() if name != 'raw' and on and not name.endswith('occurred')]
    throttle = '' if throttled is None else (f', [bold red]{" ".join(flags)}[/bold red]' if flags else ', not throttled')
    load = '/'.join(f'{v:.2f}' for v in health.get('load') or [])
    uptime = health.get('uptime_s')
    up = f', up {uptime / 86400:.1f} days' if uptime is not None else ''
    free = f'{health["disk_free_mb"]:.0f} MB' if health.get('disk_free_mb') is not None else 'unknown'
    return f'Health: CPU {temperature}{throttle}, disk {free} free, load {load}{up}'


def watchdog_line(watchdog):
    """Said only once it has acted (or is off): a watchdog that watches is no news."""
    if not watchdog or (watchdog['state'] == 'watching' and not watchdog.get('restarts')):
        return None
    if watchdog['state'] == 'off':
        return 'Watchdog: off'
    colour = 'yellow' if watchdog['state'] == 'watching' else 'bold red'
    return (f'Watchdog: [{colour}]{watchdog["state"]}[/{colour}], {watchdog["restarts"]} device restarts, '
            f'last {watchdog.get("last_restart") or "none"}')


def transfer_line(transfer):
    if not transfer:
        return 'Transfer: off'
    line = (f'Transfer to {transfer["destination"]}: last success {transfer.get("last_success") or "none yet"}, '
            f'{transfer["pending_files"] if transfer.get("pending_files") is not None else "?"} files pending')
    if transfer.get('last_error'):
        line += f'\n  [red]last error: {transfer["last_error"]}[/red]'
    return line


def lines(data):
    found = [housekeeping_line(data['storage']), schedule_line(data.get('schedule')),
             watchdog_line(data.get('watchdog')), health_line(data.get('health')),
             transfer_line(data.get('transfer'))]
    return [line for line in found if line]
