"""tap-klaviyo as singer-sdk runs a tap out of the box, for B3's stock configuration: the stock
message writer, singer-sdk's own page loop (no prefetch) and record path (conformance and
selection walks on every record). It keeps the tap's requests, so the data is the same."""

from singer_sdk import RESTStream
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter

from tap_klaviyo.tap import TapKlaviyo
from tapkit.stream import PoliteRESTStream


class StockTapKlaviyo(TapKlaviyo):
    message_writer_class = SimpleSingerWriter  # type: ignore[assignment]


if __name__ == "__main__":
    PoliteRESTStream.request_records = RESTStream.request_records  # type: ignore[method-assign]
    PoliteRESTStream._generate_record_messages = RESTStream._generate_record_messages  # type: ignore[method-assign]
    StockTapKlaviyo.cli()
