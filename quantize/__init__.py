"""Quantization layer (layer 3): one int8 scheme, one recipe per backend, PTQ with calibration, QAT through
the trainer (BN/observer freezing), label-free QAT by distillation, per-block sensitivity.

    from quantize.api import prepare, calibrate, run_qat, QATConfig
    from quantize.checkpoint import save_quantized, restore_quantized

See docs/quantize.md. Modules import torchao/executorch lazily, so importing this package is cheap.
"""
