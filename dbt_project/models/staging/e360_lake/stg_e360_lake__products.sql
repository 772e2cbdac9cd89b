with

source as (

    select * from {{ source('e360_lake', 'product_golden') }}

),

renamed as (

    select
        ----------  ids
        master_id as product_master_id,
        gtin,
        sku,
        model_number,

        ----------  descriptive
        title,
        brand,
        manufacturer,
        category,
        description,

        ----------  commercial
        cast(price as double precision) as price,
        currency as currency_code,

        ----------  lineage
        cast(member_count as bigint) as member_count,
        sources,
        provenance,
        run_id,

        ----------  timestamps
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
