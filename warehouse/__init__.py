"""The warehouse file itself: building it safely beside open shells, installing it, and
comparing two builds table by table."""
