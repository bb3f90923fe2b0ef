# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Timestamps as botocore returns them: timezone-aware datetimes in UTC (dateutil's tzutc)."""

from datetime import datetime, timedelta, tzinfo

_ZERO = timedelta(0)


class tzutc(tzinfo):
    """Same behaviour and repr as dateutil.tz.tzutc, without importing dateutil."""

    def utcoffset(self, dt):
        return _ZERO

    def dst(self, dt):
        return _ZERO

    def tzname(self, dt):
        return 'UTC'

    def fromutc(self, dt):
        return dt

    def is_ambiguous(self, dt):
        return False

    def __eq__(self, other):
        if not isinstance(other, tzinfo):
            return NotImplemented
        return other.utcoffset(None) == _ZERO and other.dst(None) in (None, _ZERO)

    def __hash__(self):
        return 0

    def __ne__(self, other):
        return not (self == other)

    def __repr__(self):
        return 'tzutc()'

    def __reduce__(self):
        return tzutc, ()


_UTC = tzutc()


class tzlocal(tzinfo):
    """The machine's local zone, as dateutil.tz.tzlocal (what botocore gives epoch timestamps), without dateutil."""

    def __init__(self):
        import time
        self._std = timedelta(seconds=-time.timezone)
        self._dst = timedelta(seconds=-time.altzone) if time.daylight else self._std

    def _is_dst(self, dt):
        import time
        if dt is None or self._std == self._dst:
            return False
        stamp = (dt.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds() - self._std.total_seconds()
        return time.localtime(stamp).tm_isdst > 0

    def utcoffset(self, dt):
        return self._dst if self._is_dst(dt) else self._std

    def dst(self, dt):
        return self._dst - self._std if self._is_dst(dt) else _ZERO

    def tzname(self, dt):
        import time
        return time.tzname[self._is_dst(dt)]

    def __eq__(self, other):
        return isinstance(other, tzlocal) and (self._std, self._dst) == (other._std, other._dst)

    __hash__ = None

    def __repr__(self):
        return 'tzlocal()'


def parse_epoch_timestamp(value):
    """A JSON-protocol timestamp (epoch seconds) as botocore parses it: an aware datetime in the local zone."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return parse_timestamp(value)
    return datetime.fromtimestamp(value, tzlocal())


def parse_timestamp(value, whole_seconds=False):
    """ISO-8601 string (as the backend sends it; any other text as dateutil reads it) to an aware datetime: in UTC, as
    tzutc(), or tzlocal() where botocore's dateutil gives it (below).

    whole_seconds: the value came from an HTTP date header in real S3 (GET/HEAD
    Last-Modified), which has no fraction, so botocore's value has none either.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # Not ISO 8601: an HTTP date in a REST header, read as botocore reads it (dateutil).
        return aware_datetime(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    else:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=_UTC)
    if whole_seconds and parsed.microsecond:
        parsed = parsed.replace(microsecond=0)
    if not whole_seconds and value[-1:] in ('Z', 'z') and _utc_is_local():
        # dateutil, which botocore parses an XML timestamp with, reads "Z" as the zone named UTC and gives tzlocal()
        # when the local zone has that name (TZ=:UTC, as on Lambda and in every sandbox), else tzutc(). Same instant.
        parsed = parsed.replace(tzinfo=tzlocal())
    return parsed


def _utc_is_local():
    import time
    return 'UTC' in time.tzname


def aware_datetime(value):
    """botocore's parse_to_aware_datetime, which an input timestamp goes through: a datetime as given (naive: UTC),
    epoch seconds (a number, or its text) in the local zone, any other text as dateutil's parser reads it (loaded only
    for such text); always aware, in UTC. Raises TypeError, ValueError or AttributeError where botocore's does, which
    its validator reports as an invalid type."""
    if not isinstance(value, datetime):
        if isinstance(value, (int, float)):
            value = datetime.fromtimestamp(value, tzlocal())
        else:
            try:
                value = datetime.fromtimestamp(float(value), tzlocal())
            except (TypeError, ValueError):
                import dateutil.parser
                try:
                    value = dateutil.parser.parse(value, tzinfos={'GMT': _UTC})
                except (TypeError, ValueError) as e:
                    raise ValueError(f'Invalid timestamp "{value}": {e}') from None
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


_DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
_MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')


def http_date(dt):
    """RFC 7231 date for the synthesized HTTPHeaders (locale-independent)."""
    return (f'{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year} '
            f'{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT')
