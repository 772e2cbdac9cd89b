{#-
  Every master id e360 ever issued -> the master that represents it now. Domain marts holding
  an old id (merged away since) join here to find its survivor.
-#}

with

resolved as (

    select * from {{ ref('int_master_ids__resolved') }}

),

history as (

    select 'customer' as entity, customer_master_id as master_id, master_event, occurred_at
    from {{ ref('stg_e360_lake__customer_master_events') }}

    union all

    select 'product' as entity, product_master_id as master_id, master_event, occurred_at
    from {{ ref('stg_e360_lake__product_master_events') }}

),

lifecycle as (

    select
        entity,
        master_id,
        min(case when master_event in ('created', 'split_from') then occurred_at end)
            as created_at,
        max(case when master_event in ('merged_into', 'retired') then occurred_at end)
            as retired_at
    from history
    group by entity, master_id

),

issued as (

    select entity, master_id from lifecycle
    union
    select entity, master_id from resolved

),

final as (

    select
        {{ dbt.concat(["issued.entity", "':'", "issued.master_id"]) }} as master_key,
        issued.entity,
        issued.master_id,
        resolved.current_master_id,
        case
            when resolved.merge_hops = 0 then 'current'
            when resolved.current_master_id is not null then 'merged'
            else 'retired'
        end as status,
        cast(coalesce(resolved.merge_hops, 0) as integer) as merge_hops,
        lifecycle.created_at,
        case when resolved.merge_hops = 0 then null else lifecycle.retired_at end as retired_at

    from issued
    left join resolved
        on resolved.entity = issued.entity
        and resolved.master_id = issued.master_id
    left join lifecycle
        on lifecycle.entity = issued.entity
        and lifecycle.master_id = issued.master_id

)

select * from final
