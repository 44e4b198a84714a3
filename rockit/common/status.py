"""The keys every report_status() starts with, in the form dashboards already read."""
import datetime

from .codes import LinkStatus

DATE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def iso(moment):
    """A UTC datetime as status shows it (None stays None)."""
    return moment.strftime(DATE_FORMAT) if moment else None


def utc_now():
    return iso(datetime.datetime.now(datetime.timezone.utc))


def link(loop, has_state=True):
    """'status' ONLINE or OFFLINE and, while offline, 'offline_reason'. has_state: whether
    the daemon has read the device's state yet (it is not online before)."""
    if loop.connected and has_state:
        return {'status': LinkStatus.Online}
    return {'status': LinkStatus.Offline, 'offline_reason': loop.offline_reason or 'connecting'}


def header(loop, has_state=True):
    """The date and the link's status (see link)."""
    return {'date': utc_now(), **link(loop, has_state)}
