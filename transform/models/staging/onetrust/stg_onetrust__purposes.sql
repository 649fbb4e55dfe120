{# One row per purpose, named and typed after its latest version (the highest `version`). #}
with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'purposes'), ['purposeid']) }}
),

renamed as (
    select
        source.purposeid as purpose_id,
        latest.version ->> 'label' as purpose_name,
        (latest.version ->> 'version')::integer as purpose_version,
        latest.version ->> 'purposeType' as purpose_type,
        latest.version ->> 'status' as purpose_status,
        coalesce(jsonb_array_length(source.versions), 0) as version_count,
        source.publishedby as published_by,
        source.createddate as created_at,
        source.publisheddate as published_at,
        source.lastmodifieddate as last_modified_at,
        source.retireondate as retire_on_at,
        source._sdc_batched_at as loaded_at
    from source
    left join lateral (
        select versions.version
        from jsonb_array_elements(source.versions) as versions (version)
        order by (versions.version ->> 'version')::integer desc
        limit 1
    ) as latest on true
)

select * from renamed
