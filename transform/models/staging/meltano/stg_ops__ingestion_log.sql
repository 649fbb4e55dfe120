{#
    The ingestion log as it is. The orchestrator creates its table on its first task, so a
    database Airflow never ran on has none: then an empty relation of the same columns.
#}
{%- set log = source('ops', 'ingestion_log') -%}
{%- set found = adapter.get_relation(database=log.database, schema=log.schema, identifier=log.identifier) if execute else none -%}

{% if found %}
select
    id,
    logged_at,
    source,
    stream_group,
    dag_id,
    task_id,
    run_id,
    try_number,
    event,
    rows,
    duration_seconds,
    error
from {{ log }}
{% else %}
select
    cast(null as bigint) as id,
    cast(null as timestamptz) as logged_at,
    cast(null as text) as source,
    cast(null as text) as stream_group,
    cast(null as text) as dag_id,
    cast(null as text) as task_id,
    cast(null as text) as run_id,
    cast(null as integer) as try_number,
    cast(null as text) as event,
    cast(null as bigint) as rows,
    cast(null as double precision) as duration_seconds,
    cast(null as text) as error
where false
{% endif %}
