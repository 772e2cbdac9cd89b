with

source as (

    select * from {{ source('e360_lake', 'customer_golden') }}

),

renamed as (

    select
        ----------  ids
        master_id as customer_master_id,

        ----------  name
        first_name,
        middle_name,
        last_name,
        full_name,
        company_name,

        ----------  demographics
        cast(date_of_birth as date) as date_of_birth,
        gender,
        national_id,

        ----------  contact
        email,
        phone,
        address_line1,
        address_line2,
        city,
        postcode,
        region,
        country as country_code,

        ----------  lineage
        cast(member_count as bigint) as member_count,
        sources,
        provenance,
        run_id,

        ----------  timestamps
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
