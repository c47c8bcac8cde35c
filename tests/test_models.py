import keras
import numpy as np

from skfer.models import RandomAffine, augmentation_layers, build_dcnn


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


def test_seeded_layers_repeat_their_transforms():
    first = RandomAffine(seed=3)(_faces(), training=True)
    second = RandomAffine(seed=3)(_faces(), training=True)
    np.testing.assert_allclose(first, second)


def test_model_with_augmentation_saves_and_loads(tmp_path):
    model = build_dcnn(2, filters=(4,), kernel_sizes=3, dropout=0.1, dense_units=4,
                       augmentation=augmentation_layers(seed=0))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    X = _faces().reshape(4, 2304)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers].count("RandomAffine") == 1
