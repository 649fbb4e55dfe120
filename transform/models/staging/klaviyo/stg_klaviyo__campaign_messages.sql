with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'campaign_messages'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as campaign_message_id,
        campaign_id,
        template_id,

        ---------- content
        definition ->> 'channel' as channel,
        definition -> 'content' ->> 'subject' as subject,
        definition -> 'content' ->> 'preview_text' as preview_text,
        definition -> 'content' ->> 'from_email' as from_email,
        definition -> 'content' ->> 'body' as body,
        definition -> 'content' ->> 'title' as title,

        ---------- json
        definition,
        send_times,

        ---------- timestamps
        created_at,
        updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
