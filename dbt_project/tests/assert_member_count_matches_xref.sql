-- The golden record's member_count should equal the number of xref records assigned to it.
-- A warning only: the two tables are written by the same pipeline run, so a mismatch points
-- at a partial load rather than bad data.
{{ config(severity='warn') }}

with

members as (

    select entity, master_id, count(*) as n_members
    from {{ ref('bridge_master_xref') }}
    group by entity, master_id

),

masters as (

    select 'customer' as entity, customer_master_id as master_id, member_count
    from {{ ref('dim_customer') }}

    union all

    select 'product' as entity, product_master_id as master_id, member_count
    from {{ ref('dim_product') }}

)

select masters.entity, masters.master_id, masters.member_count, members.n_members
from masters
inner join members
    on members.entity = masters.entity
    and members.master_id = masters.master_id
where masters.member_count <> members.n_members
