{#- One row per conformed event, attributed to the current customer / product masters. -#}

with

events as (

    select * from {{ ref('int_events__attributed') }}

),

final as (

    select
        event_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as event_date,
        {{ e360_date_key('occurred_at') }} as date_key,
        source,
        channel,

        customer_master_id,
        product_master_id,
        customer_record_id,
        product_record_id,
        customer_attribution,
        product_attribution,

        quantity,
        amount,
        currency_code,
        run_id

    from events

)

select * from final
