"""tap-klaviyo as singer-sdk runs a tap out of the box, for B3's stock configuration: the stock
message writer, singer-sdk's own record path (conformance and selection walks on every record)
and one request at a time, fetched on the main thread (no overlap of fetching and parsing).
It keeps the tap's requests, so the data is the same."""

from singer_sdk import Stream
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter

from tap_klaviyo.tap import TapKlaviyo
from tapkit.engine import Engine
from tapkit.stream import EngineStream


class StockTapKlaviyo(TapKlaviyo):
    message_writer_class = SimpleSingerWriter  # type: ignore[assignment]


if __name__ == "__main__":
    EngineStream.engine = property(lambda self: Engine(None))  # type: ignore[method-assign,assignment]
    EngineStream._generate_record_messages = Stream._generate_record_messages  # type: ignore[method-assign]
    StockTapKlaviyo.cli()
