-- The domain marts lose nothing of the enterprise layer they summarise: units and purchases
-- of attributed events add up in the supply-chain mart, purchases per customer in marketing.

with

enterprise_products as (

    select
        count(case when event_type = 'purchase' then event_id end) as purchases,
        sum(case when event_type = 'purchase' then coalesce(quantity, 1) else 0 end) as units
    from {{ ref('fct_events') }}
    where product_master_id is not null

),

supply_chain as (

    select sum(purchases) as purchases, sum(units_sold) as units
    from {{ ref('mart_supply_chain__product_sales') }}

),

enterprise_customers as (

    select count(*) as purchases
    from {{ ref('fct_events') }}
    where customer_master_id is not null and event_type = 'purchase'

),

marketing as (

    select sum(orders) as purchases
    from {{ ref('mart_marketing__customer_value') }}

)

select 'supply_chain' as mart, enterprise_products.purchases, supply_chain.purchases as mart_purchases
from enterprise_products cross join supply_chain
where enterprise_products.purchases <> coalesce(supply_chain.purchases, 0)
    or enterprise_products.units <> coalesce(supply_chain.units, 0)

union all

select 'marketing', enterprise_customers.purchases, marketing.purchases
from enterprise_customers cross join marketing
where enterprise_customers.purchases <> coalesce(marketing.purchases, 0)
