"""tapkit: what every tap in this workspace shares, and nothing about any one API.

- ``tapkit.timeformats``: named timestamp formats APIs expect in filters;
- ``tapkit.incremental``: a stream's incremental contract (state key + API filter);
- ``tapkit.windows``: backfill windows;
- ``tapkit.throttle``: client-side token buckets;
- ``tapkit.http``: retry policy, ``Retry-After``, error details without secrets;
- ``tapkit.stream``: ``PoliteRESTStream``, the singer-sdk base that puts these together.
"""
