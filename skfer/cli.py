"""The ``skfer`` command: train, evaluate and predict from a shell.

Each command parses its arguments, calls one library function and prints
what it did; everything it does can be done from Python too.
"""

import argparse
import os
import sys
import warnings


def _train(args):
    from ._train import train_fer2013

    train_fer2013(
        args.output, data=args.data, epochs=args.epochs, subset=args.subset,
        random_state=args.random_state,
    )
    _print_metrics(args.output)


def _evaluate(args):
    import joblib

    from ._evaluation import save_report
    from .datasets import load_fer2013

    pipe = joblib.load(args.model)
    data = load_fer2013(args.data, usage=args.usage)
    save_report(pipe, data.data, data.target, args.output, split=args.usage)
    _print_metrics(args.output)


def _print_metrics(output_dir):
    import json
    from pathlib import Path

    metrics = json.loads((Path(output_dir) / "metrics.json").read_text())
    print(
        f"{metrics['split']}: accuracy {metrics['accuracy']:.4f}, macro-F1 "
        f"{metrics['macro_f1']:.4f} on {metrics['n_rows']} faces. Report in {output_dir}/"
    )


def _predict(args):
    import joblib

    from ._predict import predict_images

    pipeline = joblib.load(args.model) if args.model else None
    frame = predict_images(
        args.paths, pipeline, every=args.every, annotate_dir=args.annotate,
        progress=lambda done, total, path: print(f"[{done}/{total}] {path}", file=sys.stderr),
    )
    if args.output is None:
        frame.to_csv(sys.stdout, index=False)
    elif str(args.output).endswith(".json"):
        frame.to_json(args.output, orient="records", indent=2)
    else:
        frame.to_csv(args.output, index=False)
    errors = frame.attrs.get("errors", [])
    print(
        f"{len(frame)} faces in {frame['file'].nunique()} files; "
        f"{len(frame.attrs.get('no_face', []))} without a face; {len(errors)} skipped",
        file=sys.stderr,
    )


def build_parser():
    """Build the argument parser of the ``skfer`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with the sub-commands ``train``, ``evaluate`` and ``predict``.

    Examples
    --------
    >>> from skfer.cli import build_parser
    >>> build_parser().parse_args(["train", "--epochs", "2"]).epochs
    2
    """
    parser = argparse.ArgumentParser(
        prog="skfer",
        description="Facial emotion recognition on FER2013 with scikit-learn and Keras.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_help = "FER2013 CSV (plain or .gz) or its folder; default: $SKFER_DATA, then ~/skfer_data"

    train = commands.add_parser(
        "train",
        help="train the default pipeline on Training, validate on PublicTest",
        description="Train the seed DCNN recipe on FER2013 Training with PublicTest as "
        "validation data (early stopping, learning-rate reduction), then write the fitted "
        "pipeline, model.keras, metrics.json and report PNGs. Rerun the same command to "
        "resume an interrupted run from its last finished epoch.",
    )
    train.add_argument("--data", help=data_help)
    train.add_argument("--output", default="skfer-output", help="output folder (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=100, help="most epochs (default: %(default)s)")
    train.add_argument("--subset", type=int, help="train on N stratified Training faces, for a quick run")
    train.add_argument("--random-state", type=int, default=0, help="seed (default: %(default)s)")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved pipeline on a FER2013 split and write a report",
        description="Load a pipeline saved by 'skfer train' (pipeline.joblib), score it on "
        "a split and write metrics.json with the confusion matrix and ROC PNGs.",
    )
    evaluate.add_argument("model", help="fitted pipeline saved with joblib (pipeline.joblib)")
    evaluate.add_argument("--usage", default="PublicTest", choices=["Training", "PublicTest", "PrivateTest"])
    evaluate.add_argument("--data", help=data_help)
    evaluate.add_argument("--output", default="skfer-evaluation", help="report folder (default: %(default)s)")
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict",
        help="emotions of the faces in photos, folders and videos",
        description="Find faces in image or video files (folders are searched), classify "
        "them in batches and write one row per face: file, frame, time, face index, box, "
        "emotion and the 7 probabilities.",
    )
    predict.add_argument("paths", nargs="+", help="image files, video files or folders")
    predict.add_argument("-o", "--output", help="CSV file, or JSON by its extension; default: stdout")
    predict.add_argument("--annotate", metavar="DIR", help="write copies of the images with boxes and labels")
    predict.add_argument("--every", type=int, default=1, metavar="N", help="use every N-th video frame")
    predict.add_argument("--model", help="fitted pipeline (joblib); default: the pretrained model")
    predict.set_defaults(run=_predict)
    return parser


def main(argv=None):
    """Run the ``skfer`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` if None.

    Examples
    --------
    >>> from skfer.cli import main
    >>> main(["train", "--epochs", "1", "--subset", "300"])  # doctest: +SKIP
    """
    warnings.formatwarning = lambda message, category, *args, **kwargs: (
        f"{category.__name__}: {message}\n"
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
