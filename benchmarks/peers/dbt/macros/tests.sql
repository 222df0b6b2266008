{#- Generic tests the standard ones do not cover. -#}

{% test non_negative(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}

{% test within_year(model, column_name) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} < make_timestamptz({{ var('year') }}, 1, 1, 0, 0, 0, 'UTC')
   or {{ column_name }} >= make_timestamptz({{ var('year') }} + 1, 1, 1, 0, 0, 0, 'UTC')
{% endtest %}

{% test date_within_year(model, column_name) %}
select {{ column_name }} from {{ model }} where year({{ column_name }}) <> {{ var('year') }}
{% endtest %}

{#- The Total row of a published table equals the sum of the other rows, column by column. -#}
{% test total_equals_sum(model, label_column, total_label, columns) %}
with sums as (
    select
        {%- for c in columns %}
        sum({{ c }}) filter (where {{ label_column }} <> '{{ total_label }}') as part_{{ c }},
        sum({{ c }}) filter (where {{ label_column }} = '{{ total_label }}') as total_{{ c }},
        {%- endfor %}
        count(*) filter (where {{ label_column }} = '{{ total_label }}') as total_rows
    from {{ model }}
)
select * from sums
where total_rows <> 1
{%- for c in columns %}
   or part_{{ c }} is distinct from total_{{ c }}
{%- endfor %}
{% endtest %}
