{#
    A stable hashed key from one or more columns: md5 of the values cast to text, nulls
    written as a marker (so (a, null) and (null, a) differ), joined by a separator.
#}
{% macro surrogate_key(columns) %}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as text), '_null_')
        {%- if not loop.last %} || '-' || {% endif %}
        {%- endfor %}
    )
{% endmacro %}
