-- Audit before publish: the enterprise layer accounts for every row of the loaded master
-- zone. One row per failed reconciliation (check name, rows in the lake, rows published).

with

checks as (

    select
        'dim_customer = customer_golden' as reconciliation,
        (select count(*) from {{ source('e360_lake', 'customer_golden') }}) as lake_rows,
        (select count(*) from {{ ref('dim_customer') }}) as published_rows

    union all

    select
        'dim_product = product_golden',
        (select count(*) from {{ source('e360_lake', 'product_golden') }}),
        (select count(*) from {{ ref('dim_product') }})

    union all

    select
        'bridge_master_xref = customer_xref + product_xref',
        (select count(*) from {{ source('e360_lake', 'customer_xref') }})
            + (select count(*) from {{ source('e360_lake', 'product_xref') }}),
        (select count(*) from {{ ref('bridge_master_xref') }})

    union all

    -- fct_events is incremental: it may hold more, never fewer, and every lake event is in it
    select
        'fct_events contains every conformed event',
        (select count(*) from {{ source('e360_lake', 'events') }}),
        (
            select count(*)
            from {{ source('e360_lake', 'events') }} as lake
            inner join {{ ref('fct_events') }} as fct
                on fct.event_id = lake.event_id
        )

    union all

    select
        'current history = dim_customer',
        (select count(*) from {{ ref('dim_customer') }}),
        (select count(*) from {{ ref('dim_customer_history') }} where is_current)

    union all

    select
        'current membership = bridge_master_xref',
        (select count(*) from {{ ref('bridge_master_xref') }}),
        (select count(*) from {{ ref('bridge_master_xref_history') }} where is_current)

)

select *
from checks
where lake_rows <> published_rows
