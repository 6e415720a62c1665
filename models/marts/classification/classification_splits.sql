-- The validation splits of the labelled detections: one row per split ('sources':
-- whole sources on either side, stratified by class; 'detections': the study's 80/20)
-- and labelled detection, with its side.
select * from {{ ref('int_class_splits') }}
