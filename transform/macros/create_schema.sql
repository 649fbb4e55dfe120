{#
    dbt's `create schema if not exists`, serialised by a transaction-level advisory lock: two
    jobs building into a new database at the same moment both create analytics_staging, and
    Postgres lets the slower of two concurrent `if not exists` fail on pg_namespace's unique
    index. Overrides the adapter's macro of the same name (the root project's comes first).
#}
{% macro postgres__create_schema(relation) -%}
    {%- call statement('create_schema') -%}
        select pg_advisory_xact_lock(hashtext('tapworks: create schema'));
        create schema if not exists {{ relation.without_identifier().include(database=False) }}
    {%- endcall -%}
{% endmacro %}
