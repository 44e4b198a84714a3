"""The keys every report_status() starts with, in the form dashboards already read."""
import time

from .codes import LinkStatus

DATE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
_last = (None, '')   # (second, its text), replaced whole so that threads never see a torn pair


def iso(moment):
    """A UTC datetime as status shows it (None stays None)."""
    return moment.strftime(DATE_FORMAT) if moment else None


def utc_now():
    """Now in UTC, to the second, formatted once a second rather than on every call: every
    dashboard polls report_status(), and formatting the date was a tenth of the server's
    time for such a call."""
    global _last
    second = int(time.time())
    if _last[0] != second:
        _last = (second, time.strftime(DATE_FORMAT, time.gmtime(second)))
    return _last[1]


def link(loop, has_state=True):
    """'status' ONLINE or OFFLINE and, while offline, 'offline_reason'. has_state: whether
    the daemon has read the device's state yet (it is not online before)."""
    if loop.connected and has_state:
        return {'status': LinkStatus.Online}
    return {'status': LinkStatus.Offline, 'offline_reason': loop.offline_reason or 'connecting'}


def header(loop, has_state=True):
    """The date and the link's status (see link)."""
    return {'date': utc_now(), **link(loop, has_state)}
