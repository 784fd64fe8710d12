"""The real face analyzer, instrumented for tests of the detection schedule."""

from ml.faces.detect import FaceAnalyzer


class CountingAnalyzer(FaceAnalyzer):
    """The real analyzer, counting how often the (costly) detector runs."""

    detections = 0

    def detect(self, rgb):
        self.detections += 1
        return super().detect(rgb)
