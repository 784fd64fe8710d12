"""The science of the platform: media, faces, blinks, classifiers and the verdict.

No Django in here. One entry point: `ml.analyze(path, options, progress=callback, models=specs)
-> Report`, where `options` are the user's `ml.options.AnalysisOptions` (or a dict of them) and
`models` the `ml.options.ModelSpecs` to score with; `policy`, the active policy card
(`ml.verdict.policy_card.PolicyCard`), judges when it was calibrated with those models;
`crops`, a callback, receives every crop each model scored (`ml.faces.saved_crops`).
"""

import os

__version__ = "0.1.0"

# FFmpeg prints its own decoder diagnostics on stderr for every damaged frame. A bad file is
# reported once, as a MediaError, so keep FFmpeg quiet unless the caller asked otherwise.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def analyze(path, options=None, progress=None, *, models=None, policy=None, crops=None):
    """Analyse one image or video file and return a `ml.verdict.report.Report`.

    Imported lazily so that `import ml` stays cheap (no TensorFlow, no dlib).
    """
    from ml.pipeline import analyze as _analyze

    return _analyze(path, options, progress=progress, models=models, policy=policy, crops=crops)
