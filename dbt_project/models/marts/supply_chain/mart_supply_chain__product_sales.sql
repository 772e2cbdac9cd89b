{#-
  Product sales for supply chain: one row per product master and calendar month with any
  event, built only on the enterprise layer (dim_product, fct_events).

  - units_sold / gross_revenue: purchases; units_cancelled / cancelled_revenue: cancellations
    (absolute amounts); net_units and net_revenue subtract the cancellations.
  - product_views / add_to_carts: demand signals; view_to_purchase_rate = purchases per view
    (null without views).
  - Events without a product master are excluded (they cannot be planned for).
-#}

with

products as (

    select
        product_master_id,
        title,
        brand,
        category,
        gtin,
        currency_code as list_currency_code,
        price as list_price
    from {{ ref('dim_product') }}

),

events as (

    select
        product_master_id,
        customer_master_id,
        event_id,
        event_type,
        channel,
        occurred_at,
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as sales_month,
        coalesce(quantity, 1) as units,
        coalesce(amount, 0) as amount,
        currency_code
    from {{ ref('fct_events') }}
    where product_master_id is not null

),

monthly as (

    select
        product_master_id,
        sales_month,

        -- explicit types: sum(bigint) is numeric on PostgreSQL, hugeint on DuckDB
        cast(count(case when event_type = 'purchase' then event_id end) as bigint) as purchases,
        cast(sum(case when event_type = 'purchase' then units else 0 end) as bigint) as units_sold,
        cast(sum(case when event_type = 'order_cancelled' then units else 0 end) as bigint)
            as units_cancelled,
        cast(sum(case when event_type = 'purchase' then amount else 0 end) as double precision)
            as gross_revenue,
        cast(sum(case when event_type = 'order_cancelled' then abs(amount) else 0 end)
            as double precision) as cancelled_revenue,
        cast(count(distinct case when event_type = 'purchase' then customer_master_id end)
            as bigint) as buying_customers,
        cast(sum(case when event_type = 'purchase' and channel = 'store' then units else 0 end)
            as bigint) as store_units,
        cast(sum(case when event_type = 'purchase' and channel = 'web' then units else 0 end)
            as bigint) as web_units,
        cast(count(case when event_type = 'product_view' then event_id end) as bigint)
            as product_views,
        cast(count(case when event_type = 'add_to_cart' then event_id end) as bigint)
            as add_to_carts,
        count(distinct case when event_type in ('purchase', 'order_cancelled') then currency_code end)
            as revenue_currency_count,
        min(case when event_type in ('purchase', 'order_cancelled') then currency_code end)
            as revenue_currency_code,
        max(case when event_type = 'purchase' then occurred_at end) as last_sold_at

    from events
    group by product_master_id, sales_month

),

final as (

    select
        {{ dbt.concat(["monthly.product_master_id", "':'", e360_date_key('monthly.sales_month')]) }}
            as product_month_id,
        monthly.product_master_id,
        monthly.sales_month,
        products.title,
        products.brand,
        products.category,
        products.gtin,

        monthly.purchases,
        monthly.units_sold,
        monthly.units_cancelled,
        monthly.units_sold - monthly.units_cancelled as net_units,
        monthly.gross_revenue,
        monthly.cancelled_revenue,
        monthly.gross_revenue - monthly.cancelled_revenue as net_revenue,
        case
            when monthly.revenue_currency_count > 1 then 'MIXED'
            else monthly.revenue_currency_code
        end as revenue_currency_code,
        monthly.buying_customers,
        monthly.store_units,
        monthly.web_units,
        monthly.product_views,
        monthly.add_to_carts,
        case
            when monthly.product_views > 0
                then cast(monthly.purchases as double precision) / monthly.product_views
        end as view_to_purchase_rate,
        monthly.last_sold_at,
        products.list_price,
        products.list_currency_code

    from monthly
    inner join products
        on products.product_master_id = monthly.product_master_id

)

select * from final
