{#-
  Statistics for mart_group_lift: the complementary error function and the normal tail
  probabilities built on it. DuckDB has no erf/erfc and Spark SQL has none either, so the
  default is W. J. Cody's rational Chebyshev approximations (Math. Comp. 23 (1969) 631-637;
  the coefficients of his CALERF), accurate to about 1e-16 relative in double precision,
  in plain arithmetic (abs, floor, exp, sqrt) that every engine has. An adapter with a native
  erfc can override erfc with its own <adapter>__erfc.
  Arguments are repeated inside the expression: pass a column or a cheap expression.
-#}

{# erfc(x): the complementary error function 1 - erf(x), as a double. #}
{% macro erfc(x) -%}
    {{ return(adapter.dispatch('erfc', 'campaign_warehouse')(x)) }}
{%- endmacro %}

{% macro default__erfc(x) -%}
    {%- set a = ['3.16112374387056560e00', '1.13864154151050156e02', '3.77485237685302021e02',
                 '3.20937758913846947e03', '1.85777706184603153e-1'] -%}
    {%- set b = ['2.36012909523441209e01', '2.44024637934444173e02', '1.28261652607737228e03',
                 '2.84423683343917062e03'] -%}
    {%- set c = ['5.64188496988670089e-1', '8.88314979438837594e00', '6.61191906371416295e01',
                 '2.98635138197400131e02', '8.81952221241769090e02', '1.71204761263407058e03',
                 '2.05107837782607147e03', '1.23033935479799725e03', '2.15311535474403846e-8'] -%}
    {%- set d = ['1.57449261107098347e01', '1.17693950891312499e02', '5.37181101862009858e02',
                 '1.62138957456669019e03', '3.29079923573345963e03', '4.36261909014324716e03',
                 '3.43936767414372164e03', '1.23033935480374942e03'] -%}
    {%- set p = ['3.05326634961232344e-1', '3.60344899949804439e-1', '1.25781726111229246e-1',
                 '1.60837851487422766e-2', '6.58749161529837803e-4', '1.63153871373020978e-2'] -%}
    {%- set q = ['2.56852019228982242e00', '1.87295284992346047e00', '5.27905102951428412e-1',
                 '6.05183413124413191e-2', '2.33520497626869185e-3'] -%}
    {%- set xd = 'cast(' ~ x ~ ' as ' ~ campaign_warehouse.type_double() ~ ')' -%}
    {%- set y = 'abs(' ~ xd ~ ')' -%}
    {#- Horner forms exactly as in CALERF. -#}
    {%- set ysq = '(' ~ y ~ ' * ' ~ y ~ ')' -%}
    {%- set ns = namespace(num=a[4] ~ ' * ' ~ ysq, den=ysq) -%}
    {%- for i in range(3) -%}
        {%- set ns.num = '(' ~ ns.num ~ ' + ' ~ a[i] ~ ') * ' ~ ysq -%}
        {%- set ns.den = '(' ~ ns.den ~ ' + ' ~ b[i] ~ ') * ' ~ ysq -%}
    {%- endfor -%}
    {%- set erf_small = xd ~ ' * (' ~ ns.num ~ ' + ' ~ a[3] ~ ') / (' ~ ns.den ~ ' + ' ~ b[3] ~ ')' -%}
    {%- set ns.num = c[8] ~ ' * ' ~ y -%}
    {%- set ns.den = y -%}
    {%- for i in range(7) -%}
        {%- set ns.num = '(' ~ ns.num ~ ' + ' ~ c[i] ~ ') * ' ~ y -%}
        {%- set ns.den = '(' ~ ns.den ~ ' + ' ~ d[i] ~ ') * ' ~ y -%}
    {%- endfor -%}
    {%- set ratio_mid = '(' ~ ns.num ~ ' + ' ~ c[7] ~ ') / (' ~ ns.den ~ ' + ' ~ d[7] ~ ')' -%}
    {%- set rsq = '(1.0 / ' ~ ysq ~ ')' -%}
    {%- set ns.num = p[5] ~ ' * ' ~ rsq -%}
    {%- set ns.den = rsq -%}
    {%- for i in range(4) -%}
        {%- set ns.num = '(' ~ ns.num ~ ' + ' ~ p[i] ~ ') * ' ~ rsq -%}
        {%- set ns.den = '(' ~ ns.den ~ ' + ' ~ q[i] ~ ') * ' ~ rsq -%}
    {%- endfor -%}
    {%- set ratio_large = '(5.6418958354775628695e-1 - ' ~ rsq ~ ' * (' ~ ns.num ~ ' + ' ~ p[4] ~ ') / ('
        ~ ns.den ~ ' + ' ~ q[4] ~ ')) / ' ~ y -%}
    {#- exp(-y^2) computed as exp(-z^2) * exp(-(y - z)(y + z)), z = y rounded down to 1/16,
        so the rounding error of y^2 is not magnified by exp. z is a double (16.0e0): on Spark,
        floor() is a BIGINT and BIGINT / 16.0 a DECIMAL whose square is cut to 6 decimals. -#}
    {%- set z = '(floor(' ~ y ~ ' * 16.0e0) / 16.0e0)' -%}
    {%- set gauss = 'exp(-' ~ z ~ ' * ' ~ z ~ ') * exp(-((' ~ y ~ ' - ' ~ z ~ ') * (' ~ y ~ ' + ' ~ z ~ ')))' -%}
    {%- set erfc_abs -%}
        case
            when {{ y }} <= 4.0 then {{ gauss }} * {{ ratio_mid }}
            when {{ y }} < 26.6 then {{ gauss }} * {{ ratio_large }}
            else 0.0
        end
    {%- endset -%}
    (case
        when {{ xd }} is null then null
        when {{ y }} <= 0.46875 then 1.0 - ({{ erf_small }})
        when {{ xd }} < 0 then 2.0 - ({{ erfc_abs }})
        else {{ erfc_abs }}
    end)
{%- endmacro %}


{# normal_two_sided_p(z): P(|Z| >= |z|) for a standard normal Z, = erfc(|z| / sqrt(2)). #}
{% macro normal_two_sided_p(z) -%}
    {{ campaign_warehouse.erfc('abs(' ~ z ~ ') * 7.0710678118654752440e-1') }}
{%- endmacro %}


{#-
  Comparing two proportions x1/n1 (the row's group) and x0/n0 (the group it is compared with):
  the one definition behind mart_group_lift, mart_variant_tests and mart_global_holdout.
  p1, p0 are the proportions as doubles; n1, n0 > 0 (callers compare only groups with members).
-#}

{# z_95(): the two-sided 95 % normal quantile. #}
{% macro z_95() -%}
    1.959963984540054e0
{%- endmacro %}

{# wald_diff_se(p1, n1, p0, n0): unpooled (Wald) standard error of p1 - p0. #}
{% macro wald_diff_se(p1, n1, p0, n0) -%}
    sqrt({{ p1 }} * (1 - {{ p1 }}) / {{ n1 }} + {{ p0 }} * (1 - {{ p0 }}) / {{ n0 }})
{%- endmacro %}

{# pooled_rate(x1, n1, x0, n0): the common proportion under the null hypothesis. #}
{% macro pooled_rate(x1, n1, x0, n0) -%}
    {{ campaign_warehouse.safe_divide('(' ~ x1 ~ ' + ' ~ x0 ~ ')', '(' ~ n1 ~ ' + ' ~ n0 ~ ')') }}
{%- endmacro %}

{# pooled_diff_se(pooled, n1, n0): standard error of p1 - p0 for the pooled two-proportion z-test. #}
{% macro pooled_diff_se(pooled, n1, n0) -%}
    sqrt(
        {{ pooled }} * (1 - {{ pooled }})
        * (
            cast(1 as {{ campaign_warehouse.type_double() }}) / {{ n1 }}
            + cast(1 as {{ campaign_warehouse.type_double() }}) / {{ n0 }}
        )
    )
{%- endmacro %}

{#- compared_with_group(relation, partition_column, baseline_group): every row of `relation` (a
    CTE with partition_column, grp, members, buyers, conversion and revenue_per_member) compared
    with the row of the same partition whose grp is baseline_group: its baseline_members,
    baseline_buyers, baseline_conversion, baseline_revenue_per_member, lift_abs, se_unpooled,
    pooled_rate, se_pooled and z_score. The comparison is null on the baseline row itself and
    where either side has no members. The one two-group step of mart_group_lift (control) and
    mart_global_holdout (holdout). -#}
{% macro compared_with_group(relation, partition_column, baseline_group) -%}
    select
        *,
        {{ campaign_warehouse.safe_divide('lift_abs', 'se_pooled') }} as z_score
    from (
        select
            *,
            {{ campaign_warehouse.pooled_diff_se('pooled_rate', 'members', 'baseline_members') }} as se_pooled
        from (
            select
                {{ relation }}.*,
                baseline.members as baseline_members,
                baseline.buyers as baseline_buyers,
                baseline.conversion as baseline_conversion,
                baseline.revenue_per_member as baseline_revenue_per_member,
                {{ relation }}.conversion - baseline.conversion as lift_abs,
                {{ campaign_warehouse.wald_diff_se(
                    relation ~ '.conversion', relation ~ '.members', 'baseline.conversion', 'baseline.members'
                ) }} as se_unpooled,
                {{ campaign_warehouse.pooled_rate(
                    relation ~ '.buyers', relation ~ '.members', 'baseline.buyers', 'baseline.members'
                ) }} as pooled_rate
            from {{ relation }}
            left join {{ relation }} as baseline
                on
                    {{ relation }}.{{ partition_column }} = baseline.{{ partition_column }}
                    and baseline.grp = '{{ baseline_group }}'
                    and {{ relation }}.grp <> '{{ baseline_group }}'
                    and {{ relation }}.members > 0
                    and baseline.members > 0
        ) as compared
    ) as tested
{%- endmacro %}

{# normal_cdf(x): P(Z <= x) for a standard normal Z, = erfc(-x / sqrt(2)) / 2. #}
{% macro normal_cdf(x) -%}
    (0.5 * {{ campaign_warehouse.erfc('-(' ~ x ~ ') * 7.0710678118654752440e-1') }})
{%- endmacro %}

{#- The Beta(1 + successes, 1 + trials - successes) posterior of a proportion under a uniform
    prior: its mean a / (a + b) = (1 + x) / (2 + n) and variance ab / ((a + b)^2 (a + b + 1)). -#}
{% macro beta_posterior_mean(successes, trials) -%}
    ((1 + {{ successes }}) / cast(2 + {{ trials }} as {{ campaign_warehouse.type_double() }}))
{%- endmacro %}

{% macro beta_posterior_variance(successes, trials) -%}
    (
        cast(1 + {{ successes }} as {{ campaign_warehouse.type_double() }})
        * (1 + {{ trials }} - {{ successes }})
        / (
            cast(2 + {{ trials }} as {{ campaign_warehouse.type_double() }}) * (2 + {{ trials }})
            * (3 + {{ trials }})
        )
    )
{%- endmacro %}
