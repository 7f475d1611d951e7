"""Data sets to play with: TensorFlow Playground's four, two moons, digits.

:func:`circle`, :func:`xor`, :func:`gauss` and :func:`spiral` follow
TensorFlow Playground (``src/dataset.ts``): the same geometry, the same noise
conventions, the same 500 samples by default. :func:`moons` is
scikit-learn's ``make_moons``. Each returns a :class:`Dataset`: inputs ``X``
of shape ``(n, 2)``, one-hot targets ``Z`` of shape ``(n, n_classes)``, the
integer ``labels`` and the class names, ready for
``Network.train(data.X, data.Z)``. :func:`digits` is scikit-learn's 8×8
handwritten digits (the ``data`` extra: ``pip install "neurosim[data]"``);
:func:`split` cuts any of them, or plain arrays, into a train and a test
part.

The same seed gives the same points, bit for bit: the only source of
randomness is numpy's ``default_rng(seed)``, whose stream is the same on
every platform, and the rest is float64 arithmetic and numpy's ``sin`` and
``cos`` (``tests/test_datasets.py`` pins the bits of each set). Samples come
in a random order (drawn from the same seed, as Playground shuffles its
points), so online training sees the classes mixed. Playground's positive
class (label ``+1`` there) is class 1 here.

Examples
--------
>>> data = xor(n=200, seed=1)
>>> data
Dataset('xor', X (200, 2), classes 'opposite signs' 104, 'same signs' 96)
>>> data.labels[:3], data.Z[:3]
(array([1, 1, 0]), array([[0., 1.],
       [0., 1.],
       [1., 0.]]))
>>> train, test = split(data, test=0.25)
>>> test
Dataset('xor test', X (50, 2), classes 'opposite signs' 26, 'same signs' 24)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Generic, NamedTuple, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from neurosim.errors import DataError

__all__ = [
    "Dataset",
    "Split",
    "circle",
    "digits",
    "gauss",
    "moons",
    "spiral",
    "split",
    "xor",
]

Part = TypeVar("Part")


class Dataset(NamedTuple):
    """A data set: inputs, one-hot targets, class labels and class names.

    A tuple, so ``X, Z, labels, class_names, name = data`` works too.

    Attributes
    ----------
    X : ndarray of float64, shape (n_samples, n_features)
        The inputs, one row per sample.
    Z : ndarray of float64, shape (n_samples, n_classes)
        The targets, one-hot: ``Z[k, labels[k]]`` is 1, the rest 0.
    labels : ndarray of int64, shape (n_samples,)
        The class of each sample, ``0`` to ``n_classes - 1``.
    class_names : tuple of str
        The name of each class, by label.
    name : str
        Which data set it is (``"circle"``, ``"digits"``, ``"xor train"``...).
    """

    X: NDArray[np.float64]
    Z: NDArray[np.float64]
    labels: NDArray[np.int64]
    class_names: tuple[str, ...]
    name: str = ""

    @property
    def n_classes(self) -> int:
        """The number of classes, ``len(class_names)``."""
        return len(self.class_names)

    def __repr__(self) -> str:
        labels = np.asarray(self.labels)
        counts = [(labels == k).sum() for k in range(self.n_classes)]
        classes = ", ".join(
            f"{class_name!r} {int(count)}"
            for class_name, count in zip(self.class_names, counts, strict=False)
        )
        shape = np.shape(self.X)
        return f"Dataset({self.name!r}, X {shape}, classes {classes})"


class Split(NamedTuple, Generic[Part]):
    """The two parts :func:`split` returns: ``train, test = split(...)``.

    Attributes
    ----------
    train, test : Dataset, ndarray or tuple of ndarrays
        The same kind of thing :func:`split` was given: two :class:`Dataset`
        for a data set, two arrays for ``X`` alone, two ``(X, Z)`` tuples
        for ``X`` and ``Z``.
    """

    train: Part
    test: Part


# ----------------------------------------------------------------------
# checking the arguments


def _check_int(value: object, name: str, least: int, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DataError(f"{name} must be an int ({meaning}), not {value!r}")
    if value < least:
        raise DataError(f"{name} must be at least {least} ({meaning}), not {value}")
    return int(value)


def _check_n(n: object) -> int:
    return _check_int(n, "n", 1, "the number of samples")


def _check_seed(seed: object) -> int:
    return _check_int(seed, "seed", 0, "the seed of numpy's default_rng")


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise DataError(f"noise must be a number, not {noise!r}")
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise DataError(f"noise must be finite and >= 0, not {noise}")
    return noise


def _check(n: object, noise: object, seed: object) -> tuple[int, float, int]:
    return _check_n(n), _check_noise(noise), _check_seed(seed)


def _made(
    name: str,
    X: NDArray[np.float64],
    labels: NDArray[np.int64],
    class_names: tuple[str, ...],
    rng: np.random.Generator,
) -> Dataset:
    """The data set of the samples `X` and `labels`, in a random order."""
    order = rng.permutation(len(labels))
    labels = labels[order]
    return Dataset(
        X[order], _one_hot(labels, len(class_names)), labels, class_names, name
    )


def _one_hot(labels: NDArray[np.int64], n_classes: int) -> NDArray[np.float64]:
    Z = np.zeros((len(labels), n_classes))
    Z[np.arange(len(labels)), labels] = 1.0
    return Z


def _classes(n: int) -> tuple[int, int]:
    """Samples of class 0 and of class 1: half each, class 1 the odd one."""
    return n // 2, n - n // 2


def _labelled(counts: tuple[int, ...]) -> NDArray[np.int64]:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


# ----------------------------------------------------------------------
# TensorFlow Playground's four


def circle(n: int = 500, noise: float = 0.0, *, seed: int = 0) -> Dataset:
    """A disc inside a ring: Playground's "Circle".

    Class 1 (``"inside"``) has its radius uniform in ``[0, 2.5)``, class 0
    (``"outside"``) in ``[3.5, 5)``, the angle uniform. As in Playground,
    noise moves no point: it shifts the point used to pick the label, by
    ``noise`` times a uniform ``[-5, 5)`` in each coordinate, and the label
    is 1 where that shifted point lies within radius 2.5, so points near the
    gap may get the other side's label.

    Parameters
    ----------
    n : int
        The number of samples, ``n // 2`` outside and the rest inside.
    noise : float
        ``>= 0``; Playground's slider goes from 0 to 0.5.
    seed : int
        The seed of numpy's ``default_rng``: the same points every time.

    Returns
    -------
    Dataset
        ``X`` in ``[-5, 5]²`` (within radius 5), class names
        ``("outside", "inside")``. The points do not depend on `noise`.

    Examples
    --------
    >>> data = circle(n=6)
    >>> np.hypot(*data.X.T).round(2), data.labels
    (array([1.82, 1.52, 3.56, 1.36, 4.46, 3.9 ]), array([1, 1, 0, 1, 0, 0]))
    """
    n, noise, seed = _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    outside, inside = _classes(n)

    def ring(count: int, low: float, high: float) -> NDArray[np.float64]:
        r = rng.uniform(low, high, count)
        angle = rng.uniform(0.0, 2 * np.pi, count)
        return np.column_stack([r * np.sin(angle), r * np.cos(angle)])

    X = np.concatenate([ring(outside, 3.5, 5.0), ring(inside, 0.0, 2.5)])
    seen = X + rng.uniform(-5.0, 5.0, X.shape) * noise
    labels = ((seen**2).sum(axis=1) < 2.5**2).astype(np.int64)
    return _made("circle", X, labels, ("outside", "inside"), rng)


def xor(n: int = 500, noise: float = 0.0, *, seed: int = 0) -> Dataset:
    """Four quadrants, alike on the diagonal: Playground's "Exclusive or".

    Each coordinate is uniform in ``[-5, 5)`` and pushed 0.3 away from the
    axis (``x + 0.3`` when ``x > 0``, else ``x - 0.3``). Class 1
    (``"same signs"``) is ``x·y >= 0``, the first and third quadrants. As in
    Playground, noise moves no point: the label is that of the point shifted
    by ``noise`` times a uniform ``[-5, 5)`` in each coordinate, so points
    near the axes may get the other label.

    Parameters
    ----------
    n : int
        The number of samples. The quadrants are drawn at random, so the two
        classes are equal in size only on average.
    noise : float
        ``>= 0``; Playground's slider goes from 0 to 0.5.
    seed : int
        The seed of numpy's ``default_rng``: the same points every time.

    Returns
    -------
    Dataset
        Each coordinate of ``X`` in ``[-5.3, -0.3]`` or ``(0.3, 5.3)``;
        class names ``("opposite signs", "same signs")``. The points do not
        depend on `noise`.

    Examples
    --------
    >>> data = xor(n=4)
    >>> data.X.round(2), data.labels
    (array([[-4.89, -5.13],
           [ 1.67, -2.6 ],
           [ 1.37,  2.59],
           [ 3.43,  4.43]]), array([1, 0, 1, 1]))
    """
    n, noise, seed = _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    seen = X + rng.uniform(-5.0, 5.0, X.shape) * noise
    labels = (seen[:, 0] * seen[:, 1] >= 0).astype(np.int64)
    return _made("xor", X, labels, ("opposite signs", "same signs"), rng)


def gauss(n: int = 500, noise: float = 0.0, *, seed: int = 0) -> Dataset:
    """Two Gaussian clouds: Playground's "Gaussian".

    Class 1 is centred on ``(2, 2)``, class 0 on ``(-2, -2)``, each
    coordinate normal with variance ``0.5 + 7·noise`` (Playground's linear
    scale from 0.5 at no noise to 4 at noise 0.5): noise spreads the clouds
    until they overlap.

    Parameters
    ----------
    n : int
        The number of samples, ``n // 2`` in class 0 and the rest in class 1.
    noise : float
        ``>= 0``; Playground's slider goes from 0 to 0.5.
    seed : int
        The seed of numpy's ``default_rng``: the same points every time.

    Returns
    -------
    Dataset
        ``X`` unbounded (normal), mostly within ``[-6, 6]²`` for noise up to
        0.5; class names ``("lower left", "upper right")``.

    Examples
    --------
    >>> data = gauss(n=1000)
    >>> upper_right = data.X[data.labels == 1]
    >>> upper_right.mean(axis=0).round(1), upper_right.var(axis=0).round(1)
    (array([2., 2.]), array([0.6, 0.5]))
    """
    n, noise, seed = _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    counts = _classes(n)
    spread = math.sqrt(0.5 + 7.0 * noise)
    centres = np.repeat([[-2.0, -2.0], [2.0, 2.0]], counts, axis=0)
    X = centres + spread * rng.standard_normal((n, 2))
    return _made("gauss", X, _labelled(counts), ("lower left", "upper right"), rng)


def spiral(n: int = 500, noise: float = 0.0, *, seed: int = 0) -> Dataset:
    """Two interleaved spiral arms: Playground's "Spiral".

    Sample ``i`` of an arm of ``m`` samples sits at radius ``r = 5·i/m`` and
    angle ``t = 1.75·2π·i/m + δ`` (1.75 turns), at ``(r·sin t, r·cos t)``:
    class 1's arm has ``δ = 0`` and leaves the centre along ``+y``, class
    0's is the same arm turned by ``δ = π``. Noise moves the points: each
    coordinate gets ``noise`` times a uniform ``[-1, 1)``.

    Parameters
    ----------
    n : int
        The number of samples, ``n // 2`` on arm 0 and the rest on arm 1.
    noise : float
        ``>= 0``; Playground's slider goes from 0 to 0.5.
    seed : int
        The seed of numpy's ``default_rng``: the same points every time (and
        their order; without noise the points are fixed).

    Returns
    -------
    Dataset
        ``X`` within radius 5 without noise, each coordinate within
        ``±(5 + noise)``; class names ``("arm 0", "arm 1")``.

    Examples
    --------
    >>> data = spiral(n=500)
    >>> arm_1 = data.X[data.labels == 1]
    >>> float(np.hypot(*arm_1.T).max().round(2))
    4.98
    """
    n, noise, seed = _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    counts = _classes(n)
    arms = []
    for count, turn in zip(counts, (np.pi, 0.0), strict=True):
        i = np.arange(count)
        r = i / count * 5.0
        t = 1.75 * i / count * 2 * np.pi + turn
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    X = np.concatenate(arms)
    X += rng.uniform(-1.0, 1.0, X.shape) * noise
    return _made("spiral", X, _labelled(counts), ("arm 0", "arm 1"), rng)


def moons(n: int = 500, noise: float = 0.0, *, seed: int = 0) -> Dataset:
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Class 0 (``"upper moon"``) is ``(cos a, sin a)``, class 1 (``"lower
    moon"``) ``(1 - cos a, 0.5 - sin a)``, for angles ``a`` evenly spaced
    from 0 to π; noise adds a normal of standard deviation `noise` to each
    coordinate.

    Parameters
    ----------
    n : int
        The number of samples, ``n // 2`` in the upper moon and the rest in
        the lower.
    noise : float
        ``>= 0``: the standard deviation of the noise; 0.1 to 0.3 are
        usual.
    seed : int
        The seed of numpy's ``default_rng``: the same points every time (and
        their order; without noise the points are fixed).

    Returns
    -------
    Dataset
        ``X`` in ``[-1, 2] × [-0.5, 1]`` without noise; class names
        ``("upper moon", "lower moon")``.

    Examples
    --------
    >>> data = moons(n=5)
    >>> for label, point in sorted(zip(data.labels.tolist(), data.X.round(2).tolist())):
    ...     print(label, point)
    0 [-1.0, 0.0]
    0 [1.0, 0.0]
    1 [0.0, 0.5]
    1 [1.0, -0.5]
    1 [2.0, 0.5]
    """
    n, noise, seed = _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    counts = _classes(n)
    upper = np.linspace(0.0, np.pi, counts[0])
    lower = np.linspace(0.0, np.pi, counts[1])
    X = np.concatenate(
        [
            np.column_stack([np.cos(upper), np.sin(upper)]),
            np.column_stack([1.0 - np.cos(lower), 1.0 - np.sin(lower) - 0.5]),
        ]
    )
    X += rng.standard_normal(X.shape) * noise
    return _made("moons", X, _labelled(counts), ("upper moon", "lower moon"), rng)


