"""What a configured fit is: features, number of components, covariance type, seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sklearn.mixture import GaussianMixture

RUN_KEYS = ("run_id", "feature_set", "n_components", "covariance_type", "random_state")


@dataclass(frozen=True)
class MixtureRun:
    """One configured fit: which features, how many components, which seed."""

    run_id: str
    feature_set: str
    n_components: int
    covariance_type: str = "full"
    random_state: int = 42
    # Any further GaussianMixture parameter (max_iter, n_init, tol, reg_covar, ...).
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MixtureRun:
        """A run from one entry of var gmm_runs."""
        return cls(
            **{key: value for key, value in config.items() if key in RUN_KEYS},
            options={key: value for key, value in config.items() if key not in RUN_KEYS},
        )

    def reseeded(self, seed: int) -> MixtureRun:
        """The same run with another seed (for stability and the k scan)."""
        return MixtureRun(
            f"{self.run_id}@{seed}",
            self.feature_set,
            self.n_components,
            self.covariance_type,
            seed,
            self.options,
        )

    def estimator(self) -> GaussianMixture:
        return GaussianMixture(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            random_state=self.random_state,
            **self.options,
        )


def fit_id(kind: str, run: MixtureRun) -> str:
    """A fit's name: a run's run_id, a refit's run_id@seed (its reseeded run_id), and a
    scan fit's scan_<feature set>_k<k>@<seed>."""
    if kind == "scan":
        return f"scan_{run.feature_set}_k{run.n_components}@{run.random_state}"
    return run.run_id
