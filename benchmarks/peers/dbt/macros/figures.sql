{#- The published rules for shown figures (docs/published-tables.md of the product). -#}

{% macro display_number(value, step, scale) -%}
    case
        when {{ scale }} = 'million' then
            format('{:,}', ({{ value }} // {{ step }} * {{ step }}) // 1000000)
            || case
                   when {{ step }} < 1000000 then
                       '.' || lpad(((({{ value }} // {{ step }} * {{ step }}) % 1000000) // {{ step }})::varchar,
                                   (6 - round(log10({{ step }})))::integer, '0')
                   else ''
               end
            || ' million'
        else format('{:,}', {{ value }} // {{ step }} * {{ step }})
    end
{%- endmacro %}

{% macro display_text(value, prefix, step, scale) -%}
    case
        when {{ value }} < {{ step }} then format('{:,}', {{ value }})
        when coalesce({{ prefix }}, '') <> '' and {{ value }} > {{ value }} // {{ step }} * {{ step }}
            then {{ prefix }} || ' ' || {{ display_number(value, step, scale) }}
        else {{ display_number(value, step, scale) }}
    end
{%- endmacro %}

{#- A share in percent, half away from zero to two decimals, in integers. -#}
{% macro percent_of(part, whole) -%}
    (case
        when {{ whole }} = 0 then null
        else (({{ part }}::hugeint * 20000 + {{ whole }}) // (2 * {{ whole }}::hugeint))::decimal(18, 0) / 100
    end)::decimal(5, 2)
{%- endmacro %}

{#- A published table is written as Parquet by the external materialization, then as CSV. -#}
{% macro write_csv(relation) -%}
    copy (select * from {{ relation }}) to '{{ adapter.external_root() }}/{{ relation.identifier }}.csv'
    (format csv, header true, delimiter ',')
{%- endmacro %}
