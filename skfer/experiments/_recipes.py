"""Named training recipes: FERClassifier parameters, epochs, and the runs that measured them.

``skfer train --recipe NAME`` and :func:`skfer.experiments.train_fer2013`
start from one of these; ``FERClassifier(**recipe("seed")[0])`` is the seed
notebook's recipe. Their figures are in the runs' ``metrics.json``
under ``benchmarks/results/`` and in the shipped models' cards.
"""

#: The seed notebook's recipe, as FERClassifier parameters: its network (5x5 then 3x3
#: kernels, ELU, heavy dropout), affine augmentation without crops, Nadam with the
#: plateau schedule and early stopping on a stratified tenth of the training faces.
_SEED = {
    "architecture__kernel_sizes": (5, 3, 3),
    "architecture__activation": "elu",
    "architecture__dense_dropout": 0.6,
    "dropout": (0.4, 0.4, 0.5),
    "augmentation__crop_size": None,
    "augmentation__rotation": 15.0,
    "augmentation__shift": 0.15,
    "augmentation__shear": 0.15,
    "augmentation__zoom": 0.15,
    "label_smoothing": 0.0,
    "optimizer": "nadam",
    "learning_rate": 1e-3,
    "weight_decay": None,
    "lr_schedule": "plateau",
    "early_stopping": True,
    "early_stopping__patience": 11,
    "batch_size": 32,
}

#: Recipe name -> (FERClassifier parameters that differ from its defaults, epochs, what it
#: is and where its runs' figures are). FERClassifier's defaults are crop_cosine_k3_relu's.
RECIPES = {
    "seed": (
        _SEED,
        100,
        "the FER2013 notebook's recipe (Nadam, plateau schedule, early stopping, flips, "
        "rotations, shifts, shears and zooms); runs: benchmarks/results/seed_affine_gpu",
    ),
    "flip_shift": (
        {**_SEED, "augmentation__rotation": 0.0, "augmentation__shear": 0.0, "augmentation__zoom": 0.0,
         "augmentation__shift": 0.1},
        100,
        "the seed recipe with flips and shifts only (the shipped flip_shift model); "
        "runs: benchmarks/results/flip_shift_gpu",
    ),
    "crop_cosine": (
        {"architecture__kernel_sizes": (5, 3, 3), "architecture__activation": "elu", "tta": "flip"},
        40,
        "random 44-pixel crops and flips, AdamW with a cosine schedule, label smoothing "
        "0.1, light dropout, flip test-time augmentation (the shipped crop_cosine model, "
        "at 70 epochs); runs: benchmarks/results/cpu_dcnn_crop44_cosine_lightdrop_bf16_40ep, "
        "benchmarks/results/cpu_dcnn_crop_cosine_70ep",
    ),
    "crop_cosine_k3_relu": (
        {"tta": "flip"},
        40,
        "FERClassifier's defaults: crop_cosine with 3x3 convolutions in every block and ReLU "
        "instead of ELU (145 MFLOP a face instead of 210); the shipped default model at 70 "
        "epochs; runs: benchmarks/results/cpu_dcnn_k3_relu_crop_cosine_40ep, "
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
    >>> params["augmentation__shift"], epochs
    (0.1, 100)
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {sorted(RECIPES)}.")
    params, epochs, _ = RECIPES[name]
    return dict(params), epochs
