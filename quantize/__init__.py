"""Quantization layer (layer 3): PTQ and QAT recipes per backend quantizer, calibration, label-free QAT.

Planned by the quantization issue; the exporter already accepts a precision argument for it.
"""
