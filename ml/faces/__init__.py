"""Faces: detection, landmarks, tracking over frames, people by identity, how well each was seen."""
