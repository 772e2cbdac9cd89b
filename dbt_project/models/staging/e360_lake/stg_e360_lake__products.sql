{#-
  Golden products, each attribute as people read it: title, brand, manufacturer, category
  and description show the winning record's own writing (display values), not the matching
  forms survivorship compared; identifiers, prices and codes are shown standardised.
-#}
{%- set shown = e360_display_values(source('e360_lake', 'product_golden'), [
    'title', 'brand', 'manufacturer', 'category', 'description',
]) %}

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
        {{ shown['title'] }} as title,
        {{ shown['brand'] }} as brand,
        {{ shown['manufacturer'] }} as manufacturer,
        {{ shown['category'] }} as category,
        {{ shown['description'] }} as description,

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
