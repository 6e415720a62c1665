"""Every mixture fit of the build, on one scheduler (clustering.schedule): the configured
runs (var gmm_runs), each refitted with every stability seed (var gmm_comparison), and
the k scan (var gmm_scan), side by side on all cores, largest first. One row per fit
with its figures, how it ran and its stored parameters; and one per fit the data cannot
support (an unusable feature set, fewer detections than components), with the reason."""

from clustering.relations import feature_matrix
from clustering.runs import MixtureRun
from clustering.schedule import fit_all, plan_fits
from clustering.storage import fits_table


def model(dbt, session):
    dbt.config(materialized="table")
    runs = [MixtureRun.from_config(config) for config in dbt.config.get("gmm_runs")]
    comparison, scan = dbt.config.get("gmm_comparison"), dbt.config.get("gmm_scan")
    configured = dbt.config.get("feature_sets")
    vectors = dbt.ref("int_feature_vectors")
    status = dbt.ref("int_feature_set_status").filter("unusable_reason is not null")
    unusable = dict(status.select("feature_set, unusable_reason").fetchall())

    feature_sets = sorted({run.feature_set for run in runs} | {scan["feature_set"]})
    matrices = {name: feature_matrix(vectors, name)[1] for name in feature_sets}
    feature_names = {
        name: tuple(feature["name"] for feature in configured[name]) for name in feature_sets
    }
    n_rows = {name: len(matrix) for name, matrix in matrices.items()}
    tasks, skipped = plan_fits(runs, comparison, scan, n_rows, unusable)
    return fits_table(fit_all(tasks, matrices), feature_names, skipped)
