"""The `edgeav` command: thin verbs, each a call into the layers."""
