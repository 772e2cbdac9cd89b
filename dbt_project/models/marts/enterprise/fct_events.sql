{#-
  One row per conformed event, attributed to the current customer / product masters.

  Incremental (delete+insert on event_id): a run inserts the events it has not published yet -
  whatever their occurred_at, so late-arriving events are picked up - and re-publishes the
  events whose attributes or attribution changed (e.g. their customer master was merged into
  another). Rerunning on the same data changes nothing. Events never leave the conformed zone,
  so none are deleted here.
-#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

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
        {{ e360_row_hash(
            string_columns=[
                'event_type', 'source', 'channel', 'customer_master_id', 'product_master_id',
                'customer_record_id', 'product_record_id', 'customer_attribution',
                'product_attribution', 'currency_code',
            ],
            other_columns=['occurred_at', 'quantity', 'amount'],
        ) }} as event_hash,
        run_id

    from events

)

{#- a table published before event_hash existed is refreshed whole, once -#}
{%- set incremental = e360_is_incremental() and 'event_hash' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
) %}

select final.*
from final
{% if incremental %}
left join {{ this }} as published
    on published.event_id = final.event_id
where published.event_id is null
    or published.event_hash <> final.event_hash
{% endif %}
