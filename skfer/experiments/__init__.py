"""What experiments on FER2013 are made of: recipes, the main training job, evaluation, reports.

The ``skfer`` command and the scripts in ``benchmarks/`` are built from these
public names (imported on first use, so that ``import skfer.experiments``
loads no TensorFlow):

- recipes: :data:`RECIPES`, :data:`DEFAULT_RECIPE`, :func:`recipe`;
- the main job behind ``skfer train``: :func:`train_fer2013`, :func:`epoch_summary`,
  :func:`training_throughput`;
- evaluation and reports: :func:`evaluation_report`, :func:`classification_scores`,
  :func:`accuracy_by_tta`, :func:`save_report`, :func:`update_metrics`;
- the machine a figure was measured on: :func:`machine`, :func:`versions`,
  :func:`native_bfloat16`, :func:`fp32_peak_gflops`, :func:`peak_memory_mb`,
  :func:`resolve_dtype`;
- prediction settings benchmarks report: :data:`PREDICT_BATCH`, and the
  faces that calibrate an 8-bit ONNX export: :func:`fer2013_calibration_faces`;
- training callbacks a run may add: :class:`TimeBudget`, :class:`CosineSchedule`, :class:`OneCycleSchedule`;
- the test-time views :class:`~skfer.FERClassifier` averages: :func:`tta_views`.

Examples
--------
>>> from skfer.experiments import recipe
>>> params, epochs = recipe("seed")
>>> params["lr_schedule"], epochs
('plateau', 100)
"""

import importlib

#: Module of each public name, imported on first access.
_LAZY = {
    "RECIPES": "skfer.experiments._recipes",
    "DEFAULT_RECIPE": "skfer.experiments._recipes",
    "recipe": "skfer.experiments._recipes",
    "train_fer2013": "skfer.experiments._train",
    "epoch_summary": "skfer.experiments._train",
    "training_throughput": "skfer.experiments._train",
    "evaluation_report": "skfer.experiments._evaluation",
    "classification_scores": "skfer.experiments._evaluation",
    "accuracy_by_tta": "skfer.experiments._evaluation",
    "save_report": "skfer.experiments._evaluation",
    "update_metrics": "skfer.experiments._evaluation",
    "machine": "skfer._hardware",
    "versions": "skfer._hardware",
    "native_bfloat16": "skfer._hardware",
    "fp32_peak_gflops": "skfer._hardware",
    "peak_memory_mb": "skfer._hardware",
    "TimeBudget": "skfer.estimator._callbacks",
    "CosineSchedule": "skfer.estimator._callbacks",
    "OneCycleSchedule": "skfer.estimator._callbacks",
    "tta_views": "skfer.inference._tta",
    "resolve_dtype": "skfer.models._inference",
    "PREDICT_BATCH": "skfer.models._inference",
    "fer2013_calibration_faces": "skfer.experiments._calibration",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
