{#-
  SMS segment arithmetic (reports.md, mart_sms_delivery `segments`), used only by
  int_sms_segments. A body is GSM-7 when every character is in the GSM 03.38 basic set or its
  extension table; the extension characters ^ { } \ [ ~ ] | € take two septets. GSM-7: 160
  septets in one segment, 153 per segment beyond. Any other character makes the body UCS-2,
  counted in UTF-16 code units (a character outside the BMP, e.g. an emoji, takes two): 70 in
  one segment, 67 per segment beyond. Patterns use the regex syntax common to RE2 and Java and
  go through regexp_replace_all, which is dispatched per adapter.
-#}

{% macro gsm7_basic_class() -%}
{%- set pattern -%}
[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\x27()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]
{%- endset -%}
{{ return(pattern) }}
{%- endmacro %}

{% macro gsm7_extension_class() -%}
{%- set pattern -%}
[\^{}\\\[~\]|€]
{%- endset -%}
{{ return(pattern) }}
{%- endmacro %}

{# sms_non_gsm7_chars(body): number of characters outside GSM-7 (basic set and extension). #}
{% macro sms_non_gsm7_chars(body) -%}
    {%- set stripped_basic = campaign_warehouse.regexp_replace_all(body, gsm7_basic_class(), '') -%}
    {%- set stripped = campaign_warehouse.regexp_replace_all(stripped_basic, gsm7_extension_class(), '') -%}
    {{ dbt.length(stripped) }}
{%- endmacro %}

{# sms_gsm7_septets(body): septets of a GSM-7 body (extension characters count two). #}
{% macro sms_gsm7_septets(body) -%}
    (
        2 * {{ dbt.length(body) }}
        - {{ dbt.length(campaign_warehouse.regexp_replace_all(body, gsm7_extension_class(), '')) }}
    )
{%- endmacro %}

{# sms_ucs2_units(body): UTF-16 code units of a body (characters outside the BMP take two). #}
{% macro sms_ucs2_units(body) -%}
    (
        2 * {{ dbt.length(body) }}
        - {{ dbt.length(campaign_warehouse.regexp_replace_all(body, '[\\x{10000}-\\x{10FFFF}]', '')) }}
    )
{%- endmacro %}

{# sms_segment_count(units, single, multi): segments for a text of `units`. #}
{% macro sms_segment_count(units, single, multi) -%}
    case
        when {{ units }} is null then null
        when {{ units }} <= {{ single }} then 1
        else cast(ceil(cast({{ units }} as {{ campaign_warehouse.type_double() }}) / {{ multi }}) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
