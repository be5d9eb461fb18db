"""The validation of the estimator: row roles, the fit's inputs, the error arithmetic, the tables (fake host)."""
import json
import math

import pytest

from bench import validate
from bench.estimate_devices import DEVICES, get_device
from bench.estimate_host import HostMeasurement
from bench.estimate_rows import (
    CALIBRATE,
    CALIBRATION_MODELS,
    HELD_OUT,
    PUBLISHED_ROWS,
    PublishedRow,
    calibration_rows,
    held_out_rows,
)
from bench.estimate_transfer import RowResult, core_class, eta_of, fit, fit_alpha, speedup, summarize
from bench.profiles import CoreCluster, DeviceProfile
from bench.reference_models import REFERENCE_MODELS
from edgeav.errors import UsageError

HOST = DeviceProfile("host", "fake host", (CoreCluster("x86", 1, 2.0, 64, 256),), 10.0, "test")


def test_calibration_and_held_out_rows_are_disjoint_and_cover_every_row() -> None:
    cal, held = calibration_rows(), held_out_rows()
    assert {r.key for r in cal}.isdisjoint({r.key for r in held})
    assert len(cal) + len(held) == len(PUBLISHED_ROWS) == len({r.key for r in PUBLISHED_ROWS})
    for r in held:  # a held-out row's model never calibrates its own family
        assert r.model not in CALIBRATION_MODELS[r.family]
    assert len(held) >= 15


def test_every_row_names_a_known_device_model_and_format() -> None:
    for r in PUBLISHED_ROWS:
        assert r.device in DEVICES and r.model in REFERENCE_MODELS and r.fmt in ("pte", "tflite")
        assert r.precision in ("fp32", "int8") and r.threads >= 1 and r.ms > 0
    assert {r.family for r in PUBLISHED_ROWS} == set(CALIBRATION_MODELS)


def test_device_rates_follow_the_stated_rule() -> None:
    sd855 = get_device("sd855")
    assert sd855.core_peaks("fp32")[0] == pytest.approx(16 * 2.84)  # A76: two 128-bit FMA
    assert sd855.core_peaks("int8")[0] == pytest.approx(64 * 2.84)  # SDOT: 4x fp32
    for key in ("pixel2", "pixel3", "rpi4"):  # A73, A75 (SDOT not used, see estimate_devices), A72
        assert get_device(key).core_peaks("int8")[0] == pytest.approx(2 * get_device(key).core_peaks("fp32")[0])
    with pytest.raises(UsageError, match="choose one of"):
        get_device("sd8gen4")


def _row(model: str, ms: float, threads: int = 1, device: str = "sd855", family: str = "paddle-lite",
         precision: str = "fp32") -> PublishedRow:
    return PublishedRow(family, device, threads, precision, model, ms, "test")


def test_the_fit_never_sees_a_held_out_row() -> None:
    seen: list[PublishedRow] = []

    def raw(row: PublishedRow, mode: str, alpha: float) -> float:
        seen.append(row)
        return row.ms * 2.0

    result = fit(PUBLISHED_ROWS, raw)
    assert seen and all(r.role == CALIBRATE for r in seen)
    assert all(v == pytest.approx(2.0) for v in result.eta.values())
    assert result.calibration_mdape == pytest.approx(0.0, abs=1e-12)


def test_eta_is_the_geometric_mean_of_raw_over_published() -> None:
    rows = [_row("mobilenet_v1", 10.0, device="sd855"), _row("mobilenet_v1", 40.0, device="sd845")]
    raws = {rows[0].key: 20.0, rows[1].key: 20.0}  # 2x over, 2x under
    result = fit(rows, lambda r, mode, a: raws[r.key], modes=("peak",))
    assert result.eta == {"paddle-lite/fp32": pytest.approx(1.0), "paddle-lite/fp32/out-of-order": pytest.approx(1.0)}
    assert result.calibration_mdape == pytest.approx(0.75)  # |20/10 − 1| = 1, |20/40 − 1| = 0.5


def test_in_order_cores_get_their_own_eta_when_the_family_calibrates_one() -> None:
    big, little = _row("mobilenet_v1", 10.0, device="sd855"), _row("mobilenet_v1", 10.0, device="sd625")
    assert (core_class(big), core_class(little)) == ("out-of-order", "in-order")
    raws = {big.key: 20.0, little.key: 5.0}
    result = fit([big, little], lambda r, mode, a: raws[r.key], modes=("peak",))
    assert result.eta["paddle-lite/fp32/in-order"] == pytest.approx(0.5)
    assert result.eta["paddle-lite/fp32/out-of-order"] == pytest.approx(2.0)
    assert result.eta["paddle-lite/fp32"] == pytest.approx(1.0)  # the fallback for a class without rows
    other = _row("mobilenet_v2", 10.0, device="sd625", family="tflite-lite")
    assert eta_of(result.eta, other) is None and eta_of(result.eta, _row("resnet50", 1.0, device="sd625")) == 0.5


def test_alpha_comes_from_one_and_many_thread_rows_of_the_same_device() -> None:
    dev = get_device("pixel2")  # 4 equal big cores: perfect scaling would be 4x
    rows = [_row("mobilenet_v1", 80.0, 1, "pixel2", "xnnpack-android"),
            _row("mobilenet_v1", 40.0, 4, "pixel2", "xnnpack-android")]  # a 2x speedup on 4 cores
    alpha = fit_alpha(rows)
    assert alpha == pytest.approx(0.5)
    assert speedup(dev, 4, "fp32", alpha) == pytest.approx(2.0)
    assert speedup(dev, 1, "fp32", alpha) == 1.0


