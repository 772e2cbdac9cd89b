with

source as (

    select * from {{ source('e360_lake', 'product_review_queue') }}

),

renamed as (

    select
        ----------  ids
        record_id_l as left_product_record_id,
        record_id_r as right_product_record_id,
        master_id_l as left_product_master_id,
        master_id_r as right_product_master_id,

        ----------  match
        cast(match_probability as double precision) as match_probability,
        cast(match_weight as double precision) as match_weight,
        run_id,

        ----------  timestamps
        cast(queued_at as timestamp) as queued_at

    from source

)

select * from renamed
