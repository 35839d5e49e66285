"""Model files: parameters as float64 arrays in an .npz plus a JSON metadata entry; atomic to write, safe to load.

The format is described field by field in docs/MODEL_FILE.md. Loading uses ``np.load(allow_pickle=False)``
only, so a model file cannot run code, and every array is checked before a ``GaussianParams`` is built from it.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
from numpy.lib import format as npy_format

from .._version import __version__
from ..core.params import COVARIANCE_TYPES, GaussianParams, covariance_shape
from ..exceptions import ModelFileError
from .atomic import atomic_path

FORMAT_NAME = "gaussmix-model"
FORMAT_VERSION = 1
METADATA_KEY = "metadata.json"
PARAM_ARRAYS = ("weights", "means", "covariances", "precisions_cholesky")

WEIGHT_SUM_TOL = 1e-8  # |sum(weights) - 1|
SYMMETRY_RTOL = 1e-8  # max |C - C^T| relative to max |C|
PRECISION_TOL = 1e-6  # max |P^T C P - I|, i.e. P P^T = inverse(C) without forming the inverse

# Keys save_model writes itself, and keys it derives from the parameters (a caller may repeat those if equal).
_WRITTEN_BY_SAVE = ("format", "format_version", "library_version", "created")
_DERIVED_FROM_PARAMS = ("covariance_type", "n_components", "n_features")
# np.savez takes `file` and `allow_pickle` as keywords, so arrays cannot carry those names.
_RESERVED_NAMES = frozenset(PARAM_ARRAYS + (METADATA_KEY, "file", "allow_pickle"))
_ARRAY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# What a load may inflate: the sum of the members' uncompressed sizes (a K=4096, D=1000 diag UBM needs ~100 MB).
MAX_MODEL_BYTES = 2**30
MAX_METADATA_BYTES = 64 * 2**20  # the JSON document; parsing takes several times its size in memory
# What a damaged zip or .npy member can raise while being read (ValueError is handled on its own).
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, struct.error, NotImplementedError, MemoryError)


class _Invalid(Exception):
    """A problem with model content; save_model reports it as ValueError, load_model as ModelFileError."""


def save_model(
    path: str | os.PathLike[str],
    params: GaussianParams,
    metadata: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write a fitted mixture to ``path`` atomically, in the versioned gaussmix model-file format.

    The file is written to a temporary file in the same directory, flushed to disk and renamed over
    ``path``, so a failed or interrupted save never leaves a partial file and never replaces a good one.
    Exactly ``path`` is written (no suffix is added; ``.npz`` is the conventional one).

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    params : GaussianParams
        The parameters, stored bit for bit (converted to float64 NumPy arrays first when they are not).
        They must pass the same checks as :func:`load_model`.
    metadata : mapping
        JSON-serialisable information for the ``metadata.json`` entry, usually ``feature_names`` (None or
        one string per feature), ``hyper_parameters`` (dict) and ``fit_info`` (dict with ``n_iter``,
        ``converged``, ``lower_bound``); other keys are stored as given. Tuples become lists, NumPy scalars
        Python numbers; NaN and infinities are refused (JSON cannot hold them: store None instead).
    arrays : mapping of str to ndarray, optional
        Extra arrays (e.g. ``lower_bounds``), named like Python identifiers, of any non-object dtype.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        If the parameters, metadata or extra arrays are invalid; nothing is written then.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.io.model_file import load_model, save_model
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [2.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> path = save_model(os.path.join(tempfile.mkdtemp(), "m.npz"), params, {"note": "two components"})
    >>> loaded, metadata, arrays = load_model(path)
    >>> loaded.means.ravel().tolist(), metadata["note"]
    ([0.0, 2.0], 'two components')
    """
    if not isinstance(params, GaussianParams):
        raise TypeError(f"save_model needs a GaussianParams; got {type(params).__name__}.")
    params = params.to_numpy()
    try:
        members = {name: getattr(params, name) for name in PARAM_ARRAYS}
        n_components, n_features = _sizes(members["means"])
        _check_params(members, params.covariance_type, n_components, n_features)
        document = _metadata_document(params.covariance_type, n_components, n_features, metadata)
        members.update(_extra_arrays(arrays))
    except _Invalid as exc:
        raise ValueError(f"Cannot save the model to '{path}': {exc}.") from None
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False)
    members[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    _write_atomically(path, members)
    return path


def load_model(path: str | os.PathLike[str]) -> tuple[GaussianParams, dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a gaussmix model file; never unpickles or runs anything from the file.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    params : GaussianParams
        The stored arrays, bit for bit (nothing is recomputed).
    metadata : dict
        The whole ``metadata.json`` document, including ``format``, ``format_version``, ``library_version``
        and ``created``.
    arrays : dict of str to ndarray
        The extra arrays saved with the model.

    Raises
    ------
    ModelFileError
        If the file is missing, not an .npz, truncated, corrupted, holds pickled objects, has an unknown format
        or a newer format version, or its arrays are inconsistent (the message names the file and the problem).

    Examples
    --------
    Models saved by ``GaussianMixture.save`` load too (:func:`gaussmix.load` rebuilds the estimator):

    >>> import numpy as np, tempfile, os
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.io.model_file import load_model
    >>> gm = GaussianMixture(2, random_state=0).fit(np.random.default_rng(0).normal(size=(50, 2)))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> _ = gm.save(path)
    >>> params, metadata, arrays = load_model(path)
    >>> params.n_components, metadata["format"]
    (2, 'gaussmix-model')
    """
    members = _read_members(path)
    try:
        document = _parse_metadata(members.pop(METADATA_KEY, None))
        _check_metadata(document)
        missing = [name for name in PARAM_ARRAYS if name not in members]
        if missing:
            raise _Invalid(f"the array '{missing[0]}' is missing")
        params_arrays = {name: members.pop(name) for name in PARAM_ARRAYS}
        _check_params(params_arrays, document["covariance_type"], document["n_components"], document["n_features"])
    except _Invalid as exc:
        raise ModelFileError(f"Cannot load model file '{path}': {exc}.") from None
    return GaussianParams(**params_arrays, covariance_type=document["covariance_type"]), document, members


# --- reading -----------------------------------------------------------------------------------------------


def _read_members(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every member of the .npz as an array, loaded without pickle; any failure becomes ModelFileError."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read below forever
            raise ModelFileError(f"Cannot read model file '{path}': it is not a regular file.")
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"No model file at '{path}'.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file '{path}': {exc.strerror or exc}.") from None
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip's first local header, or an empty zip
        raise ModelFileError(f"'{path}' is not a gaussmix model file: it is not an .npz (zip) archive.")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_directory(infos)
            return {info.filename[:-4]: _read_array(archive, info) for info in infos}
    except _Unreadable as exc:
        raise ModelFileError(f"Cannot load model file '{path}': {exc}.") from None
    except (ValueError, RuntimeError, *_READ_ERRORS) as exc:  # RuntimeError: an encrypted member
        raise ModelFileError(
            f"Cannot load model file '{path}': it is truncated or corrupted ({_describe(exc)})."
        ) from None


class _Unreadable(Exception):
    """A model file refused before or while its members are read."""


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Before reading anything: only members the format defines, each once, inflating to at most MAX_MODEL_BYTES."""
    seen = set()
    for info in infos:
        name = info.filename
        stem = name[:-4] if name.endswith(".npy") else None
        if stem is None or not (stem in _RESERVED_NAMES - {"file", "allow_pickle"} or _is_extra_name(stem)):
            raise _Unreadable(
                f"the member {name!r} is not part of the model-file format (members are '<name>.npy' arrays: "
                f"{', '.join(PARAM_ARRAYS + (METADATA_KEY,))}, or extra arrays named like Python identifiers)"
            )
        if name in seen:
            raise _Unreadable(f"the member {name!r} appears twice")
        seen.add(name)
        if name == METADATA_KEY + ".npy" and info.file_size > MAX_METADATA_BYTES:
            raise _Unreadable(
                f"its '{METADATA_KEY}' would inflate to {info.file_size:,} bytes, more than the {MAX_METADATA_BYTES:,} "
                "a model's metadata may take (gaussmix.io.model_file.MAX_METADATA_BYTES)"
            )
    total = sum(info.file_size for info in infos)
    if total > MAX_MODEL_BYTES:
        raise _Unreadable(
            f"its members would inflate to {total:,} bytes, more than the {MAX_MODEL_BYTES:,} a model file may "
            "hold (gaussmix.io.model_file.MAX_MODEL_BYTES)"
        )


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One .npy member, read with a bound: never more bytes than the directory declares, nor than the header needs."""
    name = info.filename[:-4]
    with archive.open(info) as f:
        data = f.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise _Unreadable(f"the member '{name}' holds {len(data)} bytes, not the {info.file_size} its directory says")
    buffer = io.BytesIO(data)
    version = npy_format.read_magic(buffer)
    if version not in ((1, 0), (2, 0)):
        raise _Unreadable(f"the member '{name}' is a .npy file of version {version}, which model files do not use")
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(buffer)
    if dtype.hasobject:
        raise _Unreadable(
            f"the array '{name}' holds pickled Python objects, which gaussmix never loads (a gaussmix model file "
            "holds only numeric arrays)"
        )
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) - buffer.tell():
        raise _Unreadable(
            f"the array '{name}' has a header for shape {shape} of {dtype}, which does not match its "
            f"{len(data) - buffer.tell()} data bytes"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=buffer.tell()) if count else np.empty(0, dtype)
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def _is_extra_name(name: str) -> bool:
    return bool(_ARRAY_NAME.match(name)) and name not in _RESERVED_NAMES


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _parse_metadata(raw: np.ndarray | None) -> dict[str, Any]:
    if raw is None:
        raise _Invalid(f"the '{METADATA_KEY}' entry is missing, so it is not a gaussmix model file")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _Invalid(f"'{METADATA_KEY}' must be a 1-D uint8 array; got {raw.dtype} of shape {raw.shape}")
    try:
        document = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, _Invalid) as exc:
        raise _Invalid(f"'{METADATA_KEY}' is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _Invalid(f"'{METADATA_KEY}' must hold a JSON object; got {type(document).__name__}")
    return document


def _refuse_constant(name: str) -> Any:
    raise _Invalid(f"{name} is not a JSON number")


def _check_metadata(doc: dict[str, Any]) -> None:
    """Format name and version first (so a newer file says so), then the keys version 1 requires."""
    if doc.get("format") != FORMAT_NAME:
        raise _Invalid(f"its format is {doc.get('format')!r}, not {FORMAT_NAME!r}, so it is not a gaussmix model file")
    version = doc.get("format_version")
    if not _is_int(version) or version < 1:
        raise _Invalid(f"format_version must be a positive integer; got {version!r}")
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"it has format_version {version}, newer than the {FORMAT_VERSION} this gaussmix reads; "
            "upgrade gaussmix to load it"
        )
    if doc.get("covariance_type") not in COVARIANCE_TYPES:
        raise _Invalid(
            f"covariance_type must be one of {', '.join(map(repr, COVARIANCE_TYPES))}; "
            f"got {doc.get('covariance_type')!r}"
        )
    for key in ("n_components", "n_features"):
        if not _is_int(doc.get(key)) or doc[key] < 1:
            raise _Invalid(f"{key} must be a positive integer; got {doc.get(key)!r}")
    for key in ("library_version", "created"):
        if not isinstance(doc.get(key), str):
            raise _Invalid(f"{key} must be a string; got {doc.get(key)!r}")
    for key in ("feature_names", "hyper_parameters", "fit_info"):
        if key not in doc:
            raise _Invalid(f"the metadata key '{key}' is missing")
    _check_described(doc, doc["n_features"])


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- parameter checks, shared by save and load ---------------------------------------------------------------


def _sizes(means: np.ndarray) -> tuple[int, int]:
    if means.ndim != 2:
        raise _Invalid(f"the array 'means' must be 2-D (n_components, n_features); got shape {means.shape}")
    return means.shape[0], means.shape[1]


def _check_params(arrays: dict[str, np.ndarray], covariance_type: str, n_components: int, n_features: int) -> None:
    """Raise _Invalid naming the first array (and component) that cannot be a valid GaussianParams."""
    K, D = n_components, n_features
    cov_shape = covariance_shape(covariance_type, K, D)
    expected = {"weights": (K,), "means": (K, D), "covariances": cov_shape, "precisions_cholesky": cov_shape}
    for name in PARAM_ARRAYS:
        a = arrays[name]
        if a.dtype != np.float64:
            raise _Invalid(f"the array '{name}' has dtype {a.dtype}; expected float64")
        if a.shape != expected[name]:
            raise _Invalid(
                f"the array '{name}' has shape {a.shape}; a '{covariance_type}' model with {K} components "
                f"and {D} features needs {expected[name]}"
            )
        bad = np.argwhere(~np.isfinite(a))
        if bad.size:
            raise _Invalid(f"the array '{name}' holds a non-finite value at index {tuple(map(int, bad[0]))}")
    weights = arrays["weights"]
    if np.any(weights < 0):
        k = int(np.flatnonzero(weights < 0)[0])
        raise _Invalid(f"weights[{k}] is negative ({weights[k]!r})")
    if abs(math.fsum(weights) - 1.0) > WEIGHT_SUM_TOL:
        raise _Invalid(f"the weights sum to {math.fsum(weights)!r}, not 1 (tolerance {WEIGHT_SUM_TOL})")
    if covariance_type in ("full", "tied"):
        _check_matrices(arrays["covariances"], arrays["precisions_cholesky"], covariance_type)
    else:
        _check_variances(arrays["covariances"], arrays["precisions_cholesky"], covariance_type)


def _check_matrices(covariances: np.ndarray, prec_chol: np.ndarray, covariance_type: str) -> None:
    tied = covariance_type == "tied"
    covs, precs = (covariances[None], prec_chol[None]) if tied else (covariances, prec_chol)
    identity = np.eye(covs.shape[-1])
    for k, (cov, p) in enumerate(zip(covs, precs)):
        which = "the tied covariance" if tied else f"the covariance of component {k}"
        factor = "the tied precisions_cholesky" if tied else f"precisions_cholesky of component {k}"
        if np.max(np.abs(cov - cov.T)) > SYMMETRY_RTOL * np.max(np.abs(cov)):
            raise _Invalid(f"{which} is not symmetric")
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise _Invalid(f"{which} is not positive definite") from None
        if np.any(np.tril(p, -1) != 0) or np.any(np.diag(p) <= 0):
            raise _Invalid(f"{factor} is not upper triangular with a positive diagonal")
        residual = float(np.max(np.abs(p.T @ cov @ p - identity)))
        if not residual <= PRECISION_TOL:
            raise _Invalid(
                f"{factor} disagrees with {which} (max |P^T C P - I| = {residual:.3g}; tolerance {PRECISION_TOL})"
            )


def _check_variances(variances: np.ndarray, prec_chol: np.ndarray, covariance_type: str) -> None:
    residual = np.abs(prec_chol * prec_chol * variances - 1.0)
    for k in range(variances.shape[0]):
        if np.any(variances[k] <= 0):
            raise _Invalid(f"the {covariance_type} covariance of component {k} is not positive")
        if np.any(prec_chol[k] <= 0) or not np.max(residual[k]) <= PRECISION_TOL:
            raise _Invalid(
                f"precisions_cholesky of component {k} disagrees with its covariance "
                f"(it must be positive with P^2 C = 1 within {PRECISION_TOL})"
            )


# --- metadata and extra arrays for writing --------------------------------------------------------------------


def _metadata_document(
    covariance_type: str, n_components: int, n_features: int, metadata: Mapping[str, Any]
) -> dict[str, Any]:

    if not isinstance(metadata, Mapping):
        raise _Invalid(f"metadata must be a mapping; got {type(metadata).__name__}")
    derived = {"covariance_type": covariance_type, "n_components": n_components, "n_features": n_features}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise _Invalid(f"metadata keys must be strings; got {key!r}")
        if key in _WRITTEN_BY_SAVE:
            raise _Invalid(f"metadata['{key}'] is written by save_model; leave it out")
        if key in derived and value != derived[key]:
            raise _Invalid(f"metadata['{key}'] is {value!r}, but the parameters have {derived[key]!r}")
    document: dict[str, Any] = {"feature_names": None, "hyper_parameters": {}, "fit_info": {}}
    document.update({key: _jsonable(value, f"metadata['{key}']") for key, value in metadata.items()})
    _check_described(document, n_features)
    document.update(derived)
    document.update(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        library_version=__version__,
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    return document


def _jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON types (tuples to lists, NumPy scalars to Python), refusing what JSON can't hold."""
    if isinstance(value, (np.ndarray, np.generic)) and not value.dtype.hasobject:
        value = value.tolist()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid(f"{where} is {value}; JSON cannot hold NaN or infinity (store None)")
        return value
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise _Invalid(f"{where} has a non-string key {key!r}")
        return {key: _jsonable(item, f"{where}['{key}']") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise _Invalid(f"{where} is a {type(value).__name__}, which JSON cannot hold")


def _check_described(doc: Mapping[str, Any], n_features: int) -> None:
    """The documented keys callers fill in: feature_names, hyper_parameters, fit_info."""
    names = doc["feature_names"]
    if names is not None and (
        not isinstance(names, list) or len(names) != n_features or not all(isinstance(n, str) for n in names)
    ):
        raise _Invalid(f"feature_names must be null or a list of {n_features} strings; got {names!r}")
    for key in ("hyper_parameters", "fit_info"):
        if not isinstance(doc[key], dict):
            raise _Invalid(f"{key} must be a JSON object (dict); got {type(doc[key]).__name__}")
    fit_info = doc["fit_info"]
    checks = {
        "n_iter": lambda v: _is_int(v) and v >= 0,
        "converged": lambda v: isinstance(v, bool),
        "lower_bound": lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)),
    }
    for key, ok in checks.items():
        if key in fit_info and not ok(fit_info[key]):
            raise _Invalid(f"fit_info['{key}'] has an invalid value {fit_info[key]!r}")


def _extra_arrays(arrays: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    extra = {}
    for name, value in (arrays or {}).items():
        if not isinstance(name, str) or not _ARRAY_NAME.match(name) or name in _RESERVED_NAMES:
            raise _Invalid(
                f"the extra array name {name!r} is reserved or not an identifier "
                f"(reserved: {', '.join(sorted(_RESERVED_NAMES))})"
            )
        value = np.asarray(value)
        if value.dtype.hasobject:
            raise _Invalid(f"the extra array '{name}' has dtype object; model files hold no Python objects")
        extra[name] = value
    return extra


# --- atomic write ---------------------------------------------------------------------------------------------


def _write_atomically(path: Path, members: dict[str, np.ndarray]) -> None:
    """np.savez through ``atomic.atomic_path``: the whole archive replaces ``path``, or nothing does."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, allow_pickle=False, **members)
