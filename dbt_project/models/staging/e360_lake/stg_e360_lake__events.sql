with

source as (

    select * from {{ source('e360_lake', 'events') }}

),

renamed as (

    select
        ----------  ids
        event_id,
        customer_ref as customer_record_id,
        product_ref as product_record_id,
        customer_master_id,
        product_master_id,

        ----------  event
        event_type,
        source,
        channel,

        ----------  measures
        cast(quantity as bigint) as quantity,
        cast(amount as double precision) as amount,
        currency as currency_code,
        run_id,

        ----------  timestamps
        cast(occurred_at as timestamp) as occurred_at

    from source

)

select * from renamed
