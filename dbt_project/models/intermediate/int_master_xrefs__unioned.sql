{#- Customer and product cross-references stacked into one entity-tagged list. -#}

with

customer_xrefs as (

    select * from {{ ref('stg_e360_lake__customer_xrefs') }}

),

product_xrefs as (

    select * from {{ ref('stg_e360_lake__product_xrefs') }}

),

unioned as (

    select
        'customer' as entity,
        customer_record_id as record_id,
        source,
        source_key,
        customer_master_id as master_id,
        match_probability,
        run_id,
        assigned_at
    from customer_xrefs

    union all

    select
        'product' as entity,
        product_record_id as record_id,
        source,
        source_key,
        product_master_id as master_id,
        match_probability,
        run_id,
        assigned_at
    from product_xrefs

)

select * from unioned
