"""``PoliteTap``: the singer-sdk ``Tap`` every tapkit tap extends.

It writes messages with msgspec, checks the shared settings (and the tap's own, through
``check_config``) before any request, and reports the failures a user can act on (the API
refusing a request, a record the API sent in an unexpected shape) as one error line and exit
status 1, keeping tracebacks for what is a bug.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import Any, ClassVar

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.singerlib import RecordMessage

from tapkit.progress import Row, RunProgress, bookmark, run_progress
from tapkit.settings import (
    check_common_config,
    parse_duration,
    rename_aliases,
    unknown_settings,
)
from tapkit.stream import EngineStream, InvalidRecordError
from tapkit.windows import WindowTooLongError

EXPECTED_FAILURES = (FatalAPIError, InvalidRecordError)


class PoliteTap(Tap):
    message_writer_class = MsgSpecWriter
    #: The tap's stream classes, in the order they sync.
    stream_classes: ClassVar[tuple[type[Stream], ...]] = ()
    #: What stands before each stream's ``path`` in its URL, for the docs.
    endpoint_prefix: ClassVar[str] = ""
    #: Other taps' names for our settings, accepted as ours (``{"auth_token": "api_key"}``),
    #: so a project switching from another variant keeps its configuration.
    setting_aliases: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # --about shows each setting's other names, so plugin definitions can list them for
        # Meltano (`meltano config set auth_token`, TAP_KLAVIYO_AUTH_TOKEN)
        properties = cls.config_jsonschema.get("properties", {})
        for alias, name in cls.__dict__.get("setting_aliases", {}).items():
            names = properties[name].setdefault("aliases", [])
            if alias not in names:
                names.append(alias)

    def discover_streams(self) -> list[Stream]:
        return [stream_class(tap=self) for stream_class in self.stream_classes]

    def check_config(self) -> list[str]:
        """Tap-specific problems with the settings, each naming the setting and what to do."""
        return []

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Every problem in one error naming each setting (singer-sdk's own says only "Config
        validation failed"); unknown settings warned about, or refused with ``strict_settings``."""
        properties = self.config_jsonschema.get("properties", {})
        errors = rename_aliases(self._config, self.setting_aliases, properties)
        errors += super()._validate_config(raise_errors=False)
        unknown = unknown_settings(self._config, properties)
        if self._config.get("strict_settings"):
            errors += unknown
        else:
            for message in unknown:
                self.logger.warning("%s (strict_settings: true makes this an error)", message)
        if not errors:  # (the checks below expect the schema's types)
            errors += check_common_config(self.config) + self.check_config()
        if not errors:
            errors += self._check_windows() + self._check_lookbacks()
        if errors and raise_errors:
            raise ConfigValidationError(
                f"{self.name} settings are invalid: " + "; ".join(errors), errors=errors
            )
        return errors

    def _check_windows(self) -> list[str]:
        """A window setting longer than a stream's API maximum, named before any request."""
        days = self.config.get("backfill_window_days")
        errors = []
        for stream_class in self.stream_classes:
            contract = getattr(stream_class, "incremental", None)
            if not issubclass(stream_class, EngineStream) or contract is None:
                continue
            own = stream_class.window_setting
            if own is not None and self.config.get(own[0]):
                length, setting = own[1] * int(self.config[own[0]]), own[0]
            elif days:
                length, setting = timedelta(days=int(days)), "backfill_window_days"
            else:
                continue
            try:
                contract.windows.with_length(length, setting=setting)
            except WindowTooLongError as exc:
                errors.append(f"{exc} (stream {getattr(stream_class, 'name', '?')})")
        return errors

    def _check_lookbacks(self) -> list[str]:
        errors = []
        for stream_class in self.stream_classes:
            setting = getattr(stream_class, "lookback_setting", None)
            value = self.config.get(setting[0]) if setting else None
            if setting is None or value in (None, ""):
                continue
            try:
                parse_duration(value)
            except ValueError as exc:
                errors.append(f"{setting[0]}: {exc}")
        return errors

    # -- what the run did ----------------------------------------------------------------------

    # singer-sdk marks sync_all and write_message final; these wrap them, calling them unchanged.
    def sync_all(self) -> None:  # type: ignore[misc]
        """singer-sdk's, then a summary per stream (``tapkit.progress``); when the run fails,
        the summary of what it did comes before the error."""
        progress = run_progress(self)
        failed = True
        try:
            super().sync_all()
            failed = False
        finally:
            progress.log_summary(self._summary_rows(progress), failed=failed)

    def write_message(self, message: Any) -> None:  # type: ignore[misc]
        """Counts the RECORD messages each stream writes, for the summary."""
        if isinstance(message, RecordMessage):
            run_progress(self).stream(message.stream).record()
        super().write_message(message)

    def _summary_rows(self, progress: RunProgress) -> list[Row]:
        """Selected streams (and parents read for them) in sync order, then any other name
        records went out under (a stream map's alias)."""
        bookmarks = self.state.get("bookmarks") or {}
        tallies = {tally.name: tally for tally in progress.tallies()}
        rows = []
        for stream in self.streams.values():
            if not stream.selected and stream.name not in tallies:
                continue
            contract = getattr(stream, "incremental", None)
            parse = contract.key.from_state if contract is not None else None
            text = bookmark(bookmarks.get(stream.name), parse, bool(stream.replication_key))
            rows.append(Row(stream.name, tallies.pop(stream.name, None), text))
        return rows + [Row(name, tally, "") for name, tally in tallies.items()]

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        try:
            super().invoke(*args, **kwargs)
        except EXPECTED_FAILURES as exc:
            logging.getLogger(cls.name).error("%s", exc)
            sys.exit(1)
        except ConfigValidationError as exc:
            # singer-sdk would log the errors, then "Config validation failed": the last line,
            # the only one `meltano config test` shows. One line naming every setting instead.
            message = str(exc)
            if missing := [error for error in exc.errors if error not in message]:
                message = f"{message}: {'; '.join(missing)}"
            logging.getLogger(cls.name).error("%s", message)
            sys.exit(1)
