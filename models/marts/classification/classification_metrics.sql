{#-
    How far to trust each classifier, from its validation models' held-out predictions
    (classification_test_items): per model, item kind (detection, source), label level (class,
    group) and subset ('all' predictions, and the 'confident' ones, probability at least
    var classification.confident_probability): per label its support, precision, recall
    and F1; overall the balanced accuracy (mean recall over the true labels present, as
    scikit-learn's), accuracy, log loss (the true label's probability clipped to
    [eps, 1 - eps], as scikit-learn's), the multi-class Brier score (mean over items of
    the sum over labels of (p - y)^2), the number of items and the coverage (the share of
    all held-out items in the subset; items no class could be given count against it).
    Long form: one row per metric.
-#}

with

items as (

    select * from {{ ref('classification_test_items') }}

),

subsets as (

    {{ classification_subsets('items') }}

),

totals as (

    select
        classifier,
        training,
        item_kind,
        label_level,
        count(*) as n_all
    from items
    group by classifier, training, item_kind, label_level

),

labels as (

    select distinct
        classifier,
        training,
        item_kind,
        label_level,
        subset,
        true_label as label_name
    from subsets
    union
    select distinct
        classifier,
        training,
        item_kind,
        label_level,
        subset,
        predicted_label as label_name
    from subsets

),

per_label as (

    select
        labels.classifier,
        labels.training,
        labels.item_kind,
        labels.label_level,
        labels.subset,
        labels.label_name,
        count(*) filter (where subsets.true_label = labels.label_name) as n_true,
        count(*) filter (where subsets.predicted_label = labels.label_name) as n_predicted,
        count(*) filter (
            where
            subsets.true_label = labels.label_name
            and subsets.predicted_label = labels.label_name
        ) as true_positives
    from labels
    inner join subsets
        on
            labels.classifier = subsets.classifier
            and labels.training = subsets.training
            and labels.item_kind = subsets.item_kind
            and labels.label_level = subsets.label_level
            and labels.subset = subsets.subset
    group by all

),

label_figures as (

    select
        *,
        true_positives / nullif(n_predicted, 0) as label_precision,
        true_positives / nullif(n_true, 0) as label_recall
    from per_label

),

overall as (

    select
        subsets.classifier,
        subsets.training,
        subsets.item_kind,
        subsets.label_level,
        subsets.subset,
        count(*) as n_items,
        count(*) / any_value(totals.n_all) as coverage,
        avg((subsets.true_label = subsets.predicted_label)::double) as accuracy,
        -- clipped to [eps, 1 - eps], eps the double's machine epsilon, as scikit-learn does
        -{{ sorted_aggregate('avg',
            'ln(least(greatest(coalesce(subsets.true_probability, 0),'
            ~ ' 2.220446049250313e-16), 1 - 2.220446049250313e-16))') }} as log_loss,
        {{ sorted_aggregate('avg',
            'subsets.sum_squared_probabilities - 2 * coalesce(subsets.true_probability, 0) + 1')
        }} as brier_score
    from subsets
    inner join totals
        on
            subsets.classifier = totals.classifier
            and subsets.training = totals.training
            and subsets.item_kind = totals.item_kind
            and subsets.label_level = totals.label_level
    group by all

),

balanced as (

    select
        classifier,
        training,
        item_kind,
        label_level,
        subset,
        {{ sorted_aggregate('avg', 'label_recall') }} as balanced_accuracy
    from label_figures
    where n_true > 0
    group by all

),

final as (

    {%- for metric in ['support', 'precision', 'recall', 'f1'] %}

        select
            classifier,
            training,
            item_kind,
            label_level,
            subset,
            label_name,
            '{{ metric }}' as metric,
            {%- if metric == 'f1' %}
                2 * label_precision * label_recall / nullif(label_precision + label_recall, 0)
                    as value
            {%- elif metric == 'support' %}
                n_true::double as value
            {%- else %}
                label_{{ metric }} as value
            {%- endif %}
        from label_figures
        union all
    {%- endfor %}
    {%- for metric in ['n_items', 'coverage', 'accuracy', 'log_loss', 'brier_score'] %}

        select
            classifier,
            training,
            item_kind,
            label_level,
            subset,
            null as label_name,
            '{{ metric }}' as metric,
            {{ metric }}::double as value
        from overall
        union all
    {%- endfor %}

    select
        classifier,
        training,
        item_kind,
        label_level,
        subset,
        null as label_name,
        'balanced_accuracy' as metric,
        balanced_accuracy as value
    from balanced

)

select * from final
