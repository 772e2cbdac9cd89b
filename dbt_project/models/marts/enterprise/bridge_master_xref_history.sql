{#-
  SCD2 history of record -> master membership: which master each source record belonged to,
  from `valid_from` (inclusive) to `valid_to` (exclusive; null = still). Answers "which master
  did this order's customer belong to on date D"; `current_master_id` is where that master
  lives on today.
-#}

with

versions as (

    select * from {{ ref('snapshot_bridge_master_xref') }}

),

survivors as (

    select entity, master_id, current_master_id
    from {{ ref('bridge_master_id_survivor') }}

),

final as (

    select
        versions.dbt_scd_id as xref_version_id,
        versions.xref_id,
        versions.entity,
        versions.source,
        versions.source_key,
        versions.record_id,
        versions.master_id,
        survivors.current_master_id,
        versions.match_probability,
        versions.run_id,

        versions.dbt_valid_from as valid_from,
        versions.dbt_valid_to as valid_to,
        versions.dbt_valid_to is null as is_current

    from versions
    left join survivors
        on survivors.entity = versions.entity
        and survivors.master_id = versions.master_id

)

select * from final
