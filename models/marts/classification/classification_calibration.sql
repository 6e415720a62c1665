-- The reliability table of every validation model: held-out predictions binned by the
-- predicted label's probability (var classification.calibration_bins equal bins of
-- [0, 1]); per bin, how many, their mean probability and the share that were right. A
-- calibrated classifier's accuracy matches its mean probability bin by bin.
{%- set bins = var('classification').calibration_bins %}

with

items as (

    select * from {{ ref('classification_test_items') }}
    where predicted_label is not null

),

binned as (

    select
        *,
        least(floor(predicted_probability * {{ bins }}), {{ bins - 1 }})::integer as bin
    from items

),

final as (

    select
        classifier,
        training,
        item_kind,
        label_level,
        bin,
        bin / {{ bins }} as bin_low,
        (bin + 1) / {{ bins }} as bin_high,
        count(*) as n_items,
        {{ sorted_aggregate('avg', 'predicted_probability') }} as mean_probability,
        avg((true_label = predicted_label)::double) as accuracy
    from binned
    group by all

)

select * from final
