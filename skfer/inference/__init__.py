"""Prediction's parts and the applications built on it.

The int8 engine (:mod:`._engine`, knowing the weights it was made from),
test-time augmentation views (:mod:`._tta`), photos (:mod:`._photos`,
``predict_images``), video and frame streams (:mod:`._stream`), ONNX export
and the TensorFlow-free predictor (:mod:`._onnx`). FERClassifier's one
prediction routine, which uses the engine and the views, is the estimator's
own (``skfer.estimator._prediction``). Import the public names from
:mod:`skfer`.
"""
