"""The guest side of the ARM device for .tflite and .onnx: run under qemu by the sysroot's Python.

    python3.11 qemu_guest.py JOB.json

A standalone script (it imports only numpy and the runtime: no edgeav, no torch on the guest). JOB.json:
``format`` (litert | onnx), ``model``, ``feed`` (.npz of the inputs by name), ``warmup``, ``runs``,
``threads``, ``out`` (.npz the last run's outputs go to, in output order as "0", "1", ... or by
signature name for LiteRT), and optionally ``ops``: one-op models (``model``, ``feed`` with inputs "0",
"1", ... in input order) from LiteRT op isolation, each counted alone in a plugin region.

The counted work is bracketed for the counting plugin: close(0x7e01) before the timed runs and
close(0x7e02) after them, close(0x7e10)/close(0x7e11) around each isolated op. Nothing is printed in
between. Afterwards one line per isolated op: ``edgeav_guest op <index> <1 if XNNPACK took it else 0>``.
"""
import json
import os
import sys

import numpy as np

MARK_START, MARK_END, REGION_PUSH, REGION_POP = 0x7E01, 0x7E02, 0x7E10, 0x7E11


def mark(fd):
    try:
        os.close(fd)  # nobody opened it: EBADF, and the plugin sees the call
    except OSError:
        pass


def litert_session(model, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model, num_threads=threads)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner()
    return lambda feed: runner(**feed)


def onnx_session(model, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return lambda feed: {str(i): v for i, v in enumerate(session.run(None, feed))}


def count_whole(job):
    open_session = {"litert": litert_session, "onnx": onnx_session}[job["format"]]
    run = open_session(job["model"], job["threads"])
    feed = dict(np.load(job["feed"]))
    for _ in range(job["warmup"]):
        run(feed)
    mark(MARK_START)
    for _ in range(job["runs"]):
        outputs = run(feed)
    mark(MARK_END)
    np.savez(job["out"], **{k: np.asarray(v) for k, v in outputs.items()})


def count_litert_ops(job):
    from ai_edge_litert.interpreter import Interpreter

    delegated = []
    for op in job.get("ops", []):
        interpreter = Interpreter(model_path=op["model"], num_threads=job["threads"])
        interpreter.allocate_tensors()
        values = np.load(op["feed"])
        for i, detail in enumerate(interpreter.get_input_details()):
            value = values[str(i)].astype(detail["dtype"], copy=False).reshape(detail["shape"])
            interpreter.set_tensor(detail["index"], value)
        delegated.append(any(d["op_name"] == "DELEGATE" for d in interpreter._get_ops_details()))
        for _ in range(job["warmup"]):
            interpreter.invoke()
        mark(REGION_PUSH)
        interpreter.invoke()
        mark(REGION_POP)
    for i, d in enumerate(delegated):
        print(f"edgeav_guest op {i} {int(d)}")


def main(argv):
    with open(argv[1]) as f:
        job = json.load(f)
    count_whole(job)
    if job["format"] == "litert":
        count_litert_ops(job)
    print("edgeav_guest done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
