from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tapkit.incremental import ApiFilter, Bound, Incremental, Op
from tapkit.timeformats import EPOCH_SECONDS, ISO8601_Z, YYYYMMDD, iso8601_with_offset
from tapkit.windows import Window, WindowPolicy

T0 = datetime(2024, 3, 10, 12, 30, 15, tzinfo=UTC)
T1 = datetime(2024, 3, 11, 0, 0, 0, tzinfo=UTC)


def test_exclusive_filters_rewind_by_their_precision() -> None:
    klaviyo_profiles = ApiFilter("updated", Op.GT, ISO8601_Z, upper_field="updated", upper_op=Op.LT)
    assert klaviyo_profiles.rewind == timedelta(seconds=1)
    assert klaviyo_profiles.bounds(T0, T1) == [
        Bound("updated", Op.GT, "2024-03-10T12:30:14Z"),
        Bound("updated", Op.LT, "2024-03-11T00:00:00Z"),
    ]


def test_inclusive_filters_do_not_rewind_but_apply_lookback() -> None:
    events = ApiFilter(
        "datetime", Op.GTE, ISO8601_Z, upper_field="datetime", lookback=timedelta(hours=2)
    )
    assert events.rewind is None
    assert events.bounds(T0, None) == [Bound("datetime", Op.GTE, "2024-03-10T10:30:15Z")]


def test_parameter_style_filters_and_coarse_formats() -> None:
    shopify = ApiFilter(
        "updated_at_min",
        Op.GTE,
        iso8601_with_offset("America/New_York"),
        upper_field="updated_at_max",
        upper_op=Op.LTE,
    )
    assert shopify.bounds(T0, T1) == [
        Bound("updated_at_min", Op.GTE, "2024-03-10T08:30:15-04:00"),
        Bound("updated_at_max", Op.LTE, "2024-03-10T20:00:00-04:00"),
    ]
    onetrust = ApiFilter("modifieddate", Op.GTE, YYYYMMDD)
    assert onetrust.bounds(T0, T1) == [
        Bound("modifieddate", Op.GTE, "20240310")
    ]  # floors: re-reads the day
    assert onetrust.bounded is False
    epoch = ApiFilter("timestamp", Op.GT, EPOCH_SECONDS, upper_field="timestamp")
    assert epoch.bounds(T0, T1)[0].value == int(T0.timestamp()) - 1


def test_a_coarse_upper_bound_rounds_up_so_nothing_is_cut_off() -> None:
    daily = ApiFilter("day", Op.GTE, YYYYMMDD, upper_field="day", upper_op=Op.LT)
    assert daily.bounds(T0, datetime(2024, 3, 12, 6, tzinfo=UTC))[1] == Bound(
        "day", Op.LT, "20240313"
    )


def test_no_start_means_no_lower_bound() -> None:
    events = ApiFilter("datetime", upper_field="datetime")
    assert events.bounds(None, T1) == [Bound("datetime", Op.LT, "2024-03-11T00:00:00Z")]


def test_historical_filter_applies_until_there_is_a_bookmark() -> None:
    contract = Incremental(
        "updated_at",
        api_filter=ApiFilter("updated_at_min"),
        historical_filter=ApiFilter("created_at_min"),
    )
    assert contract.filter_for(has_bookmark=False).field == "created_at_min"  # type: ignore[union-attr]
    assert contract.filter_for(has_bookmark=True).field == "updated_at_min"  # type: ignore[union-attr]
    assert "first load" in contract.describe()


def test_descriptions_name_field_operator_format_rewind_and_lookback() -> None:
    text = ApiFilter(
        "updated", Op.GT, ISO8601_Z, upper_field="updated", lookback=timedelta(hours=1)
    ).describe()
    assert "`updated > bookmark`" in text
    assert "`updated < window end`" in text
    assert "iso8601-z" in text
    assert "rewound 1 s" in text
    assert "lookback 1 h" in text


def test_windows_cover_the_range_in_order_without_gaps() -> None:
    windows = WindowPolicy(timedelta(days=1)).cut(T0, T1 + timedelta(days=2))
    assert windows[0].start == T0
    assert windows[-1].end == T1 + timedelta(days=2)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert len(windows) == 3


def test_single_and_empty_windows() -> None:
    assert WindowPolicy().cut(T0, T1) == [Window(T0, T1)]
    assert WindowPolicy(timedelta(days=1)).cut(T1, T0) == [Window(T1, T1)]
    with pytest.raises(ValueError, match="longer than zero"):
        WindowPolicy().with_length(timedelta(0))
