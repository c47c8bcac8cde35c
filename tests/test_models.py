import keras
import numpy as np
import pytest

from skfer.models import (
    ARCHITECTURES,
    FaceCrop,
    RandomAffine,
    RandomErasing,
    RandomPhotometric,
    augmentation_layers,
    build_dcnn,
    flops_per_image,
)
from skfer.models._dcnn import OUTPUT_LAYER
from skfer.models._fine_tune import conv_blocks, freeze_blocks


def _faces():
    return np.random.default_rng(0).random((4, 48, 48, 1), dtype=np.float32)


def test_augmentation_only_acts_in_training():
    faces = _faces()
    layer = RandomAffine(seed=0)
    np.testing.assert_array_equal(layer(faces, training=False), faces)
    changed = np.asarray(layer(faces, training=True))
    assert changed.shape == faces.shape and not np.allclose(changed, faces)


def test_flip_mirrors_and_identity_ranges_keep_the_face():
    face = np.zeros((1, 48, 48, 1), dtype=np.float32)
    face[0, 10:20, 5:15] = 1.0
    flip_only = RandomAffine(rotation=0, shift=0, shear=0, zoom=0, seed=1)
    outputs = [np.asarray(flip_only(face, training=True)) for _ in range(8)]
    for out in outputs:
        assert np.allclose(out, face) or np.allclose(out, face[:, :, ::-1])
    assert any(np.allclose(out, face[:, :, ::-1]) for out in outputs)


def test_flips_alone_mirror_without_resampling_the_same_faces_as_the_resampling_would():
    faces = np.random.default_rng(0).random((64, 48, 48, 1), dtype=np.float32)
    mirrored = RandomAffine(rotation=0, shift=0, shear=0, zoom=0, seed=3)
    resampled = RandomAffine(rotation=0, shift=0, shear=0, zoom=0, seed=3)
    resampled.rotation = 1e-30  # draws the same angles (about 0) and takes the resampling path
    np.testing.assert_array_equal(mirrored(faces, training=True), resampled(faces, training=True))


def test_seeded_layers_repeat_their_transforms():
    first = RandomAffine(seed=3)(_faces(), training=True)
    second = RandomAffine(seed=3)(_faces(), training=True)
    np.testing.assert_allclose(first, second)


def test_random_erasing_replaces_one_rectangle_of_the_given_area_in_some_faces():
    faces = np.full((400, 48, 48, 1), 0.5, dtype=np.float32)
    faces[:, 0, 0], faces[:, 0, 1] = 0.25, 0.75  # the range of the noise
    layer = RandomErasing(rate=0.5, scale=(0.05, 0.2), seed=0)
    np.testing.assert_array_equal(layer(faces, training=False), faces)
    changed = (np.asarray(layer(faces, training=True)) != faces)[..., 0]
    erased = changed.reshape(400, -1).any(axis=1)
    assert 0.4 < erased.mean() < 0.6  # about half the faces
    for mask in changed[erased]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        # one rectangle (the corner pixels can draw their own value again), 5-20% of the face
        assert box.mean() > 0.99 and 0.04 * 48 * 48 <= box.size <= 0.21 * 48 * 48
    values = np.asarray(layer(faces, training=True))[..., 0][changed]
    assert values.min() >= 0.25 and values.max() <= 0.75  # noise within each face's range
    assert not np.asarray(RandomErasing(rate=0.0)(faces, training=True) != faces).any()
    for bad in ({"rate": 1.5}, {"scale": (0.3, 0.1)}, {"ratio": (0.0, 3.3)}):
        with pytest.raises(ValueError, match=f"RandomErasing's {next(iter(bad))} must be"):
            RandomErasing(**bad)


def test_random_photometric_changes_light_focus_and_noise_within_its_strength():
    rng = np.random.default_rng(0)
    faces = rng.uniform(0.2, 0.8, (256, 48, 48, 1)).astype(np.float32)
    layer = RandomPhotometric(strength=1.0, seed=0)
    np.testing.assert_array_equal(layer(faces, training=False), faces)
    out = np.asarray(layer(faces, training=True))
    assert out.min() >= 0 and out.max() <= 1
    ratio = out.reshape(256, -1).mean(axis=1) / faces.reshape(256, -1).mean(axis=1)
    assert 0.6 < ratio.min() and ratio.max() < 1.4 and ratio.std() > 0.05  # brightness within 1 +- 0.3
    # weaker strength, smaller changes; zero strength, none; seeded layers repeat themselves
    weak = np.asarray(RandomPhotometric(strength=0.2, seed=0)(faces, training=True))
    assert np.abs(weak - faces).mean() < np.abs(out - faces).mean() / 2
    np.testing.assert_array_equal(RandomPhotometric(strength=0.0)(faces, training=True), faces)
    np.testing.assert_array_equal(RandomPhotometric(seed=3)(faces, training=True),
                                  RandomPhotometric(seed=3)(faces, training=True))
    # a flat face stays flat under everything but the noise: blur and contrast keep a constant image
    flat = np.full((64, 48, 48, 1), 0.5, np.float32)
    quiet = RandomPhotometric(strength=1.0, seed=1)
    centre = np.asarray(quiet(flat, training=True))[:, 10:38, 10:38]
    assert np.abs(centre - centre.mean(axis=(1, 2, 3), keepdims=True)).mean() < 0.03
    for bad in ({"strength": -1.0}, {"value_range": (1.0, 0.0)}):
        with pytest.raises(ValueError, match=f"RandomPhotometric's {next(iter(bad))} must be"):
            RandomPhotometric(**bad)


