-- The fitted transform of every feature: what new detections need to be transformed
-- exactly as the fitted ones were (computed in int_feature_transform_params).
select * from {{ ref('int_feature_transform_params') }}
