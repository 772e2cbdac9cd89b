{#-
  One row per current customer master: golden attributes plus lineage. Text attributes show as
  their winning source record wrote them (staging's display values). The fingerprint is of
  what is shown: the first publish with display values versions each master once.
-#}

with

customers as (

    select * from {{ ref('stg_e360_lake__customers') }}

),

final as (

    select
        customer_master_id,

        full_name,
        first_name,
        middle_name,
        last_name,
        date_of_birth,
        gender,
        national_id,
        company_name,

        email,
        phone,
        address_line1,
        address_line2,
        city,
        postcode,
        region,
        country_code,

        member_count,
        cast({{ e360_list_length('sources') }} as bigint) as source_count,
        sources,
        provenance,
        {{ e360_row_hash(
            string_columns=[
                'full_name', 'first_name', 'middle_name', 'last_name', 'gender', 'national_id',
                'email', 'phone', 'address_line1', 'address_line2', 'city', 'postcode',
                'region', 'country_code',
            ],
            other_columns=['date_of_birth'],
            added_columns=['company_name'],
        ) }} as attributes_hash,

        first_seen_at,
        updated_at,
        run_id

    from customers

)

select * from final
