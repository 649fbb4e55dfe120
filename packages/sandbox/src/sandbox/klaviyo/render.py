"""Rows to JSON:API resources, shaped as the 2026-07-15 spec says.

Attributes are drawn from a random stream seeded by ``(seed, type, row)``, so a row renders the
same on every request; a row's ``version`` (bumped by updates) re-draws the fields an update
changes.  Nothing here is stored between requests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.core.rng import Rng, mix64
from sandbox.klaviyo import catalog
from sandbox.klaviyo.dataset import NULL_TIME, KlaviyoData

# kind -> URL segment of its resource
SEGMENT = {
    "profile": "profiles",
    "event": "events",
    "metric": "metrics",
    "campaign": "campaigns",
    "campaign-message": "campaign-messages",
    "list": "lists",
    "segment": "segments",
    "template": "templates",
    "flow": "flows",
    "flow-action": "flow-actions",
    "tag": "tags",
    "tag-group": "tag-groups",
    "attribution": "attributions",
    "push-token": "push-tokens",
    "conversation": "conversations",
    "flow-message": "flow-messages",
    "image": "images",
}

Related = dict[str, tuple[str, list[int] | int | None]]  # name -> (kind, rows | row | None)

_ISO_CACHE: dict[int, str] = {}


def iso(epoch: int) -> str | None:
    if epoch == NULL_TIME:
        return None
    text = _ISO_CACHE.get(epoch)
    if text is None:
        text = datetime.fromtimestamp(epoch, UTC).isoformat()
        if len(_ISO_CACHE) < 200_000:
            _ISO_CACHE[epoch] = text
    return text


class Renderer:
    """Renders resources of one dataset for one base URL."""

    def __init__(
        self, data: KlaviyoData, base_url: str, profile_conversations: bool = False
    ) -> None:
        """``profile_conversations``: profiles carry a ``conversations`` relationship only where
        the spec's "PluralConversations" schemas apply (``/api/profiles`` endpoints)."""
        self.data = data
        self.profile_conversations = profile_conversations
        self.api = base_url + "/api"
        self._prefix = {kind: f"{self.api}/{segment}/" for kind, segment in SEGMENT.items()}
        self.cols = {kind: table.columns for kind, table in data.tables.items()}
        self.codecs = data.codecs
        self._attributes: dict[str, Callable[[int, frozenset[str]], dict[str, Any]]] = {
            "profile": self.profile,
            "event": self.event,
            "metric": self.metric,
            "campaign": self.campaign,
            "campaign-message": self.campaign_message,
            "list": self.list,
            "segment": self.segment,
            "template": self.template,
            "flow": self.flow,
            "flow-action": self.flow_action,
            "tag": self.tag,
        }

    def rng(self, kind: str, row: int, version: int = 0) -> Rng:
        return Rng(mix64(self.data.salt[kind] ^ row ^ (version << 40)))

    def id(self, kind: str, row: int) -> str:
        if kind == "tag-group":
            return f"tg-{row}"
        return self.codecs[kind].encode(row)

    # -- the JSON:API envelope ----------------------------------------------------------------

    def resource(self, kind: str, row: int, extra: frozenset[str] = frozenset()) -> dict[str, Any]:
        rid = self.id(kind, row)
        url = f"{self._prefix[kind]}{rid}/"
        if kind == "tag-group":
            attributes: dict[str, Any] = {
                "name": "Campaign Themes",
                "exclusive": False,
                "default": row == 0,
            }
            return {"type": kind, "id": rid, "attributes": attributes, "links": {"self": url}}
        relationships = {}
        encode = self.id
        for name, (target, rows) in self.related(kind, row).items():
            entry: dict[str, Any] = {
                "links": {"self": f"{url}relationships/{name}/", "related": f"{url}{name}/"}
            }
            if rows.__class__ is int:
                entry["data"] = {"type": target, "id": encode(target, rows)}
            elif rows is not None:
                entry["data"] = [{"type": target, "id": encode(target, r)} for r in rows]  # type: ignore[union-attr]
            relationships[name] = entry
        resource: dict[str, Any] = {
            "type": kind,
            "id": rid,
            "attributes": self._attributes[kind](row, extra),
        }
        if relationships:
            resource["relationships"] = relationships
        resource["links"] = {"self": url}
        return resource

    def related(self, kind: str, row: int) -> Related:
        """Relationships of a resource; ``None`` rows means links only, no data."""
        c = self.cols
        if kind == "event":
            return {
                "profile": ("profile", int(c["event"]["profile"][row])),
                "metric": ("metric", int(c["event"]["metric"][row])),
                "attributions": ("attribution", None),
            }
        if kind == "profile":
            related: Related = {
                "lists": ("list", None),
                "segments": ("segment", None),
                "push-tokens": ("push-token", None),
            }
            if self.profile_conversations:
                related["conversations"] = ("conversation", None)
            return related
        if kind == "campaign":
            return {
                "campaign-messages": ("campaign-message", [row]),
                "tags": ("tag", self._tags(kind, row)),
            }
        if kind == "campaign-message":
            template = int(c["campaign-message"]["template"][row])
            return {
                "campaign": ("campaign", int(c["campaign-message"]["campaign"][row])),
                "template": ("template", template if template >= 0 else None),
                "image": ("image", None),
            }
        if kind in ("list", "segment"):
            return {
                "profiles": ("profile", None),
                "tags": ("tag", self._tags(kind, row)),
                "flow-triggers": ("flow", None),
            }
        if kind == "flow":
            actions = self.data.tables["flow-action"]
            mine = (actions.columns["flow"] == row) & actions.alive
            return {
                "flow-actions": ("flow-action", mine.nonzero()[0].tolist()),
                "tags": ("tag", self._tags(kind, row)),
            }
        if kind == "flow-action":
            return {
                "flow": ("flow", int(c["flow-action"]["flow"][row])),
                "flow-messages": ("flow-message", None),
            }
        if kind == "metric":
            return {"flow-triggers": ("flow", None)}
        if kind == "tag":
            return {
                "tag-group": ("tag-group", row % 2),
                "lists": ("list", None),
                "segments": ("segment", None),
                "campaigns": ("campaign", None),
                "flows": ("flow", None),
            }
        return {}

    def _tags(self, kind: str, row: int) -> list[int]:
        r = self.rng(kind, row, 7)
        return sorted(r.sample(range(len(catalog.TAGS)), r.below(3)))

    # -- attributes per type ------------------------------------------------------------------

    def profile(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["profile"]
        version = int(c["version"][row])
        r = self.rng("profile", row)
        first, first_ascii = r.choice(catalog.FIRST_NAMES)
        last, last_ascii = r.choice(catalog.LAST_NAMES)
        email = (
            None
            if r.chance(0.03)
            else f"{first_ascii}.{last_ascii}.{row}@{r.choice(catalog.EMAIL_DOMAINS)}"
        )
        city, region, country, zip_code, timezone = r.choice(catalog.CITIES)
        created = int(c["created"][row])
        attrs: dict[str, Any] = {
            "email": email,
            "phone_number": f"+1555{row % 10_000_000:07d}"
            if r.chance(0.6) or email is None
            else None,
            "external_id": f"cust-{row}" if r.chance(0.5) else None,
            "first_name": first,
            "last_name": last,
            "organization": r.choice(catalog.ORGANIZATIONS),
            "locale": r.choice(catalog.LOCALES),
            "title": r.choice(catalog.TITLES),
            "image": f"https://images.example.com/p/{row}.jpg" if r.chance(0.2) else None,
            "created": iso(created),
            "updated": iso(int(c["updated"][row])),
            "last_event_date": iso(created + r.below(86_400 * 30)) if r.chance(0.8) else None,
            "location": {
                "address1": f"{r.between(1, 999)} Example Street",
                "address2": None,
                "city": city,
                "country": country,
                "latitude": round(r.random() * 180 - 90, 4),
                "longitude": str(round(r.random() * 360 - 180, 4)),
                "region": region,
                "zip": zip_code,
                "timezone": timezone,
                "ip": f"192.0.2.{r.below(255)}",
            }
            if r.chance(0.9)
            else None,
            "properties": {
                "Favorite Color": r.choice(catalog.COLORS),
                "VIP": r.chance(0.1),
                "Loyalty Points": r.below(5_000),
                "Signup Source": r.choice(catalog.SIGNUP_SOURCES),
                "Preferences": {
                    "newsletter": r.chance(0.7),
                    "topics": r.sample(["shoes", "tea", "gifts"], 2),
                },
            },
        }
        if r.chance(0.02):
            attrs["properties"]["Notes"] = catalog.NOTES_WITH_NUL
        if r.chance(0.05):  # some profiles were created without these keys at all
            del attrs["organization"], attrs["title"]
        if version:
            v = self.rng("profile", row, version)
            attrs["properties"]["Loyalty Points"] = v.below(5_000)
            attrs["properties"]["Favorite Color"] = v.choice(catalog.COLORS)
            attrs["properties"]["Revision"] = version
            if attrs.get("title") is not None:
                attrs["title"] = v.choice(catalog.TITLES)
        if "subscriptions" in extra:
            attrs["subscriptions"] = self._subscriptions(
                r, created, email is not None, attrs["phone_number"] is not None
            )
        if "predictive_analytics" in extra:
            attrs["predictive_analytics"] = self._predictive(r)
        return attrs

    def _subscriptions(
        self, r: Rng, created: int, has_email: bool, has_phone: bool
    ) -> dict[str, Any]:
        consent_at = iso(created + r.below(86_400))
        consent = r.choice(("SUBSCRIBED", "SUBSCRIBED", "UNSUBSCRIBED", "NEVER_SUBSCRIBED"))
        suppression = []
        if r.chance(0.05):
            suppression.append(
                {"reason": r.choice(catalog.SUPPRESSION_REASONS), "timestamp": consent_at}
            )
        email = (
            {
                "marketing": {
                    "can_receive_email_marketing": consent == "SUBSCRIBED" and not suppression,
                    "consent": consent,
                    "consent_timestamp": consent_at,
                    "last_updated": consent_at,
                    "method": "FORM",
                    "method_detail": "popup",
                    "custom_method_detail": None,
                    "double_optin": r.chance(0.3),
                    "suppression": suppression,
                    "list_suppressions": [],
                }
            }
            if has_email
            else None
        )
        sms = (
            {
                "marketing": {
                    "can_receive_sms_marketing": consent == "SUBSCRIBED",
                    "consent": consent,
                    "consent_timestamp": consent_at,
                    "method": "TEXT",
                    "method_detail": "JOIN",
                    "last_updated": consent_at,
                },
                "transactional": None,
            }
            if has_phone
            else None
        )
        return {"email": email, "sms": sms, "mobile_push": None, "whatsapp": None}

    def _predictive(self, r: Rng) -> dict[str, Any]:
        historic = round(r.random() * 800, 2)
        predicted = round(r.random() * 400, 2)
        return {
            "historic_clv": historic,
            "predicted_clv": predicted,
            "total_clv": round(historic + predicted, 2),
            "historic_number_of_orders": r.below(12),
            "predicted_number_of_orders": round(r.random() * 4, 2),
            "average_days_between_orders": r.below(120) or None,
            "average_order_value": round(r.random() * 150, 2),
            "churn_probability": round(r.random(), 2),
            "expected_date_of_next_order": None,
            "ranked_channel_affinity": r.sample(["email", "sms", "push"], 3),
        }

    def event(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["event"]
        when = int(c["datetime"][row])
        metric = int(c["metric"][row])
        r = self.rng("event", row)
        props: dict[str, Any]
        campaign = int(c["campaign"][row])
        flow = int(c["flow"][row])
        if metric in catalog.MESSAGE_METRIC_CHANNEL:
            props = {"$ESP": "Klaviyo", "Email Domain": r.choice(catalog.EMAIL_DOMAINS)}
            if campaign >= 0:
                props["$message"] = self.id("campaign-message", campaign)
                props["Campaign Name"] = self._campaign_name(campaign)
                props["Subject"] = self._subject(campaign)
            elif flow >= 0:
                props["$flow"] = self.id("flow", flow)
                props["$message"] = f"FM{flow:04d}{r.below(4)}"
        elif metric in (11, 13):  # Placed Order, Started Checkout
            items = r.sample(catalog.PRODUCTS, 1 + r.below(3))
            props = {
                "$event_id": f"order-{row}",
                "$value": round(sum(p for _, p in items), 2),
                "Items": [name for name, _ in items],
                "ItemNames": [name for name, _ in items],
                "Discount Codes": ["SAVE\x0010"] if r.chance(0.01) else [],
                "$extra": {"currency": "USD", "source": r.choice(("web", "pos", "app"))},
            }
        elif metric in (12, 14):  # Ordered Product, Viewed Product
            name, price = r.choice(catalog.PRODUCTS)
            props = {
                "ProductName": name,
                "ProductID": 1000 + catalog.PRODUCTS.index((name, price)),
                "$value": price,
                "URL": f"https://shop.example.com/p/{r.below(500)}",
            }
        elif metric == 15:
            props = {
                "page": f"https://shop.example.com/{r.choice(('', 'sale', 'über-uns', 'cart'))}",
                "$referrer": None,
                "browser": r.choice(("Chrome", "Safari", "Firefox")),
            }
        else:
            props = {}
        return {
            "timestamp": when,
            "event_properties": props,
            "datetime": iso(when),
            "uuid": r.uuid4(),
        }

    def metric(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["metric"]
        name, integration, category = catalog.METRICS[row]
        return {
            "name": name,
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
            "integration": {
                "object": "integration",
                "id": f"int-{integration.lower()}",
                "key": integration.lower(),
                "name": integration,
                "category": category,
            },
        }

    def _campaign_name(self, row: int) -> str:
        r = self.rng("campaign", row)
        channel = catalog.CHANNELS[int(self.cols["campaign"]["channel"][row])]
        return f"{r.choice(catalog.CAMPAIGN_THEMES)} #{row} ({channel})"

    def _subject(self, row: int) -> str:
        return f"{self._campaign_name(row).split(' #')[0]}: don't miss out"

    def campaign(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["campaign"]
        r = self.rng("campaign", row, int(c["version"][row]))
        channel = int(c["channel"][row])
        send_time = int(c["send_time"][row])
        scheduled = int(c["scheduled"][row])
        strategy: dict[str, Any] = (
            {"method": "static", "datetime": iso(scheduled), "options": {"is_local": False}}
            if scheduled != NULL_TIME
            else {"method": "immediate"}
        )
        tracking: dict[str, Any] | None = None
        if channel == 0:
            tracking = {
                "add_tracking_params": r.chance(0.5),
                "custom_tracking_params": [],
                "is_tracking_clicks": True,
                "is_tracking_opens": r.chance(0.8),
            }
        elif channel == 1:
            tracking = {"add_tracking_params": False, "custom_tracking_params": []}
        lists = self.data.tables["list"].size
        return {
            "name": self._campaign_name(row),
            "status": catalog.CAMPAIGN_STATUSES[int(c["status"][row])],
            "archived": bool(c["archived"][row]),
            "audiences": {"included": [self.id("list", r.below(lists))], "excluded": []},
            "send_options": {"use_smart_sending": r.chance(0.7)},
            "tracking_options": tracking,
            "send_strategy": strategy,
            "created_at": iso(int(c["created"][row])),
            "scheduled_at": iso(scheduled),
            "updated_at": iso(int(c["updated"][row])),
            "send_time": iso(send_time),
        }

    def campaign_message(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["campaign-message"]
        campaign = int(c["campaign"][row])
        channel = catalog.CHANNELS[int(self.cols["campaign"]["channel"][campaign])]
        r = self.rng("campaign-message", row, int(c["version"][row]))
        definition: dict[str, Any]
        if channel == "email":
            definition = {
                "channel": "email",
                "label": f"Message {row}",
                "content": {
                    "subject": self._subject(campaign),
                    "preview_text": "Nur heute / today only ✨",
                    "from_email": "store@example.com",
                    "from_label": "Example Store",
                    "reply_to_email": None,
                    "cc_email": None,
                    "bcc_email": None,
                },
            }
        elif channel == "sms":
            definition = {
                "channel": "sms",
                "content": {
                    "body": f"{self._subject(campaign)} Reply STOP to opt out",
                    "media_url": None,
                },
                "render_options": {
                    "shorten_links": True,
                    "add_org_prefix": True,
                    "add_info_link": False,
                    "add_opt_out_language": True,
                },
            }
        else:
            definition = {
                "channel": "mobile_push",
                "notification_type": "standard",
                "content": {
                    "title": self._campaign_name(campaign),
                    "body": "Tap to see 👀",
                    "dynamic_image": None,
                },
                "kv_pairs": None,
                "options": {
                    "on_open": {"type": "open_app"},
                    "badge": {"display": False},
                    "play_sound": r.chance(0.5),
                },
            }
        send_time = int(self.cols["campaign"]["send_time"][campaign])
        return {
            "definition": definition,
            "send_times": [{"datetime": iso(send_time), "is_local": False}]
            if send_time != NULL_TIME
            else [],
            "created_at": iso(int(c["created"][row])),
            "updated_at": iso(int(c["updated"][row])),
        }

    def list(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["list"]
        r = self.rng("list", row, int(c["version"][row]))
        base = catalog.LIST_NAMES[row % len(catalog.LIST_NAMES)]
        attrs: dict[str, Any] = {
            "name": base if row < len(catalog.LIST_NAMES) else f"{base} {row}",
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
            "opt_in_process": r.choice(("double_opt_in", "single_opt_in")),
        }
        if "profile_count" in extra:
            members = self.data.tables["list-member"]
            attrs["profile_count"] = int(((members.columns["group"] == row) & members.alive).sum())
        return attrs

    def segment(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["segment"]
        base = catalog.SEGMENT_NAMES[row % len(catalog.SEGMENT_NAMES)]
        return {
            "name": base if row < len(catalog.SEGMENT_NAMES) else f"{base} {row}",
            "definition": {
                "condition_groups": [
                    {
                        "conditions": [
                            {
                                "type": "profile-group-membership",
                                "is_member": True,
                                "group_ids": [self.id("list", row % self.data.tables["list"].size)],
                                "timeframe_filter": None,
                            }
                        ]
                    }
                ]
            },
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
            "is_active": bool(c["active"][row]),
            "is_processing": False,
            "is_starred": bool(c["starred"][row]),
        }

    def template(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["template"]
        version = int(c["version"][row])
        base = catalog.TEMPLATE_NAMES[row % len(catalog.TEMPLATE_NAMES)]
        name = f"{base} v{row}"
        attrs: dict[str, Any] = {
            "name": name,
            "editor_type": catalog.TEMPLATE_EDITORS[int(c["editor"][row])],
            "html": f"<html><body><h1>{name}</h1><p>Grüße, revision {version} — 🎉</p></body></html>",
            "text": f"{name}\nrevision {version}",
            "amp": None,
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
        }
        if "definition" in extra:
            attrs["definition"] = None
        return attrs

    def flow(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["flow"]
        base = catalog.FLOW_NAMES[row % len(catalog.FLOW_NAMES)]
        return {
            "name": base if row < len(catalog.FLOW_NAMES) else f"{base} {row}",
            "status": catalog.FLOW_STATUSES[int(c["status"][row])],
            "archived": bool(c["archived"][row]),
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
            "trigger_type": catalog.FLOW_TRIGGERS[int(c["trigger"][row])],
        }

    def flow_action(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        c = self.cols["flow-action"]
        kind = catalog.FLOW_ACTION_TYPES[int(c["action_type"][row])]
        status = catalog.FLOW_ACTION_STATUSES[int(c["status"][row])]
        data: dict[str, Any]
        if kind == "time-delay":
            data = {
                "unit": "days",
                "value": 1 + row % 3,
                "secondary_value": None,
                "timezone": "profile",
                "delay_until_time": None,
                "delay_until_weekdays": None,
            }
        elif kind in ("send-email", "send-sms"):
            data = {"status": status}
        else:
            data = None  # type: ignore[assignment]
        definition: dict[str, Any] = {
            "id": self.id("flow-action", row),
            "type": kind,
            "links": None,
        }
        if data is not None or kind not in ("conditional-split", "update-profile"):
            definition["data"] = data
        return {
            "created": iso(int(c["created"][row])),
            "updated": iso(int(c["updated"][row])),
            "definition": definition,
        }

    def tag(self, row: int, extra: frozenset[str]) -> dict[str, Any]:
        version = int(self.cols["tag"]["version"][row])
        name = catalog.TAGS[row % len(catalog.TAGS)]
        return {"name": name if not version else f"{name} (v{version})"}