def test_model_with_augmentation_saves_and_loads(tmp_path):
    model = build_dcnn(2, filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=4,
                       augmentation=augmentation_layers(seed=0))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    X = _faces().reshape(4, 2304)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers].count("RandomAffine") == 1


# --- the model zoo: every architecture under the same conventions ---------------------------

#: Small two-block networks for the tests that train (the defaults are checked by building only).
_SMALL = {"dcnn": {"filters": (4, 8), "kernel_sizes": 3}, "vgg": {"filters": (4, 8)},
          "resnet": {"filters": (4, 8), "residual_units": 1}}


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_default_networks_take_flat_faces_and_fit_in_20_mb(architecture):
    model = ARCHITECTURES[architecture](7)
    assert model.input_shape == (None, 2304) and model.output_shape == (None, 7)
    assert model.layers[-1].name == OUTPUT_LAYER
    assert model.count_params() * 4 <= 20e6


def test_vgg_parameter_count_is_the_papers_convolutions_plus_a_pooled_head():
    widths = [1, 64, 64, 128, 128, 256, 256, 512, 512]
    convs = sum(9 * c_in * c_out for c_in, c_out in zip(widths, widths[1:]))
    batch_norms = 4 * sum(widths[1:])
    assert ARCHITECTURES["vgg"](7).count_params() == convs + batch_norms + 512 * 7 + 7


def test_resnet_parameter_count_is_resnet18_at_the_given_width():
    def count(w):  # stem, 4 blocks of 2 basic units, 1x1 shortcuts in blocks 2-4, head
        stem = 9 * w + 4 * w
        units = 0
        for block, width in enumerate([w, 2 * w, 4 * w, 8 * w]):
            c_in = width // 2 if block else width
            units += 9 * c_in * width + 9 * width * width + 8 * width  # first unit
            units += 18 * width * width + 8 * width  # second unit
            units += (c_in * width + 4 * width) if block else 0  # shortcut
        return stem + units + 8 * w * 7 + 7
    resnet = ARCHITECTURES["resnet"]
    assert resnet(7).count_params() == count(32)
    assert resnet(7, filters=(64, 128, 256, 512)).count_params() == count(64)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_networks_crop_and_train_one_step_in_mixed_bfloat16(architecture):
    model = ARCHITECTURES[architecture](
        3, **_SMALL[architecture], dropout=0.1, augmentation=[FaceCrop(44, seed=0)],
        dtype="mixed_bfloat16", name="tiny",
    )
    first = model.get_layer("conv1_0" if architecture == "resnet" else "conv1_1")
    assert first.input.shape[1:3] == (44, 44)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {layer.compute_dtype for layer in convs} == {"bfloat16"}
    assert {w.dtype for w in model.weights} == {"float32"}
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    X = _faces().repeat(2, axis=0).reshape(8, 2304)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(X, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    proba = model.predict(X, verbose=0)
    assert proba.shape == (8, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_every_convolution_belongs_to_one_numbered_block(architecture):
    filters = (4, 8, 8)
    model = ARCHITECTURES[architecture](2, filters=filters)
    for block, width in enumerate(filters, 1):
        layers = [layer for layer in model.layers if layer.name.startswith((f"conv{block}_", f"bn{block}_"))]
        convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
        assert convs and {layer.filters for layer in convs} == {width}, (architecture, block)
        assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
    assert conv_blocks(model) == len(filters)
    assert freeze_blocks(model, 1)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.BatchNormalization)):
            assert layer.trainable == (not layer.name.startswith(("conv1_", "bn1_"))), layer.name


def test_flops_follow_the_crop_and_the_width():
    vgg = ARCHITECTURES["vgg"]
    full, cropped = flops_per_image(vgg(7)), flops_per_image(vgg(7, augmentation=[FaceCrop(40)]))
    assert 0.6 < cropped / full < 0.75  # (40 / 48) ** 2 = 0.69, pooled sides rounded down
    resnet = ARCHITECTURES["resnet"]
    ratio = flops_per_image(resnet(7, filters=(64, 128, 256, 512))) / flops_per_image(resnet(7))
    assert 3.9 < ratio < 4.0  # twice the width, four times the multiply-adds but the first conv's
