-- The stored class models: which classifier, trained on what (all labelled detections, or
-- the training side of a validation split), from which run and feature set, when.
with

models as (

    select * from {{ ref('int_class_models') }}

),

final as (

    select * exclude (model)
    from models

)

select * from final