def test_error_ratio_and_summary_arithmetic() -> None:
    rows = [_row("mobilenet_v2", 10.0), _row("mobilenet_v3_large", 10.0), _row("resnet50", 100.0)]
    results = [RowResult(rows[0], 12.0), RowResult(rows[1], 4.0), RowResult(rows[2], 90.0)]
    assert [r.error for r in results] == pytest.approx([0.2, -0.6, -0.1])
    assert results[1].ratio == pytest.approx(2.5) and results[0].ratio == pytest.approx(1.2)
    s = summarize(results + [RowResult(rows[0], None)])
    assert s is not None and s.rows == 3 and s.mdape == pytest.approx(0.2)
    assert s.within_2x == 2 and s.worst_ratio == pytest.approx(2.5)
    assert summarize([RowResult(rows[0], None)]) is None


def _fake_measurements(scale: float = 1.0) -> dict[tuple[str, str, str], HostMeasurement]:
    """Host times proportional to each model's published Paddle SD855 fp32/int8 time."""
    sd855 = {(r.model, r.precision): r.ms for r in PUBLISHED_ROWS if r.family == "paddle-lite" and r.device == "sd855"}
    out = {}
    for r in PUBLISHED_ROWS:
        base = sd855.get((r.model, r.precision), r.ms)
        for suffix in ("pte", "tflite"):
            out[(r.model, r.precision, suffix)] = HostMeasurement(r.model, r.precision, suffix, base * scale, (base * scale,),
                                                                  {"gemm": 1.0})
    return out


def test_a_host_that_is_the_device_scaled_estimates_its_held_out_rows_exactly() -> None:
    rows = [r for r in PUBLISHED_ROWS if r.family == "paddle-lite" and r.device == "sd855"]
    model_fit, results = validate.estimate_rows(rows, _fake_measurements(0.25), HOST, modes=("peak",))
    held = [r for r in results if r.row.role == HELD_OUT]
    assert held and all(r.error == pytest.approx(0.0, abs=1e-9) for r in held)
    assert model_fit.mode == "peak" and set(model_fit.eta) == {
        "paddle-lite/fp32", "paddle-lite/int8", "paddle-lite/fp32/out-of-order", "paddle-lite/int8/out-of-order"}


def test_a_missing_tflite_falls_back_to_the_pte_and_says_so() -> None:
    measured = {k: v for k, v in _fake_measurements().items() if k[2] == "pte"}
    row = next(r for r in PUBLISHED_ROWS if r.fmt == "tflite")
    m, note = validate.lookup(measured, row)
    assert m is not None and m.suffix == "pte" and ".pte stands in for .tflite" in note
    assert validate.lookup({}, row) == (None, f"no host measurement of {row.model} {row.precision}")


def test_report_tables_list_held_out_and_calibration_rows_and_the_goal() -> None:
    model_fit, results = validate.estimate_rows(PUBLISHED_ROWS, _fake_measurements(), HOST, modes=("peak",))
    text = validate.report(results, model_fit)
    everything, rest = text.split("### Held-out rows")
    held = rest.split("### Calibration rows")[0]
    assert held.count("\n| ") == len(held_out_rows()) + 1  # header + one line per row
    setups = {(r.family, r.device, r.threads, r.precision) for r in PUBLISHED_ROWS}
    assert everything.count("\n| ") == len(setups) + 1 and everything.count("*cal* |") == len(calibration_rows())
    assert "goal (≥ 15 held-out rows, median absolute error ≤ 30 %, every row within 2×):" in text
    assert f"held-out: {len(held_out_rows())} rows" in text
    assert "fit: mode peak, α" in text


def test_json_round_trip_refits_to_the_same_estimates(tmp_path) -> None:
    measured = _fake_measurements()
    model_fit, results = validate.estimate_rows(PUBLISHED_ROWS, measured, HOST, modes=("peak",))
    path = tmp_path / "v.json"
    path.write_text(json.dumps(validate.to_json(measured, HOST, model_fit, results, "no noise")))
    again, host, noise = validate.from_json(path)
    fit2, results2 = validate.estimate_rows(PUBLISHED_ROWS, again, host, modes=("peak",))
    assert noise == "no noise" and fit2.eta == pytest.approx(model_fit.eta)
    assert [r.estimate_ms for r in results2] == pytest.approx([r.estimate_ms for r in results])
    assert all(math.isfinite(r["estimate_ms"]) for r in json.loads(path.read_text())["rows"])


def test_bad_inputs_are_one_line_errors_naming_the_fix(tmp_path, capsys) -> None:
    assert validate.main(["--formats", "onnx", "--no-export", "--work", str(tmp_path)]) == 2
    assert "unknown format 'onnx' in --formats; choose from: pte, tflite" in capsys.readouterr().err
    assert validate.main(["--no-export", "--work", str(tmp_path)]) == 2
    assert "run without --no-export" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}")
    assert validate.main(["--from-json", str(tmp_path / "x.json")]) == 2
    assert "make it with: python -m bench.validate" in capsys.readouterr().err


def test_int8_uses_dot_product_peaks_only_for_classes_that_reduce_over_channels() -> None:
    from bench.estimate_transfer import peak_ratios

    a76 = get_device("sd855")
    fp32 = peak_ratios(HOST, a76, "fp32")
    int8 = peak_ratios(HOST, a76, "int8")
    assert all(v == pytest.approx(128 / (16 * 2.84)) for v in fp32.values())
    assert int8["gemm"] == int8["conv"] == pytest.approx(512 / (64 * 2.84))  # VNNI vs SDOT
    assert int8["depthwise"] == int8["elementwise"] == int8["other"] == fp32["depthwise"]  # widening MLA both sides
