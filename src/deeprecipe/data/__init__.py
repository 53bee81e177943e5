"""Data: splits, the same-distribution check, normalization, augmentation and loading.

The notes' "Train / dev / test sets", "Mismatched train/test distribution", "Normalizing
inputs" and "Data augmentation"::

    import deeprecipe as dr

    data = dr.data.load_csv("data.csv", target="label")  # or load_parquet, load_npy, load_npz,
                                                         # load_mat, load_h5 (course files)
    photos = dr.data.load_images("photos", image_size=(64, 64))  # photos/<class>/*.jpg
    s = dr.data.split(data.X, data.y, seed=0)                # 60/20/20 … 98/1/1, stratified
    print(dr.data.compare(s.train, s.dev, labels=("train", "dev")))
    scaler = dr.data.Standardizer().fit(s.train.X)           # μ, σ from train only
    augment = dr.data.augment.Compose([dr.data.augment.Rotation(10)], image_shape=(8, 8))
"""

from . import augment
from .compare import Comparison, FeatureDifference, compare
from .course import load_h5, load_mat
from .images import load_images
from .io import (
    DataFileError,
    Dataset,
    load_csv,
    load_csv_features,
    load_npy,
    load_npz,
    load_parquet,
)
from .normalize import ConstantFeatureWarning, Standardizer, standardize_splits
from .split import (
    KINDS,
    SETS,
    TASKS,
    ClassMissingWarning,
    Part,
    Splits,
    min_rows,
    split,
    split_sets,
    split_sizes,
    split_sources,
)

__all__ = [
    "KINDS", "SETS", "TASKS", "ClassMissingWarning", "Comparison", "ConstantFeatureWarning",
    "DataFileError", "Dataset", "FeatureDifference", "Part", "Splits", "Standardizer", "augment",
    "compare", "load_csv", "load_csv_features", "load_h5", "load_images", "load_mat",
    "load_npy", "load_npz", "load_parquet", "min_rows", "split", "split_sets", "split_sizes",
    "split_sources", "standardize_splits",
]
