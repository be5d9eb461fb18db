"""The shared benchmark harness (layer 5): targets, devices, statistics, per-op reports, estimates.

    targets.py   what is timed: an artifact + its manifest, or eager:MODEL[:CONFIG]
    devices/     where: host (pinned threads), adb[:SERIAL] (C++ runner + ETDump); next, an ARM emulator
    stats.py     warm-up, N runs, median/p90/min/CV, interleaved comparison and ratios
    harness.py   run targets on a device, estimate them on device profiles -> BenchReport
    report.py    rich tables, JSON, CSV, PNG
    profiles.py  Snapdragon 8 Gen 2 / 8 Gen 3 / 8 Elite; cost.py + estimate.py: per-op roofline estimate
    calibration.py  host-calibrated estimates (kernel efficiency per op class); calibrate.py measures one
    paper.py     the estimator against the LightAVSeg paper's published latencies
    mission.py   export at every precision to every target and time them side by side with eager

The runners are ``export_targets.runners`` (the ones export verification uses); this package knows
nothing of how an artifact was made.
"""
