"""The shared benchmark harness (layer 5): targets, devices, statistics, per-op reports, estimates.

    targets.py   what is timed: an artifact + its manifest, or eager:MODEL[:CONFIG]
    devices/     where: host (pinned threads), adb[:SERIAL] (C++ runner + ETDump); next, an ARM emulator
    stats.py     warm-up, N runs, median/p90/min/CV, interleaved comparison and ratios
    harness.py   run targets on a device, estimate them on device profiles -> BenchReport
    report.py    rich tables, JSON, CSV, PNG
    profiles.py  Snapdragon 8 Gen 2 / 8 Gen 3 / 8 Elite; cost.py + estimate.py: per-op roofline estimate
    calibration.py  host-calibrated estimates (kernel efficiency per op class); calibrate.py measures one
    studies/     experiment drivers that export or train, then measure (mission table, int8 table, ...)

The runners are the export formats' own, opened by ``export_targets.formats.open_artifact`` (the ones export
verification uses); this package knows nothing of how an artifact was made.
"""
