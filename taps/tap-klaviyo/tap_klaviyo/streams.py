"""Klaviyo streams: each a declarative header over ``KlaviyoStream``.

Incremental contracts follow what each endpoint's filter allows (revision 2026-07-15):
profiles, lists and segments offer only exclusive operators on ``updated`` (so the bookmark
is rewound a second), events and campaigns inclusive ones.  Rate limits are the spec's tiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_klaviyo.client import KlaviyoStream
from tap_klaviyo.jsonapi import flatten
from tapkit.incremental import ApiFilter, Incremental, Op
from tapkit.timeformats import ISO8601_Z
from tapkit.windows import WindowPolicy

CHANNELS_BY_REVISION = (
    ("2025-01-15", ("email", "sms", "mobile_push")),
    ("0000-00-00", ("email", "sms")),
)


def _updated_since(
    field: str,
    op: Op = Op.GTE,
    *,
    bounded: bool = True,
    window: timedelta | None = None,
    sorted: bool = True,
) -> Incremental:
    """``field`` kept and filtered; ``sorted``: the stream asks Klaviyo to sort by it."""
    return Incremental(
        field,
        ApiFilter(field, op, ISO8601_Z, upper_field=field if bounded else None),
        windows=WindowPolicy(window),
        sorted=sorted,
    )


class ProfilesStream(KlaviyoStream):
    """Profiles, by ``updated`` (the API allows only exclusive greater-than/less-than)."""

    name = "profiles"
    path = "/profiles"
    primary_keys = ("id",)
    incremental = _updated_since("updated", Op.GT)
    sort = "updated"
    max_page_size = 100
    includable = ("push-tokens",)
    rate_limits = ("75/s", "750/m")
    # Klaviyo documents a lower tier for reads that ask for predictive analytics.
    rate_limit_variants: ClassVar[dict[str, tuple[str, ...]]] = {
        "with predictive analytics": ("10/s", "150/m")
    }

    def rate_limit_variant(self) -> str | None:
        wanted = self.config.get("profile_additional_fields") or []
        return "with predictive analytics" if "predictive_analytics" in wanted else None

    def extra_params(self) -> dict[str, Any]:
        extra = self.config.get("profile_additional_fields") or []
        return {"additional-fields[profile]": ",".join(extra)} if extra else {}


class EventsStream(KlaviyoStream):
    """Events, by ``datetime``, with a lookback for late arrivals.  Sorted, so a backfill is
    resumable after every page and fetched as concurrent slices of the range."""

    name = "events"
    path = "/events"
    primary_keys = ("id",)
    incremental = _updated_since("datetime")
    sort = "datetime"
    max_page_size = 1000
    rate_limits = ("350/s", "3500/m")
    includable = ("metric", "profile")
    lookback_setting = ("events_lookback", "1h")


class CampaignsStream(KlaviyoStream):
    """Campaigns, by ``updated_at``, per channel and archived flag (the API needs a channel
    filter and returns archived campaigns out of order, so they are never assumed sorted)."""

    name = "campaigns"
    path = "/campaigns"
    primary_keys = ("id",)
    incremental = _updated_since("updated_at", sorted=False)
    sort = "updated_at"
    max_page_size = 100
    rate_limits = ("10/s", "150/m")
    includable = ("tags",)
    partitioned_by = ("channel", "archived")

    @property
    def partitions(self) -> list[dict[str, Any]]:
        revision = str(self.config["revision"])
        channels = next(chs for since, chs in CHANNELS_BY_REVISION if revision >= since)
        return [
            {"channel": channel, "archived": archived}
            for channel in channels
            for archived in (False, True)
        ]

    def base_filters(self, context: Context | None) -> list[str]:
        assert context is not None
        return [
            f"equals(messages.channel,'{context['channel']}')",
            f"equals(archived,{str(context['archived']).lower()})",
        ]

    def includes(self) -> list[str]:
        wanted = super().includes()
        messages = self._tap.streams.get("campaign_messages")
        if messages is not None and messages.selected and "campaign-messages" not in wanted:
            wanted.append("campaign-messages")
        return wanted

    def parse_response(self, response: Any) -> Iterable[dict[str, Any]]:
        document = response.__dict__["tapkit_document"]
        inbox = self._tap.__dict__.setdefault("_campaign_messages", {})
        for item in document.get("included") or []:
            if item["type"] == "campaign-message":
                campaign = item["relationships"]["campaign"]["data"]["id"]
                inbox.setdefault(campaign, []).append(item)
        for record in super().parse_response(response):
            record.pop("campaign_messages", None)  # fed to the child stream, not embedded
            yield record

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"campaign_id": record["id"]}


class CampaignMessagesStream(KlaviyoStream):
    """Messages of the campaigns read in the same run, from the campaigns' ``include``:
    no request of its own."""

    name = "campaign_messages"
    path = "/campaigns/{campaign_id}/campaign-messages"
    primary_keys = ("id",)
    parent_stream_type = CampaignsStream
    state_partitioning_keys: ClassVar[list[str]] = []
    derived_from = "the campaigns' `include`"

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        inbox = self._tap.__dict__.get("_campaign_messages", {})
        for item in inbox.pop(context["campaign_id"], []):
            yield flatten(item)


class ListsStream(KlaviyoStream):
    """Lists, by ``updated`` (greater-than only: no upper bound, no windows)."""

    name = "lists"
    path = "/lists"
    primary_keys = ("id",)
    incremental = _updated_since("updated", Op.GT, bounded=False)
    sort = "updated"
    max_page_size = 10
    rate_limits = ("75/s", "750/m")
    includable = ("tags",)


class _MembersStream(KlaviyoStream):
    """Members of every list or segment, read whole every run (one page per 100 members).

    Klaviyo keeps no trace of a removed member, so only a whole read sees a removal: each run
    is one table version, and the loader marks members the run did not return as deleted.
    Every group is listed at the start of each run."""

    sort = "joined_group_at"
    max_page_size = 100
    rate_limits = ("75/s", "750/m")
    sparse_fields: ClassVar[dict[str, str]] = {"fields[profile]": "joined_group_at"}
    group_path: ClassVar[str]
    group_key: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "group_key" in cls.__dict__:
            cls.partitioned_by = (cls.group_key,)

    @property
    def partitions(self) -> list[dict[str, Any]]:
        if "_groups" not in self.__dict__:
            self.__dict__["_groups"] = [
                {self.group_key: group} for group in self.list_ids(self.group_path)
            ]
        return self.__dict__["_groups"]

    def get_url(self, context: Context | None) -> str:
        assert context is not None
        return f"{self.url_base}{self.group_path}/{context[self.group_key]}/profiles"

    def parse_response(self, response: Any) -> Iterable[dict[str, Any]]:
        for record in super().parse_response(response):
            yield {"profile_id": record["id"], "joined_group_at": record.get("joined_group_at")}


class ListMembersStream(_MembersStream):
    """Profiles in each list, with when they joined."""

    name = "list_members"
    path = "/lists/{list_id}/profiles"
    primary_keys = ("list_id", "profile_id")
    group_path = "/lists"
    group_key = "list_id"


class SegmentsStream(KlaviyoStream):
    """Segments, by ``updated`` (greater-than only)."""

    name = "segments"
    path = "/segments"
    primary_keys = ("id",)
    incremental = _updated_since("updated", Op.GT, bounded=False)
    sort = "updated"
    max_page_size = 10
    rate_limits = ("75/s", "750/m")
    includable = ("tags",)


class SegmentMembersStream(_MembersStream):
    """Profiles in each segment, with when they joined."""

    name = "segment_members"
    path = "/segments/{segment_id}/profiles"
    primary_keys = ("segment_id", "profile_id")
    group_path = "/segments"
    group_key = "segment_id"


class TemplatesStream(KlaviyoStream):
    """Templates, by ``updated``."""

    name = "templates"
    path = "/templates"
    primary_keys = ("id",)
    incremental = _updated_since("updated")
    sort = "updated"
    max_page_size = 10
    rate_limits = ("75/s", "750/m")


class MetricsStream(KlaviyoStream):
    """Metrics: the API cannot filter them by time, so they are read whole every run."""

    name = "metrics"
    path = "/metrics"
    primary_keys = ("id",)
    rate_limits = ("10/s", "150/m")
    includable = ("flow-triggers",)


class FlowsStream(KlaviyoStream):
    """Flows, by ``updated``, archived and live ones as separate partitions."""

    name = "flows"
    path = "/flows"
    primary_keys = ("id",)
    incremental = _updated_since("updated")
    sort = "updated"
    max_page_size = 50
    rate_limits = ("3/s", "60/m")
    includable = ("tags",)
    partitions: ClassVar[list[dict[str, Any]]] = [{"archived": False}, {"archived": True}]
    partitioned_by = ("archived",)

    def base_filters(self, context: Context | None) -> list[str]:
        assert context is not None
        return [f"equals(archived,{str(context['archived']).lower()})"]


class FlowActionsStream(KlaviyoStream):
    """Actions of every flow (all flows are listed each run), by ``updated`` per flow."""

    name = "flow_actions"
    path = "/flows/{flow_id}/flow-actions"
    primary_keys = ("id",)
    incremental = _updated_since("updated")
    sort = "updated"
    max_page_size = 50
    rate_limits = ("3/s", "60/m")
    partitioned_by = ("flow_id",)

    @property
    def partitions(self) -> list[dict[str, Any]]:
        if "_flows" not in self.__dict__:
            flows = [
                f
                for archived in ("false", "true")
                for f in self.list_ids("/flows", {"filter": f"equals(archived,{archived})"})
            ]
            self.__dict__["_flows"] = [{"flow_id": flow} for flow in flows]
        return self.__dict__["_flows"]


class TagsStream(KlaviyoStream):
    """Tags: no timestamps, read whole."""

    name = "tags"
    path = "/tags"
    primary_keys = ("id",)
    max_page_size = 50
    rate_limits = ("3/s", "60/m")


def declared(stream: type[KlaviyoStream], attribute: str) -> Any:
    """A stream class's declaration (singer-sdk types ``name``, ``path`` and ``primary_keys``
    as instance attributes, but streams here declare them on the class)."""
    return getattr(stream, attribute)


STREAMS: tuple[type[KlaviyoStream], ...] = (
    ProfilesStream,
    EventsStream,
    CampaignsStream,
    CampaignMessagesStream,
    ListsStream,
    ListMembersStream,
    SegmentsStream,
    SegmentMembersStream,
    TemplatesStream,
    MetricsStream,
    FlowsStream,
    FlowActionsStream,
    TagsStream,
)
