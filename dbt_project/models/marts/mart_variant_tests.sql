-- One row per mailing and pair of its A/B variants, variant_a < variant_b (reports.md,
-- mart_variant_tests). Conversions are int_group_outcomes' (intent to treat, as in
-- mart_group_lift); diff = conversion_b - conversion_a with the unpooled 95 % Wald interval and
-- the pooled two-sided z-test (macros/statistics.sql, the statistics of mart_group_lift).
-- prob_b_beats_a is the normal approximation of P(B > A) for the Beta(1 + buyers,
-- 1 + members - buyers) posteriors: Phi((mean_b - mean_a) / sqrt(var_a + var_b)). winner = the
-- variant with the higher conversion when p_value < 0.05, else null. A pair where either variant
-- has no good members has null statistics.
with

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

variants as (

    select
        mailing_id,
        grp as variant,
        members,
        buyers,
        {{ safe_divide('buyers', 'members') }} as conversion  -- noqa: RF04
    from {{ ref('int_group_outcomes') }}
    where grp not in ('treatment', 'control')

),

pairs as (

    select
        variant_a.mailing_id,
        variant_a.variant as variant_a,
        variant_b.variant as variant_b,
        variant_a.members as members_a,
        variant_b.members as members_b,
        variant_a.buyers as buyers_a,
        variant_b.buyers as buyers_b,
        variant_a.conversion as conversion_a,
        variant_b.conversion as conversion_b,
        variant_b.conversion - variant_a.conversion as diff,
        variant_a.members > 0 and variant_b.members > 0 as is_comparable
    from variants as variant_a
    inner join variants as variant_b
        on
            variant_a.mailing_id = variant_b.mailing_id
            and variant_a.variant < variant_b.variant

),

compared as (

    select
        *,
        case
            when is_comparable
                then {{ wald_diff_se('conversion_b', 'members_b', 'conversion_a', 'members_a') }}
        end as se_unpooled,
        case
            when is_comparable
                then {{ pooled_rate('buyers_b', 'members_b', 'buyers_a', 'members_a') }}
        end as pooled_rate,
        case
            when is_comparable
                then
                    {{ beta_posterior_mean('buyers_b', 'members_b') }}
                    - {{ beta_posterior_mean('buyers_a', 'members_a') }}
        end as posterior_mean_diff,
        case
            when is_comparable
                then
                    sqrt(
                        {{ beta_posterior_variance('buyers_a', 'members_a') }}
                        + {{ beta_posterior_variance('buyers_b', 'members_b') }}
                    )
        end as posterior_diff_sd
    from pairs

),

tested as (

    select
        *,
        {{ pooled_diff_se('pooled_rate', 'members_b', 'members_a') }} as se_pooled,
        posterior_mean_diff / posterior_diff_sd as posterior_z
    from compared

),

z_scored as (

    select
        *,
        {{ safe_divide('diff', 'se_pooled') }} as z_score
    from tested

),

p_valued as (

    select
        *,
        {{ normal_two_sided_p('z_score') }} as p_value
    from z_scored

),

named as (

    select
        p_valued.*,
        mailing_names.mailing_name
    from p_valued
    left join mailing_names
        on p_valued.mailing_id = mailing_names.mailing_id

)

select
    {{ cast_columns(['mailing_id', 'mailing_name', 'variant_a', 'variant_b'], dbt.type_string()) }},
    {{ cast_columns(['members_a', 'members_b', 'buyers_a', 'buyers_b'], dbt.type_bigint()) }},
    conversion_a,
    conversion_b,
    diff,
    diff - {{ z_95() }} * se_unpooled as diff_ci_low,
    diff + {{ z_95() }} * se_unpooled as diff_ci_high,
    p_value,
    {{ normal_cdf('posterior_z') }} as prob_b_beats_a,
    cast(
        case
            when p_value < 0.05 and conversion_b > conversion_a then variant_b
            when p_value < 0.05 and conversion_a > conversion_b then variant_a
        end as {{ dbt.type_string() }}
    ) as winner
from named
