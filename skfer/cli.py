"""The ``skfer`` command: train, evaluate and predict from a shell.

Each command parses its arguments, calls one library function and prints
what it did; everything it does can be done from Python too.
"""

import argparse
import math
import os
import sys
import warnings


def _train(args):
    from .estimator._checkpoint import CheckpointMismatchError
    from .experiments._train import train_fer2013

    try:
        train_fer2013(
            args.output, data=args.data, recipe=args.recipe, epochs=args.epochs, subset=args.subset,
            random_state=args.random_state, verbose=0 if args.quiet else 1, restart=args.restart,
        )
    except CheckpointMismatchError as error:
        raise CheckpointMismatchError(
            f"{error} From the command line: pass --restart to start this run over in "
            f"{args.output}, or --output DIR for a new folder."
        ) from None
    _print_metrics(args.output)


def _interrupted(args):
    """What to print on Ctrl-C: for training, the epochs kept and how to resume."""
    if args.command != "train":
        return "skfer: interrupted."
    from pathlib import Path

    from .estimator._checkpoint import read_state

    state = read_state(Path(args.output) / "checkpoint")
    done = 0 if state is None else state["epoch"]
    return (
        f"skfer train: interrupted after epoch {done} of {args.epochs}; run the same command "
        "to resume from there."
    )


_EXPECTED_MODEL = "a fitted pipeline saved with joblib, such as the pipeline.joblib 'skfer train' writes"


def _check_model_path(path, expected=_EXPECTED_MODEL):
    """Refuse a model path that does not exist or holds only a Keras network, naming it."""
    from pathlib import Path

    path = Path(path)
    if path.suffix == ".keras":
        raise ValueError(
            f"{str(path)!r} holds only the Keras network, without the pixel preprocessing and "
            f"classes; skfer needs {expected} (it is beside model.keras in the output folder)."
        )
    if not path.is_file():
        raise ValueError(f"Model file {str(path)!r} does not exist; expected {expected}.")
    return path


def _read_pipeline(path):
    """A fitted pipeline from a joblib file, or an error naming the file and what it expected."""
    import joblib

    path = _check_model_path(path)
    expected = _EXPECTED_MODEL
    try:
        return joblib.load(path)
    except Exception as error:
        raise ValueError(
            f"Could not read the model file {str(path)!r} ({type(error).__name__}: {error}); "
            f"expected {expected}."
        ) from error


def _evaluate(args):
    from .experiments._evaluation import save_report
    from .datasets import load_fer2013

    pipe = _read_pipeline(args.model)
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


def _load_classifier(model, keras=False):
    """A fitted pipeline from joblib, an ONNXEmotionPredictor for .onnx files, or the pretrained one.

    The pretrained one is its 8-bit engine alone (no TensorFlow), or with ``keras`` the Keras
    pipeline (which predicts with the same engine and holds the float network, for Grad-CAM).
    """
    if model is None and keras:
        from .pretrained import load_pretrained

        return load_pretrained()
    if model is None:  # the shipped model's 8-bit engine: no TensorFlow to import
        from .pretrained import load_pretrained_onnx

        return load_pretrained_onnx()
    if str(model).lower().endswith(".onnx"):
        from .inference._onnx import ONNXEmotionPredictor

        return ONNXEmotionPredictor(model).fit()
    return _read_pipeline(model)


def _file_progress():
    """``predict_images``'s progress callback: files done, faces found and time left (skfer._progress.Progress)."""
    from ._progress import Progress

    progress = Progress("files")
    progress.start(total=None)  # the clock starts before the first file; predict_images gives the count

    def report(done, total, path, n_faces):
        progress.total = total
        progress.update(done, f", {n_faces:,} face{'' if n_faces == 1 else 's'}")

    return report


def _write_table(frame, output):
    """CSV to stdout or a file, JSON for a .json file; numbers rounded for reading."""
    import json

    from ._constants import EMOTIONS

    digits = dict.fromkeys(EMOTIONS, 4) | {"time_s": 3, "score": 4}
    frame = frame.round(digits | {c: 1 for c in frame.columns if c.endswith(("_x", "_y"))})
    if output is not None and str(output).lower().endswith(".json"):
        records = json.loads(frame.to_json(orient="records"))  # NaN and <NA> -> null
        with open(output, "w", encoding="utf-8") as file:
            json.dump(records, file, indent=2, ensure_ascii=False)
            file.write("\n")
    else:
        frame.to_csv(sys.stdout if output in (None, "-") else output, index=False)