# ----------------------------------------------------------------------
# handwritten digits


def digits() -> Dataset:
    """scikit-learn's 8×8 handwritten digits: 1,797 images of 0 to 9.

    Needs scikit-learn (``pip install "neurosim[data]"``); the images ship
    with it, nothing is downloaded. The samples keep scikit-learn's order:
    cut them with :func:`split`.

    Returns
    -------
    Dataset
        ``X`` of shape ``(1797, 64)``: each row an image, row after row, its
        grey levels 0 to 16 divided by 16, so in ``[0, 1]``
        (``X[k].reshape(8, 8)`` is the image); ``Z`` of shape ``(1797, 10)``;
        class names ``("0", ..., "9")``, label ``d`` the digit ``d``.

    Raises
    ------
    ModuleNotFoundError
        scikit-learn is not installed (an ``ImportError``); the message
        says what to install.

    Examples
    --------
    >>> import pytest
    >>> _ = pytest.importorskip("sklearn")  # the example needs scikit-learn
    >>> data = digits()
    >>> data.X.shape, data.Z.shape, data.class_names[:3]
    ((1797, 64), (1797, 10), ('0', '1', '2'))
    >>> float(data.X.min()), float(data.X.max()), np.bincount(data.labels)
    (0.0, 1.0, array([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]))
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ModuleNotFoundError(
            "neurosim.datasets.digits needs scikit-learn, which cannot be "
            f'imported ({error}): pip install "neurosim[data]"',
            name="sklearn",
        ) from error
    loaded = load_digits()
    X = np.asarray(loaded.data, dtype=np.float64) / 16.0
    labels = np.asarray(loaded.target, dtype=np.int64)
    names = tuple(str(d) for d in range(10))
    return Dataset(X, _one_hot(labels, 10), labels, names, "digits")


# ----------------------------------------------------------------------
# train and test


def _check_test(test: object) -> float:
    if isinstance(test, bool) or not isinstance(test, numbers.Real):
        raise DataError(f"test must be a number (the test part's share), not {test!r}")
    share = float(test)
    if not 0 < share < 1:
        raise DataError(f"test must be between 0 and 1 (exclusive), not {test}")
    return share


def _classes_of(Z: NDArray[np.generic]) -> NDArray[np.int64] | None:
    """The class of each row when `Z` holds classes, else None.

    Classes are an integer vector, a column of 0s and 1s, or one-hot rows.
    """
    classes: NDArray[np.int64] | None = None
    if Z.ndim == 1 and np.issubdtype(Z.dtype, np.integer):
        classes = Z.astype(np.int64)
    elif (
        Z.ndim == 2
        and Z.shape[1] > 0
        and (np.issubdtype(Z.dtype, np.number) or Z.dtype == np.bool_)
        and np.isin(Z, (0, 1)).all()
    ):
        if Z.shape[1] == 1:
            classes = Z[:, 0].astype(np.int64)
        elif (Z.sum(axis=1) == 1).all():
            classes = Z.argmax(axis=1).astype(np.int64)
    return classes


def _test_rows(
    n: int,
    n_test: int,
    classes: NDArray[np.int64] | None,
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """Which of the `n` rows go to the test part, stratified by `classes`."""
    chosen = np.zeros(n, dtype=bool)
    if classes is None:
        chosen[rng.permutation(n)[:n_test]] = True
        return chosen
    values, members = np.unique(classes, return_inverse=True)
    counts = np.bincount(members)
    # Each class gets its share of n_test, rounded down; the rows left over
    # go to the classes with the largest remainders (ties: the lower class).
    quota, remainder = np.divmod(n_test * counts, n)
    extra = n_test - int(quota.sum())
    quota[np.lexsort((np.arange(len(values)), -remainder))[:extra]] += 1
    for k in range(len(values)):
        rows = np.flatnonzero(members == k)
        chosen[rng.permutation(rows)[: quota[k]]] = True
    return chosen


@overload
def split(
    data: Dataset, Z: None = None, *, test: float = 0.2, seed: int = 0
) -> Split[Dataset]: ...
@overload
def split(
    data: ArrayLike, Z: None = None, *, test: float = 0.2, seed: int = 0
) -> Split[NDArray[np.generic]]: ...
@overload
def split(
    data: ArrayLike, Z: ArrayLike, *, test: float = 0.2, seed: int = 0
) -> Split[tuple[NDArray[np.generic], NDArray[np.generic]]]: ...
def split(
    data: Dataset | ArrayLike,
    Z: ArrayLike | None = None,
    *,
    test: float = 0.2,
    seed: int = 0,
) -> Split[Any]:
    """Cut a data set, or arrays, into a train part and a test part.

    ``test × n`` samples (rounded to the nearest, at least one and at most
    ``n - 1``) go to the test part, the rest to the train part, each part
    in a random order drawn from `seed`. With classes (a :class:`Dataset`,
    or a `Z` of one-hot rows, of one column of 0s and 1s, or of integer
    labels) the split is stratified: each class has its share of the test
    part, to within one sample. The parts are copies: the arrays given are
    never modified.

    Parameters
    ----------
    data : Dataset or array_like
        A data set, or the inputs ``X`` (their first axis the samples).
    Z : array_like, optional
        The targets, as many as ``X`` has samples; not with a Dataset.
    test : float
        The share of the test part, between 0 and 1 (exclusive).
    seed : int
        The seed of numpy's ``default_rng``: the same parts every time.

    Returns
    -------
    Split
        ``(train, test)``: two :class:`Dataset` for a data set (named
        ``"<name> train"`` and ``"<name> test"``), two ``(X, Z)`` tuples
        for arrays with `Z`, two arrays for ``X`` alone.

    Raises
    ------
    DataError
        A bad `test` or `seed`, fewer than two samples, a `Z` of another
        length than ``X``, or a `Z` beside a Dataset.

    Examples
    --------
    >>> train, test = split(circle(n=100), test=0.3)
    >>> train
    Dataset('circle train', X (70, 2), classes 'outside' 35, 'inside' 35)
    >>> X, Z = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> (X_train, Z_train), (X_test, Z_test) = split(X, Z, test=0.5)
    >>> X_test, Z_test
    (array([[2.],
           [0.]]), array([1, 0]))
    """
    share = _check_test(test)
    rng = np.random.default_rng(_check_seed(seed))
    if isinstance(data, Dataset):
        if Z is not None:
            raise DataError("split: Z goes with X, not with a Dataset (it has its Z)")
        X, targets = np.asarray(data.X), np.asarray(data.Z)
        labels = np.asarray(data.labels)
        if not len(X) == len(targets) == len(labels):
            raise DataError(
                f"split: the Dataset's X, Z and labels have {len(X)}, "
                f"{len(targets)} and {len(labels)} samples"
            )
        train, test_rows = _split_rows(len(X), share, labels, rng)
        return Split(
            *(
                Dataset(
                    X[r],
                    targets[r],
                    labels[r],
                    data.class_names,
                    f"{data.name} {p}".strip(),
                )
                for r, p in ((train, "train"), (test_rows, "test"))
            )
        )
    X = np.asarray(data)
    if X.ndim == 0:
        raise DataError("split: X must have one sample per row, not be a scalar")
    if Z is None:
        train, test_rows = _split_rows(len(X), share, None, rng)
        return Split(X[train], X[test_rows])
    targets = np.asarray(Z)
    if targets.ndim == 0 or len(targets) != len(X):
        raise DataError(
            f"split: X has {len(X)} samples but Z has "
            f"{len(targets) if targets.ndim else 'none (it is a scalar)'}"
        )
    train, test_rows = _split_rows(len(X), share, _classes_of(targets), rng)
    return Split((X[train], targets[train]), (X[test_rows], targets[test_rows]))


def _split_rows(
    n: int,
    share: float,
    classes: NDArray[np.int64] | None,
    rng: np.random.Generator,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The rows of the train and of the test part, each in a random order."""
    if n < 2:
        raise DataError(f"split: {n} samples cannot make a train and a test part")
    n_test = min(max(math.floor(share * n + 0.5), 1), n - 1)
    chosen = _test_rows(n, n_test, classes, rng)
    return (
        rng.permutation(np.flatnonzero(~chosen)),
        rng.permutation(np.flatnonzero(chosen)),
    )
