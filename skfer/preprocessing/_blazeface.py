"""BlazeFace, MediaPipe's short-range face detector, run and decoded with OpenCV alone.

The network (``face_detection_short_range.tflite``, shipped in
``skfer/pretrained/faces`` with its license and provenance) maps a 128x128
image to a score and 16 numbers for each of 896 anchors: the box's centre
offset and size, and six keypoints. Decoding follows MediaPipe's face
detection graph: SSD anchors at strides 8 and 16, sigmoid scores, offsets
scaled by the input size, and weighted non-maximum suppression.
"""

import math
from pathlib import Path

import cv2
import numpy as np

#: Folder of the face detector models shipped with skfer.
MODEL_DIR = Path(__file__).resolve().parent.parent / "pretrained" / "faces"

#: Names of BlazeFace's keypoints, in its output order; "right" and "left" are
#: the person's own (the right eye is on the image's left in a frontal face).
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear", "left_ear")

_MODEL_FILE = "face_detection_short_range.tflite"
_SIZE = 128  # input side in pixels
_STRIDES = (8, 16, 16, 16)  # one entry per SSD layer
_ANCHORS_PER_LAYER = 2  # aspect ratio 1 plus the interpolated scale
_NMS_IOU = 0.3
_SCORE_CLIP = 100.0
#: The network's outputs by name, with the shape each must have (one row per anchor).
_OUTPUTS = {"classificators": 1, "regressors": 4 + 2 * len(KEYPOINTS)}


def _anchor_centres():
    """Anchor centres in [0, 1], in the network's output order (896, 2)."""
    centres = []
    for stride in dict.fromkeys(_STRIDES):
        cells = math.ceil(_SIZE / stride)
        per_cell = _ANCHORS_PER_LAYER * _STRIDES.count(stride)
        y, x = np.mgrid[0:cells, 0:cells]
        grid = (np.stack([x, y], axis=-1).reshape(-1, 2) + 0.5) / cells
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres)


def _read_net(path):
    """The network, on OpenCV 5's classic engine where the new one cannot run it."""
    engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
    if engine is None:
        return cv2.dnn.readNetFromTFLite(str(path))
    return cv2.dnn.readNetFromTFLite(str(path), engine=engine)


def _named_outputs(net, path, n_anchors):
    """Run ``net``; its (logits, regressors) by output name, each checked to have ``n_anchors`` rows.

    OpenCV's ``forward`` returns the outputs in an order that changed between
    releases (5.1 swapped them), so they are matched by name; an output that
    is missing or has an unexpected shape raises an error naming the model
    file, the shapes received and the OpenCV version.
    """
    names = net.getUnconnectedOutLayersNames()
    outputs = dict(zip(names, net.forward(names)))
    checked = {}
    for name, width in _OUTPUTS.items():
        value = outputs.get(name)
        if value is None or value.size != n_anchors * width:
            got = {key: tuple(out.shape) for key, out in outputs.items()}
            raise RuntimeError(
                f"BlazeFace model {path} gave outputs {got} on OpenCV {cv2.__version__}; "
                f"expected {sorted(_OUTPUTS)} with {n_anchors} rows of "
                f"{_OUTPUTS['classificators']} and {_OUTPUTS['regressors']} numbers."
            )
        checked[name] = value.reshape(n_anchors, width)
    return checked["classificators"], checked["regressors"]


