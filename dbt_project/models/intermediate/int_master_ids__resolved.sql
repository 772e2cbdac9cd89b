{#-
  Maps every master id the pipeline has ever issued to the master that currently represents it:
  current masters map to themselves; ids retired by a merge follow their (latest) `merged_into`
  chain, up to 3 hops, to a master that still exists. Ids that cannot be resolved (retired
  without a survivor, chain longer than 3 hops) map to null.
-#}

with

customers as (

    select customer_master_id as master_id from {{ ref('stg_e360_lake__customers') }}

),

products as (

    select product_master_id as master_id from {{ ref('stg_e360_lake__products') }}

),

customer_merges as (

    select
        customer_master_id as master_id,
        related_customer_master_id as merged_into_master_id,
        occurred_at
    from {{ ref('stg_e360_lake__customer_master_events') }}
    where master_event = 'merged_into'
      and related_customer_master_id is not null

),

product_merges as (

    select
        product_master_id as master_id,
        related_product_master_id as merged_into_master_id,
        occurred_at
    from {{ ref('stg_e360_lake__product_master_events') }}
    where master_event = 'merged_into'
      and related_product_master_id is not null

),

current_masters as (

    select 'customer' as entity, master_id from customers
    union all
    select 'product' as entity, master_id from products

),

merges as (

    select 'customer' as entity, master_id, merged_into_master_id, occurred_at from customer_merges
    union all
    select 'product' as entity, master_id, merged_into_master_id, occurred_at from product_merges

),

latest_merges as (

    select entity, master_id, merged_into_master_id
    from (
        select
            entity,
            master_id,
            merged_into_master_id,
            row_number() over (
                partition by entity, master_id
                order by occurred_at desc, merged_into_master_id
            ) as merge_rank
        from merges
    ) as ranked
    where merge_rank = 1

),

-- merged ids that are not (or no longer) current masters themselves
retired_ids as (

    select latest_merges.*
    from latest_merges
    left join current_masters
        on current_masters.entity = latest_merges.entity
        and current_masters.master_id = latest_merges.master_id
    where current_masters.master_id is null

),

hops as (

    select
        retired_ids.entity,
        retired_ids.master_id,
        retired_ids.merged_into_master_id as hop_1,
        hop_2.merged_into_master_id as hop_2,
        hop_3.merged_into_master_id as hop_3
    from retired_ids
    left join latest_merges as hop_2
        on hop_2.entity = retired_ids.entity
        and hop_2.master_id = retired_ids.merged_into_master_id
    left join latest_merges as hop_3
        on hop_3.entity = hop_2.entity
        and hop_3.master_id = hop_2.merged_into_master_id

),

resolved_retired as (

    select
        hops.entity,
        hops.master_id,
        case
            when current_1.master_id is not null then hops.hop_1
            when current_2.master_id is not null then hops.hop_2
            when current_3.master_id is not null then hops.hop_3
        end as current_master_id,
        case
            when current_1.master_id is not null then 1
            when current_2.master_id is not null then 2
            when current_3.master_id is not null then 3
        end as merge_hops
    from hops
    left join current_masters as current_1
        on current_1.entity = hops.entity and current_1.master_id = hops.hop_1
    left join current_masters as current_2
        on current_2.entity = hops.entity and current_2.master_id = hops.hop_2
    left join current_masters as current_3
        on current_3.entity = hops.entity and current_3.master_id = hops.hop_3

),

final as (

    select
        entity,
        master_id,
        master_id as current_master_id,
        0 as merge_hops
    from current_masters

    union all

    select
        entity,
        master_id,
        current_master_id,
        merge_hops
    from resolved_retired

)

select * from final
