{#-
  SCD2 history of customer golden records: one row per version of a master's attributes,
  valid from `valid_from` (inclusive) to `valid_to` (exclusive; null = still valid). A master
  merged away or retired keeps its history, closed when it disappeared, and names the master
  representing it now in `current_customer_master_id`.
-#}

with

versions as (

    select * from {{ ref('snapshot_dim_customer') }}

),

survivors as (

    select master_id, current_master_id
    from {{ ref('bridge_master_id_survivor') }}
    where entity = 'customer'

),

final as (

    select
        versions.dbt_scd_id as customer_version_id,
        versions.customer_master_id,
        survivors.current_master_id as current_customer_master_id,

        versions.full_name,
        versions.first_name,
        versions.middle_name,
        versions.last_name,
        versions.date_of_birth,
        versions.gender,
        versions.national_id,
        versions.company_name,
        versions.email,
        versions.phone,
        versions.address_line1,
        versions.address_line2,
        versions.city,
        versions.postcode,
        versions.region,
        versions.country_code,

        versions.member_count,
        versions.sources,
        versions.attributes_hash,
        versions.run_id,

        versions.dbt_valid_from as valid_from,
        versions.dbt_valid_to as valid_to,
        versions.dbt_valid_to is null as is_current

    from versions
    left join survivors
        on survivors.master_id = versions.customer_master_id

)

select * from final
