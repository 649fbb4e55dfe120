"""The dbt step: marts that agree with the source, built incrementally, failing loudly on bad data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from devstack.testing import Project, Result
from sandbox.klaviyo.client import KlaviyoClient

SEND_METRICS = {"Received Email", "Received SMS", "Received Push"}
MARTS = "analytics_marts"


def load_and_build(project: Project) -> Result:
    result = project.meltano("run", "tap-klaviyo", "target-postgres", "dbt-postgres:build")
    assert result.returncode == 0, result.output[-4000:]
    assert "ERROR=0" in result.output
    return result


def numbers_from_the_sandbox(project: Project) -> dict[str, Counter[str]]:
    control = project.sandbox.control
    metric_names = {
        m["id"]: m["attributes"]["name"]
        for m in KlaviyoClient(project.sandbox.api_url).all("/api/metrics")
    }
    campaign_of_message = {m["id"]: m["campaign_id"] for m in control.truth("campaign-message")}
    events = control.truth("event")
    sends = Counter(
        campaign_of_message[e["campaign_message_id"]]
        for e in events
        if e["campaign_message_id"] and metric_names[e["metric_id"]] in SEND_METRICS
    )
    return {
        "events_per_metric": Counter(e["metric_id"] for e in events),
        "profiles_per_list": Counter(m["list_id"] for m in control.truth("list-member")),
        "sends_per_campaign": +sends,
    }


def numbers_from_the_marts(project: Project) -> dict[str, Counter[str]]:
    def counted(sql: str) -> Counter[str]:
        return Counter({key: int(value) for key, value in project.query(sql) if value})

    return {
        "events_per_metric": counted(
            f"select m.metric_id, count(*) from {MARTS}.fct_klaviyo_events e "
            f"join {MARTS}.dim_klaviyo_metrics m using (metric_key) group by 1"
        ),
        "profiles_per_list": counted(
            f"select list_id, member_count from {MARTS}.dim_klaviyo_lists"
        ),
        "sends_per_campaign": counted(
            f"select c.campaign_id, g.sends from {MARTS}.fct_klaviyo_campaign_engagement g "
            f"join {MARTS}.dim_klaviyo_campaigns c using (campaign_key)"
        ),
    }


def test_the_marts_give_the_numbers_the_source_gives(built_project: Project) -> None:
    # built_project ran load_and_build on a fresh pipeline (and asserted what it asserts)
    expected = numbers_from_the_sandbox(built_project)
    assert sum(expected["sends_per_campaign"].values()) > 0
    assert numbers_from_the_marts(built_project) == expected


def test_a_second_run_after_changes_updates_the_marts_incrementally(
    loaded_project: Project,
) -> None:
    project = loaded_project  # after load_and_build
    control = project.sandbox.control
    control.create("event", count=40)
    control.add_late_events(count=5, age_seconds=1_200)  # inside the 60-minute lookbacks
    control.create("list-member", count=6)
    control.update("profile", count=4)
    second = load_and_build(project)
    assert "incremental model" in second.output
    assert numbers_from_the_marts(project) == numbers_from_the_sandbox(project)
    facts = project.query(
        f"select count(*), count(distinct event_id) from {MARTS}.fct_klaviyo_events"
    )[0]
    assert facts[0] == facts[1] == len(control.truth("event"))


def test_a_broken_row_fails_the_job_naming_the_problem(loaded_project: Project) -> None:
    project = loaded_project  # after load_and_build
    project.query(
        "insert into tap_klaviyo.events (id, datetime, metric_id, profile_id, event_properties, _sdc_batched_at) "
        "select 'BROKEN-1', now(), 'M_NO_SUCH_METRIC', profile_id, '{}'::jsonb, now() "
        "from tap_klaviyo.events limit 1 returning id"
    )
    job = project.meltano("run", "klaviyo-to-postgres")
    assert job.returncode != 0
    failing = [
        line
        for line in job.output.splitlines()
        if "FAIL" in line and "every_event_has_a_known_metric" in line
    ]
    assert failing, job.output[-4000:]


def test_docs_generate_and_the_pipeline_runs_model(built_project: Project) -> None:
    project = built_project  # after load_and_build; docs generate only reads the database
    runs = project.query(f"select pipeline, status from {MARTS}.pipeline_runs")
    assert ("tap-klaviyo-to-target-postgres", "SUCCESS") in runs or (
        "tap-klaviyo-to-target-postgres",
        "RUNNING",
    ) in runs
    docs = project.meltano("invoke", "dbt-postgres:docs-generate")
    assert docs.returncode == 0, docs.output[-3000:]
    assert (Path(project.root) / "transform" / "target" / "catalog.json").exists()
