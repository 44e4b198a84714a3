"""The status date: UTC to the second, the text every daemon's report_status() carries."""
import datetime

from rockit.common.status import DATE_FORMAT, utc_now


def _now_second():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)


def test_status_date_is_the_current_utc_second():
    for _ in range(3):   # the first call formats, the next ones reuse, unless the second turns
        before = _now_second()
        text = utc_now()
        after = _now_second()
        assert before <= datetime.datetime.strptime(text, DATE_FORMAT) <= after
        assert len(text) == 20 and text.endswith('Z')
