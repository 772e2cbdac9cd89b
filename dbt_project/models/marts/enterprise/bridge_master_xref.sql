{#- One row per source record (customer and product) with the master it currently belongs to. -#}

with

xrefs as (

    select * from {{ ref('int_master_xrefs__unioned') }}

),

final as (

    select
        {{ dbt.concat(["entity", "':'", "record_id"]) }} as xref_id,
        entity,
        source,
        source_key,
        record_id,
        master_id,
        match_probability,
        run_id,
        assigned_at

    from xrefs

)

select * from final
