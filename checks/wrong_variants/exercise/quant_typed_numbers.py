"""Mistake: types footprints from a blog post into the saved measurements instead of measuring them."""

import tempfile
from pathlib import Path

CHECK = "the saved measurements hold all four variants with the footprints and losses the grader recomputes"
MESSAGE = "the saved footprint of fp32 is 500,000,000 bytes"

_typed = {variant: {**values, "footprint_bytes": size}
          for (variant, values), size in zip(measurements.items(), (500_000_000, 250_000_000, 125_000_000, 62_500_000),
                                             strict=True)}
MEASUREMENTS_PATH = save_measurements(_typed, Path(tempfile.mkdtemp(prefix="typed-")) / "quantization.json")
