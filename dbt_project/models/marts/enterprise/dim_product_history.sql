{#- SCD2 history of product golden records; see dim_customer_history. -#}

with

versions as (

    select * from {{ ref('snapshot_dim_product') }}

),

survivors as (

    select master_id, current_master_id
    from {{ ref('bridge_master_id_survivor') }}
    where entity = 'product'

),

final as (

    select
        versions.dbt_scd_id as product_version_id,
        versions.product_master_id,
        survivors.current_master_id as current_product_master_id,

        versions.title,
        versions.brand,
        versions.manufacturer,
        versions.model_number,
        versions.gtin,
        versions.sku,
        versions.category,
        versions.price,
        versions.currency_code,

        versions.member_count,
        versions.sources,
        versions.attributes_hash,
        versions.run_id,

        versions.dbt_valid_from as valid_from,
        versions.dbt_valid_to as valid_to,
        versions.dbt_valid_to is null as is_current

    from versions
    left join survivors
        on survivors.master_id = versions.product_master_id

)

select * from final
