with

source as (

    select * from {{ source('e360_lake', 'customer_id_history') }}

),

renamed as (

    select
        ----------  ids
        master_id as customer_master_id,
        related_master_id as related_customer_master_id,

        ----------  event
        event as master_event,
        run_id,

        ----------  timestamps
        cast(occurred_at as timestamp) as occurred_at

    from source

)

select * from renamed