def _predict(args):
    from .inference._photos import predict_images
    from .preprocessing import FaceDetector

    if args.quiet:
        warnings.simplefilter("ignore")
    options = {key: value for key, value in vars(args).items() if key.startswith("detector_")}
    detector = FaceDetector(**{key[len("detector_") :]: value for key, value in options.items()})
    if args.explain_method is not None and args.explain is None:
        raise ValueError("--explain-method chooses the maps of --explain DIR; give --explain DIR too.")
    explain = (args.explain_method or "occlusion") if args.explain else False
    pipeline = _load_classifier(args.model, keras=explain == "gradcam")
    frame = predict_images(
        args.paths, pipeline, detector=detector, every=args.every, batch_size=args.batch_size,
        annotate_dir=args.explain or args.annotate, all_files=True,
        progress=None if args.quiet else _file_progress(), explain=explain,
    )
    _write_table(frame.drop(columns=["saliency", "saliency_box"], errors="ignore"), args.output)
    n_files = len(frame["file"].unique())
    errors = frame.attrs["errors"]
    if not args.quiet:
        print(
            f"{int((frame['status'] == 'ok').sum())} faces in {n_files} files; "
            f"{len(frame.attrs['no_face'])} without a face; {len(errors)} unreadable or failed",
            file=sys.stderr,
        )
    if len(errors) == n_files:
        raise SystemExit(f"skfer predict: none of the {n_files} files could be read.")


def _export(args):
    from .experiments import fer2013_calibration_faces
    from .inference._onnx import export_onnx

    calibration = fer2013_calibration_faces(args.data, args.calibration) if args.int8 else None
    path = export_onnx(
        _load_classifier(args.model), args.output, opset=args.opset,
        quantize="int8" if args.int8 else None, calibration=calibration,
    )
    print(f"Wrote {path}; predict with it: skfer predict PHOTO --model {path}", file=sys.stderr)


#: The serve extra's modules: ``skfer serve`` checks for them before loading anything.
_SERVE_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "multipart": "python-multipart",
                  "fastapi_offline": "fastapi-offline", "PIL": "pillow"}


