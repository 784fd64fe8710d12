"""Media files: what type a file is (by content), its frames, decoded in a thread ahead of use."""
