"""``gaussmix select`` and ``gaussmix outliers`` run as the installed console script, checked against the library."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gaussmix
from gaussmix.io.sources import open_data

DATA = Path(__file__).parents[1] / "data"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gaussmix_cli(*args: str | Path, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess:
    exe = shutil.which("gaussmix")
    assert exe is not None, "the gaussmix console script is not installed (pip install -e .)"
    done = subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == expect, f"{args}: exit {done.returncode}, expected {expect}\n{done.stdout}\n{done.stderr}"
    return done


def test_select_prints_the_librarys_table_saves_the_best_and_plots(tmp_path, faithful_csv):
    done = gaussmix_cli("select", faithful_csv, "-c", "eruptions,waiting", "-k", "1-3", "-t", "full,tied",
                        "--reg-covar", "1e-3", "--seed", "0", "-o", "best.npz", "--plot", "bic.png", "--json",
                        cwd=tmp_path)
    report = json.loads(done.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = gaussmix.select(open_data(faithful_csv, ["eruptions", "waiting"]), [1, 2, 3], ["full", "tied"],
                                    reg_covar=1e-3, random_state=0)
    assert [(r["n_components"], r["covariance_type"]) for r in report["table"]] == \
        [(c.n_components, c.covariance_type) for c in reference.table]
    np.testing.assert_allclose([r["bic"] for r in report["table"]], [c.bic for c in reference.table], rtol=1e-10)
    assert report["best"]["n_components"] == reference.best.n_components
    assert report["best"]["covariance_type"] == reference.best.covariance_type
    best = gaussmix.load(tmp_path / "best.npz")
    np.testing.assert_allclose(best.means_, reference.best_model.means_, rtol=1e-12)
    assert list(best.feature_names_in_) == ["eruptions", "waiting"]
    assert (tmp_path / "bic.png").read_bytes()[:8] == PNG_SIGNATURE


def test_select_table_names_mclusts_models_and_marks_the_best(tmp_path):
    done = gaussmix_cli("select", DATA / "faithful.csv", "-k", "1,2", "-t", "tied,spherical", "--seed", "0",
                        cwd=tmp_path)
    assert "EEE" in done.stdout and "VII" in done.stdout and "best" in done.stdout


def test_outliers_writes_the_detectors_scores_labels_and_p_values(tmp_path, faithful_csv):
    frame = pd.read_csv(faithful_csv)
    frame.iloc[:200].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[200:240].to_csv(tmp_path / "val.csv", index=False)
    report = json.loads(gaussmix_cli(
        "outliers", faithful_csv, "-o", "scores.csv", "--train", "train.csv", "--calibration", "val.csv",
        "--fpr", "0.1", "-k", "2", "-c", "eruptions,waiting", "--seed", "0", "--json", cwd=tmp_path).stdout)
    columns = ["eruptions", "waiting"]
    detector = gaussmix.OutlierDetector(2, random_state=0).fit(open_data(tmp_path / "train.csv", columns))
    X, val = frame[columns].to_numpy(), frame[columns].to_numpy()[200:240]
    threshold = detector.threshold_for_fpr(val, 0.1)
    written = pd.read_csv(tmp_path / "scores.csv")
    np.testing.assert_allclose(written["score"], detector.score_samples(X), rtol=1e-12)
    np.testing.assert_array_equal(written["label"], np.where(detector.score_samples(X) >= threshold, 1, -1))
    np.testing.assert_array_equal(written["p_value"], detector.p_values(X, val))
    assert report["offset"] == pytest.approx(threshold, rel=1e-12)
    assert report["rows"] == 272 and report["outliers"] == int(np.sum(written["label"] == -1))


def test_outliers_without_calibration_flags_the_contamination_share(tmp_path):
    report = json.loads(gaussmix_cli("outliers", DATA / "faithful.csv", "-o", "scores.npy", "--contamination",
                                     "0.05", "--seed", "0", "--json", cwd=tmp_path).stdout)
    assert report["outliers"] == int(0.05 * 272) and report["columns"] == ["score", "decision", "label"]


@pytest.mark.parametrize("args, message", [
    (["select", "DATA", "-k", "3-1"], "'--n-components'"),
    (["select", "DATA", "-t", "full,VVX"], "'--covariance-types'"),
    (["outliers", "DATA", "-o", "s.csv", "--fpr", "1.5"], "'--fpr'"),
    (["outliers", "DATA", "-o", "s.csv", "--contamination", "0"], "'--contamination'"),
])
def test_bad_options_are_usage_errors(tmp_path, args, message):
    args = [DATA / "faithful.csv" if a == "DATA" else a for a in args]
    done = gaussmix_cli(*args, cwd=tmp_path, expect=2)
    assert message in done.stderr


def test_a_bad_data_file_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,x\n")
    done = gaussmix_cli("select", "bad.csv", "-k", "1", cwd=tmp_path, expect=1)
    assert done.stderr.startswith("gaussmix: error:") and "row 1" in done.stderr
