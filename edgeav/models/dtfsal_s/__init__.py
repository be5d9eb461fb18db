"""DTFSal-S: the streaming phone student distilled from DTFSal (see :mod:`edgeav.models.dtfsal_s.model`)."""
