{#-
  Conformed events attributed to the *current* customer / product masters.

  Attribution order per entity:
    1. `xref`          - the event's source record (customer_ref / product_ref) looked up in the
                         current cross-reference, so later merges and splits are honoured;
    2. `stamped`       - the master stamped on the event by the pipeline, if still current;
    3. `merge_history` - the stamped master followed through its `merged_into` history;
    4. `unattributed`  - no master (the event's master id columns are null).
-#}

with

events as (

    select * from {{ ref('stg_e360_lake__events') }}

),

customer_xrefs as (

    select customer_record_id, customer_master_id from {{ ref('stg_e360_lake__customer_xrefs') }}

),

product_xrefs as (

    select product_record_id, product_master_id from {{ ref('stg_e360_lake__product_xrefs') }}

),

master_ids as (

    select * from {{ ref('int_master_ids__resolved') }}

),

customer_ids as (

    select master_id, current_master_id, merge_hops
    from master_ids
    where entity = 'customer'

),

product_ids as (

    select master_id, current_master_id, merge_hops
    from master_ids
    where entity = 'product'

),

attributed as (

    select
        events.event_id,
        events.event_type,
        events.occurred_at,
        events.source,
        events.channel,
        events.customer_record_id,
        events.product_record_id,

        coalesce(customer_xrefs.customer_master_id, customer_ids.current_master_id)
            as customer_master_id,
        case
            when customer_xrefs.customer_master_id is not null then 'xref'
            when customer_ids.current_master_id is not null and customer_ids.merge_hops = 0
                then 'stamped'
            when customer_ids.current_master_id is not null then 'merge_history'
            else 'unattributed'
        end as customer_attribution,
        events.customer_master_id as stamped_customer_master_id,

        coalesce(product_xrefs.product_master_id, product_ids.current_master_id)
            as product_master_id,
        case
            when product_xrefs.product_master_id is not null then 'xref'
            when product_ids.current_master_id is not null and product_ids.merge_hops = 0
                then 'stamped'
            when product_ids.current_master_id is not null then 'merge_history'
            else 'unattributed'
        end as product_attribution,
        events.product_master_id as stamped_product_master_id,

        events.quantity,
        events.amount,
        events.currency_code,
        events.run_id

    from events
    left join customer_xrefs
        on customer_xrefs.customer_record_id = events.customer_record_id
    left join customer_ids
        on customer_ids.master_id = events.customer_master_id
    left join product_xrefs
        on product_xrefs.product_record_id = events.product_record_id
    left join product_ids
        on product_ids.master_id = events.product_master_id

)

select * from attributed
