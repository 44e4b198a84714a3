"""The station computer's health: CPU temperature, the Raspberry Pi's throttling flags,
free disk, load and uptime, read from the kernel (and the Pi's firmware where there is
one), and a daily CSV of them beside the data (<root>/health/<YYYY-MM-DD>.csv)."""
import os
import shutil
import subprocess
from pathlib import Path

from rockit.common.csvlog import CsvLog
from rockit.common.status import iso

THERMAL = Path('/sys/class/thermal')
FIRMWARE_THROTTLED = Path('/sys/devices/platform/soc/soc:firmware/get_throttled')
VCGENCMD_TIMEOUT = 5
# Bits of the Pi firmware's get_throttled word.
THROTTLE_FLAGS = {0: 'under_voltage', 1: 'frequency_capped', 2: 'throttled', 3: 'soft_temperature_limit',
                  16: 'under_voltage_occurred', 17: 'frequency_capped_occurred', 18: 'throttled_occurred',
                  19: 'soft_temperature_limit_occurred'}
COLUMNS = ('time', 'cpu_temperature_c', 'throttled', 'disk_free_mb', 'load_1m', 'load_5m', 'load_15m',
           'uptime_s')


def cpu_temperature_c(thermal=THERMAL):
    """The CPU's temperature from the first thermal zone that reads (the CPU's first), or
    None on a machine without a sensor."""
    zones = sorted(thermal.glob('thermal_zone*'))
    zones.sort(key=lambda z: 'cpu' not in _read(z / 'type', ''))
    for zone in zones:
        text = _read(zone / 'temp')
        if text and text.lstrip('-').isdigit():
            return round(int(text) / 1000, 1)
    return None


def throttled_word():
    """The firmware's throttling word (an int), or None off a Raspberry Pi."""
    text = _read(FIRMWARE_THROTTLED)
    if not text and shutil.which('vcgencmd'):
        try:
            done = subprocess.run(['vcgencmd', 'get_throttled'], capture_output=True, text=True,
                                  timeout=VCGENCMD_TIMEOUT)
            text = done.stdout.strip().partition('=')[2] if done.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            text = None
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def throttle_flags(word):
    """{'raw': '0x50005', 'under_voltage': True, ...} or None without a word."""
    if word is None:
        return None
    return {'raw': hex(word), **{name: bool(word >> bit & 1) for bit, name in THROTTLE_FLAGS.items()}}


def uptime_s():
    text = _read(Path('/proc/uptime'))
    return round(float(text.split()[0])) if text else None


def reading(free_bytes, now):
    """One health reading: what status shows and the CSV records; free_bytes() reads the
    data disk's free space."""
    try:
        disk_free_mb = round(free_bytes() / 1e6, 1)
    except OSError:
        disk_free_mb = None
    load = [round(v, 2) for v in os.getloadavg()]
    return {'time': iso(now), 'cpu_temperature_c': cpu_temperature_c(), 'throttled': throttle_flags(throttled_word()),
            'disk_free_mb': disk_free_mb, 'load': load, 'uptime_s': uptime_s()}


def csv_row(health):
    throttled = health['throttled']
    load_1m, load_5m, load_15m = health['load']
    return {**health, 'throttled': throttled['raw'] if throttled else None,
            'load_1m': load_1m, 'load_5m': load_5m, 'load_15m': load_15m}


def append_to_log(data_root, now, health):
    """Add a row to the day's CSV (made with its header when new)."""
    path = Path(data_root) / 'health' / f'{now.strftime("%Y-%m-%d")}.csv'
    CsvLog(path, COLUMNS).append(csv_row(health))
    return path


def _read(path, default=None):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default
