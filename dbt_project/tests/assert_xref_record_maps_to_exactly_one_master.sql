-- Every source record (per entity) must belong to exactly one master.
-- Returns the offending records.

select
    entity,
    record_id,
    count(*) as n_rows,
    count(distinct master_id) as n_masters,
    count(master_id) as n_non_null_masters
from {{ ref('bridge_master_xref') }}
group by entity, record_id
having count(*) <> 1
    or count(distinct master_id) <> 1
    or count(master_id) <> 1
