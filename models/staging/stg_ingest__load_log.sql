with

source as (

    select * from {{ source('ingest', 'load_log') }}

),

final as (

    select
        load_id,
        raw_table,
        file,
        file_format,
        file_bytes,
        sha256,
        row_count,
        missing_columns,
        ignored_columns,
        empty_columns,
        crossmatch_radius_arcsec,
        loaded_at

    from source

)

select * from final
