"""Visual and audio trunks shared by the models, with their upstream checkpoint key maps."""
