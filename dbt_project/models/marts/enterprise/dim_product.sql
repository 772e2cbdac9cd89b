{#-
  One row per current product master: golden attributes plus lineage. Text attributes show as
  their winning source record wrote them (staging's display values). The fingerprint is of
  what is shown: the first publish with display values versions each master once.
-#}

with

products as (

    select * from {{ ref('stg_e360_lake__products') }}

),

final as (

    select
        product_master_id,

        title,
        brand,
        manufacturer,
        model_number,
        gtin,
        sku,
        category,
        description,

        price,
        currency_code,

        member_count,
        cast({{ e360_list_length('sources') }} as bigint) as source_count,
        sources,
        provenance,
        {{ e360_row_hash(
            string_columns=[
                'title', 'brand', 'manufacturer', 'model_number', 'gtin', 'sku', 'category',
                'currency_code',
            ],
            other_columns=['price'],
        ) }} as attributes_hash,

        first_seen_at,
        updated_at,
        run_id

    from products

)

select * from final
