"""Audio front ends: raw 16 kHz PCM → log-mel inside the exported graph.

``LogMelFrontEnd(VGGISH_LOGMEL)`` feeds VGGish-style audio branches, ``LogMelFrontEnd(PANNS_LOGMEL_16K)``
PANNs-style ones; ``reference_logmel`` is the float64 librosa yardstick both are tested against.
"""

from edgeav.audio.config import PANNS_LOGMEL_16K, VGGISH_LOGMEL, LogMelConfig
from edgeav.audio.frontend import LogMelFrontEnd
from edgeav.audio.reference import reference_logmel

__all__ = ["PANNS_LOGMEL_16K", "VGGISH_LOGMEL", "LogMelConfig", "LogMelFrontEnd", "reference_logmel"]
