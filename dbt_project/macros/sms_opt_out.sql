{#- Whether an inbound SMS body is an opt-out keyword (feeds.md, twilio_messages): STOP, STOPALL,
    UNSUBSCRIBE, CANCEL, END or QUIT, in any case, trimmed of surrounding spaces, tabs and line
    breaks. A body that merely contains the word ("stop it please") is not an opt-out. -#}
{% macro is_sms_opt_out(body) -%}
    upper(trim(translate({{ body }}, chr(9) || chr(10) || chr(13), '   ')))
    in ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT')
{%- endmacro %}
