"""The estimator and its training: FERClassifier, its pipeline, and the one routine that trains it.

The flow of a fit: :mod:`._classifier` checks the parameters and the data,
:mod:`._network` builds and compiles the network from them, and
:mod:`._training` runs the epochs (batches from :mod:`._batches`, the
recipe's callbacks from :mod:`._callbacks`, checkpoints from
:mod:`._checkpoint`, seeds from :mod:`._seeding`). Import the public names
from :mod:`skfer`.
"""
