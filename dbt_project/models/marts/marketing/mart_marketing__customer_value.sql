{#-
  Customer value for marketing: one row per customer master, built only on the enterprise
  layer (dim_customer, fct_events).

  - orders / cancelled_orders: number of `purchase` / `order_cancelled` events.
  - gross_revenue: sum of purchase amounts; cancelled_revenue: sum of |amount| of cancellations;
    net_revenue = gross_revenue - cancelled_revenue. Amounts are summed as recorded (a single
    reporting currency is assumed; `revenue_currency_code` is 'MIXED' when it is not).
  - days_since_last_purchase is measured in calendar days up to `as_of_at`
    (var `e360_as_of`, default: build time, naive UTC).
  - value_segment: 'prospect' (no purchase), 'lapsed' (last purchase more than
    var `e360_segment_lapsed_days` ago), else 'high' / 'medium' / 'low' by net revenue against
    vars `e360_segment_high_revenue` / `e360_segment_medium_revenue`.
-#}

with

customers as (

    select
        customer_master_id,
        full_name,
        email,
        country_code
    from {{ ref('dim_customer') }}

),

events as (

    select *
    from {{ ref('fct_events') }}
    where customer_master_id is not null

),

as_of as (

    select {{ e360_as_of_timestamp() }} as as_of_at

),

customer_events as (

    select
        customer_master_id,

        count(case when event_type = 'purchase' then event_id end) as orders,
        count(case when event_type = 'order_cancelled' then event_id end) as cancelled_orders,

        sum(case when event_type = 'purchase' then coalesce(amount, 0) else 0 end)
            as gross_revenue,
        sum(case when event_type = 'order_cancelled' then abs(coalesce(amount, 0)) else 0 end)
            as cancelled_revenue,
        count(distinct case when event_type in ('purchase', 'order_cancelled') then currency_code end)
            as revenue_currency_count,
        min(case when event_type in ('purchase', 'order_cancelled') then currency_code end)
            as revenue_currency_code,

        min(case when event_type = 'purchase' then occurred_at end) as first_purchase_at,
        max(case when event_type = 'purchase' then occurred_at end) as last_purchase_at,

        count(case when event_type = 'product_view' then event_id end) as product_views,
        count(case when event_type = 'add_to_cart' then event_id end) as add_to_carts,

        count(distinct channel) as channels_used,
        {{ e360_listagg_distinct('channel', ',') }} as channels,

        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at

    from events
    group by customer_master_id

),

joined as (

    select
        customers.customer_master_id,
        customers.full_name,
        customers.email,
        customers.country_code,

        coalesce(customer_events.orders, 0) as orders,
        coalesce(customer_events.cancelled_orders, 0) as cancelled_orders,
        coalesce(customer_events.gross_revenue, 0) as gross_revenue,
        coalesce(customer_events.cancelled_revenue, 0) as cancelled_revenue,
        coalesce(customer_events.gross_revenue, 0)
            - coalesce(customer_events.cancelled_revenue, 0) as net_revenue,
        case
            when customer_events.revenue_currency_count > 1 then 'MIXED'
            else customer_events.revenue_currency_code
        end as revenue_currency_code,

        customer_events.first_purchase_at,
        customer_events.last_purchase_at,
        case
            when customer_events.last_purchase_at is not null
                then {{ dbt.datediff('customer_events.last_purchase_at', 'as_of.as_of_at', 'day') }}
        end as days_since_last_purchase,

        coalesce(customer_events.product_views, 0) as product_views,
        coalesce(customer_events.add_to_carts, 0) as add_to_carts,
        coalesce(customer_events.channels_used, 0) as channels_used,
        customer_events.channels,

        customer_events.first_event_at,
        customer_events.last_event_at,
        as_of.as_of_at

    from customers
    cross join as_of
    left join customer_events
        on customer_events.customer_master_id = customers.customer_master_id

),

final as (

    select
        *,
        case
            when orders = 0 then 'prospect'
            when days_since_last_purchase > {{ var('e360_segment_lapsed_days') }} then 'lapsed'
            when net_revenue >= {{ var('e360_segment_high_revenue') }} then 'high'
            when net_revenue >= {{ var('e360_segment_medium_revenue') }} then 'medium'
            else 'low'
        end as value_segment
    from joined

)

select * from final
