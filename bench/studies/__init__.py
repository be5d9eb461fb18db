"""Experiment drivers: each exports or trains, then measures, and writes the table or file it is named for.

    mission_table.py           export at every precision to every target, time them side by side with eager
    int8_table.py              fp32 / PTQ / QAT / label-free QAT and their .pte/.tflite, from one checkpoint
    reference_checkpoint.py    train a reference model on synthetic data (the checkpoint the others start from)
    pretrained_audio_trunk.py  audio-tagging pretraining of a model's audio trunk (the AudioSet stand-in)
    paper_latencies.py         the latency estimators against the LightAVSeg paper's published rows

Run each with ``python -m bench.studies.<name> --help``. The harness (``bench``) never imports these.
"""
