"""The date of a status report, formatted once a second rather than on every call: every
dashboard polls report_status(), and datetime's strftime was a tenth of the server's time
for such a call."""
import time

STATUS_DATE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
_last = (None, '')   # (second, its text); replaced whole, so threads never see a torn pair


def status_date():
    """Now in UTC, to the second, as 2026-01-31T23:59:59Z."""
    global _last
    second = int(time.time())
    if _last[0] != second:
        _last = (second, time.strftime(STATUS_DATE_FORMAT, time.gmtime(second)))
    return _last[1]
