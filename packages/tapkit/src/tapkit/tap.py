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

from tapkit.settings import check_common_config
from tapkit.stream import EngineStream, InvalidRecordError
from tapkit.windows import WindowTooLongError

EXPECTED_FAILURES = (FatalAPIError, InvalidRecordError)


class PoliteTap(Tap):
    message_writer_class = MsgSpecWriter
    #: The tap's stream classes, in the order they sync.
    stream_classes: ClassVar[tuple[type[Stream], ...]] = ()
    #: What stands before each stream's ``path`` in its URL, for the docs.
    endpoint_prefix: ClassVar[str] = ""

    def discover_streams(self) -> list[Stream]:
        return [stream_class(tap=self) for stream_class in self.stream_classes]

    def check_config(self) -> list[str]:
        """Tap-specific problems with the settings, each naming the setting and what to do."""
        return []

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        errors += check_common_config(self.config) + self.check_config()
        if not errors:
            errors += self._check_windows()
        if errors and raise_errors:
            raise ConfigValidationError(
                f"{self.name} settings are invalid: " + "; ".join(errors), errors=errors
            )
        return errors

    def _check_windows(self) -> list[str]:
        """A window setting longer than a stream's API maximum, named before any request."""
        days = self.config.get("backfill_window_days")
        if not days:
            return []
        errors = []
        for stream_class in self.stream_classes:
            contract = getattr(stream_class, "incremental", None)
            if not issubclass(stream_class, EngineStream) or contract is None:
                continue
            try:
                contract.windows.with_length(timedelta(days=int(days)))
            except WindowTooLongError as exc:
                errors.append(f"{exc} (stream {getattr(stream_class, 'name', '?')})")
        return errors

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        try:
            super().invoke(*args, **kwargs)
        except EXPECTED_FAILURES as exc:
            logging.getLogger(cls.name).error("%s", exc)
            sys.exit(1)
