"""LiteRT lowering: ``litert_torch.convert`` of the named-I/O module (fp32, or int8 from the Q/DQ graph)."""
from __future__ import annotations

from export_targets.litert.passes import NamedIO
from export_targets.litert.recipe import keep_graph_io_float, static_int8_config
from export_targets.target import LoweringReport, LoweringRequest, TargetInfo


def lower(request: LoweringRequest, info: TargetInfo) -> LoweringReport:
    """Write ``request.model`` as a .tflite whose signature uses the IOSpec's input and output names."""
    import litert_torch

    io_spec = request.io_spec
    # Keyword samples and a dict result make the signature's names the IOSpec names (not args_0, output_0).
    kwargs = {spec.name: x for spec, x in zip(io_spec.inputs, request.example_inputs)}
    named = NamedIO(request.model, [t.name for t in io_spec.inputs], [t.name for t in io_spec.outputs]).eval()
    if request.precision == "int8":
        keep_graph_io_float(request.model)
        edge_model = litert_torch.convert(named, sample_kwargs=kwargs, quant_config=static_int8_config())
    else:
        edge_model = litert_torch.convert(named, sample_kwargs=kwargs)
    edge_model.export(str(request.dest))
    quantized = request.precision == "int8"
    return LoweringReport(details={"quantized": "int8 Q/DQ folded into TFLite int8 tensors"} if quantized else {})
