with

source as (

    select * from {{ source('e360_lake', 'customer_xref') }}

),

renamed as (

    select
        ----------  ids
        record_id as customer_record_id,
        source,
        source_key,
        master_id as customer_master_id,

        ----------  match
        cast(match_probability as double precision) as match_probability,
        run_id,

        ----------  timestamps
        cast(assigned_at as timestamp) as assigned_at

    from source

)

select * from renamed
