{#-
  Golden customers, each attribute as people read it: names, company, address lines, city
  and region show the winning record's own writing (display values, e.g. 'José García'), not
  the matching forms survivorship compared ('jose garcia'); no model needs those, so the
  lake table keeps them. E-mail (lower-case), phone (E.164), postcode, codes and dates are
  shown standardised.
-#}
{%- set shown = e360_display_values(source('e360_lake', 'customer_golden'), [
    'first_name', 'middle_name', 'last_name', 'full_name', 'company_name',
    'address_line1', 'address_line2', 'city', 'region',
]) %}

with

source as (

    select * from {{ source('e360_lake', 'customer_golden') }}

),

renamed as (

    select
        ----------  ids
        master_id as customer_master_id,

        ----------  name
        {{ shown['first_name'] }} as first_name,
        {{ shown['middle_name'] }} as middle_name,
        {{ shown['last_name'] }} as last_name,
        {{ shown['full_name'] }} as full_name,
        {{ shown['company_name'] }} as company_name,

        ----------  demographics
        cast(date_of_birth as date) as date_of_birth,
        gender,
        national_id,

        ----------  contact
        email,
        phone,
        {{ shown['address_line1'] }} as address_line1,
        {{ shown['address_line2'] }} as address_line2,
        {{ shown['city'] }} as city,
        postcode,
        {{ shown['region'] }} as region,
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
