"""Applications of a fitted model: photos (:mod:`._photos`), video and frame streams (:mod:`._stream`), ONNX (:mod:`._onnx`).

Import the public names from :mod:`skfer`.
"""
