{#-
  SCD2 sanity: per `key`, versions never overlap - at most one open version (valid_to null),
  and a closed version ends no later than the next one starts (a gap is a record that left
  its sources and came back). Returns the offending versions.
-#}
{% test assert_history_has_no_overlaps(model, key) %}

with

ordered as (

    select
        {{ key }} as history_key,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by {{ key }} order by valid_from) as next_valid_from
    from {{ model }}

)

select *
from ordered
where next_valid_from is not null
    and (valid_to is null or next_valid_from < valid_to)

{% endtest %}
