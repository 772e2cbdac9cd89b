-- Every golden master must have at least one source record in the cross-reference.
-- Returns the masters without members.

with

members as (

    select entity, master_id, count(*) as n_members
    from {{ ref('bridge_master_xref') }}
    group by entity, master_id

),

masters as (

    select 'customer' as entity, customer_master_id as master_id
    from {{ ref('dim_customer') }}

    union all

    select 'product' as entity, product_master_id as master_id
    from {{ ref('dim_product') }}

)

select masters.entity, masters.master_id
from masters
left join members
    on members.entity = masters.entity
    and members.master_id = masters.master_id
where members.master_id is null