def _iou(box, boxes):
    """Intersection over union of one (x0, y0, x1, y1) box with each of ``boxes``."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, np.finfo(float).tiny)


def _weighted_nms(corners, points, scores):
    """MediaPipe's weighted NMS: each kept face averages the boxes it suppresses.

    Returns the kept faces' corners (n, 4), keypoints (n, 6, 2) and top scores (n,).
    """
    order = np.argsort(-scores, kind="stable")
    kept = []
    while order.size:
        overlap = _iou(corners[order[0]], corners[order]) > _NMS_IOU
        group, order = order[overlap], order[~overlap]
        weights = scores[group] / scores[group].sum()
        kept.append(
            (
                np.tensordot(weights, corners[group], axes=1),
                np.tensordot(weights, points[group], axes=1),
                scores[group[0]],
            )
        )
    corners, points, scores = zip(*kept)
    return np.array(corners), np.array(points), np.array(scores)


def _tile_views(width, height, tiles):
    """The whole image, then ``tiles`` x ``tiles`` tiles overlapping by half, as (x0, y0, x1, y1)."""
    views = [(0, 0, width, height)]
    if tiles > 1:
        tile_w, tile_h = 2 * width / (tiles + 1), 2 * height / (tiles + 1)
        for row in range(tiles):
            for col in range(tiles):
                x0, y0 = round(col * tile_w / 2), round(row * tile_h / 2)
                views.append((x0, y0, min(width, round(x0 + tile_w)), min(height, round(y0 + tile_h))))
    return views


class BlazeFace:
    """BlazeFace short-range detector: a callable from a gray image to faces.

    Parameters
    ----------
    min_score : float
        Faces scoring below this (0-1) are dropped before suppression.
    tiles : int, default=1
        Besides the whole image, search ``tiles`` x ``tiles`` tiles that
        overlap by half, each scaled to the network's 128x128 input, so that
        faces too small for the whole image's pass are found; a face a tile
        cuts is left to the tile (or the whole image) that holds it. 1
        searches the whole image only.

    Calling it with a grayscale uint8 image of shape (H, W) returns an array
    of shape (n_faces, 17): box ``x, y, w, h``, score, then the six
    :data:`KEYPOINTS` as ``x, y`` pairs, all in pixels of the image.
    """

    def __init__(self, min_score, tiles=1):
        self.min_score = min_score
        self.tiles = tiles
        self._path = MODEL_DIR / _MODEL_FILE
        self._net = _read_net(self._path)
        self._anchors = _anchor_centres()

    def _candidates(self, gray):
        """Scores, corners (x0, y0, x1, y1) and keypoints, in pixels of ``gray``, before suppression."""
        height, width = gray.shape
        scale = _SIZE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(gray, size, interpolation=interpolation)
        pad = np.array([(_SIZE - size[0]) // 2, (_SIZE - size[1]) // 2])
        tensor = np.zeros((_SIZE, _SIZE), np.float32)  # letterbox borders at mid-gray
        tensor[pad[1] : pad[1] + size[1], pad[0] : pad[0] + size[0]] = resized / 127.5 - 1
        self._net.setInput(np.broadcast_to(tensor, (1, 3, _SIZE, _SIZE)).copy())
        logits, regressors = _named_outputs(self._net, self._path, len(self._anchors))
        logits = np.clip(logits.reshape(-1).astype(np.float64), -_SCORE_CLIP, _SCORE_CLIP)
        scores = 1 / (1 + np.exp(-logits))
        keep = scores >= self.min_score
        raw = regressors[keep] / _SIZE
        anchors = self._anchors[keep]
        centre, half = raw[:, 0:2] + anchors, raw[:, 2:4] / 2
        points = raw[:, 4:].reshape(-1, len(KEYPOINTS), 2) + anchors[:, None]
        corners = (np.hstack([centre - half, centre + half]) * _SIZE - np.tile(pad, 2)) / scale
        return scores[keep], corners, (points * _SIZE - pad) / scale

    def __call__(self, gray):
        height, width = gray.shape
        found = []
        for x0, y0, x1, y1 in _tile_views(width, height, self.tiles):
            scores, corners, points = self._candidates(gray[y0:y1, x0:x1])
            if (x1 - x0, y1 - y0) != (width, height):
                # A box that crosses a tile's edge inside the image is a cut face.
                inner = np.array([x0 > 0, y0 > 0, x1 < width, y1 < height])
                crossing = np.hstack([corners[:, :2] < 0, corners[:, 2:] > (x1 - x0, y1 - y0)])
                whole = ~(crossing & inner).any(axis=1)
                scores, corners, points = scores[whole], corners[whole], points[whole]
            found.append((scores, corners + (x0, y0, x0, y0), points + (x0, y0)))
        scores, corners, points = (np.concatenate(parts) for parts in zip(*found))
        if not len(scores):
            return np.empty((0, 5 + 2 * len(KEYPOINTS)))
        corners, points, scores = _weighted_nms(corners, points, scores)
        boxes = np.hstack([corners[:, :2], corners[:, 2:] - corners[:, :2]])
        faces = np.hstack([boxes, scores[:, None], points.reshape(len(points), -1)])
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        inside = (centres >= 0).all(axis=1) & (centres < (width, height)).all(axis=1)
        return faces[inside]  # low scores can fall on the letterbox's border
