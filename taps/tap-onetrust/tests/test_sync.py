"""Full and incremental syncs against the sandbox: nothing lost, nothing invented."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sandbox.onetrust.sandbox import OneTrustSandbox
from tapkit.testing import Run, TapRunner, upserted
from tapkit.timeformats import read_instant as instant

#: stream -> (sandbox kind, primary key)
STREAMS = {
    "dsar_requests": ("request", ("requestQueueId",)),
    "dsar_subtasks": ("subtask", ("subTaskId",)),
    "dsar_request_history": ("request_history", ("requestQueueRefId", "recordedDateTime")),
    "consent_transactions": ("transaction", ("transactionGuid",)),
    "data_subjects": ("data_subject", ("id",)),
    "purposes": ("purpose", ("purposeId",)),
    "collection_points": ("collection_point", ("id",)),
}
Queries = Callable[[], list[dict[str, list[str]]]]


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def keys(records: Iterable[dict[str, Any]], key: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return [tuple(_comparable(r[k]) for k in key) for r in records]


def _comparable(value: Any) -> Any:
    """Instants compared as instants (the tap may rewrite their form, never their value)."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return instant(value)
    return value


def test_full_sync_returns_exactly_the_sandbox_records(
    run_tap: TapRunner, sandbox: OneTrustSandbox
) -> None:
    run = run_tap()
    assert_ok(run)
    for stream, (kind, key) in STREAMS.items():
        got = keys(run.records(stream), key)
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        truth = keys(sandbox.control.truth(kind), key)
        assert truth, f"{stream}: the sandbox has none (the test proves nothing)"
        assert sorted(got) == sorted(truth), stream
    served = {r["requestQueueId"]: r for r in sandbox.control.truth("request")}
    for record in run.records("dsar_requests"):
        source = served[record["requestQueueId"]]
        assert instant(record["dateUpdated"]) == instant(source["dateUpdated"])
        assert record["firstName"] == source["firstName"]  # unicode names kept as sent
        assert record["status"] == source["status"]
    # consent instants come without a zone; they are UTC and leave the tap with one
    transaction = run.records("consent_transactions")[0]
    assert transaction["consentCreationDate"].endswith("+00:00")
    bookmarks = run.state["bookmarks"]
    assert bookmarks["dsar_requests"]["replication_key"] == "dateUpdated"
    assert "backfill_started_at" not in bookmarks["dsar_requests"]
    assert bookmarks["consent_transactions"]["replication_key"] == "consentCreationDate"


def test_the_first_load_walks_months_then_runs_read_by_update_day(
    run_tap: TapRunner, sandbox: OneTrustSandbox, dsar_queries: Queries
) -> None:
    first = run_tap(streams=["dsar_requests"])
    assert_ok(first)
    queries = dsar_queries()
    # every month from start_date's on, once (fetched up to max_concurrent_requests at once)
    months = sorted(q["createddate"][0] for q in queries if q.get("page", ["0"]) == ["0"])
    assert months[0] == "20250601"
    assert all(m.endswith("01") for m in months)
    assert len(months) == len(set(months)) >= 14
    assert not any("modifieddate" in q for q in queries)
    assert {q["sort"][0] for q in queries} == {"dateCreated,asc"}
    # state after each month, in month order, saying the load is unfinished until it is done
    marks = [s["bookmarks"]["dsar_requests"] for s in first.states if "bookmarks" in s]
    unfinished = [m["replication_key_value"] for m in marks if "backfill_started_at" in m]
    assert [instant(v).strftime("%Y%m%d") for v in unfinished] == months[1:]
    assert "backfill_started_at" not in marks[-1]

    sandbox.control.clear_requests()
    updated = sandbox.control.update("request", count=7)
    second = run_tap(streams=["dsar_requests"], state=first.state)
    assert_ok(second)
    queries = dsar_queries()
    bookmark = instant(first.state["bookmarks"]["dsar_requests"]["replication_key_value"])
    assert {q["modifieddate"][0] for q in queries} == {bookmark.strftime("%Y%m%d")}
    assert not any("createddate" in q for q in queries)
    got = {r["requestQueueRefId"] for r in second.records("dsar_requests")}
    assert set(updated) <= got
    assert all(instant(r["dateUpdated"]) >= bookmark for r in second.records("dsar_requests"))


def test_ties_at_one_millisecond_across_pages_and_same_day_updates_are_all_loaded(
    run_tap: TapRunner, sandbox: OneTrustSandbox
) -> None:
    """Pages of 20: the seeded 45 requests sharing one millisecond cross two page boundaries;
    then 40 more share the bookmark's own millisecond, then same-day updates follow."""
    key = ("requestQueueId",)
    first = run_tap(streams=["dsar_requests"], page_size=20)
    assert_ok(first)
    bookmark = first.state["bookmarks"]["dsar_requests"]["replication_key_value"]
    at = instant(bookmark).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    tied = sandbox.control.update("request", count=40, at=at)
    second = run_tap(streams=["dsar_requests"], page_size=20, state=first.state)
    assert_ok(second)
    got = {r["requestQueueRefId"] for r in second.records("dsar_requests")}
    assert set(tied) <= got, "requests tied at the bookmark's millisecond were skipped"
    same_day = sandbox.control.update("request", count=10)
    third = run_tap(streams=["dsar_requests"], page_size=20, state=second.state)
    assert_ok(third)
    assert set(same_day) <= {r["requestQueueRefId"] for r in third.records("dsar_requests")}
    rows = upserted([first, second, third], "dsar_requests", key)
    truth = {r["requestQueueId"]: r for r in sandbox.control.truth("request")}
    assert sorted(k for (k,) in rows) == sorted(truth)
    for (request_id,), row in rows.items():
        assert instant(row["dateUpdated"]) == instant(truth[request_id]["dateUpdated"])


def test_subtasks_and_history_follow_their_updated_requests(
    run_tap: TapRunner, sandbox: OneTrustSandbox
) -> None:
    first = run_tap(streams=["dsar_requests", "dsar_subtasks"])
    assert_ok(first)
    changed = sandbox.control.update("subtask", count=5)
    second = run_tap(state=first.state, streams=["dsar_requests", "dsar_subtasks"])
    assert_ok(second)
    assert set(changed) <= set(second.ids("dsar_subtasks", "subTaskId"))
    rows = upserted([first, second], "dsar_subtasks", ("subTaskId",))
    truth = {s["subTaskId"]: s for s in sandbox.control.truth("subtask")}
    assert {k for (k,) in rows} == set(truth)
    for subtask_id in changed:
        assert rows[(subtask_id,)]["subTaskStatus"] == truth[subtask_id]["subTaskStatus"]
