-- The confusion matrix of every validation model's held-out predictions, per item kind
-- (detection, source), label level (class, group) and subset ('all', 'confident'): how many
-- items of each true label got each predicted label, and their share of the true label.

with

items as (

    select * from {{ ref('classification_test_items') }}
    where predicted_label is not null

),

subsets as (

    {{ classification_subsets('items') }}

),

final as (

    select
        classifier,
        training,
        item_kind,
        label_level,
        subset,
        true_label,
        predicted_label,
        count(*) as n_items,
        count(*) / sum(count(*)) over (
            partition by classifier, training, item_kind, label_level, subset, true_label
        ) as fraction_of_true
    from subsets
    group by classifier, training, item_kind, label_level, subset, true_label, predicted_label

)

select * from final
