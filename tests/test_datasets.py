"""neurosim.datasets: the toy data sets, digits and the train/test split.

Shapes and dtypes, class balance, the same points for the same seed (and
pinned, so that another machine or numpy release that drew other points
would fail here), the geometry of each set without noise, the split's sizes,
strata and copies, the errors, digits with and without scikit-learn, and a
small network learning one of the sets.
"""

import builtins
import hashlib
import math
import sys

import numpy as np
import pytest

import neurosim
from neurosim import DataError, datasets
from neurosim.datasets import Dataset, Split
from tests.helpers import require

TOYS = {
    "circle": datasets.circle,
    "xor": datasets.xor,
    "gauss": datasets.gauss,
    "spiral": datasets.spiral,
    "moons": datasets.moons,
}
BALANCED = ("circle", "gauss", "spiral", "moons")  # xor's quadrants are drawn


def names(ids=TOYS):
    return pytest.mark.parametrize("name", list(ids))


def same(a, b):
    """Identical arrays: dtype, shape and every bit."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ----------------------------------------------------------------------
# what every toy data set returns


@names()
@pytest.mark.parametrize("n", [1, 2, 7, 500])
def test_shapes_and_dtypes(name, n):
    data = TOYS[name](n=n, noise=0.1, seed=0)
    assert isinstance(data, Dataset)
    assert data.name == name
    assert data.X.shape == (n, 2)
    assert data.X.dtype == np.float64
    assert data.Z.shape == (n, 2)
    assert data.Z.dtype == np.float64
    assert data.labels.shape == (n,)
    assert data.labels.dtype == np.int64
    assert len(data.class_names) == data.n_classes == 2
    assert np.isfinite(data.X).all()


@names()
def test_the_defaults_are_playgrounds_500_samples_without_noise(name):
    data = TOYS[name]()
    assert data.X.shape == (500, 2)
    assert same(data.X, TOYS[name](n=500, noise=0.0, seed=0).X)


@names()
def test_one_hot_targets_match_the_labels(name):
    data = TOYS[name](n=300, noise=0.3, seed=4)
    assert set(np.unique(data.Z)) == {0.0, 1.0}
    assert (data.Z.sum(axis=1) == 1).all()
    assert (data.Z.argmax(axis=1) == data.labels).all()
    assert set(data.labels) <= {0, 1}


@names(BALANCED)
@pytest.mark.parametrize("n", [10, 11, 501])
def test_the_classes_are_halves(name, n):
    data = TOYS[name](n=n, seed=2)
    assert np.bincount(data.labels).tolist() == [n // 2, n - n // 2]


def test_xor_classes_are_balanced_on_average():
    counts = np.bincount(datasets.xor(n=4000, seed=0).labels)
    assert abs(counts[0] - counts[1]) < 0.05 * 4000


@names(BALANCED)
def test_the_classes_come_mixed(name):
    labels = TOYS[name](n=200, seed=0).labels
    # in generation order the first half would be one class
    assert 0 < labels[:100].sum() < 100


# ----------------------------------------------------------------------
# the same points for the same seed


@names()
def test_the_same_seed_gives_the_same_points_bit_for_bit(name):
    a = TOYS[name](n=200, noise=0.2, seed=7)
    b = TOYS[name](n=200, noise=0.2, seed=7)
    assert same(a.X, b.X)
    assert same(a.Z, b.Z)
    assert same(a.labels, b.labels)
    assert a.class_names == b.class_names


@names()
def test_other_seeds_give_other_points(name):
    a = TOYS[name](n=200, noise=0.2, seed=7)
    b = TOYS[name](n=200, noise=0.2, seed=8)
    assert not np.array_equal(a.X, b.X)


def test_a_numpy_integer_seed_is_the_same_seed():
    assert same(datasets.xor(seed=np.int64(5)).X, datasets.xor(seed=5).X)


# sha256 of X's and labels' bytes, n=50, noise=0.1, seed=3: a machine or a
# numpy release that draws other points, in other words breaks the promise
# of the same points for the same seed, fails here.
PINNED = {
    "circle": "df66601e54c4707a",
    "xor": "45214c85ec069a1d",
    "gauss": "f30c6e2925fcae33",
    "spiral": "38ad07ccd6d8aba0",
    "moons": "9a19cd4b71d2b417",
}


@names()
def test_the_points_are_pinned(name):
    data = TOYS[name](n=50, noise=0.1, seed=3)
    digest = hashlib.sha256(data.X.tobytes() + data.labels.tobytes()).hexdigest()
    assert digest[:16] == PINNED[name], (
        f"{name}(n=50, noise=0.1, seed=3) drew other points than before "
        f"(numpy {np.__version__})"
    )


# ----------------------------------------------------------------------
# geometry without noise


def radius(X):
    return np.sqrt((X**2).sum(axis=1))


def test_circle_inside_and_outside():
    data = datasets.circle(n=1000, seed=1)
    r = radius(data.X)
    inside = data.labels == 1
    assert data.class_names == ("outside", "inside")
    assert r[inside].max() < 2.5
    assert r[~inside].min() >= 3.5
    assert r.max() < 5.0
    # the radius is uniform, so the inner points crowd the centre
    assert r[inside].min() < 0.1


def test_circle_noise_moves_no_point_but_flips_labels_near_the_gap():
    clean = datasets.circle(n=1000, noise=0.0, seed=1)
    noisy = datasets.circle(n=1000, noise=0.5, seed=1)
    assert same(clean.X, noisy.X)
    flipped = clean.labels != noisy.labels
    assert 0 < flipped.sum() < 500
    # recomputing the label from the shifted point is Playground's rule
    assert (noisy.Z.argmax(axis=1) == noisy.labels).all()


def test_xor_quadrant_rule():
    data = datasets.xor(n=1000, seed=1)
    x, y = data.X.T
    assert data.class_names == ("opposite signs", "same signs")
    assert (data.labels == (x * y >= 0)).all()
    assert (np.abs(data.X) >= 0.3).all()
    assert (np.abs(data.X) <= 5.3).all()
    # every quadrant has points
    assert len({(a, b) for a, b in np.sign(data.X).tolist()}) == 4


def test_xor_noise_moves_no_point():
    clean = datasets.xor(n=500, seed=2)
    noisy = datasets.xor(n=500, noise=0.3, seed=2)
    assert same(clean.X, noisy.X)
    assert 0 < (clean.labels != noisy.labels).sum() < 250


def test_gauss_centres_and_spread():
    data = datasets.gauss(n=20000, seed=1)
    assert data.class_names == ("lower left", "upper right")
    for label, centre in ((0, -2.0), (1, 2.0)):
        cloud = data.X[data.labels == label]
        assert np.allclose(cloud.mean(axis=0), centre, atol=0.03)
        assert np.allclose(cloud.var(axis=0), 0.5, atol=0.03)
    # noise 0.5 is Playground's variance 4
    wide = datasets.gauss(n=20000, noise=0.5, seed=1)
    assert np.allclose(wide.X[wide.labels == 1].var(axis=0), 4.0, rtol=0.05)


def test_spiral_arms():
    n = 400
    data = datasets.spiral(n=n, seed=1)
    assert data.class_names == ("arm 0", "arm 1")
    m = n // 2
    i = np.arange(m)
    r, t = i / m * 5.0, 1.75 * i / m * 2 * np.pi
    arm_1 = np.column_stack([r * np.sin(t), r * np.cos(t)])
    for label, arm in ((1, arm_1), (0, -arm_1)):  # turned by π: negated
        points = data.X[data.labels == label]
        order = np.argsort(radius(points))
        assert np.allclose(points[order], arm, atol=1e-12)
    assert radius(data.X).max() < 5.0


def test_spiral_noise_is_uniform_within_noise():
    clean = datasets.spiral(n=300, seed=5)
    noisy = datasets.spiral(n=300, noise=0.4, seed=5)
    assert same(clean.labels, noisy.labels)  # the same shuffle
    shift = noisy.X - clean.X
    assert 0.35 < np.abs(shift).max() <= 0.4


def test_moons_half_circles():
    data = datasets.moons(n=300, seed=1)
    assert data.class_names == ("upper moon", "lower moon")
    upper = data.X[data.labels == 0]
    lower = data.X[data.labels == 1]
    assert np.allclose(radius(upper), 1.0)
    assert (upper[:, 1] >= -1e-15).all()
    assert np.allclose(radius(lower - [1.0, 0.5]), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-15).all()
    assert np.allclose(data.X.min(axis=0), [-1.0, -0.5], atol=1e-3)
    assert np.allclose(data.X.max(axis=0), [2.0, 1.0], atol=1e-3)


def test_moons_noise_is_normal_with_that_deviation():
    clean = datasets.moons(n=20000, seed=5)
    noisy = datasets.moons(n=20000, noise=0.2, seed=5)
    shift = noisy.X - clean.X
    assert np.allclose(shift.std(axis=0), 0.2, rtol=0.03)


# ----------------------------------------------------------------------
# reprs


def test_reprs_say_what_is_inside():
    data = datasets.circle(n=10)
    assert repr(data) == "Dataset('circle', X (10, 2), classes 'outside' 5, 'inside' 5)"
    parts = datasets.split(data, test=0.2)
    assert repr(parts) == (
        "Split(train=Dataset('circle train', X (8, 2), classes 'outside' 4, "
        "'inside' 4), test=Dataset('circle test', X (2, 2), classes 'outside' 1, "
        "'inside' 1))"
    )


def test_the_repr_of_a_hand_made_dataset_does_not_fail():
    data = Dataset([[0.0]], [[1.0]], [7], ("a",))
    assert repr(data) == "Dataset('', X (1, 1), classes 'a' 0)"


# ----------------------------------------------------------------------
# split


def test_split_sizes_and_strata():
    data = datasets.spiral(n=500, noise=0.1, seed=0)
    train, test = datasets.split(data, test=0.2, seed=0)
    assert (len(train.X), len(test.X)) == (400, 100)
    assert np.bincount(train.labels).tolist() == [200, 200]
    assert np.bincount(test.labels).tolist() == [50, 50]
    assert train.class_names == test.class_names == data.class_names
    assert (train.Z.argmax(axis=1) == train.labels).all()


def test_split_parts_are_disjoint_and_cover_the_data():
    data = datasets.moons(n=301, noise=0.2, seed=0)
    train, test = datasets.split(data, test=0.3, seed=1)
    rows = [tuple(x) for x in np.concatenate([train.X, test.X]).tolist()]
    assert len(set(rows)) == len(rows) == 301
    assert sorted(rows) == sorted(tuple(x) for x in data.X.tolist())
    # each sample keeps its label
    label_of = dict(zip(map(tuple, data.X.tolist()), data.labels, strict=True))
    for part in (train, test):
        assert [label_of[tuple(x)] for x in part.X.tolist()] == part.labels.tolist()


def test_split_stratifies_uneven_classes_to_within_one():
    labels = np.repeat([0, 1, 2], [50, 30, 7])
    X = np.arange(len(labels), dtype=float)[:, None]
    Z = np.eye(3)[labels]
    (_, Z_train), (X_test, Z_test) = datasets.split(X, Z, test=0.25, seed=3)
    n_test = len(X_test)
    assert n_test == round(0.25 * 87)
    counts = Z_test.sum(axis=0)
    assert counts.sum() == n_test
    assert np.all(np.abs(counts - n_test * np.array([50, 30, 7]) / 87) < 1)
    assert (Z_train.sum(axis=0) + counts).tolist() == [50, 30, 7]


@pytest.mark.parametrize(
    "Z",
    [
        np.repeat([0, 1], [40, 10]),  # integer labels
        np.repeat([[0.0], [1.0]], [40, 10], axis=0),  # one column of 0 and 1
    ],
    ids=["labels", "column"],
)
def test_split_finds_classes_in_labels_or_a_binary_column(Z):
    (_, _), (_, Z_test) = datasets.split(np.zeros((50, 2)), Z, test=0.2, seed=0)
    assert np.asarray(Z_test).sum() == 2  # the minority's share, exactly


def test_split_without_classes_is_a_plain_shuffle():
    X = np.arange(20.0)
    Z = X / 2  # regression targets
    (X_train, Z_train), (X_test, Z_test) = datasets.split(X, Z, test=0.5, seed=0)
    assert sorted(np.concatenate([X_train, X_test]).tolist()) == X.tolist()
    assert (Z_train == X_train / 2).all()
    assert (Z_test == X_test / 2).all()
    train, test = datasets.split(X, seed=0)
    assert (len(train), len(test)) == (16, 4)


def test_split_is_seeded():
    data = datasets.xor(n=100)
    a, b, c = (datasets.split(data, seed=s) for s in (1, 1, 2))
    assert same(a.train.X, b.train.X)
    assert same(a.test.X, b.test.X)
    assert not np.array_equal(a.test.X, c.test.X)


def test_split_never_modifies_the_callers_arrays():
    X = np.arange(40.0).reshape(20, 2)
    Z = np.eye(2)[np.arange(20) % 2]
    before = X.copy(), Z.copy()
    train, test = datasets.split(X, Z, test=0.3)
    for part in (*train, *test):
        part[...] = -1.0  # the parts are copies
    assert same(X, before[0])
    assert same(Z, before[1])
    data = datasets.gauss(n=20)
    kept = data.X.copy(), data.Z.copy(), data.labels.copy()
    parts = datasets.split(data)
    parts.train.X[...] = np.nan
    assert same(data.X, kept[0])
    assert same(data.Z, kept[1])
    assert same(data.labels, kept[2])


@pytest.mark.parametrize(
    ("n", "test", "expected"),
    [(10, 0.7, 7), (10, 0.3, 3), (500, 0.2, 100), (4, 0.01, 1), (4, 0.99, 3)],
)
def test_split_rounds_to_the_nearest_keeping_one_sample_each(n, test, expected):
    _, part = datasets.split(np.arange(n), test=test)
    assert len(part) == expected


def test_split_types():
    assert isinstance(datasets.split(datasets.xor(n=10)), Split)
    train, test = datasets.split([[1, 2], [3, 4]], test=0.5)
    assert sorted(train.tolist() + test.tolist()) == [[1, 2], [3, 4]]


# ----------------------------------------------------------------------
# errors, before any work


@names()
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 0}, r"n must be at least 1 \(the number of samples\), not 0"),
        ({"n": -3}, "n must be at least 1"),
        ({"n": 2.0}, r"n must be an int \(the number of samples\), not 2.0"),
        ({"n": True}, "n must be an int"),
        ({"noise": -0.1}, r"noise must be finite and >= 0, not -0.1"),
        ({"noise": math.nan}, "noise must be finite"),
        ({"noise": math.inf}, "noise must be finite"),
        ({"noise": "0.1"}, "noise must be a number, not '0.1'"),
        ({"seed": 1.5}, r"seed must be an int \(the seed of numpy's default_rng\)"),
        ({"seed": None}, "seed must be an int"),
        ({"seed": "1"}, "seed must be an int"),
        ({"seed": -1}, "seed must be at least 0"),
    ],
)
def test_bad_arguments_are_clear_data_errors(name, arguments, message):
    with pytest.raises(DataError, match=message):
        TOYS[name](**arguments)


def test_the_errors_come_before_any_drawing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a generator was made")

    monkeypatch.setattr(np.random, "default_rng", refuse)
    with pytest.raises(DataError, match="noise"):
        datasets.circle(noise=-1.0)
    with pytest.raises(DataError, match="test"):
        datasets.split(np.arange(4), test=1.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"test": 0}, r"test must be between 0 and 1 \(exclusive\), not 0"),
        ({"test": 1.0}, "test must be between 0 and 1"),
        ({"test": -0.2}, "test must be between 0 and 1"),
        ({"test": math.nan}, "test must be between 0 and 1"),
        ({"test": "0.2"}, "test must be a number"),
        ({"test": True}, "test must be a number"),
        ({"seed": 0.5}, "seed must be an int"),
        ({"seed": -2}, "seed must be at least 0"),
    ],
)
def test_bad_split_arguments(arguments, message):
    with pytest.raises(DataError, match=message):
        datasets.split(np.arange(10), **arguments)


def test_split_refuses_what_cannot_be_split():
    with pytest.raises(DataError, match="1 samples cannot make a train and a test"):
        datasets.split(np.arange(1))
    with pytest.raises(DataError, match="X has 3 samples but Z has 2"):
        datasets.split(np.zeros((3, 2)), np.zeros((2, 1)))
    with pytest.raises(DataError, match="scalar"):
        datasets.split(np.float64(1.0))
    with pytest.raises(DataError, match="not with a Dataset"):
        datasets.split(datasets.xor(n=10), np.zeros(10))
    broken = Dataset(np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(3, dtype=int), ("a",))
    with pytest.raises(DataError, match="X, Z and labels have 3, 2 and 3 samples"):
        datasets.split(broken)


# ----------------------------------------------------------------------
# digits


def needs_scikit_learn():
    require("sklearn", 'pip install "neurosim[data]"')


def test_digits():
    needs_scikit_learn()
    data = datasets.digits()
    assert data.name == "digits"
    assert data.X.shape == (1797, 64)
    assert data.X.dtype == np.float64
    assert data.X.min() == 0.0
    assert data.X.max() == 1.0
    assert data.Z.shape == (1797, 10)
    assert (data.Z.argmax(axis=1) == data.labels).all()
    assert data.class_names == tuple("0123456789")
    assert np.bincount(data.labels).min() >= 174
    from sklearn.datasets import load_digits

    assert (load_digits().data == data.X * 16).all()  # exactly grey levels / 16
    train, test = datasets.split(data, test=0.2)
    assert (len(train.X), len(test.X)) == (1438, 359)
    assert np.abs(np.bincount(test.labels) - 0.2 * np.bincount(data.labels)).max() < 1


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    for module in list(sys.modules):
        if module == "sklearn" or module.startswith("sklearn."):
            monkeypatch.delitem(sys.modules, module)
    real_import = builtins.__import__

    def without_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_sklearn)
    with pytest.raises(ImportError, match=r'pip install "neurosim\[data\]"') as error:
        datasets.digits()
    assert isinstance(error.value, ModuleNotFoundError)
    assert error.value.name == "sklearn"
    assert "scikit-learn" in str(error.value)


# ----------------------------------------------------------------------
# the data fits the library


def test_a_small_network_learns_xor():
    train, test = datasets.split(datasets.xor(n=125, seed=0), test=0.2)
    net = neurosim.Network(neurosim.layered([2, 8, 2], seed=0))
    history = net.train(
        train.X, train.Z, learning_rate=2.0, epochs=30, batch_size=10, shuffle=True
    )
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]
    accuracy = (net.predict(test.X).argmax(axis=1) == test.labels).mean()
    assert accuracy >= 0.85


def test_the_module_imports_no_engine():
    from test_style import import_graph

    assert import_graph()["neurosim.datasets"] <= {"neurosim.errors"}
