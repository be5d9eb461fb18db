"""The error hierarchy. Every message names the problem and the fix in one line."""


class EdgeAVError(Exception):
    """Base class: the CLI prints these as one line and exits with code 2."""


class UsageError(EdgeAVError):
    """An unknown model, target, precision or a bad option value."""


class CheckpointError(EdgeAVError):
    """A checkpoint that cannot be read or does not fit the model."""


class InputShapeError(EdgeAVError):
    """Tensors whose shape or dtype do not match the model's input spec."""


class ExportError(EdgeAVError):
    """A converter failed or its artifact did not pass verification."""


class ParityError(ExportError):
    """An exported artifact disagrees with PyTorch beyond the allowed tolerance."""


class TrainingError(EdgeAVError):
    """Training that cannot go on (e.g. the loss diverged)."""


class DataError(EdgeAVError):
    """A dataset folder with missing files or the wrong layout."""


class MissingDependencyError(EdgeAVError):
    """An optional package needed for a target is not installed."""


class DeviceError(EdgeAVError):
    """A benchmark device that cannot run here or failed mid-run (adb, qemu, the device runner)."""


class Interrupted(EdgeAVError):
    """Stopped by Ctrl-C or SIGTERM; the message says what was saved and how to continue."""


class StorageError(EdgeAVError):
    """A file or folder that cannot be read or written: permission denied, read-only, disk full."""