def _serve(args):
    import importlib.util

    missing = [package for module, package in _SERVE_MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ImportError(
            f"skfer serve needs the serve extra, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed: "
            'pip install "skfer[serve]".'
        )
    import uvicorn

    from .serve import make_app

    app = make_app(
        None if args.model is None else _load_classifier(args.model),
        max_file_bytes=round(args.max_file_mb * 1e6), max_files=args.max_files,
        max_pixels=round(args.max_megapixels * 1e6), max_faces=args.max_faces, threads=args.threads,
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"skfer serve: the page at http://{shown}:{args.port}/, the API's documentation at /docs", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"skfer serve: listening on {args.host}: other machines can reach it.", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")


def _at_least(kind, low, high=None):
    """An argparse type: ``kind`` within [low, high], or an error naming the range."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is not within {low}-{high if high is not None else 'inf'}")
        return value

    return convert


def _add_serve(commands):
    serve = commands.add_parser(
        "serve",
        help="the model over HTTP, with a page to try it in a browser",
        description="Serve the model over HTTP (needs the serve extra: pip install \"skfer[serve]\"): "
        "POST /v1/predict takes image files and answers with the rows 'skfer predict' writes; "
        "POST /v1/predict/faces takes 48x48 faces as JSON; GET /v1/model, /health, /docs. The page at / "
        "draws the faces' emotions over photos or a webcam snapshot. Requests that arrive together are "
        "predicted in one batch. Binds 127.0.0.1 unless --host says otherwise.",
    )
    serve.add_argument(
        "--model", help="fitted pipeline (joblib) or ONNX file from 'skfer export'; default: the pretrained model"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=_at_least(int, 0, 65535), default=8000, help="port (default: %(default)s)")
    limits = serve.add_argument_group("limits (larger requests get a 413 and a JSON error)")
    limits.add_argument("--max-file-mb", type=_at_least(float, 0.001), default=20, metavar="MB",
                        help="megabytes per uploaded file (default: %(default)s)")
    limits.add_argument("--max-files", type=_at_least(int, 1), default=16, metavar="N",
                        help="files per request (default: %(default)s)")
    limits.add_argument("--max-megapixels", type=_at_least(float, 0.001), default=50, metavar="MP",
                        help="megapixels per image, read from its header (default: %(default)s)")
    limits.add_argument("--max-faces", type=_at_least(int, 1), default=256, metavar="N",
                        help="faces per /v1/predict/faces request (default: %(default)s)")
    serve.add_argument("--threads", type=_at_least(int, 1), metavar="N",
                       help="threads that read photos and find faces (default: the usable cores)")
    serve.add_argument("-q", "--quiet", action="store_true", help="log warnings only, not each request")
    serve.set_defaults(run=_serve)


def build_parser():
    """Build the argument parser of the ``skfer`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with the sub-commands ``train``, ``evaluate``, ``predict``, ``export`` and ``serve``.

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
    from . import __version__
    from .experiments._recipes import DEFAULT_RECIPE, RECIPES

    parser.add_argument("--version", action="version", version=f"skfer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_help = "FER2013 CSV (plain or .gz) or its folder; default: $SKFER_DATA, then ~/skfer_data"

    train = commands.add_parser(
        "train",
        help="train the default pipeline on Training, validate on PublicTest",
        description="Train a recipe on FER2013 Training with PublicTest as validation data, "
        "then write the fitted pipeline, model.keras, metrics.json and report PNGs. Rerun the "
        "same command to resume an interrupted run from its last finished epoch.",
        epilog="recipes:\n" + "\n".join(
            f"  {name}{' (default)' if name == DEFAULT_RECIPE else ''}: {epochs} epochs; {text}"
            for name, (_, epochs, text) in RECIPES.items()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", help=data_help)
    train.add_argument("--output", default="skfer-output", help="output folder (default: %(default)s)")
    train.add_argument("--recipe", default=DEFAULT_RECIPE, choices=sorted(RECIPES),
                       help="named training recipe (default: %(default)s); see below")
    train.add_argument("--epochs", type=int, help="most epochs (default: the recipe's)")
    train.add_argument("--subset", type=int, help="train on N stratified Training faces, for a quick run")
    train.add_argument("--random-state", type=int, default=0, help="seed (default: %(default)s)")
    train.add_argument("--restart", action="store_true",
                       help="start over even if --output holds a different run's checkpoint")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved pipeline on a FER2013 split and write a report",
        description="Load a pipeline saved by 'skfer train' (pipeline.joblib), score it on "
        "a split and write metrics.json with the confusion matrix and ROC PNGs.",
    )
    evaluate.add_argument("model", help="fitted pipeline saved with joblib (pipeline.joblib from skfer train)")
    evaluate.add_argument("--usage", default="PublicTest", choices=["Training", "PublicTest", "PrivateTest"])
    evaluate.add_argument("--data", help=data_help)
    evaluate.add_argument("--output", default="skfer-evaluation", help="report folder (default: %(default)s)")
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict",
        help="emotions of the faces in photos, folders and videos",
        description="Find faces in image or video files (folders are searched), classify "
        "them in batches and write one row per face: file, frame, time, face index, box, "
        "detector score and keypoints, emotion, the 7 probabilities (4 decimals) and status "
        "'ok'; files without a face get a row with status 'no face' or 'unreadable'. "
        "Exits with 1 when no file could be read.",
    )
    predict.add_argument("paths", nargs="+", help="image files, video files or folders")
    predict.add_argument("-o", "--output", help="CSV file, or JSON by its extension; default (or -): CSV on stdout")
    drawn = predict.add_mutually_exclusive_group()
    drawn.add_argument("--annotate", metavar="DIR", help="write copies of the images with boxes and labels")
    drawn.add_argument(
        "--explain", metavar="DIR",
        help="write copies of the images with boxes, labels and each face's saliency map (where the "
        "face's emotion came from) blended in",
    )
    predict.add_argument(
        "--explain-method", choices=["occlusion", "gradcam"],
        help="saliency maps of --explain: 'occlusion' (default) explains exactly what the model "
        "predicts, with any model and without TensorFlow; 'gradcam' needs a Keras model (the "
        "pretrained one is then loaded with Keras) and explains its float network",
    )
    predict.add_argument("--every", type=int, default=1, metavar="N", help="use every N-th video frame")
    predict.add_argument(
        "--model", help="fitted pipeline (joblib) or ONNX file from 'skfer export'; default: the pretrained model"
    )
    predict.add_argument("--batch-size", type=int, default=256, metavar="N", help="faces per prediction call")
    predict.add_argument("-q", "--quiet", action="store_true", help="print nothing but the table")
    faces = predict.add_argument_group("face detection (defaults: FaceDetector's)")
    faces.add_argument(
        "--detector", dest="detector_detector", choices=["blazeface", "haar"],
        default=argparse.SUPPRESS, help="face detector",
    )
    for flag, kind, meaning in [
        ("min-confidence", float, "drop faces the detector scores below this (0-1)"),
        ("max-faces", int, "keep the N largest faces per image or frame"),
        ("min-size", int, "smallest face side kept, in pixels"),
        ("margin", float, "border added around each face, as a fraction of its side"),
        ("scale-factor", float, "Haar cascade: growth of the search window per scale"),
        ("min-neighbors", int, "Haar cascade: overlapping detections a face needs"),
    ]:
        dest = f"detector_{flag.replace('-', '_')}"
        metavar = "N" if kind is int else "X"
        faces.add_argument(
            f"--{flag}", dest=dest, type=kind, metavar=metavar, default=argparse.SUPPRESS, help=meaning
        )
    faces.add_argument(
        "--no-align", dest="detector_align", action="store_false", default=argparse.SUPPRESS,
        help="do not rotate faces to level their eyes",
    )
    predict.set_defaults(run=_predict)

    export = commands.add_parser(
        "export",
        help="export a model's network to ONNX, to predict without TensorFlow",
        description="Write the network of a fitted pipeline (or of the pretrained model) and "
        "its pixel scaling to an ONNX file, which 'skfer predict --model FILE.onnx' and "
        "skfer.ONNXEmotionPredictor run with onnxruntime.",
    )
    export.add_argument("model", nargs="?", help="fitted pipeline (joblib); default: the pretrained model")
    export.add_argument("-o", "--output", default="skfer.onnx", help="ONNX file (default: %(default)s)")
    export.add_argument("--opset", type=int, help="ONNX opset version (default: tf2onnx's)")
    export.add_argument("--int8", action="store_true",
                        help="8-bit weights and activations (faster on CPUs with VNNI), calibrated "
                        "on FER2013 Training faces; measure its accuracy before deploying it")
    export.add_argument("--calibration", type=int, default=512, metavar="N",
                        help="Training faces that calibrate --int8 (default: %(default)s)")
    export.add_argument("--data", help=f"for --int8: {data_help}")
    export.set_defaults(run=_export)
    _add_serve(commands)
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
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = build_parser().parse_args(argv)
    try:
        _check_paths(args)  # before the heavy imports: a wrong path is refused at once
        # skfer predict with the shipped model or an ONNX file runs on ONNX Runtime alone
        # (Grad-CAM needs the Keras network).
        onnx_only = args.command in ("predict", "serve") and str(args.model or ".onnx").endswith(".onnx")
        if not onnx_only or getattr(args, "explain_method", None) == "gradcam":
            _import_keras_quietly()
        args.run(args)
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        print(f"skfer {args.command}: error: {error}", file=sys.stderr)
        print("(run with --debug for the full traceback)", file=sys.stderr)
        return 1
    return 0


def _check_paths(args):
    """Refuse a missing data file or model file, naming it, before anything heavy is imported."""
    from .datasets import find_fer2013

    model = getattr(args, "model", None)
    if model is not None and not str(model).endswith(".onnx"):
        _check_model_path(model)
    elif model is not None:
        _check_model_path(model, "an ONNX file written by skfer export")
    if args.command in ("train", "evaluate"):
        find_fer2013(args.data)


def _import_keras_quietly():
    """Import Keras (and TensorFlow) with their C++ start-up log lines silenced.

    TensorFlow writes its oneDNN and CUDA notices to file descriptor 2 while
    it loads, before any Python logging setting applies (even a CUDA
    *error* on machines without a GPU); they are dropped here, and
    ``TF_CPP_MIN_LOG_LEVEL`` keeps later C++ messages to errors.
    """
    if "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


if __name__ == "__main__":
    sys.exit(main())
