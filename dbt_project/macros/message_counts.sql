{#-
  message_status_counts(): the message counts of a group of int_message_outcomes rows, the same
  wherever they are shown (mart_channel_daily, mart_email_domains), so the channel's totals add up
  to the mailings' by construction: sent messages, delivered, soft and hard bounces.
-#}
{% macro message_status_counts() -%}
    count(*) as sent,
    count(case when is_delivered then 1 end) as delivered,
    count(case when is_soft_bounce then 1 end) as soft_bounces,
    count(case when is_hard_bounce then 1 end) as hard_bounces
{%- endmacro %}
