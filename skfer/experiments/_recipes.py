"""Named training recipes: FERClassifier parameters, epochs, and the runs that measured them.

``skfer train --recipe NAME`` and :func:`skfer.experiments.train_fer2013`
start from one of these. Their figures are in the runs' ``metrics.json``
under ``benchmarks/results/`` and in the shipped models' cards.
"""

#: crop_cosine's parameters, shared by the recipes built on it.
_CROP_COSINE = {
    "batch_size": 64,
    "crop_size": 44,
    "rotation": 0.0,
    "shift": 0.0,
    "shear": 0.0,
    "zoom": 0.0,
    "dropout": (0.1, 0.2, 0.3),
    "dense_dropout": 0.3,
    "label_smoothing": 0.1,
    "optimizer": "adamw",
    "learning_rate": 2e-3,
    "weight_decay": 0.01,
    "lr_schedule": "cosine",
    "warmup_epochs": 2,
    "early_stopping": False,
    "tta": "flip",
}

#: Recipe name -> (FERClassifier parameters, epochs, what it is and where its runs' figures are).
RECIPES = {
    "seed": (
        {},
        100,
        "the FER2013 notebook's recipe (Nadam, plateau schedule, flips, rotations, shifts, "
        "shears and zooms); runs: benchmarks/results/seed_affine_gpu",
    ),
    "flip_shift": (
        {"rotation": 0.0, "shear": 0.0, "zoom": 0.0, "shift": 0.1},
        100,
        "the seed recipe with flips and shifts only (the shipped flip_shift model); "
        "runs: benchmarks/results/flip_shift_gpu",
    ),
    "crop_cosine": (
        _CROP_COSINE,
        40,
        "random 44-pixel crops and flips, AdamW with a cosine schedule, label smoothing "
        "0.1, light dropout, flip test-time augmentation (the shipped crop_cosine model, "
        "at 70 epochs); runs: benchmarks/results/cpu_dcnn_crop44_cosine_lightdrop_bf16_40ep, "
        "benchmarks/results/cpu_dcnn_crop_cosine_70ep",
    ),
    "crop_cosine_k3_relu": (
        {**_CROP_COSINE, "kernel_sizes": 3, "activation": "relu"},
        40,
        "crop_cosine with 3x3 convolutions in every block and ReLU instead of ELU (145 "
        "MFLOP a face instead of 210); the shipped default model at 70 epochs; runs: "
        "benchmarks/results/cpu_dcnn_k3_relu_crop_cosine_40ep, "
        "benchmarks/results/cpu_dcnn_k3_relu_crop_cosine_70ep",
    ),
}

#: The recipe ``skfer train`` uses unless told otherwise: the best PublicTest
#: accuracy measured within the CPU budget of 40 epochs (the runs named above).
DEFAULT_RECIPE = "crop_cosine_k3_relu"


def recipe(name):
    """FERClassifier parameters and epochs of a named recipe.

    Parameters
    ----------
    name : str
        A key of :data:`RECIPES`.

    Returns
    -------
    params : dict
        FERClassifier parameters (a copy).
    epochs : int
        The recipe's epochs.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the recipes.

    Examples
    --------
    >>> from skfer.experiments._recipes import recipe
    >>> params, epochs = recipe("flip_shift")
    >>> params["shift"], epochs
    (0.1, 100)
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {sorted(RECIPES)}.")
    params, epochs, _ = RECIPES[name]
    return dict(params), epochs
