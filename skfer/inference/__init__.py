"""Prediction and the applications built on it.

:mod:`._routine` is the one prediction routine behind FERClassifier's
``predict``, ``predict_proba`` and ``score`` (test-time augmentation, dtype,
batches, the graph kept in step with the fitted weights; views from
:mod:`._tta`). On it: photos (:mod:`._photos`, ``predict_images``), video
and frame streams (:mod:`._stream`), ONNX export and the TensorFlow-free
predictor (:mod:`._onnx`). Import the public names from :mod:`skfer`.
"""
