{#
    The current row of each key in a raw Singer table: the latest load wins, and rows the
    loader marked deleted are dropped. target-postgres upserts on the key, so this is usually
    one row already; a loader that appends would not be, and staging stays correct either way.
#}
{% macro latest_row(relation, keys) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by _sdc_batched_at desc, _sdc_sequence desc
            ) as _latest_rank
        from {{ relation }}
    ) as ranked
    where _latest_rank = 1
      and _sdc_deleted_at is null
{% endmacro %}
