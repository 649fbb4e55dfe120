{#
    A source table, or, while it has not been loaded yet, an empty relation with the columns
    (and types) its source declares. One dbt project serves projects that load any subset of
    the sources: `meltano run tap-klaviyo target-postgres dbt-postgres:build` builds the Shopify
    models empty until tap-shopify has run, instead of failing on a missing table.
#}
{% macro source_or_empty(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- if not node.columns -%}
            {{ exceptions.raise_compiler_error(
                source_name ~ '.' ~ table_name ~ ' is not loaded and declares no columns to stand in for it') }}
        {%- endif -%}
        (
            select
            {%- for column in node.columns.values() %}
                cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
            {%- endfor %}
            where false
        ) as {{ table_name }}_not_loaded
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}
