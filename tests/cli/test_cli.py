"""The real ``gaussmix`` console script, run in a subprocess on real CSV, Parquet and NPY files.

Each command's output is checked against the library called in this process (an independent path to the same
numbers), and each error path against its exit code and its one line on stderr.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.image import imread

import gaussmix
from gaussmix.datasets import make_mixture
from gaussmix.io.sources import open_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA = Path(__file__).parents[1] / "data"


def start(*args: str | Path, cwd: Path) -> subprocess.Popen:
    """Start the installed console script (SIGINT at its default, even if this process ignores it)."""
    exe = shutil.which("gaussmix")
    assert exe is not None, "the gaussmix console script is not installed (pip install -e .)"
    return subprocess.Popen([exe, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def finish(process: subprocess.Popen, expect: int = 0) -> subprocess.CompletedProcess:
    """Wait for a started command; check its exit code."""
    stdout, stderr = process.communicate(timeout=120)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert done.returncode == expect, f"{done.args[1:]}: exit {done.returncode}, expected {expect}\n{stdout}\n{stderr}"
    return done


def gaussmix_cli(*args: str | Path, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess:
    """Run the installed console script to its end; check its exit code."""
    return finish(start(*args, cwd=cwd), expect)


def run_json(*args: str | Path, cwd: Path) -> dict:
    return json.loads(gaussmix_cli(*args, "--json", cwd=cwd).stdout)


def assert_png(path: Path, size: tuple[int, int]) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(path)
    assert pixels.shape[:2] == size
    assert pixels[..., :3].std() > 0.05


def test_fit_info_score_predict_sample_plot_on_a_csv_agree_with_the_library(tmp_path, faithful_csv):
    report = run_json("fit", faithful_csv, "-k", "2", "-c", "eruptions,waiting", "--seed", "0", "-o", "m.npz",
                      cwd=tmp_path)
    model = gaussmix.load(tmp_path / "m.npz")
    frame = pd.read_csv(faithful_csv)[["eruptions", "waiting"]]
    X = frame.to_numpy()
    reference = gaussmix.GaussianMixture(2, random_state=0).fit(open_data(faithful_csv, ["eruptions", "waiting"]))
    np.testing.assert_array_equal(model.means_, reference.means_)
    assert list(model.feature_names_in_) == ["eruptions", "waiting"]
    assert report["rows"] == 272 and report["converged"] is True and report["n_iter"] == model.n_iter_
    np.testing.assert_allclose(report["log_likelihood"], model.score(X) * 272, rtol=1e-10)
    np.testing.assert_allclose([report["bic"], report["aic"]], [model.bic(X), model.aic(X)], rtol=1e-10)
    assert report["sizes"] == np.bincount(model.predict(X), minlength=2).tolist()

    # The commands that read the model run side by side: each is a separate process on its own files.
    running = {
        "info": start("info", "m.npz", "--json", cwd=tmp_path),
        "score": start("score", "m.npz", faithful_csv, "--json", cwd=tmp_path),  # model's columns, by name
        "predict": start("predict", "m.npz", faithful_csv, "-o", "pred.csv", "--proba", "--json", cwd=tmp_path),
        "sample": start("sample", "m.npz", "-n", "500", "--seed", "3", "-o", "drawn.parquet", cwd=tmp_path),
        "plot": start("plot", "m.npz", faithful_csv, "-o", "fit.png", cwd=tmp_path),
    }
    done = {name: finish(process) for name, process in running.items()}

    info = json.loads(done["info"].stdout)
    assert (info["n_components"], info["covariance_type"], info["feature_names"]) == (2, "full",
                                                                                      ["eruptions", "waiting"])
    assert info["format_version"] == 1 and info["library_version"] == gaussmix.__version__
    np.testing.assert_array_equal(info["weights"], model.weights_)

    score = json.loads(done["score"].stdout)
    np.testing.assert_allclose(score["log_likelihood_per_row"], model.score(X), rtol=1e-10)

    predicted = pd.read_csv(tmp_path / "pred.csv")
    assert json.loads(done["predict"].stdout)["columns"] == list(predicted.columns)
    np.testing.assert_array_equal(predicted["label"], model.predict(X))
    np.testing.assert_allclose(predicted[["proba_0", "proba_1"]], model.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(predicted["log_prob"], model.score_samples(X), rtol=1e-12)

    drawn = pd.read_parquet(tmp_path / "drawn.parquet")
    assert list(drawn.columns) == ["eruptions", "waiting", "component"] and len(drawn) == 500
    model.set_params(random_state=3)
    np.testing.assert_array_equal(drawn[["eruptions", "waiting"]], model.sample(500)[0])

    assert_png(tmp_path / "fit.png", (450, 1100))


def test_fit_a_parquet_file_with_a_weight_column_matches_a_weighted_fit(tmp_path, rng):
    X, _, _ = make_mixture(400, 3, 2, random_state=1)
    w = rng.integers(0, 4, size=400).astype(float)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "w": w}).to_parquet(tmp_path / "d.parquet")
    report = run_json("fit", "d.parquet", "-k", "3", "-w", "w", "-t", "diag", "--seed", "2", "--tol", "1e-6", "-o",
                      "m.npz", cwd=tmp_path)
    model = gaussmix.load(tmp_path / "m.npz")
    reference = gaussmix.GaussianMixture(3, covariance_type="diag", random_state=2, tol=1e-6)
    reference.fit(open_data(tmp_path / "d.parquet", ["a", "b"], sample_weight_column="w"))
    np.testing.assert_array_equal(model.means_, reference.means_)
    np.testing.assert_allclose(report["bic"], model.bic(X, sample_weight=w), rtol=1e-10)
    np.testing.assert_allclose(report["log_likelihood"], model.score(X, sample_weight=w) * w.sum(), rtol=1e-10)
    assert list(model.feature_names_in_) == ["a", "b"]


def test_fit_bayesian_saves_the_library_fit_and_plots_its_sorted_weights(tmp_path):
    X, _, _ = make_mixture(600, 3, 2, random_state=4)
    np.save(tmp_path / "d.npy", X)
    report = run_json("fit", "d.npy", "-k", "8", "--bayesian", "--weight-concentration-prior", "0.01", "--seed", "0",
                      "-o", "m.npz", cwd=tmp_path)
    model = gaussmix.load(tmp_path / "m.npz")
    assert type(model) is gaussmix.BayesianGaussianMixture and report["model"]["bayesian"]
    reference = gaussmix.BayesianGaussianMixture(n_components=8, weight_concentration_prior=0.01, random_state=0)
    np.testing.assert_array_equal(model.means_, reference.fit(open_data(tmp_path / "d.npy")).means_)
    gaussmix_cli("plot", "m.npz", "d.npy", "-o", "w.png", "--kind", "weights", cwd=tmp_path)
    assert_png(tmp_path / "w.png", (450, 550))
    refused = gaussmix_cli("fit", "d.npy", "-k", "2", "--weight-concentration-prior", "0.1", "-o", "x.npz",
                           cwd=tmp_path, expect=2)
    assert "needs --bayesian" in refused.stderr


def test_fit_an_npy_file_prints_a_readable_summary(tmp_path):
    X, _, _ = make_mixture(300, 2, 3, random_state=4)
    np.save(tmp_path / "x.npy", X)
    out = gaussmix_cli("fit", "x.npy", "-k", "2", "--seed", "0", "-o", "m.npz", cwd=tmp_path).stdout
    assert "Fitted 2 full component(s) to 300 rows × 3 features" in out
    for label in ("mean x0", "mean x2", "log-likelihood", "BIC", "AIC", "converged", "iterations", "m.npz"):
        assert label in out
    info = gaussmix_cli("info", "m.npz", cwd=tmp_path).stdout
    assert "GaussianMixture, 2 full component(s), 3 features" in info and "gaussmix-model v1" in info


def test_demo_recovers_the_true_mixture_and_writes_a_plot(tmp_path):
    start = time.perf_counter()
    report = run_json("demo", "--seed", "1", "-o", "demo.png", cwd=tmp_path)
    assert time.perf_counter() - start < 30
    assert report["adjusted_rand_index"] > 0.8
    assert report["max_weight_error"] < 0.05
    assert len(report["components"]) == 3
    assert_png(tmp_path / "demo.png", (450, 1100))


ERROR_CASES = {  # name: (arguments, exit code, text on stderr)
    "missing file": (["fit", "missing.csv", "-k", "2", "-o", "m.npz"], 1, "No such data file: missing.csv"),
    "bad column": (["fit", "faithful.csv", "-k", "2", "-c", "eruptions,height", "-o", "m.npz"], 1,
                   "no column 'height'"),
    "corrupt model": (["predict", "corrupt.npz", "faithful.csv", "-o", "p.csv"], 1, "corrupt.npz"),
    "bad choice": (["fit", "faithful.csv", "-k", "2", "-o", "m.npz", "--covariance-type", "ful"], 2, "'ful'"),
    "bad range": (["fit", "faithful.csv", "-k", "0", "-o", "m.npz"], 2, "--n-components"),
    "unknown option": (["info", "m.npz", "--bogus"], 2, "--bogus"),
    "bad suffix": (["sample", "corrupt.npz", "-n", "5", "-o", "out.txt"], 2, "out.txt"),
    "missing directory": (["fit", "faithful.csv", "-k", "2", "-o", "no/such/dir/m.npz"], 2, "does not exist"),
}


def test_each_error_exits_with_its_code_and_one_clear_line_without_traceback(tmp_path, faithful_csv):
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    running = {name: start(*args, cwd=tmp_path) for name, (args, _, _) in ERROR_CASES.items()}
    debug = start("info", "corrupt.npz", "--debug", cwd=tmp_path)
    for name, process in running.items():
        _, code, message = ERROR_CASES[name]
        stderr = finish(process, expect=code).stderr
        assert message in stderr, name
        assert "Traceback" not in stderr, name
        if code == 1:
            assert stderr.startswith("gaussmix: error: ") and stderr.count("\n") == 1, name
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "p.csv").exists()
    stderr = finish(debug, expect=1).stderr
    assert "Traceback (most recent call last)" in stderr and "ModelFileError" in stderr


def test_ctrl_c_during_fit_saves_the_best_model_so_far(tmp_path):
    X, _, _ = make_mixture(60_000, 5, 2, separation=1.0, random_state=0)
    np.save(tmp_path / "x.npy", X)
    process = start("fit", "x.npy", "-k", "5", "--tol", "0", "--max-iter", "1000000", "-o", "m.npz", cwd=tmp_path)
    wait_until_reading(process, "x.npy")
    time.sleep(1.5)  # past the initialisation, into EM
    process.send_signal(signal.SIGINT)
    stderr = finish(process, expect=130).stderr
    assert "saved the best model so far to m.npz" in stderr
    model = gaussmix.load(tmp_path / "m.npz")
    assert model.n_iter_ >= 1 and not model.converged_
    assert len(model.lower_bounds_) == model.n_iter_


def wait_until_reading(process: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
    """Poll /proc until the process has ``name`` open: its imports are done and it is passing over the data."""
    fds = Path(f"/proc/{process.pid}/fd")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if any(link.readlink().name == name for link in fds.iterdir()):
                return
        except OSError:  # a descriptor closed while we looked
            pass
        time.sleep(0.02)
    raise AssertionError(f"the process never opened {name}")
