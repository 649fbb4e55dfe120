from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tapkit.timeformats import (
    EPOCH_SECONDS,
    FORMATS,
    ISO8601_MILLIS_Z,
    ISO8601_OFFSET,
    ISO8601_Z,
    KLAVIYO,
    SQLSERVER_MILLIS,
    YYYYMMDD,
    TimestampFormat,
    canonical,
    canonical_instant,
    iso8601_with_offset,
    parse_instant,
)

MOMENT = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=-5)))

instants = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (ISO8601_Z, "2024-01-02T08:04:05Z"),
        (ISO8601_OFFSET, "2024-01-02T08:04:05+00:00"),
        (ISO8601_MILLIS_Z, "2024-01-02T08:04:05.123Z"),
        (KLAVIYO, "2024-01-02T08:04:05.123456"),
        (YYYYMMDD, "20240102"),
        (SQLSERVER_MILLIS, "2024-01-02 08:04:05.123"),
        (EPOCH_SECONDS, 1704182645),
    ],
)
def test_each_format_renders_utc_in_its_shape(fmt: TimestampFormat, expected: str | int) -> None:
    rendered = fmt.render(MOMENT)
    assert rendered == expected
    assert type(rendered) is type(expected)


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
@given(moment=instants)
def test_round_trip_is_exact_to_the_precision(fmt: TimestampFormat, moment: datetime) -> None:
    parsed = fmt.parse(fmt.render(moment))
    assert parsed == fmt.floor(moment)
    assert timedelta(0) <= moment - parsed < fmt.precision
    assert fmt.render(parsed) == fmt.render(moment)


@given(moment=instants)
def test_zone_offsets_render_the_same_instant(moment: datetime) -> None:
    shop = iso8601_with_offset("America/New_York")
    text = str(shop.render(moment))
    assert text.endswith(("-05:00", "-04:00"))
    assert shop.parse(text) == ISO8601_Z.floor(moment)


@given(moment=instants)
def test_ceil_and_floor_bracket_the_moment(moment: datetime) -> None:
    for fmt in FORMATS.values():
        assert fmt.floor(moment) <= moment <= fmt.ceil(moment)
        assert fmt.ceil(moment) - fmt.floor(moment) in (timedelta(0), fmt.precision)


def test_formats_refuse_text_of_another_format() -> None:
    with pytest.raises(ValueError, match="2024-01-02"):
        YYYYMMDD.parse("2024-01-02")
    with pytest.raises(ValueError, match="02/01/2024"):
        ISO8601_Z.parse("02/01/2024")


@given(moment=instants)
def test_canonical_form_orders_as_time_does(moment: datetime) -> None:
    later = moment + timedelta(microseconds=1)
    assert canonical(moment) < canonical(later)
    assert canonical(moment).endswith("+00:00")
    assert parse_instant(canonical(moment)) == moment


@given(moment=instants, style=st.sampled_from(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"]))
def test_canonical_instant_agrees_with_the_strict_parser(moment: datetime, style: str) -> None:
    text = moment.strftime(style)
    for variant in (text, text.replace("+0000", "Z"), text[:-5]):
        assert canonical_instant(variant) == canonical(parse_instant(variant))


def test_canonical_instant_refuses_what_the_strict_parser_refuses() -> None:
    for bad in ("2024-13-02T00:00:00Z", "2024-01-02T25:00:00Z", "yesterday at noon", ""):
        with pytest.raises(ValueError, match=r"parse|range|invalid|must be"):
            canonical_instant(bad)
    assert canonical_instant("2024-01-02") == canonical(parse_instant("2024-01-02"))


def test_parse_instant_treats_naive_as_utc() -> None:
    assert parse_instant("2024-01-02T03:04:05") == pendulum.datetime(2024, 1, 2, 3, 4, 5)
    assert parse_instant(datetime(2024, 1, 2)) == pendulum.datetime(2024, 1, 2)
