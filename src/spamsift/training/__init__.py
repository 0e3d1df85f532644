"""Training: splits, fitting with tuning and search, cut-offs, retraining and replay.

Cut-offs and hyperparameters are chosen on the training rows only (out-of-fold);
``retrain`` refits on feedback and promotes a challenger only when it is no worse;
``replay`` measures learning from feedback in date order. :func:`train_index` and
:func:`evaluate_index` are the runs behind ``spamsift train`` and ``evaluate`` (in
memory, streamed or on a Dask cluster), which the CLI only asks for and prints.
"""

from __future__ import annotations

from spamsift._lazy import lazy_names

# Each public name, and the module that holds it. (The functions named like their
# modules, retrain, replay and search, are reached through those modules: as names of
# the package they would hide the modules themselves.)
_WHERE = {
    "TrainOptions": "trainer",
    "fit_model": "trainer",
    "DEFAULT_PARAMS": "trainer",
    "stratified_split": "splits",
    "time_split": "splits",
    "Dataset": "jobs",
    "load_dataset": "jobs",
    "train_job": "jobs",
    "evaluate_job": "jobs",
    "TrainRun": "runs",
    "train_index": "runs",
    "evaluate_index": "runs",
    "RetrainReport": "retrain",
    "ReplayResult": "replay",
}

__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
